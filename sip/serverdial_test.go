package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestServerDialFromOwnEndpoint: a call placed with Server.Dial leaves from
// the server's own listener (Via, Contact, source address), carries the
// display name and headers, and is hung up cleanly from either side; its RTP
// socket comes from the server's ports and is closed at the end.
func TestServerDialFromOwnEndpoint(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		hotline := startServer(t, Config{}, nil)
		agent := startServer(t, Config{Ring: 200 * time.Millisecond}, nil)
		var codes []int
		c, err := hotline.Dial(context.Background(), DialConfig{
			DisplayName: "13800138000",
			Headers:     []Header{{Name: "X-Hotline-Call-ID", Value: "abc"}, {Name: "X-Hotline-Intent", Value: "refund"}},
			OnResponse:  func(code int, _ string) { codes = append(codes, code) },
		}, "sip:agent@"+agent.Addr("udp"))
		if err != nil {
			t.Fatal(err)
		}
		in := agent.rec.next(t)
		ourPort := strconv.Itoa(portOf(hotline.Addr("udp")))
		if in.CallerName() != "13800138000" || in.Caller() != "hotline" {
			t.Errorf("agent sees caller %q name %q, want hotline / 13800138000", in.Caller(), in.CallerName())
		}
		if in.From != "sip:hotline@127.0.0.1" {
			t.Errorf("From %q, want sip:hotline@127.0.0.1", in.From)
		}
		if in.Header("X-Hotline-Call-ID") != "abc" || in.Header("X-Hotline-Intent") != "refund" {
			t.Errorf("headers: %q %q", in.Header("X-Hotline-Call-ID"), in.Header("X-Hotline-Intent"))
		}
		if v := in.Header("Via"); !strings.Contains(v, "127.0.0.1:"+ourPort) {
			t.Errorf("Via %q does not name the server's listener", v)
		}
		if ct := in.Header("Contact"); !strings.Contains(ct, "sip:hotline@127.0.0.1:"+ourPort) {
			t.Errorf("Contact %q", ct)
		}
		if len(codes) == 0 || codes[len(codes)-1] != 200 || !strings.Contains(fmt.Sprint(codes), "180") {
			t.Errorf("responses %v", codes)
		}
		if hotline.ports.count() != 1 {
			t.Errorf("the RTP socket is not from the server's ports (%d handed out)", hotline.ports.count())
		}
		if c.Media.Remote == nil || c.Media.Remote.Port != portOf(in.Conn.LocalAddr().String()) {
			t.Errorf("media %s, agent RTP %v", c.Media, in.Conn.LocalAddr())
		}
		// The agent hangs up: we see its BYE.
		if err := in.Hangup(context.Background(), Header{Name: "X-Why", Value: "done"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.Done():
		case <-time.After(3 * time.Second):
			t.Fatal("the agent's BYE did not end the call")
		}
		if !errors.Is(c.Err(), ErrRemoteHangup) || c.ByeHeader("X-Why") != "done" {
			t.Errorf("end %v, X-Why %q", c.Err(), c.ByeHeader("X-Why"))
		}
		waitFor(t, 2*time.Second, "RTP socket closed", hotline.ports.allClosed)

		// Again, and we hang up.
		c, err = hotline.Dial(context.Background(), DialConfig{}, "sip:agent@"+agent.Addr("udp"))
		if err != nil {
			t.Fatal(err)
		}
		in = agent.rec.next(t)
		if err := c.Hangup(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-in.Done():
		case <-time.After(3 * time.Second):
			t.Fatal("our BYE did not reach the agent")
		}
		waitFor(t, 2*time.Second, "RTP sockets closed", hotline.ports.allClosed)
		if n := hotline.ep.dialogCount(); n != 0 {
			t.Errorf("%d dialogs left in the server's table", n)
		}
		if st := hotline.Stats(); st.Active != 0 || st.Accepted != 0 {
			t.Errorf("outbound calls counted as inbound: %+v", st)
		}
		hotline.stop()
		agent.stop()
	}()
	waitGoroutines(t, base)
}

// TestServerDialBusyAndNoAnswer: 486 is a *DialError; an agent that rings
// past ctx is CANCELled.
func TestServerDialBusyAndNoAnswer(t *testing.T) {
	hotline := startServer(t, Config{}, nil)
	p := newPeer(t, hotline.Addr("udp"))
	errc := make(chan error, 1)
	go func() {
		_, err := hotline.Dial(context.Background(), DialConfig{}, "sip:agent@"+p.addr())
		errc <- err
	}()
	inv, from := p.expectRequest(sip.INVITE, 3*time.Second)
	p.respondTo(inv, from, 486, "Busy Here", "To: "+inv.To().Value()+";tag=busy")
	var de *DialError
	if err := <-errc; !errors.As(err, &de) || de.Code != 486 {
		t.Fatalf("err %v, want DialError 486", err)
	}
	if ack, _ := p.expectRequest(sip.ACK, 2*time.Second); ack.CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, INVITE %d", ack.CSeq().SeqNo, inv.CSeq().SeqNo)
	}
	waitFor(t, 2*time.Second, "RTP socket closed", hotline.ports.allClosed)

	agent := startServer(t, Config{Ring: 10 * time.Second}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := hotline.Dial(ctx, DialConfig{}, "sip:agent@"+agent.Addr("udp"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Dial returned %s after its deadline of 400 ms", took)
	}
	waitFor(t, 3*time.Second, "the agent saw the CANCEL", func() bool { return agent.Stats().Cancelled == 1 })
	waitFor(t, 2*time.Second, "RTP socket closed", hotline.ports.allClosed)
}

// TestServerDialBeforeServeAndAfterShutdown: no endpoint to call from.
func TestServerDialBeforeServeAndAfterShutdown(t *testing.T) {
	srv, err := NewServer(Config{Listen: []string{"udp:127.0.0.1:0"}, Ports: &loopbackPorts{}, Handler: newRecorder(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Dial(context.Background(), DialConfig{}, "sip:a@127.0.0.1:5999"); err == nil {
		t.Error("Dial before Serve succeeded")
	}
	ts := startServer(t, Config{}, nil)
	if _, err := ts.Dial(context.Background(), DialConfig{}, "sip:a@127.0.0.1:5999;transport=tcp"); err == nil {
		t.Error("Dial over TCP from a server without a TCP listener succeeded")
	}
	ts.stop()
	if _, err := ts.Dial(context.Background(), DialConfig{}, "sip:a@127.0.0.1:5999"); !errors.Is(err, ErrShutdown) {
		t.Errorf("Dial after shutdown: %v", err)
	}
}

// TestOutboundChallengeAnswered: a 401 is answered once through the auth
// hook: the INVITE goes again with the credentials, the next CSeq and a new
// branch, and the ACK of the 2xx carries the same credentials.
func TestOutboundChallengeAnswered(t *testing.T) {
	hotline := startServer(t, Config{}, nil)
	p := newPeer(t, hotline.Addr("udp"))
	conn, err := hotline.ports.Listen()
	if err != nil {
		t.Fatal(err)
	}
	hooked := 0
	leg := outLeg{ep: hotline.ep, ln: hotline.listenerOf("udp"), conn: conn, user: "hotline",
		release: func() { _ = conn.Close() },
		auth: func(inv *sip.Request, ch *sip.Response) error {
			hooked++
			if header(ch, "WWW-Authenticate") == "" && header(ch, "Proxy-Authenticate") == "" {
				return errors.New("no challenge")
			}
			inv.AppendHeader(sip.NewHeader("Authorization", `Digest username="hotline", response="x"`))
			return nil
		}}
	cfg := DialConfig{}
	dialDefaults(&cfg, "hotline")
	var turi sip.Uri
	if err := sip.ParseUri("sip:agent@"+p.addr(), &turi); err != nil {
		t.Fatal(err)
	}
	type result struct {
		c   *Call
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := leg.call(context.Background(), cfg, turi, nil)
		done <- result{c, err}
	}()
	inv1, from := p.expectRequest(sip.INVITE, 3*time.Second)
	p.respondTo(inv1, from, 401, "Unauthorized", "To: "+inv1.To().Value()+";tag=ch",
		`WWW-Authenticate: Digest realm="pbx", nonce="n1", algorithm=MD5, qop="auth"`)
	p.expectRequest(sip.ACK, 2*time.Second)
	inv2, from := p.expectRequest(sip.INVITE, 3*time.Second)
	if inv2.CSeq().SeqNo != inv1.CSeq().SeqNo+1 || header(inv2, "Authorization") == "" ||
		inv2.Via().Params.GetOr("branch", "") == inv1.Via().Params.GetOr("branch", "") ||
		inv2.CallID().Value() != inv1.CallID().Value() || tagOf(inv2.From().Params) != tagOf(inv1.From().Params) {
		t.Fatalf("second INVITE: CSeq %d (first %d), Authorization %q, branch %q (first %q)", inv2.CSeq().SeqNo, inv1.CSeq().SeqNo,
			header(inv2, "Authorization"), inv2.Via().Params.GetOr("branch", ""), inv1.Via().Params.GetOr("branch", ""))
	}
	sdp := fmt.Sprintf("v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", p.rtpPort())
	res := sip.NewResponseFromRequest(inv2, 200, "OK", []byte(sdp))
	res.To().Params.Add("tag", "agent1")
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "agent", Host: "127.0.0.1", Port: p.conn.LocalAddr().(*net.UDPAddr).Port}})
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	p.sendTo(from, res.String())
	ack, _ := p.expectRequest(sip.ACK, 2*time.Second)
	if ack.CSeq().SeqNo != inv2.CSeq().SeqNo || header(ack, "Authorization") != header(inv2, "Authorization") {
		t.Errorf("ACK CSeq %d (INVITE %d), Authorization %q", ack.CSeq().SeqNo, inv2.CSeq().SeqNo, header(ack, "Authorization"))
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if hooked != 1 {
		t.Errorf("auth hook called %d times", hooked)
	}
	// Our BYE comes after the INVITE's CSeq.
	go func() {
		bye, from := p.expectRequest(sip.BYE, 3*time.Second)
		if bye.CSeq().SeqNo <= inv2.CSeq().SeqNo {
			t.Errorf("BYE CSeq %d not above the INVITE's %d", bye.CSeq().SeqNo, inv2.CSeq().SeqNo)
		}
		p.respondTo(bye, from, 200, "OK")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := r.c.Hangup(ctx); err != nil {
		t.Errorf("hangup: %v", err)
	}

	// A second challenge is the refusal.
	conn2, _ := hotline.ports.Listen()
	leg.conn, leg.release = conn2, func() { _ = conn2.Close() }
	go func() {
		c, err := leg.call(context.Background(), cfg, turi, nil)
		done <- result{c, err}
	}()
	for range 2 {
		inv, from := p.expectRequest(sip.INVITE, 3*time.Second)
		p.respondTo(inv, from, 407, "Proxy Authentication Required", "To: "+inv.To().Value()+";tag=ch2",
			`Proxy-Authenticate: Digest realm="pbx", nonce="n2"`)
	}
	r = <-done
	var de *DialError
	if !errors.As(r.err, &de) || de.Code != 407 {
		t.Errorf("after two challenges: %v, want DialError 407", r.err)
	}
}
