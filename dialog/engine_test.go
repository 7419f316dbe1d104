package dialog

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var wednesday = time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)

func says(acts []Action) string { return botText(acts) }

const menuScript = `name: menu
language: en-US
start: menu
intents:
  agent: {keywords: [agent], dtmf: "0", handoff: true}
  outage: {keywords: [power cut], dtmf: "1"}
  billing: {keywords: [bill], dtmf: "2"}
global: [agent]
nodes:
  menu:
    say: "Say power cut or press 1; billing, press 2."
    routes: {outage: outage, billing: billing}
  outage:
    say: "Outages."
    hangup: true
  billing:
    say: "Billing."
    hangup: true
  agent:
    say: "Agent."
    transfer: {to: "sip:a@b", on_fail: menu}
`

func TestSpokenMenuKey(t *testing.T) {
	s := mustParse(t, menuScript)
	for in, want := range map[string]string{"one": "Outages.", "press two": "Billing.", "按1": "Outages.", "option 2 please": "Billing.", "zero": "Agent."} {
		se := NewSession(s, CallInfo{Time: wednesday})
		se.Start()
		acts := se.Handle(Utterance{Text: in})
		if !strings.Contains(says(acts), want) {
			t.Errorf("%q: want %q, got %q", in, want, says(acts))
		}
	}
	// A number that is not a key of this menu, or more words, is no spoken key.
	for _, in := range []string{"three", "one moment please", "12"} {
		se := NewSession(s, CallInfo{Time: wednesday})
		se.Start()
		acts := se.Handle(Utterance{Text: in})
		if !strings.Contains(says(acts), "didn't understand") {
			t.Errorf("%q: want no match, got %q", in, says(acts))
		}
	}
}

func TestResolvesCountsAfterTheBackendAnswers(t *testing.T) {
	s := mustParse(t, `name: r
language: en-US
start: look
nodes:
  look:
    http: {get: "https://x.example/a", on_error: sorry}
    say: "Found it."
    resolves: true
    listen: {}
  sorry:
    say: "Sorry."
    listen: {}
`)
	se := NewSession(s, CallInfo{Time: wednesday})
	se.Start()
	se.Handle(HTTPResult{Err: "timeout"})
	se.Handle(HungUp{})
	if got := se.State().Outcome; got != OutcomeAbandoned {
		t.Errorf("failed lookup then hang-up: outcome %s, want abandoned", got)
	}
	se = NewSession(s, CallInfo{Time: wednesday})
	se.Start()
	se.Handle(HTTPResult{Status: 200, Body: []byte(`{}`)})
	se.Handle(HungUp{})
	if got := se.State().Outcome; got != OutcomeResolved {
		t.Errorf("answered lookup then hang-up: outcome %s, want resolved", got)
	}
}

func TestBranchOnEmptyValue(t *testing.T) {
	s := mustParse(t, `name: b
language: en-US
start: check
nodes:
  check:
    branch: {on: "{{order}}", cases: {"": ask, "/^\\d+$/": known}, default: known}
  ask:
    say: "Which order?"
    hangup: true
  known:
    say: "Order {{order}}."
    hangup: true
`)
	se := NewSession(s, CallInfo{Time: wednesday})
	if got := says(se.Start()); got != "Which order?" {
		t.Errorf("empty: got %q", got)
	}
	se = NewSession(s, CallInfo{Time: wednesday, Vars: map[string]any{"order": "42"}})
	if got := says(se.Start()); got != "Order 42." {
		t.Errorf("set: got %q", got)
	}
}

func TestSuiteDefaultsAndChecks(t *testing.T) {
	s := mustParse(t, `name: m
language: en-US
start: look
nodes:
  look:
    http: {post: "https://x.example/readings", body: {reading: "{{caller}}"}, into: r, on_error: sorry}
    say: "Saved {{r.id}}."
    hangup: true
  sorry:
    say: "Sorry."
    transfer: {to: "sip:a@b", mode: bridge, whisper: "caller {{caller}}", on_fail: sorry2}
  sorry2:
    say: "Bye."
    hangup: true
`)
	su, err := ParseSuite("s.yaml", []byte(`
defaults:
  caller: "555"
  http:
    - {match: "POST https://x.example/readings", json: {id: 7}}
tests:
  - name: default mock
    steps:
      - bot: Saved 7.
        expect: {http_body: '"reading":"555"', transfer: false, hangup: true}
  - name: the test's own mock wins
    http:
      - {match: "https://x.example/readings", error: timeout}
    steps:
      - bot: Sorry.
        expect: {transfer: true}
      - transfer: failed 486
        bot: Bye.
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range su.Run(s) {
		if !r.Passed() {
			t.Errorf("%s: %s\n%s", r.Name, strings.Join(r.Failures, "\n"), strings.Join(r.Transcript, "\n"))
		}
		if r.Name == "the test's own mock wins" && !strings.Contains(strings.Join(r.Transcript, "\n"), `whisper "caller 555"`) {
			t.Errorf("the transcript should show the whisper:\n%s", strings.Join(r.Transcript, "\n"))
		}
	}
	// Checks that fail say why.
	su, err = ParseSuite("s.yaml", []byte(`
tests:
  - name: wrong
    http: [{match: "/readings/", json: {id: 1}}]
    steps:
      - expect: {transfer: true, http_body: nothing}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := su.Run(s)[0]
	if all := strings.Join(r.Failures, "\n"); !strings.Contains(all, "want a transfer") || !strings.Contains(all, "want a request body matching") {
		t.Errorf("failures should explain themselves: %s", all)
	}
}

func TestSuiteAbsoluteScriptPath(t *testing.T) {
	su, err := ParseSuite("/some/dir/tests/a.yaml", []byte("script: /abs/script.yaml\ntests: [{name: x}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if su.Script != "/abs/script.yaml" {
		t.Errorf("absolute script path: got %s", su.Script)
	}
}

// BenchmarkTurn is one caller turn through the engine on the demo hotline:
// match, route, render the reply.
func BenchmarkTurn(b *testing.B) {
	s, err := LoadFile("../examples/en-utility/script.yaml")
	if err != nil {
		b.Fatal(err)
	}
	se := NewSession(s, CallInfo{ID: "b", Caller: "1", Time: wednesday})
	se.Start()
	st := se.State()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		se, _ := Restore(s, st)
		se.Handle(Utterance{Text: "what are your opening hours please"})
	}
}

// BenchmarkLoadExample loads and compiles the demo hotline (what a reload costs).
func BenchmarkLoadExample(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := LoadFile("../examples/en-utility/script.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
