package speech

import (
	"context"
	"errors"
)

// Recognizer turns a caller's speech into text, one utterance at a time: the
// call finds where an utterance starts and ends (voice activity detection),
// opens a Stream for it, writes its audio as it arrives and closes it at the
// end to get the result.
//
// Implementations: pocketsphinx (embedded, English, build tag pocketsphinx)
// and an HTTP client of the OpenAI transcription API (whisper.cpp's server,
// faster-whisper servers, vLLM, hosted services).
type Recognizer interface {
	// Name identifies the backend for logs and metrics ("pocketsphinx",
	// "openai:whisper-1").
	Name() string
	// Start opens a stream for one utterance. It does not wait for a
	// server or a worker: when every worker is busy it fails at once with
	// ErrBusy, and with ErrUnavailable when the backend is known to be down
	// (the call then switches to the keypad).
	Start(ctx context.Context, opts Options) (Stream, error)
}

// Preparer is a Recognizer that can get ready for hint sets ahead of the
// first utterance that uses them (pocketsphinx builds a language model and a
// grammar per set, tens of milliseconds each per decoder), so that no caller
// waits for it. The serve calls it after loading a script.
type Preparer interface {
	Prepare(ctx context.Context, hintSets [][]string) error
}

// Options describe what a stream will hear.
type Options struct {
	// Language is the script's BCP 47 language ("en-US", "zh-CN").
	Language string
	// Hints are the phrases the script expects at this point (its
	// keywords and examples): a backend may bias towards them (keyword
	// spotting, a grammar, a prompt).
	Hints []string
	// CallID tags the backend's logs.
	CallID string
}

// Stream is one utterance being recognised. Write and Close are called from
// one goroutine; Partials may be read from another.
type Stream interface {
	// Write adds audio: 8 kHz mono 16-bit PCM, any length (usually 20 ms
	// frames). It must return quickly (it runs beside the call's media):
	// a backend that needs time buffers and works on its own goroutine.
	// The slice is only valid during the call.
	Write(pcm []int16) error
	// Partials delivers interim results while audio is written, for
	// backends that have them (nil otherwise). It is closed by Close and
	// Abort.
	Partials() <-chan Result
	// Close ends the utterance and waits, within ctx, for the final
	// result. An utterance with nothing recognised gives an empty Text and
	// no error.
	Close(ctx context.Context) (Result, error)
	// Abort discards the utterance (the caller hung up, a key was pressed
	// instead) and frees its resources without waiting.
	Abort()
}

// Result is what was recognised.
type Result struct {
	Text string
	// Confidence is 0..1, or -1 when the backend gives none.
	Confidence float64
	// Alternatives are the next best hypotheses, best first.
	Alternatives []Alternative
	// Final is false for partial results.
	Final bool
}

// Alternative is another hypothesis for an utterance.
type Alternative struct {
	Text       string
	Confidence float64
}

var (
	// ErrBusy: every worker of the backend is in use (bounded concurrency);
	// the caller should not wait for one.
	ErrBusy = errors.New("speech: recognizer busy")
	// ErrUnavailable: the backend cannot be used (not built in, not
	// configured, or failing).
	ErrUnavailable = errors.New("speech: recognizer unavailable")
)

// LanguageChecker is implemented by recognisers that understand only some
// languages (pocketsphinx here has an English model only). A call whose
// script is in another language runs without the recogniser: its questions
// take keys, as when none is configured. Recognisers without it are taken
// to understand every language.
type LanguageChecker interface {
	Understands(language string) bool
}
