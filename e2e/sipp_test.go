package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media"
)

// SIPp as the caller. Every run is bounded (-m, -timeout, and a kill by PID
// beyond that), on ports chosen at run time; the scenarios are in
// testdata/sipp, filled in at run time ({{NAME}} placeholders).

const (
	sipTesterPcaps = "/usr/share/sip-tester" // the pcaps of Debian's sip-tester
	ptime20        = 20 * time.Millisecond
)

var pcma, _ = media.LookupCodec("PCMA")

// TestSIPpCallFlowRFC4733 is a whole call: answered with PCMA and
// telephone-event, the welcome prompt heard (RTP counted and its pacing
// measured at the receiver from a tshark capture), the caller talking, one
// RFC 4733 key routing the flow to "sales", and the bot hanging up at the
// end of the flow with a BYE carrying X-Hotline-Outcome: resolved (checked by
// SIPp). Then hotline's log and its stereo recording are checked.
func TestSIPpCallFlowRFC4733(t *testing.T) {
	t.Parallel()
	needRoot(t, "SIPp's pcap play (play_pcap_audio)")
	speechPcap := needFile(t, filepath.Join(sipTesterPcaps, "g711a.pcap"), "sip-tester")
	digitPcap := needFile(t, filepath.Join(sipTesterPcaps, "dtmf_2833_1.pcap"), "sip-tester")
	want := prompts(t, nil, "welcome", "sales")
	s := startServe(t, serveOptions{})
	capt := startCapture(t, fmt.Sprintf("udp portrange %d-%d or udp port %d", s.RTPMin, s.RTPMax, s.SIPPort))

	// The caller talks for 7 s (longer than the welcome prompt, so the whole
	// prompt plays), then presses 1.
	r := runSIPp(t, sippOptions{Scenario: "uac_flow_rfc4733.xml", Target: s.SIPAddr, Vars: map[string]string{
		"SPEECH_PCAP": speechPcap, "SPEECH_MS": "7200", "DIGIT_PCAP": digitPcap,
		"OUTCOME": "resolved", "BYE_TIMEOUT_MS": "15000",
	}})
	pkts := capt.stop()
	if r.Code != 0 {
		t.Fatalf("SIPp: the call failed (answer, the key, or the BYE with X-Hotline-Outcome: resolved)\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	t.Logf("SIPp: %s", strings.TrimSpace(r.actions()))
	id := r.callID()

	// hotline's side.
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered", "call_id", id))
	if ans.Str("codec") != "PCMA" || ans.Str("dtmf_pt") != "101" {
		t.Errorf("answered with codec %s, telephone-event %s; want PCMA (first offered) and 101:\n%s", ans.Str("codec"), ans.Str("dtmf_pt"), ans.Raw)
	}
	s.waitLog(5*time.Second, "understood welcome/dtmf/1 → sales",
		msg("understood", "call_id", id, "node", "welcome", "input", "dtmf", "text", "1", "intent", "sales", "outcome", "matched"))
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "resolved" || end.Str("path") != "welcome>sales" || end.Str("reason") != "script" {
		t.Errorf("call ended with outcome %q, path %q, reason %q; want resolved, welcome>sales, script:\n%s",
			end.Str("outcome"), end.Str("path"), end.Str("reason"), s.callLog(id))
	}
	callLen := end.Duration("duration")

	// What the caller received: hotline's stream to SIPp's media port.
	var bot []rtpPacket
	for _, p := range rtpFrom(pkts, s.RTPMin, s.RTPMax) {
		if int(p.Dst.Port()) == r.MediaPort && p.PayloadType == 8 {
			bot = append(bot, p)
		}
	}
	p := analysePacing(bot, ptime20, pcma)
	t.Logf("hotline → caller RTP (tshark on lo): %s", p)
	t.Logf("call %s long (hotline's log); prompts welcome+sales: %s of sound in %s", callLen.Round(time.Millisecond), want.Active, want.Length.Round(time.Millisecond))
	t.Logf("tshark -z rtp,streams:\n%s", capt.rtpStreams(s.SIPPort))
	checkPacing(t, p, callLen, ptime20)
	// hotline's own count of what it sent, against what was on the wire.
	closed := s.waitLog(5*time.Second, "media session closed", msg("media session closed", "call_id", id))
	t.Logf("hotline's own count: packets_out %s, packets_in %s, lost %s", closed.Str("packets_out"), closed.Str("packets_in"), closed.Str("lost"))
	if sent, _ := strconv.Atoi(closed.Str("packets_out")); sent < p.Packets || sent > p.Packets+p.Packets/100+1 {
		t.Errorf("hotline says it sent %d RTP packets, the capture has %d", sent, p.Packets)
	}
	if !within(p.Active, want.Active, 0.30) {
		t.Errorf("the caller received %s of sound, want the prompts' %s ±30%%", p.Active, want.Active)
	}

	// The recording: caller left (the pcap's speech), bot right (the prompts).
	rec := s.callRecording(t, id)
	t.Logf("recording %s", rec)
	if !rec.closed() {
		t.Errorf("the recording's header was not fixed up (data size %d, file %d bytes): not closed", rec.DataSize, rec.FileSize)
	}
	if d := rec.Info.Duration - callLen; d < -time.Second || d > time.Second {
		t.Errorf("recording lasts %s, the call %s", rec.Info.Duration, callLen)
	}
	if a := activeTime(rec.Left); a < 3*time.Second {
		t.Errorf("the caller's channel has %s of sound, want most of the 7 s the caller spoke", a)
	}
	if a := activeTime(rec.Right); !within(a, want.Active, 0.30) {
		t.Errorf("the bot's channel has %s of sound, want the prompts' %s ±30%%", a, want.Active)
	}
}

// checkPacing asserts structural properties of an outbound stream only: the
// loopback capture runs on a shared, possibly busy machine.
func checkPacing(t *testing.T, p pacing, callLen, ptime time.Duration) {
	t.Helper()
	if p.Packets == 0 {
		t.Fatal("no RTP from hotline in the capture")
	}
	if p.InTolerance < 0.95 {
		t.Errorf("only %.1f%% of inter-packet gaps within %s±5ms, want ≥ 95%%", 100*p.InTolerance, ptime)
	}
	// A continuous stream (silence between prompts) from answer to hang-up.
	if want := int(callLen / ptime); !within(time.Duration(p.Packets), time.Duration(want), 0.10) {
		t.Errorf("%d packets for a %s call, want %d ±10%%", p.Packets, callLen, want)
	}
	if p.SeqBreaks > p.Packets/100 || p.TSBreaks > p.Packets/100 {
		t.Errorf("%d sequence and %d timestamp discontinuities in %d packets", p.SeqBreaks, p.TSBreaks, p.Packets)
	}
}

// TestSIPpCallerHangsUpMidPrompt: the caller talks for a second and hangs up
// while the welcome prompt plays. The call ends as abandoned, and its
// recording is closed (header fixed up) and plays: both channels.
func TestSIPpCallerHangsUpMidPrompt(t *testing.T) {
	t.Parallel()
	welcome := prompts(t, nil, "welcome")
	s := startServe(t, serveOptions{})
	voice := sineALaw(t, t.TempDir(), 440, time.Second)
	r := runSIPp(t, sippOptions{Scenario: "uac_stream_then_bye.xml", Target: s.SIPAddr,
		Vars: map[string]string{"AUDIO": voice, "HANGUP_MS": "1500"}})
	if r.Code != 0 {
		t.Fatalf("SIPp: the call failed\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	id := r.callID()
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "abandoned" || end.Str("path") != "welcome" {
		t.Errorf("call ended with outcome %q, path %q; want abandoned at welcome:\n%s", end.Str("outcome"), end.Str("path"), s.callLog(id))
	}
	if d := end.Duration("duration"); d < time.Second || d > 3*time.Second {
		t.Errorf("the call lasted %s; the caller hung up after 1.5 s", d)
	}
	rec := s.callRecording(t, id)
	t.Logf("recording %s", rec)
	if !rec.closed() {
		t.Errorf("the recording's header was not fixed up (data size %d, file %d bytes): not closed after the BYE", rec.DataSize, rec.FileSize)
	}
	if d := rec.Info.Duration; d < time.Second || d > 3*time.Second {
		t.Errorf("recording lasts %s; the call about 1.5 s", d)
	}
	if a := activeTime(rec.Left); !within(a, time.Second, 0.30) {
		t.Errorf("the caller's channel has %s of sound, want the 1 s tone ±30%%", a)
	}
	// The prompt was cut: some of it, not all of it.
	if a := activeTime(rec.Right); a < 500*time.Millisecond || a >= welcome.Active {
		t.Errorf("the bot's channel has %s of sound; want part of the welcome prompt (%s)", a, welcome.Active)
	}
}

// TestSIPpCancelBeforeAnswer: a CANCEL that arrives before the answer gets
// 487 (SIPp checks it), and the call never reaches the call runner: no "call
// answered" line, no recording. hotline serve answers at once (it has no
// ringing phase), so a CANCEL sent as soon as the 100 Trying arrives races
// the 200 OK; SIPp places 20 such calls at once so that some CANCELs win.
// The calls whose answer won must go on normally: the CANCEL has no effect,
// the caller's BYE ends them. The test is skipped, with the reason, in the
// unlikely case that no CANCEL won.
func TestSIPpCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	const calls = 20
	// With a ring before the answer, every CANCEL arrives in time.
	s := startServe(t, serveOptions{RTPTimeout: 3 * time.Second, Args: []string{"--ring", "2s"}})
	r := runSIPp(t, sippOptions{Scenario: "uac_cancel.xml", Target: s.SIPAddr, Calls: calls, Timeout: 15 * time.Second,
		Args: []string{"-l", strconv.Itoa(calls), "-r", "200"}})
	if r.Code != 0 {
		t.Fatalf("SIPp: some calls failed\n%s\nhotline:\n%s", r.report(), s.logs.tail(60))
	}
	results := cancelResultRE.FindAllStringSubmatch(r.actions(), -1)
	if len(results) != calls {
		t.Fatalf("%d results for %d calls in SIPp's log:\n%s", len(results), calls, r.actions())
	}
	if h, err := s.waitIdle(10 * time.Second); err != nil {
		t.Errorf("calls left after the CANCELs: %+v %v", h, err)
	}
	won := 0
	for _, m := range results {
		id := m[2]
		handled := len(s.logs.find(msg("call answered", "call_id", id))) > 0 ||
			len(s.logs.find(msg("recording", "call_id", id))) > 0
		switch m[1] {
		case "cancelled":
			won++
			if len(s.logs.find(msg("sip: caller cancelled", "call_id", id))) == 0 || handled {
				t.Errorf("%s: 487, but hotline's log shows the call handled (or not cancelled):\n%s", id, s.callLog(id))
			}
		case "answered":
			if len(s.logs.find(msg("call ended", "call_id", id, "outcome", "abandoned"))) == 0 {
				t.Errorf("%s: answered despite the CANCEL, but did not end as abandoned after the caller's BYE:\n%s", id, s.callLog(id))
			}
		}
	}
	t.Logf("the CANCEL won the race in %d of %d calls", won, calls)
	if files, _ := filepath.Glob(filepath.Join(s.Data, "recordings", "*", "*.wav")); len(files) != calls-won {
		t.Errorf("%d recordings for %d answered calls", len(files), calls-won)
	}
	if won != calls {
		t.Errorf("the CANCEL won only %d of %d calls, although hotline rings for 2 s before answering", won, calls)
	}
}

var cancelResultRE = regexp.MustCompile(`RESULT (cancelled|answered) (\S+)`)

// TestSIPpPCMAOnlyOffer: an offer of PCMA only (telephone-event on payload
// type 96, ptime 30): the answer picks PCMA, keeps 96 and 30 ms (checked by
// SIPp), and the bot's RTP really is PCMA in 30 ms packets (tshark).
func TestSIPpPCMAOnlyOffer(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{})
	capt := startCapture(t, fmt.Sprintf("udp portrange %d-%d", s.RTPMin, s.RTPMax))
	r := runSIPp(t, sippOptions{Scenario: "uac_pcma.xml", Target: s.SIPAddr, Vars: map[string]string{"HANGUP_MS": "1500"}})
	pkts := capt.stop()
	if r.Code != 0 {
		t.Fatalf("SIPp: the answer is not PCMA/96/ptime 30, or the call failed\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	t.Logf("SIPp: %s", strings.TrimSpace(r.actions()))
	id := r.callID()
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered", "call_id", id))
	if ans.Str("codec") != "PCMA" || ans.Str("dtmf_pt") != "96" {
		t.Errorf("answered with %s, telephone-event %s; want PCMA and 96:\n%s", ans.Str("codec"), ans.Str("dtmf_pt"), ans.Raw)
	}
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	var bot []rtpPacket
	sizes := map[int]int{}
	for _, p := range rtpFrom(pkts, s.RTPMin, s.RTPMax) {
		if int(p.Dst.Port()) == r.MediaPort {
			bot = append(bot, p)
			sizes[len(p.Payload)]++
		}
	}
	p := analysePacing(bot, 30*time.Millisecond, pcma)
	t.Logf("hotline → caller RTP: %s; payload sizes %v", p, sizes)
	if len(p.PayloadTypes) != 1 || p.PayloadTypes[8] == 0 {
		t.Errorf("payload types %v, want PCMA (8) only", p.PayloadTypes)
	}
	if sizes[240] < len(bot)*95/100 {
		t.Errorf("payload sizes %v, want 240 bytes (30 ms of PCMA)", sizes)
	}
	checkPacing(t, p, end.Duration("duration"), 30*time.Millisecond)
}

// TestSIPpNoCommonCodec488: G.729 only: 488 with a Warning (checked by
// SIPp); the call never reaches the call runner.
func TestSIPpNoCommonCodec488(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{})
	r := runSIPp(t, sippOptions{Scenario: "uac_488.xml", Target: s.SIPAddr, Timeout: 10 * time.Second})
	if r.Code != 0 {
		t.Fatalf("SIPp: no 488 with a 305 Warning\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	id := r.callID()
	s.waitLog(5*time.Second, "sip: offer refused", msg("sip: offer refused", "call_id", id))
	if l := s.logs.find(msg("call answered")); len(l) > 0 {
		t.Errorf("a refused offer reached the call runner:\n%s", s.callLog(id))
	}
	if files, _ := filepath.Glob(filepath.Join(s.Data, "recordings", "*", "*.wav")); len(files) > 0 {
		t.Errorf("recordings of a refused call: %v", files)
	}
}

// TestSIPpInfoDigits: a key sent as SIP INFO (application/dtmf-relay) while
// the welcome prompt plays interrupts it and routes the flow to "sales"; the
// bot hangs up with X-Hotline-Outcome: resolved.
func TestSIPpInfoDigits(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{})
	r := runSIPp(t, sippOptions{Scenario: "uac_info.xml", Target: s.SIPAddr, Vars: map[string]string{
		"WAIT_MS": "1000", "DIGIT": "1", "OUTCOME": "resolved", "BYE_TIMEOUT_MS": "10000",
	}})
	if r.Code != 0 {
		t.Fatalf("SIPp: INFO not answered 200, or no BYE with X-Hotline-Outcome: resolved\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	t.Logf("SIPp: %s", strings.TrimSpace(r.actions()))
	id := r.callID()
	s.waitLog(5*time.Second, "understood welcome/dtmf/1 → sales",
		msg("understood", "call_id", id, "node", "welcome", "input", "dtmf", "text", "1", "intent", "sales"))
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "resolved" || end.Str("path") != "welcome>sales" {
		t.Errorf("call ended %q at %q; want resolved, welcome>sales:\n%s", end.Str("outcome"), end.Str("path"), s.callLog(id))
	}
}

// TestSIPpAtCapacity503: with --max-calls 1 and one call in progress, the
// next INVITE gets 503 with Retry-After (checked by SIPp); the call in
// progress is not disturbed.
func TestSIPpAtCapacity503(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{MaxCalls: 1})
	voice := sineALaw(t, t.TempDir(), 440, time.Second)
	held := startSIPp(t, sippOptions{Scenario: "uac_stream_then_bye.xml", Target: s.SIPAddr,
		Vars: map[string]string{"AUDIO": voice, "HANGUP_MS": "4000"}})
	s.waitLog(10*time.Second, "call answered (the held call)", msg("call answered"))
	if h, err := s.health(); err != nil || h.ActiveCalls != 1 || h.MaxCalls != 1 {
		t.Errorf("/healthz with one call: %+v %v", h, err)
	}
	r := runSIPp(t, sippOptions{Scenario: "uac_503.xml", Target: s.SIPAddr, Timeout: 10 * time.Second})
	if r.Code != 0 {
		t.Errorf("SIPp: no 503 with Retry-After at capacity\n%s", r.report())
	}
	t.Logf("SIPp: %s", strings.TrimSpace(r.actions()))
	s.waitLog(5*time.Second, "sip: call refused", msg("sip: call refused", "call_id", r.callID()))
	hr := held.wait()
	if hr.Code != 0 {
		t.Errorf("the call in progress failed\n%s", hr.report())
	}
	if n := len(s.logs.find(msg("call answered"))); n != 1 {
		t.Errorf("%d calls answered, want only the held one", n)
	}
}

// TestSIPpInbandDTMF: a gateway without telephone-event: the offer is PCMA
// only, the answer has no telephone-event, and the key is a DTMF tone in the
// audio (made with sox), played by SIPp's rtp_stream while the welcome prompt
// plays. hotline's in-band detector hears it and the flow goes to "sales".
func TestSIPpInbandDTMF(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOptions{})
	tones := inbandDigitALaw(t, t.TempDir(), '1', 500*time.Millisecond, 200*time.Millisecond, 500*time.Millisecond)
	r := runSIPp(t, sippOptions{Scenario: "uac_inband.xml", Target: s.SIPAddr, Vars: map[string]string{
		"TONES": tones, "WAIT_MS": "500", "OUTCOME": "resolved", "BYE_TIMEOUT_MS": "15000",
	}})
	if r.Code != 0 {
		t.Fatalf("SIPp: answer with telephone-event, or no BYE with X-Hotline-Outcome: resolved (the tone was not understood?)\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	t.Logf("SIPp: %s", strings.TrimSpace(r.actions()))
	id := r.callID()
	ans := s.waitLog(5*time.Second, "call answered", msg("call answered", "call_id", id))
	if ans.Str("dtmf_pt") != "0" || ans.Str("codec") != "PCMA" {
		t.Errorf("answered %s with telephone-event %s; want PCMA, none:\n%s", ans.Str("codec"), ans.Str("dtmf_pt"), ans.Raw)
	}
	s.waitLog(5*time.Second, "understood welcome/dtmf/1 → sales",
		msg("understood", "call_id", id, "node", "welcome", "input", "dtmf", "text", "1", "intent", "sales"))
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "resolved" || end.Str("path") != "welcome>sales" {
		t.Errorf("call ended %q at %q; want resolved, welcome>sales:\n%s", end.Str("outcome"), end.Str("path"), s.callLog(id))
	}
	rec := s.callRecording(t, id)
	t.Logf("recording %s", rec)
	if a := activeTime(rec.Left); a < 100*time.Millisecond || a > 400*time.Millisecond {
		t.Errorf("the caller's channel has %s of sound, want the 200 ms tone", a)
	}
}

// TestSIPpRTPTimeout: the caller sends a second of audio, then nothing, and
// no BYE. With --rtp-timeout 3s hotline ends the call with a BYE (outcome
// abandoned, checked by SIPp, which answers it) 3 to 4 s after the last
// packet it received (measured in a tshark capture).
func TestSIPpRTPTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 3 * time.Second
	s := startServe(t, serveOptions{RTPTimeout: timeout})
	voice := sineALaw(t, t.TempDir(), 440, time.Second)
	capt := startCapture(t, fmt.Sprintf("udp portrange %d-%d or udp port %d", s.RTPMin, s.RTPMax, s.SIPPort))
	r := runSIPp(t, sippOptions{Scenario: "uac_rtp_stop.xml", Target: s.SIPAddr, Vars: map[string]string{
		"AUDIO": voice, "OUTCOME": "abandoned", "BYE_TIMEOUT_MS": strconv.Itoa(int((timeout + 5*time.Second).Milliseconds())),
	}})
	pkts := capt.stop()
	if r.Code != 0 {
		t.Fatalf("SIPp: no BYE with X-Hotline-Outcome: abandoned after the media stopped\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	id := r.callID()
	s.waitLog(5*time.Second, "no RTP from the caller", msg("no RTP from the caller: ending the call", "call_id", id))
	end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", id))
	if end.Str("outcome") != "abandoned" || end.Str("reason") != "rtp timeout" {
		t.Errorf("call ended %q (%s); want abandoned (rtp timeout):\n%s", end.Str("outcome"), end.Str("reason"), s.callLog(id))
	}
	// From the wire: the caller's last RTP packet, then hotline's BYE.
	var last time.Time
	n := 0
	for _, p := range pkts {
		if int(p.Src.Port()) == r.MediaPort && int(p.Dst.Port()) >= s.RTPMin && int(p.Dst.Port()) <= s.RTPMax {
			last, n = p.At, n+1
		}
	}
	var bye time.Time
	for _, p := range sipFrom(pkts, s.SIPPort) {
		if strings.HasPrefix(string(p.Payload), "BYE ") {
			bye = p.At
			break
		}
	}
	if n == 0 || bye.IsZero() {
		t.Fatalf("capture: %d caller RTP packets, BYE at %v", n, bye)
	}
	gap := bye.Sub(last)
	t.Logf("caller sent %d RTP packets; hotline's BYE came %s after the last one (--rtp-timeout %s)", n, gap.Round(time.Millisecond), timeout)
	if gap < timeout-100*time.Millisecond || gap > timeout+time.Second {
		t.Errorf("BYE %s after the last RTP packet; want within %s + 1 s", gap, timeout)
	}
}
