package sip

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// testRegistrar is a tiny registrar on sipgo: it challenges with digest
// (qop=auth), checks the answers with its own computation (not the code
// under test's), grants at most grantMax, and can refuse, stay silent,
// answer 423, 503 or call a nonce stale.
type testRegistrar struct {
	t    *testing.T
	addr string
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	conn net.PacketConn
	done chan struct{}

	mu        sync.Mutex
	algorithm string // MD5 or SHA-256
	user      string
	pass      string
	realm     string
	grantMax  int            // seconds
	minExp    int            // 423 below this (0: never)
	mode      string         // "" normal, "silent", "403", "503"
	retryAft  int            // 503's Retry-After
	staleNext bool           // the next authorised REGISTER gets 401 stale=true
	onlyHdr   bool           // grant in the Expires header only (no Contact expires)
	proxy     bool           // also a proxy that wants its own credentials (407) first
	nonces    map[string]int // nonce -> last nc seen
	reqs      []regRecord
	bindings  map[string]time.Time // contact -> expiry
}

// regRecord is one REGISTER as the registrar saw it.
type regRecord struct {
	at         time.Time
	req        *sip.Request
	expires    int
	authorized bool // carried valid credentials
	answer     int  // our status code (0: silent)
	granted    int
}

func newTestRegistrar(t *testing.T, algorithm string) *testRegistrar {
	t.Helper()
	r := &testRegistrar{
		t: t, algorithm: algorithm, user: "hotline", pass: "s3cret", realm: "test.example",
		grantMax: 3600, nonces: map[string]int{}, bindings: map[string]time.Time{}, done: make(chan struct{}),
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.ua, r.srv, r.conn, r.addr = ua, srv, conn, conn.LocalAddr().String()
	srv.OnRegister(r.onRegister)
	go func() {
		defer close(r.done)
		_ = srv.ServeUDP(conn)
	}()
	t.Cleanup(r.close)
	return r
}

func (r *testRegistrar) close() {
	_ = r.ua.Close()
	_ = r.conn.Close()
	<-r.done
}

func (r *testRegistrar) set(fn func(r *testRegistrar)) {
	r.mu.Lock()
	fn(r)
	r.mu.Unlock()
}

func (r *testRegistrar) records() []regRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]regRecord(nil), r.reqs...)
}

func (r *testRegistrar) newHash() hash.Hash {
	if r.algorithm == "SHA-256" {
		return sha256.New()
	}
	return md5.New()
}

func (r *testRegistrar) h(parts ...string) string {
	h := r.newHash()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

// authParams splits a Digest credentials header into its parameters.
func authParams(v string) map[string]string {
	out := map[string]string{}
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "Digest"))
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			out[strings.ToLower(k)] = strings.Trim(val, `"`)
		}
	}
	return out
}

// checkAuth verifies the request's Authorization (RFC 7616 with qop=auth);
// "" when valid, else why not. stale: a nonce it does not know.
func (r *testRegistrar) checkAuth(req *sip.Request, name, realm string) (why string) {
	h := req.GetHeader(name)
	if h == nil {
		return "no credentials"
	}
	p := authParams(h.Value())
	last, known := r.nonces[p["nonce"]]
	switch {
	case !known:
		return "unknown nonce"
	case p["username"] != r.user || p["realm"] != realm:
		return "wrong user or realm"
	case !strings.EqualFold(p["algorithm"], r.algorithm) && (p["algorithm"] != "" || r.algorithm != "MD5"):
		return "wrong algorithm " + p["algorithm"]
	case p["qop"] != "auth" || p["cnonce"] == "":
		return "no qop=auth"
	case p["uri"] != req.Recipient.String():
		return fmt.Sprintf("uri %q is not the Request-URI %q", p["uri"], req.Recipient.String())
	}
	nc, err := strconv.ParseUint(p["nc"], 16, 32)
	if err != nil || int(nc) <= last {
		return fmt.Sprintf("nonce count %q not above %d", p["nc"], last)
	}
	ha1 := r.h(r.user, realm, r.pass)
	ha2 := r.h(string(req.Method), p["uri"])
	want := r.h(ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2)
	if p["response"] != want {
		return "wrong response"
	}
	r.nonces[p["nonce"]] = int(nc)
	return ""
}

const proxyRealm = "proxy.example"

func (r *testRegistrar) challenge(req *sip.Request, stale bool) *sip.Response {
	return r.challengeAs(req, 401, "WWW-Authenticate", r.realm, stale)
}

func (r *testRegistrar) challengeAs(req *sip.Request, code int, name, realm string, stale bool) *sip.Response {
	nonce := strconv.FormatUint(rand.Uint64(), 36)
	r.nonces[nonce] = 0
	res := sip.NewResponseFromRequest(req, code, "Unauthorized", nil)
	v := fmt.Sprintf(`Digest realm="%s", nonce="%s", qop="auth", algorithm=%s, opaque="op1"`, realm, nonce, r.algorithm)
	if stale {
		v += ", stale=true"
	}
	res.AppendHeader(sip.NewHeader(name, v))
	return res
}

func (r *testRegistrar) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	r.mu.Lock()
	rec := regRecord{at: time.Now(), req: req, expires: -1}
	if h := req.GetHeader("Expires"); h != nil {
		rec.expires, _ = strconv.Atoi(h.Value())
	}
	var res *sip.Response
	switch r.mode {
	case "silent":
	case "403":
		res = sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	case "503":
		res = sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(r.retryAft)))
	default:
		if r.proxy {
			if why := r.checkAuth(req, "Proxy-Authorization", proxyRealm); why != "" {
				res = r.challengeAs(req, 407, "Proxy-Authenticate", proxyRealm, false)
				break
			}
		}
		if why := r.checkAuth(req, "Authorization", r.realm); why != "" {
			res = r.challenge(req, false)
			break
		}
		rec.authorized = true
		if r.staleNext {
			r.staleNext = false
			res = r.challenge(req, true)
			break
		}
		if rec.expires > 0 && rec.expires < r.minExp {
			res = sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(r.minExp)))
			break
		}
		contact := req.Contact().Address.String()
		grant := min(rec.expires, r.grantMax)
		res = sip.NewResponseFromRequest(req, 200, "OK", nil)
		if grant == 0 {
			delete(r.bindings, contact)
		} else {
			r.bindings[contact] = time.Now().Add(time.Duration(grant) * time.Second)
			rec.granted = grant
			if r.onlyHdr {
				res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(grant)))
			} else {
				// Another device's binding first, as registrars list all.
				res.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:desk@192.0.2.7:5060>;expires=%d, <%s>;expires=%d", 3000, contact, grant)))
				res.AppendHeader(sip.NewHeader("Expires", "7200")) // must lose to the Contact's own
			}
		}
	}
	if res != nil {
		rec.answer = res.StatusCode
	}
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	if res != nil {
		_ = tx.Respond(res)
	}
}

// startRegServer starts a server whose registration timers are tweaked.
func startRegServer(t *testing.T, cfg Config, timing regTiming) *testServer {
	t.Helper()
	ts := &testServer{ports: &loopbackPorts{}, rec: newRecorder(nil), done: make(chan error, 1)}
	cfg.Listen = []string{"udp:127.0.0.1:0"}
	cfg.Ports, cfg.Handler, cfg.Logger = ts.ports, ts.rec, testLogger(t)
	cfg.ShutdownTimeout = 2 * time.Second
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.regTiming = timing
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

func (ts *testServer) reg0() RegistrationStatus {
	rs := ts.Registrations()
	if len(rs) == 0 {
		return RegistrationStatus{}
	}
	return rs[0]
}

// TestRegisterDigestRefreshUnregister: REGISTER, 401, answer (MD5 and
// SHA-256, qop=auth), 200 with a short expiry; the refreshes carry the kept
// challenge's credentials (growing nc, no new 401), arrive before the binding
// runs out, keep Call-ID and From tag with a growing CSeq; at shutdown the
// binding is removed (Expires: 0, authorised).
func TestRegisterDigestRefreshUnregister(t *testing.T) {
	base := runtime.NumGoroutine()
	// The group returns once both parallel runs and their cleanups are done.
	t.Run("group", func(t *testing.T) {
		for _, alg := range []string{"MD5", "SHA-256"} {
			t.Run(alg, func(t *testing.T) {
				t.Parallel()
				testRegisterDigest(t, alg)
			})
		}
	})
	waitGoroutines(t, base)
}

func testRegisterDigest(t *testing.T, alg string) {
	reg := newTestRegistrar(t, alg)
	reg.set(func(r *testRegistrar) { r.grantMax = 3 })
	ts := startRegServer(t, Config{Register: []Registration{{
		Registrar: "sip:" + reg.addr, User: "hotline", Domain: "test.example",
		Password: "s3cret", Expires: time.Minute,
	}}}, regTiming{})
	waitFor(t, 15*time.Second, "three successful REGISTERs", func() bool { return ts.reg0().Refreshes >= 3 })
	st := ts.reg0()
	if st.State != regRegistered || st.AOR != "sip:hotline@test.example" || st.Failures != 0 || st.LastError != "" {
		t.Errorf("status %+v", st)
	}
	if left := time.Until(st.Expires); left <= 0 || left > 3*time.Second {
		t.Errorf("binding expires in %s, want within the granted 3 s", left)
	}
	ts.stop()
	recs := reg.records()
	last := recs[len(recs)-1]
	if last.expires != 0 || !last.authorized || last.answer != 200 {
		t.Errorf("last REGISTER: expires %d authorized %v answer %d, want an authorised Expires: 0", last.expires, last.authorized, last.answer)
	}
	if st := ts.reg0(); st.State != regUnregistered || !st.Expires.IsZero() {
		t.Errorf("after shutdown: %+v", st)
	}

	var challenges, ok int
	var grantedUntil time.Time
	var lastSeq uint32
	ourAddr := ts.Addr("udp")
	for i, rec := range recs {
		req := rec.req
		if rec.answer == 401 {
			challenges++
		}
		if i > 0 && req.CallID().Value() != recs[0].req.CallID().Value() {
			t.Errorf("REGISTER %d: Call-ID changed", i)
		}
		if tagOf(req.From().Params) != tagOf(recs[0].req.From().Params) || tagOf(req.To().Params) != "" {
			t.Errorf("REGISTER %d: From/To tags %q %q", i, tagOf(req.From().Params), tagOf(req.To().Params))
		}
		if req.CSeq().SeqNo <= lastSeq {
			t.Errorf("REGISTER %d: CSeq %d after %d", i, req.CSeq().SeqNo, lastSeq)
		}
		lastSeq = req.CSeq().SeqNo
		if req.From().Address.String() != "sip:hotline@test.example" || req.To().Address.String() != "sip:hotline@test.example" {
			t.Errorf("REGISTER %d: From %s To %s", i, req.From().Address.String(), req.To().Address.String())
		}
		if req.Recipient.String() != "sip:"+reg.addr {
			t.Errorf("REGISTER %d: Request-URI %s", i, req.Recipient.String())
		}
		if c := req.Contact().Address.String(); c != "sip:hotline@"+ourAddr {
			t.Errorf("REGISTER %d: Contact %s, want sip:hotline@%s", i, c, ourAddr)
		}
		if req.Source() != ourAddr {
			t.Errorf("REGISTER %d came from %s, not our listener %s", i, req.Source(), ourAddr)
		}
		if rec.answer == 200 && rec.granted > 0 {
			ok++
			if !grantedUntil.IsZero() && !rec.at.Before(grantedUntil) {
				t.Errorf("refresh %d came %s after the binding ran out", ok, rec.at.Sub(grantedUntil))
			}
			grantedUntil = rec.at.Add(time.Duration(rec.granted) * time.Second)
		}
	}
	if challenges != 1 {
		t.Errorf("%d challenges: the refreshes should reuse the first one's nonce", challenges)
	}
}

// TestRegisterStaleNonce: a stale=true challenge is answered at once and is
// no failure; grants in the Expires header alone are understood.
func TestRegisterStaleNonce(t *testing.T) {
	reg := newTestRegistrar(t, "MD5")
	reg.set(func(r *testRegistrar) { r.grantMax, r.onlyHdr = 2, true })
	ts := startRegServer(t, Config{Register: []Registration{{
		Registrar: "sip:" + reg.addr, User: "hotline", AuthUser: "hotline", Password: "s3cret", Expires: time.Minute,
	}}}, regTiming{})
	waitFor(t, 10*time.Second, "registered", func() bool { return ts.reg0().Refreshes >= 1 })
	if left := time.Until(ts.reg0().Expires); left > 2*time.Second {
		t.Errorf("binding for %s, the Expires header granted 2 s", left)
	}
	reg.set(func(r *testRegistrar) { r.staleNext = true })
	waitFor(t, 10*time.Second, "refresh after the stale nonce", func() bool { return ts.reg0().Refreshes >= 3 })
	if st := ts.reg0(); st.Failures != 0 || st.State != regRegistered {
		t.Errorf("status %+v", st)
	}
	var stale int
	for _, rec := range reg.records() {
		if rec.answer == 401 && rec.authorized {
			stale++
		}
	}
	if stale != 1 {
		t.Errorf("%d stale challenges seen, want 1", stale)
	}
}

// TestRegisterWrongPasswordAndRefusal: a second 401 for a fresh nonce is a
// failure (not a loop), and so is 403; both are retried with backoff, and
// the registration recovers when the registrar takes it again.
func TestRegisterWrongPasswordAndRefusal(t *testing.T) {
	reg := newTestRegistrar(t, "SHA-256")
	reg.set(func(r *testRegistrar) { r.pass = "other" })
	ts := startRegServer(t, Config{Register: []Registration{{
		Registrar: "sip:" + reg.addr, User: "hotline", Password: "s3cret", Expires: 30 * time.Second,
	}}}, regTiming{backoffMin: 100 * time.Millisecond, backoffMax: 400 * time.Millisecond})
	waitFor(t, 10*time.Second, "two failures", func() bool { return ts.reg0().Failures >= 2 })
	st := ts.reg0()
	if st.State != regFailed || !strings.Contains(st.LastError, "credentials refused") || st.Refreshes != 0 {
		t.Errorf("status %+v", st)
	}
	// Every attempt: one REGISTER, one answer to the challenge; no more.
	if n := len(reg.records()); n > 2*ts.reg0().Failures+2 {
		t.Errorf("%d REGISTERs for %d failed attempts", n, ts.reg0().Failures)
	}

	reg.set(func(r *testRegistrar) { r.mode = "403" })
	waitFor(t, 10*time.Second, "403 seen", func() bool { return strings.Contains(ts.reg0().LastError, "403") })

	reg.set(func(r *testRegistrar) { r.mode, r.pass = "", "s3cret" })
	waitFor(t, 10*time.Second, "recovered", func() bool { return ts.reg0().State == regRegistered })
	if st := ts.reg0(); st.Failures != 0 || st.LastError != "" || st.Refreshes != 1 {
		t.Errorf("after recovery: %+v", st)
	}
}

// TestRegisterSilentRegistrarBackoff: an unanswered REGISTER is a failure;
// the waits between attempts grow; 503's Retry-After is honoured.
func TestRegisterSilentRegistrarBackoff(t *testing.T) {
	reg := newTestRegistrar(t, "MD5")
	reg.set(func(r *testRegistrar) { r.mode = "silent" })
	timing := regTiming{backoffMin: 200 * time.Millisecond, backoffMax: 10 * time.Second, attempt: 300 * time.Millisecond}
	ts := startRegServer(t, Config{Register: []Registration{{
		Registrar: "sip:" + reg.addr, User: "hotline", Password: "s3cret",
	}}}, timing)
	waitFor(t, 20*time.Second, "four failed attempts", func() bool { return ts.reg0().Failures >= 4 })
	if st := ts.reg0(); st.State != regFailed || !strings.Contains(st.LastError, "timeout") {
		t.Errorf("status %+v", st)
	}
	// The first REGISTER of each attempt (the handler also sees the UDP
	// retransmissions of a transaction it does not answer).
	var starts []time.Time
	seen := map[string]bool{}
	for _, rec := range reg.records() {
		br, _ := rec.req.Via().Params.Get("branch")
		if !seen[br] {
			seen[br] = true
			starts = append(starts, rec.at)
		}
	}
	if len(starts) < 4 {
		t.Fatalf("%d REGISTERs seen", len(starts))
	}
	// Lower bounds only (a slow machine only makes the gaps longer): after
	// failure n the wait is at least half of min·2^(n-1).
	for n := 1; n <= 3; n++ {
		least := timing.attempt + timing.backoffMin*time.Duration(1<<(n-1))/2
		if gap := starts[n].Sub(starts[n-1]); gap < least {
			t.Errorf("attempt %d came %s after attempt %d, want ≥ %s", n+1, gap, n, least)
		}
	}

	reg.set(func(r *testRegistrar) { r.mode, r.retryAft = "503", 1 })
	waitFor(t, 20*time.Second, "503", func() bool { return strings.Contains(ts.reg0().LastError, "503") })
	n503 := len(reg.records())
	waitFor(t, 10*time.Second, "the retry after 503", func() bool { return len(reg.records()) > n503 })
	recs := reg.records()
	if gap := recs[n503].at.Sub(recs[n503-1].at); gap < time.Second {
		t.Errorf("retried %s after a 503 with Retry-After: 1", gap)
	}

	reg.set(func(r *testRegistrar) { r.mode = "" })
	waitFor(t, 20*time.Second, "recovered", func() bool { return ts.reg0().State == regRegistered })
}

// TestRegister423: Interval Too Brief → again with Min-Expires, which is
// also what the refreshes ask for.
func TestRegister423(t *testing.T) {
	reg := newTestRegistrar(t, "MD5")
	reg.set(func(r *testRegistrar) { r.minExp = 3 })
	ts := startRegServer(t, Config{Register: []Registration{{
		Registrar: "sip:" + reg.addr, User: "hotline", Password: "s3cret", Expires: time.Second,
	}}}, regTiming{})
	waitFor(t, 10*time.Second, "two registrations", func() bool { return ts.reg0().Refreshes >= 2 })
	var asked []int
	for _, rec := range reg.records() {
		asked = append(asked, rec.expires)
	}
	// 1 (challenged), 1 (423), 3 (200), 3 (refresh)...
	if len(asked) < 4 || asked[0] != 1 || asked[2] != 3 || asked[3] != 3 {
		t.Errorf("Expires asked: %v", asked)
	}
	if ts.reg0().Failures != 0 {
		t.Errorf("status %+v", ts.reg0())
	}
}

// TestRegisterOutboundProxy: with an outbound proxy the REGISTER goes to
// the proxy with a loose Route to it, the Request-URI still the registrar;
// the proxy's 407 and the registrar's 401 are both answered, and both
// answers go with the refreshes.
func TestRegisterOutboundProxy(t *testing.T) {
	proxy := newTestRegistrar(t, "MD5") // plays the proxy and the registrar behind it
	proxy.set(func(r *testRegistrar) { r.proxy, r.grantMax = true, 2 })
	ts := startRegServer(t, Config{Register: []Registration{{
		Registrar: "sip:registrar.test.example", User: "hotline", Password: "s3cret",
		OutboundProxy: "sip:" + proxy.addr, Expires: time.Minute,
	}}}, regTiming{})
	waitFor(t, 10*time.Second, "registered and refreshed via the proxy", func() bool { return ts.reg0().Refreshes >= 2 })
	var answers []int
	for _, rec := range proxy.records() {
		answers = append(answers, rec.answer)
	}
	if len(answers) < 4 || answers[0] != 407 || answers[1] != 401 || answers[2] != 200 || answers[3] != 200 {
		t.Errorf("answers %v, want 407 401 200 200…", answers)
	}
	rec := proxy.records()[0]
	if rec.req.Recipient.String() != "sip:registrar.test.example" {
		t.Errorf("Request-URI %s", rec.req.Recipient.String())
	}
	if rt := header(rec.req, "Route"); rt != "<sip:"+proxy.addr+";lr>" {
		t.Errorf("Route %q", rt)
	}
	if got := rec.req.To().Address.String(); got != "sip:hotline@registrar.test.example" {
		t.Errorf("To %s", got)
	}
}

// TestRegisterNoListener: a registrar over a transport we do not listen on
// is reported, and Serve works on.
func TestRegisterNoListener(t *testing.T) {
	ts := startRegServer(t, Config{Register: []Registration{{Registrar: "sip:127.0.0.1:5;transport=tcp", User: "x"}}}, regTiming{})
	rs := ts.Registrations()
	if len(rs) != 1 || rs[0].State != regFailed || !strings.Contains(rs[0].LastError, "no tcp listener") {
		t.Errorf("registrations %+v", rs)
	}
	ts.stop()
	if rs := ts.Registrations(); rs[0].State != regUnregistered {
		t.Errorf("after shutdown %+v", rs)
	}
}

func TestRefreshDelayAndBackoff(t *testing.T) {
	for _, c := range []struct{ granted, want time.Duration }{
		{2 * time.Second, time.Second},
		{4 * time.Second, 2 * time.Second},
		{10 * time.Second, 5 * time.Second},
		{20 * time.Second, 15 * time.Second},
		{3600 * time.Second, 2700 * time.Second},
	} {
		if got := refreshDelay(c.granted); got != c.want {
			t.Errorf("refreshDelay(%s) = %s, want %s", c.granted, got, c.want)
		}
	}
	for n := 1; n <= 12; n++ {
		d := min(time.Second<<(n-1), 5*time.Minute)
		for range 50 {
			if got := backoff(n, time.Second, 5*time.Minute); got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %s, want in [%s, %s]", n, got, d/2, d)
			}
		}
	}
}
