// Package speech turns text into the caller's audio (and, in the speech
// issue, the caller's audio into text): the Synthesizer interface, its
// espeak-ng backend, and the on-disk prompt cache that renders each prompt
// once.
//
// All audio is hotline's: 8 kHz mono 16-bit PCM ([]int16, 160 samples per
// 20 ms frame), as media/wav decodes it.
package speech

import (
	"context"
	"errors"
)

// Synthesizer turns text into 8 kHz mono PCM.
type Synthesizer interface {
	// Synthesize renders text with voice ("" for the default voice). Empty
	// text gives no audio and no error. It honours ctx.
	Synthesize(ctx context.Context, text string, voice string) ([]int16, error)
	// Name identifies the engine ("espeak-ng"); it is part of the cache key.
	Name() string
	// Voice is the engine's voice for a BCP 47 language ("en-US" → "en-us",
	// "zh-CN" → a Mandarin voice); the default voice when it has none.
	Voice(language string) string
}

// Versioned is implemented by synthesisers whose output depends on more than
// name, voice and text (engine version, speed, text normalisation): the
// version goes into the cache key, so an upgrade re-renders every prompt.
type Versioned interface {
	Version() string
}

// ErrUnknownVoice is wrapped by Synthesize when the voice is not installed.
var ErrUnknownVoice = errors.New("speech: unknown voice")

// ErrTextTooLong is wrapped by Synthesize when the text is over the limit.
var ErrTextTooLong = errors.New("speech: text too long")
