package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/hotline-dev/hotline/sip"
)

// Handoff is the record of one transfer attempt: who took the call and how
// long the caller waited. The runner logs it and passes it to
// Config.OnHandoff when the attempt is over (a bridge: at once when it
// failed, at the end of the call when an agent answered). For a blind
// transfer, Agent is unknown (the PBX placed the call) and Answer is REFER
// sent → the final NOTIFY.
type Handoff struct {
	CallID  string // the caller's Call-ID
	Mode    string // blind or bridge
	To      string // the target dialled
	Agent   string // who answered: the 200's To (without tag); "" when nobody did
	Contact string // the 200's Contact
	// Code and Reason say why the attempt failed (Code 0: no answer in
	// time, no dialler, a network error); both empty once answered.
	Code   int
	Reason string
	// Answer is INVITE sent → 200 OK; Heard is INVITE sent → the first
	// agent audio relayed to the caller (0 when it never came). The
	// caller waited Heard (plus the prompts before the transfer).
	Answer time.Duration
	Heard  time.Duration
	Talk   time.Duration // joined → end of the call
	// Whisper is how long the whisper played to the agent.
	Whisper time.Duration
	// DigitsForwarded is how many caller keys went to the agent (RFC 4733).
	DigitsForwarded int
}

// defaultTransferTimeout bounds the agent's ringing when the script sets none.
const defaultTransferTimeout = 30 * time.Second

// bridge is a supervised transfer in progress. The call loop owns it; the
// goroutines it starts (the dial, the agent's media session) end in close.
type bridge struct {
	spec   dialog.Transfer
	log    *slog.Logger
	cancel context.CancelFunc // the dial (CANCEL while ringing) and the agent media
	dialCh chan dialResult    // the dial's result; nil once received
	sent   time.Time          // INVITE sent

	agent      *sip.Call
	ams        *media.Session
	agentEv    <-chan media.Event
	agentSDP   <-chan sip.Media
	whisperPCM []int16   // synthesised while the agent's phone rings
	whisper    *playlist // playing to the agent, nil when none or over
	whisperAt  time.Time
	joinedAt   time.Time
	toAgent    *relay // caller → agent
	toCaller   *relay // agent → caller
	hand       Handoff
	reported   bool
}

type dialResult struct {
	c   *sip.Call
	err error
	at  time.Time
}

// startBridge dials the agent while the caller hears ringback; the result
// arrives in the call loop (bridgeDialed).
func (cr *run) startBridge(t dialog.Transfer) {
	log := cr.log.With("transfer_to", t.To)
	br := &bridge{spec: t, log: log, hand: Handoff{CallID: cr.c.ID, Mode: "bridge", To: t.To}}
	cr.wait = waitTransfer
	cr.br = br
	dial := cr.r.cfg.Dial
	if dial == nil {
		log.Warn("bridge transfer impossible: the runner has no dialler (Config.Dial)")
		cr.bridgeFailed(0, "bridge transfers are not configured")
		return
	}
	headers := cr.contextHeaders(t)
	display := cr.c.Caller()
	if display == "" {
		display = cr.c.CallerName()
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = defaultTransferTimeout
	}
	cfg := sip.DialConfig{
		DisplayName: display,
		Headers:     headers,
		Logger:      log,
		OnResponse: func(code int, reason string) {
			log.Debug("agent leg", "code", code, "reason", reason)
		},
	}
	// The caller's hang-up cancels the dial too: CANCEL to the agent.
	ctx, cancel := context.WithTimeout(cr.ctx, timeout)
	br.cancel = cancel
	br.dialCh = make(chan dialResult, 1)
	br.sent = time.Now()
	cr.ms.Play(newRingback(cr.s.Language))
	log.Info("bridge transfer: calling the agent", "timeout", timeout, "whisper", t.Whisper != "")
	go func() {
		c, err := dial(ctx, cfg, t.To)
		br.dialCh <- dialResult{c: c, err: err, at: time.Now()}
	}()
	// Ready before the answer, so the agent hears it at once; the ringback
	// and the dial go on meanwhile (pacer, goroutine).
	br.whisperPCM = cr.speak(t.Whisper)
}

// bridgeDialed handles the agent leg's answer or refusal.
func (cr *run) bridgeDialed(res dialResult) {
	br := cr.br
	br.dialCh = nil
	if res.err != nil {
		code, reason := 0, res.err.Error()
		var de *sip.DialError
		switch {
		case errors.As(res.err, &de):
			code, reason = de.Code, de.Reason
		case errors.Is(res.err, context.DeadlineExceeded):
			code = 408 // as for a blind transfer that runs out of time
			reason = fmt.Sprintf("no answer within %s", res.at.Sub(br.sent).Round(time.Second))
		}
		br.log.Info("bridge transfer: the agent did not take the call", "code", code, "reason", reason,
			"after", res.at.Sub(br.sent).Round(time.Millisecond))
		cr.bridgeFailed(code, reason)
		return
	}
	br.agent = res.c
	br.hand.Answer = res.at.Sub(br.sent)
	br.hand.Agent = stripTag(res.c.Header("To"))
	br.hand.Contact = res.c.Header("Contact")
	if err := cr.agentMedia(res.c); err != nil {
		select {
		case <-res.c.Done():
			// The agent hung up at once: its leg is gone before the media
			// started (the socket closed under us).
			br.log.Info("bridge transfer: the agent hung up", "cause", res.c.Err(), "joined", false)
			cr.bridgeFailed(0, "the agent hung up before the caller was connected")
		default:
			br.log.Error("bridge transfer: agent media", "err", err)
			cr.bridgeFailed(0, "agent media: "+err.Error())
		}
		return
	}
	br.log.Info("bridge transfer: the agent answered", "agent", br.hand.Agent, "contact", br.hand.Contact,
		"answer_time", br.hand.Answer.Round(time.Millisecond), "codec", res.c.Media.Codec.Name)
	if pcm := br.whisperPCM; len(pcm) > 0 {
		// The agent hears the whisper; the caller keeps hearing ringback.
		br.whisper = newPlaylist()
		br.whisper.add(pcm)
		br.whisperAt = time.Now()
		br.ams.Play(br.whisper)
		return
	}
	cr.join()
}

// agentMedia starts the agent leg's media; its audio goes to the caller
// through a relay once the legs are joined.
func (cr *run) agentMedia(c *sip.Call) error {
	br := cr.br
	codec, ok := media.LookupCodec(c.Media.Codec.Name)
	if !ok {
		return fmt.Errorf("the agent's codec %s is not supported", c.Media.Codec.Name)
	}
	br.toCaller = newRelay(media.FrameSamples(cr.ms.PTime()))
	br.toAgent = newRelay(media.FrameSamples(ptimeOr(c.Media.PTime)))
	ms, err := media.NewSession(media.Config{
		Conn: c.Conn, Remote: c.Media.Remote, Latch: true, Codec: codec, DTMFPayload: c.Media.DTMFPayload,
		PTime: c.Media.PTime, RTPTimeout: cr.r.cfg.RTPTimeout, Pacer: cr.r.cfg.Pacer,
		Logger: br.log.With("leg", "agent"), CallerAudio: br.toCaller.push,
	})
	if err != nil {
		return err
	}
	br.ams = ms
	if !c.Media.CanSend() {
		ms.SetSending(false)
	}
	ctx, cancel := context.WithCancel(context.Background())
	prev := br.cancel
	br.cancel = func() { cancel(); prev() }
	ms.Start(ctx)
	br.agentEv = ms.Events()
	br.agentSDP = c.MediaChanges()
	return nil
}

// join connects the legs: each hears the other, paced by its own session.
func (cr *run) join() {
	br := cr.br
	// The dialog's part is done: a person has the call (outcome
	// transferred). Not before: an agent who hangs up during the whisper
	// never had the caller, who goes on at on_fail.
	cr.wait = waitNone
	cr.handle(dialog.Transferred{Agent: br.hand.Agent})
	br.whisper = nil
	br.joinedAt = time.Now()
	br.toCaller.open()
	br.toAgent.open()
	cr.toAgent.Store(br.toAgent)
	cr.ms.Play(br.toCaller)
	br.ams.Play(br.toAgent)
	br.log.Info("bridge transfer: caller and agent joined")
}

func (cr *run) whisperDone() {
	br := cr.br
	br.hand.Whisper = time.Since(br.whisperAt)
	cr.join()
}

// bridgeFailed ends a bridge attempt that did not reach an agent: the caller
// stays with the bot and the flow goes on at on_fail.
func (cr *run) bridgeFailed(code int, reason string) {
	br := cr.br
	cr.ms.StopPlayback() // the ringback
	br.hand.Code, br.hand.Reason = code, reason
	cr.closeBridge()
	cr.wait = waitNone
	cr.handle(dialog.TransferFailed{Code: code, Reason: reason})
}

// agentEvent handles the agent leg's media events.
func (cr *run) agentEvent(ev media.Event) {
	if ev.Kind == media.EventTimeout {
		cr.br.log.Warn("no RTP from the agent: ending both legs", "after", cr.r.cfg.RTPTimeout)
		cr.hangupNow("agent rtp timeout")
	}
}

// agentGone: the agent hung up (or its leg failed); the caller gets a BYE.
func (cr *run) agentGone() {
	br := cr.br
	br.log.Info("bridge transfer: the agent hung up", "cause", br.agent.Err(), "joined", !br.joinedAt.IsZero())
	if br.joinedAt.IsZero() {
		// During the whisper: the caller never reached the agent and
		// stays with the bot (on_fail).
		cr.bridgeFailed(0, "the agent hung up before the caller was connected")
		return
	}
	cr.hangupNow("agent hung up")
}

// bridgeDigit forwards a caller's key to the agent as RFC 4733 (in-band
// keys already travel in the relayed audio); it reports whether the bridge
// took it.
func (cr *run) bridgeDigit(d dtmf.Digit) bool {
	br := cr.br
	if br == nil || br.joinedAt.IsZero() {
		return br != nil && br.agent != nil // whisper: keys are swallowed
	}
	if d.Source == dtmf.SourceInband {
		return true
	}
	dur := min(max(d.Duration, 100*time.Millisecond), dtmf.MaxDuration)
	if err := br.ams.SendDigit(d.Key, dur); err != nil {
		br.log.Debug("caller key not forwarded to the agent", "key", string(d.Key), "err", err)
		return true
	}
	br.hand.DigitsForwarded++
	return true
}

// closeBridge ends the bridge: the dial is cancelled (CANCEL while
// ringing) and waited for, the agent leg hung up, its media closed, and
// the attempt reported. It runs on the call loop and is idempotent.
func (cr *run) closeBridge() {
	br := cr.br
	if br == nil {
		return
	}
	cr.br = nil
	cr.toAgent.Store(nil)
	if br.cancel != nil {
		br.cancel()
	}
	if br.dialCh != nil {
		// The dial ends promptly once cancelled (CANCEL, then the final
		// answer or a few seconds' wait): its goroutine must not outlive the call.
		res := <-br.dialCh
		br.dialCh = nil
		if res.c != nil {
			br.agent = res.c
		}
		if br.hand.Code == 0 && br.hand.Reason == "" && res.err != nil {
			br.hand.Reason = "the caller hung up while the agent's phone rang"
		}
	}
	if br.ams != nil {
		br.ams.Close()
		st := br.ams.Stats()
		br.log.Debug("agent media closed", "packets_in", st.PacketsIn, "packets_out", st.PacketsOut, "lost", st.Lost)
	}
	if br.agent != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := br.agent.Hangup(ctx); err != nil && !errors.Is(err, context.Canceled) {
			br.log.Debug("agent BYE", "err", err)
		}
		cancel()
	}
	if !br.joinedAt.IsZero() {
		br.hand.Talk = time.Since(br.joinedAt)
		if at := br.toCaller.firstAudio(); !at.IsZero() {
			br.hand.Heard = at.Sub(br.sent)
		}
	}
	if br.reported {
		return
	}
	br.reported = true
	h := br.hand
	br.log.Info("bridge transfer ended", "agent", h.Agent, "contact", h.Contact, "code", h.Code, "reason", h.Reason,
		"answer_time", h.Answer.Round(time.Millisecond), "heard_after", h.Heard.Round(time.Millisecond),
		"whisper", h.Whisper.Round(time.Millisecond), "talk", h.Talk.Round(time.Millisecond),
		"digits_forwarded", h.DigitsForwarded)
	if cr.r.cfg.OnHandoff != nil {
		cr.r.cfg.OnHandoff(cr.c, h)
	}
}

// tapCaller is the caller session's CallerAudio: during a bridge it feeds
// the caller's audio to the agent. It runs on the caller's receive goroutine.
func (cr *run) tapCaller(pcm []int16, _ time.Duration) {
	if r := cr.toAgent.Load(); r != nil {
		r.push(pcm, 0)
	}
}

func ptimeOr(d time.Duration) time.Duration {
	if d <= 0 {
		return media.DefaultPTime
	}
	return d
}

// stripTag drops the tag parameter of a To header value.
func stripTag(v string) string {
	if i := strings.Index(strings.ToLower(v), ";tag="); i >= 0 {
		rest := v[i+1:]
		if j := strings.IndexByte(rest, ';'); j >= 0 {
			return v[:i] + rest[j:]
		}
		return v[:i]
	}
	return v
}

// Relay jitter buffer: audio decoded on one leg's receive goroutine is
// played on the other leg's pacer. Packets arrive in bursts relative to the
// other clock, so the relay starts playing once relayPrefill is buffered,
// and drops the oldest audio beyond relayMax (a far clock running fast, a
// burst after a stall) so the delay stays bounded.
const (
	relayPrefill = 40 * 8 // 40 ms of 8 kHz samples
	relayMax     = 200 * 8
	relayCap     = 500 * 8
)

// relay is a media.Source fed with PCM: a bounded FIFO with a small
// jitter buffer. push and ReadFrame never block on each other for long
// (one short lock) and allocate nothing.
type relay struct {
	mu        sync.Mutex
	buf       []int16 // ring
	head, n   int
	frame     int
	opened    bool
	buffering bool // refilling to relayPrefill after running dry
	first     atomic.Int64
	dropped   int
}

func newRelay(frame int) *relay {
	return &relay{buf: make([]int16, relayCap), frame: frame, buffering: true}
}

// open starts relaying; audio pushed before is discarded.
func (r *relay) open() {
	r.mu.Lock()
	r.opened = true
	r.head, r.n = 0, 0
	r.mu.Unlock()
}

// push adds decoded audio (media.Config.CallerAudio's signature).
func (r *relay) push(pcm []int16, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.opened {
		return
	}
	if over := r.n + len(pcm) - relayMax; over > 0 {
		drop := min(over, r.n)
		r.head = (r.head + drop) % len(r.buf)
		r.n -= drop
		r.dropped += drop
		if len(pcm) > relayMax {
			pcm = pcm[len(pcm)-relayMax:]
		}
	}
	tail := (r.head + r.n) % len(r.buf)
	c := copy(r.buf[tail:], pcm)
	copy(r.buf, pcm[c:])
	r.n += len(pcm)
}

// ReadFrame implements media.Source: one frame of relayed audio, silence
// while the jitter buffer fills. It never finishes.
func (r *relay) ReadFrame(pcm []int16) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buffering {
		if r.n < relayPrefill {
			return 0, false
		}
		r.buffering = false
	}
	if r.n == 0 {
		r.buffering = true
		return 0, false
	}
	k := min(len(pcm), r.n)
	c := copy(pcm[:k], r.buf[r.head:])
	copy(pcm[c:k], r.buf)
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
	if r.first.Load() == 0 {
		r.first.Store(time.Now().UnixNano())
	}
	if k < len(pcm) {
		r.buffering = true // ran dry mid-frame: refill before the next
	}
	return k, false
}

// firstAudio is when the relay first delivered audio (zero: never).
func (r *relay) firstAudio() time.Time {
	if r == nil {
		return time.Time{}
	}
	if ns := r.first.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Ringback cadences (ITU-T E.180 and national practice), one period each,
// generated once and shared by every ringing call.
type cadence struct {
	freqs []float64
	on    []time.Duration // on, off, on, off…
}

var (
	cadenceUS = cadence{[]float64{440, 480}, []time.Duration{2 * time.Second, 4 * time.Second}}
	cadenceGB = cadence{[]float64{400, 450}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond,
		400 * time.Millisecond, 2 * time.Second}}
	cadenceZH = cadence{[]float64{450}, []time.Duration{time.Second, 4 * time.Second}}

	ringMu    sync.Mutex
	ringCache = map[string][]int16{}
)

// ringbackFor picks the cadence of the script's language.
func ringbackFor(lang string) (string, cadence) {
	l := strings.ToLower(lang)
	switch {
	case strings.HasPrefix(l, "zh"):
		return "zh", cadenceZH
	case l == "en-gb" || l == "en-uk" || strings.HasPrefix(l, "en-gb-"):
		return "en-gb", cadenceGB
	}
	return "us", cadenceUS
}

// ringbackPeriod is one period of a cadence at 8 kHz, about -16 dBm0 per
// tone, with 5 ms ramps so the bursts do not click.
func ringbackPeriod(c cadence) []int16 {
	var total int
	for _, d := range c.on {
		total += int(d.Seconds() * 8000)
	}
	out := make([]int16, total)
	pos := 0
	amp := 3000.0 / float64(len(c.freqs))
	for i, d := range c.on {
		n := int(d.Seconds() * 8000)
		if i%2 == 0 {
			ramp := 40
			for k := range n {
				a := amp
				if k < ramp {
					a *= float64(k) / float64(ramp)
				} else if n-k < ramp {
					a *= float64(n-k) / float64(ramp)
				}
				var v float64
				for _, f := range c.freqs {
					v += math.Sin(2 * math.Pi * f * float64(k) / 8000)
				}
				out[pos+k] = int16(a * v)
			}
		}
		pos += n
	}
	return out
}

// ringback is a looping media.Source of a shared cadence period.
type ringback struct {
	pcm []int16
	pos int
}

func newRingback(lang string) *ringback {
	key, c := ringbackFor(lang)
	ringMu.Lock()
	pcm, ok := ringCache[key]
	if !ok {
		pcm = ringbackPeriod(c)
		ringCache[key] = pcm
	}
	ringMu.Unlock()
	return &ringback{pcm: pcm}
}

func (r *ringback) ReadFrame(pcm []int16) (int, bool) {
	n := 0
	for n < len(pcm) {
		c := copy(pcm[n:], r.pcm[r.pos:])
		n += c
		r.pos = (r.pos + c) % len(r.pcm)
	}
	return n, false
}
