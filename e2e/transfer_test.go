package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Blind transfer (SIP REFER, RFC 3515) against the real `hotline serve`.
//
// The hotline runs testdata/transfer/script.yaml: key 0 (a global intent) or
// key 1 (sales) reaches a blind transfer whose context headers are templates;
// its on_fail ("busy") transfers to a second target with the failed
// transfer's SIP code in a header, and that one's on_fail takes a message.
// The callers are SIPp scenarios in testdata/transfer (the transferee: they
// receive the REFER, check Refer-To, Referred-By and the context, and answer
// it) and baresip, a real phone that follows the REFER and calls the agent (a
// SIPp UAS).

// blindScript writes the transfer script with its two targets filled in.
func blindScript(t *testing.T, agent, voicemail string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "transfer", "script.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("@AGENT@", agent, "@VOICEMAIL@", voicemail).Replace(string(src))
	p := filepath.Join(t.TempDir(), "script.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// blindSIPpOptions is one SIPp run on a scenario of testdata/transfer.
type blindSIPpOptions struct {
	Scenario string            // file in testdata/transfer
	Vars     map[string]string // {{NAME}} → value
	Target   string            // host:port for a UAC; "" for a UAS
	Port     int               // -p; 0: a free port
	Calls    int               // -m, default 1
	Timeout  time.Duration     // -timeout, default 30 s
	Args     []string
}

// blindSIPp starts SIPp in the background on a scenario of testdata/transfer;
// wait() on the result gives its exit. Like startSIPp, but the listening port
// can be chosen (a UAS that a transfer target URI names) and the scenario
// comes from this folder. Bounded by -timeout, -m and a kill of its own PID.
func blindSIPp(t *testing.T, o blindSIPpOptions) *sippRun {
	t.Helper()
	bin := need(t, "sipp", "sip-tester")
	if o.Calls == 0 {
		o.Calls = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Port == 0 {
		o.Port = freePorts(t, 1, false)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "transfer", o.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for k, v := range o.Vars {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	if i := strings.Index(text, "{{"); i >= 0 {
		t.Fatalf("scenario %s: no value for %s", o.Scenario, text[i:min(i+40, len(text))])
	}
	r := &sippRun{o: sippOptions{Scenario: o.Scenario, Timeout: o.Timeout}, dir: dir,
		sf: filepath.Join(dir, o.Scenario), done: make(chan struct{})}
	if err := os.WriteFile(r.sf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		mp, err := findFreePorts(4, false)
		if err != nil {
			r.result = sippResult{Code: -1, Dir: dir, Output: err.Error()}
			return
		}
		argv := []string{"-sf", r.sf,
			"-i", "127.0.0.1", "-p", strconv.Itoa(o.Port),
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp),
			"-m", strconv.Itoa(o.Calls),
			"-timeout", fmt.Sprintf("%ds", int(o.Timeout.Seconds())), "-timeout_error",
			"-nostdin",
			"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
			"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
			"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
			"-trace_logs", "-log_file", filepath.Join(dir, "actions.log"),
		}
		argv = append(argv, o.Args...)
		if o.Target != "" {
			argv = append(argv, "-s", "ivr", o.Target)
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.Timeout+20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, argv...) // kills this PID only
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		res := sippResult{Dir: dir, Output: string(out), MediaPort: mp}
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
	return r
}

// blindLogValue reads a value a scenario's <log> action wrote on the line
// that starts with tag: "REFER1 to=… by=… call=…" (values have no spaces).
func blindLogValue(actions, tag, name string) string {
	for _, line := range strings.Split(actions, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != tag {
			continue
		}
		for _, kv := range f[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				return v
			}
		}
	}
	return ""
}

// blindTransferCode is the SIP code a transfer that timed out reports in
// {{transfer_code}} (sip.ReferStatus: 408 when the transfer timed out).
const blindTransferCode = "408"

// TestBlindTransferSIPp: SIPp is the caller and the transferee. Each case
// checks SIPp's side (the REFER's Refer-To with the context headers, its
// Referred-By, the NOTIFY sipfrag answered, the bot's BYE and its
// X-Hotline-Outcome: SIPp fails the call otherwise) and hotline's (the
// transfer's progress lines and the path the call took).
func TestBlindTransferSIPp(t *testing.T) {
	t.Parallel()
	agentRE := regexp.QuoteMeta("sip:queue@127.0.0.1:5099")
	voicemailRE := regexp.QuoteMeta("sip:voicemail@127.0.0.1:5099")
	script := blindScript(t, "sip:queue@127.0.0.1:5099", "sip:voicemail@127.0.0.1:5099")
	cases := []struct {
		name, scenario string
		root           bool
		vars           map[string]string
		path, outcome  string
		progress       []string // hotline's "transfer progress" states and codes, in order
	}{
		// Key 0 by RFC 4733: REFER, 202, NOTIFY 100, NOTIFY 200: the bot leaves.
		{name: "ok", scenario: "uac_refer_ok.xml", root: true,
			path: "welcome>agent", outcome: "transferred",
			progress: []string{"accepted 202", "progress 100", "done 200"}},
		// The caller's phone refuses the REFER: on_fail, which transfers again.
		{name: "refused603", scenario: "uac_refer_603.xml",
			path: "welcome>sales>agent>busy", outcome: "transferred",
			progress: []string{"failed 603", "accepted 202", "progress 100", "done 200"}},
		// The target is busy (NOTIFY sipfrag 486): on_fail.
		{name: "busy486", scenario: "uac_refer_486.xml",
			path: "welcome>sales>agent>busy", outcome: "transferred",
			progress: []string{"accepted 202", "progress 100", "failed 486", "accepted 202", "progress 100", "done 200"}},
		// No final NOTIFY within the transfer's 5 s: sip ends the
		// subscription with 408, on_fail follows; its transfer is
		// refused too, so the caller is asked for a message (silence: none).
		{name: "timeout", scenario: "uac_refer_timeout.xml", vars: map[string]string{"TIMEOUT_CODE": blindTransferCode},
			path: "welcome>sales>agent>busy>take_message>goodbye", outcome: "unresolved",
			progress: []string{"accepted 202", "progress 100", "failed 408", "failed 603"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"AGENT": agentRE, "VOICEMAIL": voicemailRE}
			for k, v := range tc.vars {
				vars[k] = v
			}
			if tc.root {
				needRoot(t, "SIPp's pcap play (play_pcap_audio) of the RFC 4733 key")
				vars["DIGIT_PCAP"] = needFile(t, filepath.Join(sipTesterPcaps, "dtmf_2833_0.pcap"), "sip-tester")
			}
			s := startServe(t, serveOptions{Script: script})
			r := blindSIPp(t, blindSIPpOptions{Scenario: tc.scenario, Target: s.SIPAddr, Vars: vars}).wait()
			if r.Code != 0 {
				t.Fatalf("SIPp: the transfer did not go as the scenario expects\n%s\nhotline:\n%s", r.report(), s.logs.tail(60))
			}
			acts := r.actions()
			t.Logf("SIPp: %s", strings.TrimSpace(acts))
			id := r.callID()
			end := s.waitLog(10*time.Second, "call ended", msg("call ended", "call_id", id))
			if end.Str("outcome") != tc.outcome || end.Str("path") != tc.path {
				t.Errorf("call ended %s at %s; want %s at %s:\n%s", end.Str("outcome"), end.Str("path"), tc.outcome, tc.path, s.callLog(id))
			}
			// The REFER's X-Hotline-Call-ID is the call's ID in hotline's log
			// (and in the Refer-To URI, for the agent's phone).
			if got := blindLogValue(acts, "REFER1", "call"); got != id {
				t.Errorf("REFER X-Hotline-Call-ID %q, want the call's ID %q", got, id)
			}
			if rt := blindLogValue(acts, "REFER1", "to"); !strings.Contains(rt, "X-Hotline-Call-ID="+url.QueryEscape(id)+"&") {
				t.Errorf("Refer-To %q does not carry X-Hotline-Call-ID=%s", rt, id)
			}
			var got []string
			for _, l := range s.logs.find(msg("transfer progress", "call_id", id)) {
				got = append(got, l.Str("state")+" "+l.Str("code"))
			}
			// A NOTIFY 100 may be overtaken by the final NOTIFY (sipgo
			// handles each message on its own goroutine): once the final
			// status is in, a late "100" is ignored, so it is optional.
			if !progressSubset(got, tc.progress) {
				t.Errorf("transfer progress %q, want %q:\n%s", got, tc.progress, s.callLog(id))
			}
		})
	}
}

// blindPhone is a headless baresip caller (as in runBaresip) that presses a
// key and follows the REFER hotline sends: it calls the transfer target,
// reports NOTIFY sipfrag progress to hotline, and hangs up when the agent does.
type blindPhone struct {
	Dir   string
	Log   *logStore
	ctrl  int
	done  chan struct{}
	start time.Time
}

// blindStartPhone starts baresip dialling target; every call of it lasts at
// most limit (the voice file's length: aufile hangs up at its end) and
// baresip itself quits after a few such calls (-t).
func blindStartPhone(t *testing.T, target string, limit time.Duration) *blindPhone {
	t.Helper()
	bin := need(t, "baresip", "baresip")
	espeak := need(t, "espeak-ng", "espeak-ng")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "voice-src.wav")
	if out, err := exec.Command(espeak, "-v", "en-gb", "-w", src, "I would like to talk to a person please").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	voice := filepath.Join(dir, "voice8k.wav")
	soxRun(t, src, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", voice, "pad", "1", strconv.Itoa(int(limit.Seconds())))
	// REFER is followed by default (call_transfer=no would refuse it).
	_, ctrlPort := writeBaresipConfig(t, dir, voice, "<sip:caller@127.0.0.1:%d>;regint=0;audio_codecs=PCMA,PCMU\n")
	p := &blindPhone{Dir: dir, Log: newLogStore(), ctrl: ctrlPort, done: make(chan struct{}), start: time.Now()}
	cmd := exec.Command(bin, "-f", dir, "-e", "/dial "+target, "-t", strconv.Itoa(3*int(limit.Seconds())+10))
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	go p.Log.consume(pr)
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		baresipCtrl(ctrlPort, "quit", "")
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // this PID only
			<-p.done
		}
	})
	return p
}

// count waits until n lines of baresip's log contain s (or the time is up)
// and returns how many do.
func (p *blindPhone) count(timeout time.Duration, n int, s string) int {
	deadline := time.Now().Add(timeout)
	for {
		got := len(p.Log.find(func(l logLine) bool { return strings.Contains(l.Raw, s) }))
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// blindTransferViaPhone is one call by baresip: key 0 during the welcome
// prompt, and hotline's REFER followed to the agent (a SIPp UAS that
// answers and hangs up after a moment). It checks that both of baresip's
// calls ended and that hotline's ended as transferred, and returns hotline's
// call ID.
func blindTransferViaPhone(t *testing.T, s *server) string {
	t.Helper()
	prior := len(s.logs.find(msg("call answered")))
	p := blindStartPhone(t, s.URI, 10*time.Second)
	if p.count(10*time.Second, 1, "Call established") < 1 {
		t.Fatalf("baresip: the call to hotline was not established\n%s\nhotline:\n%s", p.Log.tail(30), s.logs.tail(30))
	}
	time.Sleep(1500 * time.Millisecond) // into the welcome prompt
	baresipCtrl(p.ctrl, "sndcode", "0")
	// The first call ends (hotline's BYE after the final NOTIFY); the second,
	// to the agent, is established and the agent ends it.
	if n := p.count(20*time.Second, 2, "Call established"); n < 2 {
		t.Fatalf("baresip did not reach the agent (%d calls established)\n%s\nhotline:\n%s", n, p.Log.tail(40), s.logs.tail(40))
	}
	if n := p.count(15*time.Second, 2, "terminated"); n < 2 {
		t.Errorf("baresip: %d of its 2 calls ended\n%s", n, p.Log.tail(40))
	}
	baresipCtrl(p.ctrl, "quit", "")
	if s.waitCount(5*time.Second, prior+1, msg("call answered")) <= prior {
		t.Fatalf("hotline logged no answered call:\n%s", s.logs.tail(30))
	}
	id := s.logs.find(msg("call answered"))[prior].Str("call_id")
	end := s.waitLog(10*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "transferred" || end.Str("path") != "welcome>agent" {
		t.Errorf("call ended %s at %s; want transferred at welcome>agent:\n%s\nbaresip:\n%s", end.Str("outcome"), end.Str("path"), s.callLog(id), p.Log.tail(40))
	}
	if testing.Verbose() {
		for _, l := range p.Log.find(func(l logLine) bool {
			return strings.Contains(l.Raw, "transfer") || strings.Contains(l.Raw, "Call established") || strings.Contains(l.Raw, "terminated")
		}) {
			t.Logf("baresip: %s", strings.TrimSpace(l.Raw))
		}
	}
	return id
}

// TestBlindTransferBaresip: a real phone as the transferee. baresip calls
// hotline and presses 0; hotline REFERs it to the agent (a SIPp UAS); baresip
// calls the agent, tells hotline how it goes (NOTIFY sipfrag), and hotline
// leaves the call on the final 200. The agent answers, hears what the phone
// carried over from the Refer-To (logged: it is the phone's choice), and
// hangs up.
func TestBlindTransferBaresip(t *testing.T) {
	t.Parallel()
	need(t, "baresip", "baresip")
	agentPort := freePorts(t, 1, false)
	agentURI := fmt.Sprintf("sip:agent@127.0.0.1:%d", agentPort)
	s := startServe(t, serveOptions{Script: blindScript(t, agentURI, "sip:voicemail@127.0.0.1:9")})
	agent := blindSIPp(t, blindSIPpOptions{Scenario: "uas_agent.xml", Port: agentPort, Timeout: 40 * time.Second,
		Vars: map[string]string{"TALK_MS": "1000"}})
	id := blindTransferViaPhone(t, s)
	r := agent.wait()
	if r.Code != 0 {
		t.Fatalf("the agent (SIPp UAS) did not get the call baresip should have placed\n%s\nhotline:\n%s", r.report(), s.callLog(id))
	}
	acts := r.actions()
	t.Logf("agent: %s", strings.TrimSpace(acts))
	// The context reaches the agent's side: as X- headers when the phone
	// turns the Refer-To URI's headers into headers of its INVITE (RFC 3261
	// 19.1.5), or in the Request-URI when it copies the URI as it is
	// (baresip 1.0.0 does that, and sends no Referred-By).
	ruri, _ := url.QueryUnescape(blindLogValue(acts, "AGENT", "ruri"))
	if blindLogValue(acts, "AGENT", "call") != id && !strings.Contains(ruri, "X-Hotline-Call-ID="+id) {
		t.Errorf("the agent's INVITE carries X-Hotline-Call-ID=%s neither as a header nor in its Request-URI:\n%s", id, acts)
	}
	var got []string
	for _, l := range s.logs.find(msg("transfer progress", "call_id", id)) {
		got = append(got, l.Str("state")+" "+l.Str("code"))
	}
	t.Logf("hotline: transfer progress %q", got)
	if len(got) < 2 || got[0] != "accepted 202" || got[len(got)-1] != "done 200" {
		t.Errorf("transfer progress %q, want accepted 202 … done 200:\n%s", got, s.callLog(id))
	}
	refer := s.waitLog(time.Second, "REFER sent", msg("sip: REFER sent", "call_id", id))
	done := s.waitLog(time.Second, "final NOTIFY", msg("sip: transfer progress", "call_id", id, "code", "200"))
	t.Logf("REFER sent → final NOTIFY: %s (hotline's log)", done.Time.Sub(refer.Time))
}

// blindSetupTimes reads, for each call, the time from hotline's "sip: REFER
// sent" to its "sip: transfer progress" with the final 2xx (the NOTIFY that
// ends the transfer), from the JSON log's timestamps (nanoseconds).
func blindSetupTimes(t *testing.T, s *server, ids []string) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, id := range ids {
		refer := s.waitLog(5*time.Second, "REFER sent for "+id, msg("sip: REFER sent", "call_id", id))
		done := s.waitLog(5*time.Second, "final NOTIFY for "+id, msg("sip: transfer progress", "call_id", id, "code", "200"))
		out = append(out, done.Time.Sub(refer.Time))
	}
	return out
}

// blindSummary is p50, p95 and max (nearest rank) of ds.
func blindSummary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	v := slices.Clone(ds)
	slices.Sort(v)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[max(i, 0)]
	}
	r := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	return fmt.Sprintf("n=%d p50=%s p95=%s max=%s min=%s", len(v), r(rank(0.50)), r(rank(0.95)), r(v[len(v)-1]), r(v[0]))
}

// TestBlindTransferTiming measures transfer set-up time, REFER sent → final
// NOTIFY received, with SIPp as the transferee (it answers at once: this is
// hotline's own overhead plus SIPp's) and with baresip, which really places
// the call to the agent (a SIPp UAS) before its final NOTIFY. A measurement,
// not a test: it runs only with HOTLINE_BENCH_TRANSFER=N (N calls each; see
// bench/transfer/run.sh and bench/results/transfer.md) and asserts nothing
// about time.
func TestBlindTransferTiming(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HOTLINE_BENCH_TRANSFER"))
	if n <= 0 {
		t.Skip("a measurement: set HOTLINE_BENCH_TRANSFER=N (calls per peer) to run it")
	}
	n = min(n, 200) // bounded
	t.Run("sipp", func(t *testing.T) {
		needRoot(t, "SIPp's pcap play (play_pcap_audio) of the RFC 4733 key")
		s := startServe(t, serveOptions{Script: blindScript(t, "sip:queue@127.0.0.1:5099", "sip:voicemail@127.0.0.1:5099")})
		r := blindSIPp(t, blindSIPpOptions{Scenario: "uac_refer_ok.xml", Target: s.SIPAddr, Calls: n,
			Timeout: time.Duration(n)*10*time.Second + 30*time.Second, Args: []string{"-l", "1", "-r", "5"},
			Vars: map[string]string{"AGENT": regexp.QuoteMeta("sip:queue@127.0.0.1:5099"),
				"DIGIT_PCAP": needFile(t, filepath.Join(sipTesterPcaps, "dtmf_2833_0.pcap"), "sip-tester")}}).wait()
		if r.Code != 0 {
			t.Fatalf("SIPp: some transfers failed\n%s", r.report())
		}
		var ids []string
		for _, l := range s.logs.find(msg("call ended", "outcome", "transferred")) {
			ids = append(ids, l.Str("call_id"))
		}
		if len(ids) != n {
			t.Fatalf("%d calls transferred, want %d", len(ids), n)
		}
		ds := blindSetupTimes(t, s, ids)
		t.Logf("RESULT sipp REFER→final NOTIFY %s", blindSummary(ds))
		t.Logf("samples: %v", ds)
	})
	t.Run("baresip", func(t *testing.T) {
		need(t, "baresip", "baresip")
		agentPort := freePorts(t, 1, false)
		s := startServe(t, serveOptions{Script: blindScript(t, fmt.Sprintf("sip:agent@127.0.0.1:%d", agentPort), "sip:voicemail@127.0.0.1:9")})
		agent := blindSIPp(t, blindSIPpOptions{Scenario: "uas_agent.xml", Port: agentPort, Calls: n,
			Timeout: time.Duration(n)*20*time.Second + 30*time.Second, Vars: map[string]string{"TALK_MS": "1000"}})
		var ids []string
		for range n {
			ids = append(ids, blindTransferViaPhone(t, s))
			if t.Failed() {
				return
			}
		}
		if r := agent.wait(); r.Code != 0 {
			t.Fatalf("the agent (SIPp UAS) did not get every call\n%s", r.report())
		}
		ds := blindSetupTimes(t, s, ids)
		t.Logf("RESULT baresip REFER→final NOTIFY %s", blindSummary(ds))
		t.Logf("samples: %v", ds)
	})
}

// progressSubset reports whether got is want with some "progress 100"
// entries left out (each NOTIFY 100 may lose the race with the final one).
func progressSubset(got, want []string) bool {
	i := 0
	for _, w := range want {
		if i < len(got) && got[i] == w {
			i++
			continue
		}
		if w != "progress 100" {
			return false
		}
	}
	return i == len(got)
}
