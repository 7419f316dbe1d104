package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestMain(m *testing.M) {
	// Faster SIP timers: 64*T1 = 6.4 s. Set once, before any server runs.
	sip.SetTimers(100*time.Millisecond, time.Second, time.Second)
	os.Exit(m.Run())
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// loopbackPorts allocates RTP sockets on 127.0.0.1 and remembers them.
type loopbackPorts struct {
	mu    sync.Mutex
	conns []*net.UDPConn
	fail  bool
}

func (p *loopbackPorts) Listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return nil, errors.New("no ports left")
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	p.conns = append(p.conns, c)
	return c, nil
}

func (p *loopbackPorts) setFail(f bool) {
	p.mu.Lock()
	p.fail = f
	p.mu.Unlock()
}

func (p *loopbackPorts) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// allClosed reports whether every socket handed out has been closed.
func (p *loopbackPorts) allClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if err := c.SetReadDeadline(time.Now()); err == nil || !errors.Is(err, net.ErrClosed) {
			return false
		}
	}
	return true
}

// recorder is a fake Handler that records its calls; fn, when set, runs
// the call (else it waits for the call to end).
type recorder struct {
	mu    sync.Mutex
	calls []*Call
	ended []error
	ch    chan *Call
	fn    func(ctx context.Context, c *Call)
}

func newRecorder(fn func(ctx context.Context, c *Call)) *recorder {
	return &recorder{ch: make(chan *Call, 2000), fn: fn}
}

func (r *recorder) ServeCall(ctx context.Context, c *Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	r.ch <- c
	defer func() {
		r.mu.Lock()
		r.ended = append(r.ended, context.Cause(ctx))
		r.mu.Unlock()
	}()
	if r.fn != nil {
		r.fn(ctx, c)
		return
	}
	<-ctx.Done()
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *recorder) next(t testing.TB) *Call {
	t.Helper()
	select {
	case c := <-r.ch:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("handler not called")
		return nil
	}
}

type testServer struct {
	*Server
	ports  *loopbackPorts
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startServer runs a server on an ephemeral UDP port (plus extra listeners).
func startServer(t testing.TB, cfg Config, fn func(ctx context.Context, c *Call)) *testServer {
	t.Helper()
	ts := &testServer{ports: &loopbackPorts{}, rec: newRecorder(fn), done: make(chan error, 1)}
	if cfg.Listen == nil {
		cfg.Listen = []string{"udp:127.0.0.1:0"}
	}
	if cfg.Ports == nil {
		cfg.Ports = ts.ports
	}
	if cfg.Handler == nil {
		cfg.Handler = ts.rec
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 2 * time.Second // peers that are gone do not answer our BYEs
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- srv.Serve(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-ts.done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() { ts.once.Do(ts.doStop) }

func (ts *testServer) doStop() {
	ts.cancel()
	select {
	case <-ts.done:
	case <-time.After(20 * time.Second):
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		os.Stderr.Write(buf)
		panic("Serve did not return")
	}
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGoroutines waits until the goroutine count is back to base.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, baseline %d\n%s", n, base, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --- raw SIP peer over UDP ---

type peer struct {
	t      testing.TB
	conn   *net.UDPConn
	srv    *net.UDPAddr
	parser *sip.Parser
	rtp    *net.UDPConn
}

func newPeer(t testing.TB, srvAddr string) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := net.ResolveUDPAddr("udp", srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, conn: c, srv: sa, parser: sip.NewParser(), rtp: rtp}
	t.Cleanup(func() { c.Close(); rtp.Close() })
	return p
}

func (p *peer) addr() string     { return p.conn.LocalAddr().String() }
func (p *peer) rtpPort() int     { return p.rtp.LocalAddr().(*net.UDPAddr).Port }
func (p *peer) sendRaw(s string) { p.sendTo(p.srv, s) }

func (p *peer) sendTo(to *net.UDPAddr, s string) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDP([]byte(s), to); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next SIP message (nil on timeout).
func (p *peer) read(d time.Duration) (sip.Message, *net.UDPAddr) {
	p.t.Helper()
	buf := make([]byte, 65535)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return nil, nil
	}
	msg, err := p.parser.ParseSIP(buf[:n])
	if err != nil {
		p.t.Fatalf("unparsable message from %v: %v\n%s", from, err, buf[:n])
	}
	return msg, from
}

// expect reads until a response with code to method (skipping other
// responses, e.g. 100 Trying and retransmissions, and requests unless
// method is a request method to wait for).
func (p *peer) expect(method sip.RequestMethod, code int) *sip.Response {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		msg, _ := p.read(time.Until(deadline))
		if msg == nil {
			break
		}
		res, ok := msg.(*sip.Response)
		if !ok || res.CSeq() == nil || res.CSeq().MethodName != method {
			continue
		}
		if res.StatusCode == code {
			return res
		}
		if res.StatusCode >= 200 {
			p.t.Fatalf("%s: got %d %s, want %d\n%s", method, res.StatusCode, res.Reason, code, res)
		}
	}
	p.t.Fatalf("%s: no %d response", method, code)
	return nil
}

// expectRequest reads until a request of method arrives.
func (p *peer) expectRequest(method sip.RequestMethod, d time.Duration) (*sip.Request, *net.UDPAddr) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		msg, from := p.read(time.Until(deadline))
		if msg == nil {
			break
		}
		if req, ok := msg.(*sip.Request); ok && req.Method == method {
			return req, from
		}
	}
	p.t.Fatalf("no %s request", method)
	return nil, nil
}

// respondTo answers a request received from the server.
func (p *peer) respondTo(req *sip.Request, from *net.UDPAddr, code int, reason string, hdrs ...string) {
	p.t.Helper()
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		k, v, _ := strings.Cut(h, ":")
		res.AppendHeader(sip.NewHeader(k, strings.TrimSpace(v)))
	}
	p.sendTo(from, res.String())
}

// dlg is the peer's side of one call (the peer is the UAC).
type dlg struct {
	p       *peer
	callID  string
	fromTag string
	toTag   string
	cseq    int
	ruri    string
	routes  []string // Route headers for in-dialog requests
	extra   []string // extra headers for the INVITE
	branch  string   // branch of the last INVITE
	invite  string   // last INVITE sent
}

func (p *peer) dialog() *dlg {
	return &dlg{
		p:       p,
		callID:  fmt.Sprintf("call-%d@test", rand.Int64()),
		fromTag: fmt.Sprintf("ft%d", rand.Int64()),
		cseq:    1,
		ruri:    "sip:5000@" + p.srv.String(),
	}
}

func branch() string { return fmt.Sprintf("z9hG4bK%d", rand.Int64()) }

// build renders a request of this dialog. ctype "" = no body.
func (d *dlg) build(method string, cseq int, br string, ctype, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, d.ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", d.p.addr(), br)
	for _, r := range d.routes {
		fmt.Fprintf(&b, "Route: %s\r\n", r)
	}
	fmt.Fprintf(&b, "From: \"Alice\" <sip:13800138000@%s>;tag=%s\r\n", d.p.addr(), d.fromTag)
	if d.toTag != "" {
		fmt.Fprintf(&b, "To: <sip:5000@%s>;tag=%s\r\n", d.p.srv, d.toTag)
	} else {
		fmt.Fprintf(&b, "To: <sip:5000@%s>\r\n", d.p.srv)
	}
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:alice@%s>\r\nMax-Forwards: 70\r\n", d.callID, cseq, method, d.p.addr())
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// offer renders an SDP offer from the peer's RTP socket.
func (d *dlg) offer(fmts string, attrs ...string) string {
	s := fmt.Sprintf("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", d.p.rtpPort(), fmts)
	for _, a := range attrs {
		s += a + "\r\n"
	}
	return s
}

var stdOffer = []string{"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv"}

// sendInvite sends an INVITE (initial or re-INVITE) with body sdp.
func (d *dlg) sendInvite(sdp string, extra ...string) {
	d.branch = branch()
	ct := ""
	if sdp != "" {
		ct = "application/sdp"
	}
	d.invite = d.build("INVITE", d.cseq, d.branch, ct, sdp, append(append([]string{}, d.extra...), extra...)...)
	d.p.sendRaw(d.invite)
}

// answered reads the 200 to the INVITE and records the To tag.
func (d *dlg) answered() *sip.Response {
	d.p.t.Helper()
	res := d.p.expect(sip.INVITE, 200)
	d.toTag = tagOf(res.To().Params)
	if d.toTag == "" {
		d.p.t.Fatal("200 without To tag")
	}
	return res
}

func (d *dlg) ack(sdp string) {
	ct := ""
	if sdp != "" {
		ct = "application/sdp"
	}
	d.p.sendRaw(d.build("ACK", d.cseq, branch(), ct, sdp))
}

// call places a complete call (INVITE, 200, ACK).
func (d *dlg) call() *sip.Response {
	d.sendInvite(d.offer("0 8 101", stdOffer...))
	res := d.answered()
	d.ack("")
	return res
}

// request sends an in-dialog request (next CSeq) and returns the final response.
func (d *dlg) request(method string, ctype, body string, code int, extra ...string) *sip.Response {
	d.p.t.Helper()
	d.cseq++
	d.p.sendRaw(d.build(method, d.cseq, branch(), ctype, body, extra...))
	return d.p.expect(sip.RequestMethod(method), code)
}

// reinvite sends a re-INVITE and returns the 200 (not yet ACKed).
func (d *dlg) reinvite(sdp string) *sip.Response {
	d.p.t.Helper()
	d.cseq++
	d.sendInvite(sdp)
	return d.p.expect(sip.INVITE, 200)
}

func header(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
