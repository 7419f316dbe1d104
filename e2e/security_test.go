package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Inbound security against the real binary. hotline trusts 127.0.0.1/32
// only; the untrusted callers are SIPp bound to 127.0.0.2 (Linux routes all
// of 127.0.0.0/8 to lo).

const untrusted = "127.0.0.2"

// secRun is one SIPp run of a scenario in testdata/security.
type secRun struct {
	Code   int
	Dir    string
	Output string
}

func (r secRun) file(name string) string { return readFile(filepath.Join(r.Dir, name)) }

func (r secRun) report() string {
	return fmt.Sprintf("sipp exit %d\n--- output:\n%s\n--- errors.log:\n%s\n--- actions.log:\n%s\n--- messages.log (tail):\n%s",
		r.Code, tail(r.Output, 1500), tail(r.file("errors.log"), 3000), tail(r.file("actions.log"), 2000), tail(r.file("messages.log"), 4000))
}

// runSecSIPp runs scenario (from testdata/security, {{NAME}} filled in from
// vars) from address ip against target; SIPp's own -timeout bounds it, and a
// context kills this PID if even that fails.
func runSecSIPp(t *testing.T, scenario, ip, target string, vars map[string]string, timeout time.Duration, args ...string) secRun {
	t.Helper()
	bin := need(t, "sipp", "sip-tester")
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "security", scenario))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	if i := strings.Index(text, "{{"); i >= 0 {
		t.Fatalf("scenario %s: no value for %s", scenario, text[i:min(i+30, len(text))])
	}
	sf := filepath.Join(dir, scenario)
	if err := os.WriteFile(sf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		lp := freePorts(t, 1, false)
		mp := freePorts(t, 4, false)
		argv := append([]string{
			"-sf", sf, "-s", "ivr",
			"-i", ip, "-p", strconv.Itoa(lp), "-mi", ip, "-mp", strconv.Itoa(mp),
			"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-nostdin",
			"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
			"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
			"-trace_logs", "-log_file", filepath.Join(dir, "actions.log"),
		}, args...)
		argv = append(argv, target)
		ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
		cmd := exec.CommandContext(ctx, bin, argv...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		cancel()
		r := secRun{Dir: dir, Output: string(out)}
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			r.Code = ee.ExitCode()
		case err != nil:
			r.Code = -1
			r.Output += "\n" + err.Error()
		}
		if r.Code == 255 && attempt < 2 && strings.Contains(r.Output+r.file("errors.log"), "bind") {
			continue // a port was taken between our check and SIPp's bind
		}
		return r
	}
}

// secConfig writes a --config file with a security section.
func secConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sipHealth is the part of /healthz this test reads.
type sipHealth struct {
	Goroutines int `json:"goroutines"`
	OpenFDs    int `json:"open_fds"`
	SIP        struct {
		Invites   uint64            `json:"invites"`
		Accepted  uint64            `json:"accepted"`
		Requests  map[string]uint64 `json:"requests"`
		Responses map[string]uint64 `json:"responses"`
		Security  struct {
			Rejected      map[string]uint64 `json:"rejected"`
			DroppedBanned uint64            `json:"dropped_banned"`
			Challenges    uint64            `json:"challenges"`
			AuthOK        uint64            `json:"auth_ok"`
			AuthFailed    uint64            `json:"auth_failed"`
			Bans          uint64            `json:"bans"`
			BannedNow     int               `json:"banned_now"`
			Sources       int               `json:"sources"`
		} `json:"security"`
	} `json:"sip"`
}

func (s *server) sipHealth(t *testing.T) sipHealth {
	t.Helper()
	var h sipHealth
	res, err := httpClient.Get("http://" + s.HTTP + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	return h
}

const digestConfig = `security:
  allow: [127.0.0.1/32]
  others: digest
  realm: hotline.e2e
  users: {alice: secret}
`

// TestSecurityDigestSIPp: an untrusted caller without credentials gets 401
// and no answer; with alice's credentials (SIPp's [authentication]) it is
// answered; the Authorization of that accepted INVITE, replayed in a new
// INVITE, is refused.
func TestSecurityDigestSIPp(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{Args: []string{"--config", secConfig(t, digestConfig)}})
	s.waitLog(5*time.Second, "the start-up line", func(l logLine) bool {
		return strings.HasPrefix(l.Msg(), "sip: accepting calls from loopback only (127.0.0.1/32); others: digest authentication")
	})

	r := runSecSIPp(t, "uac_refused.xml", untrusted, s.SIPAddr, map[string]string{"CODE": "401"}, 15*time.Second, "-m", "1")
	if r.Code != 0 {
		t.Fatalf("without credentials: want 401\n%s", r.report())
	}
	if h := s.sipHealth(t); h.SIP.Accepted != 0 || h.SIP.Security.Challenges != 1 {
		t.Fatalf("after the caller without credentials: %+v", h.SIP)
	}
	if n := len(s.logs.find(msg("call answered"))); n != 0 {
		t.Fatalf("%d calls answered without credentials", n)
	}

	// SHA-256, the challenge hotline prefers (RFC 8760), answered by a raw
	// client; then that accepted Authorization replayed in a new INVITE.
	u := newRawUAC(t, s.SIPAddr)
	code, res := u.invite(1)
	if code != 401 {
		t.Fatalf("raw INVITE without credentials: %d\n%s", code, res)
	}
	auth := sha256Answer(t, res, "alice", "secret", "sip:ivr@"+s.SIPAddr)
	if code, res = u.invite(2, auth); code != 200 {
		t.Fatalf("INVITE with alice's SHA-256 credentials: %d\n%s", code, res)
	}
	s.waitLog(10*time.Second, "call answered", msg("call answered"))
	u.send("BYE", 3, nil, "")
	if code, res = u.final("BYE", 3); code != 200 {
		t.Fatalf("BYE: %d\n%s", code, res)
	}
	replay := newRawUAC(t, s.SIPAddr)
	code, res = replay.invite(1, auth)
	if code != 401 || strings.Contains(res, "stale=true") {
		t.Fatalf("replayed nonce: got %d, want a fresh 401 (not stale)\n%s", code, res)
	}
	if h := s.sipHealth(t); h.SIP.Security.AuthOK != 1 || h.SIP.Accepted != 1 {
		t.Fatalf("after the replay: %+v", h.SIP)
	}

	// hotline call --auth (SHA-256, the challenge we put first), the way
	// staff check a digest set-up; a wrong password is refused with 403.
	t.Run("hotline-call", func(t *testing.T) {
		out, _ := runHotlineCall(t, 20*time.Second, s.URI, "--auth", "alice:secret", "--duration", "2s",
			"--listen", "udp:"+untrusted+":0")
		if !strings.Contains(out, "<- 200") {
			t.Fatalf("hotline call --auth alice:secret: not answered\n%s", out)
		}
		out, code := runHotlineCall(t, 20*time.Second, s.URI, "--auth", "alice:wrong", "--duration", "2s",
			"--listen", "udp:"+untrusted+":0")
		if code != 1 || !strings.Contains(out, "call refused: 403") {
			t.Fatalf("hotline call with a wrong password: exit %d, want 1 and 403\n%s", code, out)
		}
		if h := s.sipHealth(t); h.SIP.Security.AuthOK != 2 || h.SIP.Security.AuthFailed != 1 {
			t.Fatalf("after hotline call: %+v", h.SIP.Security)
		}
	})

	// SIPp's [authentication] (MD5 only; it reads the topmost challenge).
	t.Run("sipp", func(t *testing.T) {
		// SIPp 3.6.1 answers only the topmost challenge, and only MD5: it
		// needs a server that offers MD5 first.
		cfg := secConfig(t, digestConfig+"  digest_algorithms: [MD5, SHA-256]\n")
		s := startServe(t, serveOptions{Args: []string{"--config", cfg}})
		r := runSecSIPp(t, "uac_auth.xml", untrusted, s.SIPAddr, map[string]string{"USER": "alice", "PASSWORD": "secret"}, 20*time.Second,
			"-m", "1", "-trace_msg", "-message_file", "messages.log")
		if r.Code != 0 {
			t.Fatalf("with alice's credentials: want the call answered\n%s", r.report())
		}
		if h := s.sipHealth(t); h.SIP.Security.AuthOK != 1 {
			t.Fatalf("after SIPp's call: %+v", h.SIP.Security)
		}
		// SIPp's accepted Authorization, replayed.
		m := regexp.MustCompile(`(?m)^Authorization: *(Digest [^\r\n]+)`).FindStringSubmatch(r.file("messages.log"))
		if m == nil {
			t.Fatalf("no Authorization in SIPp's trace\n%s", r.report())
		}
		if code, res := newRawUAC(t, s.SIPAddr).invite(1, "Authorization: "+m[1]); code != 401 || strings.Contains(res, "stale=true") {
			t.Fatalf("SIPp's nonce replayed: got %d, want a fresh 401\n%s", code, res)
		}
	})
}

// rawUAC is a minimal caller over UDP from the untrusted address, for what
// SIPp cannot do: answer a SHA-256 challenge, replay an Authorization.
type rawUAC struct {
	t      *testing.T
	c      *net.UDPConn
	to     *net.UDPAddr
	target string
	me     string
	callID string
	branch string
	toHdr  string // To of the last final response (with its tag)
}

func newRawUAC(t *testing.T, target string) *rawUAC {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(untrusted)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	to, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	return &rawUAC{t: t, c: c, to: to, target: target, me: c.LocalAddr().String(),
		callID: fmt.Sprintf("raw-%d@e2e", time.Now().UnixNano())}
}

func (u *rawUAC) send(method string, cseq int, extra []string, body string) {
	u.t.Helper()
	to := fmt.Sprintf("<sip:ivr@%s>", u.target)
	if method != "INVITE" && u.toHdr != "" {
		to = u.toHdr
	}
	if method != "ACK" {
		u.branch = fmt.Sprintf("z9hG4bKraw%d", time.Now().UnixNano())
	}
	msg := fmt.Sprintf("%s sip:ivr@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nFrom: <sip:alice@%s>;tag=raw1\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:alice@%s>\r\nMax-Forwards: 70\r\n",
		method, u.target, u.me, u.branch, u.me, to, u.callID, cseq, method, u.me)
	for _, h := range extra {
		msg += h + "\r\n"
	}
	if body != "" {
		msg += "Content-Type: application/sdp\r\n"
	}
	msg += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := u.c.WriteToUDP([]byte(msg), u.to); err != nil {
		u.t.Fatal(err)
	}
}

var toRE = regexp.MustCompile(`(?mi)^To: *([^\r\n]+)`)

// final reads the final response to CSeq seq of method.
func (u *rawUAC) final(method string, seq int) (int, string) {
	u.t.Helper()
	buf := make([]byte, 65535)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_ = u.c.SetReadDeadline(deadline)
		n, _, err := u.c.ReadFromUDP(buf)
		if err != nil {
			break
		}
		res := string(buf[:n])
		var code int
		if _, err := fmt.Sscanf(res, "SIP/2.0 %d", &code); err != nil || code < 200 ||
			!regexp.MustCompile(fmt.Sprintf(`(?mi)^CSeq: *%d %s\r`, seq, method)).MatchString(res) {
			continue
		}
		if m := toRE.FindStringSubmatch(res); m != nil {
			u.toHdr = m[1]
		}
		return code, res
	}
	u.t.Fatalf("%s %d: no final response", method, seq)
	return 0, ""
}

// invite sends INVITE CSeq seq (with extra headers), returns the final
// response and ACKs it (a 2xx too: the dialog is then up).
func (u *rawUAC) invite(seq int, extra ...string) (int, string) {
	u.t.Helper()
	sdp := fmt.Sprintf("v=0\r\no=r 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", untrusted, untrusted)
	u.send("INVITE", seq, extra, sdp)
	code, res := u.final("INVITE", seq)
	if code >= 300 {
		u.send("ACK", seq, nil, "") // same branch: ACK of a non-2xx
	} else {
		u.branch = fmt.Sprintf("z9hG4bKack%d", time.Now().UnixNano()) // the ACK of a 2xx is a transaction of its own
		u.send("ACK", seq, nil, "")
	}
	return code, res
}

var challengeRE = regexp.MustCompile(`(?mi)^WWW-Authenticate: *Digest ([^\r\n]*algorithm=SHA-256[^\r\n]*)`)

// sha256Answer answers the SHA-256 challenge of a 401 (RFC 7616, qop=auth).
func sha256Answer(t *testing.T, res, user, pass, uri string) string {
	t.Helper()
	m := challengeRE.FindStringSubmatch(res)
	if m == nil {
		t.Fatalf("no SHA-256 challenge in\n%s", res)
	}
	param := func(k string) string {
		p := regexp.MustCompile(k + `="?([^",]*)"?`).FindStringSubmatch(m[1])
		if p == nil {
			t.Fatalf("challenge without %s: %s", k, m[1])
		}
		return p[1]
	}
	realm, nonce := param("realm"), param("nonce")
	h := func(parts ...string) string {
		sum := sha256.Sum256([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(sum[:])
	}
	const nc, cnonce = "00000001", "e2ecnonce"
	resp := h(h(user, realm, pass), nonce, nc, cnonce, "auth", h("INVITE", uri))
	return fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=SHA-256, qop=auth, nc=%s, cnonce="%s"`,
		user, realm, nonce, uri, resp, nc, cnonce)
}

// TestSecurityRejectSIPp: with others: reject an untrusted caller gets 403.
func TestSecurityRejectSIPp(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{Args: []string{"--allow", "127.0.0.1/32", "--others", "reject"}})
	r := runSecSIPp(t, "uac_refused.xml", untrusted, s.SIPAddr, map[string]string{"CODE": "403"}, 15*time.Second, "-m", "1")
	if r.Code != 0 {
		t.Fatalf("want 403\n%s", r.report())
	}
	if h := s.sipHealth(t); h.SIP.Accepted != 0 || h.SIP.Security.Rejected["not_allowed"] != 1 {
		t.Fatalf("%+v", h.SIP)
	}
}

// TestSecurityFlood: SIPp floods INVITEs from the untrusted address (300
// calls/s for 10 s) while a trusted caller on 127.0.0.1 places calls: the
// flood source is banned after its burst, the trusted calls are answered.
// The figures are logged (go test -v -run TestSecurityFlood ./e2e/).
func TestSecurityFlood(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{Args: []string{"--config", secConfig(t, digestConfig)}})
	const floodCalls, floodRate, legitCalls = 3000, 300, 5

	done := make(chan secRun, 1)
	go func() {
		// -nr: no retransmissions, so requests sent = calls; -l: every call
		// may be waiting at once (a dropped INVITE waits 2 s for nothing).
		done <- runSecSIPp(t, "uac_flood.xml", untrusted, s.SIPAddr, nil, 25*time.Second,
			"-m", strconv.Itoa(floodCalls), "-r", strconv.Itoa(floodRate), "-l", strconv.Itoa(floodCalls), "-nr")
	}()
	// The trusted caller starts once the flood is under way (banned).
	waitBan := time.Now().Add(10 * time.Second)
	for s.sipHealth(t).SIP.Security.Bans == 0 && time.Now().Before(waitBan) {
		time.Sleep(50 * time.Millisecond)
	}
	legit := runSecSIPp(t, "uac_legit.xml", "127.0.0.1", s.SIPAddr, nil, 20*time.Second,
		"-m", strconv.Itoa(legitCalls), "-r", "2", "-l", strconv.Itoa(legitCalls))
	during := s.sipHealth(t)
	flood := <-done

	h := s.sipHealth(t)
	sec := h.SIP.Security
	t.Logf("flood from %s: %d INVITEs sent at %d/s (sipp exit %d); hotline answered %d with 401, %d with 403; %d dropped while banned; bans %d; INVITEs received by the handlers %d",
		untrusted, floodCalls, floodRate, flood.Code, h.SIP.Responses["401"], h.SIP.Responses["403"], sec.DroppedBanned, sec.Bans, h.SIP.Requests["INVITE"])
	t.Logf("trusted caller from 127.0.0.1: %d calls, sipp exit %d, hotline accepted %d; after: goroutines %d, open fds %d (during the flood: %d, %d)",
		legitCalls, legit.Code, h.SIP.Accepted, h.Goroutines, h.OpenFDs, during.Goroutines, during.OpenFDs)
	t.Logf("flood SIPp screen (tail):\n%s", tail(flood.file("screen.log"), 1500))

	if legit.Code != 0 {
		t.Errorf("the trusted caller's calls were not all answered during the flood\n%s", legit.report())
	}
	if h.SIP.Accepted != legitCalls {
		t.Errorf("hotline accepted %d calls, want the %d trusted ones", h.SIP.Accepted, legitCalls)
	}
	if sec.Bans != 1 || sec.BannedNow != 1 || sec.DroppedBanned == 0 {
		t.Errorf("the flood source was not banned: %+v", sec)
	}
	if sec.AuthOK != 0 {
		t.Errorf("flood INVITEs authenticated: %+v", sec)
	}
}
