package dialog

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Lint returns warnings about a script that loads but is probably not what
// its authors meant: unreachable nodes, dead ends, keywords in two intents,
// unused intents, unknown variables, missing audio, no way to reach a person,
// callers not told that calls are recorded. One rule reports an error: a
// script that records messages must tell callers that the call is recorded
// (no-recording-notice).
func Lint(s *Script) Diags {
	return LintWith(s, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	})
}

// LintWith is Lint with a custom test for whether an audio file exists.
func LintWith(s *Script, exists func(path string) bool) Diags {
	var ds Diags
	lintReachability(s, &ds)
	lintNodes(s, &ds)
	lintIntents(s, &ds)
	lintVars(s, &ds)
	lintAudio(s, exists, &ds)
	lintRecordingNotice(s, &ds)
	ds.Sort()
	return ds
}

func lintReachability(s *Script, ds *Diags) {
	reached := map[string]bool{}
	var queue []string
	push := func(n string) {
		if n != "" && n != TargetRepeat && !reached[n] && s.Nodes[n] != nil {
			reached[n] = true
			queue = append(queue, n)
		}
	}
	push(s.Start)
	if s.Hours != nil {
		push(s.Hours.Closed)
	}
	push(s.Defaults.Escalate)
	globalsPushed, answersPushed := false, false
	for len(queue) > 0 {
		nd := s.Nodes[queue[0]]
		queue = queue[1:]
		for _, t := range nd.Targets(s) {
			push(t)
		}
		if nd.Listen != nil || nd.Collect != nil {
			if !globalsPushed {
				globalsPushed = true
				for _, r := range s.Global {
					push(r.Target)
				}
			}
		}
		if nd.Listen != nil && nd.Answers && !answersPushed {
			answersPushed = true
			push(s.AfterAnswer)
			for _, a := range s.Answers {
				push(a.Next)
			}
		}
	}
	for _, name := range s.NodeOrder {
		if !reached[name] {
			ds.warnf(s.Nodes[name].Pos, "unreachable", name)
		}
	}
}

func lintNodes(s *Script, ds *Diags) {
	human := false
	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		if nd.Transfer != nil {
			human = true
		}
		deadEnd := nd.Listen == nil && nd.Transfer == nil && !nd.Hangup && nd.Branch == nil && nd.Next == ""
		if deadEnd {
			ds.warnf(nd.Pos, "dead-end", name)
		}
		if nd.Listen != nil {
			info := s.info[name]
			empty := true
			for i := range s.Intents {
				if info.active.Has(i) {
					empty = false
					break
				}
			}
			if empty {
				ds.warnf(nd.Pos, "listen-nothing", name)
			}
			// When speech recognition fails the call goes on by keys: a
			// question no key answers would leave the caller stuck.
			keyed := false
			for i, in := range s.Intents {
				if info.active.Has(i) && len(in.DTMF) > 0 {
					keyed = true
					break
				}
			}
			if !empty && !keyed {
				ds.warnf(nd.Pos, "no-keypad-route", name)
			}
			// One key, two intents in the same node: the first declared would always win.
			byKey := map[string]string{}
			for i, in := range s.Intents {
				if !info.active.Has(i) {
					continue
				}
				for _, k := range in.DTMF {
					if other, ok := byKey[k]; ok {
						ds.warnf(nd.Pos, "dtmf-clash", k, other, in.Name, name)
					} else {
						byKey[k] = in.Name
					}
				}
			}
		}
		if nd.Transfer != nil && nd.Transfer.OnFail == "" {
			ds.warnf(nd.Transfer.Pos, "no-on-fail", name)
		}
		if nd.HTTP != nil && nd.HTTP.OnError == "" {
			ds.warnf(nd.HTTP.Pos, "no-on-error", name)
		}
	}
	if !human {
		ds.warnf(Pos{File: s.Files[0], Line: 1}, "no-human")
	}
	handoff := false
	for _, in := range s.Intents {
		handoff = handoff || in.Handoff
	}
	if !handoff {
		ds.warnf(Pos{File: s.Files[0], Line: 1}, "no-handoff")
	}
}

func lintIntents(s *Script, ds *Diags) {
	used := map[string]bool{}
	for _, r := range s.Global {
		used[r.Intent] = true
	}
	for intent := range s.Answers {
		used[intent] = true
	}
	for _, nd := range s.Nodes {
		for _, r := range nd.Routes {
			used[r.Intent] = true
		}
	}
	owner := map[string]string{}
	for _, in := range s.Intents {
		if !used[in.Name] {
			ds.warnf(in.Pos, "unused-intent", in.Name)
		}
		mine := map[string]bool{}
		for _, kw := range in.Keywords {
			f := textnorm.Fold(kw)
			if mine[f] {
				continue
			}
			mine[f] = true
			if other, ok := owner[f]; ok {
				ds.warnf(in.Pos, "same-keyword", kw, other, in.Name)
			} else {
				owner[f] = in.Name
			}
		}
	}
}

func lintVars(s *Script, ds *Diags) {
	known := map[string]bool{}
	for v := range builtinVars {
		known[v] = true
	}
	for _, nd := range s.Nodes {
		if nd.Collect != nil {
			known[nd.Collect.Into] = true
		}
		if nd.HTTP != nil && nd.HTTP.Into != "" {
			known[nd.HTTP.Into] = true
		}
		if nd.Record != nil && nd.Record.Into != "" {
			known[nd.Record.Into] = true
		}
		for _, a := range nd.Set {
			known[a.Var] = true
		}
	}
	reported := map[string]bool{}
	check := func(t *Template, pos Pos) {
		for _, v := range t.Vars() {
			if !known[v] && !reported[v+pos.String()] {
				reported[v+pos.String()] = true
				ds.warnf(pos, "unknown-var", v)
			}
		}
	}
	checkPrompt := func(p Prompt) {
		for _, seg := range p {
			check(seg.Text, seg.Pos)
		}
	}
	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		checkPrompt(nd.Say)
		checkPrompt(nd.Reprompt)
		for _, p := range append(append([]Prompt{}, nd.NoInput...), nd.NoMatch...) {
			checkPrompt(p)
		}
		for _, a := range nd.Set {
			check(a.Value, a.Pos)
		}
		if nd.HTTP != nil {
			check(nd.HTTP.URL, nd.HTTP.Pos)
			for _, h := range nd.HTTP.Headers {
				check(h.Value, nd.HTTP.Pos)
			}
			for _, v := range nd.HTTP.Body.Vars() {
				if !known[v] {
					ds.warnf(nd.HTTP.Pos, "unknown-var", v)
				}
			}
		}
		if nd.Transfer != nil {
			check(nd.Transfer.To, nd.Transfer.Pos)
			check(nd.Transfer.Whisper, nd.Transfer.Pos)
			for _, h := range nd.Transfer.Headers {
				check(h.Value, nd.Transfer.Pos)
			}
		}
		if nd.Branch != nil {
			check(nd.Branch.On, nd.Branch.Pos)
		}
		if nd.Collect != nil {
			checkPrompt(nd.Collect.Invalid)
		}
	}
	intents := make([]string, 0, len(s.Answers))
	for i := range s.Answers {
		intents = append(intents, i)
	}
	sort.Strings(intents)
	for _, i := range intents {
		checkPrompt(s.Answers[i].Say)
	}
}

func lintAudio(s *Script, exists func(string) bool, ds *Diags) {
	seen := map[string]bool{}
	check := func(p Prompt) {
		for _, seg := range p {
			if seg.Audio == "" || seen[seg.Audio] {
				continue
			}
			seen[seg.Audio] = true
			path := seg.Audio
			if !filepath.IsAbs(path) {
				path = filepath.Join(s.Dir, path)
			}
			if !exists(path) {
				ds.warnf(seg.Pos, "missing-audio", seg.Audio)
			}
		}
	}
	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		check(nd.Say)
		check(nd.Reprompt)
		for _, p := range append(append([]Prompt{}, nd.NoInput...), nd.NoMatch...) {
			check(p)
		}
		if nd.Collect != nil {
			check(nd.Collect.Invalid)
		}
	}
	for _, a := range s.Answers {
		check(a.Say)
	}
	for _, p := range append(append([]Prompt{}, s.Defaults.NoInput...), s.Defaults.NoMatch...) {
		check(p)
	}
}

// lintRecordingNotice checks that callers hear that the call is recorded
// before they are first asked for something (listen, collect, record or
// transfer), on every way from start and from hours.closed. It is an error
// when the script records messages (record nodes), a warning otherwise (the
// server records calls), and nothing when the script has no record node and
// says recording: false.
func lintRecordingNotice(s *Script, ds *Diags) {
	records := false
	for _, nd := range s.Nodes {
		records = records || nd.Record != nil
	}
	if !records && !s.Recording {
		return
	}
	sev, why := Warning, phrase{"hotline serve records every call by default", "hotline serve 默认为每通电话录音"}
	if records {
		sev, why = Error, phrase{"this script records messages", "本脚本会录制留言"}
	}
	entries := []string{s.Start}
	if s.Hours != nil && s.Hours.Closed != "" && s.Hours.Closed != s.Start {
		entries = append(entries, s.Hours.Closed)
	}
	for _, entry := range entries {
		if path := unnoticedPath(s, entry); path != nil {
			ds.add(sev, s.Nodes[entry].Pos, "no-recording-notice", path[len(path)-1], strings.Join(path, " → "), why)
		}
	}
}

// unnoticedPath returns a shortest way through the flow from entry to a node
// that asks the caller for something, on which no prompt mentions recording;
// nil when there is none.
func unnoticedPath(s *Script, entry string) []string {
	if s.Nodes[entry] == nil {
		return nil
	}
	parent := map[string]string{}
	seen := map[string]bool{entry: true}
	queue := []string{entry}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		nd := s.Nodes[name]
		// Ways on that skip the node's prompt: closed hours, and the backend's
		// answer (on_status, on_error or the escalation node) before the prompt.
		next := []string{nd.Closed}
		if nd.HTTP != nil {
			codes := make([]int, 0, len(nd.HTTP.OnStatus))
			for c := range nd.HTTP.OnStatus {
				codes = append(codes, c)
			}
			sort.Ints(codes)
			for _, c := range codes {
				next = append(next, nd.HTTP.OnStatus[c])
			}
			if nd.HTTP.OnError != "" {
				next = append(next, nd.HTTP.OnError)
			} else {
				next = append(next, nd.Escalate)
			}
		}
		// The prompt is heard, then the node asks, ends or goes on.
		if !givesRecordingNotice(s, nd) {
			switch {
			case nd.Listen != nil, nd.Collect != nil, nd.Record != nil, nd.Transfer != nil:
				path := []string{name}
				for n := name; n != entry; {
					n = parent[n]
					path = append([]string{n}, path...)
				}
				return path
			case nd.Hangup:
			case nd.Branch != nil:
				for _, c := range nd.Branch.Cases {
					next = append(next, c.Target)
				}
				next = append(next, nd.Branch.Default)
			default:
				next = append(next, nd.Next)
			}
		}
		for _, t := range next {
			if t != "" && !seen[t] && s.Nodes[t] != nil {
				seen[t] = true
				parent[t] = name
				queue = append(queue, t)
			}
		}
	}
	return nil
}

var recordedEN = regexp.MustCompile(`\brecord(s|ed|ing|ings)?\b`)

// recordedZH are the Chinese words that tell a caller about recording (in
// simplified characters: prompts are folded first, so 錄音 counts too).
var recordedZH = []string{"录音", "录制", "记录通话"}

// givesRecordingNotice reports whether the node's prompt tells the caller the
// call is recorded: it is the script's recording_notice node, or its text
// mentions recording in the script's language (English and Chinese words
// both count for other languages).
func givesRecordingNotice(s *Script, nd *Node) bool {
	if len(nd.Say) == 0 {
		return false
	}
	if nd.Name == s.RecordingNotice {
		return true
	}
	var b strings.Builder
	for _, seg := range nd.Say {
		b.WriteString(seg.Text.String())
		b.WriteByte(' ')
	}
	text := textnorm.Fold(b.String())
	lang := strings.ToLower(s.Language)
	if !strings.HasPrefix(lang, "en") {
		for _, w := range recordedZH {
			if strings.Contains(text, w) {
				return true
			}
		}
	}
	return !isChinese(lang) && recordedEN.MatchString(text)
}
