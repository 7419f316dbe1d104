package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/sip"
)

// Test frequencies, whole multiples of 50 Hz so that one 20 ms frame holds
// whole cycles: what the caller says, what the agent says, the whisper.
const (
	fCaller  = 600.0
	fAgent   = 1000.0
	fWhisper = 1800.0
	fRing    = 450.0 // the zh ringback
)

func testPacer(t *testing.T) *media.Pacer {
	p := media.NewPacer(1)
	t.Cleanup(p.Close)
	return p
}

// bridgePrompts speaks the whisper (any text starting "Whisper") as an
// fWhisper tone and everything else as 440 Hz, 20 ms per character.
type bridgePrompts struct{ tonePrompts }

func (bridgePrompts) Speak(_ context.Context, text string) ([]int16, error) {
	n := min(len([]rune(text))*160, 3*8000)
	if strings.HasPrefix(text, "Whisper") {
		return tone(fWhisper, n, 8000), nil
	}
	return tone(440, n, 8000), nil
}

// toneMeter counts the frames in which each of its frequencies dominates
// (Goertzel power over half the frame's energy, above -40 dBFS).
type toneMeter struct {
	freqs []float64

	mu     sync.Mutex
	frames int
	hits   []int
}

func newToneMeter(freqs ...float64) *toneMeter {
	return &toneMeter{freqs: freqs, hits: make([]int, len(freqs))}
}

func (m *toneMeter) WriteFrame(far, _ []int16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.frames++
	for i, f := range m.freqs {
		if dominant(far, f) {
			m.hits[i]++
		}
	}
	return nil
}

// count is the number of frames in which f dominated.
func (m *toneMeter) count(f float64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, g := range m.freqs {
		if g == f {
			return m.hits[i]
		}
	}
	return 0
}

func dominant(pcm []int16, f float64) bool {
	var energy float64
	for _, s := range pcm {
		energy += float64(s) * float64(s)
	}
	if len(pcm) == 0 || math.Sqrt(energy/float64(len(pcm))) < 330 {
		return false
	}
	w := 2 * math.Pi * f / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2*power/(float64(len(pcm))*energy) > 0.5
}

// loopTone is a media.Source playing a tone for ever: the agent talking.
type loopTone struct {
	pcm []int16
	pos int
}

func (l *loopTone) ReadFrame(pcm []int16) (int, bool) {
	for i := range pcm {
		pcm[i] = l.pcm[l.pos]
		l.pos = (l.pos + 1) % len(l.pcm)
	}
	return len(pcm), false
}

func sineLoop(f float64) *loopTone {
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*f*float64(i)/8000))
	}
	return &loopTone{pcm: pcm}
}

// agentPeer is an agent's phone: a sip.Server that answers after ring,
// talks (an fAgent tone) and measures what it hears.
type agentPeer struct {
	srv   *sip.Server
	calls chan *agentCall
}

type agentCall struct {
	c      *sip.Call
	ctx    context.Context
	heard  *toneMeter
	digits chan rune
}

func newAgentPeer(t *testing.T, pacer *media.Pacer, ring time.Duration) *agentPeer {
	t.Helper()
	a := &agentPeer{calls: make(chan *agentCall, 4)}
	h := sip.HandlerFunc(func(ctx context.Context, c *sip.Call) {
		codec, _ := media.LookupCodec(c.Media.Codec.Name)
		ac := &agentCall{c: c, ctx: ctx, heard: newToneMeter(fCaller, fWhisper, fAgent, 440, fRing), digits: make(chan rune, 8)}
		ms, err := media.NewSession(media.Config{Conn: c.Conn, Remote: c.Media.Remote, Latch: true, Codec: codec,
			DTMFPayload: c.Media.DTMFPayload, PTime: c.Media.PTime, Pacer: pacer, Recorder: ac.heard})
		if err != nil {
			t.Error(err)
			return
		}
		ms.Start(ctx)
		defer ms.Close()
		ms.Play(sineLoop(fAgent))
		a.calls <- ac
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-ms.Events():
				if !ok {
					return
				}
				if ev.Kind == media.EventDigit {
					ac.digits <- ev.Digit.Key
				}
			}
		}
	})
	srv, err := sip.NewServer(sip.Config{
		Listen:  []string{"udp:127.0.0.1:0"},
		Ports:   sip.PortAllocatorFunc(func() (*net.UDPConn, error) { return net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) }),
		Handler: h,
		Ring:    ring,
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	a.srv = srv
	serve(t, srv)
	return a
}

func (a *agentPeer) next(t *testing.T) *agentCall {
	t.Helper()
	select {
	case ac := <-a.calls:
		return ac
	case <-time.After(10 * time.Second):
		t.Fatal("the agent got no call")
	}
	return nil
}

// serve runs srv until the test ends.
func serve(t *testing.T, srv *sip.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("a server did not stop")
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
}

// busyPeer answers every INVITE 486 Busy Here (a raw sipgo UAS).
func busyPeer(t *testing.T) string {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 100, "Trying", nil))
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	srv.OnAck(func(*sipgosip.Request, sipgosip.ServerTransaction) {})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeUDP(conn)
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
		_ = srv.Close()
		_ = ua.Close()
	})
	return conn.LocalAddr().String()
}

// bridgeWorld is a hotline whose runner dials agents from its own server.
type bridgeWorld struct {
	*world
	hmu      sync.Mutex
	handoffs []Handoff
}

func newBridgeWorld(t *testing.T, target, timeout string, dial bool) *bridgeWorld {
	t.Helper()
	script := fmt.Sprintf(`name: t
language: zh-CN
start: agent
nodes:
  agent:
    say: "Hi."
    transfer:
      to: "%s"
      mode: bridge
      timeout: %s
      whisper: "Whisper: refund question, order {{caller}}."
      headers: {X-Hotline-Intent: refund}
      on_fail: sorry
  sorry:
    say: "Nobody is free, leave a message."
    record: {max: 1s, silence: 1s}
    next: bye
  bye:
    say: "Bye."
    hangup: true
`, target, timeout)
	bw := &bridgeWorld{}
	var srv atomic.Pointer[sip.Server]
	bw.world = newWorld(t, script, func(c *Config) {
		c.Prompts = func(*dialog.Script) Prompts { return bridgePrompts{} }
		c.PublicURL = "https://hotline.example/admin/"
		if dial {
			c.Dial = func(ctx context.Context, cfg sip.DialConfig, target string) (*sip.Call, error) {
				return srv.Load().Dial(ctx, cfg, target)
			}
		}
		c.OnHandoff = func(_ *sip.Call, h Handoff) {
			bw.hmu.Lock()
			bw.handoffs = append(bw.handoffs, h)
			bw.hmu.Unlock()
		}
	})
	srv.Store(bw.srv)
	return bw
}

func (bw *bridgeWorld) handoff(t *testing.T) Handoff {
	t.Helper()
	waitUntil(t, 10*time.Second, "the hand-off report", func() bool {
		bw.hmu.Lock()
		defer bw.hmu.Unlock()
		return len(bw.handoffs) > 0
	})
	bw.hmu.Lock()
	defer bw.hmu.Unlock()
	return bw.handoffs[0]
}

// dialMeter calls the hotline with a caller whose ears are a toneMeter.
func (w *world) dialMeter(codecs ...sip.Codec) (*caller, *toneMeter) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sip.Dial(ctx, sip.DialConfig{Listen: "udp:127.0.0.1:0", Codecs: codecs, From: "sip:13800138000@127.0.0.1"},
		"sip:ivr@"+w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	codec, _ := media.LookupCodec(c.Media.Codec.Name)
	m := newToneMeter(fCaller, fWhisper, fAgent, 440, fRing)
	ms, err := media.NewSession(media.Config{Conn: c.Conn, Remote: c.Media.Remote, Latch: true, Codec: codec,
		DTMFPayload: c.Media.DTMFPayload, PTime: c.Media.PTime, Pacer: w.pacer, Recorder: m})
	if err != nil {
		w.t.Fatal(err)
	}
	ms.Start(context.Background())
	w.t.Cleanup(func() {
		ms.Close()
		hctx, hcancel := context.WithTimeout(context.Background(), time.Second)
		c.Hangup(hctx)
		hcancel()
	})
	return &caller{t: w.t, c: c, ms: ms}, m
}

func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBridgeBothWays: the agent hears the whisper (the caller does not),
// then each side hears the other across codecs (PCMA caller, PCMU agent),
// a key is forwarded, the caller's hang-up sends the agent a BYE, the
// recording has the caller left and the agent right.
func TestBridgeBothWays(t *testing.T) {
	agent := newAgentPeer(t, testPacer(t), 200*time.Millisecond)
	bw := newBridgeWorld(t, "sip:agent@"+agent.srv.Addr("udp"), "5s", true)
	c, heard := bw.dialMeter(sip.PCMA)
	ac := agent.next(t)

	if got := ac.c.Header("X-Hotline-Call-ID"); got != c.c.ID {
		t.Errorf("X-Hotline-Call-ID %q, want %q", got, c.c.ID)
	}
	if got, want := ac.c.Header("X-Hotline-Call-URL"), "https://hotline.example/admin/calls/"+c.c.ID; got != want {
		t.Errorf("X-Hotline-Call-URL %q, want %q", got, want)
	}
	if ac.c.Header("X-Hotline-Intent") != "refund" || ac.c.CallerName() != "13800138000" {
		t.Errorf("intent %q, display name %q", ac.c.Header("X-Hotline-Intent"), ac.c.CallerName())
	}
	if ac.c.Media.Codec.Name != "PCMU" || c.c.Media.Codec.Name != "PCMA" {
		t.Errorf("codecs: agent %s, caller %s; the test wants them different", ac.c.Media.Codec.Name, c.c.Media.Codec.Name)
	}
	// Joined once the agent's voice reaches the caller.
	waitUntil(t, 10*time.Second, "the agent's audio at the caller", func() bool { return heard.count(fAgent) >= 5 })
	whisper := ac.heard.count(fWhisper)
	if whisper < 25 { // 40 characters: 0.8 s, 40 frames
		t.Errorf("the agent heard %d frames of whisper, want about 40", whisper)
	}
	if n := heard.count(fRing); n < 10 {
		t.Errorf("the caller heard %d frames of ringback, want more", n)
	}

	before := ac.heard.count(fCaller)
	c.ms.Play(media.NewPCMSource(tone(fCaller, 8000, 8000))) // one second from the caller
	waitUntil(t, 10*time.Second, "the caller's voice at the agent", func() bool { return ac.heard.count(fCaller)-before >= 45 })
	c.press("5")
	select {
	case k := <-ac.digits:
		if k != '5' {
			t.Errorf("the agent got key %q, want 5", k)
		}
	case <-time.After(5 * time.Second):
		t.Error("the caller's key did not reach the agent")
	}
	waitUntil(t, 10*time.Second, "a second of the agent's voice", func() bool { return heard.count(fAgent) >= 50 })
	if n := heard.count(fWhisper); n != 0 {
		t.Errorf("the caller heard %d frames of the whisper", n)
	}

	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Hangup(hctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ac.ctx.Done():
		if !errors.Is(context.Cause(ac.ctx), sip.ErrRemoteHangup) {
			t.Errorf("the agent's call ended with %v, want the hotline's BYE", context.Cause(ac.ctx))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the caller's hang-up did not end the agent's call")
	}
	st := bw.state(c)
	if st.Outcome != dialog.OutcomeTransferred {
		t.Errorf("outcome %q, want transferred", st.Outcome)
	}
	h := bw.handoff(t)
	if h.Agent == "" || h.Contact == "" || h.Code != 0 || h.Answer <= 0 || h.Heard < h.Answer || h.Whisper <= 0 || h.DigitsForwarded != 1 {
		t.Errorf("hand-off %+v", h)
	}
	t.Logf("agent answer %s, caller hears agent after %s (ring 200 ms, whisper %s)", h.Answer, h.Heard, h.Whisper)

	left, right := recordingTones(t, bw.data)
	if left < 40 || right < 40 {
		t.Errorf("recording: %d frames of the caller's tone (left), %d of the agent's (right)", left, right)
	}
}

// recordingTones reads the call's stereo recording: frames of the caller's
// tone on the left, of the agent's on the right.
func recordingTones(t *testing.T, data string) (left, right int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(data, "recordings", "*", "*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings: %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	raw = raw[44:]
	l, r := make([]int16, 160), make([]int16, 160)
	for off := 0; off+160*4 <= len(raw); off += 160 * 4 {
		for i := range 160 {
			p := raw[off+4*i:]
			l[i] = int16(uint16(p[0]) | uint16(p[1])<<8)
			r[i] = int16(uint16(p[2]) | uint16(p[3])<<8)
		}
		if dominant(l, fCaller) {
			left++
		}
		if dominant(r, fAgent) {
			right++
		}
	}
	return left, right
}

// TestBridgeAgentHangsUp: the agent's BYE ends the caller's call too.
func TestBridgeAgentHangsUp(t *testing.T) {
	agent := newAgentPeer(t, testPacer(t), 0)
	bw := newBridgeWorld(t, "sip:agent@"+agent.srv.Addr("udp"), "5s", true)
	c, heard := bw.dialMeter()
	ac := agent.next(t)
	waitUntil(t, 10*time.Second, "the agent's audio at the caller", func() bool { return heard.count(fAgent) >= 5 })
	if err := ac.c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := c.waitEnd(5 * time.Second); out != dialog.OutcomeTransferred {
		t.Errorf("the caller's BYE says outcome %q, want transferred", out)
	}
	if h := bw.handoff(t); h.Talk <= 0 || h.Agent == "" {
		t.Errorf("hand-off %+v", h)
	}
}

// TestBridgeAgentHangsUpDuringWhisper: the caller never reached the agent,
// so the flow goes on at on_fail rather than ending the caller's call.
func TestBridgeAgentHangsUpDuringWhisper(t *testing.T) {
	agent := newAgentPeer(t, testPacer(t), 0)
	bw := newBridgeWorld(t, "sip:agent@"+agent.srv.Addr("udp"), "5s", true)
	c, _ := bw.dialMeter()
	ac := agent.next(t)
	if err := ac.c.Hangup(context.Background()); err != nil { // within the 0.9 s whisper
		t.Fatal(err)
	}
	c.waitEnd(15 * time.Second)
	st := bw.state(c)
	if strings.Join(st.Path, ">") != "agent>sorry>bye" || st.Outcome == dialog.OutcomeTransferred {
		t.Errorf("path %v, outcome %q: want on_fail (agent>sorry>bye), not transferred", st.Path, st.Outcome)
	}
	// (The caller's meter cannot tell the agent's 1 kHz from on_fail's beep:
	// the hand-off says whether the legs were ever joined.)
	if h := bw.handoff(t); h.Agent == "" || !strings.Contains(h.Reason, "before the caller was connected") || h.Talk != 0 || h.Heard != 0 {
		t.Errorf("hand-off %+v", h)
	}
}

// TestBridgeBusy: a 486 stops the ringback and the flow goes on at
// on_fail with the caller still there.
func TestBridgeBusy(t *testing.T) {
	bw := newBridgeWorld(t, "sip:agent@"+busyPeer(t), "5s", true)
	c, _ := bw.dialMeter()
	c.waitEnd(15 * time.Second) // sorry, 3 s of (silent) message, bye
	st := bw.state(c)
	if strings.Join(st.Path, ">") != "agent>sorry>bye" || st.Vars["transfer_code"] != "486" {
		t.Errorf("path %v, transfer_code %v", st.Path, st.Vars["transfer_code"])
	}
	if h := bw.handoff(t); h.Code != 486 || h.Agent != "" {
		t.Errorf("hand-off %+v", h)
	}
}

// TestBridgeNoAnswer: an agent that rings past the timeout is CANCELled and
// the flow goes on at on_fail.
func TestBridgeNoAnswer(t *testing.T) {
	agent := newAgentPeer(t, testPacer(t), time.Minute)
	bw := newBridgeWorld(t, "sip:agent@"+agent.srv.Addr("udp"), "5s", true)
	c, heard := bw.dialMeter()
	waitUntil(t, 10*time.Second, "the agent's CANCEL", func() bool { return agent.srv.Stats().Cancelled == 1 })
	c.waitEnd(15 * time.Second)
	st := bw.state(c)
	if strings.Join(st.Path, ">") != "agent>sorry>bye" || st.Vars["transfer_code"] != "408" {
		t.Errorf("path %v, transfer_code %v", st.Path, st.Vars["transfer_code"])
	}
	if n := heard.count(fRing); n < 60 { // 5 s: two seconds of ringback
		t.Errorf("the caller heard %d frames of ringback", n)
	}
	if h := bw.handoff(t); h.Code != 408 || !strings.Contains(h.Reason, "no answer") {
		t.Errorf("hand-off %+v", h)
	}
}

// TestBridgeCallerHangsUpWhileRinging: the agent's INVITE is CANCELled.
func TestBridgeCallerHangsUpWhileRinging(t *testing.T) {
	agent := newAgentPeer(t, testPacer(t), time.Minute)
	bw := newBridgeWorld(t, "sip:agent@"+agent.srv.Addr("udp"), "30s", true)
	c, heard := bw.dialMeter()
	waitUntil(t, 10*time.Second, "ringback", func() bool { return heard.count(fRing) >= 20 })
	if err := c.c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the agent's CANCEL", func() bool { return agent.srv.Stats().Cancelled == 1 })
	if st := bw.state(c); st.Outcome != dialog.OutcomeAbandoned {
		t.Errorf("outcome %q, want abandoned", st.Outcome)
	}
	if h := bw.handoff(t); h.Agent != "" || h.Reason == "" {
		t.Errorf("hand-off %+v", h)
	}
}

// TestBridgeWithoutDialer: a runner without Config.Dial fails over.
func TestBridgeWithoutDialer(t *testing.T) {
	bw := newBridgeWorld(t, "sip:agent@127.0.0.1:9", "5s", false)
	c, _ := bw.dialMeter()
	c.waitEnd(15 * time.Second)
	if st := bw.state(c); strings.Join(st.Path, ">") != "agent>sorry>bye" {
		t.Errorf("path %v", st.Path)
	}
}

// TestBridgeNoGoroutinesLeft: a bridged call and a call abandoned while the
// agent rang leave nothing running.
func TestBridgeNoGoroutinesLeft(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("calls", func(t *testing.T) {
		pacer := testPacer(t)
		agent := newAgentPeer(t, pacer, 0)
		bw := newBridgeWorld(t, "sip:agent@"+agent.srv.Addr("udp"), "5s", true)
		c, heard := bw.dialMeter()
		ac := agent.next(t)
		waitUntil(t, 10*time.Second, "the agent's audio", func() bool { return heard.count(fAgent) >= 5 })
		ac.c.Hangup(context.Background())
		c.waitEnd(5 * time.Second)
		bw.state(c)

		ringing := newAgentPeer(t, pacer, time.Minute)
		bw2 := newBridgeWorld(t, "sip:agent@"+ringing.srv.Addr("udp"), "30s", true)
		c2, heard2 := bw2.dialMeter()
		waitUntil(t, 10*time.Second, "ringback", func() bool { return heard2.count(fRing) >= 10 })
		c2.c.Hangup(context.Background())
		bw2.state(c2)
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestRelayJitterBuffer: the relay waits for its prefill, plays in order,
// refills after running dry and bounds its delay.
func TestRelayJitterBuffer(t *testing.T) {
	r := newRelay(160)
	frame := make([]int16, 160)
	r.push(make([]int16, 1000), 0) // before open: discarded
	r.open()
	seq := func(from, n int) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(from + i)
		}
		return s
	}
	r.push(seq(1, 160), 0)
	if n, _ := r.ReadFrame(frame); n != 0 {
		t.Fatalf("played %d samples before the prefill", n)
	}
	r.push(seq(161, 160), 0)
	if n, _ := r.ReadFrame(frame); n != 160 || frame[0] != 1 || frame[159] != 160 {
		t.Fatalf("first frame: n %d, %d…%d", n, frame[0], frame[159])
	}
	if n, _ := r.ReadFrame(frame); n != 160 || frame[0] != 161 {
		t.Fatalf("second frame: n %d, first %d", n, frame[0])
	}
	if n, _ := r.ReadFrame(frame); n != 0 {
		t.Fatalf("played %d samples from an empty buffer", n)
	}
	r.push(seq(1000, 160), 0)
	if n, _ := r.ReadFrame(frame); n != 0 {
		t.Fatal("played again before refilling")
	}
	// A burst: the delay stays bounded, the newest audio is kept.
	for i := range 100 {
		r.push(seq(10000+160*i, 160), 0)
	}
	if r.n > relayMax {
		t.Fatalf("buffered %d samples, bound %d", r.n, relayMax)
	}
	for {
		n, _ := r.ReadFrame(frame)
		if n == 0 {
			break
		}
	}
	if last := frame[159]; last != int16(10000+160*100-1) {
		t.Errorf("last sample %d, want the newest pushed", last)
	}
	if r.firstAudio().IsZero() {
		t.Error("first audio time not kept")
	}
}

// TestRingbackCadences: the tone and silence lengths of each country.
func TestRingbackCadences(t *testing.T) {
	cases := []struct {
		lang string
		want []time.Duration // on, off, …, one period
		freq float64         // a single tone to find, 0: two tones
	}{
		{"en-US", []time.Duration{2 * time.Second, 4 * time.Second}, 0},
		{"", []time.Duration{2 * time.Second, 4 * time.Second}, 0},
		{"en-GB", []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}, 0},
		{"zh-CN", []time.Duration{time.Second, 4 * time.Second}, 450},
	}
	for _, tc := range cases {
		rb := newRingback(tc.lang)
		var period time.Duration
		for _, d := range tc.want {
			period += d
		}
		frames := int(period / (20 * time.Millisecond))
		// Runs of sound and silence, 20 ms frames, over two periods.
		var runs []time.Duration
		loud, tonal := false, 0
		frame := make([]int16, 160)
		for i := range 2 * frames {
			rb.ReadFrame(frame)
			var e float64
			for _, s := range frame {
				e += float64(s) * float64(s)
			}
			l := e/160 > 100*100
			if l && (tc.freq == 0 || dominant(frame, tc.freq)) {
				tonal++
			}
			if i == 0 || l != loud {
				runs = append(runs, 0)
				loud = l
			}
			runs[len(runs)-1] += 20 * time.Millisecond
		}
		got := runs[:len(tc.want)]
		for i, d := range tc.want {
			if diff := got[i] - d; diff < -40*time.Millisecond || diff > 40*time.Millisecond {
				t.Errorf("%s: cadence %v, want %v", tc.lang, got, tc.want)
				break
			}
		}
		if tonal == 0 {
			t.Errorf("%s: no tone (%v Hz) in the ringback", tc.lang, tc.freq)
		}
	}
}
