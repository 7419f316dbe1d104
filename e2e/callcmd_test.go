package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// `hotline call` against `hotline serve`: the staff's test caller, in each of
// its three ways of pressing a key.

var outcomeRE = regexp.MustCompile(`outcome "([a-z_]*)"`)

// TestHotlineCall presses 1 after the welcome prompt by RFC 4733, by SIP
// INFO and by in-band tones: each must reach "sales" and end resolved, so
// `hotline call` exits 0; what it heard (--record) must be the two prompts.
//
// In inband mode the test caller offers no telephone-event, so that hotline
// listens for tones (it once offered it anyway, and the tones went unheard).
func TestHotlineCall(t *testing.T) {
	t.Parallel()
	want := prompts(t, nil, "welcome", "sales")
	at := prompts(t, nil, "welcome").Length + 700*time.Millisecond
	for _, mode := range []string{"rfc4733", "info", "inband"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := startServe(t, serveOptions{})
			heard := filepath.Join(t.TempDir(), "heard.wav")
			out, code := runHotlineCall(t, 40*time.Second, s.URI,
				"--dtmf", fmt.Sprintf("1@%dms", at.Milliseconds()), "--dtmf-mode", mode,
				"--record", heard, "--duration", "25s", "--listen", fmt.Sprintf("udp:127.0.0.1:%d", freePorts(t, 1, false)))
			t.Logf("hotline call (exit %d):\n%s", code, out)
			ans := s.waitLog(5*time.Second, "call answered", msg("call answered"))
			id := ans.Str("call_id")
			end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
			var problems []string
			if len(s.logs.find(msg("understood", "call_id", id, "node", "welcome", "input", "dtmf", "text", "1", "intent", "sales"))) == 0 {
				problems = append(problems, "hotline did not understand the key 1 sent by "+mode)
			}
			if code != 0 || !strings.Contains(out, `outcome "resolved"`) {
				problems = append(problems, fmt.Sprintf("hotline call exited %d, want 0 with outcome \"resolved\"", code))
			}
			if end.Str("outcome") != "resolved" || end.Str("path") != "welcome>sales" {
				problems = append(problems, fmt.Sprintf("the call ended %q at %q, want resolved at welcome>sales", end.Str("outcome"), end.Str("path")))
			}
			if len(problems) > 0 {
				t.Errorf("%s\nhotline's log of the call:\n%s", strings.Join(problems, "\n"), s.callLog(id))
			}
			// What the caller heard: sound, the two prompts' worth when the
			// flow went to sales (the welcome prompt and its no-input wait otherwise).
			pcm, info, err := wav.ReadFile(heard)
			if err != nil {
				t.Fatalf("--record %s: %v", heard, err)
			}
			got := activeTime(pcm)
			t.Logf("--record: %s, %s of sound [%s]; expected %s", info.Duration.Round(10*time.Millisecond), got, spans(pcm), want.Active)
			if got < time.Second {
				t.Errorf("--record %s is silent (%s of sound)", heard, got)
			}
			if end.Str("path") == "welcome>sales" && !within(got, want.Active, 0.30) {
				t.Errorf("--record has %s of sound, want the prompts' %s ±30%%", got, want.Active)
			}
		})
	}
}

// TestHotlineCallExitStatus: the exit status follows the outcome. Key 2 then
// nothing: the code is never keyed in, the collect times out with no retry
// and no escalation, and the bot hangs up with outcome unresolved: exit 1,
// and exit 0 with --expect unresolved.
func TestHotlineCallExitStatus(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{})
	t.Run("group", func(t *testing.T) {
		for _, c := range []struct {
			expect string
			code   int
		}{{"", 1}, {"unresolved", 0}} {
			t.Run("expect="+c.expect, func(t *testing.T) {
				t.Parallel()
				args := []string{s.URI, "--dtmf", "2@500ms", "--duration", "25s"}
				if c.expect != "" {
					args = append(args, "--expect", c.expect)
				}
				out, code := runHotlineCall(t, 40*time.Second, args...)
				m := outcomeRE.FindStringSubmatch(out)
				t.Logf("hotline call %v: exit %d, outcome %v", args[1:], code, m)
				if m == nil || m[1] != "unresolved" || code != c.code {
					t.Errorf("hotline call %v: exit %d, want %d with outcome \"unresolved\":\n%s", args[1:], code, c.code, out)
				}
			})
		}
	})
	ended := msg("call ended", "outcome", "unresolved", "path", "welcome>support")
	if n := s.waitCount(5*time.Second, 2, ended); n != 2 {
		t.Errorf("%d calls ended unresolved at welcome>support, want 2:\n%s", n, s.logs.tail(40))
	}
}
