package dialog

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// TestResult is the outcome of one conversation test (or of a file's phrasings).
type TestResult struct {
	File       string
	Name       string
	Pos        Pos
	Failures   []string
	Transcript []string
	Checks     int // phrasings checked, for phrasing results
}

// Passed reports whether the test had no failures.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// defaultTestTime is a Wednesday morning, so tests without a time run during
// ordinary business hours.
const defaultTestTime = "2026-01-07 10:00"

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// Run runs every test of the suite against s.
func (su *Suite) Run(s *Script) []TestResult {
	var out []TestResult
	for i, t := range su.Tests {
		r := t.Run(s, fmt.Sprintf("test-%d", i+1))
		r.File = su.File
		out = append(out, r)
	}
	if su.Phrasings != nil {
		r := su.Phrasings.Run(s)
		r.File = su.File
		out = append(out, r)
	}
	return out
}

type testRun struct {
	t      *ConvTest
	s      *Script
	se     *Session
	res    *TestResult
	used   map[int]bool // mocks used (each answers one request, in order)
	broken bool
}

// Run plays the conversation against s.
func (t *ConvTest) Run(s *Script, id string) TestResult {
	res := TestResult{Name: t.Name, Pos: t.Pos}
	loc := time.UTC
	if s.Hours != nil {
		loc = s.Hours.Location
	}
	ts := t.Time
	if ts == "" {
		ts = defaultTestTime
	}
	tm, err := parseTestTime(ts, loc)
	if err != nil {
		res.Failures = append(res.Failures, err.Error())
		return res
	}
	caller := t.Caller
	if caller == "" {
		caller = "10000000000"
	}
	run := &testRun{t: t, s: s, res: &res, used: map[int]bool{}}
	run.se = NewSession(s, CallInfo{ID: id, Caller: caller, Called: t.Called, Channel: "test", Time: tm, Vars: t.Vars})
	acts := run.settle(run.se.Start())
	for i, st := range t.Steps {
		if run.broken {
			break
		}
		where := fmt.Sprintf("step %d at %s", i+1, st.Pos)
		if st.Input != nil {
			where += " (" + st.Label + ")"
			if problem := run.unexpected(st.Input); problem != "" {
				res.Failures = append(res.Failures, where+": "+problem)
				break
			}
			res.Transcript = append(res.Transcript, "caller: "+st.Label)
			acts = run.settle(run.se.Handle(st.Input))
		}
		if fails := run.check(st, acts); len(fails) > 0 {
			res.Failures = append(res.Failures, where+":\n"+indent(strings.Join(fails, "\n"), "    "))
		}
	}
	if t.Expect != nil && !run.broken {
		if fails := run.checkExpect(t.Expect, acts); len(fails) > 0 {
			res.Failures = append(res.Failures, "at the end ("+t.Expect.Pos.String()+"):\n"+indent(strings.Join(fails, "\n"), "    "))
		}
	}
	return res
}

// unexpected explains why the session cannot take this input now, or "".
func (run *testRun) unexpected(ev Event) string {
	w := run.se.Waiting()
	if w == WaitEnded {
		return "the call has already ended (" + run.se.st.EndReason + ")"
	}
	ok := true
	switch ev.(type) {
	case Utterance, Digits, NoInput:
		ok = w == WaitInput || w == WaitCollect
	case RecordDone:
		ok = w == WaitRecord
	case Transferred, TransferFailed:
		ok = w == WaitTransfer
	}
	if !ok {
		return fmt.Sprintf("the bot is not waiting for this: it waits for %s", w)
	}
	return ""
}

// settle records actions in the transcript and answers backend requests from the mocks.
func (run *testRun) settle(acts []Action) []Action {
	all := acts
	for {
		for _, a := range acts {
			run.res.Transcript = append(run.res.Transcript, FormatAction(a))
		}
		if run.se.Waiting() != WaitHTTP {
			return all
		}
		var req HTTPRequest
		for _, a := range acts {
			if r, ok := a.(HTTPRequest); ok {
				req = r
			}
		}
		mock := run.findMock(req)
		if mock == nil {
			run.res.Failures = append(run.res.Failures, fmt.Sprintf("no http mock answers %s %s (add one under http:)", req.Method, req.URL))
			run.broken = true
			return all
		}
		res := HTTPResult{Status: mock.Status, Body: mock.Body, Err: mock.Err}
		if mock.Err != "" {
			res.Status = 0
		}
		run.res.Transcript = append(run.res.Transcript, fmt.Sprintf("backend: %d %s%s", res.Status, mock.Err, truncate(string(mock.Body), 80)))
		acts = run.se.Handle(res)
		all = append(all, acts...)
	}
}

func (run *testRun) findMock(req HTTPRequest) *HTTPMock {
	for pass := 0; pass < 2; pass++ {
		for i := range run.t.HTTP {
			m := &run.t.HTTP[i]
			if m.Method != "" && m.Method != req.Method {
				continue
			}
			if m.URL.RE != nil && !m.URL.RE.MatchString(req.URL) || m.URL.RE == nil && m.URL.Text != req.URL {
				continue
			}
			// Unused mocks first, so a list of mocks answers repeated requests in order.
			if pass == 0 && run.used[i] {
				continue
			}
			run.used[i] = true
			return m
		}
	}
	return nil
}

func botText(acts []Action) string {
	var parts []string
	for _, a := range acts {
		switch x := a.(type) {
		case Say:
			parts = append(parts, x.Text)
		case Play:
			parts = append(parts, x.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func (run *testRun) check(st Step, acts []Action) []string {
	var fails []string
	said := botText(acts)
	for _, c := range st.Bot {
		if !c.in(said) {
			fails = append(fails, fmt.Sprintf("want the bot to say %s\n  the bot said: %s", c, quoteBlock(said)))
		}
	}
	for _, c := range st.BotNot {
		if c.in(said) {
			fails = append(fails, fmt.Sprintf("want the bot NOT to say %s\n  the bot said: %s", c, quoteBlock(said)))
		}
	}
	if st.Intent != nil {
		got, explain := understood(acts)
		if got != *st.Intent {
			fails = append(fails, fmt.Sprintf("want intent %s, got %s\n  %s", *st.Intent, got, explain))
		}
	}
	if st.Expect != nil {
		fails = append(fails, run.checkExpect(st.Expect, acts)...)
	}
	if len(fails) > 0 && st.Intent == nil {
		if got, explain := understood(acts); got != "" {
			fails = append(fails, "  (understood: "+explain+")")
		}
	}
	return fails
}

// understood returns the intent of the first Understood action ("none" when
// nothing matched, "" when there was none) and its explanation.
func understood(acts []Action) (string, string) {
	for _, a := range acts {
		if u, ok := a.(Understood); ok && u.Outcome != "collected" && u.Outcome != "invalid" {
			if u.Result.Matched() {
				return u.Result.Intent, u.Result.Explain()
			}
			return "none", u.Result.Explain()
		}
	}
	return "", "no input was matched"
}

func (run *testRun) checkExpect(e *Expect, acts []Action) []string {
	var fails []string
	st := run.se.State()
	if e.Node != "" && st.Node != e.Node {
		fails = append(fails, fmt.Sprintf("want node %s, got %s (path %s)", e.Node, st.Node, strings.Join(st.Path, " → ")))
	}
	if e.Tier != "" {
		got := ""
		for _, a := range acts {
			if u, ok := a.(Understood); ok && u.Result.Matched() {
				got = u.Result.Tier.String()
				break
			}
		}
		if got != e.Tier {
			fails = append(fails, fmt.Sprintf("want a %s match, got %q", e.Tier, got))
		}
	}
	var transfer *Transfer
	has := map[string]bool{}
	var requests, bodies []string
	for _, a := range acts {
		switch x := a.(type) {
		case Transfer:
			transfer = &x
			has["transfer"] = true
		case Hangup:
			has["hangup"] = true
		case Record:
			has["record"] = true
		case CollectDigits:
			has["collect"] = true
		case Listen:
			has["listen"] = true
		case HTTPRequest:
			requests = append(requests, x.Method+" "+x.URL)
			bodies = append(bodies, string(x.Body))
		}
	}
	if e.Transfer != nil {
		switch {
		case transfer == nil:
			fails = append(fails, "want a transfer to "+e.Transfer.String()+", got none")
		case !e.Transfer.in(transfer.To):
			fails = append(fails, fmt.Sprintf("want a transfer to %s, got %q", e.Transfer, transfer.To))
		}
	}
	if e.NoTransfer && transfer != nil {
		fails = append(fails, fmt.Sprintf("want no transfer, got one to %q", transfer.To))
	}
	if len(e.Headers) > 0 {
		if transfer == nil {
			fails = append(fails, "want transfer headers, but there is no transfer")
		} else {
			got := map[string]string{}
			for _, h := range transfer.Headers {
				got[h.Name] = h.Value
			}
			for _, k := range sortedKeys(e.Headers) {
				if got[k] != e.Headers[k] {
					fails = append(fails, fmt.Sprintf("want header %s: %q, got %q", k, e.Headers[k], got[k]))
				}
			}
		}
	}
	for _, b := range []struct {
		want *bool
		name string
	}{{e.Hangup, "hangup"}, {e.Record, "record"}, {e.Collect, "collect"}, {e.Listen, "listen"}} {
		if b.want != nil && *b.want != has[b.name] {
			if *b.want {
				fails = append(fails, "want the bot to "+b.name+", it did not")
			} else {
				fails = append(fails, "want the bot not to "+b.name+", it did")
			}
		}
	}
	if e.BargeIn != nil {
		for _, a := range acts {
			var barge, prompt bool
			switch x := a.(type) {
			case Say:
				barge, prompt = x.BargeIn, true
			case Play:
				barge, prompt = x.BargeIn, true
			}
			if prompt && barge != *e.BargeIn {
				fails = append(fails, fmt.Sprintf("want barge_in=%v on every prompt, %q has %v", *e.BargeIn, FormatAction(a), barge))
				break
			}
		}
	}
	if e.HTTP != nil {
		found := false
		for _, r := range requests {
			found = found || e.HTTP.in(r)
		}
		if !found {
			fails = append(fails, fmt.Sprintf("want a request matching %s, got %q", e.HTTP, requests))
		}
	}
	if e.HTTPBody != nil {
		found := false
		for _, b := range bodies {
			found = found || e.HTTPBody.in(b)
		}
		if !found {
			fails = append(fails, fmt.Sprintf("want a request body matching %s, got %q", e.HTTPBody, bodies))
		}
	}
	for _, tag := range e.Tags {
		if !contains(st.Tags, tag) {
			fails = append(fails, fmt.Sprintf("want tag %q, the call has %q", tag, st.Tags))
		}
	}
	if e.Grade != "" && st.Grade != e.Grade {
		fails = append(fails, fmt.Sprintf("want grade %s, got %q", e.Grade, st.Grade))
	}
	for _, k := range sortedKeys(e.Vars) {
		v, _ := lookup(st.Vars, strings.Split(k, "."))
		if got := stringify(v); got != e.Vars[k] {
			fails = append(fails, fmt.Sprintf("want {{%s}} = %q, got %q", k, e.Vars[k], got))
		}
	}
	if e.Outcome != "" && st.Outcome != e.Outcome {
		fails = append(fails, fmt.Sprintf("want outcome %s, got %q", e.Outcome, st.Outcome))
	}
	if e.Ended != nil && *e.Ended != (st.Wait == WaitEnded) {
		fails = append(fails, fmt.Sprintf("want ended=%v, the session waits for %q", *e.Ended, st.Wait))
	}
	return fails
}

// Run checks every phrasing against the intents active at the phrasings' node.
func (ph *Phrasings) Run(s *Script) TestResult {
	res := TestResult{Name: "phrasings", Pos: ph.Pos}
	node := ph.Node
	if node == "" {
		node = s.Start
	}
	info := s.info[node]
	if info == nil {
		res.Failures = append(res.Failures, fmt.Sprintf("%s: no node %q in the script", ph.Pos, node))
		return res
	}
	for _, set := range ph.Intents {
		if set.Intent != "none" && s.IntentByName(set.Intent) == nil {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: no intent %q in the script", set.Pos, set.Intent))
			continue
		}
		for _, text := range set.Texts {
			res.Checks++
			r := s.matcher.Match(text, info.active)
			got := "none"
			if r.Matched() {
				got = r.Intent
			}
			if got != set.Intent {
				res.Failures = append(res.Failures, fmt.Sprintf("%s: %q should match %s, got %s\n    %s", set.Pos, text, set.Intent, got, r.Explain()))
			}
		}
	}
	return res
}

// FormatAction renders an action as one line of a transcript.
func FormatAction(a Action) string {
	switch x := a.(type) {
	case Say:
		return "bot: " + x.Text
	case Play:
		return fmt.Sprintf("bot: [play %s] %s", x.File, x.Text)
	case Listen:
		var in []string
		if x.Speech {
			in = append(in, "speech")
		}
		if x.DTMF {
			in = append(in, "dtmf")
		}
		return fmt.Sprintf("[listen %s, timeout %s]", strings.Join(in, "+"), x.Timeout)
	case CollectDigits:
		end := ""
		if x.End != "" {
			end = ", end " + x.End
		}
		return fmt.Sprintf("[collect %s: %d-%d digits%s]", x.Var, x.Min, x.Max, end)
	case Transfer:
		var hs []string
		for _, h := range x.Headers {
			hs = append(hs, h.Name+": "+h.Value)
		}
		s := fmt.Sprintf("[transfer %s (%s)", x.To, x.Mode)
		if len(hs) > 0 {
			s += " " + strings.Join(hs, "; ")
		}
		if x.Whisper != "" {
			s += fmt.Sprintf(", whisper %q", x.Whisper)
		}
		return s + "]"
	case Record:
		return fmt.Sprintf("[record up to %s]", x.Max)
	case HTTPRequest:
		if len(x.Body) > 0 {
			return fmt.Sprintf("[http %s %s %s]", x.Method, x.URL, x.Body)
		}
		return fmt.Sprintf("[http %s %s]", x.Method, x.URL)
	case Tag:
		return "[tag " + strings.TrimSpace(x.Grade+" "+strings.Join(x.Tags, " ")) + "]"
	case Understood:
		switch x.Outcome {
		case "collected":
			return fmt.Sprintf("[collected %s (%s)]", x.Result.Input, x.Input)
		case "invalid":
			return fmt.Sprintf("[invalid %s input %q: %s]", x.Input, x.Text, x.Result.Reason)
		}
		return "[understood " + x.Result.Explain() + "]"
	case Hangup:
		return "[hangup]"
	}
	return fmt.Sprintf("[%T]", a)
}

func quoteBlock(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return fmt.Sprintf("%q", s)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		if s == "" {
			return ""
		}
		return " " + s
	}
	return " " + string([]rune(s)[:n]) + "…"
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
