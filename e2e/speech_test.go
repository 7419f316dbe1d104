package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/speech"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/wav"
)

// Spoken callers: espeak-ng speaks as the caller (`hotline call --say`) into
// live calls answered by `hotline serve` with a real recogniser, the RTP is
// captured on lo, and the tests read hotline's JSON log for what it heard,
// what it understood and when.

// demoScript is the built-in English demo hotline (the one `hotline serve`
// embeds).
const demoScript = "../examples/en-utility/script.yaml"

// spokenPhrase is one line of testdata/speech/phrases.yaml.
type spokenPhrase struct {
	Intent  string `yaml:"intent"`
	Keyword string `yaml:"keyword"` // the script's keyword the text reaches Intent by
	Say     string `yaml:"say"`
}

func loadPhrases(t *testing.T) []spokenPhrase {
	t.Helper()
	b, err := os.ReadFile("testdata/speech/phrases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ps []spokenPhrase
	if err := yaml.Unmarshal(b, &ps); err != nil {
		t.Fatalf("testdata/speech/phrases.yaml: %v", err)
	}
	return ps
}

// needPocketsphinx skips (or fails under CI) when hotline was built without
// the pocketsphinx recogniser.
func needPocketsphinx(t *testing.T) {
	t.Helper()
	if !hasTag("pocketsphinx") {
		why := "hotline was built without the build tag pocketsphinx (set HOTLINE_TAGS=pocketsphinx, needs libpocketsphinx-dev and pocketsphinx-en-us)"
		if buildNote != "" {
			why = buildNote
		}
		missing(t, "%s", why)
	}
}

// needRecognizerReady waits for the line a recogniser logs when serve has
// loaded it: a serve that runs without one cannot pass these tests, so
// they skip (fail under CI) saying what is missing.
func (s *server) needRecognizerReady(t *testing.T, match func(logLine) bool, what string) {
	t.Helper()
	if _, ok := s.logs.waitFor(3*time.Second, match); !ok {
		missing(t, "hotline serve logged no %q line at start-up: serve does not run the recogniser yet (its log:\n%s)", what, s.logs.tail(30))
	}
}

// ---------------------------------------------------------------------------
// A caller driven through --stdin

// liveCaller is a running `hotline call --stdin`.
type liveCaller struct {
	Name  string // the user part of its From: hotline logs it as caller
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *logStore
	done  chan struct{}
	code  int
}

// startCaller starts `hotline call --stdin` as sip:NAME@127.0.0.1 with more
// flags (--say "TEXT@1s" …). It is bounded by --duration and, beyond it, by
// a hard time limit that kills its PID; the cleanup hangs up and waits.
func startCaller(t *testing.T, s *server, name string, args ...string) *liveCaller {
	t.Helper()
	argv := append([]string{"call", s.URI, "--stdin", "--from", "sip:" + name + "@127.0.0.1",
		"--listen", fmt.Sprintf("udp:127.0.0.1:%d", freePorts(t, 1, false)), "--duration", "60s"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	c := &liveCaller{Name: name, out: newLogStore(), done: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, hotlineBin, argv...) // killed by PID at the limit
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("hotline call: %v", err)
	}
	go c.out.consume(pr)
	go func() {
		err := c.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			c.code = ee.ExitCode()
		case err != nil:
			c.code = -1
		}
		pw.Close()
		cancel()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.bye()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// send writes one command line to the caller ("bye", "1", "say TEXT").
func (c *liveCaller) send(line string) {
	_, _ = io.WriteString(c.stdin, line+"\n")
}

// bye hangs up (if the call still runs).
func (c *liveCaller) bye() {
	select {
	case <-c.done:
	default:
		c.send("bye")
	}
}

// wait waits for the caller's exit; it returns its exit status (-1: it did
// not end in time and was killed).
func (c *liveCaller) wait(timeout time.Duration) int {
	select {
	case <-c.done:
		c.out.wait(time.Second)
		return c.code
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return -1
	}
}

var remoteRE = regexp.MustCompile(`answered: .* remote=[0-9.]+:(\d+)`)

// remotePort is hotline's RTP port of the call, from the caller's output
// (0 when it does not say within a few seconds).
func (c *liveCaller) remotePort() int {
	l, ok := c.out.waitFor(5*time.Second, func(l logLine) bool { return remoteRE.MatchString(l.Raw) })
	if !ok {
		return 0
	}
	p, _ := strconv.Atoi(remoteRE.FindStringSubmatch(l.Raw)[1])
	return p
}

// callID waits for hotline's "call answered" of this caller and returns the
// call's ID ("" when it did not come).
func (c *liveCaller) callID(s *server, timeout time.Duration) string {
	l, ok := s.logs.waitFor(timeout, func(l logLine) bool {
		return l.Msg() == "call answered" && l.Str("caller") == c.Name
	})
	if !ok {
		return ""
	}
	return l.Str("call_id")
}

// spokenUnderstood matches the call's first "understood" of something said
// (not keys).
func spokenUnderstood(callID string) func(logLine) bool {
	return func(l logLine) bool {
		return l.Msg() == "understood" && l.Str("call_id") == callID && l.Str("input") != "dtmf" && l.Str("input") != ""
	}
}

// ---------------------------------------------------------------------------
// The wire: what each side sent, frame by frame

// wireFrame is one captured RTP audio packet, decoded.
type wireFrame struct {
	At   time.Time
	Loud bool // above activeThreshold
}

// wireCall is one call's two audio streams as captured on lo.
type wireCall struct {
	Caller, Bot []wireFrame // caller → hotline, hotline → caller
}

// wireStreams splits a capture into the two audio directions of the call
// whose hotline RTP port is port (RFC 4733 events and RTCP left out).
func wireStreams(pkts []udpPacket, port int) wireCall {
	var w wireCall
	pcmu, _ := media.LookupCodec("PCMU")
	pcma, _ := media.LookupCodec("PCMA")
	for _, p := range rtpFrom(pkts, 0, 65535) {
		var codec media.Codec
		switch p.PayloadType {
		case 0:
			codec = pcmu
		case 8:
			codec = pcma
		default:
			continue
		}
		f := wireFrame{At: p.At, Loud: rms(codec.Decode(nil, p.Payload)) > activeThreshold}
		switch {
		case int(p.Dst.Port()) == port:
			w.Caller = append(w.Caller, f)
		case int(p.Src.Port()) == port:
			w.Bot = append(w.Bot, f)
		}
	}
	return w
}

// firstLoud is the first loud frame at or after from (zero time: none).
func firstLoud(fs []wireFrame, from time.Time) time.Time {
	for _, f := range fs {
		if f.Loud && !f.At.Before(from) {
			return f.At
		}
	}
	return time.Time{}
}

// lastLoudBefore is the last loud frame before until, after from.
func lastLoudBefore(fs []wireFrame, from, until time.Time) time.Time {
	var last time.Time
	for _, f := range fs {
		if f.Loud && !f.At.Before(from) && f.At.Before(until) {
			last = f.At
		}
	}
	return last
}

// loudTime is the sound in [from, until): loud frames × 20 ms.
func loudTime(fs []wireFrame, from, until time.Time) time.Duration {
	n := 0
	for _, f := range fs {
		if f.Loud && !f.At.Before(from) && f.At.Before(until) {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// turnOnWire is one spoken turn as the wire shows it.
type turnOnWire struct {
	Onset     time.Time     // the caller's first loud packet
	SpeechEnd time.Time     // the caller's last loud packet (+20 ms: its end)
	Reply     time.Time     // hotline's first loud packet after SpeechEnd
	PromptEnd time.Time     // hotline's first packet after its last loud one before Reply (the prompt stopped or ended)
	Total     time.Duration // SpeechEnd → Reply
	BargeIn   time.Duration // Onset → PromptEnd (negative: the prompt had already ended)
}

// oneTurn reads the caller's only utterance and hotline's answer to it.
func oneTurn(w wireCall) (turnOnWire, bool) {
	var tw turnOnWire
	if tw.Onset = firstLoud(w.Caller, time.Time{}); tw.Onset.IsZero() {
		return tw, false
	}
	last := lastLoudBefore(w.Caller, tw.Onset, time.Now().Add(time.Hour))
	tw.SpeechEnd = last.Add(20 * time.Millisecond)
	if tw.Reply = firstLoud(w.Bot, tw.SpeechEnd); tw.Reply.IsZero() {
		return tw, false
	}
	tw.Total = tw.Reply.Sub(tw.SpeechEnd)
	if lp := lastLoudBefore(w.Bot, time.Time{}, tw.Reply.Add(-time.Millisecond)); !lp.IsZero() {
		tw.PromptEnd = lp.Add(20 * time.Millisecond)
		tw.BargeIn = tw.PromptEnd.Sub(tw.Onset)
	}
	return tw, true
}

// ---------------------------------------------------------------------------
// Word error rate

var contractions = strings.NewReplacer("i've", "i have", "i'm", "i am", "i'd", "i would", "there's", "there is",
	"you've", "you have", "we're", "we are", "it's", "it is", "can't", "can not", "cannot", "can not",
	"don't", "do not", "what's", "what is", "we've", "we have")

// words normalises a text for the word error rate: lower case, punctuation
// out, common contractions written out.
func words(s string) []string {
	s = contractions.Replace(strings.ToLower(s))
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	})
}

// ---------------------------------------------------------------------------
// Per-utterance timings from hotline's log

// utteranceTimes are the stages of one spoken turn as the call runner logs
// them, from the last voiced frame of the caller.
type utteranceTimes struct {
	Endpoint    time.Duration // last voiced frame → VAD end of utterance
	Recognition time.Duration // VAD end → the recogniser's result
	Rest        time.Duration // result → first RTP packet of the reply
	Total       time.Duration
	Audio       time.Duration // the utterance: speech start → speech end
	Line        string        // the log line they came from
}

// callTimings reads the call's first spoken turn from the call runner's
// lines: "speech reply" (end_of_speech_to_reply split into endpointing,
// recognition and rest, logged when the reply's first packet went out) and
// "heard" (the utterance's length as "speech").
func callTimings(s *server, callID string) (utteranceTimes, bool) {
	var ut utteranceTimes
	for _, l := range s.logs.find(msg("heard", "call_id", callID)) {
		ut.Audio = l.Duration("speech")
		break
	}
	for _, l := range s.logs.find(msg("speech reply", "call_id", callID)) {
		ut.Total = l.Duration("end_of_speech_to_reply")
		ut.Endpoint = l.Duration("endpointing")
		ut.Recognition = l.Duration("recognition")
		ut.Rest = l.Duration("rest")
		ut.Line = l.Raw
		return ut, true
	}
	return ut, false
}

// quantiles gives p50 and p99 (nearest rank) of ds.
func quantiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(f float64) time.Duration { return s[max(0, int(math.Ceil(f*float64(len(s))))-1)] }
	return q(0.50), q(0.99)
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + " ms" }

// ---------------------------------------------------------------------------
// Process CPU

// processCPU is the user+system CPU a process has used so far (Linux).
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)                 // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64)                 // field 15
	return time.Duration(utime+stime) * time.Second / 100, true // USER_HZ is 100 on Linux
}

// ---------------------------------------------------------------------------
// TestSpokenCalls

// spokenMinCorrect is how many of the 29 phrases must reach their intent.
// Measured (bench/speech/results.md): 20 of 29 with pocketsphinx's hybrid
// search (the node's phrases as a trigram model and as a grammar) on
// espeak-ng's voice on a quiet machine; 18 with the grammar alone, which
// fell to 13 under CI's full parallel load (the utterances' cut points and
// the pooled decoders' adaptation move with the timing). The floor leaves
// room for that. This guards the pipeline (audio → VAD → recogniser →
// matcher → reply) and catches regressions; it is not the bar
// (every phrase right), which this recogniser does not reach on espeak-ng's
// synthetic voice (it mishears it even on clean wideband audio; voices made
// from recordings of people do far better: bench/asr/README.md).
const spokenMinCorrect = 10

// spokenMinCorrectFlite is the same floor for flite's rms voice, which the
// recogniser hears far better (28 of the 29 phrases offline, bench/asr).
const spokenMinCorrectFlite = 24

// spokenParallel is how many spoken calls run at once; serve gets as many
// recogniser workers, so no utterance is refused as "busy".
const spokenParallel = 4

// spokenResult is the outcome of one phrase.
type spokenResult struct {
	spokenPhrase
	CallID     string
	Got        string // the intent hotline understood ("" none)
	Heard      string // what the recogniser heard
	Tier       string
	Errors     int // word edits
	RefWords   int
	Wire       turnOnWire
	WireOK     bool
	Times      utteranceTimes
	TimesOK    bool
	Problem    string
	callerPort int
}

// TestSpokenCalls speaks every phrase of testdata/speech/phrases.yaml into
// its own call to the built-in English demo, answered with pocketsphinx:
// the caller talks over the welcome 1 s after the answer (barge-in is on in
// the demo), hangs up as soon as hotline logs what it understood, and the
// intent must be the phrase's. It reports per phrase what was heard, the
// intent accuracy, the word error rate, and the latency from the end of
// speech to the reply, on the wire and split into stages from hotline's log.
func TestSpokenCalls(t *testing.T) {
	t.Parallel()
	needPocketsphinx(t)
	// One voice after the other: both at once would share the decoders.
	t.Run("espeak-ng", func(t *testing.T) { spokenCalls(t, espeakVoice{}, spokenMinCorrect) })
	t.Run("flite", func(t *testing.T) {
		need(t, "flite", "flite")
		spokenCalls(t, fliteVoice{dir: t.TempDir(), voice: "rms"}, spokenMinCorrectFlite)
	})
}

// spokenVoice is how a caller of TestSpokenCalls speaks.
type spokenVoice interface {
	// args are `hotline call`'s arguments that say the phrase 1 s after
	// the answer.
	args(t *testing.T, p spokenPhrase) []string
	// active is how long the phrase is loud.
	active(t *testing.T, p spokenPhrase) time.Duration
}

// espeakVoice: `hotline call --say`, espeak-ng's en-us voice.
type espeakVoice struct{}

func (espeakVoice) args(_ *testing.T, p spokenPhrase) []string {
	return []string{"--say", p.Say + "@1s"}
}
func (espeakVoice) active(t *testing.T, p spokenPhrase) time.Duration {
	return speak(t, "en-US", p.Say).Active
}

// fliteVoice: flite's voice (made from recordings of a person) as an 8 kHz
// WAV that `hotline call --play` sends.
type fliteVoice struct{ dir, voice string }

func (v fliteVoice) wav(t *testing.T, p spokenPhrase) string {
	t.Helper()
	sum := sha256.Sum256([]byte(p.Say))
	out := filepath.Join(v.dir, hex.EncodeToString(sum[:6])+".wav")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	raw := out + ".flite.wav"
	if b, err := exec.Command("flite", "-voice", v.voice, "-t", p.Say, "-o", raw).CombinedOutput(); err != nil {
		t.Fatalf("flite %q: %v: %s", p.Say, err, b)
	}
	if b, err := exec.Command("sox", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out).CombinedOutput(); err != nil {
		t.Fatalf("sox %s: %v: %s", raw, err, b)
	}
	return out
}

func (v fliteVoice) args(t *testing.T, p spokenPhrase) []string {
	return []string{"--play", v.wav(t, p) + "@1s"}
}

func (v fliteVoice) active(t *testing.T, p spokenPhrase) time.Duration {
	pcm, _, err := wav.ReadFile(v.wav(t, p))
	if err != nil {
		t.Fatal(err)
	}
	return activeTime(pcm)
}

func spokenCalls(t *testing.T, voice spokenVoice, minCorrect int) {
	all := loadPhrases(t)
	phrases := all
	if only := os.Getenv("HOTLINE_SPEECH_ONLY"); only != "" {
		// A regular expression: only the phrases it finds (for a quick look).
		re, err := regexp.Compile(only)
		if err != nil {
			t.Fatalf("HOTLINE_SPEECH_ONLY: %v", err)
		}
		phrases = slices.DeleteFunc(slices.Clone(all), func(p spokenPhrase) bool { return !re.MatchString(p.Say) })
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hotline.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("asr: {backend: pocketsphinx, max_in_flight: %d}\n", spokenParallel)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, serveOptions{Script: demoScript, MaxCalls: 2 * spokenParallel, Args: []string{"--config", cfg, "--asr", "pocketsphinx"}})
	s.needRecognizerReady(t, msg("pocketsphinx ready"), "pocketsphinx ready")
	var capt *capture
	if os.Geteuid() == 0 && lookPath("tshark") {
		capt = startCapture(t, fmt.Sprintf("udp portrange %d-%d", s.RTPMin, s.RTPMax))
	} else {
		t.Log("no tshark or not root: the latency on the wire is not measured")
	}
	cpu0, cpuOK := processCPU(s.cmd.Process.Pid)
	began := time.Now()

	results := make([]spokenResult, len(phrases))
	sem := make(chan struct{}, spokenParallel)
	var wg sync.WaitGroup
	for i, p := range phrases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = spokenCall(t, s, i, p, voice)
		}()
		time.Sleep(700 * time.Millisecond) // staggered: the utterances overlap less
	}
	wg.Wait()
	wall := time.Since(began)
	cpu1, _ := processCPU(s.cmd.Process.Pid)

	if capt != nil {
		pkts := capt.stop()
		for i := range results {
			if results[i].callerPort != 0 {
				results[i].Wire, results[i].WireOK = oneTurn(wireStreams(pkts, results[i].callerPort))
			}
		}
	}
	for i := range results {
		if results[i].CallID != "" {
			results[i].Times, results[i].TimesOK = callTimings(s, results[i].CallID)
		}
	}
	report := spokenReport(results)
	if cpuOK {
		var audio time.Duration
		for _, r := range results {
			audio += voice.active(t, r.spokenPhrase)
		}
		report += fmt.Sprintf("\nhotline serve CPU over the run: %s in %s wall for %s of caller speech (%.3f s CPU per second of speech, everything included: SIP, media, TTS, recogniser%s)\n",
			(cpu1 - cpu0).Round(10*time.Millisecond), wall.Round(100*time.Millisecond), audio.Round(10*time.Millisecond),
			(cpu1-cpu0).Seconds()/audio.Seconds(), map[bool]string{true: ", -race", false: ""}[raceEnabled])
	}
	t.Log(report)
	if out := os.Getenv("HOTLINE_SPEECH_REPORT"); out != "" {
		if _, ok := voice.(espeakVoice); !ok {
			out = strings.TrimSuffix(out, ".md") + "-" + path.Base(t.Name()) + ".md"
		}
		// bench/speech/run.sh collects the numbers from here.
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Errorf("HOTLINE_SPEECH_REPORT: %v", err)
		}
	}
	var misses []string
	correct := 0
	for _, r := range results {
		if r.Got == r.Intent {
			correct++
			continue
		}
		misses = append(misses, fmt.Sprintf("%q: want %s, got %q (heard %q) %s", r.Say, r.Intent, r.Got, r.Heard, r.Problem))
	}
	if need := minCorrect * len(results) / len(all); correct < need {
		t.Errorf("%d of %d phrases reached their intent, want at least %d; misses:\n%s", correct, len(results), need, strings.Join(misses, "\n"))
	}
}

func lookPath(tool string) bool {
	_, err := exec.LookPath(tool)
	return err == nil
}

// spokenCall places the call of one phrase.
func spokenCall(t *testing.T, s *server, i int, p spokenPhrase, voice spokenVoice) spokenResult {
	r := spokenResult{spokenPhrase: p, RefWords: len(words(p.Say))}
	c := startCaller(t, s, fmt.Sprintf("spoken%02d", i), voice.args(t, p)...)
	defer func() {
		c.bye()
		if code := c.wait(15 * time.Second); code != 0 && code != 1 {
			r.Problem += fmt.Sprintf(" [hotline call exit %d]", code)
		}
	}()
	if r.CallID = c.callID(s, 20*time.Second); r.CallID == "" {
		r.Problem = "no call answered: " + c.out.text()
		return r
	}
	r.callerPort = c.remotePort()
	understood := spokenUnderstood(r.CallID)
	// The first of: understood; heard nothing (no words: the question
	// stays open); the recogniser failed (the call went to the keypad).
	l, ok := s.logs.waitFor(30*time.Second, func(l logLine) bool {
		return understood(l) || l.Str("call_id") == r.CallID &&
			(l.Msg() == "heard" && l.Str("text") == "" || strings.HasPrefix(l.Msg(), "speech recognition failed"))
	})
	if !ok || l.Msg() != "understood" {
		switch {
		case !ok:
			r.Problem = "nothing understood within 30 s"
		case l.Msg() == "heard":
			r.Problem = "no words recognised"
		default:
			r.Problem = fmt.Sprintf("the recogniser failed (%s: %s)", l.Str("reason"), l.Str("err"))
		}
		r.Errors = r.RefWords
		return r
	}
	r.Got, r.Heard, r.Tier = l.Str("intent"), l.Str("text"), l.Str("tier")
	if h, ok := s.logs.waitFor(time.Second, func(l logLine) bool {
		return l.Msg() == "heard" && l.Str("call_id") == r.CallID
	}); ok && h.Str("text") != "" {
		r.Heard = h.Str("text")
	}
	r.Errors = speech.EditDistance(words(p.Say), words(r.Heard))
	// Let the reply start (its first packets are what the latency ends
	// with), then hang up.
	if _, ok := s.logs.waitFor(5*time.Second, msg("speech reply", "call_id", r.CallID)); !ok {
		r.Problem += " [no \"speech reply\" line within 5 s]"
	}
	time.Sleep(300 * time.Millisecond)
	return r
}

// spokenReport is the per-phrase table and the totals.
func spokenReport(rs []spokenResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| # | phrase | want | got | heard | word errors | end of speech → reply (wire) | onset → prompt stopped (wire) |\n|---|---|---|---|---|---|---|---|\n")
	correct, errs, ref, keywords := 0, 0, 0, 0
	var total, endp, recog, rest, wireTotal, barge []time.Duration
	var audio time.Duration
	for i, r := range rs {
		mark := "✗"
		if r.Got == r.Intent {
			correct++
			mark = "✓"
		}
		errs += r.Errors
		ref += r.RefWords
		if r.Keyword != "" && strings.Contains(" "+strings.Join(words(r.Heard), " ")+" ", " "+strings.Join(words(r.Keyword), " ")+" ") {
			keywords++
		}
		wire, stop := "–", "–"
		if r.WireOK {
			wire = ms(r.Wire.Total)
			wireTotal = append(wireTotal, r.Wire.Total)
			if r.Wire.BargeIn > 0 {
				barge = append(barge, r.Wire.BargeIn)
				stop = ms(r.Wire.BargeIn)
			} else {
				stop = "(in a pause)"
			}
		}
		heard := r.Heard
		if heard == "" && r.Problem != "" {
			heard = "(" + r.Problem + ")"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s %s | %s | %d/%d | %s | %s |\n", i+1, r.Say, r.Intent, mark, r.Got, heard, r.Errors, r.RefWords, wire, stop)
		if r.TimesOK {
			total = append(total, r.Times.Total)
			endp = append(endp, r.Times.Endpoint)
			recog = append(recog, r.Times.Recognition)
			rest = append(rest, r.Times.Rest)
			audio += r.Times.Audio
		}
	}
	fmt.Fprintf(&b, "\nintent accuracy: %d/%d (%.1f%%); word error rate: %d/%d = %.1f%%; the phrase's keyword heard: %d/%d\n",
		correct, len(rs), 100*float64(correct)/float64(max(1, len(rs))), errs, ref, 100*float64(errs)/float64(max(1, ref)), keywords, len(rs))
	line := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			fmt.Fprintf(&b, "%-46s not measured\n", name+":")
			return
		}
		p50, p99 := quantiles(ds)
		fmt.Fprintf(&b, "%-46s p50 %s, p99 %s (n=%d)\n", name+":", ms(p50), ms(p99), len(ds))
	}
	line("end of speech → first loud reply packet (wire)", wireTotal)
	line("caller onset → prompt stopped (wire)", barge)
	line("endpointing (hotline's log)", endp)
	line("recognition (hotline's log)", recog)
	line("rest: result → first reply RTP (log)", rest)
	line("total (hotline's log)", total)
	if audio > 0 {
		fmt.Fprintf(&b, "caller speech as hotline's detector saw it: %s in %d utterances\n", audio.Round(10*time.Millisecond), len(total))
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// TestBargeInOnTheWire

// TestBargeInOnTheWire: a caller starts talking 1 s into a long prompt.
// With barge-in on (testdata/speech/bargein.yaml) the prompt stops: the
// test measures, in the RTP captured on lo, from the caller's first loud
// packet to hotline's first packet without prompt audio (the bar is
// 60 ms: logged, not asserted), and the utterance is understood from its
// first word. With barge-in off (bargein-off.yaml, the same hotline) the
// prompt plays to its end: the sound hotline sent ≈ the synthesised prompt.
func TestBargeInOnTheWire(t *testing.T) {
	t.Parallel()
	needPocketsphinx(t)
	need(t, "tshark", "tshark")
	needRoot(t, "capturing on lo with tshark")
	var sf scriptFile
	b, err := os.ReadFile("testdata/speech/bargein.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &sf); err != nil {
		t.Fatal(err)
	}
	prompt := speak(t, sf.Language, sf.Nodes["welcome"].Say)
	const phrase = "my balance please"
	for _, mode := range []string{"on", "off"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			script := "testdata/speech/bargein.yaml"
			if mode == "off" {
				script = "testdata/speech/bargein-off.yaml"
			}
			s := startServe(t, serveOptions{Script: script, Args: []string{"--asr", "pocketsphinx"}})
			s.needRecognizerReady(t, msg("pocketsphinx ready"), "pocketsphinx ready")
			capt := startCapture(t, fmt.Sprintf("udp portrange %d-%d", s.RTPMin, s.RTPMax))
			c := startCaller(t, s, "barge"+mode, "--say", phrase+"@1s")
			id := c.callID(s, 20*time.Second)
			if id == "" {
				t.Fatalf("no call answered:\n%s", c.out.text())
			}
			port := c.remotePort()
			wantOutcome := "resolved"
			if mode == "on" {
				// Recognition itself is TestSpokenCalls' business: a miss
				// here only changes how the call ends.
				l := s.waitLog(30*time.Second, "understood (speech)", spokenUnderstood(id))
				t.Logf("the interruption %q: heard %q, understood %q", phrase, l.Str("text"), l.Str("intent"))
				if l.Str("intent") != "balance" {
					wantOutcome = "" // a miss sends the call elsewhere: its end is not this test's business
				}
			} else {
				// The prompt plays to its end; then the key finishes the call.
				time.Sleep(prompt.Length + time.Second)
				c.send("1")
			}
			end := s.waitLog(40*time.Second, "call ended", msg("call ended", "call_id", id))
			code := c.wait(15 * time.Second)
			pkts := capt.stop()
			t.Logf("hotline call (exit %d):\n%s", code, c.out.text())
			if wantOutcome != "" && end.Str("outcome") != wantOutcome {
				t.Errorf("the call ended %q (path %s), want %s; its log:\n%s", end.Str("outcome"), end.Str("path"), wantOutcome, s.callLog(id))
			}
			w := wireStreams(pkts, port)
			onset := firstLoud(w.Caller, time.Time{})
			if onset.IsZero() || len(w.Bot) == 0 {
				t.Fatalf("the capture has no caller speech or no bot audio (port %d, %d packets)", port, len(pkts))
			}
			botStart := firstLoud(w.Bot, time.Time{})
			// The end of the first prompt: hotline's last loud packet before
			// a silence of 500 ms or more (the reply, or the wait for a key).
			promptEnd := time.Time{}
			for i, f := range w.Bot {
				if !f.Loud || f.At.Before(botStart) {
					continue
				}
				quiet := true
				for _, g := range w.Bot[i+1:] {
					if g.At.Sub(f.At) > 500*time.Millisecond {
						break
					}
					if g.Loud {
						quiet = false
						break
					}
				}
				if quiet {
					promptEnd = f.At.Add(20 * time.Millisecond)
					break
				}
			}
			sent := loudTime(w.Bot, botStart, promptEnd)
			callerLead := onset.Sub(botStart)
			t.Logf("prompt %q: synthesised %s (%s of sound); on the wire hotline's prompt sound %s from %s, the caller's speech from %s after the prompt's start",
				sf.Nodes["welcome"].Say[:40]+"…", prompt.Length.Round(10*time.Millisecond), prompt.Active, sent,
				botStart.Format("15:04:05.000"), callerLead.Round(time.Millisecond))
			switch mode {
			case "on":
				stop := promptEnd.Sub(onset)
				t.Logf("barge-in on the wire: caller's first loud packet → hotline's first packet without prompt sound: %s (the issue's bar: 60 ms)", ms(stop))
				if l, ok := s.logs.waitFor(time.Second, func(l logLine) bool {
					return l.Str("call_id") == id && strings.Contains(strings.ToLower(l.Msg()), "barge")
				}); ok {
					t.Logf("hotline's log: %s", l.Raw)
				}
				// The recogniser got the utterance from its start: the audio
				// of "speech started" (pre-roll and speech, ending when it
				// was logged) begins before the caller's first loud packet.
				if st, ok := s.logs.waitFor(time.Second, msg("speech started", "call_id", id)); ok {
					from := st.Time.Add(-st.Duration("pre_roll_and_speech"))
					t.Logf("the recogniser's audio starts %s before the caller's first loud packet (pre-roll and speech %s at \"speech started\")",
						onset.Sub(from).Round(time.Millisecond), st.Duration("pre_roll_and_speech"))
					if from.After(onset.Add(20 * time.Millisecond)) {
						t.Errorf("the utterance given to the recogniser starts %s after the caller's first loud packet: its first syllable is cut", from.Sub(onset).Round(time.Millisecond))
					}
				} else {
					t.Errorf("no \"speech started\" line for the call: %s", s.callLog(id))
				}
				if sent > prompt.Active/2 {
					t.Errorf("hotline sent %s of the prompt's %s of sound: barge-in did not stop it", sent, prompt.Active)
				}
				if stop < 0 {
					t.Errorf("the prompt ended %s before the caller spoke: nothing was interrupted (a capture or script problem)", -stop)
				}
			case "off":
				t.Logf("barge-in off: hotline sent %s of prompt sound, the synthesised prompt has %s; the prompt went on %s after the caller began", sent, prompt.Active, promptEnd.Sub(onset).Round(time.Millisecond))
				if !within(sent, prompt.Active, 0.15) {
					t.Errorf("hotline sent %s of prompt sound, want the whole prompt: %s ± 15%%", sent, prompt.Active)
				}
				for _, l := range s.logs.find(spokenUnderstood(id)) {
					t.Errorf("speech during a prompt without barge-in was used: %s", l.Raw)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// TestRecognizerFailsMidCall

// transcriptionServer is a small server of the OpenAI transcription API
// (POST …/audio/transcriptions, multipart with a WAV file, JSON out). It
// answers the first request with First and then stops answering: later
// requests hang until the client gives up (or the test ends).
type transcriptionServer struct {
	*httptest.Server
	First    string
	requests atomic.Int32
	mu       sync.Mutex
	problems []string
	received []string // what each request carried, for the log
	stop     chan struct{}
}

func newTranscriptionServer(t *testing.T, first string) *transcriptionServer {
	ts := &transcriptionServer{First: first, stop: make(chan struct{})}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(func() {
		close(ts.stop) // the hanging handlers return
		ts.Close()
	})
	return ts
}

func (ts *transcriptionServer) problem(format string, args ...any) {
	ts.mu.Lock()
	ts.problems = append(ts.problems, fmt.Sprintf(format, args...))
	ts.mu.Unlock()
}

func (ts *transcriptionServer) serve(w http.ResponseWriter, r *http.Request) {
	n := ts.requests.Add(1)
	desc, err := ts.check(r)
	ts.mu.Lock()
	ts.received = append(ts.received, fmt.Sprintf("request %d: %s %s: %s", n, r.Method, r.URL.Path, desc))
	ts.mu.Unlock()
	if err != nil {
		ts.problem("request %d: %v", n, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if n == 1 {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"text": ts.First})
		return
	}
	// The recogniser has stopped answering.
	select {
	case <-r.Context().Done():
	case <-ts.stop:
	}
}

// check reads a request as the OpenAI API defines it and describes it.
func (ts *transcriptionServer) check(r *http.Request) (string, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/audio/transcriptions") {
		return "", fmt.Errorf("%s %s, want POST …/v1/audio/transcriptions", r.Method, r.URL.Path)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return "", fmt.Errorf("Content-Type %q, want multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields := map[string]string{}
	var audio []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("multipart: %v", err)
		}
		b, err := io.ReadAll(io.LimitReader(p, 10<<20))
		if err != nil {
			return "", fmt.Errorf("multipart part %s: %v", p.FormName(), err)
		}
		if p.FormName() == "file" {
			audio = b
		} else {
			fields[p.FormName()] = string(b)
		}
	}
	if fields["model"] == "" {
		return "", fmt.Errorf("no model field (fields %v)", fields)
	}
	rate, ch, bits, dur, err := wavHeader(audio)
	if err != nil {
		return "", fmt.Errorf("file: %v", err)
	}
	if ch != 1 || bits != 16 || (rate != 8000 && rate != 16000) {
		return "", fmt.Errorf("file: %d Hz, %d channels, %d bits; want mono 16-bit at 8 or 16 kHz", rate, ch, bits)
	}
	if dur < 300*time.Millisecond || dur > 15*time.Second {
		return "", fmt.Errorf("file: %s of audio, want an utterance (0.3–15 s)", dur)
	}
	return fmt.Sprintf("fields %v, WAV %d Hz mono 16-bit, %s", fields, rate, dur.Round(10*time.Millisecond)), nil
}

// wavHeader reads a RIFF/WAVE file's format and length.
func wavHeader(b []byte) (rate, channels, bits int, dur time.Duration, err error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, 0, 0, 0, fmt.Errorf("not a RIFF/WAVE file (%d bytes)", len(b))
	}
	var dataLen int
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return 0, 0, 0, 0, errors.New("short fmt chunk")
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			dataLen = min(size, len(body))
		}
		off += 8 + size + size&1
	}
	if rate == 0 || channels == 0 || bits == 0 {
		return 0, 0, 0, 0, errors.New("no fmt chunk")
	}
	return rate, channels, bits, time.Duration(dataLen/(channels*bits/8)) * time.Second / time.Duration(rate), nil
}

// TestRecognizerFailsMidCall: hotline serve uses the OpenAI-compatible
// backend against a test server that answers the first utterance and then
// hangs. The caller says what the call is about (understood from the
// server's answer), answers the next question by voice, and gets no answer:
// hotline must give up on the recogniser within its time-out, say the
// script's keypad_fallback (in the log, and in what the caller recorded),
// and the caller finishes by keypad (RFC 4733): resolved.
func TestRecognizerFailsMidCall(t *testing.T) {
	t.Parallel()
	const first = "I have a question about my bill"
	ts := newTranscriptionServer(t, first)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hotline.yaml")
	conf := fmt.Sprintf("asr:\n  backend: openai\n  url: %s/v1\n  model: whisper-e2e\n  timeout: 2s\n  max_in_flight: 2\n", ts.URL)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var sf scriptFile
	b, err := os.ReadFile("testdata/speech/fallback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fb struct {
		KeypadFallback string `yaml:"keypad_fallback"`
	}
	if err := yaml.Unmarshal(b, &sf); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &fb); err != nil {
		t.Fatal(err)
	}
	fallback := speak(t, sf.Language, fb.KeypadFallback)

	s := startServe(t, serveOptions{Script: "testdata/speech/fallback.yaml", Args: []string{"--config", cfg}})
	heard := filepath.Join(dir, "heard.wav")
	c := startCaller(t, s, "fallback", "--say", first+"@1s", "--record", heard)
	id := c.callID(s, 20*time.Second)
	if id == "" {
		t.Fatalf("no call answered:\n%s", c.out.text())
	}
	l, ok := s.logs.waitFor(30*time.Second, spokenUnderstood(id))
	if !ok {
		missing(t, "the first utterance was not understood within 30 s (does serve use the openai recogniser yet? requests to the test server: %d); the call's log:\n%s",
			ts.requests.Load(), s.callLog(id))
	}
	if l.Str("intent") != "billing" || l.Str("node") != "welcome" {
		t.Fatalf("the first utterance (the server answered %q) was understood as %q at %q, want billing at welcome; the call's log:\n%s", first, l.Str("intent"), l.Str("node"), s.callLog(id))
	}
	// The next question: the caller answers by voice while it plays, and the
	// recogniser does not answer any more.
	time.Sleep(1500 * time.Millisecond)
	c.send("say now please")
	saidAt := time.Now()
	fell := s.waitLog(30*time.Second, "about the keypad fallback", func(l logLine) bool {
		m := strings.ToLower(l.Msg() + " " + l.Str("text"))
		return l.Str("call_id") == id && (strings.Contains(m, "keypad") || strings.Contains(m, "speech unavailable") || strings.Contains(m, "unavailable"))
	})
	t.Logf("fallback %s after the caller began to answer: %s", time.Since(saidAt).Round(time.Millisecond), fell.Raw)
	// Let the caller hear the fallback prompt, then finish by keypad.
	time.Sleep(fallback.Length + 500*time.Millisecond)
	c.send("1")
	end := s.waitLog(30*time.Second, "call ended", msg("call ended", "call_id", id))
	code := c.wait(15 * time.Second)
	t.Logf("hotline call (exit %d):\n%s", code, c.out.text())
	ts.mu.Lock()
	t.Logf("the transcription server got %d requests:\n%s", ts.requests.Load(), strings.Join(ts.received, "\n"))
	for _, p := range ts.problems {
		t.Errorf("transcription request: %s", p)
	}
	ts.mu.Unlock()
	var problems []string
	if end.Str("outcome") != "resolved" || !strings.HasSuffix(end.Str("path"), "pay_question>paid") {
		problems = append(problems, fmt.Sprintf("the call ended %q at %q, want resolved at …pay_question>paid", end.Str("outcome"), end.Str("path")))
	}
	if len(s.logs.find(msg("understood", "call_id", id, "input", "dtmf", "intent", "pay_now"))) == 0 {
		problems = append(problems, "the key 1 was not understood as pay_now")
	}
	if code != 0 {
		problems = append(problems, fmt.Sprintf("hotline call exited %d, want 0 (resolved)", code))
	}
	if ts.requests.Load() < 2 {
		problems = append(problems, fmt.Sprintf("the transcription server got %d requests, want the second utterance sent too", ts.requests.Load()))
	}
	if len(problems) > 0 {
		t.Errorf("%s\nthe call's log:\n%s", strings.Join(problems, "\n"), s.callLog(id))
	}
	// What the caller heard has the fallback prompt in it: a stretch of
	// sound as long as the synthesised prompt.
	pcm, _, err := wav.ReadFile(heard)
	if err != nil {
		t.Fatalf("--record: %v", err)
	}
	found := false
	for _, sp := range soundSpans(pcm, 600*time.Millisecond) {
		if within(sp, fallback.Active, 0.35) {
			found = true
		}
	}
	t.Logf("heard: %s; the fallback prompt is %s of sound", spans(pcm), fallback.Active)
	if !found {
		t.Errorf("what the caller heard (%s) has no stretch of sound like the keypad fallback prompt (%s ± 35%%)", spans(pcm), fallback.Active)
	}
	if h, err := s.health(); err == nil {
		t.Logf("/healthz after the call: %+v", h)
	}
}

// soundSpans is the sound in each stretch of pcm whose pauses are shorter
// than gap.
func soundSpans(pcm []int16, gap time.Duration) []time.Duration {
	var out []time.Duration
	n, quiet := 0, 0
	gapFrames := int(gap / (20 * time.Millisecond))
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		if rms(pcm[i:i+frameSamples]) > activeThreshold {
			n++
			quiet = 0
			continue
		}
		quiet++
		if quiet == gapFrames && n > 0 {
			out = append(out, time.Duration(n)*20*time.Millisecond)
			n = 0
		}
	}
	if n > 0 {
		out = append(out, time.Duration(n)*20*time.Millisecond)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}
