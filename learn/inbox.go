package learn

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/store"
)

// Inbox is what staff do with the questions the bot could not answer: list
// the groups, look at one, and resolve it by teaching the bot (Assign,
// NewAnswer) or by setting it aside (Ignore). The CLI (`hotline
// unanswered`) and the admin UI both use it. The zero value is not usable:
// Store is needed, and ScriptPath for Assign and NewAnswer.
type Inbox struct {
	Store store.Store
	// ScriptPath is the script file on disk that teaching changes (its
	// learned file, see dialog.LearnedPath). Empty: Assign and NewAnswer
	// fail with ErrNoScript.
	ScriptPath string
	// By is who resolves groups, as recorded in Group.ResolvedBy.
	By string
	// DataDir, when set, turns questions' audio snippets (relative to the
	// data directory) into paths in QuestionView.AudioFile.
	DataDir string
	// Grouper, when set, forgets its cached open groups after each change,
	// so questions stop joining a group that was just resolved.
	Grouper *Grouper
}

// ErrNoScript is returned by Assign and NewAnswer when the Inbox has no
// script file to teach (a server running the built-in demo hotline).
var ErrNoScript = errors.New("learn: no script file to teach: the built-in demo hotline is inside the binary; " +
	"give the path of a script on disk")

// ResolvedError is returned when a group cannot be changed because staff
// resolved it already (an assigned group is taught; a learned change is
// undone by editing the learned file).
type ResolvedError struct{ Group store.Group }

func (e *ResolvedError) Error() string { return e.Message("en") }

// Message says what happened in lang ("zh…": Chinese; else English).
func (e *ResolvedError) Message(lang string) string {
	g := e.Group
	when := ""
	if !g.ResolvedAt.IsZero() {
		when = g.ResolvedAt.Format("2006-01-02 15:04")
	}
	if isChinese(lang) {
		s := fmt.Sprintf("第 %d 组问题已经", g.ID)
		if g.ResolvedBy != "" || when != "" {
			s = fmt.Sprintf("第 %d 组问题已由 %s 于 %s ", g.ID, orDash(g.ResolvedBy), orDash(when))
		}
		if g.Status == store.GroupAssigned {
			return s + fmt.Sprintf("归入意图 %q(%s);如要更改,请编辑学习文件", g.Intent, g.Resolution)
		}
		return s + fmt.Sprintf("忽略(%s)", g.Resolution)
	}
	s := fmt.Sprintf("group %d is already %s", g.ID, g.Status)
	if g.Status == store.GroupAssigned {
		s += fmt.Sprintf(" to intent %q (%s)", g.Intent, g.Resolution)
	} else if g.Resolution != "" {
		s += fmt.Sprintf(" (%s)", g.Resolution)
	}
	if g.ResolvedBy != "" || when != "" {
		s += fmt.Sprintf(" by %s on %s", orDash(g.ResolvedBy), orDash(when))
	}
	if g.Status == store.GroupAssigned {
		s += "; to change what was taught, edit the learned file"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// RejectedError is a change the script did not take: dialog.Learn found
// errors loading the script with it (Diags), or the change itself was
// incomplete. The learned file was not written and the group stays open.
type RejectedError struct {
	Change dialog.LearnChange
	Path   string // the learned file
	Diags  dialog.Diags
	Err    error // from dialog.Learn
}

func (e *RejectedError) Error() string { return e.Message("en") }
func (e *RejectedError) Unwrap() error { return e.Err }

// Message lists why the change was rejected, in lang.
func (e *RejectedError) Message(lang string) string {
	var b strings.Builder
	if isChinese(lang) {
		fmt.Fprintf(&b, "修改被拒绝,%s 未改动,这组问题仍待处理", e.Path)
	} else {
		fmt.Fprintf(&b, "change rejected: %s was not changed and the group stays open", e.Path)
	}
	errs := e.Diags.Errors()
	if len(errs) == 0 {
		b.WriteString(":\n  ")
		b.WriteString(e.Err.Error())
		return b.String()
	}
	b.WriteString(":")
	for _, d := range errs {
		b.WriteString("\n  ")
		b.WriteString(d.Format(lang))
	}
	return b.String()
}

// Result says what a resolution did.
type Result struct {
	Group store.Group `json:"group"` // as it is now
	// Kind is example, keyword or answer (what was taught), or "" (Ignore).
	Kind    dialog.LearnKind `json:"kind,omitempty"`
	Intent  string           `json:"intent,omitempty"`
	Phrase  string           `json:"phrase,omitempty"`
	Learned string           `json:"learned_file,omitempty"` // the learned file
	// Changed is true when the learned file was written; false when it
	// had the change already.
	Changed bool `json:"changed"`
	// Version is the script's version with the change.
	Version string `json:"script_version,omitempty"`
}

// Message says in lang what was done, which file changed and that a
// running server reloads it by itself.
func (r Result) Message(lang string) string {
	zh := isChinese(lang)
	var b strings.Builder
	switch r.Kind {
	case "":
		if zh {
			fmt.Fprintf(&b, "第 %d 组问题已忽略", r.Group.ID)
		} else {
			fmt.Fprintf(&b, "group %d ignored", r.Group.ID)
		}
		return b.String()
	case dialog.LearnAnswer:
		if zh {
			fmt.Fprintf(&b, "第 %d 组问题已成为新答案 %q", r.Group.ID, r.Intent)
		} else {
			fmt.Fprintf(&b, "group %d is now the new answer %q", r.Group.ID, r.Intent)
		}
	default:
		noun := map[dialog.LearnKind][2]string{dialog.LearnExample: {"an example", "例句"},
			dialog.LearnKeyword: {"a keyword", "关键词"}}[r.Kind]
		if zh {
			fmt.Fprintf(&b, "第 %d 组问题已归入意图 %q:%q 成为它的%s", r.Group.ID, r.Intent, r.Phrase, noun[1])
		} else {
			fmt.Fprintf(&b, "group %d assigned to intent %q: %q is %s of it", r.Group.ID, r.Intent, r.Phrase, noun[0])
		}
	}
	b.WriteByte('\n')
	switch {
	case !r.Changed && zh:
		fmt.Fprintf(&b, "%s 里已经有这一条,文件未改动。", r.Learned)
	case !r.Changed:
		fmt.Fprintf(&b, "%s had this already; the file was not changed.", r.Learned)
	case zh:
		fmt.Fprintf(&b, "已写入 %s。正在运行的 hotline serve 会监视该文件并自动重新加载,无需重启。", r.Learned)
	default:
		fmt.Fprintf(&b, "written to %s. A running hotline serve watches this file and reloads it by itself; no restart needed.", r.Learned)
	}
	return b.String()
}

// ListFilter selects groups for List. The zero value lists open groups.
type ListFilter struct {
	Status   string    // open (""), assigned, ignored, or all
	Language string    // "" for all
	Since    time.Time // last asked at or after
	Limit    int       // default 50, at most 1000
	Offset   int
	// Samples is how many questions besides the representative to show per
	// group (0: 2; negative: none). Each costs the group's questions read.
	Samples int
}

// Statuses List accepts.
const StatusAll = "all"

// Summary is a group as the inbox lists it.
type Summary struct {
	store.Group
	Samples []string `json:"samples"` // other questions of the group, latest first, distinct
}

// Page is one page of List, most asked first.
type Page struct {
	Groups []Summary `json:"groups"`
	Total  int       `json:"total"`
}

// List returns groups with their counts, first and last asked, and a
// sample question or two.
func (ib *Inbox) List(ctx context.Context, f ListFilter) (Page, error) {
	status := f.Status
	switch status {
	case "":
		status = store.GroupOpen
	case StatusAll:
		status = ""
	case store.GroupOpen, store.GroupAssigned, store.GroupIgnored:
	default:
		return Page{}, fmt.Errorf("learn: unknown status %q (open, assigned, ignored or all)", f.Status)
	}
	gp, err := ib.Store.Groups(ctx, store.GroupFilter{Status: status, Language: f.Language, Since: f.Since,
		Limit: f.Limit, Offset: f.Offset})
	if err != nil {
		return Page{}, err
	}
	n := f.Samples
	if n == 0 {
		n = 2
	}
	page := Page{Groups: make([]Summary, 0, len(gp.Groups)), Total: gp.Total}
	for _, g := range gp.Groups {
		s := Summary{Group: g, Samples: []string{}}
		if n > 0 && g.Count > 1 {
			_, qs, err := ib.Store.Group(ctx, g.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return Page{}, err
			}
			seen := map[string]bool{Normalize(g.Text): true}
			for i := len(qs) - 1; i >= 0 && len(s.Samples) < n; i-- {
				if k := Normalize(qs[i].Text); !seen[k] {
					seen[k] = true
					s.Samples = append(s.Samples, qs[i].Text)
				}
			}
		}
		page.Groups = append(page.Groups, s)
	}
	return page, nil
}

// QuestionView is a question as Show returns it.
type QuestionView struct {
	store.Question
	// AudioFile is the snippet's path (Inbox.DataDir joined with Audio);
	// "" without a snippet or a DataDir.
	AudioFile string `json:"audio_file,omitempty"`
}

// Detail is a group with its questions, oldest first.
type Detail struct {
	Group     store.Group    `json:"group"`
	Questions []QuestionView `json:"questions"`
}

// Show returns a group with its questions: call IDs, nodes, times, the
// best intent below the threshold, audio snippets.
func (ib *Inbox) Show(ctx context.Context, id int64) (Detail, error) {
	g, qs, err := ib.Store.Group(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Group: g, Questions: make([]QuestionView, 0, len(qs))}
	for _, q := range qs {
		v := QuestionView{Question: q}
		if q.Audio != "" && ib.DataDir != "" {
			v.AudioFile = filepath.Join(ib.DataDir, filepath.FromSlash(q.Audio))
		}
		d.Questions = append(d.Questions, v)
	}
	return d, nil
}

// Assignment teaches an existing intent with a group's question.
type Assignment struct {
	Intent string `json:"intent"`
	// As is "example" (default: the question becomes an example sentence
	// of the intent) or "keyword" (a phrase of it becomes a keyword).
	As string `json:"as,omitempty"`
	// Phrase is the example or keyword; default the group's representative
	// question. Staff may edit it (a keyword is usually shorter).
	Phrase string `json:"phrase,omitempty"`
}

// Assign teaches the intent with the group's question (dialog.Learn: the
// learned file beside ib.ScriptPath, written only if the whole script loads
// with it) and then marks the group assigned. A rejected change is a
// *RejectedError and leaves the group open; an assigned group is a
// *ResolvedError (an ignored one may be assigned).
func (ib *Inbox) Assign(ctx context.Context, id int64, a Assignment) (Result, error) {
	kind := dialog.LearnExample
	switch strings.ToLower(strings.TrimSpace(a.As)) {
	case "", "example":
	case "keyword":
		kind = dialog.LearnKeyword
	default:
		return Result{}, fmt.Errorf("learn: assign as %q: want example or keyword", a.As)
	}
	g, err := ib.resolvable(ctx, id, true)
	if err != nil {
		return Result{}, err
	}
	phrase := strings.TrimSpace(a.Phrase)
	if phrase == "" {
		phrase = g.Text
	}
	ch := dialog.LearnChange{Kind: kind, Intent: strings.TrimSpace(a.Intent), Phrase: phrase}
	res, err := ib.learn(ch)
	if err != nil {
		return res, err
	}
	return ib.resolve(ctx, res, g, store.GroupAssigned, ch.Intent, fmt.Sprintf("%s: %s", kind, phrase))
}

// Answer is a new entry of the answer library made from a group.
type Answer struct {
	Name string `json:"name"` // the new intent's name
	Say  string `json:"say"`  // what the bot answers (a prompt template)
	// Keywords and Examples recognise it; with neither, the group's
	// representative question is its one example.
	Keywords []string `json:"keywords,omitempty"`
	Examples []string `json:"examples,omitempty"`
}

// NewAnswer adds a new answer-library entry (a new intent and its answer)
// to the learned file and marks the group assigned to it. Errors as Assign.
func (ib *Inbox) NewAnswer(ctx context.Context, id int64, na Answer) (Result, error) {
	g, err := ib.resolvable(ctx, id, true)
	if err != nil {
		return Result{}, err
	}
	ch := dialog.LearnChange{Kind: dialog.LearnAnswer, Intent: strings.TrimSpace(na.Name), Say: na.Say,
		Keywords: na.Keywords, Examples: na.Examples}
	if len(nonEmpty(ch.Keywords)) == 0 && len(nonEmpty(ch.Examples)) == 0 {
		ch.Examples = []string{g.Text}
	}
	res, err := ib.learn(ch)
	if err != nil {
		return res, err
	}
	return ib.resolve(ctx, res, g, store.GroupAssigned, ch.Intent, "answer: "+strings.TrimSpace(na.Say))
}

// Ignore sets a group aside (not a question for the bot: noise, a wrong
// number, a one-off); reason is kept as its resolution. Ignoring an ignored
// group again replaces the reason; an assigned group is a *ResolvedError.
func (ib *Inbox) Ignore(ctx context.Context, id int64, reason string) (Result, error) {
	g, err := ib.resolvable(ctx, id, false)
	if err != nil {
		return Result{}, err
	}
	return ib.resolve(ctx, Result{}, g, store.GroupIgnored, "", strings.TrimSpace(reason))
}

// resolvable reads the group and refuses an assigned one (and, for
// teaching, needs the script).
func (ib *Inbox) resolvable(ctx context.Context, id int64, teach bool) (store.Group, error) {
	if teach && ib.ScriptPath == "" {
		return store.Group{}, ErrNoScript
	}
	g, _, err := ib.Store.Group(ctx, id)
	if err != nil {
		return g, err
	}
	if g.Status == store.GroupAssigned {
		return g, &ResolvedError{Group: g}
	}
	return g, nil
}

func (ib *Inbox) learn(ch dialog.LearnChange) (Result, error) {
	lr, err := dialog.Learn(ib.ScriptPath, ch)
	if err != nil {
		return Result{}, &RejectedError{Change: ch, Path: lr.Path, Diags: lr.Diags, Err: err}
	}
	r := Result{Kind: ch.Kind, Intent: ch.Intent, Phrase: ch.Phrase, Learned: lr.Path, Changed: lr.Changed}
	if lr.Script != nil {
		r.Version = lr.Script.Version
	}
	return r, nil
}

func (ib *Inbox) resolve(ctx context.Context, r Result, g store.Group, status, intent, resolution string) (Result, error) {
	by := ib.By
	if by == "" {
		by = "hotline"
	}
	if err := ib.Store.ResolveGroup(ctx, g.ID, status, intent, resolution, by); err != nil {
		if r.Learned != "" {
			return r, fmt.Errorf("learn: %s was changed, but group %d could not be marked %s (run the command again): %w",
				r.Learned, g.ID, status, err)
		}
		return r, err
	}
	if ib.Grouper != nil {
		ib.Grouper.Invalidate()
	}
	ng, _, err := ib.Store.Group(ctx, g.ID)
	if err != nil {
		return r, err
	}
	r.Group = ng
	return r, nil
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func isChinese(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "zh") }
