package learn

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/store"
)

// copyExample copies examples/NAME into a temporary folder and returns its script.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "examples", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "script.yaml")
}

// matches returns the intent the script at path matches text to ("" for none).
func matches(t *testing.T, path, text string) string {
	t.Helper()
	s, err := dialog.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Matcher()
	return m.Match(text, m.All()).Intent
}

type fixture struct {
	st     store.Store
	g      *Grouper
	ib     *Inbox
	script string
}

func newFixture(t *testing.T, st store.Store) *fixture {
	g := NewGrouper(GrouperOptions{})
	script := copyExample(t, "en-utility")
	return &fixture{st: st, g: g, script: script,
		ib: &Inbox{Store: st, ScriptPath: script, By: "alice", DataDir: "/srv/hotline/data", Grouper: g}}
}

func (f *fixture) ask(t *testing.T, text string) store.Question {
	t.Helper()
	return add(t, f.g, f.st, "en-GB", text)
}

func TestInboxAssignExample(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		if got := matches(t, f.script, "when do you shut"); got != "" {
			t.Fatalf("before: %q matches %s", "when do you shut", got)
		}
		if err := st.StartCall(ctx, store.Call{ID: "call-1", StartedAt: t0, AnsweredAt: t0, Language: "en-GB"}); err != nil {
			t.Fatal(err)
		}
		q1, err := f.g.Add(ctx, st, store.Question{CallID: "call-1", Node: "welcome", Text: "when do you shut",
			Language: "en-GB", At: t0, Audio: "questions/call-1-3.wav", Intent: "balance", Score: 0.17})
		if err != nil {
			t.Fatal(err)
		}
		f.ask(t, "When do you shut?")
		f.ask(t, "what time do you shut")
		f.ask(t, "do you install solar panels")

		page, err := f.ib.List(ctx, ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 || page.Groups[0].ID != q1.GroupID || page.Groups[0].Count != 3 {
			t.Fatalf("list: %+v", page)
		}
		// Samples: other wordings, latest first; "When do you shut?" is the representative's.
		if s := page.Groups[0].Samples; len(s) != 1 || s[0] != "what time do you shut" {
			t.Errorf("samples %q", s)
		}
		d, err := f.ib.Show(ctx, q1.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Questions) != 3 || d.Questions[0].CallID != "call-1" || d.Questions[0].Node != "welcome" ||
			d.Questions[0].AudioFile != filepath.Join("/srv/hotline/data", "questions", "call-1-3.wav") || d.Questions[1].AudioFile != "" {
			t.Errorf("show: %+v", d)
		}

		res, err := f.ib.Assign(ctx, q1.GroupID, Assignment{Intent: "opening_hours"})
		if err != nil {
			t.Fatal(err)
		}
		learned := dialog.LearnedPath(f.script)
		if !res.Changed || res.Learned != learned || res.Kind != dialog.LearnExample || res.Phrase != "when do you shut" ||
			res.Group.Status != store.GroupAssigned || res.Group.Intent != "opening_hours" || res.Group.ResolvedBy != "alice" ||
			res.Group.Resolution != "example: when do you shut" || res.Version == "" {
			t.Errorf("result: %+v", res)
		}
		for _, lang := range []string{"en", "zh-CN"} {
			msg := res.Message(lang)
			if !strings.Contains(msg, learned) || !strings.Contains(msg, "hotline serve") {
				t.Errorf("message (%s) should name the file and the reload: %s", lang, msg)
			}
		}
		if got := matches(t, f.script, "when do you shut"); got != "opening_hours" {
			t.Errorf("after assigning: %q matches %q", "when do you shut", got)
		}
		// An assigned group cannot be assigned or ignored again.
		_, err = f.ib.Assign(ctx, q1.GroupID, Assignment{Intent: "billing"})
		var re *ResolvedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), `already assigned to intent "opening_hours"`) ||
			!strings.Contains(re.Message("zh"), "已由 alice") {
			t.Errorf("assigning twice: %v", err)
		}
		if _, err := f.ib.Ignore(ctx, q1.GroupID, "x"); !errors.As(err, &re) {
			t.Errorf("ignoring an assigned group: %v", err)
		}
		// The lists by status.
		for status, want := range map[string]int{"": 1, "open": 1, "assigned": 1, "ignored": 0, "all": 2} {
			p, err := f.ib.List(ctx, ListFilter{Status: status})
			if err != nil || p.Total != want {
				t.Errorf("list %q: %d, want %d (%v)", status, p.Total, want, err)
			}
		}
		if _, err := f.ib.List(ctx, ListFilter{Status: "closed"}); err == nil {
			t.Error("unknown status: no error")
		}
		// A new question like the assigned one does not join it: it is no longer open.
		if q := f.ask(t, "when do you shut"); q.GroupID == q1.GroupID {
			t.Error("a question joined an assigned group")
		}
	})
}

func TestInboxAssignKeyword(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		q := f.ask(t, "are you shut on sunday")
		if got := matches(t, f.script, "are you shut on sunday"); got != "" {
			t.Fatalf("before: matches %s", got)
		}
		res, err := f.ib.Assign(ctx, q.GroupID, Assignment{Intent: "opening_hours", As: "keyword", Phrase: " shut "})
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != dialog.LearnKeyword || res.Phrase != "shut" || res.Group.Resolution != "keyword: shut" {
			t.Errorf("result: %+v", res)
		}
		for _, text := range []string{"are you shut on sunday", "is the office shut today"} {
			if got := matches(t, f.script, text); got != "opening_hours" {
				t.Errorf("after: %q matches %q", text, got)
			}
		}
		if _, err := f.ib.Assign(ctx, q.GroupID, Assignment{Intent: "opening_hours", As: "synonym"}); err == nil {
			t.Error("--as synonym: no error")
		}
	})
}

func TestInboxRejected(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		learned := dialog.LearnedPath(f.script)
		park := f.ask(t, "where can I park")

		// An intent the script does not have: rejected, no file written, the group open.
		_, err := f.ib.Assign(ctx, park.GroupID, Assignment{Intent: "parking"})
		var rej *RejectedError
		if !errors.As(err, &rej) || !hasCode(rej.Diags, "unknown-intent") {
			t.Fatalf("unknown intent: %v", err)
		}
		if !strings.Contains(rej.Message("en"), "stays open") || !strings.Contains(rej.Message("zh"), "仍待处理") {
			t.Errorf("message: %s / %s", rej.Message("en"), rej.Message("zh"))
		}
		if _, err := os.Stat(learned); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("learned file after a rejected change: %v", err)
		}
		mustStatus(t, st, park.GroupID, store.GroupOpen)

		// With a learned file: a keyword another intent has is rejected, the file stays as it was.
		shut := f.ask(t, "when do you shut")
		if _, err := f.ib.Assign(ctx, shut.GroupID, Assignment{Intent: "opening_hours"}); err != nil {
			t.Fatal(err)
		}
		before, err := os.ReadFile(learned)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.ib.Assign(ctx, park.GroupID, Assignment{Intent: "billing", As: "keyword", Phrase: "Opening Hours"})
		if !errors.As(err, &rej) || !hasCode(rej.Diags, "learned-conflict") {
			t.Fatalf("conflicting example: %v", err)
		}
		// A new answer named like an existing intent.
		_, err = f.ib.NewAnswer(ctx, park.GroupID, Answer{Name: "opening_hours", Say: "Park behind the building."})
		if !errors.As(err, &rej) || !hasCode(rej.Diags, "learned-exists") {
			t.Fatalf("answer named like an intent: %v", err)
		}
		// A new answer that says nothing: rejected by dialog.Learn before loading.
		_, err = f.ib.NewAnswer(ctx, park.GroupID, Answer{Name: "parking", Say: "  "})
		if !errors.As(err, &rej) || !strings.Contains(err.Error(), "says nothing") {
			t.Fatalf("empty answer: %v", err)
		}
		after, _ := os.ReadFile(learned)
		if !bytes.Equal(before, after) {
			t.Errorf("rejected changes changed the learned file:\n%s\n---\n%s", before, after)
		}
		mustStatus(t, st, park.GroupID, store.GroupOpen)

		// No script file (the built-in demo).
		ib := &Inbox{Store: st}
		if _, err := ib.Assign(ctx, park.GroupID, Assignment{Intent: "billing"}); !errors.Is(err, ErrNoScript) {
			t.Errorf("no script: %v", err)
		}
		if _, err := f.ib.Show(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("show a missing group: %v", err)
		}
		if _, err := f.ib.Assign(ctx, 999999, Assignment{Intent: "billing"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("assign a missing group: %v", err)
		}
	})
}

func TestInboxNewAnswer(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		solar := f.ask(t, "do you install solar panels")
		f.ask(t, "can you fit solar panels on my roof")
		park := f.ask(t, "where can I park")
		for _, text := range []string{"do you install solar panels", "where can I park"} {
			if got := matches(t, f.script, text); got != "" {
				t.Fatalf("before: %q matches %s", text, got)
			}
		}
		res, err := f.ib.NewAnswer(ctx, solar.GroupID, Answer{Name: "solar_panels", Keywords: []string{"solar panel", "solar panels"},
			Say: "We don't fit solar panels, but we buy what yours export: see Smart Export on our website."})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Kind != dialog.LearnAnswer || res.Group.Intent != "solar_panels" ||
			!strings.HasPrefix(res.Group.Resolution, "answer: We don't fit") {
			t.Errorf("result: %+v", res)
		}
		// Without keywords or examples, the question is the example.
		if _, err := f.ib.NewAnswer(ctx, park.GroupID, Answer{Name: "parking", Say: "There is free parking behind the building."}); err != nil {
			t.Fatal(err)
		}
		s, err := dialog.LoadFile(f.script)
		if err != nil {
			t.Fatal(err)
		}
		if s.Answers["solar_panels"] == nil || s.Answers["parking"] == nil {
			t.Fatal("the new answers are not in the script")
		}
		m := s.Matcher()
		for text, want := range map[string]string{"do you install solar panels": "solar_panels",
			"can you put solar panels on my roof": "solar_panels", "where can I park": "parking"} {
			if got := m.Match(text, m.All()).Intent; got != want {
				t.Errorf("%q matches %q, want %s", text, got, want)
			}
		}
		data, _ := os.ReadFile(dialog.LearnedPath(f.script))
		if !strings.Contains(string(data), "solar_panels:") || !strings.Contains(string(data), `"where can I park"`) {
			t.Errorf("learned file:\n%s", data)
		}
	})
}

func TestInboxIgnore(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		q := f.ask(t, "is that the pizza place")
		res, err := f.ib.Ignore(ctx, q.GroupID, "wrong number")
		if err != nil {
			t.Fatal(err)
		}
		if res.Group.Status != store.GroupIgnored || res.Group.Resolution != "wrong number" || res.Group.ResolvedBy != "alice" ||
			res.Learned != "" || !strings.Contains(res.Message("en"), "ignored") || !strings.Contains(res.Message("zh"), "忽略") {
			t.Errorf("ignore: %+v", res)
		}
		// Again: the reason is replaced.
		if res, err := f.ib.Ignore(ctx, q.GroupID, "a prank"); err != nil || res.Group.Resolution != "a prank" {
			t.Errorf("ignore again: %+v %v", res, err)
		}
		// An ignored group may still be taught.
		if _, err := f.ib.Assign(ctx, q.GroupID, Assignment{Intent: "agent", As: "keyword", Phrase: "pizza place"}); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, st, q.GroupID, store.GroupAssigned)
	})
}

func hasCode(ds dialog.Diags, code string) bool {
	for _, d := range ds {
		if d.Code == code {
			return true
		}
	}
	return false
}

func mustStatus(t *testing.T, st store.Store, id int64, status string) {
	t.Helper()
	g, _, err := st.Group(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != status {
		t.Errorf("group %d is %s, want %s", id, g.Status, status)
	}
}
