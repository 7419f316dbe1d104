package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/vad"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/speech"
)

// Prompts turns the engine's Say and Play actions into audio for one script.
type Prompts interface {
	Speak(ctx context.Context, text string) ([]int16, error)
	File(ctx context.Context, path string) ([]int16, error) // relative to the script's folder
}

// Config is what every call of a server shares.
type Config struct {
	Script     func() *dialog.Script                  // the script new calls run; a call keeps the one it started with
	Prompts    func(s *dialog.Script) Prompts         // audio for a script's prompts (its voice, its folder)
	Pacer      *media.Pacer                           // sends every call's audio on time
	RTPTimeout time.Duration                          // no RTP from the caller for this long ends the call
	DataDir    string                                 // recordings/ and messages/ go here
	Record     bool                                   // record every call (stereo WAV)
	HTTPClient *http.Client                           // for the scripts' backend requests
	Vars       map[string]any                         // extra variables for every call (from configuration)
	Logger     *slog.Logger                           //
	Now        func() time.Time                       // the clock (the engine has none); time.Now if nil
	OnEnd      func(c *sip.Call, st dialog.State)     // optional: called when a call is over (records, metrics)
	OnTurn     func(c *sip.Call, u dialog.Understood) // optional: each understood input

	// Dial places the agent leg of a bridge transfer (sip.Server.Dial); nil:
	// bridge transfers fail over to the node's on_fail.
	Dial func(ctx context.Context, cfg sip.DialConfig, target string) (*sip.Call, error)
	// PublicURL is the admin UI's address: a transfer's X-Hotline-Call-URL
	// is PublicURL/calls/<Call-ID> (left out when empty).
	PublicURL string
	// OnHandoff, optional, gets each transfer attempt: a blind one when its
	// outcome is known; a bridge at once when it failed, at the end of the
	// call when an agent took it.
	OnHandoff func(c *sip.Call, h Handoff)

	// Recognizer turns the caller's speech into text (nil: none configured;
	// questions then take keys, and a speech-only question switches the
	// call to the keypad at once). See docs/barge-in.md.
	Recognizer speech.Recognizer
	// RecognizeTimeout bounds the wait from the end of an utterance to its
	// text (default 3 s); beyond it the call switches to the keypad.
	RecognizeTimeout time.Duration
	// VAD is the voice activity detector's configuration (zero: its
	// defaults); a question's end_silence and max_speech override it.
	VAD vad.Config
	// EchoGuard raises the detector's thresholds by this many dB while a
	// barge-in prompt plays, so the line's echo of the prompt does not
	// interrupt it (0: 15 dB; negative: off).
	EchoGuard float64
	// OnSpeech, optional, gets each utterance's account and timings.
	OnSpeech func(c *sip.Call, r SpeechReport)
	// TalkTime measures the caller's talk time: a voice activity detector
	// on all of the caller's audio for the whole call (about 1 µs per 20 ms
	// of audio, on the media receive goroutine; BenchmarkTalkDetect),
	// reported in Finish.Talk and TalkSpurts. See docs/records.md.
	TalkTime bool

	// The record hooks (hooks.go), all optional, all called on the call's
	// goroutine (they must not block): OnAnswer once when the call's
	// handling starts, OnPrompt for each prompt the bot queues, OnInput for
	// each input the engine understood (with the recogniser's confidence
	// and the utterance's audio), OnFinish once at the end, whatever ended
	// the call (set-up failures and panics included).
	OnAnswer func(c *sip.Call, a Answer)
	OnPrompt func(c *sip.Call, p Prompt)
	OnInput  func(c *sip.Call, in Input)
	OnFinish func(c *sip.Call, f Finish)
}

// Runner runs calls: it is the sip.Handler of a server.
type Runner struct {
	cfg    Config
	active atomic.Int64
	drain  chan struct{}
	once   sync.Once
	speech speechCounters
	spool  wav.Spool // writes the calls' recordings (lanes start with the first)
}

// RecordingsDropped is the number of recording blocks (BlockSize of
// audio each) dropped because the disk fell behind, and recordings not
// started for it (media/wav.Spool): it should stay 0.
func (r *Runner) RecordingsDropped() uint64 { return r.spool.Dropped() }

// New returns a Runner.
func New(cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return &Runner{cfg: cfg, drain: make(chan struct{})}
}

// Active is the number of calls in progress.
func (r *Runner) Active() int { return int(r.active.Load()) }

// EndAll asks every call in progress to say goodbye and hang up (the end of a
// graceful shutdown's grace period).
func (r *Runner) EndAll() { r.once.Do(func() { close(r.drain) }) }

// ServeCall runs one call from answer to hang-up. It implements sip.Handler.
func (r *Runner) ServeCall(ctx context.Context, c *sip.Call) {
	r.active.Add(1)
	defer r.active.Add(-1)
	log := r.cfg.Logger.With("call_id", c.ID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cr := &run{r: r, c: c, ctx: ctx, log: log, s: r.cfg.Script(), started: r.cfg.Now(),
		infoCh: c.Digits(), sdpCh: c.MediaChanges(), drainCh: r.drain}
	cr.asr = recognizerFor(r.cfg.Recognizer, cr.s.Language)
	if r.cfg.Record && cr.s.Recording {
		cr.recPath = filepath.Join(r.cfg.DataDir, "recordings", cr.started.Format("2006-01-02"), safeName(c.ID)+".wav")
	}
	defer func() {
		if p := recover(); p != nil {
			// One call's bug must not take the others down: end this call only.
			log.Error("call panicked", "panic", p, "stack", string(debug.Stack()))
			cr.failed = true
			cr.hangup(context.WithoutCancel(ctx), "error")
		}
		cr.close()
	}()
	if f := r.cfg.OnAnswer; f != nil {
		f(c, Answer{At: cr.started, Script: cr.s, Recording: cr.recPath})
	}
	if err := cr.setup(); err != nil {
		log.Error("call set-up failed", "err", err)
		cr.failed = true
		cr.hangup(context.WithoutCancel(ctx), "error")
		return
	}
	cr.loop()
}

type waitState uint8

const (
	waitNone waitState = iota
	waitInput
	waitCollect
	waitRecord
	waitTransfer
)

// run is one call in progress; its loop is the only goroutine that touches it.
type run struct {
	asr     speech.Recognizer // nil when none is configured or it lacks the script's language
	r       *Runner
	c       *sip.Call
	ctx     context.Context
	log     *slog.Logger
	s       *dialog.Script
	se      *dialog.Session
	ms      *media.Session
	prompts Prompts
	rec     *frameRecorder
	recPath string // the stereo recording, "" when the call is not recorded
	started time.Time
	failed  bool            // panicked, or the set-up failed (OnFinish)
	heard   *heardUtterance // the utterance the engine is handling (OnInput)

	play        *playlist       // what the caller hears now, or nil
	after       []dialog.Action // run when the prompts have been heard
	wait        waitState
	listen      dialog.Listen
	collect     dialog.CollectDigits
	record      dialog.Record
	msg         *messageCapture
	digits      []rune
	timer       *time.Timer
	timerOf     string
	timerAt     time.Time // when timer fires
	httpCh      chan dialog.HTTPResult
	referCh     <-chan sip.ReferStatus
	referCancel context.CancelFunc // ends the REFER's subscription
	blind       *Handoff           // the blind transfer in progress
	referSent   time.Time
	events      <-chan media.Event // nil once closed
	infoCh      <-chan sip.Digit
	sdpCh       <-chan sip.Media
	drainCh     <-chan struct{}
	hungUp      bool // the caller hung up, or we did
	reason      string

	br      *bridge               // a bridge transfer in progress, or nil
	toAgent atomic.Pointer[relay] // where the caller's audio goes during a bridge

	ear     ear            // listening: VAD, barge-in, recognition (speech.go)
	earGen  atomic.Uint64  // the ear's generation; 0: closed (read by the receive goroutine)
	earCh   chan earFrame  // caller audio for the ear; made by openEar, before the first earGen
	earFree chan []int16   // its buffers, back to the receive goroutine
	wg      sync.WaitGroup // the call's recogniser goroutines
}

func (cr *run) setup() error {
	cfg := cr.r.cfg
	cr.prompts = cfg.Prompts(cr.s)
	codec, ok := media.LookupCodec(cr.c.Media.Codec.Name)
	if !ok {
		return fmt.Errorf("negotiated codec %s is not supported by the media engine", cr.c.Media.Codec.Name)
	}
	cr.rec = &frameRecorder{}
	if cr.recPath != "" {
		path := cr.recPath
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fmt.Errorf("recording: %w", err)
		}
		// The file is created and written on the runner's spool, off this
		// goroutine and the media's: a slow disk delays the recording, not
		// the caller's first prompt.
		w, err := cr.r.spool.Create(path, wav.WriterOptions{Rate: 8000, Channels: 2})
		if err != nil {
			cr.log.Error("call not recorded", "err", err)
		} else {
			cr.rec.stereo, cr.rec.file = w, w
			cr.log.Info("recording", "file", path)
		}
	}
	ms, err := media.NewSession(media.Config{
		Conn: cr.c.Conn, Remote: cr.c.Media.Remote, Latch: true, Codec: codec,
		DTMFPayload: cr.c.Media.DTMFPayload, PTime: cr.c.Media.PTime, RTPTimeout: cfg.RTPTimeout,
		Pacer: cfg.Pacer, Recorder: cr.rec, Logger: cr.log, CallerAudio: cr.callerAudio,
	})
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	cr.ms = ms
	if !cr.c.Media.CanSend() {
		ms.SetSending(false) // answered on hold
	}
	ms.Start(cr.ctx)
	cr.events = ms.Events()
	vars := map[string]any{}
	for k, v := range cfg.Vars {
		vars[k] = v
	}
	cr.se = dialog.NewSession(cr.s, dialog.CallInfo{
		ID: cr.c.ID, Caller: cr.c.Caller(), Called: cr.c.Called(), Channel: "phone", Time: cr.started, Vars: vars,
	})
	cr.log.Info("call answered", "caller", cr.c.Caller(), "called", cr.c.Called(), "script", cr.s.Name,
		"script_version", cr.s.Version, "codec", codec.Name, "dtmf_pt", cr.c.Media.DTMFPayload)
	cr.exec(cr.se.Start())
	return nil
}

// loop waits for whatever comes next until the call is over.
func (cr *run) loop() {
	for !cr.hungUp {
		var timerC <-chan time.Time
		if cr.timer != nil {
			timerC = cr.timer.C
		}
		var played <-chan struct{}
		if cr.play != nil {
			played = cr.play.done
		}
		var msgEnd <-chan string
		if cr.msg != nil {
			msgEnd = cr.msg.end
		}
		var (
			dialed    <-chan dialResult
			whispered <-chan struct{}
			agentDone <-chan struct{}
			agentEv   <-chan media.Event
			agentSDP  <-chan sip.Media
		)
		if br := cr.br; br != nil {
			dialed, agentEv, agentSDP = br.dialCh, br.agentEv, br.agentSDP
			if br.whisper != nil {
				whispered = br.whisper.done
			}
			if br.agent != nil {
				agentDone = br.agent.Done()
			}
		}
		select {
		case <-cr.ctx.Done():
			cr.callerGone("caller hung up")
		case f := <-cr.earCh:
			cr.hear(f)
		case r := <-cr.ear.resultCh:
			cr.recognized(r)
		case ev, ok := <-cr.events:
			if !ok {
				cr.events = nil
				continue
			}
			cr.mediaEvent(ev)
		case d, ok := <-cr.infoCh:
			if !ok {
				cr.infoCh = nil
				continue
			}
			cr.ms.InjectDigit(d.Key, "info")
		case m, ok := <-cr.sdpCh:
			if !ok {
				cr.sdpCh = nil
				continue
			}
			cr.mediaChanged(m)
		case <-played:
			cr.play = nil
			cr.runAfter()
		case res := <-cr.httpCh:
			cr.httpCh = nil
			cr.handle(res)
		case st, ok := <-cr.referCh:
			cr.referStatus(st, ok)
		case why := <-msgEnd:
			cr.endMessage(why)
		case <-timerC:
			cr.timer = nil
			cr.timeout()
		case <-cr.drainCh:
			cr.drainCh = nil // only once for this call
			cr.shutdown()
		case res := <-dialed:
			cr.bridgeDialed(res)
		case <-whispered:
			cr.whisperDone()
		case <-agentDone:
			cr.agentGone()
		case ev, ok := <-agentEv:
			if !ok {
				cr.br.agentEv = nil
				continue
			}
			cr.agentEvent(ev)
		case m, ok := <-agentSDP:
			if !ok {
				cr.br.agentSDP = nil
				continue
			}
			cr.agentMediaChanged(m)
		}
		cr.flushReport(false)
	}
}

// handle feeds an event to the engine and carries out its answer.
func (cr *run) handle(ev dialog.Event) {
	cr.closeEar("dropped") // whatever the ear was doing, this question is answered
	cr.exec(cr.se.Handle(ev))
}

// exec carries out the engine's actions in order. Prompts are queued at once;
// what must follow them (listening, transferring, hanging up) waits until
// the caller has heard them.
func (cr *run) exec(acts []dialog.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case dialog.Say:
			cr.promptHook(a.Text, "")
			cr.enqueueBarge(cr.speak(a.Text), a.BargeIn)
		case dialog.Play:
			cr.promptHook(a.Text, a.File)
			pcm, err := cr.prompts.File(cr.ctx, a.File)
			if err != nil {
				cr.log.Warn("audio prompt failed, speaking its text instead", "file", a.File, "err", err)
				pcm = cr.speak(a.Text)
			}
			cr.enqueueBarge(pcm, a.BargeIn)
		case dialog.Understood:
			cr.log.Info("understood", "node", a.Node, "input", a.Input, "text", a.Text, "outcome", a.Outcome,
				"intent", a.Result.Intent, "tier", a.Result.Tier.String(), "score", a.Result.Score)
			if cr.r.cfg.OnTurn != nil {
				cr.r.cfg.OnTurn(cr.c, a)
			}
			cr.inputHook(a)
		case dialog.Tag:
			cr.log.Info("tag", "grade", a.Grade, "tags", a.Tags)
		case dialog.HTTPRequest:
			cr.startHTTP(a)
		default: // Listen, CollectDigits, Record, Transfer, Hangup
			cr.after = append(cr.after, a)
		}
	}
	if cr.play == nil {
		cr.runAfter()
	}
	cr.armEar()
}

func (cr *run) speak(text string) []int16 {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	pcm, err := cr.prompts.Speak(cr.ctx, text)
	if err != nil {
		cr.log.Error("text to speech failed", "text", text, "err", err)
		return nil
	}
	return pcm
}

func (cr *run) enqueue(pcm []int16) { cr.enqueueBarge(pcm, false) }

// enqueueBarge queues a prompt; barge: the caller may interrupt it by
// speaking (when the question after it takes speech with barge-in).
func (cr *run) enqueueBarge(pcm []int16, barge bool) {
	if len(pcm) == 0 {
		return
	}
	if cr.play != nil && cr.play.addBarge(pcm, barge) {
		return
	}
	cr.play = newPlaylist()
	cr.play.addBarge(pcm, barge)
	cr.ms.Play(cr.play)
}

// stopPrompts is barge-in: the caller interrupted, the prompt stops now.
func (cr *run) stopPrompts() {
	if cr.play != nil {
		cr.play.stop()
		cr.ms.StopPlayback()
		cr.play = nil
	}
}

// runAfter starts what waited for the prompts to end. It returns false
// when the question it started was answered at once (the call switched to
// the keypad).
func (cr *run) runAfter() bool {
	acts := cr.after
	cr.after = nil
	for _, a := range acts {
		switch a := a.(type) {
		case dialog.Listen:
			cr.wait, cr.listen, cr.digits = waitInput, a, nil
			if !cr.beginListen(listenQuestion(a), a.Timeout) {
				cr.noRecognizer()
				return false
			}
		case dialog.CollectDigits:
			cr.wait, cr.collect = waitCollect, a
			if len(cr.digits) == 0 {
				if !cr.beginListen(collectQuestion(a), a.Timeout) {
					cr.noRecognizer()
					return false
				}
			} else {
				cr.closeEar("") // keys already: this question takes no speech
				cr.setTimer("interdigit", a.InterDigit)
			}
		case dialog.Record:
			cr.startRecord(a)
		case dialog.Transfer:
			cr.startTransfer(a)
		case beepDone:
			cr.beginCapture()
		case dialog.Hangup:
			cr.hangup(cr.ctx, a.Reason)
			return true
		}
	}
	return true
}

func (cr *run) setTimer(of string, d time.Duration) {
	cr.stopTimer()
	if d <= 0 {
		return
	}
	cr.timer, cr.timerOf, cr.timerAt = time.NewTimer(d), of, time.Now().Add(d)
}

func (cr *run) stopTimer() {
	if cr.timer != nil {
		cr.timer.Stop()
		cr.timer = nil
	}
}

func (cr *run) timeout() {
	switch cr.timerOf {
	case "noinput", "interdigit":
		switch cr.wait {
		case waitInput, waitCollect:
			keys := string(cr.digits)
			cr.wait, cr.digits = waitNone, nil
			if keys == "" {
				cr.handle(dialog.NoInput{})
			} else {
				cr.handle(dialog.Digits{Keys: keys})
			}
		}
	case "recognize":
		cr.recognizeTimedOut()
	case "record":
		cr.endMessage("max")
	case "transfer":
		cr.endRefer()
		cr.blindFailed(408, "no answer to the transfer in time")
	}
}

func (cr *run) mediaEvent(ev media.Event) {
	switch ev.Kind {
	case media.EventDigit:
		if cr.bridgeDigit(ev.Digit) {
			return
		}
		cr.digit(ev.Digit.Key)
	case media.EventTimeout:
		cr.log.Warn("no RTP from the caller: ending the call", "after", cr.r.cfg.RTPTimeout)
		cr.callerGone("rtp timeout")
		if cr.c != nil {
			cr.hangupNow("rtp timeout")
		}
	}
}

// digit handles one key, whatever delivered it (RFC 4733, in-band, INFO).
func (cr *run) digit(key rune) {
	cr.log.Debug("digit", "key", string(key))
	if cr.play != nil {
		// Keys during a prompt count only when the question after it allows barge-in.
		barge := false
		for _, a := range cr.after {
			switch a := a.(type) {
			case dialog.Listen:
				barge = a.BargeIn && a.DTMF
			case dialog.CollectDigits:
				barge = a.BargeIn && a.DTMF
			}
		}
		if !barge {
			return
		}
		cr.stopPrompts()
		cr.runAfter()
	}
	switch cr.wait {
	case waitInput:
		if !cr.listen.DTMF {
			return
		}
		cr.keyWins()
		cr.digits = append(cr.digits, key)
		max := max(cr.listen.MaxDigits, 1)
		if len(cr.digits) >= max || key == '#' {
			cr.deliverDigits()
			return
		}
		cr.setTimer("interdigit", cr.listen.DigitTimeout)
	case waitCollect:
		if !cr.collect.DTMF {
			return
		}
		cr.keyWins()
		cr.digits = append(cr.digits, key)
		// The end key, or the most digits a valid answer has, ends the number;
		// the engine strips the end key and validates.
		if (cr.collect.End != "" && string(key) == cr.collect.End) || len(cr.digits) >= cr.collect.Max {
			cr.deliverDigits()
			return
		}
		cr.setTimer("interdigit", cr.collect.InterDigit)
	case waitRecord:
		if cr.record.End != "" && string(key) == cr.record.End {
			cr.endMessage("key")
		}
	}
}

func (cr *run) deliverDigits() {
	keys := string(cr.digits)
	cr.digits = nil
	cr.wait = waitNone
	cr.stopTimer()
	cr.handle(dialog.Digits{Keys: keys})
}

func (cr *run) mediaChanged(m sip.Media) {
	codec, ok := media.LookupCodec(m.Codec.Name)
	if !ok {
		cr.log.Warn("re-INVITE with an unsupported codec ignored", "codec", m.Codec.Name)
		return
	}
	cr.ms.SetRemote(m.Remote, codec, m.DTMFPayload)
	cr.ms.SetSending(m.CanSend())
	cr.log.Info("media changed", "remote", m.Remote, "direction", m.Direction)
}

// agentMediaChanged applies the agent's re-INVITE (hold, a new address).
func (cr *run) agentMediaChanged(m sip.Media) {
	codec, ok := media.LookupCodec(m.Codec.Name)
	if !ok {
		cr.br.log.Warn("agent re-INVITE with an unsupported codec ignored", "codec", m.Codec.Name)
		return
	}
	cr.br.ams.SetRemote(m.Remote, codec, m.DTMFPayload)
	cr.br.ams.SetSending(m.CanSend())
	cr.br.log.Info("agent media changed", "remote", m.Remote, "direction", m.Direction)
}

func (cr *run) startHTTP(req dialog.HTTPRequest) {
	ch := make(chan dialog.HTTPResult, 1)
	cr.httpCh = ch
	client := cr.r.cfg.HTTPClient
	go func() {
		// The loop keeps serving media and digits meanwhile; the request is bound by the call.
		ch <- DoHTTP(cr.ctx, client, req)
	}()
	cr.log.Info("backend request", "method", req.Method, "url", req.URL)
}

// contextHeaders are what the agent learns about the call: its ID, the
// link to its page, and the script's templated headers.
func (cr *run) contextHeaders(t dialog.Transfer) []sip.Header {
	headers := make([]sip.Header, 0, len(t.Headers)+2)
	headers = append(headers, sip.Header{Name: "X-Hotline-Call-ID", Value: cr.c.ID})
	if u := cr.r.cfg.PublicURL; u != "" {
		headers = append(headers, sip.Header{Name: "X-Hotline-Call-URL",
			Value: strings.TrimRight(u, "/") + "/calls/" + url.PathEscape(cr.c.ID)})
	}
	for _, h := range t.Headers {
		headers = append(headers, sip.Header{Name: h.Name, Value: h.Value})
	}
	return headers
}

func (cr *run) startTransfer(t dialog.Transfer) {
	cr.log.Info("transfer", "to", t.To, "mode", t.Mode)
	if t.Mode == "bridge" {
		cr.startBridge(t)
		return
	}
	headers := cr.contextHeaders(t)
	// The context headers travel in the Refer-To URI, so the caller's phone
	// puts them on its INVITE to the agent. The transfer's time limit
	// bounds the REFER's subscription too, so a NOTIFY that comes after
	// on_fail has taken over is not followed.
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = defaultTransferTimeout
	}
	ctx, cancel := context.WithTimeout(cr.ctx, timeout)
	cr.blind = &Handoff{CallID: cr.c.ID, Mode: "blind", To: t.To}
	cr.referSent = time.Now()
	ch, err := cr.c.Refer(ctx, sip.ReferTarget(t.To, headers...), headers[0])
	if err != nil {
		cancel()
		cr.log.Warn("REFER failed", "err", err)
		cr.blindFailed(0, err.Error())
		return
	}
	cr.wait, cr.referCh, cr.referCancel = waitTransfer, ch, cancel
	// A backstop: sip reports 408 at the deadline itself.
	cr.setTimer("transfer", timeout+time.Second)
}

// endRefer forgets the transfer in progress and ends its subscription.
func (cr *run) endRefer() {
	cr.referCh = nil
	if cr.referCancel != nil {
		cr.referCancel()
		cr.referCancel = nil
	}
	cr.stopTimer()
	cr.wait = waitNone
}

// reportBlind logs a blind transfer's end and hands it to OnHandoff.
func (cr *run) reportBlind(code int, reason string) {
	h := cr.blind
	if h == nil {
		return
	}
	cr.blind = nil
	h.Code, h.Reason = code, reason
	h.Answer = time.Since(cr.referSent)
	cr.log.Info("blind transfer ended", "to", h.To, "code", h.Code, "reason", h.Reason,
		"answer_time", h.Answer.Round(time.Millisecond))
	if cr.r.cfg.OnHandoff != nil {
		cr.r.cfg.OnHandoff(cr.c, *h)
	}
}

// blindFailed: the REFER was refused, failed or timed out; the caller stays
// with the bot and the flow goes on at on_fail.
func (cr *run) blindFailed(code int, reason string) {
	cr.reportBlind(code, reason)
	cr.handle(dialog.TransferFailed{Code: code, Reason: reason})
}

func (cr *run) referStatus(st sip.ReferStatus, ok bool) {
	if !ok { // the transfer's notifications ended without a final answer
		cr.endRefer()
		cr.blindFailed(0, "transfer ended without a final status")
		return
	}
	cr.log.Info("transfer progress", "state", st.State.String(), "code", st.Code, "reason", st.Reason)
	if !st.Final() {
		return
	}
	cr.endRefer()
	if st.State == sip.ReferDone {
		cr.reportBlind(0, "")
		cr.handle(dialog.Transferred{})
		// The caller is with a person now; the transferor leaves the call.
		cr.hangupNow("transferred")
		return
	}
	cr.blindFailed(st.Code, st.Reason)
}

func (cr *run) startRecord(r dialog.Record) {
	cr.wait, cr.record = waitRecord, r
	if r.Beep {
		// The beep plays first; the capture starts when it has been heard.
		cr.enqueue(tone(1000, 8000/4, 6000))
		cr.after = append(cr.after, beepDone{})
	}
	if !r.Beep || cr.play == nil {
		cr.beginCapture()
	}
}

// beepDone is an internal marker: capture starts once the beep has played.
type beepDone struct{ dialog.Hangup }

func (cr *run) beginCapture() {
	cr.msg = cr.rec.startMessage(cr.record.Max, cr.record.Silence)
	cr.setTimer("record", cr.record.Max+time.Second)
}

func (cr *run) endMessage(why string) {
	if cr.msg == nil {
		return
	}
	m := cr.msg
	cr.msg = nil
	cr.rec.stopMessage()
	cr.stopTimer()
	cr.wait = waitNone
	pcm, dur := m.result()
	file := ""
	if len(pcm) > 0 {
		path := filepath.Join(cr.r.cfg.DataDir, "messages", cr.started.Format("2006-01-02"),
			fmt.Sprintf("%s-%d.wav", safeName(cr.c.ID), time.Since(cr.started).Milliseconds()))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err == nil {
			if err := wav.Write(path, pcm, 8000); err == nil {
				file = path
			} else {
				cr.log.Error("saving the message failed", "err", err)
			}
		}
	}
	cr.log.Info("message recorded", "ended_by", why, "duration", dur, "file", file)
	cr.handle(dialog.RecordDone{Duration: dur, File: file})
}

// callerGone ends the engine's part when the caller is no longer there.
func (cr *run) callerGone(reason string) {
	if cr.hungUp {
		return
	}
	cr.hungUp = true
	cr.reason = reason
	cr.closeEar("hangup")
	cr.stopPrompts()
	cr.stopTimer()
	cr.se.Handle(dialog.HungUp{})
}

// hangup ends the call from our side once its prompts have been heard.
func (cr *run) hangup(ctx context.Context, reason string) {
	if cr.hungUp {
		return
	}
	cr.hungUp = true
	cr.reason = reason
	cr.stopTimer()
	cr.bye(ctx)
}

// hangupNow ends the call from our side without waiting.
func (cr *run) hangupNow(reason string) {
	cr.hungUp = true
	cr.reason = reason
	cr.stopPrompts()
	cr.stopTimer()
	cr.bye(context.WithoutCancel(cr.ctx))
}

func (cr *run) bye(ctx context.Context) {
	outcome := ""
	if cr.se != nil {
		outcome = cr.se.State().Outcome
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	headers := []sip.Header{{Name: "X-Hotline-Outcome", Value: outcome}}
	if err := cr.c.Hangup(ctx, headers...); err != nil && !errors.Is(err, context.Canceled) {
		cr.log.Warn("BYE failed", "err", err)
	}
}

// shutdown is the end of a drain's grace period: a polite goodbye, then BYE.
func (cr *run) shutdown() {
	if cr.br != nil {
		if cr.br.agent != nil {
			// The caller is with a person: no announcement over them, both legs end.
			cr.log.Info("shutdown: ending a bridged call")
			cr.hangupNow("shutdown")
			return
		}
		cr.ms.StopPlayback() // the ringback
		cr.closeBridge()
	}
	cr.closeEar("hangup")
	cr.stopPrompts()
	cr.after = nil
	cr.msg = nil
	cr.stopTimer()
	text := "We have to end this call for maintenance. Please call again later. Goodbye."
	if strings.HasPrefix(strings.ToLower(cr.s.Language), "zh") {
		text = "系统维护,本次通话需要结束,请稍后再拨。再见。"
	}
	cr.promptHook(text, "")
	cr.enqueue(cr.speak(text))
	cr.after = append(cr.after, dialog.Hangup{Reason: "shutdown"})
	if cr.play == nil {
		cr.runAfter()
	}
}

func (cr *run) close() {
	cr.closeBridge() // BYE or CANCEL to the agent, before the caller's media goes
	cr.closeEar("hangup")
	cr.flushReport(true)
	if cr.ms != nil {
		cr.ms.Close()
	}
	cr.wg.Wait() // recogniser waits end with the call's context
	recorded := ""
	if cr.rec != nil && cr.rec.file != nil {
		// Waits for the spool to write the last blocks and close the file
		// (a write error closed it already: this returns that error again).
		if err := cr.rec.file.Close(); err != nil {
			cr.log.Error("recording", "err", err)
		}
		if cr.rec.file.Created() {
			recorded = cr.recPath
		}
	}
	fin := Finish{Reason: cr.reason, Failed: cr.failed, Recording: recorded}
	fin.Talk, fin.TalkSpurts = cr.talkTotals() // the media session is closed: its receive goroutine is over
	defer func() {
		if f := cr.r.cfg.OnFinish; f != nil {
			fin.At = cr.r.cfg.Now()
			f(cr.c, fin)
		}
	}()
	if cr.se == nil {
		return
	}
	st := cr.se.State()
	fin.Started, fin.State = true, st
	cr.log.Info("call ended", "outcome", st.Outcome, "reason", cr.reason, "path", strings.Join(st.Path, ">"),
		"duration", time.Since(cr.started).Round(time.Millisecond), "grade", st.Grade, "tags", st.Tags)
	if cr.r.cfg.OnEnd != nil {
		cr.r.cfg.OnEnd(cr.c, st)
	}
}

// safeName keeps a Call-ID usable as a file name.
func safeName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	if s == "" || s[0] == '.' {
		s = "call" + s
	}
	return s
}
