package call

import (
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/sip"
)

// hookLog collects the record hooks of a world's calls, in order.
type hookLog struct {
	mu      sync.Mutex
	events  []string // "answer", "prompt", "input", "finish"
	answer  Answer
	prompts []Prompt
	inputs  []Input
	finish  *Finish
	done    chan struct{}
}

func newHookLog() *hookLog { return &hookLog{done: make(chan struct{})} }

func (h *hookLog) install(c *Config) {
	c.OnAnswer = func(_ *sip.Call, a Answer) {
		h.mu.Lock()
		h.events, h.answer = append(h.events, "answer"), a
		h.mu.Unlock()
	}
	c.OnPrompt = func(_ *sip.Call, p Prompt) {
		h.mu.Lock()
		h.events, h.prompts = append(h.events, "prompt"), append(h.prompts, p)
		h.mu.Unlock()
	}
	c.OnInput = func(_ *sip.Call, in Input) {
		h.mu.Lock()
		h.events, h.inputs = append(h.events, "input"), append(h.inputs, in)
		h.mu.Unlock()
	}
	c.OnFinish = func(_ *sip.Call, f Finish) {
		h.mu.Lock()
		h.events, h.finish = append(h.events, "finish"), &f
		h.mu.Unlock()
		close(h.done)
	}
}

func (h *hookLog) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("OnFinish was not called")
	}
}

// The record hooks on a spoken call: the answer first, each prompt with its
// node, the utterance with the recogniser's confidence and its audio (the
// detector's segment with the pre-roll, as the recogniser got it), a key,
// and the finish with the recording that exists.
func TestRecordHooks(t *testing.T) {
	t.Parallel()
	asr := newASR(t, always("something else entirely"))
	h := newHookLog()
	script := `name: s
language: en-US
start: welcome
defaults: {retries: 1}
intents:
  billing: {keywords: [billing, bill], dtmf: "1"}
nodes:
  welcome:
    say: "How can I help?"
    listen: {timeout: 5s, max_speech: 4s}
    routes: {billing: billing}
  billing:
    say: "Billing."
    hangup: true
`
	w, _ := speechWorld(t, script, asr, h.install)
	c := w.dialTape()
	c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
	said := voice(t, "Something else entirely.")
	c.say(said)
	// The no-match prompt, then the question again: a key this time.
	time.Sleep(time.Duration(len(said))*time.Second/8000 + 2500*time.Millisecond)
	c.press("1")
	c.waitEnd(10 * time.Second)
	h.wait(t)

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.events[0] != "answer" || h.events[len(h.events)-1] != "finish" {
		t.Errorf("hooks in order %v: want answer first, finish last", h.events)
	}
	if h.answer.Script == nil || h.answer.Script.Name != "s" || h.answer.Recording == "" || h.answer.At.IsZero() {
		t.Errorf("answer %+v", h.answer)
	}
	if len(h.prompts) < 3 || h.prompts[0].Text != "How can I help?" || h.prompts[0].Node != "welcome" {
		t.Errorf("prompts %+v", h.prompts)
	}
	if len(h.inputs) != 2 {
		t.Fatalf("inputs %+v, want the utterance and the key", h.inputs)
	}
	sp, key := h.inputs[0], h.inputs[1]
	if sp.Input != "speech" || sp.Outcome != "no_match" || sp.Text != "something else entirely" || sp.Node != "welcome" {
		t.Errorf("speech input %+v", sp.Understood)
	}
	if sp.Confidence != -1 { // the OpenAI-compatible backend gives none
		t.Errorf("speech confidence %v, want -1 (none)", sp.Confidence)
	}
	audio := time.Duration(len(sp.Audio)) * time.Second / 8000
	spoken := time.Duration(len(said)) * time.Second / 8000
	if audio < spoken/2 || audio > spoken+time.Second {
		t.Errorf("utterance audio %s for %s of speech", audio, spoken)
	}
	if sp.State.InputNoMatch != 1 || sp.State.Node != "welcome" {
		t.Errorf("state after the utterance: node %s, no-matches %d", sp.State.Node, sp.State.InputNoMatch)
	}
	if key.Input != "dtmf" || key.Text != "1" || key.Result.Intent != "billing" || key.Confidence != -1 || key.Audio != nil {
		t.Errorf("key input %+v confidence %v audio %d", key.Understood, key.Confidence, len(key.Audio))
	}
	f := h.finish
	if !f.Started || f.Failed || f.State.Outcome != "resolved" || f.Recording != h.answer.Recording {
		t.Errorf("finish %+v", f)
	}
	if _, err := os.Stat(f.Recording); err != nil {
		t.Errorf("the recording: %v", err)
	}
	if !slices.ContainsFunc(h.prompts, func(p Prompt) bool { return p.Text == "Billing." && p.Node == "billing" }) {
		t.Errorf("no Billing. prompt at billing: %+v", h.prompts)
	}
}

// A call that panics still finishes: OnFinish with Failed.
func TestRecordHooksPanic(t *testing.T) {
	t.Parallel()
	h := newHookLog()
	w := newWorld(t, `name: t
language: en-US
start: welcome
intents:
  boom: {keywords: [boom], dtmf: "9"}
nodes:
  welcome:
    say: "Hello."
    listen: {timeout: 5s}
    routes: {boom: boom}
  boom:
    say: "PANIC now"
    hangup: true
`, h.install)
	c := w.dial()
	time.Sleep(500 * time.Millisecond)
	c.press("9")
	c.waitEnd(5 * time.Second)
	h.wait(t)
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.finish; !f.Failed || f.Reason != "error" {
		t.Errorf("finish after a panic: %+v", f)
	}
}
