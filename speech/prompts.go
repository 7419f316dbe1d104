package speech

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hotline-dev/hotline/dialog"
)

// StaticPrompts lists the texts a script can say that need no variables,
// each once, in a stable order: every node's say, reprompt, no_input and
// no_match texts, collect.invalid and transfer whisper, the defaults' no_input
// and no_match, the answer library, and the engine's own apologies for the
// script's language. Each is exactly the text the engine hands to Say, so
// the cache keys match at run time. Segments with an audio file are left
// out: their text is only a fallback.
func StaticPrompts(s *dialog.Script) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t *dialog.Template) {
		if t == nil || len(t.Vars()) > 0 {
			return
		}
		text := t.Render(nil, dialog.TextContext)
		if strings.TrimSpace(text) == "" || seen[text] {
			return
		}
		seen[text] = true
		out = append(out, text)
	}
	prompt := func(p dialog.Prompt) {
		for _, seg := range p {
			if seg.Audio == "" {
				add(seg.Text)
			}
		}
	}
	prompts := func(ps []dialog.Prompt) {
		for _, p := range ps {
			prompt(p)
		}
	}
	for _, name := range s.NodeOrder {
		n := s.Nodes[name]
		if n == nil {
			continue
		}
		prompt(n.Say)
		prompt(n.Reprompt)
		prompts(n.NoInput)
		prompts(n.NoMatch)
		if n.Collect != nil {
			prompt(n.Collect.Invalid)
		}
		if n.Transfer != nil {
			add(n.Transfer.Whisper)
		}
	}
	prompts(s.Defaults.NoInput)
	prompts(s.Defaults.NoMatch)
	prompt(s.KeypadFallback)
	names := make([]string, 0, len(s.Answers))
	for name := range s.Answers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if a := s.Answers[name]; a != nil {
			prompt(a.Say)
		}
	}
	for _, t := range dialog.BuiltinTexts(s.Language) {
		add(dialog.MustTemplate(t))
	}
	return out
}

// Prerender renders every static prompt of a script into the cache (see
// StaticPrompts); call it when a script loads, so callers never wait for the
// synthesiser on a fixed prompt. voice "" is the synthesiser's voice for the
// script's language. It renders several prompts at once (the synthesiser
// bounds its own processes), goes on past a failed prompt, and returns how
// many prompts were rendered and how many were already cached, with the
// failures joined.
func (c *Cache) Prerender(ctx context.Context, s *dialog.Script, voice string) (rendered, cached int, err error) {
	if voice == "" {
		voice = c.s.Voice(s.Language)
	}
	texts := StaticPrompts(s)
	var (
		nr, nc atomic.Int64
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
		next   atomic.Int64
	)
	workers := min(len(texts), max(2, runtime.NumCPU()))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(texts) || ctx.Err() != nil {
					return
				}
				_, hit, err := c.get(ctx, texts[i], voice)
				switch {
				case err != nil:
					mu.Lock()
					errs = append(errs, fmt.Errorf("prompt %q: %w", short(texts[i]), err))
					mu.Unlock()
				case hit:
					nc.Add(1)
				default:
					nr.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return int(nr.Load()), int(nc.Load()), errors.Join(errs...)
}

// short cuts a prompt for an error message.
func short(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
