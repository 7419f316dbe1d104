package call

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media/vad"
	"github.com/hotline-dev/hotline/speech"
)

// The listening state machine of a call: voice activity detection on the
// caller's audio, barge-in, one recogniser stream per utterance, and the
// switch to the keypad when recognition fails. docs/barge-in.md draws it.
//
// The caller's audio arrives on the media receive goroutine (CallerAudio).
// That goroutine only copies each packet's audio and hands it to the call
// loop through a bounded channel, and only while the ear is open (a
// generation number, 0 = closed). Everything else — the detector, the
// prompt's pause and resume, the stream's Write and Abort, the engine — runs
// on the call loop, so no lock guards any of it. Only the wait for the
// recogniser's result (Stream.Close) runs on a goroutine of its own, bounded
// by RecognizeTimeout and the call's context.

const (
	defaultRecognizeTimeout = 3 * time.Second
	// defaultEchoGuard raises the detector's thresholds while a barge-in
	// prompt plays: a line's echo of our own prompt comes back 20-30 dB
	// below it (ERL), a caller talking over it is at least as loud as the
	// prompt. 15 dB keeps echo out and lets speech of -40 dBFS or louder in.
	defaultEchoGuard = 15.0
	// earQueue bounds the frames waiting for the call loop (1.3 s at 20 ms).
	earQueue = 64
)

// earState is where a call's listening stands.
type earState uint8

const (
	earOff         earState = iota // the detector does not run
	earArmed                       // a barge-in prompt plays before a speech question: detector on, echo guard up
	earPaused                      // onset during that prompt: the prompt is paused (silence), not yet abandoned
	earListening                   // the question is open: waiting for speech, the no-input timer runs
	earOnset                       // possible speech while listening: the no-input timer is stopped
	earCapturing                   // confirmed speech: a recogniser stream is open and gets every frame
	earRecognizing                 // the utterance ended: waiting for its text (at most RecognizeTimeout)
)

func (s earState) String() string {
	return [...]string{"off", "armed", "paused", "listening", "onset", "capturing", "recognizing"}[s]
}

// earFrame is caller audio on its way from the receive goroutine to the loop.
type earFrame struct {
	gen uint64
	pcm []int16
	at  time.Time // when it arrived
}

// question is what a Listen or CollectDigits asks of the ear.
type question struct {
	speech, dtmf bool
	bargeIn      bool
	endSilence   time.Duration
	maxSpeech    time.Duration
	hints        []string
}

func listenQuestion(l dialog.Listen) question {
	return question{speech: l.Speech, dtmf: l.DTMF, bargeIn: l.BargeIn, endSilence: l.EndSilence,
		maxSpeech: l.MaxSpeech, hints: l.Hints}
}

func collectQuestion(c dialog.CollectDigits) question {
	return question{speech: c.Speech, dtmf: c.DTMF, bargeIn: c.BargeIn}
}

type vadKey struct{ endSilence, maxSpeech time.Duration }

// ear is a call's listening state; only the call loop touches it.
type ear struct {
	state   earState
	gen     uint64 // of the open listening period; 0 when off
	lastGen uint64
	q       question
	det     *vad.Detector
	dets    map[vadKey]*vad.Detector // one per end_silence/max_speech pair: each keeps its noise floor
	framer  *vad.Framer
	push    func([]int16) // cr.vadFrame, bound once
	wall    time.Time     // arrival of the frame being pushed
	carry   bool          // a barge-in turns into the question's listen: keep the detector's utterance

	// No-input time left when possible speech stopped the timer (<0: the
	// question has no timer).
	noInputLeft time.Duration
	pausedAt    time.Time

	utt      *utterance
	resultCh chan uttResult // of the utterance being recognised

	// talk is the exception to "only the call loop": the talk meter
	// (Config.TalkTime) belongs to the media receive goroutine, which
	// creates it, until the media session is closed. nil until then, and
	// when TalkTime is off.
	talk *talkMeter

	// The last utterance's report, waiting for the reply's first RTP packet.
	pending     *SpeechReport
	pendingPlay *playlist
}

// utterance is one recogniser stream.
type utterance struct {
	stream speech.Stream
	ctx    context.Context
	cancel context.CancelFunc
	report SpeechReport
	// audio is a copy of what went to the recogniser, for OnInput (kept
	// only when that hook is set), at most audioMax samples.
	audio    []int16
	audioMax int
}

type uttResult struct {
	u   *utterance
	res speech.Result
	err error
	at  time.Time
}

// SpeechReport is one utterance's account (Config.OnSpeech, the `heard` and
// `speech reply` log lines): what was heard and when, so that the time from
// the end of the caller's speech to the first RTP packet of the reply can be
// split into endpointing, recognition and the rest.
type SpeechReport struct {
	Node string
	// Outcome: "recognized" (text), "empty" (the recogniser heard no words:
	// delivered as no input), "key" (a key was pressed instead), "hangup",
	// and the failures that switch the call to the keypad: "busy",
	// "unavailable", "timeout", "error".
	Outcome    string
	Reason     string // of a failure
	Text       string
	Confidence float64 // -1: the recogniser gives none
	BargeIn    bool    // the speech interrupted a prompt
	EndReason  string  // the detector's: "silence" or "max"
	Backend    string

	SpeechStart  time.Time // the first frame of the speech (the onset), as it arrived
	SpeechEnd    time.Time // the end of the last voiced frame
	Endpointed   time.Time // the detector decided the utterance was over
	Recognized   time.Time // the recogniser's answer (or failure)
	ReplyStarted time.Time // the first audio frame of the reply went to the wire; zero: no spoken reply
}

// Endpointing is the end of speech → the end of the utterance decided.
func (r SpeechReport) Endpointing() time.Duration { return since(r.SpeechEnd, r.Endpointed) }

// Recognition is the end of the utterance → the recogniser's answer.
func (r SpeechReport) Recognition() time.Duration { return since(r.Endpointed, r.Recognized) }

// Rest is the recogniser's answer → the first RTP packet of the reply (the
// engine, text to speech, the pacer's next tick).
func (r SpeechReport) Rest() time.Duration { return since(r.Recognized, r.ReplyStarted) }

// Total is the end of speech → the first RTP packet of the reply.
func (r SpeechReport) Total() time.Duration { return since(r.SpeechEnd, r.ReplyStarted) }

func since(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

// SpeechStats counts what the calls' listening did since the runner started
// (for /healthz and metrics).
type SpeechStats struct {
	Utterances   uint64 `json:"utterances"`    // recogniser streams opened
	Recognized   uint64 `json:"recognized"`    // … that gave text
	Empty        uint64 `json:"empty"`         // … that gave no words (delivered as no input)
	KeyWins      uint64 `json:"key_wins"`      // utterances dropped because a key was pressed
	BargeIns     uint64 `json:"barge_ins"`     // prompts abandoned because the caller spoke
	NoiseResumed uint64 `json:"noise_resumed"` // prompts paused by an onset that turned out to be noise, then resumed
	// Fallbacks are the calls switched to the keypad because recognition
	// failed, by cause.
	Fallbacks           uint64 `json:"fallbacks"`
	FallbackBusy        uint64 `json:"fallback_busy"`        // every recogniser slot was in use
	FallbackUnavailable uint64 `json:"fallback_unavailable"` // the backend is down (its circuit breaker is open)
	FallbackTimeout     uint64 `json:"fallback_timeout"`     // no answer within RecognizeTimeout
	FallbackError       uint64 `json:"fallback_error"`       // the backend failed
	NoRecognizer        uint64 `json:"no_recognizer"`        // speech-only questions answered by keys because no recogniser is configured
	FramesDropped       uint64 `json:"frames_dropped"`       // caller frames the call loop could not take in time
}

type speechCounters struct {
	utterances, recognized, empty, keyWins, bargeIns, resumed  atomic.Uint64
	fallbacks, busy, unavailable, timeout, failed, noRecognize atomic.Uint64
	dropped                                                    atomic.Uint64
}

// SpeechStats returns the runner's speech counters.
func (r *Runner) SpeechStats() SpeechStats {
	c := &r.speech
	return SpeechStats{
		Utterances: c.utterances.Load(), Recognized: c.recognized.Load(), Empty: c.empty.Load(),
		KeyWins: c.keyWins.Load(), BargeIns: c.bargeIns.Load(), NoiseResumed: c.resumed.Load(),
		Fallbacks: c.fallbacks.Load(), FallbackBusy: c.busy.Load(), FallbackUnavailable: c.unavailable.Load(),
		FallbackTimeout: c.timeout.Load(), FallbackError: c.failed.Load(), NoRecognizer: c.noRecognize.Load(),
		FramesDropped: c.dropped.Load(),
	}
}

// callerAudio is the media session's CallerAudio, on the receive goroutine:
// the bridge's relay, the talk meter (Config.TalkTime), then (while the ear
// is open) a copy for the call loop. It never blocks: a frame the loop has
// no room for is dropped and counted.
func (cr *run) callerAudio(pcm []int16, at time.Duration) {
	cr.tapCaller(pcm, at)
	if cr.r.cfg.TalkTime {
		m := cr.ear.talk
		if m == nil {
			m = newTalkMeter()
			cr.ear.talk = m
		}
		m.framer.Write(pcm, m.push)
	}
	gen := cr.earGen.Load()
	if gen == 0 {
		return
	}
	var b []int16
	select {
	case b = <-cr.earFree:
	default:
	}
	b = append(b[:0], pcm...)
	select {
	case cr.earCh <- earFrame{gen: gen, pcm: b, at: time.Now()}:
	default:
		cr.r.speech.dropped.Add(1)
	}
}

// talkMeter measures the caller's talk time over the whole call
// (Config.TalkTime, Finish.Talk and TalkSpurts), like Asterisk's
// TALK_DETECT: a detector of its own, with the defaults, on every frame of
// the caller's audio, whether or not a question listens. It runs on the
// media receive goroutine, which owns it: the call reads its totals only
// after the media session is closed (Session.Close waits for that
// goroutine). After the first packet, which creates it, it allocates
// nothing.
//
// It has no echo guard: on a line with echo, the bot's prompts coming back
// loud enough count as the caller's speech. For a statistic that is
// acceptable (docs/records.md says so); the ear's detector, which decides
// barge-in, has the guard.
type talkMeter struct {
	det    *vad.Detector
	framer *vad.Framer
	push   func([]int16) // m.frame, bound once: no closure per packet

	spurts   int
	talk     time.Duration // the utterances that ended
	speaking bool          // an utterance is in progress (Start seen, not End) …
	begin    time.Duration // … since this stream time
	cut      time.Duration // the end of the last utterance MaxSpeech cut; -1: none
	last     time.Duration // the stream time at the end of the last frame
}

func newTalkMeter() *talkMeter {
	m := &talkMeter{det: vad.New(vad.Config{NoAudio: true}), cut: -1}
	m.framer = vad.NewFramer(m.det.FrameSize())
	m.push = m.frame
	return m
}

// frame runs one detector frame. A stretch is an utterance: from its onset
// to the end of its last speech frame, pauses shorter than the detector's
// EndSilence included. An utterance that MaxSpeech cut counts, and when
// the caller goes on talking (the next utterance begins within EndSilence),
// it is the same stretch.
func (m *talkMeter) frame(f []int16) {
	ev := m.det.Push(f)
	m.last = ev.At
	switch ev.Kind {
	case vad.Start:
		if m.cut >= 0 && ev.Begin-m.cut < vad.DefaultEndSilence {
			m.talk += ev.Begin - m.cut // the stretch goes on, its short pause included
		} else {
			m.spurts++
		}
		m.speaking, m.begin, m.cut = true, ev.Begin, -1
	case vad.End:
		if m.speaking {
			m.talk += ev.SpeechEnd - ev.Begin
		}
		m.speaking, m.cut = false, -1
		if ev.Reason == "max" {
			m.cut = ev.At
		}
	}
}

// totals is the caller's talk time and stretches so far: an utterance in
// progress counts up to the last frame. Zero for no meter.
func (m *talkMeter) totals() (time.Duration, int) {
	if m == nil {
		return 0, 0
	}
	t := m.talk
	if m.speaking {
		t += m.last - m.begin
	}
	return t, m.spurts
}

// talkTotals is Finish.Talk and TalkSpurts. Only once the media session is
// closed: its receive goroutine owns the meter until then.
func (cr *run) talkTotals() (time.Duration, int) { return cr.ear.talk.totals() }

// recycle gives a frame's buffer back to the receive goroutine.
func (cr *run) recycle(pcm []int16) {
	select {
	case cr.earFree <- pcm:
	default:
	}
}

// speechOK reports whether a question's speech can be recognised now.
func (cr *run) speechOK(q question) bool { return q.speech && cr.asr != nil }

// recognizerFor is the recogniser for a script's language: none when the
// configured one does not understand it (pocketsphinx's model is English;
// a Chinese hotline then takes keys, as without a recogniser).
func recognizerFor(rec speech.Recognizer, language string) speech.Recognizer {
	if lc, ok := rec.(speech.LanguageChecker); ok && !lc.Understands(language) {
		return nil
	}
	return rec
}

// nextQuestion is the question waiting for the prompts to end.
func (cr *run) nextQuestion() (question, bool) {
	var q question
	ok := false
	for _, a := range cr.after {
		switch a := a.(type) {
		case dialog.Listen:
			q, ok = listenQuestion(a), true
		case dialog.CollectDigits:
			q, ok = collectQuestion(a), true
		}
	}
	return q, ok
}

// openEar starts a listening period for q: a new generation of frames, the
// detector for q's timing, reset (its noise floor kept).
func (cr *run) openEar(q question, st earState) {
	e := &cr.ear
	if e.push == nil {
		e.push = cr.vadFrame
	}
	cfg := cr.r.cfg.VAD
	if q.endSilence > 0 {
		cfg.EndSilence = q.endSilence
	}
	if q.maxSpeech > 0 {
		cfg.MaxSpeech = q.maxSpeech
	}
	key := vadKey{cfg.EndSilence, cfg.MaxSpeech}
	if e.dets == nil {
		e.dets = map[vadKey]*vad.Detector{}
	}
	det := e.dets[key]
	if det == nil {
		det = vad.New(cfg)
		e.dets[key] = det
	}
	if e.framer == nil || det != e.det {
		e.framer = vad.NewFramer(det.FrameSize())
	}
	e.det, e.q, e.state = det, q, st
	e.framer.Reset()
	det.Reset()
	if cr.earCh == nil {
		// Made when the call first listens (many calls only take keys):
		// the receive goroutine sees them after it loads earGen below.
		cr.earCh, cr.earFree = make(chan earFrame, earQueue), make(chan []int16, earQueue+4)
	}
	e.lastGen++
	e.gen = e.lastGen
	cr.earGen.Store(e.gen)
}

// armEar opens the ear while a barge-in prompt plays before a speech
// question (called whenever prompts or questions were queued).
func (cr *run) armEar() {
	if cr.ear.state != earOff || cr.play == nil || cr.hungUp {
		return
	}
	q, ok := cr.nextQuestion()
	if !ok || !q.bargeIn || !cr.speechOK(q) {
		return
	}
	cr.openEar(q, earArmed)
	cr.ear.det.SetEchoGuard(cr.echoGuard())
}

func (cr *run) echoGuard() float64 {
	g := cr.r.cfg.EchoGuard
	if g == 0 {
		return defaultEchoGuard
	}
	return max(0, g)
}

// closeEar ends the listening period: an utterance in progress is dropped
// (outcome: why), a paused prompt plays on.
func (cr *run) closeEar(why string) {
	e := &cr.ear
	if u := e.utt; u != nil {
		if e.state == earCapturing {
			u.stream.Abort()
		}
		u.cancel() // a Close in progress returns; its result is not waited for
		e.utt = nil
		u.report.Outcome = why
		cr.report(u.report)
	}
	e.resultCh = nil
	if e.state == earPaused && cr.play != nil {
		cr.play.resume()
	}
	e.state, e.gen = earOff, 0
	cr.earGen.Store(0)
}

// beginListen starts the ear for a question whose prompts are over. It
// returns false when the question wants speech only and no recogniser is
// configured: the call then goes to the keypad.
func (cr *run) beginListen(q question, timeout time.Duration) bool {
	e := &cr.ear
	if !cr.speechOK(q) {
		cr.closeEar("")
		cr.setTimer("noinput", timeout)
		if q.speech && !q.dtmf {
			// A speech-only question with nobody to hear it: without this
			// the caller would hear nothing until the no-input time-out.
			return false
		}
		return true
	}
	switch {
	case e.carry && (e.state == earArmed || e.state == earPaused):
		// Barge-in: the detector is inside the caller's speech.
		e.state = earListening
		e.det.SetEchoGuard(0)
		return true
	case e.state == earArmed:
		// The prompt played to its end: the same period goes on. Speech that
		// began during audio that could not be interrupted is forgotten, so
		// the detector finds it again (with its pre-roll) now that it counts.
		if e.det.Speaking() {
			e.det.Reset()
		}
		e.state = earListening
		e.det.SetEchoGuard(0)
	default:
		cr.closeEar("")
		cr.openEar(q, earListening)
		e.det.SetEchoGuard(0)
	}
	cr.setTimer("noinput", timeout)
	return true
}

// hear takes a frame from the receive goroutine.
func (cr *run) hear(f earFrame) {
	e := &cr.ear
	if f.gen == e.gen && e.gen != 0 {
		e.wall = f.at
		e.framer.Write(f.pcm, e.push)
	}
	cr.recycle(f.pcm)
}

// vadFrame runs one detector frame through the state machine.
func (cr *run) vadFrame(frame []int16) {
	e := &cr.ear
	switch e.state {
	case earOff, earRecognizing:
		return
	}
	ev := e.det.Push(frame)
	switch e.state {
	case earArmed, earPaused:
		switch ev.Kind {
		case vad.Onset:
			if cr.play != nil && cr.play.bargeable() {
				cr.play.pause()
				e.state, e.pausedAt = earPaused, e.wall
				cr.log.Debug("speech onset: prompt paused", "level_floor", e.det.NoiseFloor())
			}
		case vad.Cancel:
			if e.state == earPaused {
				if cr.play != nil {
					cr.play.resume()
				}
				e.state = earArmed
				cr.r.speech.resumed.Add(1)
				cr.log.Info("noise, not speech: prompt resumed", "paused_for", time.Since(e.pausedAt).Round(time.Millisecond),
					"reason", ev.Reason)
			}
		case vad.Start:
			if e.state == earPaused || (cr.play != nil && cr.play.bargeable()) {
				cr.bargeIn(ev)
			}
		}
	case earListening, earOnset:
		switch ev.Kind {
		case vad.Onset:
			// The caller may be speaking: the no-input time stops.
			e.noInputLeft = -1
			if cr.timer != nil && cr.timerOf == "noinput" {
				e.noInputLeft = max(time.Until(cr.timerAt), 0)
				cr.stopTimer()
			}
			e.state = earOnset
		case vad.Cancel:
			e.state = earListening
			if e.noInputLeft >= 0 {
				cr.setTimer("noinput", max(e.noInputLeft, time.Millisecond))
			}
		case vad.Start:
			cr.stopTimer()
			cr.startUtterance(ev, false)
		}
	case earCapturing:
		if ev.Kind == vad.End {
			cr.endUtterance(ev)
			return
		}
		if err := e.utt.stream.Write(frame); err != nil {
			cr.recognitionFailed(e.utt, "error", err)
			return
		}
		e.utt.keep(frame)
	}
}

// bargeIn: confirmed speech during a barge-in prompt. The prompt is
// abandoned, the question begins and the utterance is recognised from its
// onset (with the detector's pre-roll).
func (cr *run) bargeIn(ev vad.Event) {
	e := &cr.ear
	cr.r.speech.bargeIns.Add(1)
	paused := e.state == earPaused
	cr.log.Info("barge-in: prompt stopped", "paused_first", paused)
	cr.stopPrompts()
	e.carry = true
	ok := cr.runAfter()
	e.carry = false
	if ok && e.state == earListening {
		cr.startUtterance(ev, true)
	}
}

// startUtterance opens a recogniser stream with the detector's audio so far.
func (cr *run) startUtterance(ev vad.Event, barge bool) {
	e := &cr.ear
	rec := cr.asr
	rep := SpeechReport{Node: cr.se.State().Node, BargeIn: barge, Backend: rec.Name(), Confidence: -1,
		SpeechStart: e.wall.Add(-(ev.At - ev.Begin))}
	ctx, cancel := context.WithCancel(cr.ctx)
	st, err := rec.Start(ctx, speech.Options{Language: cr.s.Language, Hints: e.q.hints, CallID: cr.c.ID})
	if err != nil {
		cancel()
		cr.recognitionFailed(&utterance{report: rep, cancel: func() {}}, failKind(err), err)
		return
	}
	cr.r.speech.utterances.Add(1)
	u := &utterance{stream: st, ctx: ctx, cancel: cancel, report: rep}
	e.utt, e.state = u, earCapturing
	if err := st.Write(ev.Audio); err != nil {
		cr.recognitionFailed(u, "error", err)
		return
	}
	cr.keepAudio(u, ev.Audio)
	cr.log.Debug("speech started", "barge_in", barge, "pre_roll_and_speech", time.Duration(len(ev.Audio))*time.Second/8000)
}

// endUtterance: the detector found the end. The stream is closed on a
// goroutine of its own; the loop waits for it at most RecognizeTimeout.
func (cr *run) endUtterance(ev vad.Event) {
	e := &cr.ear
	u := e.utt
	u.report.SpeechEnd = e.wall.Add(-(ev.At - ev.SpeechEnd))
	u.report.Endpointed = time.Now()
	u.report.EndReason = ev.Reason
	e.state = earRecognizing
	cr.earGen.Store(0) // no more frames for this question
	e.gen = 0
	timeout := cr.recognizeTimeout()
	cr.setTimer("recognize", timeout)
	ch := make(chan uttResult, 1)
	e.resultCh = ch
	cr.wg.Add(1)
	go func() {
		defer cr.wg.Done()
		ctx, cancel := context.WithTimeout(u.ctx, timeout)
		res, err := u.stream.Close(ctx)
		cancel()
		ch <- uttResult{u: u, res: res, err: err, at: time.Now()}
	}()
}

func (cr *run) recognizeTimeout() time.Duration {
	if d := cr.r.cfg.RecognizeTimeout; d > 0 {
		return d
	}
	return defaultRecognizeTimeout
}

// recognized takes the recogniser's answer.
func (cr *run) recognized(r uttResult) {
	e := &cr.ear
	if r.u != e.utt || e.state != earRecognizing {
		return
	}
	u := r.u
	u.report.Recognized = r.at
	if r.err != nil {
		kind := failKind(r.err)
		if errors.Is(r.err, context.DeadlineExceeded) {
			kind = "timeout"
		}
		cr.recognitionFailed(u, kind, r.err)
		return
	}
	e.utt, e.resultCh = nil, nil
	u.cancel()
	text := strings.TrimSpace(r.res.Text)
	u.report.Text, u.report.Confidence = text, r.res.Confidence
	rep := u.report
	cr.log.Info("heard", "text", text, "confidence", r.res.Confidence, "alternatives", len(r.res.Alternatives),
		"node", rep.Node, "barge_in", rep.BargeIn, "end", rep.EndReason,
		"speech", rep.SpeechEnd.Sub(rep.SpeechStart).Round(time.Millisecond),
		"endpointing", rep.Endpointing().Round(time.Millisecond),
		"recognition", rep.Recognition().Round(time.Millisecond))
	cr.wait, cr.digits = waitNone, nil
	cr.stopTimer()
	before := cr.play
	if text == "" {
		// Something loud enough for the detector, but no words: the caller
		// said nothing we can use. No input (the engine's "I didn't hear
		// you"), not an empty no-match for the unanswered list.
		cr.r.speech.empty.Add(1)
		rep.Outcome = "empty"
		cr.handle(dialog.NoInput{})
	} else {
		cr.r.speech.recognized.Add(1)
		rep.Outcome = "recognized"
		conf := max(r.res.Confidence, 0)
		alts := make([]string, 0, len(r.res.Alternatives))
		for _, a := range r.res.Alternatives {
			if t := strings.TrimSpace(a.Text); t != "" {
				alts = append(alts, t)
			}
		}
		cr.heard = &heardUtterance{confidence: r.res.Confidence, audio: u.audio}
		cr.handle(dialog.Utterance{Text: text, Confidence: conf, Alternatives: alts})
		cr.heard = nil
	}
	cr.flushReport(true) // an older one still waiting
	if cr.play != nil && cr.play != before {
		e.pending, e.pendingPlay = &rep, cr.play
		return
	}
	cr.report(rep) // no spoken reply
}

// recognizeTimedOut: the loop's own bound on the wait for a result, in case
// a backend does not honour its context.
func (cr *run) recognizeTimedOut() {
	if u := cr.ear.utt; u != nil && cr.ear.state == earRecognizing {
		u.report.Recognized = time.Now()
		cr.recognitionFailed(u, "timeout", context.DeadlineExceeded)
	}
}

func failKind(err error) string {
	switch {
	case errors.Is(err, speech.ErrBusy):
		return "busy"
	case errors.Is(err, speech.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// recognitionFailed switches the call to the keypad: the engine says the
// script's keypad_fallback and asks the question again for keys.
func (cr *run) recognitionFailed(u *utterance, kind string, err error) {
	e := &cr.ear
	if cr.ctx.Err() != nil {
		return // the call is ending: not the recogniser's fault
	}
	if e.utt == u {
		if e.state == earCapturing {
			u.stream.Abort()
		}
		e.utt = nil
	}
	u.cancel()
	c := &cr.r.speech
	c.fallbacks.Add(1)
	switch kind {
	case "busy":
		c.busy.Add(1)
	case "unavailable":
		c.unavailable.Add(1)
	case "timeout":
		c.timeout.Add(1)
	default:
		c.failed.Add(1)
	}
	reason := "recogniser " + kind
	if kind == "timeout" {
		reason = "recogniser gave no answer within " + cr.recognizeTimeout().String()
	}
	u.report.Outcome, u.report.Reason = kind, err.Error()
	if u.report.Recognized.IsZero() {
		u.report.Recognized = time.Now()
	}
	cr.log.Warn("speech recognition failed: switching to the keypad", "reason", kind, "err", err,
		"backend", u.report.Backend)
	cr.report(u.report)
	cr.degrade(reason)
}

// degrade delivers SpeechUnavailable.
func (cr *run) degrade(reason string) {
	cr.closeEar("")
	cr.wait, cr.digits = waitNone, nil
	cr.stopTimer()
	cr.handle(dialog.SpeechUnavailable{Reason: reason})
}

// noRecognizer: a speech-only question, and no recogniser is configured.
func (cr *run) noRecognizer() {
	cr.r.speech.noRecognize.Add(1)
	cr.log.Info("a question takes speech only, but no recogniser is configured: asking for keys")
	cr.degrade("no recogniser")
}

// keyWins: a key the question takes was pressed; speech is over for this
// question (an utterance in progress is dropped).
func (cr *run) keyWins() {
	e := &cr.ear
	if e.state == earOff {
		return
	}
	if e.utt != nil {
		cr.r.speech.keyWins.Add(1)
		cr.log.Info("key pressed while speaking: the key wins", "state", e.state.String())
	}
	cr.closeEar("key")
}

// report hands an utterance's account to OnSpeech.
func (cr *run) report(r SpeechReport) {
	if r.Outcome == "" {
		return
	}
	if f := cr.r.cfg.OnSpeech; f != nil {
		f(cr.c, r)
	}
}

// flushReport reports the last utterance once its reply started playing (or
// now, when force).
func (cr *run) flushReport(force bool) {
	e := &cr.ear
	if e.pending == nil {
		return
	}
	first := e.pendingPlay.firstAudio()
	if first.IsZero() && !force {
		return
	}
	rep := *e.pending
	e.pending, e.pendingPlay = nil, nil
	rep.ReplyStarted = first
	if !first.IsZero() {
		cr.log.Info("speech reply", "end_of_speech_to_reply", rep.Total().Round(time.Millisecond),
			"endpointing", rep.Endpointing().Round(time.Millisecond),
			"recognition", rep.Recognition().Round(time.Millisecond), "rest", rep.Rest().Round(time.Millisecond))
	}
	cr.report(rep)
}
