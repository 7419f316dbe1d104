package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// SIPp tests: the server against a SIP peer written by other people. The
// scenarios in testdata/sipp need no root (no pcap play). Each run has
// -m (call count) and -timeout, runs on ports chosen free at run time, and
// is killed by its own PID if it overstays.

func freeUDPPort(t testing.TB, even bool) int {
	t.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if even && port%2 != 0 {
			continue
		}
		if even { // SIPp also binds port+2 for media
			c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 2})
			if err != nil {
				continue
			}
			c2.Close()
		}
		return port
	}
	t.Fatal("no free port")
	return 0
}

// runSIPp runs scenario against target; it returns SIPp's exit code.
func runSIPp(t *testing.T, scenario, target string, calls int, args ...string) int {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (apt-get install sip-tester)")
	}
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for attempt := 0; ; attempt++ {
		argv := []string{
			"-sf", sf, "-s", "5000",
			"-i", "127.0.0.1", "-p", fmt.Sprint(freeUDPPort(t, false)),
			"-mi", "127.0.0.1", "-mp", fmt.Sprint(freeUDPPort(t, true)),
			"-m", fmt.Sprint(calls), "-timeout", "30s", "-timeout_error", "-nostdin",
			"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
			"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
			"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
			"-trace_logs", "-log_file", filepath.Join(dir, "actions.log"),
		}
		argv = append(append(argv, args...), target)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, argv...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput() // CommandContext kills this PID only
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("sipp: %v", err)
		}
		if code == 255 && attempt < 2 && strings.Contains(string(out)+readFile(filepath.Join(dir, "errors.log")), "bind") {
			continue // port taken between our check and SIPp's bind
		}
		if code != 0 {
			t.Logf("sipp %s exit %d\n%s\nerrors:\n%s\nscreen:\n%s\nmessages:\n%s", scenario, code, out,
				readFile(filepath.Join(dir, "errors.log")), tail(readFile(filepath.Join(dir, "screen.log")), 3000),
				tail(readFile(filepath.Join(dir, "messages.log")), 6000))
		}
		return code
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestSIPpBasicCall(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	if code := runSIPp(t, "uac_basic.xml", ts.Addr("udp"), 1, "-d", "300"); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	c := ts.rec.next(t)
	if c.Media.Codec != PCMA || c.Media.DTMFPayload != 101 || c.Caller() != "13800138000" {
		t.Errorf("call media %s caller %q", c.Media, c.Caller())
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrRemoteHangup) {
		t.Errorf("cause %v", c.Err())
	}
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
}

func TestSIPpCancelBeforeAnswer(t *testing.T) {
	ts := startServer(t, Config{Ring: 3 * time.Second}, nil)
	if code := runSIPp(t, "uac_cancel.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	if st := ts.Stats(); st.Cancelled != 1 || ts.rec.count() != 0 {
		t.Errorf("stats %+v, handler calls %d", st, ts.rec.count())
	}
}

func TestSIPpPCMAOnly(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	if code := runSIPp(t, "uac_pcma.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	c := ts.rec.next(t)
	if c.Media.Codec != PCMA || c.Media.DTMFPayload != 96 || c.Media.PTime != 30*time.Millisecond || c.Media.Direction != RecvOnly {
		t.Errorf("media %s", c.Media)
	}
}

func TestSIPpNoCommonCodec488(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	if code := runSIPp(t, "uac_488.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	if ts.ActiveCalls() != 0 || ts.rec.count() != 0 || ts.Stats().Rejected != 1 {
		t.Errorf("stats %+v", ts.Stats())
	}
}

func TestSIPpOptions(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	if code := runSIPp(t, "uac_options.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
}

func TestSIPpInfoDigits(t *testing.T) {
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		var keys []rune
		for len(keys) < 3 {
			select {
			case d := <-c.Digits():
				keys = append(keys, d.Key)
			case <-ctx.Done():
				return
			}
		}
		// A digit is delivered just before its INFO's 200 goes out (so
		// that the next INFO cannot overtake it): give the last 200 time to
		// leave before the BYE, which SIPp expects after it.
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		_ = c.Hangup(ctx, Header{Name: "X-Hotline-Digits", Value: string(keys)})
	})
	if code := runSIPp(t, "uac_info.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
}

func TestSIPpAtCapacity503(t *testing.T) {
	ts := startServer(t, Config{MaxCalls: 1}, nil)
	held, err := Dial(context.Background(), DialConfig{}, ts.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Hangup(context.Background())
	if code := runSIPp(t, "uac_503.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	ts.Drain()
	_ = held.Hangup(context.Background())
	waitFor(t, 2*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	if code := runSIPp(t, "uac_503.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("draining: sipp exit %d", code)
	}
}

func TestSIPpRefer(t *testing.T) {
	result := make(chan ReferStatus, 1)
	ts := startServer(t, Config{}, func(ctx context.Context, c *Call) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ch, err := c.Refer(rctx, "sip:agent@127.0.0.1:5090")
		if err != nil {
			t.Error(err)
			return
		}
		var last ReferStatus
		for st := range ch {
			last = st
		}
		result <- last
		_ = c.Hangup(ctx, Header{Name: "X-Hotline-Outcome", Value: "transferred"})
	})
	if code := runSIPp(t, "uac_refer.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	if st := <-result; st.State != ReferDone || st.Code != 200 {
		t.Errorf("final status %v", st)
	}
}

func TestSIPpHoldUnhold(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	if code := runSIPp(t, "uac_hold.xml", ts.Addr("udp"), 1); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
}

// TestSIPpLoad: 1000 calls, 100 at a time; every one succeeds, the call
// table empties and, after shutdown, the goroutines are back to baseline.
func TestSIPpLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 calls")
	}
	base := runtime.NumGoroutine()
	ts := startServer(t, Config{MaxCalls: 150}, nil)
	if code := runSIPp(t, "uac_basic.xml", ts.Addr("udp"), 1000, "-r", "200", "-l", "100", "-d", "200"); code != 0 {
		t.Fatalf("sipp exit %d", code)
	}
	waitFor(t, 5*time.Second, "active calls 0", func() bool { return ts.ActiveCalls() == 0 })
	st := ts.Stats()
	if st.Accepted != 1000 || st.Completed != 1000 || st.Rejected != 0 {
		t.Errorf("stats %+v", st)
	}
	if !ts.ports.allClosed() {
		t.Error("RTP sockets left open")
	}
	ts.stop()
	waitGoroutines(t, base)
}
