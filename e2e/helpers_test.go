package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/speech"
)

// ---------------------------------------------------------------------------
// Tools

// need returns the path of a program the test needs. When it is missing the
// test fails if CI is set (CI must run everything), and is skipped with a
// message otherwise.
func need(t testing.TB, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		missing(t, "%s is not installed (Debian package %s)", tool, pkg)
	}
	return p
}

// needFile is need for a data file a package installs.
func needFile(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, "%s is missing (Debian package %s)", path, pkg)
	}
	return path
}

// needRoot: SIPp's pcap replay uses a raw socket, tshark captures on lo.
func needRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "%s needs root (or CAP_NET_RAW)", why)
	}
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so this is a failure, not a skip", msg)
	}
	t.Skipf("%s: skipped (set CI=1 to make this a failure)", msg)
}

// ---------------------------------------------------------------------------
// Ports
//
// Every port a test uses is chosen at run time. Blocks come from 20000-32767,
// below Linux's ephemeral range (32768-60999), so they do not collide with
// the ports the kernel hands to sockets bound to port 0; within this process
// a port is not handed out again while the test that took it runs (blocks
// from findFreePorts without a test are never handed out again); and each
// port is checked free (UDP, and TCP when asked) just before it is
// returned.

var (
	portMu    sync.Mutex
	portsUsed = map[int]bool{}
	portNext  = -1 // where the next search starts, in blocks of two ports
)

const portLow, portHigh = 20000, 32767

// freePorts returns the first of n consecutive free ports; the first is even
// (RTP convention; SIPp's -mp and hotline's --rtp-ports want even ports).
func freePorts(t testing.TB, n int, tcp bool) int {
	t.Helper()
	p, err := findFreePorts(n, tcp)
	if err != nil {
		t.Fatal(err)
	}
	// The block is the test's until it ends (its servers and peers are
	// stopped by then); later tests may take it again.
	t.Cleanup(func() {
		portMu.Lock()
		for q := p; q < p+n; q++ {
			delete(portsUsed, q)
		}
		portMu.Unlock()
	})
	return p
}

// findFreePorts takes the next block of n even-aligned ports that no test
// holds and the system shows free, scanning the whole range from where the
// last search ended (a random start: parallel test binaries spread out), so
// that it finds a block whenever one exists.
func findFreePorts(n int, tcp bool) (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	span := (portHigh - portLow - n) / 2
	if portNext < 0 {
		portNext = rand.IntN(span)
	}
	for i := range span {
		base := portLow + 2*((portNext+i)%span)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = !portsUsed[p] && udpFree(p) && (!tcp || tcpFree(p))
		}
		if !ok {
			continue
		}
		for p := base; p < base+n; p++ {
			portsUsed[p] = true
		}
		portNext = (portNext + i + (n+1)/2) % span
		return base, nil
	}
	return 0, fmt.Errorf("no block of %d free ports in %d-%d", n, portLow, portHigh)
}

func udpFree(port int) bool {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tcpFree(port int) bool {
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// ---------------------------------------------------------------------------
// hotline serve

// menuScript is the e2e tests' hotline (see testdata/menu/script.yaml).
const menuScript = "testdata/menu/script.yaml"

type serveOptions struct {
	Script     string        // default menuScript
	MaxCalls   int           // --max-calls, default hotline's
	RTPTimeout time.Duration // --rtp-timeout, default hotline's
	Args       []string      // more flags
}

// server is one `hotline serve` subprocess.
type server struct {
	t        *testing.T
	SIPPort  int
	SIPAddr  string // 127.0.0.1:port
	URI      string // sip:ivr@127.0.0.1:port
	HTTP     string // 127.0.0.1:port
	RTPMin   int
	RTPMax   int
	Data     string
	logs     *logStore
	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	exitErr  error
	exitedAt time.Time
	stopped  bool // the test stopped it itself
}

// startServe starts `hotline serve` on free ports with JSON logs and its data
// in a temporary folder, and waits until /healthz answers. Its cleanup checks
// that no call is left, stops it with SIGTERM and checks it exits 0 promptly.
func startServe(t *testing.T, o serveOptions) *server {
	t.Helper()
	need(t, "espeak-ng", "espeak-ng") // hotline speaks its prompts with it
	if o.Script == "" {
		o.Script = menuScript
	}
	script, err := filepath.Abs(o.Script)
	if err != nil {
		t.Fatal(err)
	}
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		s, retry, msg := tryServe(t, o, script)
		if s != nil {
			return s
		}
		lastErr = msg
		if !retry {
			break
		}
	}
	t.Fatalf("hotline serve did not start:\n%s", lastErr)
	return nil
}

func tryServe(t *testing.T, o serveOptions, script string) (*server, bool, string) {
	sipPort := freePorts(t, 1, false)
	httpPort := freePorts(t, 1, true)
	rtpMin := freePorts(t, 100, false)
	s := &server{
		t: t, SIPPort: sipPort, SIPAddr: fmt.Sprintf("127.0.0.1:%d", sipPort),
		URI:    fmt.Sprintf("sip:ivr@127.0.0.1:%d", sipPort),
		HTTP:   fmt.Sprintf("127.0.0.1:%d", httpPort),
		RTPMin: rtpMin, RTPMax: rtpMin + 99,
		Data: filepath.Join(t.TempDir(), "data"),
		logs: newLogStore(), done: make(chan struct{}),
	}
	args := []string{"serve",
		"--script", script,
		"--listen", "udp:" + s.SIPAddr,
		"--http", s.HTTP,
		"--rtp-ports", fmt.Sprintf("%d-%d", s.RTPMin, s.RTPMax),
		"--data", s.Data,
		"--log-format", "json",
		"--log-level", "debug",
		"--drain-timeout", "5s",
	}
	if o.MaxCalls > 0 {
		args = append(args, "--max-calls", strconv.Itoa(o.MaxCalls))
	}
	if o.RTPTimeout > 0 {
		args = append(args, "--rtp-timeout", o.RTPTimeout.String())
	}
	args = append(args, o.Args...)
	s.cmd = exec.Command(hotlineBin, args...)
	s.cmd.Env = append(os.Environ(), "GORACE=halt_on_error=0")
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting hotline serve: %v", err)
	}
	go s.logs.consume(pr)
	go func() {
		s.exitErr = s.cmd.Wait()
		s.exitedAt = time.Now()
		pw.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if h, err := s.health(); err == nil && h.Status == "ok" {
			break
		}
		select {
		case <-s.done:
			s.logs.wait(time.Second) // the last lines
			out := s.logs.text()
			return nil, strings.Contains(out, "address already in use"),
				fmt.Sprintf("exited: %v\n%s", s.exitErr, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.cmd.Process.Kill()
			<-s.done
			return nil, false, "no answer on /healthz in 20 s\n" + s.logs.text()
		}
	}
	t.Cleanup(s.finish)
	return s, false, ""
}

type health struct {
	Status       string `json:"status"`
	ActiveCalls  int    `json:"active_calls"`
	RunningCalls int    `json:"running_calls"`
	MaxCalls     int    `json:"max_calls"`
	Script       string `json:"script"`
	Version      string `json:"script_version"`
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// health reads /healthz (200 while serving, 503 while draining).
func (s *server) health() (health, error) {
	var h health
	res, err := httpClient.Get("http://" + s.HTTP + "/healthz")
	if err != nil {
		return h, err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("/healthz: %d, %v", res.StatusCode, err)
	}
	return h, nil
}

// waitIdle waits until /healthz reports no call, in SIP or in the runner.
func (s *server) waitIdle(timeout time.Duration) (health, error) {
	deadline := time.Now().Add(timeout)
	for {
		h, err := s.health()
		if err == nil && h.ActiveCalls == 0 && h.RunningCalls == 0 {
			return h, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("active_calls %d, running_calls %d after %s", h.ActiveCalls, h.RunningCalls, timeout)
			}
			return h, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the exit; it returns how long that took.
func (s *server) stop(timeout time.Duration) (time.Duration, error) {
	s.stopped = true
	select {
	case <-s.done:
		return 0, fmt.Errorf("hotline had already exited: %v", s.exitErr)
	default:
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-s.done:
		return s.exitedAt.Sub(start), s.exitErr
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill() // this PID only
		<-s.done
		return time.Since(start), fmt.Errorf("no exit within %s of SIGTERM: killed", timeout)
	}
}

// finish is the cleanup of every server: no call may be left, SIGTERM must
// stop it (exit status 0) within a few seconds, and its log must show no
// panic and no data race.
func (s *server) finish() {
	t := s.t
	if !s.stopped {
		select {
		case <-s.done:
			t.Errorf("hotline serve exited during the test: %v\n%s", s.exitErr, s.logs.tail(80))
		default:
			if h, err := s.waitIdle(5 * time.Second); err != nil {
				t.Errorf("after the test /healthz does not show an idle server (%+v): %v\n%s", h, err, s.logs.tail(60))
			}
			if took, err := s.stop(5 * time.Second); err != nil {
				t.Errorf("SIGTERM: %v (after %s)\n%s", err, took.Round(time.Millisecond), s.logs.tail(40))
			}
		}
	}
	s.logs.wait(time.Second)
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", `"call panicked"`, `"sip: handler panic"`} {
		if strings.Contains(s.logs.text(), bad) {
			t.Errorf("hotline's log has %q:\n%s", bad, s.logs.text())
			break
		}
	}
	if t.Failed() {
		t.Logf("hotline serve log (last lines):\n%s", s.logs.tail(60))
	}
}

// ---------------------------------------------------------------------------
// hotline's JSON log

// logLine is one JSON log line of hotline serve.
type logLine struct {
	Raw    string
	Time   time.Time
	Fields map[string]any
}

func (l logLine) Msg() string { return l.Str("msg") }

// Str is a field as text ("" when absent).
func (l logLine) Str(key string) string {
	v, ok := l.Fields[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Duration reads a duration field (slog's JSON handler writes nanoseconds).
func (l logLine) Duration(key string) time.Duration {
	if f, ok := l.Fields[key].(float64); ok {
		return time.Duration(f)
	}
	return 0
}

// logStore keeps every line a process writes, JSON or not.
type logStore struct {
	mu      sync.Mutex
	lines   []logLine
	changed chan struct{} // closed and replaced at every new line
	eof     bool
}

func newLogStore() *logStore { return &logStore{changed: make(chan struct{})} }

func (ls *logStore) consume(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		l := logLine{Raw: sc.Text()}
		if err := json.Unmarshal(sc.Bytes(), &l.Fields); err == nil {
			l.Time, _ = time.Parse(time.RFC3339Nano, l.Str("time"))
		}
		ls.mu.Lock()
		ls.lines = append(ls.lines, l)
		close(ls.changed)
		ls.changed = make(chan struct{})
		ls.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
	ls.mu.Lock()
	ls.eof = true
	close(ls.changed)
	ls.changed = make(chan struct{})
	ls.mu.Unlock()
}

// wait waits for the end of the output (after the process has exited).
func (ls *logStore) wait(timeout time.Duration) {
	deadline := time.After(timeout)
	for {
		ls.mu.Lock()
		eof, ch := ls.eof, ls.changed
		ls.mu.Unlock()
		if eof {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			return
		}
	}
}

func (ls *logStore) all() []logLine {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return slices.Clone(ls.lines)
}

func (ls *logStore) text() string {
	var b strings.Builder
	for _, l := range ls.all() {
		b.WriteString(l.Raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// tail is the last n lines, without sipgo's own transaction and transport
// debug lines (hotline runs with --log-level debug for its own debug lines).
func (ls *logStore) tail(n int) string {
	var lines []logLine
	for _, l := range ls.all() {
		if !strings.Contains(l.Raw, `"caller":"TransactionLayer"`) && !strings.Contains(l.Raw, `"caller":"TransportLayer"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// find returns the lines that match.
func (ls *logStore) find(match func(logLine) bool) []logLine {
	var out []logLine
	for _, l := range ls.all() {
		if match(l) {
			out = append(out, l)
		}
	}
	return out
}

// waitFor waits for a line that matches, up to timeout.
func (ls *logStore) waitFor(timeout time.Duration, match func(logLine) bool) (logLine, bool) {
	deadline := time.After(timeout)
	seen := 0
	for {
		ls.mu.Lock()
		lines, ch := ls.lines[seen:], ls.changed
		for _, l := range lines {
			if match(l) {
				ls.mu.Unlock()
				return l, true
			}
		}
		seen = len(ls.lines)
		ls.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return logLine{}, false
		}
	}
}

// msg matches a log line by message and, optionally, field values: msg("call
// ended", "outcome", "resolved").
func msg(m string, kv ...string) func(logLine) bool {
	return func(l logLine) bool {
		if l.Msg() != m {
			return false
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if l.Str(kv[i]) != kv[i+1] {
				return false
			}
		}
		return true
	}
}

// waitLog waits for a log line of hotline, failing the test with the log if
// it does not come.
func (s *server) waitLog(timeout time.Duration, what string, match func(logLine) bool) logLine {
	s.t.Helper()
	l, ok := s.logs.waitFor(timeout, match)
	if !ok {
		s.t.Fatalf("no log line %s within %s; hotline's log:\n%s", what, timeout, s.logs.tail(60))
	}
	return l
}

// waitCount waits until n log lines match (or the time is up); it returns
// how many do.
func (s *server) waitCount(timeout time.Duration, n int, match func(logLine) bool) int {
	deadline := time.Now().Add(timeout)
	for {
		got := len(s.logs.find(match))
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// callLog is every log line of one call, for failure messages.
func (s *server) callLog(callID string) string {
	var b strings.Builder
	for _, l := range s.logs.find(func(l logLine) bool { return l.Str("call_id") == callID }) {
		b.WriteString(l.Raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// SIPp

type sippOptions struct {
	Scenario string            // file in testdata/sipp
	Vars     map[string]string // {{NAME}} in the scenario → value
	Target   string            // host:port
	Calls    int               // -m, default 1
	Timeout  time.Duration     // -timeout (SIPp stops, exit 97/1), default 30 s
	Args     []string
}

type sippResult struct {
	Code      int    // 0: every call succeeded; 1: some failed; 97: -timeout; 255: fatal
	Dir       string // its trace files
	Output    string
	MediaPort int // -mp
}

// runSIPp runs one SIPp scenario to its end.
func runSIPp(t *testing.T, o sippOptions) sippResult {
	t.Helper()
	r := startSIPp(t, o)
	return r.wait()
}

type sippRun struct {
	o      sippOptions
	dir    string
	sf     string
	done   chan struct{}
	result sippResult
}

// startSIPp starts SIPp in the background; wait() gives its result.
func startSIPp(t *testing.T, o sippOptions) *sippRun {
	t.Helper()
	bin := need(t, "sipp", "sip-tester")
	if o.Calls == 0 {
		o.Calls = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "sipp", o.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for k, v := range o.Vars {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	if i := strings.Index(text, "{{"); i >= 0 {
		end := min(i+40, len(text))
		t.Fatalf("scenario %s: no value for %s", o.Scenario, text[i:end])
	}
	r := &sippRun{o: o, dir: dir, sf: filepath.Join(dir, o.Scenario), done: make(chan struct{})}
	if err := os.WriteFile(r.sf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		r.result = r.run(bin)
	}()
	t.Cleanup(func() { <-r.done }) // its own time bound ends it
	return r
}

func (r *sippRun) run(bin string) sippResult {
	for attempt := 0; ; attempt++ {
		mp, err := findFreePorts(4, false) // SIPp binds -mp and -mp+2
		if err != nil {
			return sippResult{Code: -1, Dir: r.dir, Output: err.Error()}
		}
		lp, err := findFreePorts(1, false)
		if err != nil {
			return sippResult{Code: -1, Dir: r.dir, Output: err.Error()}
		}
		argv := []string{
			"-sf", r.sf, "-s", "ivr",
			"-i", "127.0.0.1", "-p", strconv.Itoa(lp),
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp),
			"-m", strconv.Itoa(r.o.Calls),
			"-timeout", fmt.Sprintf("%ds", int(r.o.Timeout.Seconds())), "-timeout_error",
			"-nostdin",
			"-trace_err", "-error_file", filepath.Join(r.dir, "errors.log"),
			"-trace_screen", "-screen_file", filepath.Join(r.dir, "screen.log"),
			"-trace_msg", "-message_file", filepath.Join(r.dir, "messages.log"),
			"-trace_logs", "-log_file", filepath.Join(r.dir, "actions.log"),
		}
		argv = append(append(argv, r.o.Args...), r.o.Target)
		// A hard bound beyond SIPp's own -timeout; CommandContext kills this PID only.
		ctx, cancel := context.WithTimeout(context.Background(), r.o.Timeout+20*time.Second)
		cmd := exec.CommandContext(ctx, bin, argv...)
		cmd.Dir = r.dir // rtp_stream and pcap paths are absolute anyway
		out, err := cmd.CombinedOutput()
		cancel()
		res := sippResult{Dir: r.dir, Output: string(out), MediaPort: mp}
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			res.Code = ee.ExitCode()
		case err != nil:
			res.Code = -1
			res.Output += "\n" + err.Error()
		}
		if res.Code == 255 && attempt < 2 && strings.Contains(res.Output+readFile(filepath.Join(r.dir, "errors.log")), "bind") {
			continue // a port was taken between our check and SIPp's bind
		}
		return res
	}
}

func (r *sippRun) wait() sippResult {
	<-r.done
	return r.result
}

// report is what a failure message shows of a SIPp run.
func (r sippResult) report() string {
	return fmt.Sprintf("sipp exit %d\n--- output:\n%s\n--- errors.log:\n%s\n--- actions.log:\n%s\n--- screen.log (tail):\n%s\n--- messages.log (tail):\n%s",
		r.Code, tail(r.Output, 2000), tail(readFile(filepath.Join(r.Dir, "errors.log")), 4000),
		readFile(filepath.Join(r.Dir, "actions.log")), tail(readFile(filepath.Join(r.Dir, "screen.log")), 2500),
		tail(readFile(filepath.Join(r.Dir, "messages.log")), 5000))
}

// actions is what the scenario's <log> actions wrote.
func (r sippResult) actions() string { return readFile(filepath.Join(r.Dir, "actions.log")) }

var callIDRE = regexp.MustCompile(`(?m)^Call-ID: *(\S+)`)

// callID is the Call-ID of the run's (first) call, from its message trace.
func (r sippResult) callID() string {
	m := callIDRE.FindStringSubmatch(readFile(filepath.Join(r.Dir, "messages.log")))
	if m == nil {
		return ""
	}
	return m[1]
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ---------------------------------------------------------------------------
// Audio files for the callers

// soxRun runs sox with args, failing the test on error.
func soxRun(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(need(t, "sox", "sox"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sox %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dtmfTones are the ITU-T Q.23 frequency pairs.
var dtmfTones = map[rune][2]string{
	'1': {"697", "1209"}, '2': {"697", "1336"}, '3': {"697", "1477"},
	'4': {"770", "1209"}, '5': {"770", "1336"}, '6': {"770", "1477"},
	'7': {"852", "1209"}, '8': {"852", "1336"}, '9': {"852", "1477"},
	'*': {"941", "1209"}, '0': {"941", "1336"}, '#': {"941", "1477"},
}

// inbandDigitALaw makes, with sox, a raw A-law file (what SIPp's rtp_stream
// plays) of lead silence, the DTMF tone of key for toneLen, and trail silence.
func inbandDigitALaw(t *testing.T, dir string, key rune, lead, toneLen, trail time.Duration) string {
	t.Helper()
	f := dtmfTones[key]
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
	low, high := filepath.Join(dir, "low.wav"), filepath.Join(dir, "high.wav")
	tone, out := filepath.Join(dir, "tone.wav"), filepath.Join(dir, fmt.Sprintf("dtmf-%c.alaw", key))
	// Each tone at about -9 dBFS before mixing; sox -m halves each input.
	soxRun(t, "-n", "-r", "8000", "-c", "1", "-b", "16", low, "synth", sec(toneLen), "sine", f[0], "vol", "0.35")
	soxRun(t, "-n", "-r", "8000", "-c", "1", "-b", "16", high, "synth", sec(toneLen), "sine", f[1], "vol", "0.35")
	soxRun(t, "-m", low, high, tone)
	soxRun(t, tone, "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", out, "pad", sec(lead), sec(trail))
	return out
}

// sineALaw makes a raw A-law file of a sine (a caller's "voice" for rtp_stream).
func sineALaw(t *testing.T, dir string, hz int, d time.Duration) string {
	t.Helper()
	out := filepath.Join(dir, fmt.Sprintf("sine-%d.alaw", hz))
	soxRun(t, "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", out,
		"synth", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "sine", strconv.Itoa(hz), "vol", "0.3")
	return out
}

// ---------------------------------------------------------------------------
// Audio analysis

// frame is the analysis frame: 20 ms at 8 kHz.
const frameSamples = 160

// activeThreshold is the RMS above which a frame counts as sound: about
// -50 dBFS. Silence in hotline's stream and in its recordings is digital
// zero (or the G.711 silence byte, ±8 after decoding).
const activeThreshold = 100

// activeTime is how much of pcm (8 kHz) is sound: the number of 20 ms frames
// above activeThreshold, times 20 ms. It counts the pauses inside a prompt
// out, the same way for what was sent and for what was heard, so the two
// compare.
func activeTime(pcm []int16) time.Duration {
	n := 0
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		if rms(pcm[i:i+frameSamples]) > activeThreshold {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

func rms(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// spans lists the stretches of sound (gaps shorter than 400 ms merged), for logs.
func spans(pcm []int16) string {
	var out []string
	start, last := -1, -1
	flush := func() {
		if start >= 0 {
			out = append(out, fmt.Sprintf("%.2f-%.2fs", float64(start)/8000, float64(last+frameSamples)/8000))
		}
	}
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		if rms(pcm[i:i+frameSamples]) <= activeThreshold {
			continue
		}
		if start < 0 || i-last > 8000*4/10 {
			flush()
			start = i
		}
		last = i
	}
	flush()
	if len(out) == 0 {
		return "(silent)"
	}
	return strings.Join(out, " ")
}

// within reports whether got is want ± frac.
func within(got, want time.Duration, frac float64) bool {
	return math.Abs(float64(got-want)) <= frac*float64(want)
}

// ---------------------------------------------------------------------------
// What the bot says

var (
	synthOnce sync.Once
	synth     *speech.Espeak
	synthErr  error
	synthMu   sync.Mutex
	synthMemo = map[string]promptAudio{}
)

// promptAudio describes a prompt as hotline speaks it.
type promptAudio struct {
	Length time.Duration // all of it
	Active time.Duration // its sound (see activeTime)
}

// speak synthesises text the way hotline does (the same espeak-ng backend,
// voice choice and resampling) and measures it.
func speak(t *testing.T, language, text string) promptAudio {
	t.Helper()
	need(t, "espeak-ng", "espeak-ng")
	synthOnce.Do(func() { synth, synthErr = speech.NewEspeak(speech.EspeakOptions{}) })
	if synthErr != nil {
		t.Fatalf("espeak-ng: %v", synthErr)
	}
	key := language + "\x00" + text
	synthMu.Lock()
	pa, ok := synthMemo[key]
	synthMu.Unlock()
	if ok {
		return pa
	}
	pcm, err := synth.Synthesize(context.Background(), text, synth.Voice(language))
	if err != nil {
		t.Fatalf("synthesising %q: %v", text, err)
	}
	pa = promptAudio{Length: time.Duration(len(pcm)) * time.Second / 8000, Active: activeTime(pcm)}
	synthMu.Lock()
	synthMemo[key] = pa
	synthMu.Unlock()
	return pa
}

// scriptFile is the part of a script the tests read: its language and prompts.
type scriptFile struct {
	Language string `yaml:"language"`
	Nodes    map[string]struct {
		Say string `yaml:"say"`
	} `yaml:"nodes"`
}

// prompts measures the prompts of the given nodes of the menu script, in
// order, as hotline speaks them; vars fill its {{name | spell}} placeholders.
func prompts(t *testing.T, vars map[string]string, nodes ...string) promptAudio {
	t.Helper()
	b, err := os.ReadFile(menuScript)
	if err != nil {
		t.Fatal(err)
	}
	var sf scriptFile
	if err := yaml.Unmarshal(b, &sf); err != nil {
		t.Fatal(err)
	}
	var total promptAudio
	for _, n := range nodes {
		nd, ok := sf.Nodes[n]
		if !ok || nd.Say == "" {
			t.Fatalf("%s: node %q has no say", menuScript, n)
		}
		text := nd.Say
		for k, v := range vars {
			text = strings.ReplaceAll(text, "{{"+k+" | spell}}", strings.Join(strings.Split(v, ""), " "))
		}
		if strings.Contains(text, "{{") {
			t.Fatalf("%s: node %q: no value for a placeholder in %q", menuScript, n, text)
		}
		pa := speak(t, sf.Language, text)
		total.Length += pa.Length
		total.Active += pa.Active
	}
	return total
}

// ---------------------------------------------------------------------------
// Recordings

// recording is a call recording: stereo WAV, caller left, bot right.
type recording struct {
	Path     string
	Info     wav.Info
	Left     []int16 // the caller
	Right    []int16 // the bot
	DataSize uint32  // what the header says
	FileSize int64
}

// readRecording decodes a recording with media/wav (so it is a WAV file
// hotline's own reader accepts: playable) and splits its two channels.
func readRecording(t *testing.T, path string) recording {
	t.Helper()
	_, info, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("recording %s does not decode: %v", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := recording{Path: path, Info: info, FileSize: int64(len(b))}
	if info.Channels != 2 || info.SampleRate != 8000 || info.Format != "pcm" || info.BitsPerSample != 16 {
		t.Fatalf("recording %s: %+v, want 8 kHz 16-bit PCM stereo", path, info)
	}
	// media/wav mixes down; the channels come from the data chunk itself.
	off := 12
	for off+8 <= len(b) {
		id, size := string(b[off:off+4]), binary.LittleEndian.Uint32(b[off+4:off+8])
		off += 8
		if id != "data" {
			off += int(size) + int(size&1)
			continue
		}
		r.DataSize = size
		end := len(b)
		if size != 0xFFFFFFFF && off+int(size) <= len(b) {
			end = off + int(size)
		}
		for i := off; i+4 <= end; i += 4 {
			r.Left = append(r.Left, int16(binary.LittleEndian.Uint16(b[i:])))
			r.Right = append(r.Right, int16(binary.LittleEndian.Uint16(b[i+2:])))
		}
		return r
	}
	t.Fatalf("recording %s has no data chunk", path)
	return r
}

// closed reports whether the header was fixed up (the writer closed the file).
func (r recording) closed() bool { return int64(r.DataSize)+44 == r.FileSize }

func (r recording) String() string {
	return fmt.Sprintf("%s: %s stereo, header data size %d (file %d bytes); caller (left) active %s [%s]; bot (right) active %s [%s]",
		filepath.Base(r.Path), r.Info.Duration.Round(10*time.Millisecond), r.DataSize, r.FileSize,
		activeTime(r.Left), spans(r.Left), activeTime(r.Right), spans(r.Right))
}

var dateDir = regexp.MustCompile(`recordings/\d{4}-\d{2}-\d{2}/[^/]+\.wav$`)

// callRecording finds the call's recording from the "recording" log line and
// checks where it is: data/recordings/DATE/*.wav.
func (s *server) callRecording(t *testing.T, callID string) recording {
	t.Helper()
	l := s.waitLog(5*time.Second, "recording for "+callID, msg("recording", "call_id", callID))
	path := l.Str("file")
	if !strings.HasPrefix(path, filepath.Join(s.Data, "recordings")+"/") || !dateDir.MatchString(path) {
		t.Errorf("recording at %s, want %s/recordings/YYYY-MM-DD/*.wav", path, s.Data)
	}
	return readRecording(t, path)
}

// ---------------------------------------------------------------------------
// tshark capture and RTP pacing

// capture is tshark writing what passes on lo (within a capture filter) to a
// pcap file.
type capture struct {
	t    *testing.T
	file string
	cmd  *exec.Cmd
	out  *logStore
	done chan struct{}
}

// startCapture starts tshark on lo with a capture filter and waits until it
// captures.
func startCapture(t *testing.T, filter string) *capture {
	t.Helper()
	bin := need(t, "tshark", "tshark")
	needRoot(t, "capturing on lo with tshark")
	c := &capture{t: t, file: filepath.Join(t.TempDir(), "call.pcap"), out: newLogStore(), done: make(chan struct{})}
	// -F pcap: a plain libpcap file, read below; -a duration: a hard bound.
	c.cmd = exec.Command(bin, "-i", "lo", "-n", "-F", "pcap", "-w", c.file, "-f", filter, "-a", "duration:120")
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("tshark: %v", err)
	}
	go c.out.consume(pr)
	go func() {
		_ = c.cmd.Wait()
		pw.Close()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	started := func(l logLine) bool { return strings.Contains(l.Raw, "Capturing on") }
	if _, ok := c.out.waitFor(15*time.Second, started); !ok {
		t.Fatalf("tshark did not start capturing:\n%s", c.out.text())
	}
	time.Sleep(300 * time.Millisecond) // "Capturing on" comes just before the capture really runs
	return c
}

// stop ends the capture (SIGINT: tshark flushes and exits) and reads the file.
func (c *capture) stop() []udpPacket {
	c.t.Helper()
	time.Sleep(200 * time.Millisecond) // the last packets
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	pkts, err := readPcap(c.file)
	if err != nil {
		c.t.Fatalf("reading the capture: %v\ntshark:\n%s", err, c.out.text())
	}
	return pkts
}

// rtpStreams is tshark's own summary of the capture (for the test log).
func (c *capture) rtpStreams(sipPort int) string {
	out, err := exec.Command("tshark", "-r", c.file, "-n", "-d", fmt.Sprintf("udp.port==%d,sip", sipPort),
		"-o", "rtp.heuristic_rtp:TRUE", "-q", "-z", "rtp,streams").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("tshark -z rtp,streams: %v\n%s", err, out)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.Contains(l, "Running as user") && strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// udpPacket is one captured UDP datagram.
type udpPacket struct {
	At       time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
}

// readPcap reads the UDP/IPv4 datagrams of a libpcap file (Ethernet, Linux
// cooked v1/v2, BSD loopback or raw IP link types).
func readPcap(path string) ([]udpPacket, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%s: %d bytes, no pcap header", path, len(b))
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%s: not a libpcap file (pcapng? write with -F pcap)", path)
	}
	link := bo.Uint32(b[20:24])
	var out []udpPacket
	for off := 24; off+16 <= len(b); {
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		incl := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+incl > len(b) {
			break // truncated last record
		}
		data := b[off : off+incl]
		off += incl
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		at := time.Unix(int64(sec), ns)
		var ip []byte
		switch link {
		case 1: // Ethernet
			if len(data) >= 14 && binary.BigEndian.Uint16(data[12:]) == 0x0800 {
				ip = data[14:]
			}
		case 113: // Linux cooked v1
			if len(data) >= 16 && binary.BigEndian.Uint16(data[14:]) == 0x0800 {
				ip = data[16:]
			}
		case 276: // Linux cooked v2
			if len(data) >= 20 && binary.BigEndian.Uint16(data[0:]) == 0x0800 {
				ip = data[20:]
			}
		case 0: // BSD loopback
			if len(data) >= 4 {
				ip = data[4:]
			}
		case 101: // raw IP
			ip = data
		default:
			return nil, fmt.Errorf("%s: link type %d not supported", path, link)
		}
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
			continue
		}
		ihl := int(ip[0]&0x0f) * 4
		if len(ip) < ihl+8 {
			continue
		}
		src, _ := netip.AddrFromSlice(ip[12:16])
		dst, _ := netip.AddrFromSlice(ip[16:20])
		udp := ip[ihl:]
		ulen := int(binary.BigEndian.Uint16(udp[4:]))
		if ulen < 8 || ulen > len(udp) {
			ulen = len(udp)
		}
		out = append(out, udpPacket{
			At:      at,
			Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(udp[0:])),
			Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(udp[2:])),
			Payload: udp[8:ulen],
		})
	}
	return out, nil
}

// rtpPacket is a captured RTP packet.
type rtpPacket struct {
	At       time.Time
	Src, Dst netip.AddrPort
	rtp.Header
	Payload []byte
}

// rtpFrom parses the RTP packets (not RTCP) whose source port is in [lo, hi].
func rtpFrom(pkts []udpPacket, lo, hi int) []rtpPacket {
	var out []rtpPacket
	for _, p := range pkts {
		if int(p.Src.Port()) < lo || int(p.Src.Port()) > hi {
			continue
		}
		var r rtp.Packet
		if len(p.Payload) < 12 || p.Payload[0]>>6 != 2 || r.Unmarshal(p.Payload) != nil {
			continue
		}
		if p.Payload[1] >= 192 && p.Payload[1] <= 223 {
			continue // RTCP on the same port (RFC 5761)
		}
		out = append(out, rtpPacket{At: p.At, Src: p.Src, Dst: p.Dst, Header: r.Header, Payload: r.Payload})
	}
	return out
}

// sipFrom is the SIP messages a port sent: the first line of each, with its time.
func sipFrom(pkts []udpPacket, port int) []udpPacket {
	var out []udpPacket
	for _, p := range pkts {
		if int(p.Src.Port()) == port && (bytes.HasPrefix(p.Payload, []byte("SIP/2.0 ")) || bytes.Contains(p.Payload[:min(len(p.Payload), 80)], []byte(" SIP/2.0\r\n"))) {
			out = append(out, p)
		}
	}
	return out
}

// pacing describes the inter-packet gaps of one stream.
type pacing struct {
	Packets      int
	Span         time.Duration // first to last packet
	P50, P99     time.Duration
	Min, Max     time.Duration
	InTolerance  float64 // share of gaps within ptime ± 5 ms
	SeqBreaks    int     // sequence number steps other than +1
	TSBreaks     int     // timestamp steps other than one ptime
	Active       time.Duration
	PayloadTypes map[uint8]int
}

// analysePacing measures a stream of one SSRC sent every ptime.
func analysePacing(pkts []rtpPacket, ptime time.Duration, codec media.Codec) pacing {
	p := pacing{Packets: len(pkts), PayloadTypes: map[uint8]int{}}
	if len(pkts) == 0 {
		return p
	}
	p.Span = pkts[len(pkts)-1].At.Sub(pkts[0].At)
	var gaps []time.Duration
	var pcm []int16
	step := uint32(ptime / time.Millisecond * 8)
	for i, k := range pkts {
		p.PayloadTypes[k.PayloadType]++
		pcm = codec.Decode(pcm, k.Payload)
		if i == 0 {
			continue
		}
		gaps = append(gaps, k.At.Sub(pkts[i-1].At))
		if k.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			p.SeqBreaks++
		}
		if k.Timestamp-pkts[i-1].Timestamp != step {
			p.TSBreaks++
		}
	}
	p.Active = activeTime(pcm)
	if len(gaps) == 0 {
		return p
	}
	sorted := slices.Clone(gaps)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	q := func(f float64) time.Duration { return sorted[min(len(sorted)-1, int(f*float64(len(sorted))))] }
	p.P50, p.P99, p.Min, p.Max = q(0.50), q(0.99), sorted[0], sorted[len(sorted)-1]
	ok := 0
	for _, g := range gaps {
		if g >= ptime-5*time.Millisecond && g <= ptime+5*time.Millisecond {
			ok++
		}
	}
	p.InTolerance = float64(ok) / float64(len(gaps))
	return p
}

func (p pacing) String() string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) + "ms" }
	return fmt.Sprintf("%d packets over %s; gaps p50 %s p99 %s min %s max %s; %.2f%% within ptime±5ms; seq breaks %d, timestamp breaks %d; payload types %v; active audio %s",
		p.Packets, p.Span.Round(time.Millisecond), ms(p.P50), ms(p.P99), ms(p.Min), ms(p.Max), 100*p.InTolerance,
		p.SeqBreaks, p.TSBreaks, p.PayloadTypes, p.Active)
}

// ---------------------------------------------------------------------------
// hotline call

// runHotlineCall runs `hotline call ARGS…` to its end; it returns the output
// and the exit status.
func runHotlineCall(t *testing.T, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, hotlineBin, append([]string{"call"}, args...)...) // killed by PID on time-out
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ctx.Err() != nil {
			t.Fatalf("hotline call %v did not end within %s:\n%s", args, timeout, out)
		}
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("hotline call: %v", err)
	}
	return string(out), 0
}

// ---------------------------------------------------------------------------
// baresip

type keyAt struct {
	Key rune
	At  time.Duration // after "Call established"
}

type baresipOptions struct {
	Target string        // SIP URI
	Voice  string        // WAV the caller says (any format sox reads)
	Keys   []keyAt       // keypad presses (RFC 4733 via ctrl_tcp "sndcode")
	Limit  time.Duration // the call's longest life (baresip -t and the voice's padding)
}

type baresipResult struct {
	Dir         string
	Log         *logStore
	Established bool
	Terminated  bool // the call ended (here: the far end's BYE)
	Heard       []int16
	HeardFile   string
}

// runBaresip places one call with a headless baresip (see the harness's
// baresip/lib.sh: no sound card, aufile as the microphone, sndfile dumping
// what was heard to rec/dump-*-dec.wav) and waits until it ends.
func runBaresip(t *testing.T, o baresipOptions) baresipResult {
	t.Helper()
	bin := need(t, "baresip", "baresip")
	need(t, "sox", "sox")
	dir := t.TempDir()
	res := baresipResult{Dir: dir, Log: newLogStore()}
	if err := os.MkdirAll(filepath.Join(dir, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	// aufile wants 8 kHz mono S16 and ends the call at the end of the file:
	// one second of lead-in, then the voice, padded to the limit.
	voice := filepath.Join(dir, "voice8k.wav")
	soxRun(t, o.Voice, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", voice, "pad", "1", strconv.Itoa(int(o.Limit.Seconds())))
	_, ctrlPort := writeBaresipConfig(t, dir, voice, "<sip:caller@127.0.0.1:%d>;regint=0;audio_codecs=PCMA,PCMU\n")
	limit := int(o.Limit.Seconds()) + 5
	cmd := exec.Command(bin, "-f", dir, "-e", "/dial "+o.Target, "-t", strconv.Itoa(limit))
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	done := make(chan struct{})
	go res.Log.consume(pr)
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(done)
	}()
	stop := func() {
		select {
		case <-done:
			return
		default:
		}
		baresipCtrl(ctrlPort, "quit", "")
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // this PID only
			<-done
		}
	}
	t.Cleanup(stop)

	has := func(s string) func(logLine) bool {
		return func(l logLine) bool { return strings.Contains(l.Raw, s) }
	}
	if _, ok := res.Log.waitFor(10*time.Second, has("Call established")); ok {
		established := time.Now()
		res.Established = true
		for _, k := range o.Keys {
			time.Sleep(time.Until(established.Add(k.At)))
			baresipCtrl(ctrlPort, "sndcode", string(k.Key))
		}
		_, res.Terminated = res.Log.waitFor(time.Until(established.Add(o.Limit)), has("terminated"))
	}
	stop()
	res.Log.wait(time.Second)
	files, _ := filepath.Glob(filepath.Join(dir, "rec", "dump-*-dec.wav"))
	if len(files) == 1 {
		res.HeardFile = files[0]
		pcm, _, err := wav.ReadFile(files[0])
		if err != nil {
			t.Errorf("baresip's recording of what it heard: %v", err)
		}
		res.Heard = pcm
	}
	return res
}

// baresipCtrl sends one ctrl_tcp command (a netstring of JSON).
func baresipCtrl(port int, command, params string) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	j, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": "e2e"})
	_ = c.SetDeadline(time.Now().Add(time.Second))
	_, _ = fmt.Fprintf(c, "%d:%s,", len(j), j)
	_, _ = bufio.NewReader(c).ReadString(',') // its answer, if any
}

// writeBaresipConfig writes a headless baresip's config and accounts into
// dir: loopback only, G.711, voice (8 kHz mono WAV) as the microphone through
// aufile, what it hears recorded under dir/rec (sndfile), ctrl_tcp on a free
// port. accountFormat is the accounts line with one %d for the SIP port. It
// returns the SIP and control ports.
func writeBaresipConfig(t *testing.T, dir, voice, accountFormat string) (sipPort, ctrlPort int) {
	t.Helper()
	sipPort = freePorts(t, 1, false)
	ctrlPort = freePorts(t, 1, true)
	rtpMin := freePorts(t, 20, false)
	conf := strings.Join([]string{
		"poll_method epoll",
		"net_interface 127.0.0.1", // else the SDP carries eth0's address
		fmt.Sprintf("sip_listen 127.0.0.1:%d", sipPort),
		"call_local_timeout 30",
		"audio_path /usr/share/baresip",
		"audio_source aufile," + voice,
		"audio_alert none",
		"audio_player none",
		"ausrc_srate 8000",
		"auplay_srate 8000",
		fmt.Sprintf("rtp_ports %d-%d", rtpMin, rtpMin+19),
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module aufile.so",
		"module sndfile.so",
		"snd_path " + filepath.Join(dir, "rec"),
		"module_app account.so",
		"module_app menu.so",
		"statmode_default off",
		"ringback_disabled yes",
		"module_app ctrl_tcp.so",
		fmt.Sprintf("ctrl_tcp_listen 127.0.0.1:%d", ctrlPort),
		"",
	}, "\n")
	account := fmt.Sprintf(accountFormat, sipPort)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	return sipPort, ctrlPort
}
