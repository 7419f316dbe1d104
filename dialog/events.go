package dialog

import (
	"time"

	"github.com/hotline-dev/hotline/dialog/match"
)

// CallInfo describes the call a session runs for. The shell supplies the time:
// the engine never reads a clock.
type CallInfo struct {
	ID      string
	Caller  string // the caller's number or URI user part
	Called  string // the number dialled
	Channel string // "phone", "chat" or "test"
	Time    time.Time
	Vars    map[string]any // extra variables from configuration
}

// Event is something that happened on the call, delivered to Session.Handle.
type Event interface{ event() }

// Utterance is what the recogniser heard at the end of the caller's speech.
type Utterance struct {
	Text         string
	Confidence   float64  // 0 when the recogniser gives none
	Alternatives []string // n-best alternatives, best first, without Text
}

// Digits are keypad keys: a menu choice, or collected digits with the
// terminator key included when the caller pressed it.
type Digits struct{ Keys string }

// NoInput means the caller said and pressed nothing before the timeout.
type NoInput struct{}

// HTTPResult answers an HTTPRequest action.
type HTTPResult struct {
	Status int
	Body   []byte
	Err    string // transport error or timeout; Status is then 0
}

// Transferred means the transfer succeeded: the caller is with a person.
type Transferred struct{ Agent string }

// TransferFailed means the transfer did not happen; the caller is still with the bot.
type TransferFailed struct {
	Code   int // SIP status, e.g. 486; 0 for a timeout
	Reason string
}

// RecordDone answers a Record action.
type RecordDone struct {
	Duration time.Duration
	File     string
}

// HungUp means the caller hung up.
type HungUp struct{}

// SpeechUnavailable means speech recognition stopped working for this call
// (the recogniser is down, too slow or saturated): the caller hears the
// script's keypad_fallback and from then on every question takes keys only.
type SpeechUnavailable struct{ Reason string }

func (Utterance) event()         {}
func (Digits) event()            {}
func (NoInput) event()           {}
func (HTTPResult) event()        {}
func (Transferred) event()       {}
func (TransferFailed) event()    {}
func (RecordDone) event()        {}
func (HungUp) event()            {}
func (SpeechUnavailable) event() {}

// Action is something the shell must do, in order.
type Action interface{ action() }

// Say speaks text through the synthesiser.
type Say struct {
	Text    string
	BargeIn bool // the caller may interrupt it
}

// Play plays a recorded audio file (Text is its transcript, and the fallback
// when the file cannot be played).
type Play struct {
	File    string // path relative to the script folder
	Text    string
	BargeIn bool
}

// Listen waits for speech and/or keys, then the shell delivers an Utterance,
// Digits or NoInput.
type Listen struct {
	Speech       bool
	DTMF         bool
	Timeout      time.Duration
	MaxSpeech    time.Duration
	EndSilence   time.Duration
	DigitTimeout time.Duration
	MaxDigits    int // deliver Digits once this many keys are pressed
	BargeIn      bool
	Hints        []string // phrases the recogniser should expect
}

// CollectDigits gathers a number, then the shell delivers Digits (or an
// Utterance when speech is allowed, or NoInput).
type CollectDigits struct {
	Var        string
	Min, Max   int
	End        string
	Timeout    time.Duration
	InterDigit time.Duration
	Speech     bool
	DTMF       bool
	BargeIn    bool
}

// Transfer hands the caller to a person; the shell answers with Transferred or TransferFailed.
type Transfer struct {
	To      string
	Mode    string // blind or bridge
	Headers []HeaderValue
	Timeout time.Duration
	Whisper string
}

// HeaderValue is a rendered header.
type HeaderValue struct{ Name, Value string }

// Record records the caller; the shell answers with RecordDone.
type Record struct {
	Var     string
	Max     time.Duration
	Silence time.Duration
	End     string
	Beep    bool
}

// HTTPRequest asks the hotline's backend; the shell answers with HTTPResult.
type HTTPRequest struct {
	Method  string
	URL     string
	Headers []HeaderValue
	Body    []byte // JSON, or nil
	Timeout time.Duration
}

// Tag grades and labels the call.
type Tag struct {
	Grade string
	Tags  []string
}

// Understood reports what the engine made of an input: the turn record, and
// an unanswered question when nothing matched.
type Understood struct {
	Node    string
	Input   string // "speech" or "dtmf"
	Text    string // what was heard or pressed
	Result  match.Result
	Outcome string // "matched", "no_match", "low_confidence", "collected", "invalid"
}

// Hangup ends the call.
type Hangup struct{ Reason string }

func (Say) action()           {}
func (Play) action()          {}
func (Listen) action()        {}
func (CollectDigits) action() {}
func (Transfer) action()      {}
func (Record) action()        {}
func (HTTPRequest) action()   {}
func (Tag) action()           {}
func (Understood) action()    {}
func (Hangup) action()        {}
