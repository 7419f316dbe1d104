package sip

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func TestDialServerHangsUpWithOutcome(t *testing.T) {
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		select {
		case d := <-c.Digits():
			_ = c.Hangup(ctx, Header{Name: "X-Hotline-Outcome", Value: "resolved"}, Header{Name: "X-Digit", Value: string(d.Key)})
		case <-ctx.Done():
		}
	})
	var responses []int
	var mu sync.Mutex
	c, err := Dial(context.Background(), DialConfig{
		Logger:     testLogger(t),
		Headers:    []Header{{Name: "X-Test", Value: "1"}},
		OnResponse: func(code int, _ string) { mu.Lock(); responses = append(responses, code); mu.Unlock() },
	}, "sip:5000@"+ts.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	srvCall := ts.rec.next(t)
	if srvCall.Header("X-Test") != "1" || srvCall.Caller() != "caller" {
		t.Errorf("server side: %q %q", srvCall.Header("X-Test"), srvCall.Caller())
	}
	if c.Media.Codec != PCMU || c.Media.DTMFPayload != 101 || c.Media.Remote == nil || c.Media.Remote.Port != portOf(srvCall.Conn.LocalAddr().String()) {
		t.Errorf("caller media %s, server RTP socket %v", c.Media, srvCall.Conn.LocalAddr())
	}
	if srvCall.Media.Remote.Port != portOf(c.Conn.LocalAddr().String()) {
		t.Errorf("server sends RTP to %v, caller socket %v", srvCall.Media.Remote, c.Conn.LocalAddr())
	}
	if err := c.SendDigit(context.Background(), Digit{Key: '7'}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("far end's BYE not seen")
	}
	if !errors.Is(c.Err(), ErrRemoteHangup) || c.ByeHeader("X-Hotline-Outcome") != "resolved" || c.ByeHeader("X-Digit") != "7" {
		t.Errorf("end: %v outcome=%q digit=%q", c.Err(), c.ByeHeader("X-Hotline-Outcome"), c.ByeHeader("X-Digit"))
	}
	mu.Lock()
	if len(responses) == 0 || responses[len(responses)-1] != 200 {
		t.Errorf("responses %v", responses)
	}
	mu.Unlock()
	if err := c.SendDigit(context.Background(), Digit{Key: '1'}); !errors.Is(err, ErrCallEnded) {
		t.Errorf("SendDigit after end: %v", err)
	}
	if err := c.Hangup(context.Background()); err != nil {
		t.Errorf("Hangup after end: %v", err)
	}
}

func portOf(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	return atoi(addr[i+1:])
}

func TestDialCallerHangsUp(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c, err := Dial(context.Background(), DialConfig{Logger: testLogger(t), Codecs: []Codec{PCMA}}, ts.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	sc := ts.rec.next(t)
	if sc.Media.Codec != PCMA || c.Media.Codec != PCMA {
		t.Errorf("codec %v / %v", sc.Media.Codec, c.Media.Codec)
	}
	if err := c.Hangup(context.Background(), Header{Name: "X-Why", Value: "test"}); err != nil {
		t.Fatal(err)
	}
	<-sc.Done()
	if !errors.Is(sc.Err(), ErrRemoteHangup) || sc.ByeHeader("X-Why") != "test" {
		t.Errorf("server side end: %v %q", sc.Err(), sc.ByeHeader("X-Why"))
	}
	if !errors.Is(c.Err(), ErrLocalHangup) {
		t.Errorf("caller side end: %v", c.Err())
	}
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
}

func TestDialRefused(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	_, err := Dial(context.Background(), DialConfig{Logger: testLogger(t), Codecs: []Codec{{Name: "PCMU", PayloadType: 0, ClockRate: 8000}}}, ts.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	ts.Drain()
	_, err = Dial(context.Background(), DialConfig{Logger: testLogger(t)}, ts.Addr("udp"))
	var de *DialError
	if !errors.As(err, &de) || de.Code != 503 {
		t.Fatalf("err %v", err)
	}
}

func TestDialCancel(t *testing.T) {
	ts := startServer(t, Config{Ring: 5 * time.Second}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var codes []int
	_, err := Dial(ctx, DialConfig{Logger: testLogger(t), OnResponse: func(c int, _ string) { codes = append(codes, c) }}, ts.Addr("udp"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	waitFor(t, 3*time.Second, "cancelled", func() bool { return ts.Stats().Cancelled == 1 })
	if ts.rec.count() != 0 {
		t.Error("handler called")
	}
	// sipgo hands each response to its own goroutine: 100 and 180 may swap.
	if len(codes) < 2 || codes[len(codes)-1] != 487 || !strings.Contains(fmt.Sprint(codes), "180") {
		t.Errorf("responses %v", codes)
	}
}

func TestDialTCP(t *testing.T) {
	ts := startServer(t, Config{Listen: []string{"tcp:127.0.0.1:0"}}, func(ctx context.Context, c *Call) {
		<-c.Digits()
		_ = c.Hangup(ctx, Header{Name: "X-Hotline-Outcome", Value: "tcp"})
	})
	c, err := Dial(context.Background(), DialConfig{Logger: testLogger(t)}, "sip:5000@"+ts.Addr("tcp")+";transport=tcp")
	if err != nil {
		t.Fatal(err)
	}
	sc := ts.rec.next(t)
	if sc.transport != "TCP" {
		t.Errorf("transport %s", sc.transport)
	}
	if err := c.SendDigit(context.Background(), Digit{Key: '#'}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("BYE over TCP not received")
	}
	if c.ByeHeader("X-Hotline-Outcome") != "tcp" {
		t.Errorf("outcome %q", c.ByeHeader("X-Hotline-Outcome"))
	}
}

// TestReferEndToEnd: our server transfers our caller, which follows the
// REFER and reports with NOTIFYs.
func TestReferEndToEnd(t *testing.T) {
	statuses := make(chan []ReferStatus, 1)
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ch, err := c.Refer(rctx, "sip:agent@127.0.0.1:5090", Header{Name: "X-Hotline-Intent", Value: "refund"})
		if err != nil {
			t.Error(err)
			return
		}
		var got []ReferStatus
		for st := range ch {
			got = append(got, st)
		}
		statuses <- got
		_ = c.Hangup(ctx)
	})
	c, err := Dial(context.Background(), DialConfig{Logger: testLogger(t), AcceptTransfer: true}, ts.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	var tr *Transfer
	select {
	case tr = <-c.Transfers():
	case <-time.After(3 * time.Second):
		t.Fatal("no REFER")
	}
	if tr.Target != "sip:agent@127.0.0.1:5090" {
		t.Errorf("target %q", tr.Target)
	}
	hdr := func(name string) string {
		for _, h := range tr.Headers {
			if strings.EqualFold(h.Name, name) {
				return h.Value
			}
		}
		return ""
	}
	if hdr("X-Hotline-Intent") != "refund" || !strings.Contains(hdr("Referred-By"), "sip:") {
		t.Errorf("REFER headers %v", tr.Headers)
	}
	if err := tr.Notify(context.Background(), 100, "Trying"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Notify(context.Background(), 200, "OK"); err != nil {
		t.Fatal(err)
	}
	got := <-statuses
	want := []ReferState{ReferAccepted, ReferProgress, ReferDone}
	if len(got) != len(want) {
		t.Fatalf("statuses %v", got)
	}
	for i := range want {
		if got[i].State != want[i] {
			t.Fatalf("statuses %v", got)
		}
	}
	if got[2].Code != 200 || got[1].Code != 100 || got[0].Code != 202 {
		t.Errorf("codes %v", got)
	}
	<-c.Done()
}

func TestReferRefusedAndTimeout(t *testing.T) {
	results := make(chan ReferStatus, 4)
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		for range 2 {
			rctx, cancel := context.WithTimeout(ctx, 800*time.Millisecond)
			ch, err := c.Refer(rctx, "sip:agent@example.com")
			if err != nil {
				t.Error(err)
				cancel()
				return
			}
			var last ReferStatus
			for st := range ch {
				last = st
			}
			cancel()
			results <- last
		}
		<-ctx.Done()
	})
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	// First REFER: refused.
	ref, from := p.expectRequest(sip.REFER, 3*time.Second)
	if header(ref, "Refer-To") != "<sip:agent@example.com>" || header(ref, "Referred-By") == "" || ref.Contact() == nil {
		t.Errorf("REFER:\n%s", ref)
	}
	p.respondTo(ref, from, 403, "Forbidden")
	if st := <-results; st.State != ReferFailed || st.Code != 403 {
		t.Errorf("refused: %v", st)
	}
	// Second REFER: accepted but no NOTIFY comes: timed out.
	ref, from = p.expectRequest(sip.REFER, 3*time.Second)
	p.respondTo(ref, from, 202, "Accepted")
	if st := <-results; st.State != ReferFailed || st.Code != 408 {
		t.Errorf("timeout: %v", st)
	}
	// A NOTIFY for a finished subscription is 481; a non-refer event 489.
	d.request("NOTIFY", "message/sipfrag", "SIP/2.0 200 OK", 481, "Event: refer;id=99", "Subscription-State: terminated")
	d.request("NOTIFY", "", "", 489, "Event: dialog")
	d.request("BYE", "", "", 200)
}

func TestReferFailedTarget(t *testing.T) {
	results := make(chan []ReferStatus, 1)
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		ch, _ := c.Refer(ctx, "sip:busy@example.com")
		var got []ReferStatus
		for st := range ch {
			got = append(got, st)
		}
		results <- got
		<-ctx.Done()
	})
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	ref, from := p.expectRequest(sip.REFER, 3*time.Second)
	p.respondTo(ref, from, 202, "Accepted")
	id := "refer;id=" + itoaU(ref.CSeq().SeqNo)
	d.request("NOTIFY", "message/sipfrag;version=2.0", "SIP/2.0 180 Ringing\r\n", 200, "Event: "+id, "Subscription-State: active;expires=60")
	d.request("NOTIFY", "message/sipfrag;version=2.0", "SIP/2.0 486 Busy Here\r\n", 200, "Event: "+id, "Subscription-State: terminated;reason=noresource")
	got := <-results
	if len(got) != 3 || got[1].State != ReferProgress || got[1].Code != 180 || got[2].State != ReferFailed || got[2].Code != 486 {
		t.Errorf("statuses %v", got)
	}
	d.request("BYE", "", "", 200)
}

func itoaU(u uint32) string { return fmt.Sprint(u) }

// TestSipgoDialogClient: a call placed with sipgo's own dialog client.
func TestSipgoDialogClient(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sipgo-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	dc := sipgo.NewDialogClientCache(cli, sip.ContactHeader{Address: sip.Uri{User: "sipgo", Host: "127.0.0.1", Port: 5999}})
	var dst sip.Uri
	if err := sip.ParseUri("sip:5000@"+ts.Addr("udp"), &dst); err != nil {
		t.Fatal(err)
	}
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8 0\r\n"
	sess, err := dc.Invite(context.Background(), dst, []byte(offer), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.WaitAnswer(context.Background(), sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sess.InviteResponse.Body()), "RTP/AVP 8") {
		t.Errorf("answer:\n%s", sess.InviteResponse.Body())
	}
	if err := sess.Ack(context.Background()); err != nil {
		t.Fatal(err)
	}
	sc := ts.rec.next(t)
	if err := sess.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-sc.Done()
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
}

// TestManyCallsNoLeak: 1000 calls (half hung up by us, half by the caller),
// then the call table is empty and, once the server stops, the goroutine
// count is back to where it was.
func TestManyCallsNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 calls")
	}
	base := runtime.NumGoroutine()
	ts := startServer(t, Config{MaxCalls: 200}, func(ctx context.Context, c *Call) {
		if strings.HasSuffix(c.Header("X-N"), "0") || strings.HasSuffix(c.Header("X-N"), "2") ||
			strings.HasSuffix(c.Header("X-N"), "4") || strings.HasSuffix(c.Header("X-N"), "6") || strings.HasSuffix(c.Header("X-N"), "8") {
			_ = c.Hangup(ctx, Header{Name: "X-Hotline-Outcome", Value: "resolved"})
			return
		}
		<-ctx.Done()
	})
	const calls, workers = 1000, 25
	var failed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > calls {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := Dial(ctx, DialConfig{Headers: []Header{{Name: "X-N", Value: fmt.Sprint(n)}}}, ts.Addr("udp"))
				cancel()
				if err != nil {
					failed.Add(1)
					t.Logf("call %d: %v", n, err)
					continue
				}
				if n%2 == 0 {
					select {
					case <-c.Done():
					case <-time.After(5 * time.Second):
						failed.Add(1)
						t.Logf("call %d: no BYE", n)
					}
					if c.ByeHeader("X-Hotline-Outcome") != "resolved" {
						failed.Add(1)
						t.Logf("call %d: BYE without outcome (%v)", n, c.Err())
					}
				} else if err := c.Hangup(context.Background()); err != nil {
					failed.Add(1)
					t.Logf("call %d: hangup: %v", n, err)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed", failed.Load())
	}
	waitFor(t, 10*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	st := ts.Stats()
	if st.Accepted != calls || st.Completed != calls {
		t.Errorf("stats %+v", st)
	}
	if n := ts.ep.dialogCount(); n != 0 {
		t.Errorf("%d dialogs left", n)
	}
	if !ts.ports.allClosed() {
		t.Error("RTP sockets left open")
	}
	ts.stop()
	waitGoroutines(t, base)
}
