package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Linux routes all of 127.0.0.0/8 to lo: a socket bound to 127.0.0.2 is an
// untrusted source when only 127.0.0.1/32 is allowed.
var onlyLocalhost = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// newPeerAt is newPeer with its SIP socket bound to ip.
func newPeerAt(t testing.TB, ip, srvAddr string) *peer {
	t.Helper()
	p := newPeer(t, srvAddr)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p.conn = c
	return p
}

// expectSeq reads until the final response to the request with CSeq seq
// (retransmitted answers to earlier requests are skipped).
func (p *peer) expectSeq(method sip.RequestMethod, seq int) *sip.Response {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		msg, _ := p.read(time.Until(deadline))
		if msg == nil {
			break
		}
		if res, ok := msg.(*sip.Response); ok && res.CSeq() != nil && res.CSeq().MethodName == method &&
			int(res.CSeq().SeqNo) == seq && res.StatusCode >= 200 {
			return res
		}
	}
	p.t.Fatalf("%s %d: no final response", method, seq)
	return nil
}

// ackFinal ACKs a non-2xx final response to the INVITE (same branch).
func (d *dlg) ackFinal(res *sip.Response) {
	saved := d.toTag
	d.toTag = tagOf(res.To().Params)
	d.p.sendRaw(d.build("ACK", d.cseq, d.branch, "", ""))
	d.toTag = saved
}

// options sends an out-of-dialog OPTIONS and returns its final response.
func (p *peer) options(extra ...string) *sip.Response {
	p.t.Helper()
	d := p.dialog()
	d.p.sendRaw(d.build("OPTIONS", 1, branch(), "", "", extra...))
	return p.expectSeq(sip.OPTIONS, 1)
}

// withOnly is res with only the challenges of algorithm alg.
func withOnly(res *sip.Response, alg string) *sip.Response {
	out := res.Clone()
	for out.GetHeader("WWW-Authenticate") != nil {
		out.RemoveHeader("WWW-Authenticate")
	}
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		if strings.Contains(h.Value(), "algorithm="+alg+",") {
			out.AppendHeader(sip.NewHeader("WWW-Authenticate", h.Value()))
		}
	}
	return out
}

func TestSecurityAllowList(t *testing.T) {
	ts := startServer(t, Config{Security: Security{Allow: onlyLocalhost}}, nil)
	addr := ts.Addr("udp")

	stranger := newPeerAt(t, "127.0.0.2", addr)
	d := stranger.dialog()
	d.sendInvite(d.offer("0 8 101", stdOffer...))
	res := stranger.expectSeq(sip.INVITE, 1)
	if res.StatusCode != 403 {
		t.Fatalf("INVITE from 127.0.0.2: %d, want 403", res.StatusCode)
	}
	d.ackFinal(res)
	if res := stranger.options(); res.StatusCode != 403 {
		t.Fatalf("OPTIONS from 127.0.0.2: %d, want 403", res.StatusCode)
	}
	// REGISTER goes no further than OPTIONS.
	rd := stranger.dialog()
	stranger.sendRaw(rd.build("REGISTER", 1, branch(), "", ""))
	if res := stranger.expectSeq(sip.REGISTER, 1); res.StatusCode != 403 {
		t.Fatalf("REGISTER from 127.0.0.2: %d, want 403", res.StatusCode)
	}

	friend := newPeer(t, addr)
	if res := friend.options(); res.StatusCode != 200 {
		t.Fatalf("OPTIONS from 127.0.0.1: %d", res.StatusCode)
	}
	fd := friend.dialog()
	fd.call()
	ts.rec.next(t)
	fd.request("BYE", "", "", 200)

	st := ts.Stats().Security
	if st.Rejected["not_allowed"] != 3 || st.Challenges != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if ts.Stats().Accepted != 1 {
		t.Fatalf("accepted %d", ts.Stats().Accepted)
	}
}

func TestSecurityDefaultLoopback(t *testing.T) {
	g, err := newGuard(Security{}, "127.0.0.1", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"} {
		if !g.trusted(netip.MustParseAddr(a).Unmap()) {
			t.Errorf("%s not trusted by default", a)
		}
	}
	for _, a := range []string{"10.0.0.1", "192.0.2.1", "2001:db8::1"} {
		if g.trusted(netip.MustParseAddr(a)) {
			t.Errorf("%s trusted by default", a)
		}
	}
	if got, want := g.describe(), "sip: accepting calls from loopback only (127.0.0.0/8, ::1); others: rejected (403)"; got != want {
		t.Errorf("start-up line %q, want %q", got, want)
	}
	g, err = newGuard(Security{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}, Others: "digest", Users: map[string]string{"a": "b"}}, "pbx.example", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.describe(), `sip: accepting calls from 10.1.2.0/24; others: digest authentication (realm "pbx.example", 1 users)`; got != want {
		t.Errorf("start-up line %q, want %q", got, want)
	}
	g, _ = newGuard(Security{Allow: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}, "x", testLogger(t))
	if !g.trusted(netip.MustParseAddr("10.9.8.7")) || g.trusted(netip.MustParseAddr("11.0.0.1")) {
		t.Errorf("v4-mapped prefix: %v", g.allow)
	}
	if _, err := newGuard(Security{Others: "digest"}, "x", testLogger(t)); err == nil {
		t.Error("digest without users accepted")
	}
	if _, err := newGuard(Security{Others: "allow"}, "x", testLogger(t)); err == nil {
		t.Error("Others allow accepted")
	}
}

func TestSecurityDigest(t *testing.T) {
	ts := startServer(t, Config{Security: Security{
		Allow: onlyLocalhost, Others: "digest", Realm: "hotline.test", Users: map[string]string{"alice": "secret"},
	}}, nil)
	addr := ts.Addr("udp")
	p := newPeerAt(t, "127.0.0.2", addr)

	// challenge sends an INVITE without credentials and returns the 401.
	challenge := func(d *dlg) *sip.Response {
		t.Helper()
		d.sendInvite(d.offer("0 8 101", stdOffer...))
		res := p.expectSeq(sip.INVITE, d.cseq)
		if res.StatusCode != 401 {
			t.Fatalf("INVITE without credentials: %d, want 401", res.StatusCode)
		}
		d.ackFinal(res)
		return res
	}
	// retry sends the INVITE again with auth and returns the final response.
	retry := func(d *dlg, auth string) *sip.Response {
		t.Helper()
		d.cseq++
		d.sendInvite(d.offer("0 8 101", stdOffer...), "Authorization: "+auth)
		res := p.expectSeq(sip.INVITE, d.cseq)
		if res.StatusCode >= 300 {
			d.ackFinal(res)
		}
		return res
	}

	d := p.dialog()
	res := challenge(d)
	chals := res.GetHeaders("WWW-Authenticate")
	if len(chals) != 2 || !strings.Contains(chals[0].Value(), "algorithm=SHA-256") || !strings.Contains(chals[1].Value(), "algorithm=MD5") ||
		!strings.Contains(chals[0].Value(), `qop="auth"`) || !strings.Contains(chals[0].Value(), `realm="hotline.test"`) ||
		strings.Contains(chals[0].Value(), "stale") {
		t.Fatalf("challenges (want SHA-256 then MD5, qop auth):\n%s", res)
	}
	if ts.rec.count() != 0 {
		t.Fatal("a call was answered without credentials")
	}

	var accepted []string // Authorization headers that got a call answered
	for _, alg := range []string{"SHA-256", "MD5"} {
		t.Run(alg, func(t *testing.T) {
			d := p.dialog()
			res := challenge(d)
			h, err := answerChallenge(withOnly(res, alg), "INVITE", d.ruri, nil, "alice", "secret")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h.Value(), "algorithm="+alg) {
				t.Fatalf("client answered %s", h.Value())
			}
			if res := retry(d, h.Value()); res.StatusCode != 200 {
				t.Fatalf("INVITE with %s credentials: %d %s", alg, res.StatusCode, res.Reason)
			} else {
				d.toTag = tagOf(res.To().Params)
			}
			d.ack("")
			ts.rec.next(t)
			accepted = append(accepted, h.Value())
			// In-dialog requests of the authorised call are not challenged.
			d.reinvite(d.offer("0 101", stdOffer...))
			d.ack("")
			d.request("BYE", "", "", 200)
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		d := p.dialog()
		res := challenge(d)
		h, err := answerChallenge(res, "INVITE", d.ruri, nil, "alice", "guess")
		if err != nil {
			t.Fatal(err)
		}
		if res := retry(d, h.Value()); res.StatusCode != 403 {
			t.Fatalf("wrong password: %d, want 403", res.StatusCode)
		}
		d = p.dialog()
		res = challenge(d)
		h, _ = answerChallenge(res, "INVITE", d.ruri, nil, "mallory", "secret")
		if res := retry(d, h.Value()); res.StatusCode != 403 {
			t.Fatalf("unknown user: %d, want 403", res.StatusCode)
		}
	})

	t.Run("replayed nonce", func(t *testing.T) {
		if len(accepted) == 0 {
			t.Skip("no accepted credentials")
		}
		d := p.dialog()
		d.sendInvite(d.offer("0 8 101", stdOffer...), "Authorization: "+accepted[0])
		res := p.expectSeq(sip.INVITE, d.cseq)
		d.ackFinal(res)
		if res.StatusCode != 401 || strings.Contains(header(res, "WWW-Authenticate"), "stale") {
			t.Fatalf("replayed nonce: %d (want a fresh 401, not stale)\n%s", res.StatusCode, res)
		}
	})

	t.Run("expired nonce", func(t *testing.T) {
		d := p.dialog()
		old := ts.ep.guard.newNonce(time.Now().Add(-nonceTTL - time.Second))
		fake := sip.NewResponse(401, "Unauthorized")
		fake.AppendHeader(sip.NewHeader("WWW-Authenticate",
			fmt.Sprintf(`Digest realm="hotline.test", nonce="%s", algorithm=MD5, qop="auth"`, old)))
		h, err := answerChallenge(fake, "INVITE", d.ruri, nil, "alice", "secret")
		if err != nil {
			t.Fatal(err)
		}
		res := retry(d, h.Value())
		if res.StatusCode != 401 || !strings.Contains(header(res, "WWW-Authenticate"), "stale=true") {
			t.Fatalf("expired nonce: %d (want 401 stale=true)\n%s", res.StatusCode, res)
		}
		// The client answers the stale challenge at once and gets in.
		h, err = answerChallenge(res, "INVITE", d.ruri, nil, "alice", "secret")
		if err != nil {
			t.Fatal(err)
		}
		res = retry(d, h.Value())
		if res.StatusCode != 200 {
			t.Fatalf("after stale: %d", res.StatusCode)
		}
		d.toTag = tagOf(res.To().Params)
		d.ack("")
		ts.rec.next(t)
		d.request("BYE", "", "", 200)
	})

	st := ts.Stats().Security
	if st.AuthOK != 3 || st.AuthFailed != 2 || st.Rejected["auth_failed"] != 2 || st.Challenges < 7 {
		t.Fatalf("stats: %+v", st)
	}
	if got := ts.Stats().Accepted; got != 3 {
		t.Fatalf("accepted %d calls, want 3", got)
	}
}

func TestSecurityRateLimitBan(t *testing.T) {
	ts := startServer(t, Config{Security: Security{
		Allow: onlyLocalhost, RateLimit: 0.1, Burst: 3, BanFor: 300 * time.Millisecond,
	}}, nil)
	addr := ts.Addr("udp")
	flood := newPeerAt(t, "127.0.0.2", addr)
	for i := 0; i < 3; i++ {
		if res := flood.options(); res.StatusCode != 403 {
			t.Fatalf("OPTIONS %d: %d", i, res.StatusCode)
		}
	}
	// The fourth is over the limit: banned, dropped without an answer.
	d := flood.dialog()
	flood.sendRaw(d.build("OPTIONS", 1, branch(), "", ""))
	waitFor(t, 5*time.Second, "the ban", func() bool {
		st := ts.Stats().Security
		return st.Bans == 1 && st.DroppedBanned >= 1
	})
	// Trusted sources are never banned, however fast they go.
	friend := newPeer(t, addr)
	for i := 0; i < 30; i++ {
		if res := friend.options(); res.StatusCode != 200 {
			t.Fatalf("trusted OPTIONS %d: %d", i, res.StatusCode)
		}
	}
	// After BanFor the source is heard again (with a full bucket).
	waitFor(t, 10*time.Second, "the end of the ban", func() bool {
		d := flood.dialog()
		flood.sendRaw(d.build("OPTIONS", 1, branch(), "", ""))
		for {
			msg, _ := flood.read(100 * time.Millisecond)
			if msg == nil {
				return false
			}
			if res, ok := msg.(*sip.Response); ok && res.CallID() != nil && string(*res.CallID()) == d.callID {
				return res.StatusCode == 403
			}
		}
	})
	st := ts.Stats().Security
	if st.Bans != 1 || st.DroppedBanned < 1 || st.BannedNow != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if st.Rejected["not_allowed"] < 4 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestSecurityScannerUserAgent(t *testing.T) {
	ts := startServer(t, Config{}, nil) // default list, from a trusted source even
	p := newPeer(t, ts.Addr("udp"))
	for _, ua := range []string{"friendly-scanner", "SIPVicious 0.3.4", "sipcli/v1.8", "Mozilla/5.0 (sip-scan)"} {
		if res := p.options("User-Agent: " + ua); res.StatusCode != 403 {
			t.Fatalf("User-Agent %q: %d, want 403", ua, res.StatusCode)
		}
	}
	d := p.dialog()
	d.sendInvite(d.offer("0 8 101", stdOffer...), "User-Agent: friendly-scanner")
	res := p.expectSeq(sip.INVITE, 1)
	d.ackFinal(res)
	if res.StatusCode != 403 {
		t.Fatalf("INVITE from a scanner: %d", res.StatusCode)
	}
	if res := p.options("User-Agent: Linphone/5.2"); res.StatusCode != 200 {
		t.Fatalf("a phone: %d", res.StatusCode)
	}
	if got := ts.Stats().Security.Rejected["scanner"]; got != 5 {
		t.Fatalf("scanner rejections %d", got)
	}
	if ts.rec.count() != 0 {
		t.Fatal("scanner's call answered")
	}

	ts2 := startServer(t, Config{Security: Security{BlockUserAgents: []string{"EvilBot"}}}, nil)
	p2 := newPeer(t, ts2.Addr("udp"))
	if res := p2.options("User-Agent: evilbot/2"); res.StatusCode != 403 {
		t.Fatalf("configured UA: %d", res.StatusCode)
	}
	if res := p2.options("User-Agent: friendly-scanner"); res.StatusCode != 200 {
		t.Fatalf("a configured list replaces the default: %d", res.StatusCode)
	}
}

func TestSecurityMessageLimits(t *testing.T) {
	ts := startServer(t, Config{
		Listen:   []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"},
		Security: Security{MaxMessageSize: 4096, MaxHeaders: 20},
	}, nil)
	p := newPeer(t, ts.Addr("udp"))

	big := "X-Padding: " + strings.Repeat("a", 5000)
	if res := p.options(big); res.StatusCode != 513 {
		t.Fatalf("oversized OPTIONS: %d, want 513", res.StatusCode)
	}
	// Oversized garbage: nothing to answer.
	p.sendRaw(strings.Repeat("x", 5000))
	waitFor(t, 5*time.Second, "the drop", func() bool { return ts.Stats().Security.Rejected["too_large"] == 2 })

	var many []string
	for i := 0; i < 25; i++ {
		many = append(many, fmt.Sprintf("X-H%d: %d", i, i))
	}
	if res := p.options(many...); res.StatusCode != 400 || res.Reason != "Too Many Headers" {
		t.Fatalf("too many headers: %d %s", res.StatusCode, res.Reason)
	}
	// The listener still works.
	if res := p.options(); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after: %d", res.StatusCode)
	}

	// Over TCP sipgo's stream parser enforces the size: the connection is closed.
	c, err := net.Dial("tcp", ts.Addr("tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d := p.dialog()
	msg := strings.Replace(d.build("OPTIONS", 1, branch(), "", "", big), "SIP/2.0/UDP", "SIP/2.0/TCP", 1)
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Fatalf("TCP: read %q, %v; want the connection closed", b, err)
	}
	st := ts.Stats().Security
	if st.Rejected["too_many_headers"] != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestSecurityTablesBounded(t *testing.T) {
	g, err := newGuard(Security{Burst: 1, RateLimit: 1}, "x", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// A spoofed-source flood: every address is new.
	for i := 0; i < maxSources+5000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		g.take(a, now)
		g.take(a, now) // banned: burst 1
	}
	if n := len(g.sources); n != maxSources || g.lru.Len() != maxSources {
		t.Fatalf("source table %d/%d entries, bound %d", n, g.lru.Len(), maxSources)
	}
	if st := g.stats(); st.BannedNow != maxSources {
		t.Fatalf("stats: %+v", st)
	}

	// Nonces: one bit per issued nonce in a fixed window.
	first := g.newNonce(now)
	second := g.newNonce(now)
	if got := g.useNonce(second, now); got != nonceOK {
		t.Fatalf("fresh nonce: %d", got)
	}
	if got := g.useNonce(second, now); got != nonceReplayed {
		t.Fatalf("replayed nonce: %d", got)
	}
	for i := 0; i < nonceWindow; i++ {
		g.newNonce(now)
	}
	if got := g.useNonce(first, now); got != nonceStale {
		t.Fatalf("nonce out of the window: %d", got)
	}
	if got := g.useNonce(g.newNonce(now), now.Add(nonceTTL+time.Second)); got != nonceStale {
		t.Fatalf("expired nonce: %d", got)
	}
	forged := []byte(g.newNonce(now))
	forged[3] ^= 1
	if got := g.useNonce(string(forged), now); got != nonceInvalid {
		t.Fatalf("forged nonce: %d", got)
	}
	other, _ := newGuard(Security{}, "x", testLogger(t))
	if got := g.useNonce(other.newNonce(now), now); got != nonceInvalid {
		t.Fatalf("another server's nonce: %d", got)
	}
}

func TestSecurityNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		ts := startServer(t, Config{Security: Security{Allow: onlyLocalhost, Others: "digest", Users: map[string]string{"a": "b"}, Burst: 2, BanFor: time.Minute}}, nil)
		p := newPeerAt(t, "127.0.0.2", ts.Addr("udp"))
		for i := 0; i < 2; i++ {
			d := p.dialog()
			d.sendInvite(d.offer("0 8 101", stdOffer...))
			res := p.expectSeq(sip.INVITE, 1)
			d.ackFinal(res)
		}
		for i := 0; i < 50; i++ { // banned: dropped before parsing
			d := p.dialog()
			d.sendInvite(d.offer("0 8 101", stdOffer...))
		}
		waitFor(t, 5*time.Second, "the drops", func() bool { return ts.Stats().Security.DroppedBanned == 50 })
		ts.stop()
	}()
	waitGoroutines(t, base)
}

func TestParseDigestCredentials(t *testing.T) {
	c, err := parseDigestCredentials(`Digest username="ali\"ce", realm="r", nonce="n1",uri="sip:x@y", response="ABC", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c,n"`)
	if err != nil {
		t.Fatal(err)
	}
	want := digestCredentials{username: `ali"ce`, realm: "r", nonce: "n1", uri: "sip:x@y", response: "ABC", algorithm: "SHA-256", qop: "auth", nc: "00000001", cnonce: "c,n"}
	if *c != want {
		t.Fatalf("got %+v", *c)
	}
	for _, bad := range []string{``, `Basic abc`, `Digest`, `Digest username="a`, `Digest username="a" nonce="b"`, `Digest realm="r"`, `Digest =x`} {
		if _, err := parseDigestCredentials(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseDigestCredentials(f *testing.F) {
	f.Add(`Digest username="alice", realm="r", nonce="n", uri="sip:a@b", response="0a", qop=auth, nc=00000001, cnonce="x"`)
	f.Add(`Digest username=a,nonce=b,response=c`)
	f.Add(`digest  username = "\\" , nonce="", response="r"`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseDigestCredentials(s)
		if err == nil && (c.username == "" || c.nonce == "" || c.response == "") {
			t.Fatalf("%q: accepted without username/nonce/response: %+v", s, c)
		}
	})
}

// BenchmarkFilterBanned is the cost of dropping a banned source's datagram
// before parsing; BenchmarkParseInvite what parsing it would have cost.
func BenchmarkFilterBanned(b *testing.B) {
	ep := &endpoint{}
	g, err := newGuard(Security{Burst: 1}, "x", testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	ep.guard = g
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}
	a := netip.MustParseAddr("192.0.2.1")
	g.take(a, time.Now())
	g.take(a, time.Now()) // banned
	info := sip.TransportReadProps{Transport: "UDP", LocalAddr: src, RemoteAddr: src}
	data := []byte(benchInvite)
	b.ReportAllocs()
	for b.Loop() {
		if out, _ := ep.filter(info, data); len(out) != 0 {
			b.Fatal("not dropped")
		}
	}
}

func BenchmarkParseInvite(b *testing.B) {
	data := []byte(benchInvite)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sip.ParseMessage(data); err != nil {
			b.Fatal(err)
		}
	}
}

const benchInvite = "INVITE sip:ivr@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n" +
	"From: <sip:flood@192.0.2.1>;tag=1\r\nTo: <sip:ivr@192.0.2.10>\r\nCall-ID: 1@192.0.2.1\r\nCSeq: 1 INVITE\r\n" +
	"Contact: <sip:flood@192.0.2.1:5060>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 98\r\n\r\n" +
	"v=0\r\no=f 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// TestSecurityTrustsUpstreams: the registrar and the outbound proxy we
// register with may send us calls without being listed in Allow; loopback
// stays trusted by default.
func TestSecurityTrustsUpstreams(t *testing.T) {
	addrs := upstreamAddrs([]Registration{
		{Registrar: "sip:192.0.2.10:5060", User: "8000", OutboundProxy: "sip:[2001:db8::1]:5060;lr"},
		{Registrar: "sip:192.0.2.10;transport=tcp", User: "8001"},
	}, slog.New(slog.DiscardHandler))
	if len(addrs) != 2 {
		t.Fatalf("upstream addresses %v, want 192.0.2.10 and 2001:db8::1", addrs)
	}
	g, err := newGuard(Security{}, "127.0.0.1", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	g.trustUpstreams(addrs)
	for a, want := range map[string]bool{"192.0.2.10": true, "2001:db8::1": true, "127.0.0.1": true, "192.0.2.11": false} {
		if got := g.trusted(netip.MustParseAddr(a)); got != want {
			t.Errorf("trusted(%s) = %v, want %v", a, got, want)
		}
	}
	if d := g.describe(); !strings.Contains(d, "upstream") {
		t.Errorf("start-up line %q does not mention the upstreams", d)
	}
}

// TestDialAnswersDigestChallenge: sip.Dial with credentials (hotline call
// --auth) gets through a server that challenges, with either algorithm
// first, and a wrong password is refused with 403.
func TestDialAnswersDigestChallenge(t *testing.T) {
	for _, algs := range [][]string{{"SHA-256", "MD5"}, {"MD5"}} {
		t.Run(algs[0], func(t *testing.T) {
			ts := startServer(t, Config{Security: Security{
				Allow: onlyLocalhost, Others: "digest", Realm: "hotline.test", Users: map[string]string{"alice": "secret"},
				DigestAlgorithms: algs,
			}}, nil)
			dial := func(pass string) (*Call, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				return Dial(ctx, DialConfig{Listen: "udp:127.0.0.2:0", AuthUser: "alice", AuthPassword: pass, Logger: testLogger(t)},
					"sip:ivr@"+ts.Addr("udp"))
			}
			c, err := dial("secret")
			if err != nil {
				t.Fatalf("with alice's credentials: %v", err)
			}
			ts.rec.next(t)
			if err := c.Hangup(context.Background()); err != nil {
				t.Fatal(err)
			}
			var de *DialError
			if _, err := dial("wrong"); !errors.As(err, &de) || de.Code != 403 {
				t.Fatalf("wrong password: %v, want 403", err)
			}
			if _, err := dial(""); !errors.As(err, &de) || de.Code != 401 {
				t.Fatalf("no credentials: %v, want 401", err)
			}
			st := ts.Stats().Security
			if st.AuthOK != 1 || st.AuthFailed != 1 {
				t.Errorf("security stats %+v", st)
			}
		})
	}
}
