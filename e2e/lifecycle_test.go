package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestServeReloadOnSIGHUP: a broken script is rejected with its errors logged
// and the old one keeps serving; a good one replaces it; a call in progress
// keeps the version it started with.
func TestServeReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(menuScript)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, serveOptions{Script: path})
	h0, err := s.health()
	if err != nil {
		t.Fatal(err)
	}
	// A call that lasts across the reloads (it presses 1 late, after the prompt).
	at := prompts(t, nil, "welcome").Length + 2500*time.Millisecond
	done := make(chan string, 1)
	go func() {
		out, _ := runHotlineCall(t, 40*time.Second, s.URI, "--dtmf", "1@"+at.String(), "--duration", "30s")
		done <- out
	}()
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered"))
	if ans.Str("script_version") != h0.Version {
		t.Fatalf("the call runs version %s, the server %s", ans.Str("script_version"), h0.Version)
	}

	// Broken: rejected, the old version keeps serving.
	if err := os.WriteFile(path, append(append([]byte{}, src...), []byte("\nnodes2: {\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(5*time.Second, "reload rejected", msg("reload rejected: the old script keeps serving"))
	if h, _ := s.health(); h.Version != h0.Version {
		t.Errorf("after a broken reload the version is %s, want the old %s", h.Version, h0.Version)
	}

	// Good: a new version serves new calls.
	changed := strings.Replace(string(src), "description: End-to-end test hotline", "description: Reloaded end-to-end test hotline", 1)
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(5*time.Second, "script reloaded", msg("script reloaded"))
	h1, _ := s.health()
	if h1.Version == h0.Version || h1.Version == "" {
		t.Errorf("version after a good reload: %q (before %q)", h1.Version, h0.Version)
	}
	// The call in progress finishes on its own version.
	out := <-done
	id := ans.Str("call_id")
	end := s.waitLog(10*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "resolved" {
		t.Errorf("the call across the reloads ended %s:\n%s\n%s", end.Str("outcome"), out, s.callLog(id))
	}
}
