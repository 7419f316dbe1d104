package sip

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestBasicCallCallerHangsUp(t *testing.T) {
	ts := startServer(t, Config{Advertise: "127.0.0.1"}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.extra = []string{"X-Custom: hello", "P-Asserted-Identity: <sip:+8613900000000@carrier.example>"}
	d.sendInvite(d.offer("0 8 101", stdOffer...))
	trying := p.expect(sip.INVITE, 100)
	if tagOf(trying.To().Params) != "" {
		t.Error("100 Trying carries a To tag")
	}
	res := d.answered()
	body := string(res.Body())
	for _, want := range []string{"c=IN IP4 127.0.0.1", "RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=ptime:20", "a=sendrecv"} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %q:\n%s", want, body)
		}
	}
	if header(res, "Content-Type") != "application/sdp" || !strings.Contains(header(res, "Allow"), "INFO") || header(res, "Supported") == "" {
		t.Errorf("200 headers:\n%s", res)
	}
	if ct := res.Contact(); ct == nil || ct.Address.Host != "127.0.0.1" || ct.Address.Port != p.srv.Port {
		t.Errorf("Contact %v", res.Contact())
	}
	if ts.rec.count() != 0 {
		t.Fatal("handler called before ACK")
	}
	d.ack("")
	c := ts.rec.next(t)
	if c.ID != d.callID || c.Caller() != "+8613900000000" || c.CallerName() != "Alice" || c.Called() != "5000" || c.Header("x-custom") != "hello" {
		t.Errorf("call: id=%q caller=%q name=%q called=%q hdr=%q", c.ID, c.Caller(), c.CallerName(), c.Called(), c.Header("X-Custom"))
	}
	m := c.Media
	if m.Codec != PCMU || m.DTMFPayload != 101 || m.PTime != 20*time.Millisecond || m.Direction != SendRecv || m.Remote.Port != p.rtpPort() {
		t.Errorf("media %s", m)
	}
	if !strings.Contains(body, "m=audio "+itoaPort(c.Conn)) {
		t.Errorf("answer port is not the RTP socket's %s:\n%s", c.Conn.LocalAddr(), body)
	}
	if ts.ActiveCalls() != 1 {
		t.Errorf("active %d", ts.ActiveCalls())
	}
	d.request("BYE", "", "", 200)
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("handler ctx not cancelled by BYE")
	}
	if !errors.Is(c.Err(), ErrRemoteHangup) {
		t.Errorf("cause %v", c.Err())
	}
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	waitFor(t, 2*time.Second, "RTP socket closed", ts.ports.allClosed)
	st := ts.Stats()
	if st.Accepted != 1 || st.Completed != 1 || st.Responses[200] < 2 || st.Requests["BYE"] != 1 {
		t.Errorf("stats %+v", st)
	}
	// A BYE for the ended call is 481.
	d.request("BYE", "", "", 481)
}

func itoaPort(c *net.UDPConn) string {
	return strings.TrimPrefix(c.LocalAddr().String(), "127.0.0.1:")
}

func TestAnswerPCMAOnlyAndDirection(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.sendInvite(d.offer("8 96", "a=rtpmap:8 PCMA/8000", "a=rtpmap:96 telephone-event/8000", "a=ptime:30", "a=sendonly"))
	res := d.answered()
	body := string(res.Body())
	for _, want := range []string{"RTP/AVP 8 96", "a=rtpmap:96 telephone-event/8000", "a=ptime:30", "a=recvonly"} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %q:\n%s", want, body)
		}
	}
	d.ack("")
	c := ts.rec.next(t)
	if c.Media.Codec != PCMA || c.Media.DTMFPayload != 96 || c.Media.Direction != RecvOnly || c.Media.CanSend() {
		t.Errorf("media %s", c.Media)
	}
}

func TestNoCommonCodec488(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.sendInvite(d.offer("18 9", "a=rtpmap:18 G729/8000", "a=rtpmap:9 G722/8000"))
	res := p.expect(sip.INVITE, 488)
	if w := header(res, "Warning"); !strings.HasPrefix(w, "305 ") {
		t.Errorf("Warning %q", w)
	}
	if tagOf(res.To().Params) == "" {
		t.Error("488 without To tag")
	}
	d.toTag = tagOf(res.To().Params)
	d.p.sendRaw(d.build("ACK", d.cseq, d.branch, "", ""))
	if ts.ActiveCalls() != 0 || ts.rec.count() != 0 || ts.ports.count() != 0 {
		t.Errorf("active %d handler %d ports %d", ts.ActiveCalls(), ts.rec.count(), ts.ports.count())
	}
	if st := ts.Stats(); st.Rejected != 1 || st.Responses[488] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBadOffers(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	for _, tt := range []struct {
		name, ctype, body string
		code              int
	}{
		{"garbage SDP", "application/sdp", "this is not sdp", 400},
		{"c=00", "application/sdp", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=00\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", 400},
		{"no c=", "application/sdp", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", 400},
		{"video only", "application/sdp", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n", 488},
		{"text body", "text/plain", "hello", 415},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := p.dialog()
			d.p.sendRaw(d.build("INVITE", 1, branch(), tt.ctype, tt.body))
			res := p.expect(sip.INVITE, tt.code)
			if tt.code == 415 && header(res, "Accept") != "application/sdp" {
				t.Errorf("415 without Accept: %s", res)
			}
		})
	}
	if ts.ActiveCalls() != 0 || ts.rec.count() != 0 || ts.ports.count() != 0 {
		t.Errorf("active %d handler %d ports %d", ts.ActiveCalls(), ts.rec.count(), ts.ports.count())
	}
}

func TestLateOffer(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))

	// The 200 carries our offer; the ACK the answer.
	d := p.dialog()
	d.sendInvite("")
	res := d.answered()
	if !strings.Contains(string(res.Body()), "RTP/AVP 0 8 101") {
		t.Fatalf("late-offer 200 does not offer our codecs:\n%s", res.Body())
	}
	d.ack(d.offer("8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"))
	c := ts.rec.next(t)
	if c.Media.Codec != PCMA || c.Media.DTMFPayload != 101 || c.Media.Remote.Port != p.rtpPort() {
		t.Errorf("media from ACK answer: %s", c.Media)
	}
	d.request("BYE", "", "", 200)

	// An ACK without answer: the call is ended with a BYE, never handled.
	d2 := p.dialog()
	d2.sendInvite("")
	d2.answered()
	d2.ack("")
	bye, from := p.expectRequest(sip.BYE, 3*time.Second)
	p.respondTo(bye, from, 200, "OK")
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	if ts.rec.count() != 1 {
		t.Errorf("handler called %d times", ts.rec.count())
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	ts := startServer(t, Config{Ring: 3 * time.Second}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.sendInvite(d.offer("0 8 101", stdOffer...))
	ringing := p.expect(sip.INVITE, 180)
	if tagOf(ringing.To().Params) == "" || ringing.Contact() == nil {
		t.Errorf("180: %s", ringing)
	}
	// CANCEL: same branch, Call-ID, From, To (no tag), CSeq number.
	p.sendRaw(d.build("CANCEL", d.cseq, d.branch, "", ""))
	p.expect(sip.CANCEL, 200)
	res := p.expect(sip.INVITE, 487)
	d.toTag = tagOf(res.To().Params)
	p.sendRaw(d.build("ACK", d.cseq, d.branch, "", ""))
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	time.Sleep(200 * time.Millisecond)
	if ts.rec.count() != 0 {
		t.Error("handler called for a cancelled call")
	}
	if st := ts.Stats(); st.Cancelled != 1 || st.Accepted != 0 {
		t.Errorf("stats %+v", st)
	}
	if !ts.ports.allClosed() {
		t.Error("RTP socket of the cancelled call left open")
	}
	// A CANCEL matching nothing is 481.
	p.sendRaw(d.build("CANCEL", 9, branch(), "", ""))
	p.expect(sip.CANCEL, 481)
}

func TestOptions(t *testing.T) {
	ts := startServer(t, Config{RetryAfter: 7 * time.Second}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	p.sendRaw(d.build("OPTIONS", 1, branch(), "", ""))
	res := p.expect(sip.OPTIONS, 200)
	if !strings.Contains(header(res, "Allow"), "INVITE") || header(res, "Accept") != "application/sdp" || res.GetHeader("Supported") == nil {
		t.Errorf("OPTIONS 200:\n%s", res)
	}
	ts.Drain()
	p.sendRaw(d.build("OPTIONS", 2, branch(), "", ""))
	res = p.expect(sip.OPTIONS, 503)
	if header(res, "Retry-After") != "7" {
		t.Errorf("Retry-After %q", header(res, "Retry-After"))
	}
}

func TestReinviteHoldUnhold(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	first := d.call()
	c := ts.rec.next(t)
	version := func(r *sip.Response) string {
		for _, l := range strings.Split(string(r.Body()), "\r\n") {
			if strings.HasPrefix(l, "o=") {
				f := strings.Fields(l)
				return f[1] + " " + f[2]
			}
		}
		return ""
	}
	v0 := version(first)

	// Session refresh: same offer, same answer, same version, no change.
	res := d.reinvite(d.offer("0 8 101", stdOffer...))
	d.ack("")
	if version(res) != v0 {
		t.Errorf("refresh changed version %s -> %s", v0, version(res))
	}
	// Hold with a=sendonly.
	res = d.reinvite(d.offer("0 8 101", append(stdOffer[:4:4], "a=sendonly")...))
	if !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Errorf("hold answer:\n%s", res.Body())
	}
	sid0, ver0 := strings.Fields(v0)[0], atoi(strings.Fields(v0)[1])
	f := strings.Fields(version(res))
	if f[0] != sid0 || atoi(f[1]) != ver0+1 {
		t.Errorf("hold answer o= %s, want %s %d", version(res), sid0, ver0+1)
	}
	m := nextMedia(t, c)
	if m.Direction != RecvOnly || m.CanSend() || !m.Held() {
		t.Errorf("hold media %s", m)
	}
	d.ack("")
	// Unhold.
	d.reinvite(d.offer("0 8 101", stdOffer...))
	d.ack("")
	if m := nextMedia(t, c); m.Direction != SendRecv {
		t.Errorf("unhold media %s", m)
	}
	// Old-style hold: c=0.0.0.0.
	hold := strings.Replace(d.offer("0 8 101", stdOffer...), "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1)
	d.reinvite(hold)
	d.ack("")
	if m := nextMedia(t, c); m.Remote != nil || m.CanSend() {
		t.Errorf("c=0.0.0.0 media %s", m)
	}
	// New address; codec kept although PCMA is listed first.
	moved := strings.Replace(d.offer("8 0 101", stdOffer...), "m=audio "+strconv.Itoa(p.rtpPort()), "m=audio 40000", 1)
	d.reinvite(moved)
	d.ack("")
	if m := nextMedia(t, c); m.Remote == nil || m.Remote.Port != 40000 || m.Codec != PCMU {
		t.Errorf("moved media %s", m)
	}
	if c.CurrentMedia().Remote.Port != 40000 {
		t.Error("CurrentMedia not updated")
	}
	// An unacceptable re-offer is refused and changes nothing.
	r := d.request("INVITE", "application/sdp", d.offer("18", "a=rtpmap:18 G729/8000"), 488)
	d.toTag = tagOf(r.To().Params)
	p.sendRaw(d.build("ACK", d.cseq, d.branch, "", ""))
	if c.CurrentMedia().Codec != PCMU {
		t.Error("refused re-offer changed media")
	}
	// Re-INVITE without SDP: we offer, the ACK answers.
	res = d.reinvite("")
	if !strings.Contains(string(res.Body()), "RTP/AVP 0 8 101") {
		t.Errorf("offer in re-INVITE 200:\n%s", res.Body())
	}
	d.ack(d.offer("8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"))
	if m := nextMedia(t, c); m.Codec != PCMA {
		t.Errorf("late re-offer media %s", m)
	}
	d.request("BYE", "", "", 200)
}

func nextMedia(t *testing.T, c *Call) Media {
	t.Helper()
	select {
	case m := <-c.MediaChanges():
		return m
	case <-time.After(3 * time.Second):
		t.Fatal("no media change")
		return Media{}
	}
}

func TestUpdate(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	c := ts.rec.next(t)
	res := d.request("UPDATE", "application/sdp", d.offer("0 101", "a=rtpmap:101 telephone-event/8000", "a=inactive"), 200)
	if !strings.Contains(string(res.Body()), "a=inactive") {
		t.Errorf("UPDATE answer:\n%s", res.Body())
	}
	if m := nextMedia(t, c); m.Direction != Inactive {
		t.Errorf("media %s", m)
	}
	res = d.request("UPDATE", "", "", 200)
	if len(res.Body()) != 0 {
		t.Error("refresh UPDATE got a body")
	}
}

func TestReinviteWithoutAckHangsUp(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	c := ts.rec.next(t)
	d.reinvite(d.offer("0 8 101", stdOffer...))
	// No ACK: 200 retransmitted, then BYE after 64*T1.
	start := time.Now()
	bye, from := p.expectRequest(sip.BYE, 10*time.Second)
	p.respondTo(bye, from, 200, "OK")
	if time.Since(start) < 5*time.Second {
		t.Errorf("BYE after %v, want about 64*T1", time.Since(start))
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrNoAck) {
		t.Errorf("cause %v", c.Err())
	}
}

func TestInfoDigits(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	c := ts.rec.next(t)
	d.request("INFO", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200)
	d.request("INFO", "application/dtmf", "#", 200)
	d.request("INFO", "application/dtmf-relay", "Signal=11\r\n", 200)
	var got []rune
	for range 3 {
		select {
		case dg := <-c.Digits():
			got = append(got, dg.Key)
			if dg.At.IsZero() {
				t.Error("digit without time")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("digit missing")
		}
	}
	if string(got) != "5##" {
		t.Errorf("digits %q", string(got))
	}
	res := d.request("INFO", "application/media_control+xml", "<media_control/>", 415)
	if !strings.Contains(header(res, "Accept"), "application/dtmf-relay") {
		t.Errorf("415 Accept %q", header(res, "Accept"))
	}
	d.request("INFO", "application/dtmf-relay", "Signal=Z", 400)
	d.request("INFO", "", "", 200) // keep-alive
	select {
	case dg := <-c.Digits():
		t.Errorf("unexpected digit %q", dg.Key)
	default:
	}
}

func TestUnknownDialog481(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.toTag = "nosuchtag"
	for _, m := range []string{"BYE", "INFO", "NOTIFY", "UPDATE", "OPTIONS"} {
		d.request(m, "", "", 481, "Event: refer")
	}
	d.cseq++
	d.sendInvite(d.offer("0", "a=rtpmap:0 PCMU/8000"))
	p.expect(sip.INVITE, 481)
	p.sendRaw(d.build("ACK", d.cseq, d.branch, "", ""))
	if ts.ActiveCalls() != 0 {
		t.Error("call table touched")
	}
}

func TestMethodNotAllowed405(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	for _, m := range []string{"MESSAGE", "SUBSCRIBE", "REGISTER", "PUBLISH", "REFER", "PRACK"} {
		res := d.request(m, "", "", 405)
		if !strings.Contains(header(res, "Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY") {
			t.Errorf("%s 405 Allow %q", m, header(res, "Allow"))
		}
	}
	// REFER inside a call is refused too: we transfer, we are not transferred.
	d2 := p.dialog()
	d2.call()
	ts.rec.next(t)
	d2.request("REFER", "", "", 405, "Refer-To: <sip:x@example.com>")
}

func TestCapacityAndDrain503(t *testing.T) {
	ts := startServer(t, Config{MaxCalls: 1, RetryAfter: 12 * time.Second}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	ts.rec.next(t)
	d2 := p.dialog()
	d2.sendInvite(d2.offer("0", "a=rtpmap:0 PCMU/8000"))
	res := p.expect(sip.INVITE, 503)
	if header(res, "Retry-After") != "12" {
		t.Errorf("Retry-After %q", header(res, "Retry-After"))
	}
	d2.toTag = tagOf(res.To().Params)
	p.sendRaw(d2.build("ACK", 1, d2.branch, "", ""))
	// The first call goes on; once it ends a new one is taken.
	d.request("BYE", "", "", 200)
	waitFor(t, 2*time.Second, "slot free", func() bool { return ts.ActiveCalls() == 0 })
	d3 := p.dialog()
	d3.call()
	ts.rec.next(t)
	// Draining: refused, while the call in progress continues.
	ts.Drain()
	d4 := p.dialog()
	d4.sendInvite(d4.offer("0", "a=rtpmap:0 PCMU/8000"))
	p.expect(sip.INVITE, 503)
	d3.request("INFO", "application/dtmf", "1", 200)
	d3.request("BYE", "", "", 200)
	if st := ts.Stats(); st.Rejected != 2 || st.Responses[503] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestMalformedRequests(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	c := ts.rec.next(t)

	raw := func(msg string) string { return strings.ReplaceAll(msg, "\n", "\r\n") }
	src := p.addr()
	for _, tt := range []struct {
		name string
		msg  string
		code int
	}{
		{"no Contact", raw("INVITE sip:5000@x SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa1\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: m1\nCSeq: 1 INVITE\nContent-Length: 0\n\n"), 400},
		{"no From tag", raw("INVITE sip:5000@x SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa2\nFrom: <sip:a@b>\nTo: <sip:c@d>\nCall-ID: m2\nCSeq: 1 INVITE\nContact: <sip:a@b>\nContent-Length: 0\n\n"), 400},
		{"no Call-ID", raw("INVITE sip:5000@x SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa3\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCSeq: 1 INVITE\nContact: <sip:a@b>\nContent-Length: 0\n\n"), 400},
		{"tel URI", raw("INVITE tel:+123 SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa4\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: m4\nCSeq: 1 INVITE\nContact: <sip:a@b>\nContent-Length: 0\n\n"), 416},
		{"Require 100rel", raw("INVITE sip:5000@x SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa5\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: m5\nCSeq: 1 INVITE\nContact: <sip:a@b>\nRequire: 100rel\nContent-Length: 0\n\n"), 420},
		{"Session-Expires too small", raw("INVITE sip:5000@x SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa6\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: m6\nCSeq: 1 INVITE\nContact: <sip:a@b>\nSupported: timer\nSession-Expires: 30\nContent-Length: 0\n\n"), 422},
		{"in-dialog INFO without From tag", raw("INFO sip:5000@x SIP/2.0\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bKa7\nFrom: <sip:a@b>\nTo: <sip:c@d>;tag=x\nCall-ID: m7\nCSeq: 1 INFO\nContent-Length: 0\n\n"), 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p.sendRaw(tt.msg)
			res := p.expect(sip.RequestMethod(strings.Fields(tt.msg)[0]), tt.code)
			switch tt.code {
			case 420:
				if header(res, "Unsupported") != "100rel" {
					t.Errorf("Unsupported %q", header(res, "Unsupported"))
				}
			case 422:
				if header(res, "Min-SE") != "90" {
					t.Errorf("Min-SE %q", header(res, "Min-SE"))
				}
			}
		})
	}
	// In-dialog request with an old CSeq: 500, the call goes on.
	p.sendRaw(d.build("INFO", 0, branch(), "application/dtmf", "1"))
	p.expect(sip.INFO, 500)
	// Merged request: same Call-ID, From tag and CSeq on another branch.
	m := p.dialog()
	m.sendInvite(m.offer("0", "a=rtpmap:0 PCMU/8000"))
	p.sendRaw(strings.Replace(m.invite, m.branch, branch(), 1))
	seen := map[int]bool{}
	for range 2 {
		var res *sip.Response
		for res == nil || res.StatusCode < 200 {
			msg, _ := p.read(3 * time.Second)
			if msg == nil {
				t.Fatal("no final response to merged INVITEs")
			}
			res, _ = msg.(*sip.Response)
		}
		seen[res.StatusCode] = true
	}
	if !seen[200] || !seen[482] {
		t.Errorf("merged INVITEs answered %v, want 200 and 482", seen)
	}
	if ts.ActiveCalls() != 2 || c.ended() {
		t.Errorf("active %d, first call ended %v", ts.ActiveCalls(), c.ended())
	}
	d.request("BYE", "", "", 200)
}

func TestHangupWithHeaders(t *testing.T) {
	hung := make(chan error, 1)
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		hung <- c.Hangup(ctx, Header{Name: "X-Hotline-Outcome", Value: "resolved"})
	})
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	bye, from := p.expectRequest(sip.BYE, 3*time.Second)
	if header(bye, "X-Hotline-Outcome") != "resolved" || bye.Recipient.User != "alice" || tagOf(bye.From().Params) != d.toTag || tagOf(bye.To().Params) != d.fromTag {
		t.Errorf("BYE:\n%s", bye)
	}
	p.respondTo(bye, from, 200, "OK")
	if err := <-hung; err != nil {
		t.Errorf("Hangup: %v", err)
	}
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
}

func TestRecordRoute(t *testing.T) {
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		time.Sleep(100 * time.Millisecond)
		_ = c.Hangup(ctx)
	})
	p := newPeer(t, ts.Addr("udp"))
	proxy := newPeer(t, ts.Addr("udp")) // stands in for Kamailio: requests go through it
	d := p.dialog()
	rr := "<sip:" + proxy.addr() + ";lr;ftag=" + d.fromTag + ">"
	d.extra = []string{"Record-Route: " + rr, "Record-Route: <sip:10.0.0.99:5060;lr>"}
	d.sendInvite(d.offer("0 8 101", stdOffer...))
	res := d.answered()
	if rrs := res.GetHeaders("Record-Route"); len(rrs) != 2 {
		t.Errorf("200 Record-Route %v", rrs)
	}
	d.ack("")
	bye, from := proxy.expectRequest(sip.BYE, 3*time.Second)
	routes := bye.GetHeaders("Route")
	if len(routes) != 2 || !strings.Contains(routes[0].Value(), proxy.addr()) || !strings.Contains(routes[1].Value(), "10.0.0.99") {
		t.Errorf("BYE Route headers %v", routes)
	}
	if bye.Recipient.User != "alice" || bye.Recipient.Port != p.conn.LocalAddr().(*net.UDPAddr).Port {
		t.Errorf("BYE Request-URI %s (want the caller's Contact)", bye.Recipient.String())
	}
	proxy.respondTo(bye, from, 200, "OK")
}

func TestHandlerPanic(t *testing.T) {
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) { panic("boom") })
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	bye, from := p.expectRequest(sip.BYE, 3*time.Second)
	if !strings.Contains(header(bye, "Reason"), "cause=500") {
		t.Errorf("BYE Reason %q", header(bye, "Reason"))
	}
	p.respondTo(bye, from, 200, "OK")
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	if st := ts.Stats(); st.Panics != 1 {
		t.Errorf("stats %+v", st)
	}
	// The server carries on.
	d2 := p.dialog()
	d2.call()
	bye, from = p.expectRequest(sip.BYE, 3*time.Second)
	p.respondTo(bye, from, 200, "OK")
}

func TestHandlerReturnHangsUp(t *testing.T) {
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {})
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	bye, from := p.expectRequest(sip.BYE, 3*time.Second)
	p.respondTo(bye, from, 200, "OK")
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
}

func TestShutdownHangsUpAndLeavesNothing(t *testing.T) {
	base := runtime.NumGoroutine()
	ts := startServer(t, Config{Listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	c := ts.rec.next(t)
	byes := make(chan struct{})
	go func() {
		bye, from := p.expectRequest(sip.BYE, 5*time.Second)
		p.respondTo(bye, from, 200, "OK")
		close(byes)
	}()
	ts.stop()
	<-byes
	if !errors.Is(c.Err(), ErrShutdown) && !errors.Is(c.Err(), ErrLocalHangup) {
		t.Errorf("cause %v", c.Err())
	}
	if !ts.ports.allClosed() {
		t.Error("RTP socket left open")
	}
	p.conn.Close()
	p.rtp.Close()
	waitGoroutines(t, base)
}

func TestSessionTimer(t *testing.T) {
	old := minSessionExpires
	minSessionExpires = 1
	t.Cleanup(func() { minSessionExpires = old })
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.extra = []string{"Supported: timer", "Session-Expires: 2;refresher=uac"}
	d.sendInvite(d.offer("0", "a=rtpmap:0 PCMU/8000"))
	res := d.answered()
	if header(res, "Require") != "timer" || header(res, "Session-Expires") != "2;refresher=uac" {
		t.Errorf("200:\n%s", res)
	}
	d.ack("")
	c := ts.rec.next(t)
	// A refresh (UPDATE) before expiry keeps the call.
	time.Sleep(1200 * time.Millisecond)
	r := d.request("UPDATE", "", "", 200, "Supported: timer", "Session-Expires: 2;refresher=uac")
	if header(r, "Session-Expires") != "2;refresher=uac" {
		t.Errorf("UPDATE 200:\n%s", r)
	}
	time.Sleep(1200 * time.Millisecond)
	if c.ended() {
		t.Fatal("refreshed call ended")
	}
	// No more refreshes: BYE.
	bye, from := p.expectRequest(sip.BYE, 3*time.Second)
	p.respondTo(bye, from, 200, "OK")
	<-c.Done()
	if !errors.Is(c.Err(), ErrSessionExpired) {
		t.Errorf("cause %v", c.Err())
	}
}

func TestNoRTPPort503(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	ts.ports.setFail(true)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.sendInvite(d.offer("0", "a=rtpmap:0 PCMU/8000"))
	p.expect(sip.INVITE, 503)
	if ts.ActiveCalls() != 0 {
		t.Error("call table touched")
	}
}

func TestAdvertise(t *testing.T) {
	ts := startServer(t, Config{Listen: []string{"udp:0.0.0.0:0"}, Advertise: "203.0.113.7"}, nil)
	_, port, _ := net.SplitHostPort(ts.Addr("udp"))
	p := newPeer(t, "127.0.0.1:"+port)
	d := p.dialog()
	d.sendInvite(d.offer("0", "a=rtpmap:0 PCMU/8000"))
	res := d.answered()
	if ct := res.Contact(); ct == nil || ct.Address.Host != "203.0.113.7" || !strings.Contains(string(res.Body()), "c=IN IP4 203.0.113.7") {
		t.Errorf("Contact/SDP do not use Advertise:\n%s", res)
	}
	d.ack("")
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Handler: newRecorder(nil), Ports: &loopbackPorts{}},
		{Handler: newRecorder(nil), Ports: &loopbackPorts{}, Listen: []string{"tls:127.0.0.1:0"}},
		{Handler: newRecorder(nil), Ports: &loopbackPorts{}, Listen: []string{"udp:nonsense"}},
	} {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("NewServer(%+v) accepted", cfg)
		}
	}
	ts := startServer(t, Config{}, nil)
	if err := ts.Serve(context.Background()); err == nil {
		t.Error("second Serve accepted")
	}
	srv, _ := NewServer(Config{Handler: newRecorder(nil), Ports: &loopbackPorts{}, Listen: []string{ts.Addr("udp")}})
	if err := srv.Serve(context.Background()); err == nil {
		t.Error("Serve on a taken port did not fail")
	}
}

func TestMultipartOffer(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	body := "--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n" + d.offer("8", "a=rtpmap:8 PCMA/8000") +
		"\r\n--unique-boundary-1\r\nContent-Type: application/ISUP;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x00\x49\r\n--unique-boundary-1--\r\n"
	p.sendRaw(d.build("INVITE", 1, branch(), "multipart/mixed;boundary=unique-boundary-1", body))
	res := d.answered()
	if !strings.Contains(string(res.Body()), "RTP/AVP 8") {
		t.Errorf("answer:\n%s", res.Body())
	}
	d.ack("")
	if c := ts.rec.next(t); c.Media.Codec != PCMA {
		t.Errorf("media %s", c.Media)
	}
}
