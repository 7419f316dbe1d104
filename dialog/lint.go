package dialog

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Lint returns warnings about a script that loads but is probably not what
// its authors meant: unreachable nodes, dead ends, keywords in two intents,
// unused intents, unknown variables, missing audio, no way to reach a person.
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
