package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// Bridge (supervised) transfers against the real `hotline serve`.
//
// The hotline runs testdata/bridge/script.yaml: the call goes straight to a
// bridge transfer with a whisper; on failure "sorry" speaks and hangs up.
// The caller is `hotline call`, saying a steady 600 Hz tone and recording
// what it hears. The agent is baresip (auto-answer; says a 1000 Hz tone
// through aufile and records what it hears with sndfile), or a SIPp UAS that
// is busy (486) or only rings (180, then it gets the CANCEL).

const (
	bridgeCallerHz = 600
	bridgeAgentHz  = 1000
)

// bridgeScript writes the bridge script with the agent's URI filled in.
func bridgeScript(t *testing.T, agent string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "bridge", "script.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "script.yaml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(src), "@AGENT@", agent)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// bridgeToneTime is how long hz dominates pcm (8 kHz): 20 ms frames above
// the activity threshold whose Goertzel power at hz is most of the frame's
// energy. Test tones are whole multiples of 50 Hz, whole cycles per frame.
func bridgeToneTime(pcm []int16, hz float64) time.Duration {
	n := 0
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		if bridgeDominant(pcm[i:i+frameSamples], hz) {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

func bridgeDominant(f []int16, hz float64) bool {
	if rms(f) <= activeThreshold {
		return false
	}
	var energy float64
	for _, x := range f {
		energy += float64(x) * float64(x)
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2 float64
	for _, x := range f {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2*power/(float64(len(f))*energy) > 0.5
}

// bridgeOtherSound is how much of pcm is sound that is not the tone hz
// (the whisper, for the agent).
func bridgeOtherSound(pcm []int16, hz float64) time.Duration {
	n := 0
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		f := pcm[i : i+frameSamples]
		if rms(f) > activeThreshold && !bridgeDominant(f, hz) {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// bridgeAgent is a headless baresip that auto-answers (the harness's
// baresip/agent.sh): it says a tone for talk (after a second of lead-in),
// then aufile's end hangs up; sndfile records what it heard.
type bridgeAgent struct {
	URI  string
	dir  string
	log  *logStore
	done chan struct{}
}

func startBridgeAgent(t *testing.T, talk time.Duration) *bridgeAgent {
	t.Helper()
	bin := need(t, "baresip", "baresip")
	need(t, "sox", "sox")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	voice := filepath.Join(dir, "agent8k.wav")
	soxRun(t, "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", voice,
		"synth", strconv.FormatFloat(talk.Seconds(), 'f', 2, 64), "sine", strconv.Itoa(bridgeAgentHz), "vol", "0.3", "pad", "1", "0")
	// answermode=auto: answer at once. PCMA first: the caller (hotline call)
	// gets PCMU, so the relay transcodes.
	sipPort, ctrlPort := writeBaresipConfig(t, dir, voice, "<sip:agent@127.0.0.1:%d>;regint=0;answermode=auto;audio_codecs=PCMA,PCMU\n")
	a := &bridgeAgent{URI: fmt.Sprintf("sip:agent@127.0.0.1:%d", sipPort), dir: dir, log: newLogStore(), done: make(chan struct{})}
	cmd := exec.Command(bin, "-f", dir, "-t", "90") // its own bound on top of ours
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	go a.log.consume(pr)
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(a.done)
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
			return
		default:
		}
		baresipCtrl(ctrlPort, "quit", "")
		select {
		case <-a.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // this PID only
			<-a.done
		}
	})
	// Ready once its control port answers (it opens after the SIP stack).
	deadline := time.Now().Add(10 * time.Second)
	for !tcpOpen(ctrlPort) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip agent did not start:\n%s", a.log.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a
}

func tcpOpen(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// heard waits for the call's end in baresip's log and returns what the
// agent heard (rec/dump-*-dec.wav).
func (a *bridgeAgent) heard(t *testing.T) []int16 {
	t.Helper()
	if _, ok := a.log.waitFor(20*time.Second, func(l logLine) bool { return strings.Contains(l.Raw, "terminated") }); !ok {
		t.Errorf("the agent's call did not end:\n%s", a.log.tail(40))
	}
	files, _ := filepath.Glob(filepath.Join(a.dir, "rec", "dump-*-dec.wav"))
	if len(files) != 1 {
		t.Fatalf("the agent's recordings: %v\n%s", files, a.log.tail(40))
	}
	// sndfile closes the file when the call's audio stops: give it a moment.
	var pcm []int16
	var err error
	for range 20 {
		if pcm, _, err = wav.ReadFile(files[0]); err == nil && len(pcm) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the agent's recording: %v", err)
	}
	return pcm
}

// TestBridgeBaresipAgent: the caller (hotline call) is put through to a
// baresip agent. The agent hears the whisper, then the caller's tone; the
// caller hears the agent's tone; the agent's hang-up ends the caller's call
// with outcome transferred; the recording has the caller left and the
// agent right; hotline logs the agent's answer time and when the caller
// first heard the agent.
func TestBridgeBaresipAgent(t *testing.T) {
	t.Parallel()
	agent := startBridgeAgent(t, 9*time.Second)
	s := startServe(t, serveOptions{Script: bridgeScript(t, agent.URI), Args: []string{"--public-url", "https://hotline.example"}})
	dir := t.TempDir()
	voice := filepath.Join(dir, "caller.wav")
	soxRun(t, "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", voice,
		"synth", "25", "sine", strconv.Itoa(bridgeCallerHz), "vol", "0.3")
	heardFile := filepath.Join(dir, "heard.wav")
	out, code := runHotlineCall(t, 60*time.Second, s.URI, "--play", voice, "--record", heardFile,
		"--duration", "30s", "--expect", "transferred", "--from", "sip:5551234@127.0.0.1",
		"--listen", fmt.Sprintf("udp:127.0.0.1:%d", freePorts(t, 1, false)))
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered"))
	id := ans.Str("call_id")
	end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
	br := s.waitLog(5*time.Second, "bridge transfer ended", msg("bridge transfer ended", "call_id", id))
	report := func() string {
		return fmt.Sprintf("hotline call (exit %d):\n%s\nhotline's log of the call:\n%s\nbaresip:\n%s", code, out, s.callLog(id), agent.log.tail(40))
	}
	if code != 0 || end.Str("outcome") != "transferred" {
		t.Fatalf("the call ended %q (hotline call exit %d), want transferred\n%s", end.Str("outcome"), code, report())
	}
	if br.Str("agent") == "" || br.Str("reason") != "" {
		t.Errorf("bridge transfer ended: agent %q reason %q\n%s", br.Str("agent"), br.Str("reason"), report())
	}
	answer, heardAt := br.Duration("answer_time"), br.Duration("heard_after")
	if answer <= 0 || heardAt < answer {
		t.Errorf("answer_time %s, heard_after %s", answer, heardAt)
	}
	t.Logf("set-up: agent INVITE → 200 %s; INVITE → caller hears the agent %s (whisper %s)",
		answer, heardAt, br.Duration("whisper"))

	agentHeard := agent.heard(t)
	callerTone := bridgeToneTime(agentHeard, bridgeCallerHz)
	whisper := bridgeOtherSound(agentHeard, bridgeCallerHz)
	t.Logf("the agent heard: %s of the caller's tone, %s of other sound [%s]", callerTone, whisper, spans(agentHeard))
	if callerTone < 3*time.Second {
		t.Errorf("the agent heard %s of the caller's %d Hz tone, want at least 3 s\n%s", callerTone, bridgeCallerHz, report())
	}
	if whisper < 800*time.Millisecond {
		t.Errorf("the agent heard %s of whisper, want at least 0.8 s", whisper)
	}
	pcm, _, err := wav.ReadFile(heardFile)
	if err != nil {
		t.Fatalf("--record: %v", err)
	}
	agentTone := bridgeToneTime(pcm, bridgeAgentHz)
	t.Logf("the caller heard: %s of the agent's tone [%s]", agentTone, spans(pcm))
	if agentTone < 3*time.Second {
		t.Errorf("the caller heard %s of the agent's %d Hz tone, want at least 3 s\n%s", agentTone, bridgeAgentHz, report())
	}
	rec := s.callRecording(t, id)
	if l, r := bridgeToneTime(rec.Left, bridgeCallerHz), bridgeToneTime(rec.Right, bridgeAgentHz); l < 3*time.Second || r < 3*time.Second {
		t.Errorf("recording: %s of the caller's tone left, %s of the agent's right; want 3 s each\n%s", l, r, rec)
	}
}

// bridgeUAS runs a SIPp UAS scenario of testdata/bridge on a free port in
// the background (bounded by -timeout, -m 1 and a kill of its own PID).
func bridgeUAS(t *testing.T, scenario string) (port int, r *sippRun) {
	t.Helper()
	bin := need(t, "sipp", "sip-tester")
	port = freePorts(t, 1, false)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "bridge", scenario))
	if err != nil {
		t.Fatal(err)
	}
	timeout := 40 * time.Second
	r = &sippRun{o: sippOptions{Scenario: scenario, Timeout: timeout}, dir: dir, sf: filepath.Join(dir, scenario), done: make(chan struct{})}
	if err := os.WriteFile(r.sf, src, 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		argv := []string{"-sf", r.sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1",
			"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-nostdin",
			"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
			"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
			"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
			"-trace_logs", "-log_file", filepath.Join(dir, "actions.log"),
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, argv...) // kills this PID only
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		res := sippResult{Dir: dir, Output: string(out)}
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			res.Code = ee.ExitCode()
		case err != nil:
			res.Code = -1
			res.Output += "\n" + err.Error()
		}
		r.result = res
	}()
	t.Cleanup(func() { <-r.done })
	// SIPp listens within a moment; an INVITE that comes first is retransmitted.
	time.Sleep(300 * time.Millisecond)
	return port, r
}

// TestBridgeAgentFails: a busy agent (486) and one who never answers (180,
// then hotline's CANCEL at the 8 s timeout) both send the flow to on_fail
// with the caller still connected: the caller hears "sorry" and the bot's
// BYE says unresolved.
func TestBridgeAgentFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, scenario, reason string
		code                   string
	}{
		{"busy", "uas_busy.xml", "Busy Here", "486"},
		{"noanswer", "uas_noanswer.xml", "no answer within 8s", "408"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port, uas := bridgeUAS(t, tc.scenario)
			s := startServe(t, serveOptions{Script: bridgeScript(t, fmt.Sprintf("sip:agent@127.0.0.1:%d", port))})
			heardFile := filepath.Join(t.TempDir(), "heard.wav")
			out, code := runHotlineCall(t, 60*time.Second, s.URI, "--record", heardFile, "--duration", "30s",
				"--expect", "unresolved", "--listen", fmt.Sprintf("udp:127.0.0.1:%d", freePorts(t, 1, false)))
			ans := s.waitLog(5*time.Second, "call answered", msg("call answered"))
			id := ans.Str("call_id")
			end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
			br := s.waitLog(5*time.Second, "bridge transfer ended", msg("bridge transfer ended", "call_id", id))
			res := uas.wait()
			report := func() string {
				return fmt.Sprintf("hotline call (exit %d):\n%s\nhotline's log of the call:\n%s\nSIPp agent:\n%s", code, out, s.callLog(id), res.report())
			}
			if code != 0 || end.Str("outcome") != "unresolved" || end.Str("path") != "agent>sorry" || end.Str("reason") != "script" {
				t.Errorf("the call ended %q at %q (%s), hotline call exit %d; want unresolved at agent>sorry, hung up by the script\n%s",
					end.Str("outcome"), end.Str("path"), end.Str("reason"), code, report())
			}
			if br.Str("code") != tc.code || br.Str("reason") != tc.reason {
				t.Errorf("bridge transfer ended with %s %q, want %s %q", br.Str("code"), br.Str("reason"), tc.code, tc.reason)
			}
			if res.Code != 0 {
				t.Errorf("the SIPp agent failed (%s: the INVITE's context, the CANCEL)\n%s", tc.scenario, report())
			}
			pcm, _, err := wav.ReadFile(heardFile)
			if err != nil {
				t.Fatalf("--record: %v", err)
			}
			sorry := speak(t, "en-US", "All our agents are busy. Goodbye.") // the script's "sorry"
			t.Logf("the caller heard %s of sound [%s]; the sorry prompt is %s", activeTime(pcm), spans(pcm), sorry.Active)
			// Greeting + ringback + "sorry": at least the last prompt's sound after the ringback.
			if activeTime(pcm) < sorry.Active {
				t.Errorf("the caller heard %s of sound, less than the on_fail prompt alone (%s)", activeTime(pcm), sorry.Active)
			}
		})
	}
}
