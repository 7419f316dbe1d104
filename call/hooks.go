package call

import (
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media/vad"
	"github.com/hotline-dev/hotline/sip"
)

// The record hooks: what a call tells Config.OnAnswer, OnPrompt, OnInput and
// OnFinish, so that a package of its own (records) can keep the call's row,
// its turns and its unanswered questions. They are called on the call's own
// goroutine: they must return at once (hand the work to another goroutine),
// and must not keep Input.Audio's backing array beyond their own use of it
// unless they own it (it is the call's copy, not reused by the call).

// Answer is the start of a call's handling: it was answered and its dialog
// is about to begin (Config.OnAnswer). It comes before any other hook of
// the call, also when the call's set-up then fails.
type Answer struct {
	At     time.Time      // the answer (the runner's clock)
	Script *dialog.Script // the version the call runs, to its end
	// Recording is the path of the call's stereo recording (under
	// Config.DataDir), "" when the call is not recorded. The file is
	// created right after; Finish.Recording says whether it was.
	Recording string
}

// Prompt is something the bot says or plays to the caller (Config.OnPrompt):
// a text spoken by text to speech, or an audio file (with its transcript).
type Prompt struct {
	At   time.Time // when it was queued (it plays after the prompts queued before it)
	Node string    // the node the call is at once the prompts of this step are queued
	Text string    // the text said; for a file, its transcript (may be empty)
	File string    // the audio file played, relative to the script's folder; "" for text
}

// Input is a caller's input as the engine understood it (Config.OnInput):
// the engine's Understood (also given to OnTurn), with what only the call
// knows.
type Input struct {
	dialog.Understood
	At time.Time // when the engine got it (after recognition, for speech)
	// Confidence is the recogniser's (0..1), -1 when it gives none and for keys.
	Confidence float64
	// Audio is, for speech, the caller's utterance as it went to the
	// recogniser: the detector's segment with its pre-roll, 8 kHz mono,
	// at most the question's max_speech (and the pre-roll). nil for keys.
	// The slice belongs to the hook.
	Audio []int16
	// State is the dialog's state once the engine handled the input.
	State dialog.State
}

// Finish is the end of a call (Config.OnFinish), whatever ended it: it is
// called exactly once per call that got an OnAnswer, after the media and the
// recording are closed, also when the call's set-up failed or it panicked
// (when OnEnd is not called).
type Finish struct {
	At time.Time
	// Started: the dialog began (set-up succeeded); State is then the
	// dialog's final state, else the zero State.
	Started bool
	State   dialog.State
	// Reason is why the call ended on the runner's side: "caller hung up",
	// "rtp timeout", "shutdown", "transferred", "error", the script's
	// hang-up reason…
	Reason string
	// Failed: the call panicked or its set-up failed.
	Failed bool
	// Recording is the stereo recording's path, "" when there is none (not
	// recorded, or the file could not be created).
	Recording string
	// Talk is how long the caller spoke in the call, and TalkSpurts in how
	// many stretches (utterances), as a voice activity detector on all of
	// the caller's audio found them (Config.TalkTime). An utterance counts
	// from its onset to the end of its last speech frame (pauses shorter
	// than 600 ms inside it included); one still going at the end counts
	// to the end of the caller's audio. Echo of the bot's prompts on the
	// line may count as the caller's speech. Both are zero when TalkTime is
	// off, and when the call's media never started.
	Talk       time.Duration
	TalkSpurts int
}

// samplesOf is how many 8 kHz samples d holds.
func samplesOf(d time.Duration) int { return int(d * 8000 / time.Second) }

// keepAudio starts the copy of an utterance's audio for OnInput, bounded by
// the question's longest utterance and the detector's pre-roll (plus a
// frame of slack).
func (cr *run) keepAudio(u *utterance, first []int16) {
	if cr.r.cfg.OnInput == nil {
		return
	}
	cfg := cr.r.cfg.VAD
	maxSpeech := cr.ear.q.maxSpeech
	if maxSpeech <= 0 {
		maxSpeech = cfg.MaxSpeech
	}
	if maxSpeech <= 0 {
		maxSpeech = vad.DefaultMaxSpeech
	}
	pre := cfg.PreRoll
	if pre == 0 {
		pre = vad.DefaultPreRoll
	}
	u.audioMax = samplesOf(maxSpeech+max(pre, 0)) + samplesOf(40*time.Millisecond)
	u.audio = make([]int16, 0, min(u.audioMax, len(first)+samplesOf(2*time.Second)))
	u.keep(first)
}

// keep appends to the utterance's audio copy, up to its bound.
func (u *utterance) keep(pcm []int16) {
	if u.audioMax == 0 {
		return
	}
	if room := u.audioMax - len(u.audio); room < len(pcm) {
		pcm = pcm[:max(room, 0)]
	}
	u.audio = append(u.audio, pcm...)
}

// promptHook reports a prompt to OnPrompt.
func (cr *run) promptHook(text, file string) {
	f := cr.r.cfg.OnPrompt
	if f == nil || (text == "" && file == "") {
		return
	}
	node := ""
	if cr.se != nil {
		node = cr.se.State().Node
	}
	f(cr.c, Prompt{At: cr.r.cfg.Now(), Node: node, Text: text, File: file})
}

// inputHook reports an understood input to OnInput, with the utterance the
// call is handling (heard), if it is speech.
func (cr *run) inputHook(u dialog.Understood) {
	f := cr.r.cfg.OnInput
	if f == nil {
		return
	}
	in := Input{Understood: u, At: cr.r.cfg.Now(), Confidence: -1, State: cr.se.State()}
	if h := cr.heard; h != nil && u.Input == "speech" {
		in.Confidence, in.Audio = h.confidence, h.audio
		cr.heard = nil // one utterance, one input
	}
	f(cr.c, in)
}

// heardUtterance is the utterance being handed to the engine, for inputHook.
type heardUtterance struct {
	confidence float64
	audio      []int16
}

// Observer is a set of hooks one observer of the calls sets (the records,
// the live-calls list, the metrics); Config.Observe adds it beside the
// others.
type Observer struct {
	OnAnswer  func(c *sip.Call, a Answer)
	OnPrompt  func(c *sip.Call, p Prompt)
	OnInput   func(c *sip.Call, in Input)
	OnTurn    func(c *sip.Call, u dialog.Understood)
	OnSpeech  func(c *sip.Call, r SpeechReport)
	OnHandoff func(c *sip.Call, h Handoff)
	OnFinish  func(c *sip.Call, f Finish)
}

// Observe adds o's hooks to the config: each runs after the hook already
// set for the same event, so several observers see every call.
func (cfg *Config) Observe(o Observer) {
	cfg.OnAnswer = chainHook(cfg.OnAnswer, o.OnAnswer)
	cfg.OnPrompt = chainHook(cfg.OnPrompt, o.OnPrompt)
	cfg.OnInput = chainHook(cfg.OnInput, o.OnInput)
	cfg.OnTurn = chainHook(cfg.OnTurn, o.OnTurn)
	cfg.OnSpeech = chainHook(cfg.OnSpeech, o.OnSpeech)
	cfg.OnHandoff = chainHook(cfg.OnHandoff, o.OnHandoff)
	cfg.OnFinish = chainHook(cfg.OnFinish, o.OnFinish)
}

func chainHook[T any](first, then func(*sip.Call, T)) func(*sip.Call, T) {
	switch {
	case first == nil:
		return then
	case then == nil:
		return first
	}
	return func(c *sip.Call, v T) { first(c, v); then(c, v) }
}
