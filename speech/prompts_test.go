package speech

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
)

func loadExample(t testing.TB, name string) *dialog.Script {
	t.Helper()
	s, err := dialog.LoadFile(filepath.Join("..", "examples", name, "script.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStaticPrompts(t *testing.T) {
	for _, c := range []struct {
		example     string
		has, hasNot []string
	}{
		{"en-utility",
			[]string{"Is there anything else I can help with?", "Sorry, I didn't hear anything.", "Sorry, a meter reading has four to six digits.",
				"Sorry I couldn't help this time. Thank you for calling. Goodbye."},
			[]string{"I have {{reading | spell}} for the account ending {{account | last:4}}. Is that right? Say yes or press 1, or say no or press 2."}},
		{"zh-shop",
			[]string{"请问有什么可以帮您？您可以说“查订单”“退货”“开发票”。查订单请按1，转人工请按0或说“转人工”。", "您还在吗？",
				"抱歉,系统出了点问题,请稍后再拨。再见。"},
			[]string{"{{greeting}}，欢迎致电优选商城。我是自动语音助手，本次通话将被录音。"}},
	} {
		s := loadExample(t, c.example)
		texts := StaticPrompts(s)
		t.Logf("%s: %d static prompts", c.example, len(texts))
		for _, want := range c.has {
			if !slices.Contains(texts, want) {
				t.Errorf("%s: %q missing", c.example, want)
			}
		}
		for _, text := range texts {
			if strings.Contains(text, "{{") {
				t.Errorf("%s: templated prompt listed: %q", c.example, text)
			}
			if slices.Contains(c.hasNot, text) {
				t.Errorf("%s: %q listed", c.example, text)
			}
		}
		// Stable and without repeats.
		if again := StaticPrompts(s); !slices.Equal(again, texts) {
			t.Errorf("%s: order changes between calls", c.example)
		}
		seen := map[string]bool{}
		for _, text := range texts {
			if seen[text] {
				t.Errorf("%s: %q twice", c.example, text)
			}
			seen[text] = true
		}
	}
}

// builtinTexts is a copy of the engine's own texts: drive the engine to each
// of them (no-input, no-match, retries exhausted, backend failure) and check
// the copy says the same.
func TestBuiltinTextsMatchEngine(t *testing.T) {
	for _, lang := range []string{"en-US", "zh-CN"} {
		src := fmt.Sprintf(`name: t
language: %s
start: menu
intents:
  "yes": {keywords: ["yes", "是的"]}
nodes:
  menu:
    say: "Menu."
    listen: {}
    retries: {no_input: 1, no_match: 1}
    routes: {"yes": backend}
  backend:
    http: {get: "https://crm.example/x", timeout: 1s}
    next: done
  done:
    say: "Done."
    hangup: true
`, lang)
		s, err := dialog.Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		var said []string
		collect := func(acts []dialog.Action) {
			for _, a := range acts {
				if say, ok := a.(dialog.Say); ok && say.Text != "Menu." && say.Text != "Done." {
					said = append(said, say.Text)
				}
			}
		}
		se := dialog.NewSession(s, dialog.CallInfo{})
		collect(se.Start())
		collect(se.Handle(dialog.NoInput{}))
		collect(se.Handle(dialog.Utterance{Text: "zzz"}))
		collect(se.Handle(dialog.NoInput{}))
		se = dialog.NewSession(s, dialog.CallInfo{})
		collect(se.Start())
		collect(se.Handle(dialog.Utterance{Text: "yes"}))
		collect(se.Handle(dialog.HTTPResult{Err: "timeout"}))
		se = dialog.NewSession(s, dialog.CallInfo{})
		collect(se.Start())
		collect(se.Handle(dialog.SpeechUnavailable{}))
		want := dialog.BuiltinTexts(lang)
		if !slices.Equal(said, want) {
			t.Errorf("%s: the engine says\n%q\nthe copy in speech has\n%q", lang, said, want)
		}
	}
}

// Prerender on the two example hotlines with the real engine: everything
// rendered the first time, everything cached the second, and with a new
// Cache on the same folder (a restart).
func TestPrerenderExamples(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	for _, name := range []string{"en-utility", "zh-shop"} {
		t.Run(name, func(t *testing.T) {
			s := loadExample(t, name)
			dir := t.TempDir()
			syn := &counting{Synthesizer: e}
			c := NewCache(dir, syn)
			want := len(StaticPrompts(s))
			start := time.Now()
			rendered, cached, err := c.Prerender(context.Background(), s, "")
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if rendered != want || cached != 0 || int(syn.calls.Load()) != want {
				t.Errorf("first run: %d rendered, %d cached, %d calls; want %d rendered", rendered, cached, syn.calls.Load(), want)
			}
			var audio time.Duration
			files, _ := filepath.Glob(filepath.Join(dir, "prompts", "*", "*.wav"))
			for _, f := range files {
				st, _ := os.Stat(f)
				audio += time.Duration(st.Size()-44) / 2 * time.Second / 8000
			}
			if len(files) != want {
				t.Errorf("%d files for %d prompts", len(files), want)
			}
			t.Logf("%s: %d prompts (%v of audio, voice %s) rendered in %v, %v a prompt",
				name, rendered, audio.Round(time.Second), e.Voice(s.Language), took.Round(time.Millisecond), (took / time.Duration(max(1, rendered))).Round(time.Millisecond))

			start = time.Now()
			rendered, cached, err = NewCache(dir, syn).Prerender(context.Background(), s, "")
			if err != nil || rendered != 0 || cached != want || int(syn.calls.Load()) != want {
				t.Errorf("after restart: %d rendered, %d cached, %v", rendered, cached, err)
			}
			t.Logf("%s: all %d cached after a restart, checked in %v", name, cached, time.Since(start).Round(time.Millisecond))
			// The engine's texts at run time are the cache's keys: a Say from a
			// live session is a hit.
			se := dialog.NewSession(s, dialog.CallInfo{Vars: map[string]any{"greeting": "您好"}})
			for _, a := range se.Start() {
				say, ok := a.(dialog.Say)
				if !ok || !slices.Contains(StaticPrompts(s), say.Text) {
					continue
				}
				before := syn.calls.Load()
				if _, err := c.Get(context.Background(), say.Text, e.Voice(s.Language)); err != nil || syn.calls.Load() != before {
					t.Errorf("run-time prompt %q was not a cache hit", say.Text)
				}
			}
		})
	}
}

func TestPrerenderErrorsAndCancel(t *testing.T) {
	s := loadExample(t, "en-utility")
	syn := &counting{Synthesizer: tones{}, fail: fmt.Errorf("no engine")}
	c := NewCache(t.TempDir(), syn)
	rendered, cached, err := c.Prerender(context.Background(), s, "")
	if err == nil || rendered != 0 || cached != 0 || !strings.Contains(err.Error(), "no engine") {
		t.Errorf("%d %d %v", rendered, cached, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	syn.fail = nil
	if _, _, err := c.Prerender(ctx, s, ""); err == nil {
		t.Error("cancelled prerender: no error")
	}
}
