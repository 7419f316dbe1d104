package sip

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestMethodIndex(t *testing.T) {
	seen := map[int]bool{}
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.ACK, sip.BYE, sip.CANCEL, sip.OPTIONS, sip.INFO, sip.UPDATE,
		sip.NOTIFY, sip.REFER, sip.REGISTER, sip.SUBSCRIBE, sip.MESSAGE, sip.PRACK, sip.PUBLISH} {
		i := methodIndex(string(m))
		if MethodName(i) != string(m) || seen[i] {
			t.Errorf("%s: index %d names %q", m, i, MethodName(i))
		}
		seen[i] = true
	}
	for _, m := range []string{"", "invite", "FOO", "INVITEX", "X-SCAN"} {
		if i := methodIndex(m); MethodName(i) != MethodOther {
			t.Errorf("%q counted as %q", m, MethodName(i))
		}
	}
	if len(seen) != NumMethods-1 || MethodName(-1) != "" || MethodName(NumMethods) != "" {
		t.Errorf("%d methods", len(seen))
	}
}

func TestCounters(t *testing.T) {
	var c counters
	for range 3 {
		c.request("INVITE")
	}
	c.request("BYE")
	for i := range 1000 { // a scanner's made-up methods: one entry
		c.request(fmt.Sprintf("SCAN%d", i))
	}
	c.response(100)
	c.response(200)
	c.response(200)
	c.response(699)
	c.response(99)
	c.response(700)
	c.response(-1)
	if got := c.requests[methodIndex("INVITE")].Load(); got != 3 {
		t.Errorf("INVITE %d", got)
	}
	if got := c.requests[methodIndex("BYE")].Load(); got != 1 {
		t.Errorf("BYE %d", got)
	}
	if got := c.requests[NumMethods-1].Load(); got != 1000 {
		t.Errorf("OTHER %d", got)
	}
	for code, want := range map[int]uint64{0: 3, 100: 1, 200: 2, 699: 1, 486: 0} {
		if got := c.responses[code].Load(); got != want {
			t.Errorf("responses[%d] = %d, want %d", code, got, want)
		}
	}
	if a := testing.AllocsPerRun(1000, func() { c.request("OPTIONS"); c.response(503) }); a != 0 {
		t.Errorf("counting allocates: %v", a)
	}
}

// TestServerCounters: a Server's Counters and Stats agree with what went
// over the wire.
func TestServerCounters(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	p := newPeer(t, ts.Addr("udp"))
	d := p.dialog()
	d.call()
	ts.rec.next(t)
	p.sendRaw(d.build("OPTIONS", 1, branch(), "", ""))
	p.expect(sip.OPTIONS, 200)
	p.sendRaw(d.build("FROBNICATE", 1, branch(), "", ""))
	p.expect(sip.RequestMethod("FROBNICATE"), 405)
	d.request("BYE", "", "", 200)
	waitFor(t, 3*time.Second, "the call to end", func() bool { return ts.Counters().Completed == 1 })

	c := ts.Counters()
	count := func(m string) uint64 { return c.Requests[methodIndex(m)] }
	if c.Invites != 1 || c.Accepted != 1 || c.Active != 0 || count("INVITE") != 1 || count("ACK") != 1 ||
		count("OPTIONS") != 1 || count("BYE") != 1 || count(MethodOther) != 1 {
		t.Errorf("counters: invites %d accepted %d active %d requests %v", c.Invites, c.Accepted, c.Active, c.Requests)
	}
	if c.Responses[200] < 3 || c.Responses[405] != 1 || c.Responses[0] != 0 {
		t.Errorf("responses: 200 %d, 405 %d, other %d", c.Responses[200], c.Responses[405], c.Responses[0])
	}
	st := ts.Stats()
	if st.Requests["INVITE"] != 1 || st.Requests["OTHER"] != 1 || st.Requests["FROBNICATE"] != 0 || st.Requests["PUBLISH"] != 0 ||
		st.Responses[200] != c.Responses[200] || st.Responses[405] != 1 || len(st.Responses) != countNonZero(c.Responses[:]) {
		t.Errorf("stats: %+v", st)
	}
	if _, ok := st.Requests["PUBLISH"]; ok {
		t.Error("stats list methods never seen")
	}
}

func countNonZero(a []uint64) int {
	n := 0
	for _, v := range a {
		if v > 0 {
			n++
		}
	}
	return n
}

// BenchmarkCountRequest is the accounting of one request received.
func BenchmarkCountRequest(b *testing.B) {
	var c counters
	for b.Loop() {
		c.request("INVITE")
	}
}

// BenchmarkCountResponse is the accounting of one response sent.
func BenchmarkCountResponse(b *testing.B) {
	var c counters
	for b.Loop() {
		c.response(200)
	}
}

// BenchmarkCountParallel is both, from every core at once (sipgo handles
// requests on many goroutines).
func BenchmarkCountParallel(b *testing.B) {
	var c counters
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.request("OPTIONS")
			c.response(200)
		}
	})
}
