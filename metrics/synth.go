package metrics

import (
	"context"
	"time"

	"github.com/hotline-dev/hotline/speech"
)

// Synthesizer returns s with its renderings observed: each successful
// Synthesize is a Synthesis(s.Name(), its duration, cached=false), each
// failure counts in hotline_synthesis_failures_total. Give it to
// speech.NewCache in place of s, so that what the metrics see is the
// engine's work and the cache's hits do not reach it (they are counted by
// Sources.PromptCache). The prompt cache keys stay the same: Name, Voice
// and Version are s's (Version is "" when s has none, as the cache takes
// it). On a nil *Metrics it returns s.
func (m *Metrics) Synthesizer(s speech.Synthesizer) speech.Synthesizer {
	if m == nil || s == nil {
		return s
	}
	return &timedSynthesizer{s: s, m: m}
}

type timedSynthesizer struct {
	s speech.Synthesizer
	m *Metrics
}

func (t *timedSynthesizer) Synthesize(ctx context.Context, text, voice string) ([]int16, error) {
	start := time.Now()
	pcm, err := t.s.Synthesize(ctx, text, voice)
	if err != nil {
		t.m.synthesisFailed(t.s.Name())
		return pcm, err
	}
	t.m.Synthesis(t.s.Name(), time.Since(start), false)
	return pcm, nil
}

func (t *timedSynthesizer) Name() string             { return t.s.Name() }
func (t *timedSynthesizer) Voice(lang string) string { return t.s.Voice(lang) }

// Version is s's (speech.Versioned), "" if it has none.
func (t *timedSynthesizer) Version() string {
	if v, ok := t.s.(speech.Versioned); ok {
		return v.Version()
	}
	return ""
}

// Unwrap is the synthesiser observed.
func (t *timedSynthesizer) Unwrap() speech.Synthesizer { return t.s }
