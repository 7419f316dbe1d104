package dialog

import (
	"strings"
	"testing"
)

// docs/script.md, "keypad_fallback" and "voice": when the recogniser stops
// working, the caller hears the fallback once and every question after it
// takes keys only.

const keypadScript = head + `voice: en-us+f3
keypad_fallback: "Speech is down. Press 1 for billing, 2 for outages."
intents:
  billing: {keywords: [bill], dtmf: "1"}
  outage: {keywords: [outage]}
nodes:
  welcome:
    say: "How can I help?"
    listen: {input: [speech]}
    routes: {billing: bill, outage: out}
  bill:
    say: "Your bill."
    collect: {into: acct, digits: {min: 2, max: 4}, speech: true, dtmf: false}
    next: done
  out:
    say: "Outage."
    hangup: true
  done:
    say: "Done."
    hangup: true
`

func TestSpeechUnavailableSwitchesToKeys(t *testing.T) {
	s := parse(t, keypadScript)
	if s.Voice != "en-us+f3" || len(s.KeypadFallback) != 1 {
		t.Fatalf("voice %q, keypad_fallback %v", s.Voice, s.KeypadFallback)
	}
	c, acts := dial(t, s, CallInfo{ID: "c"})
	l := acts[len(acts)-1].(Listen)
	if !l.Speech || l.DTMF {
		t.Fatalf("before: %+v, want speech only", l)
	}
	acts = c.do(SpeechUnavailable{Reason: "recogniser down"})
	if kinds(acts) != "Say Listen" || !strings.HasPrefix(spoken(acts)[0], "Speech is down") {
		t.Fatalf("after SpeechUnavailable: %s %q", kinds(acts), spoken(acts))
	}
	if l := acts[1].(Listen); l.Speech || !l.DTMF {
		t.Errorf("the question again: %+v, want keys only", l)
	}
	if !c.state().Keypad {
		t.Error("state does not say keypad")
	}
	// Once only.
	if acts := c.do(SpeechUnavailable{}); len(acts) != 0 {
		t.Errorf("a second SpeechUnavailable: %s", kinds(acts))
	}
	acts = c.keys("1")
	c.at("bill", WaitCollect)
	if cd := acts[len(acts)-1].(CollectDigits); cd.Speech || !cd.DTMF {
		t.Errorf("later question: %+v, want keys only", cd)
	}
	// The state survives a restore (a call moved between instances).
	st := c.state()
	se2, err := Restore(s, st)
	if err != nil {
		t.Fatal(err)
	}
	if !se2.State().Keypad {
		t.Error("keypad lost in State/Restore")
	}
}

func TestSpeechUnavailableBuiltinText(t *testing.T) {
	for lang, want := range map[string]string{"en-US": "telephone keypad", "zh-CN": "电话按键"} {
		s := parse(t, strings.Replace(keypadScript, "language: en-US", "language: "+lang, 1))
		s.KeypadFallback = nil
		c, _ := dial(t, s, CallInfo{ID: "c"})
		acts := c.do(SpeechUnavailable{})
		if len(acts) == 0 || !strings.Contains(spoken(acts)[0], want) {
			t.Errorf("%s: %q, want the built-in text with %q", lang, spoken(acts), want)
		}
	}
	// While not waiting for input (e.g. during a transfer) it only says so.
	s := parse(t, head+`nodes:
  welcome:
    say: "Hi."
    transfer: {to: "sip:q@pbx", on_fail: welcome}
`)
	c, _ := dial(t, s, CallInfo{ID: "c"})
	if acts := c.do(SpeechUnavailable{}); kinds(acts) != "Say" {
		t.Errorf("during a transfer: %s", kinds(acts))
	}
}
