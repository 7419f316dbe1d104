package dialog

// Tests for every field and behaviour that docs/script.md documents. Each test
// names the section of the reference it checks. Scripts are inline YAML; the
// engine is driven with events and its actions and State are checked. Time is
// always given in CallInfo.Time: the engine has no clock.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"
)

// ---------------------------------------------------------------------------
// helpers

// thu10 is Thursday 2026-11-26 10:00 UTC, inside ordinary business hours.
var thu10 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// head is the required top of a script starting at node "welcome".
const head = "name: t\nlanguage: en-US\nstart: welcome\n"

func parse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("script does not load: %v\n---\n%s", err, src)
	}
	return s
}

// parseErrors loads a script that must fail and returns its error codes.
func parseErrors(t *testing.T, src string) []string {
	t.Helper()
	_, err := Parse("t.yaml", []byte(src))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("script should not load (err = %v):\n%s", err, src)
	}
	var codes []string
	for _, d := range le.Diags.Errors() {
		codes = append(codes, d.Code)
	}
	return codes
}

func hasCode(codes []string, code string) bool {
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// call is one conversation with a script.
type call struct {
	t  *testing.T
	se *Session
}

func dial(t *testing.T, s *Script, info CallInfo) (*call, []Action) {
	t.Helper()
	if info.Time.IsZero() {
		info.Time = thu10
	}
	c := &call{t: t, se: NewSession(s, info)}
	return c, c.se.Start()
}

func startCall(t *testing.T, src string) (*call, []Action) {
	t.Helper()
	return dial(t, parse(t, src), CallInfo{ID: "call-1", Caller: "13800138000", Called: "4000", Channel: "test"})
}

func (c *call) do(ev Event) []Action { return c.se.Handle(ev) }
func (c *call) say(text string) []Action {
	return c.se.Handle(Utterance{Text: text})
}
func (c *call) keys(k string) []Action { return c.se.Handle(Digits{Keys: k}) }
func (c *call) silence() []Action      { return c.se.Handle(NoInput{}) }
func (c *call) state() State           { return c.se.State() }

func (c *call) at(node string, wait Wait) {
	c.t.Helper()
	st := c.state()
	if st.Node != node || st.Wait != wait {
		c.t.Fatalf("at %s/%s, want %s/%s (path %v)", st.Node, st.Wait, node, wait, st.Path)
	}
}

func (c *call) outcome(want string) {
	c.t.Helper()
	st := c.state()
	if st.Wait != WaitEnded || st.Outcome != want {
		c.t.Errorf("outcome %q (wait %q, reason %q), want %q; path %v", st.Outcome, st.Wait, st.EndReason, want, st.Path)
	}
}

func (c *call) vars(want map[string]string) {
	c.t.Helper()
	st := c.state()
	for k, v := range want {
		if got := stringify(st.Vars[k]); got != v {
			c.t.Errorf("{{%s}} = %q, want %q", k, got, v)
		}
	}
}

// spoken lists what the actions say: Say texts, and Play as "<file>text".
func spoken(acts []Action) []string {
	var out []string
	for _, a := range acts {
		switch x := a.(type) {
		case Say:
			out = append(out, x.Text)
		case Play:
			out = append(out, "<"+x.File+">"+x.Text)
		}
	}
	return out
}

// kinds lists the action types in order, e.g. "Say Listen".
func kinds(acts []Action) string {
	var out []string
	for _, a := range acts {
		out = append(out, strings.TrimPrefix(fmt.Sprintf("%T", a), "dialog."))
	}
	return strings.Join(out, " ")
}

func actionsOf[T Action](acts []Action) []T {
	var out []T
	for _, a := range acts {
		if x, ok := a.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func only[T Action](t *testing.T, acts []Action) T {
	t.Helper()
	xs := actionsOf[T](acts)
	if len(xs) != 1 {
		var zero T
		t.Fatalf("want one %T in [%s], got %d", zero, kinds(acts), len(xs))
	}
	return xs[0]
}

func wantSpoken(t *testing.T, acts []Action, want ...string) {
	t.Helper()
	got := spoken(acts)
	if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("said %q, want %q (actions: %s)", got, want, kinds(acts))
	}
}

func heard(t *testing.T, acts []Action) Understood {
	t.Helper()
	return only[Understood](t, acts)
}

// ---------------------------------------------------------------------------
// A first script, and driving the engine

func TestFirstScriptInDocsLoads(t *testing.T) {
	data, err := os.ReadFile("../docs/script.md")
	if err != nil {
		t.Skip("docs/script.md not found:", err)
	}
	re := regexp.MustCompile("(?s)## A first script\n\n```yaml\n(.*?)```")
	m := re.FindSubmatch(data)
	if m == nil {
		t.Fatal("no yaml block under \"A first script\"")
	}
	_, err = Parse("script.yaml", m[1])
	if err != nil {
		if strings.Contains(err.Error(), "unknown-intent") {
			t.Log(err)
			t.Fatal("regression: the first script in docs/script.md routes intents yes/no that it never defines: it does not load (unknown-intent)")
		}
		t.Fatal(err)
	}
}

// firstScript is "A first script" of the reference, with the yes/no intents its routes need.
const firstScript = `name: acme-support
language: en-US
start: welcome
intents:
  agent:  {keywords: [agent, operator, a person, a human], dtmf: "0", handoff: true}
  hours:  {keywords: [opening hours, open, close], examples: ["are you open on saturday"]}
  yes: [yes, sure, yeah]
  no: [no, nothing, "no thanks"]
global: [agent]
answers:
  hours: "We are open Monday to Friday, nine to six."
after_answer: anything_else
nodes:
  welcome:
    say: "Hello, this is Acme's automated assistant. This call is recorded. How can I help? Press 0 for a person."
    listen: {}
  anything_else:
    say: "Is there anything else?"
    routes: {no: goodbye, yes: welcome}
  agent:
    say: "Putting you through to a person."
    transfer: {to: "sip:queue@pbx.example", on_fail: goodbye}
  goodbye:
    say: "Thank you for calling. Goodbye."
    hangup: true
`

func TestEngineDrivesFirstScript(t *testing.T) {
	s := parse(t, firstScript)
	info := CallInfo{ID: "c-1", Caller: "+15550100", Called: "+15550199", Channel: "phone", Time: thu10}

	t.Run("answer then goodbye", func(t *testing.T) {
		c, acts := dial(t, s, info)
		if kinds(acts) != "Say Listen" {
			t.Fatalf("opening: %s", kinds(acts))
		}
		wantSpoken(t, acts, "Hello, this is Acme's automated assistant. This call is recorded. How can I help? Press 0 for a person.")
		l := only[Listen](t, acts)
		want := Listen{Speech: true, DTMF: true, Timeout: 6 * time.Second, MaxSpeech: 15 * time.Second,
			EndSilence: 600 * time.Millisecond, DigitTimeout: 3 * time.Second, MaxDigits: 1, BargeIn: true}
		hints := l.Hints
		l.Hints = nil
		if !reflect.DeepEqual(l, want) {
			t.Errorf("listen = %+v, want %+v", l, want)
		}
		for _, h := range []string{"agent", "opening hours", "are you open on saturday"} {
			if !slices.Contains(hints, h) {
				t.Errorf("hints %q lack %q", hints, h)
			}
		}
		// Keywords first, examples after (a backend may keep only the first).
		if i := slices.Index(hints, "are you open on saturday"); i != len(hints)-1 {
			t.Errorf("hints %q: the example is not last", hints)
		}
		c.at("welcome", WaitInput)
		st := c.state()
		if !reflect.DeepEqual(st.Path, []string{"welcome"}) || st.Outcome != "" || st.Script != s.Version {
			t.Errorf("state after start: %+v", st)
		}

		acts = c.say("are you open on saturday?")
		if kinds(acts) != "Understood Say Say Listen" {
			t.Fatalf("after the question: %s", kinds(acts))
		}
		u := heard(t, acts)
		if u.Outcome != "matched" || u.Result.Intent != "hours" || u.Node != "welcome" || u.Input != "speech" {
			t.Errorf("understood %+v", u)
		}
		wantSpoken(t, acts, "We are open Monday to Friday, nine to six.", "Is there anything else?")
		c.at("anything_else", WaitInput)
		st = c.state()
		if !st.Answered || st.LastIntent != "hours" || st.Turns != 1 {
			t.Errorf("state after the answer: answered=%v last=%q turns=%d", st.Answered, st.LastIntent, st.Turns)
		}
		c.vars(map[string]string{"last_intent": "hours", "last_utterance": "are you open on saturday?", "node": "anything_else"})

		acts = c.say("no thanks")
		if kinds(acts) != "Understood Say Hangup" {
			t.Fatalf("after no: %s", kinds(acts))
		}
		wantSpoken(t, acts, "Thank you for calling. Goodbye.")
		c.outcome(OutcomeResolved)
		if !c.se.Ended() || !reflect.DeepEqual(c.state().Path, []string{"welcome", "anything_else", "goodbye"}) {
			t.Errorf("path %v", c.state().Path)
		}
		if acts := c.say("hello?"); acts != nil {
			t.Errorf("an ended call still answers: %s", kinds(acts))
		}
	})

	t.Run("key 0 for a person, transfer fails", func(t *testing.T) {
		c, _ := dial(t, s, info)
		acts := c.keys("0")
		if kinds(acts) != "Understood Say Transfer" {
			t.Fatalf("after 0: %s", kinds(acts))
		}
		tr := only[Transfer](t, acts)
		if tr.To != "sip:queue@pbx.example" || tr.Mode != "blind" || tr.Timeout != 30*time.Second {
			t.Errorf("transfer %+v", tr)
		}
		c.at("agent", WaitTransfer)
		acts = c.do(TransferFailed{Code: 486, Reason: "busy"})
		wantSpoken(t, acts, "Thank you for calling. Goodbye.")
		c.vars(map[string]string{"transfer_code": "486"})
		// unresolved: "a transfer failed and no message was left".
		c.outcome(OutcomeUnresolved)
	})

	t.Run("asks for an agent, transferred", func(t *testing.T) {
		c, _ := dial(t, s, info)
		c.say("can I talk to a human please")
		c.at("agent", WaitTransfer)
		if acts := c.do(Transferred{Agent: "1001"}); len(acts) != 0 {
			t.Errorf("after the transfer: %s", kinds(acts))
		}
		c.outcome(OutcomeTransferred)
	})

	t.Run("hangs up at once", func(t *testing.T) {
		c, _ := dial(t, s, info)
		c.do(HungUp{})
		c.outcome(OutcomeAbandoned)
	})

	t.Run("state survives JSON", func(t *testing.T) {
		c, _ := dial(t, s, info)
		c.say("what are your opening hours")
		b, err := json.Marshal(c.state())
		if err != nil {
			t.Fatal(err)
		}
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		se, err := Restore(s, st)
		if err != nil {
			t.Fatal(err)
		}
		acts := se.Handle(Utterance{Text: "yes"})
		wantSpoken(t, acts, "Hello, this is Acme's automated assistant. This call is recorded. How can I help? Press 0 for a person.")
	})
}

// ---------------------------------------------------------------------------
// Top level

func TestTopLevelFields(t *testing.T) {
	s := parse(t, `name: acme-support
language: zh-CN
start: 欢迎
description: "free text for people"
after_answer: a.b-c_1
intents:
  退款: [退款]
answers:
  退款: "三到五个工作日。"
nodes:
  欢迎: {say: "您好", listen: {}}
  a.b-c_1: {say: "还有别的吗?", hangup: true}
`)
	if s.Name != "acme-support" || s.Language != "zh-CN" || s.Start != "欢迎" || s.AfterAnswer != "a.b-c_1" {
		t.Errorf("script %q %q %q %q", s.Name, s.Language, s.Start, s.AfterAnswer)
	}
	if s.IntentByName("退款") == nil || s.Nodes["a.b-c_1"] == nil {
		t.Error("names in Chinese, with . - _ and digits must be accepted")
	}
	if s.Hours != nil {
		t.Error("without hours the hotline is always open")
	}
	c, _ := dial(t, s, CallInfo{})
	acts := c.say("我想退款")
	wantSpoken(t, acts, "三到五个工作日。", "还有别的吗?")

	for _, lang := range []string{"en-US", "zh-CN", "zh-TW", "en-GB", "fr"} {
		s := parse(t, "name: t\nlanguage: "+lang+"\nstart: a\nnodes: {a: {say: hi, hangup: true}}\n")
		if s.Language != lang {
			t.Errorf("language %s loaded as %s", lang, s.Language)
		}
	}
	// Required: name, language, start, nodes.
	for _, c := range []struct{ src, code string }{
		{"language: en-US\nstart: a\nnodes: {a: {say: hi, hangup: true}}\n", "missing-field"},
		{"name: t\nstart: a\nnodes: {a: {say: hi, hangup: true}}\n", "missing-field"},
		{"name: t\nlanguage: en-US\nnodes: {a: {say: hi, hangup: true}}\n", "missing-field"},
		{"name: t\nlanguage: en-US\nstart: a\n", "no-nodes"},
		{"name: t\nlanguage: en-US\nstart: a\nnodes: {}\n", "no-nodes"},
		{"name: t\nlanguage: not_a_tag!\nstart: a\nnodes: {a: {say: hi, hangup: true}}\n", "bad-language"},
		{"name: t\nlanguage: en-US\nstart: nowhere\nnodes: {a: {say: hi, hangup: true}}\n", "unknown-node"},
		{"name: t\nlanguage: en-US\nstart: b\nnodes: {a: {say: hi, hangup: true}}\n", "unknown-node-suggest"},
		{"name: t\nlanguage: en-US\nstart: a\nnodes: {\"a b\": {say: hi, hangup: true}}\n", "bad-name"},
		{"name: t\nlanguage: en-US\nstart: a\nintents: {\"a/b\": [x]}\nnodes: {a: {say: hi, hangup: true}}\n", "bad-name"},
		{"name: t\nlanguage: en-US\nstart: a\nnodes: {a: {say: hi, hangup: true}}\nunknown: 1\n", "unknown-field"},
	} {
		if codes := parseErrors(t, c.src); !hasCode(codes, c.code) {
			t.Errorf("%q: codes %v, want %s", c.src, codes, c.code)
		}
	}
}

// ---------------------------------------------------------------------------
// defaults

func TestDefaultsBuiltIn(t *testing.T) {
	s := parse(t, head+`intents: {yes: [yes]}
nodes:
  welcome: {say: hi, routes: {yes: ask}}
  ask: {say: number, collect: {into: n}, next: done}
  done: {say: bye, hangup: true}
`)
	want := Defaults{
		Listen: ListenSpec{Timeout: 6 * time.Second, MaxSpeech: 15 * time.Second, EndSilence: 600 * time.Millisecond,
			DigitTimeout: 3 * time.Second, BargeIn: true, Speech: true, DTMF: true},
		Retries: Retries{NoInput: 2, NoMatch: 2},
		Collect: DigitsSpec{Min: 1, Max: 20, End: "#", InterDigit: 5 * time.Second, Timeout: 8 * time.Second},
	}
	if !reflect.DeepEqual(s.Defaults, want) {
		t.Errorf("defaults = %+v\nwant       %+v", s.Defaults, want)
	}
	c, acts := dial(t, s, CallInfo{})
	l := only[Listen](t, acts)
	if l.Timeout != 6*time.Second || l.MaxSpeech != 15*time.Second || l.EndSilence != 600*time.Millisecond ||
		l.DigitTimeout != 3*time.Second || !l.BargeIn || !l.Speech || !l.DTMF {
		t.Errorf("listen %+v", l)
	}
	acts = c.say("yes")
	cd := only[CollectDigits](t, acts)
	if want := (CollectDigits{Var: "n", Min: 1, Max: 20, End: "#", Timeout: 8 * time.Second, InterDigit: 5 * time.Second,
		DTMF: true, BargeIn: true}); !reflect.DeepEqual(cd, want) {
		t.Errorf("collect %+v, want %+v", cd, want)
	}
	// Built-in apologies, by language.
	for _, c := range []struct{ lang, noInput, noMatch string }{
		{"en-US", "Sorry, I didn't hear anything.", "Sorry, I didn't understand."},
		{"zh-CN", "抱歉,我没有听到您的声音。", "抱歉,我没有听懂。"},
	} {
		s := parse(t, "name: t\nlanguage: "+c.lang+"\nstart: welcome\nintents: {yes: [yes]}\nnodes:\n  welcome: {say: Q, routes: {yes: welcome}}\n")
		call, _ := dial(t, s, CallInfo{})
		wantSpoken(t, call.silence(), c.noInput, "Q")
		wantSpoken(t, call.say("purple"), c.noMatch, "Q")
	}
}

func TestDefaultsOverride(t *testing.T) {
	// Defaults written below the nodes still apply to them.
	s := parse(t, head+`intents:
  yes: [yes]
  agent: {keywords: [agent], handoff: true}
global: [agent]
nodes:
  welcome: {say: Q, routes: {yes: ask}}
  ask: {say: number, collect: {into: n}, next: welcome}
  own: {say: own, listen: {timeout: 8s}, routes: {yes: welcome}}
  agent: {say: person, transfer: "sip:a@pbx.example"}
defaults:
  listen: {timeout: 9s, max_speech: 20s, end_silence: 800ms, digit_timeout: 4s, barge_in: false, input: [dtmf, speech]}
  retries: {no_input: 3, no_match: 1}
  escalate: agent
  no_input: ["Hello?", "Still there?"]
  no_match: ["Pardon?", "Once more?"]
  collect: {min: 4, max: 6, end: "*", inter_digit: 2s, timeout: 10s}
`)
	if s.Defaults.Retries != (Retries{NoInput: 3, NoMatch: 1}) || s.Defaults.Escalate != "agent" {
		t.Errorf("defaults %+v", s.Defaults)
	}
	c, acts := dial(t, s, CallInfo{})
	l := only[Listen](t, acts)
	if l.Timeout != 9*time.Second || l.MaxSpeech != 20*time.Second || l.EndSilence != 800*time.Millisecond ||
		l.DigitTimeout != 4*time.Second || l.BargeIn || !l.Speech || !l.DTMF {
		t.Errorf("listen %+v", l)
	}
	if sy := only[Say](t, acts); sy.BargeIn {
		t.Error("barge_in: false must reach the prompt")
	}
	// A node's listen starts from defaults.listen.
	if own := s.Nodes["own"].Listen; own.Timeout != 8*time.Second || own.MaxSpeech != 20*time.Second || own.BargeIn {
		t.Errorf("node listen %+v", own)
	}
	// no_match: one per attempt; retries.no_match 1: the second miss escalates to defaults.escalate.
	wantSpoken(t, c.say("purple"), "Pardon?", "Q")
	acts = c.say("purple")
	wantSpoken(t, acts, "person")
	c.at("agent", WaitTransfer)
	c.vars(map[string]string{"escalation": "no_match"})

	c, _ = dial(t, s, CallInfo{})
	wantSpoken(t, c.silence(), "Hello?", "Q")
	wantSpoken(t, c.silence(), "Still there?", "Q")
	wantSpoken(t, c.silence(), "Still there?", "Q")
	c.silence()
	c.at("agent", WaitTransfer)
	c.vars(map[string]string{"escalation": "no_input"})

	c, _ = dial(t, s, CallInfo{})
	cd := only[CollectDigits](t, c.say("yes"))
	if cd.Min != 4 || cd.Max != 6 || cd.End != "*" || cd.InterDigit != 2*time.Second || cd.Timeout != 10*time.Second || cd.BargeIn {
		t.Errorf("collect from defaults %+v (barge_in comes from defaults.listen)", cd)
	}

	// retries as one number counts for both kinds.
	s = parse(t, head+"defaults: {retries: 0}\nintents: {yes: [yes]}\nnodes: {welcome: {say: Q, routes: {yes: welcome}}}\n")
	if s.Defaults.Retries != (Retries{NoInput: 0, NoMatch: 0}) {
		t.Errorf("retries: 0 = %+v", s.Defaults.Retries)
	}
	c, _ = dial(t, s, CallInfo{})
	c.silence()
	c.outcome(OutcomeUnresolved)
}

// ---------------------------------------------------------------------------
// hours

func TestHours(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	hoursScript := func(hours string) *Script {
		return parse(t, head+"hours:\n"+hours+"nodes:\n  welcome: {say: \"open={{open}}\", hangup: true}\n")
	}
	const docs = `  timezone: Asia/Shanghai
  open: ["Mon-Fri 09:00-18:00", "Sat 10:00-16:00"]
  holidays: ["2026-10-01..2026-10-07", "2026-12-25"]
  special: {"2026-10-10": "09:00-18:00", "2026-12-24": "09:00-12:00", "2026-12-31": closed, "2026-10-05": "10:00-11:00", "2026-11-27": 休息}
`
	cases := []struct {
		name  string
		hours string
		local string // time in the hours' zone (Asia/Shanghai unless the block says otherwise)
		utc   bool   // local is UTC
		open  bool
	}{
		{"weekday inside", docs, "2026-11-26 10:00", false, true},
		{"weekday before", docs, "2026-11-26 08:59", false, false},
		{"weekday end is exclusive", docs, "2026-11-26 18:00", false, false},
		{"saturday range", docs, "2026-11-28 15:59", false, true},
		{"saturday after", docs, "2026-11-28 16:00", false, false},
		{"sunday", docs, "2026-11-29 12:00", false, false},
		{"holiday range first day", docs, "2026-10-01 10:00", false, false},
		{"holiday range last day", docs, "2026-10-07 10:00", false, false},
		{"day after holidays", docs, "2026-10-08 10:00", false, true},
		{"single holiday", docs, "2026-12-25 10:00", false, false},
		{"special make-up saturday", docs, "2026-10-10 17:00", false, true},
		{"special short day, morning", docs, "2026-12-24 11:00", false, true},
		{"special short day, afternoon", docs, "2026-12-24 13:00", false, false},
		{"special closed", docs, "2026-12-31 10:00", false, false},
		{"special 休息", docs, "2026-11-27 10:00", false, false},
		{"special wins over holidays", docs, "2026-10-05 10:30", false, true},
		{"timezone default UTC, open", "  open: [\"Mon-Fri 09:00-18:00\"]\n", "2026-11-26 09:30", true, true},
		{"timezone default UTC, closed", "  open: [\"Mon-Fri 09:00-18:00\"]\n", "2026-11-26 08:30", true, false},
		{"Chinese days and two ranges", "  timezone: Asia/Shanghai\n  open: [\"周一至周五 09:00-12:00,13:00-18:00\"]\n", "2026-11-26 12:30", false, false},
		{"Chinese days, second range", "  timezone: Asia/Shanghai\n  open: [\"周一至周五 09:00-12:00,13:00-18:00\"]\n", "2026-11-26 13:30", false, true},
		{"星期 and 到", "  timezone: Asia/Shanghai\n  open: [\"星期一到星期五 09:00-18:00\"]\n", "2026-11-27 10:00", false, true},
		{"list with 、", "  timezone: Asia/Shanghai\n  open: [\"周一、周四 09:00-18:00\"]\n", "2026-11-26 10:00", false, true},
		{"list with 、, other day", "  timezone: Asia/Shanghai\n  open: [\"周一、周四 09:00-18:00\"]\n", "2026-11-25 10:00", false, false},
		{"list with ,", "  timezone: Asia/Shanghai\n  open: [\"Mon,Thu 09:00-18:00\"]\n", "2026-11-26 10:00", false, true},
		{"full names", "  timezone: Asia/Shanghai\n  open: [\"Monday-Thursday 09:00-18:00\"]\n", "2026-11-26 10:00", false, true},
		{"full names, outside", "  timezone: Asia/Shanghai\n  open: [\"Monday-Wednesday 09:00-18:00\"]\n", "2026-11-26 10:00", false, false},
		{"daily", "  timezone: Asia/Shanghai\n  open: [\"daily 08:00-20:00\"]\n", "2026-11-29 19:59", false, true},
		{"每天", "  timezone: Asia/Shanghai\n  open: [\"每天 08:00-20:00\"]\n", "2026-11-29 07:59", false, false},
		{"24:00 ends a day", "  timezone: Asia/Shanghai\n  open: [\"Thu 09:00-24:00\"]\n", "2026-11-26 23:59", false, true},
		{"past midnight, evening part", "  timezone: Asia/Shanghai\n  open: [\"Fri 22:00-02:00\"]\n", "2026-11-27 23:00", false, true},
		{"past midnight, early saturday", "  timezone: Asia/Shanghai\n  open: [\"Fri 22:00-02:00\"]\n", "2026-11-28 01:59", false, true},
		{"past midnight, saturday 02:00", "  timezone: Asia/Shanghai\n  open: [\"Fri 22:00-02:00\"]\n", "2026-11-28 02:00", false, false},
		{"past midnight, early friday", "  timezone: Asia/Shanghai\n  open: [\"Fri 22:00-02:00\"]\n", "2026-11-27 01:00", false, false},
		{"Europe/London", "  timezone: Europe/London\n  open: [\"Mon-Fri 09:00-17:00\"]\n", "2026-07-01 09:30", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := hoursScript(c.hours)
			loc := shanghai
			if c.utc {
				loc = time.UTC
			}
			if strings.Contains(c.hours, "Europe/London") {
				loc, _ = time.LoadLocation("Europe/London")
			}
			at, err := time.ParseInLocation("2006-01-02 15:04", c.local, loc)
			if err != nil {
				t.Fatal(err)
			}
			// The engine gets the time in UTC; hours convert it.
			_, acts := dial(t, s, CallInfo{Time: at.UTC()})
			want := fmt.Sprintf("open=%v", c.open)
			wantSpoken(t, acts, want)
			if got := s.Hours.IsOpen(at); got != c.open {
				t.Errorf("IsOpen = %v", got)
			}
		})
	}
}

func TestHoursClosedNode(t *testing.T) {
	const src = head + `hours:
  open: ["Mon-Fri 09:00-18:00"]
  closed: after_hours
nodes:
  welcome: {say: "open {{open}}", hangup: true}
  after_hours: {say: "closed {{open}}", hangup: true}
`
	s := parse(t, src)
	if s.Hours.Zone != "UTC" || s.Hours.Closed != "after_hours" {
		t.Errorf("hours %+v", s.Hours)
	}
	c, acts := dial(t, s, CallInfo{Time: thu10})
	wantSpoken(t, acts, "open true")
	c.outcome(OutcomeResolved)
	c, acts = dial(t, s, CallInfo{Time: thu10.Add(10 * time.Hour)})
	wantSpoken(t, acts, "closed false")
	c.outcome(OutcomeAfterHours)

	// Without hours.closed the call starts at start anyway; the script can check {{open}}.
	s = parse(t, strings.Replace(src, "  closed: after_hours\n", "", 1))
	_, acts = dial(t, s, CallInfo{Time: thu10.Add(10 * time.Hour)})
	wantSpoken(t, acts, "open false")

	// The time used is the time the call started: a call is not cut off at closing time.
	s = parse(t, head+`hours: {open: ["Mon-Fri 09:00-18:00"], closed: shut}
intents: {yes: [yes]}
nodes:
  welcome: {say: "Q {{open}}", routes: {yes: more}}
  more: {say: "more {{open}}", hangup: true}
  shut: {say: closed, hangup: true}
`)
	c, _ = dial(t, s, CallInfo{Time: time.Date(2026, 11, 26, 17, 59, 0, 0, time.UTC)})
	wantSpoken(t, c.say("yes"), "more true")
}

func TestHoursBugAfterHoursOutcome(t *testing.T) {
	// docs: outcome after_hours = "the call came in while closed (and no message was left)".
	t.Run("no hours.closed", func(t *testing.T) {
		c, _ := startCallAt(t, head+`hours: {open: ["Mon-Fri 09:00-18:00"]}
nodes:
  welcome: {say: "We are closed, call again tomorrow.", hangup: true}
`, thu10.Add(10*time.Hour))
		if c.state().Outcome != OutcomeAfterHours {
			t.Logf("outcome %q", c.state().Outcome)
			t.Fatal("regression: a call that came in while closed gets outcome resolved, not after_hours, when hours.closed is not set")
		}
	})
	t.Run("node closed", func(t *testing.T) {
		c, _ := startCallAt(t, head+`hours: {open: ["Mon-Fri 09:00-18:00"]}
intents:
  agent: {keywords: [agent], handoff: true}
global: [agent]
nodes:
  welcome: {say: hi, listen: {}}
  agent: {say: person, transfer: "sip:q@pbx.example", closed: take_message}
  take_message: {say: "Leave a message.", record: true, next: bye}
  bye: {say: bye, hangup: true}
`, thu10.Add(10*time.Hour))
		c.say("agent")
		c.at("take_message", WaitRecord)
		c.do(HungUp{})
		if c.state().Outcome != OutcomeAfterHours {
			t.Logf("outcome %q", c.state().Outcome)
			t.Fatal("regression: a closed-hours call sent on by a node's closed: and hung up without a message is abandoned, not after_hours")
		}
	})
}

func startCallAt(t *testing.T, src string, at time.Time) (*call, []Action) {
	t.Helper()
	return dial(t, parse(t, src), CallInfo{Time: at})
}

// ---------------------------------------------------------------------------
// match

func TestMatchOptions(t *testing.T) {
	s := parse(t, head+"intents: {refund: [退款]}\nanswers: {refund: ok}\nnodes: {welcome: {say: Q, listen: {}}}\n")
	if s.Match != (MatchOptions{Threshold: 0.5, Margin: 0, Pinyin: true, Examples: true, MinConfidence: 0}) {
		t.Errorf("match defaults %+v", s.Match)
	}
	s = parse(t, head+`match: {threshold: 0.6, margin: 0.1, pinyin: false, examples: false, min_confidence: 0.4}
intents: {refund: [退款]}
answers: {refund: ok}
nodes: {welcome: {say: Q, listen: {}}}
`)
	if s.Match != (MatchOptions{Threshold: 0.6, Margin: 0.1, Pinyin: false, Examples: false, MinConfidence: 0.4}) {
		t.Errorf("match %+v", s.Match)
	}

	matchOf := func(match, text string) string {
		s := parse(t, head+"match: "+match+`
intents:
  refund: {keywords: [退款], examples: ["我买的东西不想要了"]}
  a1: {examples: ["我想问一下快递的事情"]}
  a2: {examples: ["我想问一下发票的事情"]}
answers: {refund: ok, a1: ok, a2: ok}
nodes: {welcome: {say: Q, listen: {}}}
`)
		r := s.Matcher().Match(text, s.Matcher().All())
		return r.Intent
	}
	for _, c := range []struct{ match, text, want string }{
		{"{}", "退宽", "refund"},                           // pinyin tier, 0.85
		{"{threshold: 0.9}", "退宽", ""},                   // below the threshold
		{"{pinyin: false}", "退宽", ""},                    // tier off
		{"{}", "我买的东西不要了", "refund"},                     // example tier
		{"{examples: false}", "我买的东西不要了", ""},            // tier off
		{"{}", "我想问一下事情", "a1"},                          // two example matches, equally close: first written
		{"{margin: 0.5, threshold: 0.3}", "我想问一下事情", ""}, // closer than the margin: no guess
	} {
		if got := matchOf(c.match, c.text); got != c.want {
			t.Errorf("match %s, %q → %q, want %q", c.match, c.text, got, c.want)
		}
	}

	// min_confidence: recogniser results below it are not understood; 0 means none given.
	s = parse(t, head+"match: {min_confidence: 0.5}\nintents: {yes: [yes]}\nnodes:\n  welcome: {say: Q, routes: {yes: done}}\n  done: {say: ok, hangup: true}\n")
	c, _ := dial(t, s, CallInfo{})
	acts := c.do(Utterance{Text: "yes", Confidence: 0.3})
	if u := heard(t, acts); u.Outcome != "low_confidence" {
		t.Errorf("low confidence: %+v", u)
	}
	wantSpoken(t, acts, "Sorry, I didn't understand.", "Q")
	acts = c.do(Utterance{Text: "yes", Confidence: 0.7})
	wantSpoken(t, acts, "ok")
	c, _ = dial(t, s, CallInfo{})
	wantSpoken(t, c.do(Utterance{Text: "yes"}), "ok")
}

// ---------------------------------------------------------------------------
// intents

func TestIntentFields(t *testing.T) {
	s := parse(t, head+`intents:
  agent:
    keywords: [人工, 客服, 真人, 转人工, agent, operator]
    dtmf: "0"
    handoff: true
  refund:
    keywords: [退款, 退钱, 退货, refund]
    exclude: [不退, no refund]
    examples: ["我买的东西不想要了", "钱什么时候退回来"]
    priority: 1
    description: "money back"
  yes: [是, 是的, 对, 好的, yes, sure]
  keys: {dtmf: ["12", "*", "#", "a"]}
  star: {dtmf: "*9"}
  unhappy: {keywords: [refund], negation: false}
  low: {keywords: [help]}
  high: {keywords: [help], priority: 2}
global: [agent]
answers: {refund: r, yes: y, keys: k, star: s, unhappy: u, low: l, high: h}
nodes:
  welcome: {say: Q, listen: {}}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)
	ag, rf, yes, keys := s.IntentByName("agent"), s.IntentByName("refund"), s.IntentByName("yes"), s.IntentByName("keys")
	if !ag.Handoff || !reflect.DeepEqual(ag.DTMF, []string{"0"}) || len(ag.Keywords) != 6 || !ag.Negation {
		t.Errorf("agent %+v", ag)
	}
	if rf.Priority != 1 || !reflect.DeepEqual(rf.Exclude, []string{"不退", "no refund"}) || len(rf.Examples) != 2 || rf.Handoff {
		t.Errorf("refund %+v", rf)
	}
	if !reflect.DeepEqual(yes.Keywords, []string{"是", "是的", "对", "好的", "yes", "sure"}) {
		t.Errorf("short form: %q", yes.Keywords)
	}
	if !reflect.DeepEqual(keys.DTMF, []string{"12", "*", "#", "A"}) {
		t.Errorf("dtmf list %q", keys.DTMF)
	}
	if s.IntentByName("unhappy").Negation {
		t.Error("negation: false not read")
	}
	m := s.Matcher()
	for _, c := range []struct{ text, want string }{
		{"我要退款", "refund"},
		{"I want a refund", "refund"},
		{"我说了不退了", ""},                    // exclude: 不退
		{"there is no refund", "unhappy"}, // refund excluded (and negated); negation: false keeps unhappy
		{"I do not want a refund", "unhappy"},
		{"钱什么时候能退回来呀", "refund"}, // examples
		{"是的", "yes"},
		{"help", "high"},      // priority
		{"我要退款,转人工", "agent"}, // handoff wins over everything it is found with
		{"I don't want an agent", ""},
		{"不要人工", ""},
	} {
		if r := m.Match(c.text, m.All()); r.Intent != c.want {
			t.Errorf("%q → %q (%s), want %q", c.text, r.Intent, r.Explain(), c.want)
		}
	}
	// dtmf keys choose the intent in listening nodes.
	_, acts := dial(t, s, CallInfo{})
	if l := only[Listen](t, acts); l.MaxDigits != 2 {
		t.Errorf("MaxDigits %d, want 2 (longest key sequence)", l.MaxDigits)
	}
	for _, k := range []struct{ keys, intent, say string }{
		{"12", "keys", "k"}, {"*", "keys", "k"}, {"#", "keys", "k"}, {"A", "keys", "k"}, {"*9", "star", "s"},
		{"12#", "keys", "k"}, {"0", "agent", "person"}, {"7", "", ""},
	} {
		c, _ := dial(t, s, CallInfo{})
		acts := c.keys(k.keys)
		u := heard(t, acts)
		if u.Input != "dtmf" || u.Result.Intent != k.intent {
			t.Errorf("keys %q: intent %q, want %q", k.keys, u.Result.Intent, k.intent)
		}
		if k.say == "" {
			if u.Outcome != "no_match" {
				t.Errorf("keys %q: outcome %q", k.keys, u.Outcome)
			}
			continue
		}
		if got := spoken(acts); len(got) == 0 || got[0] != k.say {
			t.Errorf("keys %q said %q, want %q", k.keys, got, k.say)
		}
	}

	// An intent needs keywords, dtmf or examples.
	if codes := parseErrors(t, head+"intents: {x: {priority: 1}}\nnodes: {welcome: {say: hi, hangup: true}}\n"); !hasCode(codes, "empty-intent") {
		t.Errorf("codes %v", codes)
	}
	// A handoff intent must be listed in global.
	if codes := parseErrors(t, head+"intents: {agent: {keywords: [agent], handoff: true}}\nnodes: {welcome: {say: hi, hangup: true}}\n"); !hasCode(codes, "handoff-not-global") {
		t.Errorf("codes %v", codes)
	}
	// Keys must be keypad keys.
	if codes := parseErrors(t, head+"intents: {x: {dtmf: \"9x\"}}\nnodes: {welcome: {say: hi, hangup: true}}\n"); !hasCode(codes, "bad-dtmf") {
		t.Errorf("codes %v", codes)
	}
}

// ---------------------------------------------------------------------------
// How matching works

func TestMatchingNormalisation(t *testing.T) {
	s := parse(t, head+`intents:
  hours: {keywords: [营业时间, open, opening hours]}
  refund: {keywords: [退款, refund]}
  progress: {keywords: [退款进度]}
  order: {keywords: [订单 123456, 7天无理由, 200 dollars]}
  complain: {keywords: [投诉处理]}
  cannot: {keywords: [can not log in]}
  first: {keywords: [help]}
  second: {keywords: [help]}
  agent: {keywords: [人工, agent], handoff: true}
  look: {keywords: [一下]}
global: [agent]
answers: {hours: a, refund: a, progress: a, order: a, complain: a, cannot: a, first: a, second: a, look: a}
nodes: {welcome: {say: Q, listen: {}}, agent: {say: person, transfer: "sip:q@pbx.example"}}
`)
	m := s.Matcher()
	for _, c := range []struct {
		text, intent, tier string
		score              float64
	}{
		{"營業時間是幾點", "hours", "keyword", 1},     // Traditional → Simplified
		{"ＯＰＥＮ today?", "hours", "keyword", 1}, // NFKC, lower case
		{"what are your opening hours", "hours", "keyword", 1},
		{"refunds", "refund", "keyword", 1}, // stemming
		{"refunded", "refund", "keyword", 1},
		{"订单一二三四五六", "order", "keyword", 1}, // number words to digits
		{"七天无理由", "order", "keyword", 1},
		{"two hundred dollars", "order", "keyword", 1},
		{"我看一下", "look", "keyword", 1},             // a lone numeral stays a word
		{"I can't log in", "cannot", "keyword", 1}, // contractions
		{"退宽", "refund", "pinyin", 0.85},           // homophone
		{"投处理", "complain", "pinyin", 0.70},        // one character of four missing
		{"退款进度查询", "progress", "keyword", 1},       // the longer keyword wins
		{"help", "first", "keyword", 1},            // equal: the intent written first
		{"不要退款,转人工", "agent", "keyword", 1},        // only the nearest keyword after a refusal is negated
		{"不要人工", "", "none", 0},
		{"I do not need an agent", "", "none", 0},
		{"purple elephants", "", "none", 0},
	} {
		r := m.Match(c.text, m.All())
		if r.Intent != c.intent || r.Tier.String() != c.tier || (c.intent != "" && !approx(r.Score, c.score)) {
			t.Errorf("%q → %q %s %.2f, want %q %s %.2f (%s)", c.text, r.Intent, r.Tier, r.Score, c.intent, c.tier, c.score, r.Explain())
		}
	}
	if r := m.MatchDigits("0", m.All()); r.Matched() {
		t.Errorf("no intent has key 0, matched %q", r.Intent)
	}
}

func approx(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 }

// ---------------------------------------------------------------------------
// synonyms

func TestSynonyms(t *testing.T) {
	for _, form := range []string{
		"synonyms:\n  订单: [单子, 订单号]\n  bill: [invoice, statement]\n",
		"synonyms:\n  - [订单, 单子, 订单号]\n  - [bill, invoice, statement]\n",
	} {
		s := parse(t, head+form+"intents:\n  order: [查订单, check bill]\nanswers: {order: ok}\nnodes: {welcome: {say: Q, listen: {}}}\n")
		if len(s.Synonyms) != 2 || len(s.Synonyms[0]) != 3 {
			t.Errorf("synonyms %q", s.Synonyms)
		}
		m := s.Matcher()
		for _, text := range []string{"查订单", "查单子", "查订单号", "check invoice", "check statement", "check bill"} {
			if r := m.Match(text, m.All()); r.Intent != "order" {
				t.Errorf("%s: %q → %q", form, text, r.Intent)
			}
		}
		if r := m.Match("查发票", m.All()); r.Matched() {
			t.Errorf("%q matched %q", "查发票", r.Intent)
		}
	}
	if codes := parseErrors(t, head+"synonyms: [[only]]\nnodes: {welcome: {say: hi, hangup: true}}\n"); !hasCode(codes, "short-synonyms") {
		t.Errorf("codes %v", codes)
	}
}

// ---------------------------------------------------------------------------
// global

func TestGlobal(t *testing.T) {
	const intents = `intents:
  agent: {keywords: [agent], handoff: true}
  repeat: [repeat, say again]
  goodbye: [goodbye, bye]
  yes: [yes]
`
	t.Run("list form", func(t *testing.T) {
		s := parse(t, head+intents+`global: [agent, repeat, goodbye]
nodes:
  welcome: {say: "First question?", routes: {yes: second}}
  second: {say: "Second question?", listen: {}}
  agent: {say: person, transfer: "sip:q@pbx.example"}
  goodbye: {say: bye, hangup: true}
`)
		want := []Route{{Intent: "agent", Target: "agent"}, {Intent: "repeat", Target: TargetRepeat}, {Intent: "goodbye", Target: "goodbye"}}
		for i := range s.Global {
			s.Global[i].Pos = Pos{}
		}
		if !reflect.DeepEqual(s.Global, want) {
			t.Errorf("global %+v", s.Global)
		}
		c, _ := dial(t, s, CallInfo{})
		wantSpoken(t, c.say("purple"), "Sorry, I didn't understand.", "First question?")
		// $repeat: the last prompt again, listen again, no miss counted.
		acts := c.say("can you say again")
		wantSpoken(t, acts, "First question?")
		if kinds(acts) != "Understood Say Listen" {
			t.Errorf("repeat: %s", kinds(acts))
		}
		if st := c.state(); st.NoMatch != 1 || st.NoInput != 0 {
			t.Errorf("repeat counted a miss: %d/%d", st.NoMatch, st.NoInput)
		}
		c.say("yes")
		c.at("second", WaitInput)
		// Global intents are active in every listening node.
		c.say("bye")
		c.outcome(OutcomeResolved)
	})
	t.Run("list form with a node called repeat", func(t *testing.T) {
		s := parse(t, head+intents+`global: [agent, repeat]
nodes:
  welcome: {say: Q, listen: {}}
  repeat: {say: "my own repeat", hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)
		c, _ := dial(t, s, CallInfo{})
		wantSpoken(t, c.say("repeat"), "my own repeat")
	})
	t.Run("mapping form", func(t *testing.T) {
		s := parse(t, head+intents+`global: {agent: agent, repeat: $repeat, goodbye: farewell}
nodes:
  welcome: {say: Q, routes: {goodbye: $repeat}}
  other: {say: O, listen: {}}
  agent: {say: person, transfer: "sip:q@pbx.example"}
  farewell: {say: "Bye now.", hangup: true}
`)
		c, _ := dial(t, s, CallInfo{})
		// The route wins over the global route.
		wantSpoken(t, c.say("goodbye"), "Q")
		c.at("welcome", WaitInput)
		wantSpoken(t, c.say("repeat please"), "Q")
		acts := c.say("agent")
		wantSpoken(t, acts, "person")
		c.at("agent", WaitTransfer)
	})
	t.Run("active while collecting", func(t *testing.T) {
		s := parse(t, head+intents+`global: {agent: agent, repeat: $repeat, goodbye: farewell}
nodes:
  welcome: {say: "Your number?", collect: {into: n}, next: farewell}
  agent: {say: person, transfer: "sip:q@pbx.example"}
  farewell: {say: "Bye now.", hangup: true}
`)
		c, _ := dial(t, s, CallInfo{})
		acts := c.say("say again")
		wantSpoken(t, acts, "Your number?")
		if kinds(acts) != "Understood Say CollectDigits" {
			t.Errorf("repeat while collecting: %s", kinds(acts))
		}
		wantSpoken(t, c.say("goodbye"), "Bye now.")
	})
}

// ---------------------------------------------------------------------------
// answers

func TestAnswers(t *testing.T) {
	const src = head + `intents:
  hours: [hours]
  address: [address]
  refund: [refund]
  price: [price]
  yes: [yes]
  agent: {keywords: [agent], handoff: true}
global: [agent]
answers:
  hours: "We are open Monday to Friday, nine to six."
  address: ["We are at 1 Main Street.", {audio: prompts/map.wav, text: "Here is how to find us."}]
  refund: {say: "Refunds take three to five working days.", tag: refund, next: refund_menu}
  price: {audio: prompts/price.wav, text: "Prices are on the website."}
  yes: "an answer for yes"
  agent: "an answer for agent"
after_answer: anything_else
nodes:
  welcome: {say: "How can I help?", listen: {}}
  yesno: {say: "Yes or no?", routes: {yes: welcome}, answers: false}
  anything_else: {say: "Anything else?", listen: {}}
  refund_menu: {say: "Refund menu.", hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`
	s := parse(t, src)
	if a := s.Answers["refund"]; a.Next != "refund_menu" || a.Tag == nil || !reflect.DeepEqual(a.Tag.Tags, []string{"refund"}) {
		t.Errorf("answer refund %+v", a)
	}
	for _, c := range []struct {
		say  string
		want []string
		node string
	}{
		{"hours", []string{"We are open Monday to Friday, nine to six.", "Anything else?"}, "anything_else"},
		{"address", []string{"We are at 1 Main Street.", "<prompts/map.wav>Here is how to find us.", "Anything else?"}, "anything_else"},
		{"price", []string{"<prompts/price.wav>Prices are on the website.", "Anything else?"}, "anything_else"},
		{"refund", []string{"Refunds take three to five working days.", "Refund menu."}, "refund_menu"}, // next beats after_answer
		{"agent", []string{"person"}, "agent"}, // the global route beats the answer
	} {
		c0, _ := dial(t, s, CallInfo{})
		acts := c0.say(c.say)
		wantSpoken(t, acts, c.want...)
		if st := c0.state(); st.Node != c.node {
			t.Errorf("%s: at %s, want %s", c.say, st.Node, c.node)
		}
		if c.say == "refund" {
			if tg := only[Tag](t, acts); !reflect.DeepEqual(tg.Tags, []string{"refund"}) {
				t.Errorf("answer tag %+v", tg)
			}
			if st := c0.state(); !reflect.DeepEqual(st.Tags, []string{"refund"}) {
				t.Errorf("tags %v", st.Tags)
			}
		}
	}
	// answers: false turns the library off; the node's routes still work.
	c, _ := dial(t, s, CallInfo{})
	c.se, _ = Restore(s, State{Node: "yesno", Wait: WaitInput, Vars: map[string]any{}})
	acts := c.say("hours")
	if u := heard(t, acts); u.Outcome != "no_match" {
		t.Errorf("answers: false still answered: %+v", u)
	}
	wantSpoken(t, acts, "Sorry, I didn't understand.", "Yes or no?")
	wantSpoken(t, c.say("yes"), "How can I help?")

	// Without after_answer (and no next) the bot stays and listens again.
	s = parse(t, strings.Replace(src, "after_answer: anything_else\n", "", 1))
	c, _ = dial(t, s, CallInfo{})
	c.silence() // a miss first: the answer still keeps the caller in this node
	acts = c.say("hours")
	if kinds(acts) != "Understood Say Listen" {
		t.Errorf("answer without after_answer: %s", kinds(acts))
	}
	wantSpoken(t, acts, "We are open Monday to Friday, nine to six.")
	c.at("welcome", WaitInput)
	// An answered call whose caller then hangs up is resolved.
	c.do(HungUp{})
	c.outcome(OutcomeResolved)

	// Answer errors.
	for _, c := range []struct{ answers, code string }{
		{"answers: {nope: hi}", "unknown-intent"},
		{"answers: {hours: []}", "empty-answer"},
		{"answers: {hours: {say: hi, next: nowhere}}", "unknown-node"},
		{"answers: {hours: {say: hi, tag: {grade: Q}}}", "bad-grade"},
	} {
		codes := parseErrors(t, head+"intents: {hours: [hours]}\n"+c.answers+"\nnodes: {welcome: {say: Q, listen: {}}}\n")
		if !hasCode(codes, c.code) {
			t.Errorf("%s: codes %v, want %s", c.answers, codes, c.code)
		}
	}
}

// ---------------------------------------------------------------------------
// nodes: say, reprompt

func TestSay(t *testing.T) {
	c, acts := startCall(t, head+`intents: {yes: [yes]}
nodes:
  welcome:
    say: ["{{greeting}}!", {audio: prompts/jingle.wav}, "How can I help?"]
    reprompt: "Yes, or no?"
    routes: {yes: text}
  text: {say: "Your order {{order | spell}} has shipped.", set: {order: "123"}, next: audio}
  audio: {say: {audio: prompts/welcome.wav, text: "Welcome to Acme."}, hangup: true}
`)
	if kinds(acts) != "Say Play Say Listen" {
		t.Errorf("list prompt: %s", kinds(acts))
	}
	wantSpoken(t, acts, "Good morning!", "<prompts/jingle.wav>", "How can I help?")
	for _, a := range acts {
		if sy, ok := a.(Say); ok && !sy.BargeIn {
			t.Error("a listening node's prompt may be interrupted (barge_in default true)")
		}
		if p, ok := a.(Play); ok && (!p.BargeIn || p.File != "prompts/jingle.wav" || p.Text != "") {
			t.Errorf("play %+v", p)
		}
	}
	// reprompt after a miss, instead of the full say.
	wantSpoken(t, c.silence(), "Sorry, I didn't hear anything.", "Yes, or no?")
	acts = c.say("yes")
	wantSpoken(t, acts, "Your order 1 2 3 has shipped.", "<prompts/welcome.wav>Welcome to Acme.")
	for _, a := range acts {
		if sy, ok := a.(Say); ok && sy.BargeIn {
			t.Error("a prompt of a node that does not listen cannot be interrupted")
		}
	}
	// listen barge_in: false reaches the prompt.
	_, acts = startCall(t, head+"intents: {yes: [yes]}\nnodes: {welcome: {say: Q, listen: {barge_in: false}, routes: {yes: welcome}}}\n")
	if only[Say](t, acts).BargeIn || only[Listen](t, acts).BargeIn {
		t.Error("barge_in: false")
	}
	// Without reprompt, the full say is repeated after a miss.
	c, _ = startCall(t, head+"intents: {yes: [yes]}\nnodes: {welcome: {say: [A, B], routes: {yes: welcome}}}\n")
	wantSpoken(t, c.say("purple"), "Sorry, I didn't understand.", "A", "B")
	// Errors.
	for _, c := range []struct{ say, code string }{
		{"say: {}", "empty-say"},
		{"say: {audio: \"\", text: x}", "bad-audio"},
		{"say: {words: x}", "unknown-field"},
		{"say: {txt: x}", "unknown-field-suggest"},
		{"say: \"{{x\"", "bad-template"},
	} {
		codes := parseErrors(t, head+"nodes:\n  welcome: {"+c.say+", hangup: true}\n")
		if !hasCode(codes, c.code) {
			t.Errorf("%s: codes %v, want %s", c.say, codes, c.code)
		}
	}
}

// ---------------------------------------------------------------------------
// listen and routes

func TestListenAndRoutes(t *testing.T) {
	const src = head + `intents:
  billing: {keywords: [billing], dtmf: "1"}
  outage: {keywords: [outage, outages], dtmf: "2"}
  moving: {keywords: [moving], dtmf: "3"}
  agent: {keywords: [agent], handoff: true}
global: [agent]
nodes:
  welcome:
    say: "Say billing, outages or moving home. Or press 1, 2 or 3."
    reprompt: "Billing, outages, or moving?"
    listen: {timeout: 8s, max_speech: 20s, end_silence: 1s, digit_timeout: 2s, barge_in: true, input: [speech, dtmf]}
    routes: {billing: billing, outage: outages, moving: moving, agent: $repeat}
    answers: false
  billing: {say: billing, hangup: true}
  outages: {say: outages, hangup: true}
  moving: {say: moving, hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`
	s := parse(t, src)
	nd := s.Nodes["welcome"]
	if nd.Answers || len(nd.Routes) != 4 || nd.Routes[3].Target != TargetRepeat {
		t.Errorf("node %+v", nd)
	}
	c, acts := dial(t, s, CallInfo{})
	l := only[Listen](t, acts)
	if l.Timeout != 8*time.Second || l.MaxSpeech != 20*time.Second || l.EndSilence != time.Second ||
		l.DigitTimeout != 2*time.Second || !l.BargeIn || !l.Speech || !l.DTMF {
		t.Errorf("listen %+v", l)
	}
	// Route beats the global route: agent repeats here.
	wantSpoken(t, c.say("agent"), "Say billing, outages or moving home. Or press 1, 2 or 3.")
	wantSpoken(t, c.keys("2"), "outages")

	// A node with routes listens even without listen:.
	_, acts = startCall(t, head+"intents: {yes: [yes]}\nnodes: {welcome: {say: Q, routes: {yes: welcome}}}\n")
	if kinds(acts) != "Say Listen" {
		t.Errorf("routes without listen: %s", kinds(acts))
	}

	// input: which inputs are accepted.
	s = parse(t, head+`intents: {yes: {keywords: [yes], dtmf: "1"}}
nodes:
  welcome: {say: Q, listen: {input: [speech]}, routes: {yes: done}}
  keys: {say: K, listen: {input: [dtmf]}, routes: {yes: done}}
  done: {say: done, hangup: true}
`)
	c, acts = dial(t, s, CallInfo{})
	if l := only[Listen](t, acts); !l.Speech || l.DTMF {
		t.Errorf("input [speech]: %+v", l)
	}
	if acts := c.keys("1"); acts != nil {
		t.Errorf("keys at a speech-only node: %s", kinds(acts))
	}
	c.at("welcome", WaitInput)
	t.Run("speech at a dtmf-only node", func(t *testing.T) {
		c, _ := dial(t, s, CallInfo{})
		c.se, _ = Restore(s, State{Node: "keys", Wait: WaitInput, Vars: map[string]any{}})
		if acts := c.say("yes"); acts != nil {
			t.Logf("speech at a dtmf-only node: %s %q", kinds(acts), spoken(acts))
			t.Fatal("regression: listen input: [dtmf] still accepts an Utterance (keys at an input: [speech] node are ignored)")
		}
	})

	// Listen ranges.
	for _, c := range []struct {
		listen string
		ok     bool
	}{
		{"timeout: 1s", true}, {"timeout: 1m", true}, {"timeout: 999ms", false}, {"timeout: 61s", false},
		{"max_speech: 2m", true}, {"max_speech: 121s", false},
		{"end_silence: 100ms", true}, {"end_silence: 5s", true}, {"end_silence: 99ms", false}, {"end_silence: 5001ms", false},
		{"digit_timeout: 500ms", true}, {"digit_timeout: 30s", true}, {"digit_timeout: 499ms", false},
		{"timeout: 1m30s", false}, {"max_speech: 1m30s", true},
		{"input: [dtmf]", true}, {"input: []", false}, {"input: [keys]", false},
	} {
		src := head + "intents: {yes: [yes]}\nnodes: {welcome: {say: Q, listen: {" + c.listen + "}, routes: {yes: welcome}}}\n"
		_, err := Parse("t.yaml", []byte(src))
		if (err == nil) != c.ok {
			t.Errorf("listen {%s}: err = %v, want ok=%v", c.listen, err, c.ok)
		}
	}
}

// ---------------------------------------------------------------------------
// collect

const collectScript = head + `intents:
  agent: {keywords: [agent], dtmf: "0", handoff: true}
global: [agent]
nodes:
  welcome:
    say: "Please key in your order number, then press hash."
    collect:
      into: order
      digits: {min: 6, max: 12, end: "#", inter_digit: 5s, timeout: 8s}
      speech: true                     # "one two three four five six" works too
      pattern: '^[1-9][0-9]{5,11}$'
      invalid: "That doesn't look like an order number."
    next: order_lookup
  order_lookup: {say: "Order {{order}}.", hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`

func TestCollect(t *testing.T) {
	s := parse(t, collectScript)
	_, acts := dial(t, s, CallInfo{})
	cd := only[CollectDigits](t, acts)
	want := CollectDigits{Var: "order", Min: 6, Max: 12, End: "#", Timeout: 8 * time.Second, InterDigit: 5 * time.Second,
		Speech: true, DTMF: true, BargeIn: true}
	if !reflect.DeepEqual(cd, want) {
		t.Errorf("collect %+v\nwant    %+v", cd, want)
	}
	const invalid = "That doesn't look like an order number."
	const prompt = "Please key in your order number, then press hash."
	for _, c := range []struct {
		name  string
		ev    Event
		order string // "" → invalid
	}{
		{"keys with end key", Digits{Keys: "123456#"}, "123456"},
		{"keys without end key", Digits{Keys: "123456789012"}, "123456789012"},
		{"end key is not part of the value", Digits{Keys: "1234567#89"}, "1234567"},
		{"too short", Digits{Keys: "12345#"}, ""},
		{"too long", Digits{Keys: "1234567890123#"}, ""},
		{"pattern", Digits{Keys: "012345#"}, ""},
		{"no digits", Digits{Keys: "#"}, ""},
		{"keys are data: 0 is a digit, not agent", Digits{Keys: "0"}, ""},
		{"spoken", Utterance{Text: "one two three four five six"}, "123456"},
		{"spoken double", Utterance{Text: "double five one two three four"}, "551234"},
		{"spoken Chinese with 幺", Utterance{Text: "幺三八一二三四"}, "1381234"},
		{"spoken nonsense", Utterance{Text: "purple"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			call, _ := dial(t, s, CallInfo{})
			acts := call.do(c.ev)
			u := heard(t, acts)
			if c.order == "" {
				if u.Outcome != "invalid" {
					t.Errorf("outcome %q, want invalid", u.Outcome)
				}
				wantSpoken(t, acts, invalid, prompt)
				if st := call.state(); st.NoMatch != 1 || st.Node != "welcome" {
					t.Errorf("a wrong number is a no-match miss: %+v", st)
				}
				return
			}
			if u.Outcome != "collected" {
				t.Errorf("outcome %q (%s)", u.Outcome, u.Result.Reason)
			}
			wantSpoken(t, acts, "Order "+c.order+".")
			call.vars(map[string]string{"order": c.order})
		})
	}
	// Wrong numbers escalate like other no-match misses; handoff by speech wins at once.
	call, _ := dial(t, s, CallInfo{})
	call.keys("1#")
	call.keys("2#")
	call.keys("3#")
	call.outcome(OutcomeUnresolved)
	call.vars(map[string]string{"escalation": "no_match"})

	call, _ = dial(t, s, CallInfo{})
	call.keys("1#")
	call.keys("2#")
	acts = call.say("agent please")
	wantSpoken(t, acts, "person")
	call.at("agent", WaitTransfer)
}

func TestCollectOptions(t *testing.T) {
	t.Run("defaults: speech false, dtmf true, invalid is no_match", func(t *testing.T) {
		c, acts := startCall(t, head+`intents: {agent: {keywords: [agent], handoff: true}}
global: [agent]
nodes:
  welcome: {say: "Number?", collect: {into: n}, no_match: ["Not a number."], next: done}
  done: {say: "Got {{n}}.", hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)
		cd := only[CollectDigits](t, acts)
		if cd.Speech || !cd.DTMF || cd.Min != 1 || cd.Max != 20 || cd.End != "#" {
			t.Errorf("collect %+v", cd)
		}
		acts = c.say("one two three")
		if u := heard(t, acts); u.Outcome != "no_match" {
			t.Errorf("speech is off by default: %+v", u)
		}
		wantSpoken(t, acts, "Not a number.", "Number?")
		// ...but speech still reaches the global intents.
		wantSpoken(t, c.say("get me an agent"), "person")
		c, _ = startCall(t, head+"nodes:\n  welcome: {say: \"Number?\", collect: {into: n, digits: {min: 2}}, next: done}\n  done: {say: ok, hangup: true}\n")
		wantSpoken(t, c.keys("1#"), "Sorry, I didn't understand.", "Number?")
	})
	t.Run("dtmf false", func(t *testing.T) {
		c, acts := startCall(t, head+"nodes:\n  welcome: {say: \"Say it.\", collect: {into: n, dtmf: false, speech: true}, next: done}\n  done: {say: \"Got {{n}}.\", hangup: true}\n")
		if cd := only[CollectDigits](t, acts); cd.DTMF || !cd.Speech {
			t.Errorf("collect %+v", cd)
		}
		if acts := c.keys("42#"); acts != nil {
			t.Errorf("keys accepted with dtmf: false: %s", kinds(acts))
		}
		wantSpoken(t, c.say("four two"), "Got 42.")
	})
	t.Run("no end key, barge_in false", func(t *testing.T) {
		_, acts := startCall(t, head+"nodes:\n  welcome: {say: \"Number?\", collect: {into: n, digits: {end: \"\"}, barge_in: false}, next: done}\n  done: {say: ok, hangup: true}\n")
		cd := only[CollectDigits](t, acts)
		if cd.End != "" || cd.BargeIn || only[Say](t, acts).BargeIn {
			t.Errorf("collect %+v", cd)
		}
	})
	t.Run("ranges and errors", func(t *testing.T) {
		for _, c := range []struct {
			collect string
			code    string // "" → loads
		}{
			{"{into: n, digits: {min: 1, max: 64}}", ""},
			{"{into: n, digits: {min: 0}}", "out-of-range"},
			{"{into: n, digits: {max: 65}}", "out-of-range"},
			{"{into: n, digits: {min: 7, max: 6}}", "min-max"},
			{"{into: n, digits: {end: \"*\"}}", ""},
			{"{into: n, digits: {end: \"ab\"}}", "bad-end-key"},
			{"{into: n, digits: {inter_digit: 200ms}}", "out-of-range"},
			{"{into: n, pattern: \"(\"}", "bad-pattern"},
			{"{speech: true}", "missing-field"},
			{"{into: n, dtmf: false}", "no-input-kind"},
			{"{into: N}", "bad-var"},
			{"{into: caller}", "builtin-var"},
			{"{into: n, invalid: {}}", "empty-say"},
		} {
			src := head + "nodes:\n  welcome: {say: Q, collect: " + c.collect + ", next: done}\n  done: {say: ok, hangup: true}\n"
			if c.code == "" {
				parse(t, src)
				continue
			}
			if codes := parseErrors(t, src); !hasCode(codes, c.code) {
				t.Errorf("collect %s: codes %v, want %s", c.collect, codes, c.code)
			}
		}
	})
}

func TestHandoffDuringCollect(t *testing.T) {
	// handoff "wins over every other match it is found with, in every node (also while collecting digits, by speech)".
	s := parse(t, head+`intents:
  agent: {keywords: [agent, 人工], dtmf: "0", handoff: true}
  repeat: [repeat]
global: [agent, repeat]
nodes:
  welcome: {say: "Account number?", collect: {into: account, digits: {min: 4}}, retries: 0, next: done}
  done: {say: "Thanks.", hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)
	c, _ := dial(t, s, CallInfo{})
	acts := c.say("repeat that and then get me an agent")
	u := heard(t, acts)
	if u.Result.Intent != "agent" || u.Outcome != "matched" {
		t.Errorf("understood %+v", u)
	}
	c.at("agent", WaitTransfer)
	c.vars(map[string]string{"last_intent": "agent"})
	// Keys stay data: 0 is a digit.
	c, _ = dial(t, s, CallInfo{})
	acts = c.keys("0000")
	wantSpoken(t, acts, "Thanks.")
	c.vars(map[string]string{"account": "0000"})
}

// ---------------------------------------------------------------------------
// http

func TestHTTPMethodsAndFields(t *testing.T) {
	for _, c := range []struct{ http, method string }{
		{`get: "https://crm.example/x"`, "GET"},
		{`post: "https://crm.example/x"`, "POST"},
		{`put: "https://crm.example/x"`, "PUT"},
		{`patch: "https://crm.example/x"`, "PATCH"},
		{`delete: "https://crm.example/x"`, "DELETE"},
		{`url: "https://crm.example/x"`, "GET"},
		{`url: "https://crm.example/x", method: POST`, "POST"},
		{`method: DELETE, url: "https://crm.example/x"`, "DELETE"},
		{`url: "http://crm.example/x", method: PATCH`, "PATCH"},
	} {
		_, acts := startCall(t, head+"nodes:\n  welcome: {http: {"+c.http+"}, next: done}\n  done: {say: ok, hangup: true}\n")
		req := only[HTTPRequest](t, acts)
		if req.Method != c.method || !strings.HasSuffix(req.URL, "://crm.example/x") || req.Timeout != 3*time.Second || req.Body != nil || req.Headers != nil {
			t.Errorf("http {%s}: %+v", c.http, req)
		}
	}
	c, acts := startCall(t, head+`nodes:
  welcome:
    set: {token: "s3cr3t"}
    http:
      post: "https://crm.example/orders/{{caller}}"
      headers: {Authorization: "Bearer {{token}}", X-Call: "{{call_id}}"}
      body: {caller: "{{caller}}", count: 3, ratio: 0.5, vip: true, note: null, tags: [a, "{{channel}}"], nested: {id: "id-{{caller}}"}}
      timeout: 2s
      into: result
    say: "Status {{result.status}}, first item {{result.items.0.name}}, code {{http_status}}."
    next: done
  done: {say: bye, hangup: true}
`)
	req := only[HTTPRequest](t, acts)
	if req.URL != "https://crm.example/orders/13800138000" || req.Timeout != 2*time.Second {
		t.Errorf("request %+v", req)
	}
	if !reflect.DeepEqual(req.Headers, []HeaderValue{{"Authorization", "Bearer s3cr3t"}, {"X-Call", "call-1"}}) {
		t.Errorf("headers %+v", req.Headers)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	wantBody := map[string]any{"caller": "13800138000", "count": 3.0, "ratio": 0.5, "vip": true, "note": nil,
		"tags": []any{"a", "test"}, "nested": map[string]any{"id": "id-13800138000"}}
	if !reflect.DeepEqual(body, wantBody) {
		t.Errorf("body %s", req.Body)
	}
	// The prompt comes after the answer, and can use it.
	if len(spoken(acts)) != 0 {
		t.Errorf("said before the answer: %q", spoken(acts))
	}
	c.at("welcome", WaitHTTP)
	acts = c.do(HTTPResult{Status: 200, Body: []byte(`{"status": "shipped", "items": [{"name": "pen"}]}`)})
	wantSpoken(t, acts, "Status shipped, first item pen, code 200.", "bye")
}

func TestHTTPResults(t *testing.T) {
	const src = head + `defaults: {escalate: fallback}
nodes:
  welcome: {branch: {on: "{{go}}", cases: {plain: plain, own_escalation: own_escalation}, default: first}}
  first:
    http:
      get: "https://crm.example/orders/1"
      into: result
      on_error: agent
      on_status: {404: order_not_found, 200: exactly_200}
    say: "Got {{result}}."
    next: done
  plain:
    http: {get: "https://crm.example/orders/2", into: result}
    say: "Got {{result.status}} {{http_status}}."
    next: done
  own_escalation:
    http: {get: "https://crm.example/orders/3"}
    escalate: own
    next: done
  order_not_found: {say: "Not found ({{http_status}}).", hangup: true}
  exactly_200: {say: "Exactly 200.", hangup: true}
  agent: {say: "Agent ({{http_status}}).", hangup: true}
  fallback: {say: "Fallback ({{http_status}}).", hangup: true}
  own: {say: "Own.", hangup: true}
  done: {say: "Done.", hangup: true}
`
	s := parse(t, src)
	for _, c := range []struct {
		node string
		res  HTTPResult
		want []string
	}{
		{"first", HTTPResult{Status: 404}, []string{"Not found (404)."}},
		{"first", HTTPResult{Status: 200, Body: []byte(`{}`)}, []string{"Exactly 200."}}, // on_status first, also 2xx
		{"first", HTTPResult{Status: 201, Body: []byte(`plain text`)}, []string{"Got plain text.", "Done."}},
		{"first", HTTPResult{Status: 500}, []string{"Agent (500)."}},
		{"first", HTTPResult{Status: 302}, []string{"Agent (302)."}},
		{"first", HTTPResult{Err: "timeout"}, []string{"Agent (0)."}},
		{"plain", HTTPResult{Status: 204, Body: []byte(`{"status":"ok"}`)}, []string{"Got ok 204.", "Done."}},
		{"plain", HTTPResult{Status: 503}, []string{"Fallback (503)."}},
		{"own_escalation", HTTPResult{Status: 500}, []string{"Own."}},
	} {
		c0, acts := dial(t, s, CallInfo{Vars: map[string]any{"go": c.node}})
		if kinds(acts) != "HTTPRequest" {
			t.Fatalf("%s: %s", c.node, kinds(acts))
		}
		acts = c0.do(c.res)
		wantSpoken(t, acts, c.want...)
	}
	// Without on_error or escalation: apology, hang up, outcome error.
	c, _ := startCall(t, head+"nodes:\n  welcome: {http: {get: \"https://crm.example/x\"}, say: hi, next: done}\n  done: {say: bye, hangup: true}\n")
	acts := c.do(HTTPResult{Status: 500})
	if kinds(acts) != "Say Hangup" {
		t.Errorf("failure with nowhere to go: %s", kinds(acts))
	}
	if got := spoken(acts); len(got) != 1 || !strings.HasPrefix(got[0], "Sorry") {
		t.Errorf("no apology: %q", got)
	}
	c.outcome(OutcomeError)

	// Field errors.
	for _, c := range []struct{ http, code string }{
		{`get: "ftp://x"`, "bad-url"},
		{`url: "https://x", method: FETCH`, "bad-method"},
		{`get: "https://x", post: "https://y"`, "two-urls"},
		{`method: GET`, "missing-field"},
		{`get: "https://x", on_status: {"20x": done}`, "bad-status"},
		{`get: "https://x", on_status: {700: done}`, "bad-status"},
		{`get: "https://x", headers: {"Bad Name": x}`, "bad-header"},
		{`get: "https://x", timeout: 31s`, "out-of-range"},
		{`get: "https://x", timeout: 99ms`, "out-of-range"},
		{`get: "https://x", into: http_status`, "builtin-var"},
		{`get: "https://x", on_error: nowhere`, "unknown-node"},
	} {
		src := head + "nodes:\n  welcome: {http: {" + c.http + "}, next: done}\n  done: {say: ok, hangup: true}\n"
		if codes := parseErrors(t, src); !hasCode(codes, c.code) {
			t.Errorf("http {%s}: codes %v, want %s", c.http, codes, c.code)
		}
	}
	parse(t, head+"nodes:\n  welcome: {http: {get: \"https://x\", timeout: 100ms}, next: done}\n  done: {say: ok, hangup: true}\n")
	parse(t, head+"nodes:\n  welcome: {http: {get: \"https://x\", timeout: 30s}, next: done}\n  done: {say: ok, hangup: true}\n")
}

// ---------------------------------------------------------------------------
// branch

func TestBranch(t *testing.T) {
	s := parse(t, head+`nodes:
  welcome:
    branch:
      on: "{{status}}"
      cases: {shipped: say_shipped, delivered: say_delivered, "/^(lost|damaged)$/": agent, "/^del/": never}
      default: say_unknown
  say_shipped: {say: shipped, hangup: true}
  say_delivered: {say: delivered, hangup: true}
  agent: {say: agent, hangup: true}
  never: {say: never, hangup: true}
  say_unknown: {say: unknown, hangup: true}
`)
	for _, c := range []struct{ status, want string }{
		{"shipped", "shipped"},
		{"delivered", "delivered"}, // the first case that matches wins
		{"lost", "agent"},
		{"damaged", "agent"},
		{"lost!", "unknown"},
		{"deleted", "never"},
		{"Shipped", "unknown"},
		{"", "unknown"},
	} {
		_, acts := dial(t, s, CallInfo{Vars: map[string]any{"status": c.status}})
		wantSpoken(t, acts, c.want)
	}
	if codes := parseErrors(t, head+"nodes:\n  welcome: {branch: {on: \"{{x}}\", cases: {a: done}}}\n  done: {say: ok, hangup: true}\n"); !hasCode(codes, "missing-field") {
		t.Errorf("default is required: %v", codes)
	}
	if codes := parseErrors(t, head+"nodes:\n  welcome: {branch: {on: \"{{x}}\", cases: {\"/[/\": done}, default: done}}\n  done: {say: ok, hangup: true}\n"); !hasCode(codes, "bad-pattern") {
		t.Errorf("bad /regex/: %v", codes)
	}
}

// ---------------------------------------------------------------------------
// transfer

func TestTransfer(t *testing.T) {
	t.Run("short form", func(t *testing.T) {
		c, acts := startCall(t, head+"nodes:\n  welcome: {say: \"Putting you through.\", transfer: \"sip:queue@pbx.example\"}\n")
		tr := only[Transfer](t, acts)
		if !reflect.DeepEqual(tr, Transfer{To: "sip:queue@pbx.example", Mode: "blind", Timeout: 30 * time.Second}) {
			t.Errorf("transfer %+v", tr)
		}
		if kinds(acts) != "Say Transfer" {
			t.Errorf("actions %s", kinds(acts))
		}
		c.at("welcome", WaitTransfer)
		// Without on_fail the bot apologises and hangs up.
		acts = c.do(TransferFailed{Code: 480})
		if kinds(acts) != "Say Hangup" || !strings.HasPrefix(spoken(acts)[0], "Sorry") {
			t.Errorf("failed without on_fail: %s %q", kinds(acts), spoken(acts))
		}
		c.vars(map[string]string{"transfer_code": "480"})
	})
	t.Run("all fields", func(t *testing.T) {
		c, acts := dial(t, parse(t, head+`intents: {agent: {keywords: [agent], handoff: true}}
global: [agent]
nodes:
  welcome: {say: hi, listen: {}}
  agent:
    say: "Putting you through to a person, please hold."
    transfer:
      to: "sip:{{queue}}@pbx.example"
      mode: bridge
      headers: {X-Hotline-Intent: "{{last_intent}}", X-Order: "{{order}}"}
      timeout: 1m30s
      whisper: "Caller {{caller}} about {{last_intent}}."
      on_fail: take_message
  take_message: {say: "Code {{transfer_code}}.", record: true, next: bye}
  bye: {say: bye, hangup: true}
`), CallInfo{Caller: "555", Vars: map[string]any{"queue": "sales", "order": "A1\r\nX-Evil: 1\x00\x7f"}})
		_ = acts
		acts = c.say("agent")
		tr := only[Transfer](t, acts)
		want := Transfer{To: "sip:sales@pbx.example", Mode: "bridge", Timeout: 90 * time.Second,
			Headers: []HeaderValue{{"X-Hotline-Intent", "agent"}, {"X-Order", "A1X-Evil: 1"}},
			Whisper: "Caller 555 about agent."}
		if !reflect.DeepEqual(tr, want) {
			t.Errorf("transfer %+v\nwant     %+v", tr, want)
		}
		acts = c.do(TransferFailed{Code: 486, Reason: "busy"})
		wantSpoken(t, acts, "Code 486.")
		c.at("take_message", WaitRecord)
	})
	t.Run("transferred", func(t *testing.T) {
		c, _ := startCall(t, head+"nodes:\n  welcome: {transfer: {to: \"tel:+15550100\", on_fail: welcome}}\n")
		c.do(Transferred{})
		c.outcome(OutcomeTransferred)
		if !c.se.Ended() {
			t.Error("the call is over for the bot after a transfer")
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct{ transfer, code string }{
			{`"http://x"`, "bad-uri"},
			{`{to: "sip:a@b", mode: warm}`, "bad-mode"},
			{`{to: "sip:a@b", whisper: hi}`, "whisper-blind"},
			{`{to: "sip:a@b", mode: blind, whisper: hi}`, "whisper-blind"},
			{`{mode: bridge}`, "missing-field"},
			{`{to: "sip:a@b", timeout: 4s}`, "out-of-range"},
			{`{to: "sip:a@b", timeout: 301s}`, "out-of-range"},
			{`{to: "sip:a@b", headers: {"X Y": z}}`, "bad-header"},
			{`{to: "sip:a@b", on_fail: nowhere}`, "unknown-node"},
		} {
			if codes := parseErrors(t, head+"nodes:\n  welcome: {transfer: "+c.transfer+"}\n"); !hasCode(codes, c.code) {
				t.Errorf("transfer %s: codes %v, want %s", c.transfer, codes, c.code)
			}
		}
		for _, ok := range []string{`"SIPS:a@b"`, `"tel:+1"`, `{to: "sip:a@b", mode: bridge, whisper: hi, timeout: 5s}`, `{to: "sip:a@b", timeout: 5m}`} {
			parse(t, head+"nodes:\n  welcome: {transfer: "+ok+"}\n")
		}
	})
}

func TestTransferHeaderLimits(t *testing.T) {
	// docs: transfer headers are "templates (line breaks removed, 512 bytes at most)".
	long := strings.Repeat("é", 400) // 800 bytes
	s := parse(t, head+`nodes:
  welcome:
    transfer:
      to: "sip:q@pbx.example"
      headers: {X-Long: "{{long}}", X-Prefixed: "order-{{long}}", X-Literal: "a\r\nX-Injected: b"}
`)
	_, acts := dial(t, s, CallInfo{Vars: map[string]any{"long": long}})
	tr := only[Transfer](t, acts)
	var bugs []string
	for _, h := range tr.Headers {
		if len(h.Value) > 512 {
			bugs = append(bugs, fmt.Sprintf("%s is %d bytes", h.Name, len(h.Value)))
		}
		if !utf8.ValidString(h.Value) {
			bugs = append(bugs, h.Name+" is cut inside a character (invalid UTF-8)")
		}
		if strings.ContainsAny(h.Value, "\r\n") {
			bugs = append(bugs, fmt.Sprintf("%s keeps a line break: %q", h.Name, h.Value))
		}
	}
	if len(bugs) > 0 {
		t.Log(strings.Join(bugs, "; "))
		t.Fatal("regression: transfer header values can exceed 512 bytes (literal text + capped value), are cut inside a UTF-8 character, and keep line breaks written in the script")
	}
}

func TestHTTPHeaderLineBreaks(t *testing.T) {
	// docs: http headers: "header name → template (line breaks are removed from values)".
	_, acts := startCall(t, head+`nodes:
  welcome:
    http: {get: "https://crm.example/x", headers: {X-Value: "{{caller}}\r\n", X-Literal: "a\r\nX-Injected: b"}}
    next: done
  done: {say: ok, hangup: true}
`)
	for _, h := range only[HTTPRequest](t, acts).Headers {
		if strings.ContainsAny(h.Value, "\r\n") {
			t.Logf("%s = %q", h.Name, h.Value)
			t.Fatal("regression: line breaks written in a header template are sent as they are; only inserted values are cleaned")
		}
	}
}

// ---------------------------------------------------------------------------
// record

func TestRecord(t *testing.T) {
	t.Run("record: true", func(t *testing.T) {
		c, acts := startCall(t, head+"nodes:\n  welcome: {say: \"After the tone.\", record: true, next: bye}\n  bye: {say: bye, hangup: true}\n")
		if r := only[Record](t, acts); !reflect.DeepEqual(r, Record{Max: 60 * time.Second, Silence: 5 * time.Second, End: "#", Beep: true}) {
			t.Errorf("record %+v", r)
		}
		c.at("welcome", WaitRecord)
		wantSpoken(t, c.do(RecordDone{Duration: 0, File: "empty.wav"}), "bye")
		c.outcome(OutcomeResolved) // nothing recorded: no message left
	})
	t.Run("all fields", func(t *testing.T) {
		c, acts := startCall(t, head+`nodes:
  welcome:
    say: "Please leave your message after the tone, then press hash."
    record: {max: 30s, silence: 3s, end: "*", beep: false, into: message}
    next: goodbye
  goodbye: {say: "Saved {{message}}.", hangup: true}
`)
		if r := only[Record](t, acts); !reflect.DeepEqual(r, Record{Var: "message", Max: 30 * time.Second, Silence: 3 * time.Second, End: "*", Beep: false}) {
			t.Errorf("record %+v", r)
		}
		wantSpoken(t, c.do(RecordDone{Duration: 12 * time.Second, File: "msg-1.wav"}), "Saved msg-1.wav.")
		c.vars(map[string]string{"message": "msg-1.wav"})
		c.outcome(OutcomeMessageLeft)
	})
	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct{ record, code string }{
			{"false", "record-false"},
			{"{max: 11m}", "out-of-range"},
			{"{max: 500ms}", "out-of-range"},
			{"{silence: 61s}", "out-of-range"},
			{"{end: \"##\"}", "bad-end-key"},
			{"{beep: maybe}", "want-bool"},
			{"{into: escalation}", "builtin-var"},
		} {
			if codes := parseErrors(t, head+"nodes:\n  welcome: {say: hi, record: "+c.record+", next: done}\n  done: {say: ok, hangup: true}\n"); !hasCode(codes, c.code) {
				t.Errorf("record %s: codes %v, want %s", c.record, codes, c.code)
			}
		}
		parse(t, head+"nodes:\n  welcome: {say: hi, record: {max: 10m, silence: 1m}, next: done}\n  done: {say: ok, hangup: true}\n")
	})
}

// ---------------------------------------------------------------------------
// set, tag, hangup, next, closed, resolves

func TestSet(t *testing.T) {
	c, acts := startCall(t, head+`nodes:
  welcome: {set: {topic: refund, callback: "{{caller}}", greeting_copy: "{{greeting}} {{topic}}"}, say: "{{topic}} {{callback}}", next: done}
  done: {say: "{{greeting_copy}}", hangup: true}
`)
	wantSpoken(t, acts, "refund 13800138000", "Good morning refund")
	c.vars(map[string]string{"topic": "refund", "callback": "13800138000"})

	builtins := []string{"caller", "called", "call_id", "channel", "date", "time", "weekday", "hour", "time_of_day",
		"greeting", "open", "last_intent", "last_utterance", "node", "http_status", "transfer_code", "escalation", "record_seconds"}
	for _, v := range builtins {
		if codes := parseErrors(t, head+"nodes:\n  welcome: {set: {"+v+": x}, say: hi, hangup: true}\n"); !hasCode(codes, "builtin-var") {
			t.Errorf("set %s: codes %v, want builtin-var", v, codes)
		}
		if codes := parseErrors(t, head+"nodes:\n  welcome: {say: hi, collect: {into: "+v+"}, next: d}\n  d: {say: ok, hangup: true}\n"); !hasCode(codes, "builtin-var") {
			t.Errorf("collect.into %s: codes %v, want builtin-var", v, codes)
		}
	}
	for _, bad := range []string{"Topic", "my-var", "1st"} {
		if codes := parseErrors(t, head+"nodes:\n  welcome: {set: {"+bad+": x}, say: hi, hangup: true}\n"); !hasCode(codes, "bad-var") {
			t.Errorf("set %s: codes %v, want bad-var", bad, codes)
		}
	}
}

func TestTag(t *testing.T) {
	c, acts := startCall(t, head+`intents: {refund: [refund]}
answers: {refund: {say: "Refunds take a week.", tag: {grade: C, tags: [refund, answered]}, next: two}}
nodes:
  welcome: {tag: refund, say: hi, listen: {}}
  two: {tag: [refund, vip], say: two, next: three}
  three: {tag: {grade: A, tags: [complaint]}, say: three, next: four}
  four: {tag: {grade: B}, say: four, hangup: true}
`)
	if tg := only[Tag](t, acts); !reflect.DeepEqual(tg, Tag{Tags: []string{"refund"}}) {
		t.Errorf("one free tag: %+v", tg)
	}
	acts = c.say("refund")
	tags := actionsOf[Tag](acts)
	want := []Tag{{Grade: "C", Tags: []string{"refund", "answered"}}, {Tags: []string{"refund", "vip"}}, {Grade: "A", Tags: []string{"complaint"}}, {Grade: "B", Tags: []string{}}}
	if len(tags) != 4 {
		t.Fatalf("tags %+v", tags)
	}
	for i := range want {
		if tags[i].Grade != want[i].Grade || len(tags[i].Tags) != len(want[i].Tags) {
			t.Errorf("tag %d = %+v, want %+v", i, tags[i], want[i])
		}
	}
	st := c.state()
	if !reflect.DeepEqual(st.Tags, []string{"refund", "answered", "vip", "complaint"}) || st.Grade != "B" {
		t.Errorf("tags accumulate, the last grade wins: %v %q", st.Tags, st.Grade)
	}
	for _, g := range []string{"A", "B", "C", "D", "E"} {
		parse(t, head+"nodes: {welcome: {tag: {grade: "+g+"}, say: hi, hangup: true}}\n")
	}
	for _, g := range []string{"F", "a", "AB", "1"} {
		if codes := parseErrors(t, head+"nodes: {welcome: {tag: {grade: \""+g+"\"}, say: hi, hangup: true}}\n"); !hasCode(codes, "bad-grade") {
			t.Errorf("grade %s: %v", g, codes)
		}
	}
}

func TestHangupNextDeadEnd(t *testing.T) {
	c, acts := startCall(t, head+"nodes:\n  welcome: {say: bye, hangup: true}\n")
	if kinds(acts) != "Say Hangup" || only[Hangup](t, acts).Reason != "script" {
		t.Errorf("hangup after the prompt: %s", kinds(acts))
	}
	c.outcome(OutcomeResolved)

	// next after a plain prompt; a node with nothing to do next ends the call after its prompt.
	c, acts = startCall(t, head+"nodes:\n  welcome: {say: one, next: two}\n  two: {say: two}\n")
	wantSpoken(t, acts, "one", "two")
	if kinds(acts) != "Say Say Hangup" {
		t.Errorf("dead end: %s", kinds(acts))
	}
	c.outcome(OutcomeResolved)
	if !reflect.DeepEqual(c.state().Path, []string{"welcome", "two"}) {
		t.Errorf("path %v", c.state().Path)
	}

	// next may follow collect, record and http; not listen, transfer, hangup or branch.
	parse(t, head+"nodes:\n  welcome: {say: a, collect: {into: n}, next: d}\n  r: {record: true, next: d}\n  h: {http: {get: \"https://x\"}, next: d}\n  d: {say: ok, hangup: true}\n")
	for _, what := range []string{"listen: {}", "transfer: \"sip:a@b\"", "hangup: true", "branch: {on: x, default: d}"} {
		if codes := parseErrors(t, head+"nodes:\n  welcome: {say: a, "+what+", next: d}\n  d: {say: ok, hangup: true}\n"); !hasCode(codes, "next-conflict") {
			t.Errorf("%s + next: %v", what, codes)
		}
	}
	// Only one of listen/routes, collect, record, transfer, hangup, branch.
	kindsOf := []string{"listen: {}", "collect: {into: n}", "record: true", "transfer: \"sip:a@b\"", "hangup: true", "branch: {on: x, default: d}"}
	for i, a := range kindsOf {
		for _, b := range kindsOf[i+1:] {
			if codes := parseErrors(t, head+"nodes:\n  welcome: {say: a, "+a+", "+b+"}\n  d: {say: ok, hangup: true}\n"); !hasCode(codes, "conflict") {
				t.Errorf("%s + %s: %v", a, b, codes)
			}
		}
	}
	// Loops that never wait are rejected; loops through a listening node are fine.
	if codes := parseErrors(t, head+"nodes:\n  welcome: {say: a, next: b}\n  b: {branch: {on: \"{{x}}\", default: welcome}}\n"); !hasCode(codes, "loop") {
		t.Errorf("loop: %v", codes)
	}
	if codes := parseErrors(t, head+"nodes:\n  welcome: {http: {get: \"https://x\", on_error: welcome}, next: d}\n  d: {say: ok, hangup: true}\n"); !hasCode(codes, "loop") {
		t.Errorf("loop through http: %v", codes)
	}
	parse(t, head+"intents: {yes: [yes]}\nnodes:\n  welcome: {say: a, next: b}\n  b: {say: b, routes: {yes: welcome}}\n")
}

func TestClosedAndResolves(t *testing.T) {
	const src = head + `hours: {open: ["Mon-Fri 09:00-18:00"]}
intents:
  agent: {keywords: [agent], handoff: true}
  hours: [hours]
global: [agent]
nodes:
  welcome: {say: hi, listen: {}, routes: {hours: info}}
  agent: {closed: take_message, set: {went: agent}, tag: agentish, say: person, transfer: "sip:q@pbx.example"}
  take_message: {say: "Leave a message.", record: true, next: bye}
  info: {say: "Nine to six.", resolves: true, listen: {}}
  bye: {say: bye, hangup: true}
`
	s := parse(t, src)
	// Open: the node itself.
	c, _ := dial(t, s, CallInfo{Time: thu10})
	wantSpoken(t, c.say("agent"), "person")
	// Closed: the node's closed target, checked before set and tag.
	c, _ = dial(t, s, CallInfo{Time: thu10.Add(-3 * time.Hour)})
	acts := c.say("agent")
	wantSpoken(t, acts, "Leave a message.")
	if len(actionsOf[Tag](acts)) != 0 || c.state().Vars["went"] != nil {
		t.Error("closed is checked before set and tag")
	}
	if !reflect.DeepEqual(c.state().Path, []string{"welcome", "agent", "take_message"}) {
		t.Errorf("path %v", c.state().Path)
	}
	// resolves: the caller hanging up afterwards is resolved, not abandoned.
	c, _ = dial(t, s, CallInfo{Time: thu10})
	c.say("hours")
	if !c.state().Answered {
		t.Error("resolves: true must mark the call answered")
	}
	c.do(HungUp{})
	c.outcome(OutcomeResolved)
	c, _ = dial(t, s, CallInfo{Time: thu10})
	c.do(HungUp{})
	c.outcome(OutcomeAbandoned)
}

// ---------------------------------------------------------------------------
// retries, no_input, no_match, escalate

func TestRetries(t *testing.T) {
	const src = head + `intents:
  account: {keywords: [account]}
  agent: {keywords: [agent], handoff: true}
global: [agent]
defaults:
  no_match: ["Default no-match."]
nodes:
  welcome:
    say: "Please say or key in your account number."
    reprompt: "Your account number, please."
    retries: {no_input: 3, no_match: 2}
    no_input: ["I didn't hear anything.", "Are you still there?"]
    escalate: agent
    routes: {account: next_node}
  next_node: {say: "Next.", routes: {account: welcome}, retries: 1}
  agent: {say: "person {{escalation}}", transfer: "sip:q@pbx.example"}
`
	s := parse(t, src)
	const re = "Your account number, please."
	c, _ := dial(t, s, CallInfo{})
	// Silences: one message per attempt, the last one repeats; then the reprompt.
	wantSpoken(t, c.silence(), "I didn't hear anything.", re)
	// Not understood: counted separately; the defaults' no_match (the node has none).
	wantSpoken(t, c.say("purple"), "Default no-match.", re)
	wantSpoken(t, c.silence(), "Are you still there?", re)
	wantSpoken(t, c.say("purple"), "Default no-match.", re)
	wantSpoken(t, c.silence(), "Are you still there?", re)
	if st := c.state(); st.NoInput != 3 || st.NoMatch != 2 || st.InputNoInputs != 3 || st.InputNoMatch != 2 {
		t.Errorf("counters %d/%d, totals %d/%d", st.NoInput, st.NoMatch, st.InputNoInputs, st.InputNoMatch)
	}
	// The fourth silence goes over no_input: 3.
	wantSpoken(t, c.silence(), "person no_input")
	c.at("agent", WaitTransfer)

	// The third no-match goes over no_match: 2.
	c, _ = dial(t, s, CallInfo{})
	c.say("purple")
	c.say("purple")
	wantSpoken(t, c.say("purple"), "person no_match")

	// A handoff intent is honoured at once, whatever the counters.
	c, _ = dial(t, s, CallInfo{})
	c.silence()
	c.say("purple")
	wantSpoken(t, c.say("agent"), "person ")

	// Both counters reset when a node is entered.
	c, _ = dial(t, s, CallInfo{})
	c.say("purple")
	c.say("purple")
	c.say("account")
	if st := c.state(); st.NoMatch != 0 || st.Node != "next_node" {
		t.Errorf("after entering a node: %+v", st)
	}
	// next_node: retries: 1 and no escalate of its own → defaults.escalate (none) → apologise, hang up.
	wantSpoken(t, c.say("purple"), "Default no-match.", "Next.")
	acts := c.say("purple")
	if kinds(acts) != "Understood Say Hangup" {
		t.Errorf("retries out, nowhere to go: %s", kinds(acts))
	}
	c.outcome(OutcomeUnresolved)
	c.vars(map[string]string{"escalation": "no_match"})
}

func TestRetryMessagePrecedence(t *testing.T) {
	for _, c := range []struct {
		name, defaults, node string
		lang                 string
		noInput, noMatch     []string // what the first three misses of each kind say
	}{
		{"built-in English", "", "", "en-US",
			[]string{"Sorry, I didn't hear anything.", "Sorry, I didn't hear anything.", "Sorry, I didn't hear anything."},
			[]string{"Sorry, I didn't understand.", "Sorry, I didn't understand.", "Sorry, I didn't understand."}},
		{"built-in Chinese", "", "", "zh-CN",
			[]string{"抱歉,我没有听到您的声音。", "抱歉,我没有听到您的声音。", "抱歉,我没有听到您的声音。"},
			[]string{"抱歉,我没有听懂。", "抱歉,我没有听懂。", "抱歉,我没有听懂。"}},
		{"defaults", "defaults: {retries: 3, no_input: [D1, D2], no_match: [M1, M2]}\n", "", "en-US",
			[]string{"D1", "D2", "D2"}, []string{"M1", "M2", "M2"}},
		{"node over defaults", "defaults: {retries: 3, no_input: [D1, D2], no_match: [M1, M2]}\n", ", no_input: [N1], no_match: [\"{{last_utterance}}?\", X2, X3]", "en-US",
			[]string{"N1", "N1", "N1"}, []string{"purple?", "X2", "X3"}},
		{"audio retry prompt", "", ", no_input: [{audio: sorry.wav, text: Sorry}]", "en-US",
			[]string{"<sorry.wav>Sorry", "<sorry.wav>Sorry", "<sorry.wav>Sorry"},
			[]string{"Sorry, I didn't understand.", "Sorry, I didn't understand.", "Sorry, I didn't understand."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := parse(t, "name: t\nlanguage: "+c.lang+"\nstart: welcome\n"+c.defaults+
				"intents: {yes: [yes]}\nnodes:\n  welcome: {say: Q, routes: {yes: welcome}, retries: 3"+c.node+"}\n")
			call, _ := dial(t, s, CallInfo{})
			for i := 0; i < 3; i++ {
				wantSpoken(t, call.silence(), c.noInput[i], "Q")
			}
			call, _ = dial(t, s, CallInfo{})
			for i := 0; i < 3; i++ {
				wantSpoken(t, call.say("purple"), c.noMatch[i], "Q")
			}
		})
	}
	// Ranges: 0–10.
	for _, r := range []string{"0", "10", "{no_input: 0, no_match: 10}"} {
		parse(t, head+"intents: {yes: [yes]}\nnodes: {welcome: {say: Q, routes: {yes: welcome}, retries: "+r+"}}\n")
	}
	for _, r := range []string{"-1", "11", "{no_input: 11}", "{no_match: x}", "{tries: 1}"} {
		if _, err := Parse("t.yaml", []byte(head+"intents: {yes: [yes]}\nnodes: {welcome: {say: Q, routes: {yes: welcome}, retries: "+r+"}}\n")); err == nil {
			t.Errorf("retries %s loaded", r)
		}
	}
}

// ---------------------------------------------------------------------------
// Templates and variables

func TestTemplateFilters(t *testing.T) {
	vars := map[string]any{
		"order": "123456", "card": "4111 1111 1111 1234", "name": "Ada Lovelace", "empty": "",
		"num": 3.0, "frac": 2.5, "yes": true,
		"result": map[string]any{"status": "shipped", "items": []any{map[string]any{"name": "pen"}, "second"}},
		"evil":   "{{order}}",
	}
	for _, c := range []struct{ tpl, want string }{
		{"{{order}}", "123456"},
		{"{{ order }}", "123456"},
		{"{{missing}}", ""},
		{`{{missing | default:"unknown"}}`, "unknown"},
		{`{{empty | default:"unknown"}}`, "unknown"},
		{`{{order | default:"unknown"}}`, "123456"},
		{"{{order | spell}}", "1 2 3 4 5 6"},
		{"{{name | upper}}", "ADA LOVELACE"},
		{"{{name | lower}}", "ada lovelace"},
		{"card ending {{card | last:4}}", "card ending 1234"},
		{"{{order | last:10}}", "123456"},
		{"{{card | last:4 | spell}}", "1 2 3 4"},
		{`{{missing | default:"a|b" | upper}}`, "A|B"},
		{"{{result.status}}", "shipped"},
		{"{{result.items.0.name}}", "pen"},
		{"{{result.items.1}}", "second"},
		{"{{result.items.2}}", ""},
		{"{{result.nothing.deeper}}", ""},
		{"{{num}} {{frac}} {{yes}}", "3 2.5 true"},
		{"{{evil}}", "{{order}}"}, // a value is never read as a template again
		{"no placeholders", "no placeholders"},
	} {
		tpl, err := ParseTemplate(c.tpl)
		if err != nil {
			t.Errorf("%s: %v", c.tpl, err)
			continue
		}
		if got := tpl.Render(vars, TextContext); got != c.want {
			t.Errorf("%s = %q, want %q", c.tpl, got, c.want)
		}
	}
	for _, bad := range []string{"{{", "{{}}", "{{ }}", "{{a.}}", "{{1a}}", "{{a-b}}", "{{a | nope}}", "{{a | default}}",
		"{{a | last}}", "{{a | last:0}}", "{{a | last:x}}", "{{a | spell:1}}", "{{a | upper:x}}"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestTemplateEscaping(t *testing.T) {
	vars := map[string]any{"v": "a b/c?d&e=f#g\"h\\i\r\nj\x00k", "ok": "123"}
	render := func(tpl string, ctx Context) string { return MustTemplate(tpl).Render(vars, ctx) }
	// URLs: percent-encoded for where the value stands.
	if got := render("https://x.example/orders/{{v}}/items", URLContext); got != "https://x.example/orders/a%20b%2Fc%3Fd&e=f%23g%22h%5Ci%0D%0Aj%00k/items" {
		t.Errorf("path: %s", got)
	}
	if got := render("https://x.example/find?q={{v}}&id={{ok}}", URLContext); got != "https://x.example/find?q=a+b%2Fc%3Fd%26e%3Df%23g%22h%5Ci%0D%0Aj%00k&id=123" {
		t.Errorf("query: %s", got)
	}
	// Headers: line breaks and control characters removed.
	if got := render("Bearer {{v}}", HeaderContext); got != "Bearer a b/c?d&e=f#g\"h\\ijk" {
		t.Errorf("header: %q", got)
	}
	if got := MustTemplate("{{x}}").Render(map[string]any{"x": strings.Repeat("a", 600)}, HeaderContext); len(got) != 512 {
		t.Errorf("header value capped at %d bytes, want 512", len(got))
	}
	// Prompts: control characters become spaces.
	if got := render("{{v}}", TextContext); got != "a b/c?d&e=f#g\"h\\i  j k" {
		t.Errorf("text: %q", got)
	}
	// JSON bodies: JSON-encoded.
	s := parse(t, head+"nodes:\n  welcome: {http: {post: \"https://x.example\", body: {q: \"{{v}}\", s: \"x-{{v}}\", l: [\"{{v}}\"]}}, next: d}\n  d: {say: ok, hangup: true}\n")
	_, acts := dial(t, s, CallInfo{Vars: vars})
	var body struct {
		Q, S string
		L    []string
	}
	raw := only[HTTPRequest](t, acts).Body
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("body %s is not JSON: %v", raw, err)
	}
	if body.Q != vars["v"] || body.S != "x-"+vars["v"].(string) || len(body.L) != 1 || body.L[0] != vars["v"] {
		t.Errorf("body %s", raw)
	}
	// Through the engine: URL, header, text.
	s = parse(t, head+`nodes:
  welcome:
    http: {get: "https://x.example/o/{{v}}?q={{v}}", headers: {X-V: "{{v}}"}}
    say: "{{v}}"
    next: d
  d: {say: ok, hangup: true}
`)
	c, acts := dial(t, s, CallInfo{Vars: vars})
	req := only[HTTPRequest](t, acts)
	if req.URL != "https://x.example/o/a%20b%2Fc%3Fd&e=f%23g%22h%5Ci%0D%0Aj%00k?q=a+b%2Fc%3Fd%26e%3Df%23g%22h%5Ci%0D%0Aj%00k" {
		t.Errorf("url %s", req.URL)
	}
	if req.Headers[0].Value != "a b/c?d&e=f#g\"h\\ijk" {
		t.Errorf("header %q", req.Headers[0].Value)
	}
	wantSpoken(t, c.do(HTTPResult{Status: 200}), "a b/c?d&e=f#g\"h\\i  j k", "ok")
}

func TestBuiltinVariables(t *testing.T) {
	const all = "{{caller}}|{{called}}|{{call_id}}|{{channel}}|{{date}}|{{time}}|{{weekday}}|{{hour}}|{{time_of_day}}|{{greeting}}|{{open}}|{{node}}"
	mk := func(lang string) *Script {
		return parse(t, "name: t\nlanguage: "+lang+"\nstart: welcome\nhours: {timezone: Asia/Shanghai, open: [\"Mon-Fri 09:00-18:00\"]}\nnodes:\n  welcome: {say: \""+all+"\", hangup: true}\n")
	}
	info := CallInfo{ID: "id-9", Caller: "13800138000", Called: "4008", Channel: "phone", Time: time.Date(2026, 11, 26, 6, 5, 0, 0, time.UTC)}
	_, acts := dial(t, mk("en-US"), info)
	wantSpoken(t, acts, "13800138000|4008|id-9|phone|2026-11-26|14:05|Thursday|14|afternoon|Good afternoon|true|welcome")
	_, acts = dial(t, mk("zh-CN"), info)
	wantSpoken(t, acts, "13800138000|4008|id-9|phone|2026-11-26|14:05|星期四|14|afternoon|下午好|true|welcome")

	for _, c := range []struct {
		hour           int
		part, en, zhCN string
	}{
		{10, "morning", "Good morning", "上午好"},
		{15, "afternoon", "Good afternoon", "下午好"},
		{20, "evening", "Good evening", "晚上好"},
		{2, "night", "", ""},
		{23, "night", "", ""},
	} {
		at := time.Date(2026, 11, 26, c.hour, 0, 0, 0, time.UTC)
		for _, lang := range []string{"en-US", "zh-CN"} {
			s := parse(t, "name: t\nlanguage: "+lang+"\nstart: welcome\nnodes:\n  welcome: {say: \"{{time_of_day}}|{{greeting}}|{{hour}}\", hangup: true}\n")
			_, acts := dial(t, s, CallInfo{Time: at})
			got := strings.Split(spoken(acts)[0], "|")
			want := c.en
			if lang == "zh-CN" {
				want = c.zhCN
			}
			if got[0] != c.part || (want != "" && got[1] != want) || got[1] == "" || got[2] != fmt.Sprint(c.hour) {
				t.Errorf("%s at %02d:00: %q, want %s/%s", lang, c.hour, got, c.part, want)
			}
		}
	}
	// last_intent, last_utterance, node, http_status, transfer_code, escalation, open.
	c, _ := startCall(t, head+`hours: {open: ["daily 00:00-24:00"]}
intents: {yes: [yes], agent: {keywords: [agent], handoff: true}}
global: [agent]
nodes:
  welcome: {say: Q, routes: {yes: fetch}, retries: 0, escalate: agent}
  fetch: {http: {get: "https://x.example"}, say: "{{last_intent}} {{last_utterance}} {{node}} {{http_status}} {{open}}", next: agent}
  agent: {say: "{{transfer_code}}", transfer: {to: "sip:q@pbx.example", on_fail: welcome}}
`)
	c.say("yes please")
	wantSpoken(t, c.do(HTTPResult{Status: 201}), "yes yes please fetch 201 true")
	c.do(TransferFailed{Code: 603})
	c.vars(map[string]string{"transfer_code": "603"})
	c.silence()
	c.vars(map[string]string{"escalation": "no_input", "node": "agent"})
}

// ---------------------------------------------------------------------------
// outcomes

func TestOutcomes(t *testing.T) {
	const src = head + `hours: {open: ["Mon-Fri 09:00-18:00"], closed: closed_msg}
intents:
  agent: {keywords: [agent], handoff: true}
  hours: [hours]
  yes: [yes]
global: [agent]
answers: {hours: "Nine to six."}
nodes:
  welcome: {say: hi, listen: {}, routes: {yes: lookup}, retries: 0}
  lookup: {http: {get: "https://x.example"}, say: ok, next: bye}
  agent: {say: person, transfer: {to: "sip:q@pbx.example", on_fail: closed_msg}}
  closed_msg: {say: "Leave a message.", record: true, next: bye}
  bye: {say: bye, hangup: true}
`
	s := parse(t, src)
	night := thu10.Add(10 * time.Hour)
	for _, c := range []struct {
		name   string
		at     time.Time
		events []Event
		want   string
	}{
		{"transferred", thu10, []Event{Utterance{Text: "agent"}, Transferred{}}, OutcomeTransferred},
		{"message_left", thu10, []Event{Utterance{Text: "agent"}, TransferFailed{Code: 486}, RecordDone{Duration: time.Second, File: "m.wav"}}, OutcomeMessageLeft},
		{"message_left after hours", night, []Event{RecordDone{Duration: time.Second, File: "m.wav"}}, OutcomeMessageLeft},
		{"error", thu10, []Event{Utterance{Text: "yes"}, HTTPResult{Err: "connection refused"}}, OutcomeError},
		{"after_hours", night, []Event{RecordDone{Duration: 0}}, OutcomeAfterHours},
		{"after_hours, caller hung up", night, []Event{HungUp{}}, OutcomeAfterHours},
		{"unresolved", thu10, []Event{NoInput{}}, OutcomeUnresolved},
		{"unresolved: transfer failed, no message", thu10, []Event{Utterance{Text: "agent"}, TransferFailed{Code: 486}, RecordDone{Duration: 0}}, OutcomeUnresolved},
		{"resolved at a hangup node", thu10, []Event{Utterance{Text: "yes"}, HTTPResult{Status: 200}}, OutcomeResolved},
		{"resolved: hung up after an answer", thu10, []Event{Utterance{Text: "hours"}, HungUp{}}, OutcomeResolved},
		{"abandoned", thu10, []Event{HungUp{}}, OutcomeAbandoned},
		{"abandoned after a miss", thu10, []Event{NoInput{}}, OutcomeUnresolved},
	} {
		t.Run(c.name, func(t *testing.T) {
			call, _ := dial(t, s, CallInfo{Time: c.at})
			for _, ev := range c.events {
				call.do(ev)
			}
			call.outcome(c.want)
		})
	}
}

// ---------------------------------------------------------------------------
// How a call runs: the order of a node's steps

func TestNodeStepOrder(t *testing.T) {
	c, acts := startCall(t, head+`nodes:
  welcome:
    set: {path: "orders/{{caller}}"}
    tag: lookup
    http: {get: "https://x.example/{{path}}", into: result}
    say: "Status {{result.status}}."
    next: done
  done: {say: bye, hangup: true}
`)
	if kinds(acts) != "Tag HTTPRequest" {
		t.Errorf("entering: %s (want set, tag, then the request)", kinds(acts))
	}
	if u := only[HTTPRequest](t, acts).URL; u != "https://x.example/orders%2F13800138000" {
		t.Errorf("set runs before the request: %s", u)
	}
	acts = c.do(HTTPResult{Status: 200, Body: []byte(`{"status":"ok"}`)})
	if kinds(acts) != "Say Say Hangup" {
		t.Errorf("after the answer: %s", kinds(acts))
	}
	wantSpoken(t, acts, "Status ok.", "bye")
}

// ---------------------------------------------------------------------------
// include

func TestInclude(t *testing.T) {
	fsys := fstest.MapFS{
		"script.yaml": {Data: []byte(head + `include: [answers/*.yaml, intents-billing.yaml, answers/b.yaml]
intents: {agent: {keywords: [agent], handoff: true}}
global: [agent]
nodes:
  welcome: {say: Q, listen: {}, routes: {billing: billing}}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)},
		"answers/b.yaml":       {Data: []byte("description: more answers\nanswers:\n  parking: \"Parking is free.\"\nintents:\n  parking: [parking]\n")},
		"answers/a.yaml":       {Data: []byte("answers:\n  hours: \"Nine to six.\"\nintents:\n  hours: [hours]\ninclude: [sub/c.yaml]\n")},
		"answers/sub/c.yaml":   {Data: []byte("synonyms:\n  - [bill, invoice]\nnodes:\n  billing: {say: \"Billing.\", hangup: true}\n")},
		"intents-billing.yaml": {Data: []byte("intents:\n  billing: [bill]\n")},
	}
	s, err := Load(FSSource{FS: fsys}, "script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Patterns in name order; paths relative to the including file; a file included twice read once.
	wantFiles := []string{"script.yaml", "answers/a.yaml", "answers/sub/c.yaml", "answers/b.yaml", "intents-billing.yaml"}
	if !reflect.DeepEqual(s.Files, wantFiles) {
		t.Errorf("files %q, want %q", s.Files, wantFiles)
	}
	c, _ := dial(t, s, CallInfo{})
	wantSpoken(t, c.say("parking?"), "Parking is free.")
	wantSpoken(t, c.say("hours?"), "Nine to six.")
	wantSpoken(t, c.say("a question about my invoice"), "Billing.") // synonym from an included file

	for _, c := range []struct {
		name  string
		files fstest.MapFS
		code  string
	}{
		{"pattern matching nothing", fstest.MapFS{"script.yaml": {Data: []byte(head + "include: [\"nope/*.yaml\"]\nnodes: {welcome: {say: hi, hangup: true}}\n")}}, "include-none"},
		{"missing file", fstest.MapFS{"script.yaml": {Data: []byte(head + "include: [nope.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n")}}, "read-file"},
		{"node twice", fstest.MapFS{
			"script.yaml": {Data: []byte(head + "include: [x.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n")},
			"x.yaml":      {Data: []byte("nodes: {welcome: {say: again, hangup: true}}\n")}}, "duplicate-def"},
		{"intent twice", fstest.MapFS{
			"script.yaml": {Data: []byte(head + "include: [x.yaml, y.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n")},
			"x.yaml":      {Data: []byte("intents: {a: [a]}\n")}, "y.yaml": {Data: []byte("intents: {a: [b]}\n")}}, "duplicate-def"},
		{"answer twice", fstest.MapFS{
			"script.yaml": {Data: []byte(head + "include: [x.yaml]\nintents: {a: [a]}\nanswers: {a: one}\nnodes: {welcome: {say: hi, listen: {}}}\n")},
			"x.yaml":      {Data: []byte("answers: {a: two}\n")}}, "duplicate-def"},
		{"start in an included file", fstest.MapFS{
			"script.yaml": {Data: []byte(head + "include: [x.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n")},
			"x.yaml":      {Data: []byte("start: welcome\n")}}, "unknown-field"},
		{"hours in an included file", fstest.MapFS{
			"script.yaml": {Data: []byte(head + "include: [x.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n")},
			"x.yaml":      {Data: []byte("hours: {open: [\"daily 00:00-24:00\"]}\n")}}, "unknown-field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(FSSource{FS: c.files}, "script.yaml")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("loaded: %v", err)
			}
			if !hasCode(codesOf(le.Diags), c.code) {
				t.Errorf("codes %v, want %s", codesOf(le.Diags), c.code)
			}
			if c.code == "duplicate-def" {
				for _, d := range le.Diags {
					if d.Code == "duplicate-def" && !strings.Contains(d.Message("en"), ".yaml:") {
						t.Errorf("%s does not name the first place", d)
					}
				}
			}
		})
	}

	// Sixteen levels of includes load; the seventeenth is too deep.
	chain := func(n int) fstest.MapFS {
		fsys := fstest.MapFS{"script.yaml": {Data: []byte(head + "include: [l1.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n")}}
		for i := 1; i < n; i++ {
			fsys[fmt.Sprintf("l%d.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("include: [l%d.yaml]\n", i+1))}
		}
		fsys[fmt.Sprintf("l%d.yaml", n)] = &fstest.MapFile{Data: []byte("nodes: {deep: {say: deep, hangup: true}}\n")}
		return fsys
	}
	if _, err := Load(FSSource{FS: chain(16)}, "script.yaml"); err != nil {
		t.Errorf("16 levels: %v", err)
	}
	_, err = Load(FSSource{FS: chain(17)}, "script.yaml")
	var le *LoadError
	if !errors.As(err, &le) || !hasCode(codesOf(le.Diags), "include-depth") {
		t.Errorf("17 levels: %v", err)
	}
	// Parse has no file system: includes are reported, not ignored.
	if codes := parseErrors(t, head+"include: [x.yaml]\nnodes: {welcome: {say: hi, hangup: true}}\n"); !hasCode(codes, "read-file") {
		t.Errorf("Parse with include: %v", codes)
	}
}

func codesOf(ds Diags) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Code)
	}
	return out
}

// ---------------------------------------------------------------------------
// Conventions

func TestConventions(t *testing.T) {
	// Durations need a unit; quoted * and # work.
	s := parse(t, head+`intents: {star: {dtmf: "*"}, hash: {dtmf: "#"}}
nodes:
  welcome: {say: Q, routes: {star: d, hash: d}, listen: {timeout: 1m}}
  r: {record: {end: "#", max: 1m30s}, next: d}
  d: {say: ok, collect: {into: n, digits: {end: "*", inter_digit: 600ms}}}
`)
	if s.Nodes["r"].Record.Max != 90*time.Second || s.Nodes["d"].Collect.Digits.InterDigit != 600*time.Millisecond {
		t.Errorf("durations %v %v", s.Nodes["r"].Record.Max, s.Nodes["d"].Collect.Digits.InterDigit)
	}
	for _, d := range []string{"6", "6.5", "six"} {
		codes := parseErrors(t, head+"intents: {y: [y]}\nnodes: {welcome: {say: Q, routes: {y: welcome}, listen: {timeout: "+d+"}}}\n")
		want := "duration-unit"
		if d == "six" {
			want = "want-duration"
		}
		if !hasCode(codes, want) {
			t.Errorf("timeout %s: %v, want %s", d, codes, want)
		}
	}
}

// ---------------------------------------------------------------------------
// How matching works: refusals, nested keywords, sounds, plain handoff

func TestMatchingRefusalsAndSounds(t *testing.T) {
	s := parse(t, "name: t\nlanguage: zh-CN\nstart: welcome\n"+`intents:
  agent: {keywords: [人工, 转人工], handoff: true}
  hours: {keywords: [人工服务时间, 营业时间]}
  refund: [退款]
  order: [订单]
  have: [有]
  have_not: [没有]
  repeat: [再说一遍]
  service: [服务]
  help: [帮忙]
  business: [营业]
  nanjing: [南京]
  transfer_to: [转账]
  complain: [投诉处理]
  slip: [退款单]
global: [agent]
answers: {hours: a, refund: a, order: a, have: a, have_not: a, repeat: a, service: a, help: a, business: a, nanjing: a, transfer_to: a, complain: a, slip: a}
nodes:
  welcome: {say: Q, listen: {}}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)
	m := s.Matcher()
	for _, c := range []struct {
		text, intent, tier string
	}{
		// A refusal just after the keyword, in the same clause.
		{"人工就不用了", "", "none"},
		{"转人工算了", "", "none"},
		{"退款不需要了", "", "none"},
		// A refusal a few characters before it.
		{"不是退款", "", "none"},
		{"我不想要退款", "", "none"},
		// Phrases that contain a refusal without refusing.
		{"别的订单", "order", "keyword"},
		{"要不要退款", "refund", "keyword"},
		{"是不是要退款", "refund", "keyword"},
		// A keyword inside a longer keyword of another intent does not count.
		{"人工服务时间是几点", "hours", "keyword"},
		{"没有", "have_not", "keyword"},
		{"有", "have", "keyword"},
		// Sounds: digits read as numerals, f/h, an/ang, in/ing, n/l, homophones.
		{"再说一边", "repeat", "pinyin"},
		{"胡务", "service", "pinyin"},
		{"班忙", "help", "pinyin"},
		{"音业", "business", "pinyin"},
		{"兰京", "nanjing", "pinyin"},
		{"赚账", "transfer_to", "pinyin"},
		// One character missing: only for keywords of four or more characters.
		{"营业时", "hours", "pinyin"},
		{"诉处理", "complain", "pinyin"},
		{"退单", "", "none"},
		// A handoff intent wins only when said plainly: a sound-alike does not beat a keyword.
		{"我要退款 转人工", "agent", "keyword"},
		{"我要退款 转人攻", "refund", "keyword"},
	} {
		r := m.Match(c.text, m.All())
		if r.Intent != c.intent || r.Tier.String() != c.tier {
			t.Errorf("%q → %q %s, want %q %s (%s)", c.text, r.Intent, r.Tier, c.intent, c.tier, r.Explain())
		}
	}
}

// The best match wins wherever it comes from; where it goes: route, else global, else answer.
func TestBestMatchThenRouting(t *testing.T) {
	c, _ := startCall(t, head+`intents:
  billing: {examples: ["I have a question about my bill"]}
  hours: [hours]
  agent: {keywords: [agent], handoff: true}
global: [agent]
answers: {hours: "Nine to six.", billing: "an answer for billing"}
nodes:
  welcome: {say: Q, listen: {}, routes: {billing: billing}}
  billing: {say: "Billing.", hangup: true}
  agent: {say: person, transfer: "sip:q@pbx.example"}
`)
	// hours (a keyword, in the answers) beats billing (an example, in the routes).
	wantSpoken(t, c.say("a question about your hours"), "Nine to six.")
	// billing is both routed and answered: the route decides.
	wantSpoken(t, c.say("I have a question about my bill"), "Billing.")
}

func TestEmptyHeadersNotSent(t *testing.T) {
	// docs: "a header whose value is empty is not sent" (http and transfer).
	c, acts := startCall(t, head+`nodes:
  welcome:
    http: {get: "https://crm.example/x", headers: {X-Order: "{{order}}", X-Caller: "{{caller}}", X-Blank: " "}}
    next: agent
  agent:
    transfer: {to: "sip:q@pbx.example", headers: {X-Order: "{{order}}", X-Caller: "{{caller}}"}}
`)
	if hs := only[HTTPRequest](t, acts).Headers; !reflect.DeepEqual(hs, []HeaderValue{{"X-Caller", "13800138000"}}) {
		t.Errorf("http headers %+v", hs)
	}
	acts = c.do(HTTPResult{Status: 200})
	if hs := only[Transfer](t, acts).Headers; !reflect.DeepEqual(hs, []HeaderValue{{"X-Caller", "13800138000"}}) {
		t.Errorf("transfer headers %+v", hs)
	}
}

func TestRecordSeconds(t *testing.T) {
	const src = head + `nodes:
  welcome: {say: "After the tone.", record: {into: message}, next: check}
  check:
    branch: {on: "{{record_seconds}}", cases: {"0": empty}, default: thanks}
  empty: {say: "You said nothing.", hangup: true}
  thanks: {say: "Thanks, {{record_seconds}} seconds.", hangup: true}
`
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "You said nothing."},
		{12*time.Second + 300*time.Millisecond, "Thanks, 12 seconds."},
		{59 * time.Second, "Thanks, 59 seconds."},
	} {
		call, _ := startCall(t, src)
		wantSpoken(t, call.do(RecordDone{Duration: c.d, File: "m.wav"}), c.want)
	}
	if codes := parseErrors(t, head+"nodes:\n  welcome: {set: {record_seconds: \"5\"}, say: hi, hangup: true}\n"); !hasCode(codes, "builtin-var") {
		t.Errorf("record_seconds is built in: %v", codes)
	}
}

// http combines with listen, collect, record, transfer, hangup and branch: the request comes first.
func TestHTTPCombines(t *testing.T) {
	c, acts := startCall(t, head+`intents: {yes: [yes]}
nodes:
  welcome:
    http: {get: "https://crm.example/status", into: result}
    say: "Your order is {{result.status}}."
    branch: {on: "{{result.status}}", cases: {shipped: ask}, default: bye}
  ask:
    http: {get: "https://crm.example/more", into: more}
    say: "Hear more about {{more.topic}}?"
    routes: {yes: bye}
  bye: {say: bye, hangup: true}
`)
	if kinds(acts) != "HTTPRequest" {
		t.Fatalf("start: %s", kinds(acts))
	}
	acts = c.do(HTTPResult{Status: 200, Body: []byte(`{"status":"shipped"}`)})
	wantSpoken(t, acts, "Your order is shipped.")
	if kinds(acts) != "Say HTTPRequest" {
		t.Errorf("after the first answer: %s", kinds(acts))
	}
	acts = c.do(HTTPResult{Status: 200, Body: []byte(`{"topic":"returns"}`)})
	if kinds(acts) != "Say Listen" {
		t.Errorf("after the second answer: %s", kinds(acts))
	}
	wantSpoken(t, acts, "Hear more about returns?")
	wantSpoken(t, c.say("yes"), "bye")
	for _, what := range []string{"collect: {into: n}", "record: true", "transfer: \"sip:a@b.example\"", "hangup: true", "listen: {}"} {
		parse(t, head+"nodes:\n  welcome: {http: {get: \"https://x.example\"}, say: hi, "+what+"}\n")
	}
}

func TestSynonymsStemmed(t *testing.T) {
	// docs: Latin-script words are compared stemmed in synonym groups too.
	s := parse(t, head+"synonyms: [[bill, invoice]]\nintents: {billing: [my bill]}\nanswers: {billing: ok}\nnodes: {welcome: {say: Q, listen: {}}}\n")
	m := s.Matcher()
	for _, text := range []string{"my bill", "my bills", "my invoice", "my invoices"} {
		if r := m.Match(text, m.All()); r.Intent != "billing" {
			t.Errorf("%q → %q", text, r.Intent)
		}
	}
}

func TestRefusalsInEnglish(t *testing.T) {
	s := parse(t, head+`intents:
  agent: {keywords: [agent], handoff: true}
  power: {keywords: [power]}
  pay: {keywords: [pay]}
  broken: {keywords: [work]}
  refund: {keywords: [refund]}
global: [agent]
answers: {power: a, pay: a, broken: a, refund: a}
nodes: {welcome: {say: Q, listen: {}}, agent: {say: person, transfer: "sip:q@pbx.example"}}
`)
	m := s.Matcher()
	for _, c := range []struct{ text, want string }{
		{"I don't want an agent", ""},
		{"I do not need a refund", ""},
		{"no need for a refund", ""},
		{"I'd rather not have a refund", ""},
		{"not refund, thanks", ""}, // "not" right before the keyword
		// Statements of a problem are not refusals.
		{"I have no power", "power"},
		{"I cannot pay", "pay"},
		{"it does not work", "broken"},
	} {
		if r := m.Match(c.text, m.All()); r.Intent != c.want {
			t.Errorf("%q → %q, want %q (%s)", c.text, r.Intent, c.want, r.Explain())
		}
	}
}

func TestSpokenMenuKeys(t *testing.T) {
	// docs: a menu key said instead of pressed counts as pressed, when nothing else matches.
	const src = head + `intents:
  billing: {keywords: [billing], dtmf: "1"}
  outage: {keywords: [outage], dtmf: "2"}
nodes:
  welcome: {say: "Press 1 for billing or 2 for outages.", routes: {billing: billing, outage: outage}}
  billing: {say: billing, hangup: true}
  outage: {say: outage, hangup: true}
`
	for _, c := range []struct{ text, want string }{
		{"one", "billing"},
		{"press two", "outage"},
		{"option 1", "billing"},
		{"number two", "outage"},
		{"按1", "billing"},
		{"选2", "outage"},
		{"2号", "outage"},
		{"three", ""},
	} {
		call, _ := startCall(t, src)
		acts := call.say(c.text)
		if c.want == "" {
			if u := heard(t, acts); u.Outcome != "no_match" {
				t.Errorf("%q: %+v", c.text, u)
			}
			continue
		}
		wantSpoken(t, acts, c.want)
	}
}

func TestBranchEmptyCase(t *testing.T) {
	// docs: the case "" matches an empty value (a variable never set).
	s := parse(t, head+`nodes:
  welcome: {branch: {on: "{{order}}", cases: {"": ask, "42": known}, default: other}}
  ask: {say: ask, hangup: true}
  known: {say: known, hangup: true}
  other: {say: other, hangup: true}
`)
	for _, c := range []struct {
		vars map[string]any
		want string
	}{{nil, "ask"}, {map[string]any{"order": ""}, "ask"}, {map[string]any{"order": "42"}, "known"}, {map[string]any{"order": "7"}, "other"}} {
		_, acts := dial(t, s, CallInfo{Vars: c.vars})
		wantSpoken(t, acts, c.want)
	}
}

func TestResolvesWithHTTP(t *testing.T) {
	// docs: on a node with http, resolves counts once the backend has answered successfully.
	const src = head + `nodes:
  welcome: {http: {get: "https://crm.example/x", on_error: sorry}, resolves: true, say: "Done.", listen: {}}
  sorry: {say: "Sorry.", listen: {}}
`
	c, _ := startCall(t, src)
	if c.state().Answered {
		t.Error("resolved before the backend answered")
	}
	c.do(HungUp{})
	c.outcome(OutcomeAbandoned)

	c, _ = startCall(t, src)
	c.do(HTTPResult{Status: 500})
	c.do(HungUp{})
	c.outcome(OutcomeAbandoned)

	c, _ = startCall(t, src)
	c.do(HTTPResult{Status: 200})
	c.do(HungUp{})
	c.outcome(OutcomeResolved)
}

func TestRecordingSwitch(t *testing.T) {
	head := "name: r\nlanguage: en\nstart: a\nnodes: {a: {say: hi, hangup: true}}\n"
	if s := parse(t, head); !s.Recording {
		t.Error("recording should default to true")
	}
	if s := parse(t, head+"recording: false\n"); s.Recording {
		t.Error("recording: false ignored")
	}
}
