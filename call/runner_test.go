package call

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/sip"
)

// tonePrompts stands in for text to speech: every text is a 440 Hz tone,
// 20 ms per character (at most 3 s), so a test knows how long a prompt is
// without a synthesiser. A text starting with "PANIC" panics.
type tonePrompts struct{}

func (tonePrompts) Speak(_ context.Context, text string) ([]int16, error) {
	if strings.HasPrefix(text, "PANIC") {
		panic("a prompt that panics")
	}
	n := min(len([]rune(text))*160, 3*8000)
	return tone(440, n, 8000), nil
}

func (tonePrompts) File(context.Context, string) ([]int16, error) {
	return nil, fmt.Errorf("no files in tests")
}

// world is a server running one script, and what it reported.
type world struct {
	t      *testing.T
	srv    *sip.Server
	runner *Runner
	addr   string
	data   string
	pacer  *media.Pacer

	mu    sync.Mutex
	ended map[string]dialog.State // by Call-ID
}

func newWorld(t *testing.T, script string, tweak ...func(*Config)) *world {
	t.Helper()
	s, err := dialog.Parse("t.yaml", []byte(script))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, data: t.TempDir(), pacer: media.NewPacer(1), ended: map[string]dialog.State{}}
	t.Cleanup(w.pacer.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg := Config{
		Script:     func() *dialog.Script { return s },
		Prompts:    func(*dialog.Script) Prompts { return tonePrompts{} },
		Pacer:      w.pacer,
		RTPTimeout: 2 * time.Second,
		DataDir:    w.data,
		Record:     true,
		Logger:     log,
		Now:        func() time.Time { return time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC) },
		OnEnd: func(c *sip.Call, st dialog.State) {
			w.mu.Lock()
			w.ended[c.ID] = st
			w.mu.Unlock()
		},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	w.runner = New(cfg)
	w.srv, err = sip.NewServer(sip.Config{
		Listen:  []string{"udp:127.0.0.1:0"},
		Ports:   sip.PortAllocatorFunc(func() (*net.UDPConn, error) { return net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) }),
		Handler: w.runner,
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	select {
	case <-w.srv.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	w.addr = w.srv.Addr("udp")
	return w
}

// caller is the far end of a test call.
type caller struct {
	t     *testing.T
	c     *sip.Call
	ms    *media.Session
	heard *heardFrames
}

type heardFrames struct {
	mu     sync.Mutex
	frames int
	loud   int
}

func (h *heardFrames) WriteFrame(far, _ []int16) error {
	var sum float64
	for _, s := range far {
		sum += float64(s) * float64(s)
	}
	h.mu.Lock()
	h.frames++
	if len(far) > 0 && math.Sqrt(sum/float64(len(far))) > 1000 {
		h.loud++
	}
	h.mu.Unlock()
	return nil
}

func (h *heardFrames) counts() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frames, h.loud
}

func (w *world) dial(opts ...func(*sip.DialConfig)) *caller {
	w.t.Helper()
	cfg := sip.DialConfig{Listen: "udp:127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sip.Dial(ctx, cfg, "sip:ivr@"+w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	codec, _ := media.LookupCodec(c.Media.Codec.Name)
	h := &heardFrames{}
	ms, err := media.NewSession(media.Config{Conn: c.Conn, Remote: c.Media.Remote, Latch: true, Codec: codec,
		DTMFPayload: c.Media.DTMFPayload, PTime: c.Media.PTime, Pacer: w.pacer, Recorder: h})
	if err != nil {
		w.t.Fatal(err)
	}
	ms.Start(context.Background())
	cl := &caller{t: w.t, c: c, ms: ms, heard: h}
	w.t.Cleanup(func() {
		ms.Close()
		hctx, hcancel := context.WithTimeout(context.Background(), time.Second)
		c.Hangup(hctx)
		hcancel()
	})
	return cl
}

// press sends an RFC 4733 digit.
func (c *caller) press(keys string) {
	for _, k := range keys {
		if err := c.ms.SendDigit(k, 100*time.Millisecond); err != nil {
			c.t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitEnd waits for the bot to hang up and returns the outcome it announced.
func (c *caller) waitEnd(within time.Duration) string {
	c.t.Helper()
	select {
	case <-c.c.Done():
		return c.c.ByeHeader("X-Hotline-Outcome")
	case <-time.After(within):
		c.t.Fatalf("the bot did not hang up within %s", within)
	}
	return ""
}

func (w *world) state(c *caller) dialog.State {
	w.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		st, ok := w.ended[c.c.ID]
		w.mu.Unlock()
		if ok {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatal("the call never ended on the server")
	return dialog.State{}
}

const menu = `name: t
language: en-US
start: welcome
intents:
  agent: {keywords: [agent], dtmf: "0", handoff: true}
  one: {keywords: [one], dtmf: "1"}
  two: {keywords: [two], dtmf: "2"}
global: [agent]
nodes:
  welcome:
    say: "Welcome to the test line. For one press one, for two press two."
    listen: {timeout: 2s, barge_in: true}
    routes: {one: one, two: order}
    retries: 1
    escalate: agent
  one:
    say: "One."
    hangup: true
  order:
    say: "Key your order number then hash."
    collect: {into: order, digits: {min: 4, max: 8, end: "#", inter_digit: 2s, timeout: 3s}}
    next: lookup
  lookup:
    say: "Order {{order}}."
    hangup: true
  agent:
    say: "Agent."
    transfer: {to: "sip:queue@127.0.0.1", timeout: 5s, on_fail: sorry}
  sorry:
    say: "Nobody is free."
    hangup: true
`

func TestMenuByKeyWithBargeIn(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial()
	time.Sleep(300 * time.Millisecond) // well inside the 1.3 s welcome prompt
	start := time.Now()
	c.press("1")
	if out := c.waitEnd(5 * time.Second); out != dialog.OutcomeResolved {
		t.Errorf("outcome %q, want resolved", out)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the digit did not cut the welcome prompt short: the call took %s after it", took)
	}
	st := w.state(c)
	if strings.Join(st.Path, ">") != "welcome>one" {
		t.Errorf("path %v", st.Path)
	}
	frames, loud := c.heard.counts()
	if frames == 0 || loud == 0 {
		t.Errorf("the caller heard nothing: %d frames, %d loud", frames, loud)
	}
}

func TestCollectDigitsWithEndKey(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial()
	c.press("2")
	time.Sleep(300 * time.Millisecond)
	c.press("12345#")
	c.waitEnd(8 * time.Second)
	st := w.state(c)
	if st.Vars["order"] != "12345" || strings.Join(st.Path, ">") != "welcome>order>lookup" {
		t.Errorf("order %v path %v", st.Vars["order"], st.Path)
	}
}

func TestInfoDigits(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial()
	time.Sleep(200 * time.Millisecond)
	if err := c.c.SendDigit(context.Background(), sip.Digit{Key: '1', Duration: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	c.waitEnd(5 * time.Second)
	if st := w.state(c); strings.Join(st.Path, ">") != "welcome>one" {
		t.Errorf("path %v", st.Path)
	}
}

func TestNoInputThenEscalation(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial(func(d *sip.DialConfig) { d.AcceptTransfer = true })
	// Say nothing: welcome, 2 s, re-prompt, 2 s, then escalation to the agent (a REFER).
	var tr *sip.Transfer
	select {
	case tr = <-c.c.Transfers():
	case <-time.After(15 * time.Second):
		t.Fatal("no transfer after the retries ran out")
	}
	if !strings.HasPrefix(tr.Target, "sip:queue@127.0.0.1") {
		t.Errorf("transfer target %q", tr.Target)
	}
	tr.Notify(context.Background(), 200, "OK")
	if out := c.waitEnd(5 * time.Second); out != dialog.OutcomeTransferred {
		t.Errorf("outcome %q, want transferred", out)
	}
	st := w.state(c)
	if st.InputNoInputs != 2 || st.Vars["escalation"] != "no_input" {
		t.Errorf("no-inputs %d escalation %v", st.InputNoInputs, st.Vars["escalation"])
	}
}

func TestTransferFailsOver(t *testing.T) {
	var mu sync.Mutex
	var handoffs []Handoff
	w := newWorld(t, menu, func(c *Config) {
		c.PublicURL = "https://hotline.example/"
		c.OnHandoff = func(_ *sip.Call, h Handoff) {
			mu.Lock()
			handoffs = append(handoffs, h)
			mu.Unlock()
		}
	})
	c := w.dial(func(d *sip.DialConfig) { d.AcceptTransfer = true })
	time.Sleep(200 * time.Millisecond)
	c.press("0")
	var tr *sip.Transfer
	select {
	case tr = <-c.c.Transfers():
	case <-time.After(5 * time.Second):
		t.Fatal("no transfer")
	}
	if !strings.Contains(tr.Target, "X-Hotline-Call-ID") || !strings.Contains(tr.Target, "X-Hotline-Call-URL=https%3A%2F%2Fhotline.example%2Fcalls%2F") {
		t.Errorf("the agent's context headers are not in Refer-To: %q", tr.Target)
	}
	tr.Notify(context.Background(), 486, "Busy Here")
	if out := c.waitEnd(5 * time.Second); out != dialog.OutcomeUnresolved {
		t.Errorf("outcome %q, want unresolved (transfer failed, no message)", out)
	}
	if st := w.state(c); strings.Join(st.Path, ">") != "welcome>agent>sorry" || st.Vars["transfer_code"] != "486" {
		t.Errorf("path %v code %v", st.Path, st.Vars["transfer_code"])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handoffs) != 1 || handoffs[0].Mode != "blind" || handoffs[0].Code != 486 || handoffs[0].Answer <= 0 {
		t.Errorf("hand-offs %+v, want one blind attempt that failed with 486", handoffs)
	}
}

func TestBackendRequestDoesNotStopMedia(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		time.Sleep(800 * time.Millisecond)
		rw.Write([]byte(`{"status":"shipped"}`))
	}))
	defer backend.Close()
	w := newWorld(t, `name: t
language: en-US
start: look
nodes:
  look:
    http: {get: "`+backend.URL+`/o", into: r, timeout: 3s, on_error: bad}
    say: "It is {{r.status}}."
    hangup: true
  bad:
    say: "Error."
    hangup: true
`)
	c := w.dial()
	time.Sleep(600 * time.Millisecond) // the request is still running
	before, _ := c.heard.counts()
	time.Sleep(100 * time.Millisecond)
	after, _ := c.heard.counts()
	if after <= before {
		t.Errorf("no audio reached the caller while the backend was slow (%d → %d frames)", before, after)
	}
	if out := c.waitEnd(5 * time.Second); out != dialog.OutcomeResolved {
		t.Errorf("outcome %q", out)
	}
	if st := w.state(c); st.Vars["http_status"] != "200" {
		t.Errorf("http_status %v", st.Vars["http_status"])
	}
}

func TestMessageRecorded(t *testing.T) {
	w := newWorld(t, `name: t
language: en-US
start: msg
nodes:
  msg:
    say: "Leave a message."
    record: {max: 10s, silence: 1s, into: file}
    next: bye
  bye:
    say: "Thanks."
    hangup: true
`)
	c := w.dial()
	time.Sleep(time.Second)                              // prompt (0.3 s) and beep (0.25 s) are over
	c.ms.Play(media.NewPCMSource(tone(300, 8000, 8000))) // one second of "speech"
	if out := c.waitEnd(10 * time.Second); out != dialog.OutcomeMessageLeft {
		t.Fatalf("outcome %q, want message_left", out)
	}
	st := w.state(c)
	file, _ := st.Vars["file"].(string)
	pcm, _, err := wav.ReadFile(file)
	if err != nil {
		t.Fatalf("message file %q: %v", file, err)
	}
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 900*time.Millisecond || d > 3500*time.Millisecond {
		t.Errorf("message is %s long, want about 1 s plus the pause before and after", d)
	}
}

func TestRTPTimeoutEndsCall(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial()
	time.Sleep(300 * time.Millisecond)
	c.ms.Close() // the caller's phone goes silent without a BYE
	start := time.Now()
	c.waitEnd(6 * time.Second)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the call ended %s after the RTP stopped, with a 2 s timeout", took)
	}
	if st := w.state(c); st.Outcome != dialog.OutcomeAbandoned {
		t.Errorf("outcome %s, want abandoned", st.Outcome)
	}
}

func TestEndAllSaysGoodbye(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial()
	time.Sleep(300 * time.Millisecond)
	w.runner.EndAll()
	c.waitEnd(8 * time.Second)
	_, loud := c.heard.counts()
	if loud < 10 {
		t.Errorf("the caller heard no goodbye (%d loud frames)", loud)
	}
}

func TestPanicEndsOnlyThatCall(t *testing.T) {
	w := newWorld(t, `name: t
language: en-US
start: welcome
intents:
  boom: {keywords: [boom], dtmf: "9"}
  one: {keywords: [one], dtmf: "1"}
nodes:
  welcome:
    say: "Hello."
    listen: {timeout: 5s}
    routes: {boom: boom, one: one}
  boom:
    say: "PANIC now"
    hangup: true
  one:
    say: "One."
    hangup: true
`)
	good := w.dial()
	bad := w.dial()
	time.Sleep(500 * time.Millisecond)
	bad.press("9")
	bad.waitEnd(5 * time.Second)
	good.press("1")
	if out := good.waitEnd(5 * time.Second); out != dialog.OutcomeResolved {
		t.Errorf("the other call: outcome %q", out)
	}
}

func TestRecordingHasBothSides(t *testing.T) {
	w := newWorld(t, menu)
	c := w.dial()
	c.ms.Play(media.NewPCMSource(tone(300, 4000, 8000))) // half a second from the caller
	time.Sleep(700 * time.Millisecond)
	c.press("1")
	c.waitEnd(5 * time.Second)
	w.state(c)
	files, _ := filepath.Glob(filepath.Join(w.data, "recordings", "*", "*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings: %v", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Decode as stereo: wav.Decode mixes down, so read the raw samples here.
	data, _ := io.ReadAll(f)
	if len(data) < 44+4*8000/2 {
		t.Fatalf("recording too short: %d bytes", len(data))
	}
	var left, right float64
	for i := 44; i+3 < len(data); i += 4 {
		l := float64(int16(uint16(data[i]) | uint16(data[i+1])<<8))
		r := float64(int16(uint16(data[i+2]) | uint16(data[i+3])<<8))
		left += l * l
		right += r * r
	}
	if left == 0 || right == 0 {
		t.Errorf("a side of the recording is silent: caller %.0f, bot %.0f", left, right)
	}
}

func TestNoGoroutinesLeft(t *testing.T) {
	base := runtime.NumGoroutine()
	// In a subtest, so the server, the pacer and the calls are all gone when it returns.
	t.Run("calls", func(t *testing.T) {
		w := newWorld(t, menu)
		for i := 0; i < 5; i++ {
			c := w.dial()
			c.press("1")
			c.waitEnd(5 * time.Second)
			w.state(c)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestScriptOptsOutOfRecording(t *testing.T) {
	w := newWorld(t, strings.Replace(menu, "start: welcome", "start: welcome\nrecording: false", 1))
	c := w.dial()
	c.press("1")
	c.waitEnd(5 * time.Second)
	w.state(c)
	if files, _ := filepath.Glob(filepath.Join(w.data, "recordings", "*", "*.wav")); len(files) != 0 {
		t.Errorf("recorded although the script says recording: false: %v", files)
	}
}
