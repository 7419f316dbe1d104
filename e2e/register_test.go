package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kamailio as the PBX hotline registers with (testdata/kamailio/kamailio.cfg:
// registrar with digest authentication, in-memory location table, proxy to
// the registered contact). Each test runs its own Kamailio in the foreground
// on a free loopback port, with a private working/runtime folder and pid
// file, and stops it by its PID.

const (
	kamUser     = "hotline"
	kamDomain   = "hotline.test" // an alias of the Kamailio under test
	kamPassword = "e2e-Secret-7"
)

// kamailio is one Kamailio process.
type kamailio struct {
	t    *testing.T
	bin  string
	Port int
	Addr string
	dir  string
	cfg  string
	logs *logStore
	cmd  *exec.Cmd
	done chan struct{}
}

// startKamailio writes the configuration for port and starts Kamailio.
func startKamailio(t *testing.T, port int, algorithm string) *kamailio {
	t.Helper()
	bin := need(t, "kamailio", "kamailio")
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "kamailio", "kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("{{PORT}}", strconv.Itoa(port), "{{PASSWORD}}", kamPassword,
		"{{ALGORITHM}}", algorithm, "{{MIN_EXPIRES}}", "2").Replace(string(src))
	k := &kamailio{t: t, bin: bin, Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, cfg: filepath.Join(dir, "kamailio.cfg")}
	if err := os.WriteFile(k.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", k.cfg).CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c: %v\n%s", err, out)
	}
	k.start()
	t.Cleanup(k.stop)
	return k
}

// start runs Kamailio in the foreground (-DD), logging to stderr (-E), with
// its working folder (-w), runtime folder (-Y: the ctl socket) and pid file
// (-P) private to this test, and waits until its UDP port is bound.
func (k *kamailio) start() {
	k.t.Helper()
	k.logs, k.done = newLogStore(), make(chan struct{})
	k.cmd = exec.Command(k.bin, "-f", k.cfg, "-DD", "-E", "-w", k.dir, "-Y", k.dir, "-P", filepath.Join(k.dir, "kamailio.pid"))
	pr, pw := io.Pipe()
	k.cmd.Stdout, k.cmd.Stderr = pw, pw
	if err := k.cmd.Start(); err != nil {
		k.t.Fatalf("kamailio: %v", err)
	}
	go k.logs.consume(pr)
	go func() {
		_ = k.cmd.Wait()
		pw.Close()
		close(k.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for udpFree(k.Port) {
		select {
		case <-k.done:
			k.t.Fatalf("kamailio exited at start:\n%s", k.logs.text())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("kamailio did not bind %s in 10 s:\n%s", k.Addr, k.logs.text())
		}
	}
}

// stop ends Kamailio with SIGTERM to its PID (the main process then stops
// its children) and waits until the port is free again; SIGKILL if it
// does not go.
func (k *kamailio) stop() {
	select {
	case <-k.done:
		return
	default:
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		_ = k.cmd.Process.Kill() // this PID only
		<-k.done
	}
	deadline := time.Now().Add(10 * time.Second)
	for !udpFree(k.Port) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // its children close the socket
	}
}

// registered counts the REGISTERs Kamailio accepted (its xlog line).
func (k *kamailio) registered() int {
	return len(k.logs.find(func(l logLine) bool { return strings.Contains(l.Raw, "REGISTERED sip:"+kamUser+"@") }))
}

// registration is one entry of /healthz's "registrations".
type registration struct {
	AOR       string    `json:"aor"`
	Registrar string    `json:"registrar"`
	State     string    `json:"state"`
	Expires   time.Time `json:"expires"`
	Refreshes int       `json:"refreshes"`
	Failures  int       `json:"failures"`
	LastError string    `json:"last_error"`
}

// registrations reads /healthz's registrations.
func (s *server) registrations() ([]registration, error) {
	res, err := httpClient.Get("http://" + s.HTTP + "/healthz")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var h struct {
		Registrations *[]registration `json:"registrations"`
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return nil, fmt.Errorf("/healthz: %w", err)
	}
	if h.Registrations == nil {
		return nil, fmt.Errorf("/healthz has no registrations")
	}
	return *h.Registrations, nil
}

// waitRegistration waits until cond holds for the first registration.
func (s *server) waitRegistration(timeout time.Duration, what string, cond func(registration) bool) registration {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var last registration
	var lastErr error
	for time.Now().Before(deadline) {
		regs, err := s.registrations()
		lastErr = err
		if err == nil && len(regs) > 0 {
			last = regs[0]
			if cond(last) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("registration: %s not seen in %s (last %+v, error %v)\nhotline:\n%s", what, timeout, last, lastErr, s.logs.tail(40))
	return last
}

// runKamailioSIPp runs a SIPp scenario of testdata/kamailio (runSIPp's
// runner, bounded the same way) to its end.
func runKamailioSIPp(t *testing.T, scenario string, o sippOptions) sippResult {
	t.Helper()
	bin := need(t, "sipp", "sip-tester")
	o.Scenario, o.Calls = scenario, max(o.Calls, 1)
	src, err := os.ReadFile(filepath.Join("testdata", "kamailio", scenario))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for k, v := range o.Vars {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	if strings.Contains(text, "{{") {
		t.Fatalf("scenario %s: a {{NAME}} without value", scenario)
	}
	dir := t.TempDir()
	r := &sippRun{o: o, dir: dir, sf: filepath.Join(dir, scenario), done: make(chan struct{})}
	if err := os.WriteFile(r.sf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return r.run(bin)
}

// callViaKamailio places one SIPp call to the registered address through
// Kamailio and checks hotline answered it.
func callViaKamailio(t *testing.T, s *server, k *kamailio) {
	t.Helper()
	r := runKamailioSIPp(t, "uac_call.xml", sippOptions{Target: k.Addr, Timeout: 20 * time.Second,
		Vars: map[string]string{"USER": kamUser, "DOMAIN": kamDomain, "HOLD_MS": "1500"}})
	if r.Code != 0 {
		t.Fatalf("SIPp via Kamailio: the call failed\n%s\nkamailio:\n%s\nhotline:\n%s", r.report(), tail(k.logs.text(), 3000), s.logs.tail(40))
	}
	id := r.callID()
	in := s.waitLog(5*time.Second, "the call via Kamailio answered", msg("sip: incoming call", "call_id", id))
	if !strings.Contains(in.Str("to"), kamUser+"@"+kamDomain) {
		t.Errorf("hotline saw the call to %q, want the registered address", in.Str("to"))
	}
	s.waitLog(5*time.Second, "call answered", msg("call answered", "call_id", id))
	s.waitLog(10*time.Second, "call ended", msg("call ended", "call_id", id))
}

// TestKamailioRegisterAndCall: hotline serve registers with Kamailio
// (digest, SHA-256 and MD5), a SIPp call to the registered address through
// Kamailio reaches hotline and is answered, the registration is refreshed
// before it runs out (4 s), and after Kamailio is restarted (its location
// table is in memory: the binding is gone) hotline registers again and calls
// get through again. At shutdown hotline removes its binding.
func TestKamailioRegisterAndCall(t *testing.T) {
	for _, alg := range []string{"SHA-256", "MD5"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			testKamailioRegisterAndCall(t, alg)
		})
	}
}

func testKamailioRegisterAndCall(t *testing.T, algorithm string) {
	need(t, "sipp", "sip-tester")
	k := startKamailio(t, freePorts(t, 1, false), algorithm)
	conf := filepath.Join(t.TempDir(), "hotline.yaml")
	yaml := fmt.Sprintf(`register:
  - registrar: sip:%s
    user: %s
    domain: %s
    password: %s
    expires: 4s
`, k.Addr, kamUser, kamDomain, kamPassword)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, serveOptions{Args: []string{"--config", conf}})

	reg := s.waitRegistration(20*time.Second, "registered", func(r registration) bool { return r.State == "registered" })
	if reg.AOR != "sip:"+kamUser+"@"+kamDomain || reg.Registrar != "sip:"+k.Addr || reg.Failures != 0 {
		t.Errorf("registration %+v", reg)
	}
	first := s.waitLog(5*time.Second, "registered log line", msg("sip: registered"))
	t.Logf("%s: registered in %s (REGISTER, 401, REGISTER with %s credentials, 200), granted %s",
		algorithm, first.Duration("took"), algorithm, first.Duration("expires"))
	if strings.Contains(s.logs.text(), kamPassword) {
		t.Error("the password is in hotline's log")
	}

	callViaKamailio(t, s, k)

	// Refreshes before the 4 s binding runs out: each one must come while
	// the previous grant is still valid, or the count would stall with the
	// state failed.
	r0 := s.waitRegistration(5*time.Second, "still registered", func(r registration) bool { return r.State == "registered" })
	r1 := s.waitRegistration(15*time.Second, "two refreshes", func(r registration) bool { return r.Refreshes >= r0.Refreshes+2 })
	if r1.State != "registered" || r1.Failures != 0 || !r1.Expires.After(r0.Expires) {
		t.Errorf("after refreshes: %+v (before %+v)", r1, r0)
	}
	if n := k.registered(); n < r1.Refreshes {
		t.Errorf("Kamailio accepted %d REGISTERs, hotline counts %d", n, r1.Refreshes)
	}

	// Kamailio goes away and comes back on the same port with an empty
	// location table and a new nonce secret.
	k.stop()
	before := s.waitRegistration(5*time.Second, "status", func(registration) bool { return true }).Refreshes
	restarted := time.Now()
	k.start()
	s.waitRegistration(60*time.Second, "registered again", func(r registration) bool {
		return r.State == "registered" && r.Refreshes > before
	})
	t.Logf("%s: registered again %s after Kamailio's restart", algorithm, time.Since(restarted).Round(time.Millisecond))
	if n := k.registered(); n == 0 {
		t.Fatalf("the restarted Kamailio has no registration:\n%s", tail(k.logs.text(), 3000))
	}
	// Its nonces are new: the kept challenge no longer works, hotline had to
	// answer a fresh one.
	if len(k.logs.find(func(l logLine) bool { return strings.Contains(l.Raw, ": challenge") })) == 0 {
		t.Errorf("the restarted Kamailio never challenged hotline:\n%s", tail(k.logs.text(), 3000))
	}
	callViaKamailio(t, s, k)

	// Shutdown: the binding is removed (Expires: 0), then hotline exits.
	if _, err := s.waitIdle(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if d, err := s.stop(10 * time.Second); err != nil {
		t.Fatalf("hotline serve stop: %v (%s)", err, d)
	}
	if _, ok := k.logs.waitFor(5*time.Second, func(l logLine) bool {
		return strings.Contains(l.Raw, "REGISTERED sip:"+kamUser+"@") && strings.Contains(l.Raw, "expires 0")
	}); !ok {
		t.Errorf("no unregistration (Expires: 0) reached Kamailio:\n%s", tail(k.logs.text(), 2000))
	}
	if _, ok := s.logs.waitFor(2*time.Second, msg("sip: unregistered")); !ok {
		t.Errorf("hotline did not log its unregistration:\n%s", s.logs.tail(20))
	}
}

// TestKamailioRegisterWrongPassword: Kamailio refuses the answer to its
// challenge; hotline reports the failure (without looping on 401s, without
// logging the password) and retries with backoff.
func TestKamailioRegisterWrongPassword(t *testing.T) {
	t.Parallel()
	k := startKamailio(t, freePorts(t, 1, false), "MD5")
	conf := filepath.Join(t.TempDir(), "hotline.yaml")
	yaml := fmt.Sprintf("register:\n  - registrar: sip:%s\n    user: %s\n    domain: %s\n    password: not-the-password\n    expires: 60s\n",
		k.Addr, kamUser, kamDomain)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, serveOptions{Args: []string{"--config", conf}})
	reg := s.waitRegistration(20*time.Second, "two failed attempts", func(r registration) bool { return r.Failures >= 2 })
	if reg.State != "failed" || !strings.Contains(reg.LastError, "401") || !strings.Contains(reg.LastError, "credentials refused") || reg.Refreshes != 0 {
		t.Errorf("registration %+v", reg)
	}
	fail := s.waitLog(5*time.Second, "failure logged", msg("sip: registration failed"))
	if !strings.Contains(fail.Str("error"), "credentials refused") {
		t.Errorf("failure logged as %q", fail.Str("error"))
	}
	if n := k.registered(); n != 0 {
		t.Errorf("Kamailio registered hotline %d times with a wrong password", n)
	}
	if strings.Contains(s.logs.text(), "not-the-password") {
		t.Error("the password is in hotline's log")
	}
}
