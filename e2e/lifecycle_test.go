package e2e

import (
	"testing"
	"time"
)

// TestServeHealthAndSIGTERM: /healthz while serving, a call, /healthz back
// to no calls, then SIGTERM: hotline drains (no call to wait for) and exits
// with status 0 within a few seconds. (Every other test's server goes
// through the same checks in its cleanup; this one logs the numbers.)
func TestServeHealthAndSIGTERM(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{MaxCalls: 7})
	h, err := s.health()
	if err != nil || h.Status != "ok" || h.ActiveCalls != 0 || h.MaxCalls != 7 || h.Script != "e2e-menu" {
		t.Fatalf("/healthz before any call: %+v %v", h, err)
	}
	at := prompts(t, nil, "welcome").Length + 500*time.Millisecond
	out, code := runHotlineCall(t, 30*time.Second, s.URI, "--dtmf", "1@"+at.String(), "--duration", "20s")
	if code != 0 {
		t.Fatalf("hotline call exited %d:\n%s", code, out)
	}
	s.waitLog(5*time.Second, "call ended", msg("call ended", "outcome", "resolved"))
	h, err = s.waitIdle(3 * time.Second)
	t.Logf("/healthz after the call: %+v", h)
	if err != nil {
		t.Fatalf("/healthz after the call: %v", err)
	}
	took, err := s.stop(5 * time.Second)
	t.Logf("SIGTERM → exit in %s (%v)", took.Round(time.Millisecond), err)
	if err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, s.logs.tail(20))
	}
	if took > 3*time.Second {
		t.Errorf("with no call to wait for, hotline took %s to stop", took)
	}
	s.logs.wait(time.Second)
	for _, m := range []string{"draining: new calls get 503", "drained: no call left", "hotline stopped"} {
		if len(s.logs.find(msg(m))) == 0 {
			t.Errorf("no %q in hotline's log:\n%s", m, s.logs.tail(20))
		}
	}
}
