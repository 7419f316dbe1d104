package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBaresipKeypad is a whole call by keypad with baresip as the caller: it
// talks (an espeak-ng phrase), presses 2 after the welcome prompt (support),
// keys in the code 4321# (RFC 4733 through baresip's ctrl_tcp "sndcode"),
// and the script reads the code back and hangs up. baresip's own recording
// of what it heard must be sound, about as long as the three prompts.
func TestBaresipKeypad(t *testing.T) {
	t.Parallel()
	need(t, "baresip", "baresip")
	welcome := prompts(t, nil, "welcome")
	support := prompts(t, nil, "support")
	want := prompts(t, map[string]string{"code": "4321"}, "welcome", "support", "thanks")
	s := startServe(t, serveOptions{})

	voice := filepath.Join(t.TempDir(), "voice.wav")
	if out, err := exec.Command(need(t, "espeak-ng", "espeak-ng"), "-v", "en-gb", "-w", voice,
		"hello, I would like some help with my account please").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	// Each key after the prompt before it has been heard in full.
	first := welcome.Length + 700*time.Millisecond
	code := first + support.Length + 900*time.Millisecond
	keys := []keyAt{{'2', first}}
	for i, k := range "4321#" {
		keys = append(keys, keyAt{k, code + time.Duration(i)*400*time.Millisecond})
	}
	b := runBaresip(t, baresipOptions{Target: s.URI, Voice: voice, Keys: keys, Limit: 30 * time.Second})
	if !b.Established || !b.Terminated {
		t.Fatalf("baresip: established %t, ended by the far end %t\n%s\nhotline:\n%s", b.Established, b.Terminated, b.Log.tail(40), s.logs.tail(40))
	}
	var dtmf []string
	for _, l := range b.Log.find(func(l logLine) bool { return strings.Contains(l.Raw, "send DTMF digit:") }) {
		dtmf = append(dtmf, strings.TrimSpace(l.Raw))
	}
	t.Logf("baresip: %d keys sent (%s)", len(dtmf), strings.Join(dtmf, "; "))

	// hotline: the two inputs understood, the flow to its hangup node.
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered"))
	id := ans.Str("call_id")
	s.waitLog(5*time.Second, "understood welcome/dtmf/2 → support",
		msg("understood", "call_id", id, "node", "welcome", "input", "dtmf", "text", "2", "intent", "support"))
	s.waitLog(5*time.Second, "understood support/4321 collected",
		msg("understood", "call_id", id, "node", "support", "input", "dtmf", "text", "4321", "outcome", "collected"))
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "resolved" || end.Str("path") != "welcome>support>thanks" || end.Str("reason") != "script" {
		t.Errorf("call ended %q at %q (%s); want resolved, welcome>support>thanks, script:\n%s",
			end.Str("outcome"), end.Str("path"), end.Str("reason"), s.callLog(id))
	}

	// What baresip heard.
	if b.HeardFile == "" {
		t.Fatalf("baresip wrote no dump-*-dec.wav in %s/rec:\n%s", b.Dir, b.Log.tail(30))
	}
	heard := activeTime(b.Heard)
	t.Logf("baresip heard %s of sound in %s [%s]; the prompts have %s of sound in %s",
		heard, (time.Duration(len(b.Heard)) * time.Second / 8000).Round(10*time.Millisecond), spans(b.Heard),
		want.Active, want.Length.Round(10*time.Millisecond))
	if !within(heard, want.Active, 0.30) {
		t.Errorf("baresip heard %s of sound, want the prompts' %s ±30%%", heard, want.Active)
	}

	// hotline's recording: baresip's voice left, the prompts right.
	rec := s.callRecording(t, id)
	t.Logf("recording %s", rec)
	if !rec.closed() {
		t.Errorf("the recording was not closed (header data size %d, file %d bytes)", rec.DataSize, rec.FileSize)
	}
	if a := activeTime(rec.Left); a < time.Second {
		t.Errorf("the caller's channel has %s of sound; baresip said a phrase of about 3 s", a)
	}
	if a := activeTime(rec.Right); !within(a, want.Active, 0.30) {
		t.Errorf("the bot's channel has %s of sound, want the prompts' %s ±30%%", a, want.Active)
	}
}

// TestBaresipKeyDuringSpeech: the caller keeps talking (a steady tone) while
// pressing a key. baresip sends RFC 4733 packets interleaved with its audio
// packets, in one SSRC and one sequence number space (as RFC 3550/4733 have
// it); nothing is lost on loopback (checked in a tshark capture). hotline
// must understand the key, count no loss, and record the caller's tone
// without a gap.
//
// A regression test: hotline once counted each sequence number taken by a
// telephone-event packet as a lost audio packet and filled it with 20 ms of
// silence (the reorder window now skips those numbers).
func TestBaresipKeyDuringSpeech(t *testing.T) {
	t.Parallel()
	need(t, "baresip", "baresip")
	at := prompts(t, nil, "welcome").Length + 700*time.Millisecond
	s := startServe(t, serveOptions{})
	capt := startCapture(t, fmt.Sprintf("udp dst portrange %d-%d", s.RTPMin, s.RTPMax))
	tone := filepath.Join(t.TempDir(), "tone.wav")
	soxRun(t, "-n", "-r", "8000", "-c", "1", "-b", "16", tone, "synth", "15", "sine", "440", "vol", "0.3")
	b := runBaresip(t, baresipOptions{Target: s.URI, Voice: tone, Keys: []keyAt{{'1', at}}, Limit: 20 * time.Second})
	pkts := capt.stop()
	if !b.Established || !b.Terminated {
		t.Fatalf("baresip: established %t, ended by the far end %t\n%s", b.Established, b.Terminated, b.Log.tail(30))
	}
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered"))
	id := ans.Str("call_id")
	s.waitLog(5*time.Second, "understood welcome/dtmf/1 → sales",
		msg("understood", "call_id", id, "node", "welcome", "input", "dtmf", "text", "1", "intent", "sales"))
	closed := s.waitLog(5*time.Second, "media session closed", msg("media session closed", "call_id", id))

	// The wire: every sequence number there, the tone in every audio packet.
	var in []rtpPacket
	for _, p := range rtpFrom(pkts, 0, 65535) {
		if int(p.Dst.Port()) >= s.RTPMin && int(p.Dst.Port()) <= s.RTPMax {
			in = append(in, p)
		}
	}
	audio, events, gaps, quiet := 0, 0, 0, 0
	for i, p := range in {
		if i > 0 && p.SequenceNumber != in[i-1].SequenceNumber+1 {
			gaps++
		}
		switch p.PayloadType {
		case 101:
			events++
		case 8:
			audio++
			if p.At.Sub(in[0].At) > 1200*time.Millisecond && rms(pcma.Decode(nil, p.Payload)) < 1000 {
				quiet++
			}
		}
	}
	t.Logf("wire (tshark): baresip sent %d audio and %d telephone-event packets, %d sequence gaps, %d quiet audio packets after the lead-in", audio, events, gaps, quiet)
	t.Logf("hotline: %s", closed.Raw)
	if events == 0 || gaps > 0 || quiet > 0 {
		t.Fatalf("the premise does not hold: %d events, %d sequence gaps, %d quiet audio packets on the wire", events, gaps, quiet)
	}

	// hotline's view: no loss, and the tone unbroken in the recording.
	rec := s.callRecording(t, id)
	var silent []string
	for i := 8000 * 13 / 10; i+frameSamples <= len(rec.Left)-8000*3/10; i += frameSamples {
		if rms(rec.Left[i:i+frameSamples]) < 1000 {
			silent = append(silent, fmt.Sprintf("%.2fs", float64(i)/8000))
		}
	}
	t.Logf("recording %s", rec)
	if closed.Str("lost") != "0" || len(silent) > 0 {
		t.Errorf("telephone-event packets counted as lost audio and concealed with silence: hotline reports lost=%s for a loopback call that lost nothing; the caller's steady tone has %d silent 20 ms frames in the recording, at %s (the key was pressed %.2fs after the answer)",
			closed.Str("lost"), len(silent), strings.Join(silent, " "), at.Seconds())
	}
}
