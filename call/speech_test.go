package call

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/speech"
)

// The listening state machine (docs/barge-in.md) on real calls: a caller on
// loopback plays espeak-ng speech, the real detector finds it, and the
// recogniser is the OpenAI-compatible HTTP backend talking to a server in
// the test that speaks the same wire format and answers scripted text.

// --- the transcription server ---

type asrReply struct {
	status int    // 0: 200
	text   string // the transcript
	hang   bool   // never answer (until the client gives up)
}

type asrRequest struct {
	audio    time.Duration
	prompt   string
	language string
}

type asrServer struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []asrRequest
	answer  func(n int) asrReply // n counts from 0
	release chan struct{}
	tr      *speech.OpenAITranscriber
}

func newASR(t *testing.T, answer func(n int) asrReply, tweak ...func(*speech.OpenAIConfig)) *asrServer {
	t.Helper()
	a := &asrServer{t: t, answer: answer, release: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	cfg := speech.OpenAIConfig{BaseURL: a.srv.URL + "/v1", Model: "whisper-1", Timeout: 5 * time.Second,
		MaxInFlight: 4, Logger: testLogger()}
	for _, f := range tweak {
		f(&cfg)
	}
	tr, err := speech.NewOpenAITranscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.tr = tr
	t.Cleanup(func() {
		close(a.release)
		tr.CloseIdleConnections()
		a.srv.Close()
	})
	return a
}

func (a *asrServer) serve(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		http.Error(rw, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		a.t.Errorf("transcription request: %v", err)
		http.Error(rw, `{"error":{"message":"bad form"}}`, http.StatusBadRequest)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		a.t.Errorf("transcription request without a file: %v", err)
		http.Error(rw, `{"error":{"message":"no file"}}`, http.StatusBadRequest)
		return
	}
	pcm, _, err := wav.Decode(f)
	f.Close()
	if err != nil {
		a.t.Errorf("transcription request: the file is not a WAV: %v", err)
	}
	a.mu.Lock()
	n := len(a.reqs)
	a.reqs = append(a.reqs, asrRequest{audio: time.Duration(len(pcm)) * time.Second / 8000,
		prompt: r.FormValue("prompt"), language: r.FormValue("language")})
	a.mu.Unlock()
	rep := a.answer(n)
	if rep.hang {
		select {
		case <-r.Context().Done():
		case <-a.release:
		}
		return
	}
	if rep.status != 0 && rep.status != http.StatusOK {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(rep.status)
		rw.Write([]byte(`{"error":{"message":"scripted failure","type":"server_error"}}`))
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(map[string]any{"text": rep.text})
}

func (a *asrServer) requests() []asrRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]asrRequest(nil), a.reqs...)
}

// always answers every request with text.
func always(text string) func(int) asrReply {
	return func(int) asrReply { return asrReply{text: text} }
}

// --- the caller's voice ---

var (
	espeakOnce sync.Once
	espeakTTS  *speech.Espeak
	espeakErr  error
	voiceMu    sync.Mutex
	voiceCache = map[string][]int16{}
)

// voice is text spoken by espeak-ng, 8 kHz.
func voice(t *testing.T, text string) []int16 {
	t.Helper()
	espeakOnce.Do(func() {
		if _, err := exec.LookPath("espeak-ng"); err != nil {
			espeakErr = err
			return
		}
		espeakTTS, espeakErr = speech.NewEspeak(speech.EspeakOptions{})
	})
	if espeakErr != nil {
		t.Skipf("espeak-ng: %v", espeakErr)
	}
	voiceMu.Lock()
	defer voiceMu.Unlock()
	if pcm, ok := voiceCache[text]; ok {
		return pcm
	}
	pcm, err := espeakTTS.Synthesize(context.Background(), text, "en-us")
	if err != nil {
		t.Fatal(err)
	}
	voiceCache[text] = pcm
	return pcm
}

// noise is a burst of white noise.
func noise(d time.Duration, amplitude float64) []int16 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, int(d*8000/time.Second))
	for i := range out {
		out[i] = int16((r.Float64()*2 - 1) * amplitude)
	}
	return out
}

func silence(d time.Duration) []int16 { return make([]int16, int(d*8000/time.Second)) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// --- the caller's ear: what it heard and said, per 20 ms tick ---

// tape is the test caller's recorder: per tick of its clock, the level of
// what the bot sent (far) and of what the caller sent (near). Both are on
// the same clock, so "the caller began speaking at tick i, the prompt
// stopped arriving at tick j" is a measurement on the wire.
type tape struct {
	mu        sync.Mutex
	far, near []float64
}

func rms(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(pcm)))
}

func (tp *tape) WriteFrame(far, near []int16) error {
	f, n := rms(far), rms(near)
	tp.mu.Lock()
	tp.far = append(tp.far, f)
	tp.near = append(tp.near, n)
	tp.mu.Unlock()
	return nil
}

func (tp *tape) snapshot() (far, near []float64) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]float64(nil), tp.far...), append([]float64(nil), tp.near...)
}

const loudLevel = 1000 // the bot's tone prompts are ~5600 rms; silence is 0

func countLoud(levels []float64) int {
	n := 0
	for _, v := range levels {
		if v > loudLevel {
			n++
		}
	}
	return n
}

type speechCaller struct {
	*caller
	tape *tape
}

// dialTape calls the world with a caller that records its ear and mouth.
func (w *world) dialTape() *speechCaller {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sip.Dial(ctx, sip.DialConfig{Listen: "udp:127.0.0.1:0"}, "sip:ivr@"+w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	codec, _ := media.LookupCodec(c.Media.Codec.Name)
	tp := &tape{}
	ms, err := media.NewSession(media.Config{Conn: c.Conn, Remote: c.Media.Remote, Latch: true, Codec: codec,
		DTMFPayload: c.Media.DTMFPayload, PTime: c.Media.PTime, Pacer: w.pacer, Recorder: tp})
	if err != nil {
		w.t.Fatal(err)
	}
	ms.Start(context.Background())
	w.t.Cleanup(func() {
		ms.Close()
		hctx, hcancel := context.WithTimeout(context.Background(), time.Second)
		c.Hangup(hctx)
		hcancel()
	})
	return &speechCaller{caller: &caller{t: w.t, c: c, ms: ms, heard: &heardFrames{}}, tape: tp}
}

// say plays pcm from the caller.
func (c *speechCaller) say(pcm []int16) { c.ms.Play(media.NewPCMSource(pcm)) }

// waitFar waits until the caller has heard n loud frames in all.
func (c *speechCaller) waitFar(n int, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		far, _ := c.tape.snapshot()
		if countLoud(far) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("the caller did not hear %d loud frames within %s", n, within)
}

// waitPromptEnd waits until the bot has been quiet for quiet after
// having spoken.
func (c *speechCaller) waitPromptEnd(quiet, within time.Duration) {
	c.t.Helper()
	c.waitFar(1, within)
	deadline := time.Now().Add(within)
	ticks := int(quiet / (20 * time.Millisecond))
	for time.Now().Before(deadline) {
		far, _ := c.tape.snapshot()
		if len(far) > ticks && countLoud(far[len(far)-ticks:]) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("the bot did not stop talking within %s", within)
}

// reports collects OnSpeech.
type reports struct {
	mu   sync.Mutex
	list []SpeechReport
}

func (r *reports) add(_ *sip.Call, rep SpeechReport) {
	r.mu.Lock()
	r.list = append(r.list, rep)
	r.mu.Unlock()
}

func (r *reports) get() []SpeechReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SpeechReport(nil), r.list...)
}

// speechWorld is a server whose calls recognise speech through asr.
func speechWorld(t *testing.T, script string, asr *asrServer, tweak ...func(*Config)) (*world, *reports) {
	t.Helper()
	reps := &reports{}
	w := newWorld(t, script, append([]func(*Config){func(c *Config) {
		if asr != nil {
			c.Recognizer = asr.tr
		}
		c.RecognizeTimeout = 6 * time.Second
		c.RTPTimeout = 5 * time.Second
		c.OnSpeech = reps.add
		c.Logger = testLogger().With("test", t.Name())
	}}, tweak...)...)
	return w, reps
}

// longPrompt is 3 s of tone (tonePrompts: 20 ms a character, at most 3 s).
var longPrompt = strings.Repeat("x", 150)

// speechScript has one question; its listen settings and prompt are
// filled in by each test.
func speechScript(prompt, listen string) string {
	return `name: s
language: en-US
start: welcome
keypad_fallback: "Speech is off. Press 1 for billing, 2 for outages."
intents:
  billing: {keywords: [billing, bill], dtmf: "1"}
  outage: {keywords: [outage, power cut], dtmf: "2"}
nodes:
  welcome:
    say: "` + prompt + `"
    listen: ` + listen + `
    routes: {billing: billing, outage: outage}
  billing:
    say: "Billing."
    hangup: true
  outage:
    say: "Outage."
    hangup: true
`
}

func pathOf(st dialog.State) string { return strings.Join(st.Path, ">") }

// --- the tests ---

// Listening → onset → capturing → recognizing → the reply: the speech is
// routed, with the question's hints and the script's language on the wire.
func TestSpeechRoutes(t *testing.T) {
	t.Parallel()
	asr := newASR(t, always("I have a question about my bill"))
	w, reps := speechWorld(t, speechScript("How can I help?", "{timeout: 5s}"), asr)
	c := w.dialTape()
	c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
	c.say(voice(t, "I have a question about my bill."))
	if out := c.waitEnd(10 * time.Second); out != dialog.OutcomeResolved {
		t.Errorf("outcome %q", out)
	}
	st := w.state(c.caller)
	if pathOf(st) != "welcome>billing" || st.Keypad {
		t.Errorf("path %s keypad %v", pathOf(st), st.Keypad)
	}
	reqs := asr.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d transcription requests, want 1", len(reqs))
	}
	if !strings.Contains(reqs[0].prompt, "billing") || reqs[0].language != "en" {
		t.Errorf("request prompt %q language %q: want the question's hints and en", reqs[0].prompt, reqs[0].language)
	}
	if reqs[0].audio < time.Second {
		t.Errorf("uploaded %s of audio for a phrase of about 2 s", reqs[0].audio)
	}
	rs := reps.get()
	if len(rs) != 1 || rs[0].Outcome != "recognized" || rs[0].BargeIn || rs[0].ReplyStarted.IsZero() {
		t.Fatalf("reports %+v", rs)
	}
	r := rs[0]
	t.Logf("end of speech → first RTP of the reply %s = endpointing %s + recognition %s + rest %s (speech %s)",
		r.Total(), r.Endpointing(), r.Recognition(), r.Rest(), r.SpeechEnd.Sub(r.SpeechStart))
	if s := w.runner.SpeechStats(); s.Utterances != 1 || s.Recognized != 1 || s.Fallbacks != 0 {
		t.Errorf("stats %+v", s)
	}
}

// Armed → paused → (start) → capturing: talking 1 s into a long prompt
// stops it; the utterance is recognised from its onset.
func TestBargeInStopsPrompt(t *testing.T) {
	t.Parallel()
	asr := newASR(t, always("outage please"))
	w, reps := speechWorld(t, speechScript(longPrompt, "{timeout: 5s, barge_in: true}"), asr)
	c := w.dialTape()
	c.waitFar(50, 5*time.Second) // 1 s of the 3 s prompt
	phrase := voice(t, "There is a power cut in my street.")
	c.say(phrase)
	if out := c.waitEnd(10 * time.Second); out != dialog.OutcomeResolved {
		t.Errorf("outcome %q", out)
	}
	if st := w.state(c.caller); pathOf(st) != "welcome>outage" {
		t.Errorf("path %s", pathOf(st))
	}
	// On the caller's clock: where its speech began, where the prompt stopped.
	far, near := c.tape.snapshot()
	onset := -1
	for i, v := range near {
		if v > 300 {
			onset = i
			break
		}
	}
	if onset < 0 {
		t.Fatal("the caller's speech is not on its tape")
	}
	stop := -1
	for i := onset; i < len(far); i++ {
		if far[i] < loudLevel {
			stop = i
			break
		}
	}
	if stop < 0 {
		t.Fatal("the prompt never stopped")
	}
	t.Logf("barge-in: prompt stopped %d ms after the caller's speech onset (on the caller's wire clock)", (stop-onset)*20)
	// The rest of the prompt (about 2 s) was not played: only the short reply.
	reply := countLoud(far[stop:])
	if reply > 25 {
		t.Errorf("%d loud frames after the barge-in: the prompt kept playing", reply)
	}
	if stop-onset > 25 {
		t.Errorf("the prompt stopped %d ms after the speech began", (stop-onset)*20)
	}
	reqs := asr.requests()
	if len(reqs) != 1 || reqs[0].audio < time.Duration(len(phrase))*time.Second/8000-300*time.Millisecond {
		t.Errorf("requests %+v: want one with the whole phrase (%s), from its onset", reqs,
			time.Duration(len(phrase))*time.Second/8000)
	}
	if rs := reps.get(); len(rs) != 1 || !rs[0].BargeIn || rs[0].Outcome != "recognized" {
		t.Errorf("reports %+v", rs)
	}
	if s := w.runner.SpeechStats(); s.BargeIns != 1 || s.NoiseResumed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// Armed → paused → (cancel) → armed: a short noise burst pauses the prompt,
// which then resumes where it stopped; no utterance starts.
func TestNoiseBurstResumesPrompt(t *testing.T) {
	t.Parallel()
	asr := newASR(t, always("billing"))
	w, reps := speechWorld(t, speechScript(longPrompt, "{timeout: 1s, barge_in: true}"), asr)
	c := w.dialTape()
	c.waitFar(50, 5*time.Second)
	c.say(noise(120*time.Millisecond, 8000))
	// The pause lasts about 200 ms (the burst, then the 60 ms dip that
	// cancels it), more on a busy machine: wait for a silence clearly
	// longer than that, which only the prompt's end gives (the question
	// then listens for 1 s).
	const quiet = 700 * time.Millisecond
	c.waitPromptEnd(quiet, 8*time.Second)
	far, _ := c.tape.snapshot()
	first := -1
	for i, v := range far {
		if v > loudLevel {
			first = i
			break
		}
	}
	// The whole prompt was heard (150 frames), with a gap where it paused.
	loud := countLoud(far)
	gap := 0
	for i := first; i < len(far) && i < first+loud+20; i++ {
		if far[i] < loudLevel {
			gap++
		}
	}
	// The window is the prompt's frames and 20 after: the pause is the rest.
	t.Logf("noise burst: prompt paused for about %d ms, %d loud frames heard", (gap-20)*20, loud)
	if loud < 145 {
		t.Errorf("the caller heard %d frames of the 150-frame prompt: it did not resume", loud)
	}
	c.press("1")
	c.waitEnd(8 * time.Second)
	if st := w.state(c.caller); pathOf(st) != "welcome>billing" {
		t.Errorf("path %s", pathOf(st))
	}
	if n := len(asr.requests()); n != 0 {
		t.Errorf("%d transcription requests for a noise burst", n)
	}
	if s := w.runner.SpeechStats(); s.NoiseResumed != 1 || s.Utterances != 0 || s.BargeIns != 0 {
		t.Errorf("stats %+v: want one resume, no utterance", s)
	}
	if rs := reps.get(); len(rs) != 0 {
		t.Errorf("reports %+v", rs)
	}
}

// Barge-in off: speech during the prompt is ignored, the prompt plays to
// its end, then the question listens.
func TestBargeInOffPromptPlaysToEnd(t *testing.T) {
	t.Parallel()
	asr := newASR(t, func(n int) asrReply { return asrReply{text: "billing"} })
	w, _ := speechWorld(t, speechScript(longPrompt, "{timeout: 5s, barge_in: false}"), asr)
	c := w.dialTape()
	c.waitFar(50, 5*time.Second)
	c.say(voice(t, "I need to talk about an outage."))
	c.waitPromptEnd(200*time.Millisecond, 8*time.Second)
	far, _ := c.tape.snapshot()
	if loud := countLoud(far); loud < 148 {
		t.Errorf("the prompt was cut: %d of 150 frames", loud)
	}
	if n := len(asr.requests()); n != 0 {
		t.Errorf("%d requests for speech during a prompt without barge-in", n)
	}
	c.say(voice(t, "Billing please."))
	c.waitEnd(10 * time.Second)
	if st := w.state(c.caller); pathOf(st) != "welcome>billing" {
		t.Errorf("path %s", pathOf(st))
	}
	if n := len(asr.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// A pause inside a phrase shorter than end_silence keeps it one utterance;
// max_speech ends a long one.
func TestEndpointing(t *testing.T) {
	t.Parallel()
	t.Run("pause", func(t *testing.T) {
		t.Parallel()
		asr := newASR(t, always("my bill is wrong"))
		w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 5s, end_silence: 900ms}"), asr)
		c := w.dialTape()
		c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
		a, b := voice(t, "My bill"), voice(t, "is wrong this month.")
		c.say(concat(a, silence(400*time.Millisecond), b))
		c.waitEnd(10 * time.Second)
		w.state(c.caller)
		reqs := asr.requests()
		want := time.Duration(len(a)+len(b))*time.Second/8000 + 400*time.Millisecond
		if len(reqs) != 1 || reqs[0].audio < want {
			t.Errorf("requests %+v: want one of at least %s (both parts)", reqs, want)
		}
		if rs := reps.get(); len(rs) != 1 || rs[0].EndReason != "silence" {
			t.Errorf("reports %+v", rs)
		}
	})
	t.Run("max_speech", func(t *testing.T) {
		t.Parallel()
		asr := newASR(t, always("billing"))
		w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 5s, max_speech: 1s}"), asr)
		c := w.dialTape()
		c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
		c.say(voice(t, "I would like to talk about billing and also about the outage and many other things today."))
		c.waitEnd(10 * time.Second)
		w.state(c.caller)
		rs := reps.get()
		if len(rs) != 1 || rs[0].EndReason != "max" {
			t.Fatalf("reports %+v, want one ended by max_speech", rs)
		}
		if d := rs[0].SpeechEnd.Sub(rs[0].SpeechStart); d > 1500*time.Millisecond {
			t.Errorf("utterance of %s with max_speech 1s", d)
		}
	})
}

// Listening → onset → (cancel) → listening: noise while listening does not
// answer the question; the no-input timer goes on and ends it.
func TestNoiseWhileListeningThenNoInput(t *testing.T) {
	t.Parallel()
	asr := newASR(t, always("billing"))
	script := strings.Replace(speechScript("Hi.", "{timeout: 1500ms}"), "    routes:", "    retries: 0\n    escalate: outage\n    routes:", 1)
	w, _ := speechWorld(t, script, asr)
	c := w.dialTape()
	c.waitPromptEnd(100*time.Millisecond, 5*time.Second)
	c.say(noise(120*time.Millisecond, 8000))
	c.waitEnd(10 * time.Second)
	st := w.state(c.caller)
	if st.InputNoInputs != 1 || pathOf(st) != "welcome>outage" {
		t.Errorf("no-inputs %d path %s", st.InputNoInputs, pathOf(st))
	}
	if len(asr.requests()) != 0 {
		t.Error("noise was sent to the recogniser")
	}
}

// An empty transcript is no input (not a no-match for the unanswered list).
func TestEmptyTranscriptIsNoInput(t *testing.T) {
	t.Parallel()
	asr := newASR(t, func(n int) asrReply {
		if n == 0 {
			return asrReply{text: "  "}
		}
		return asrReply{text: "billing"}
	})
	w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 5s, barge_in: false}"), asr)
	c := w.dialTape()
	c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
	far, _ := c.tape.snapshot()
	before := countLoud(far)
	c.say(voice(t, "Hmm, well."))
	c.waitFar(before+20, 8*time.Second)                  // "I didn't hear you" and the prompt again
	c.waitPromptEnd(300*time.Millisecond, 8*time.Second) // … to its end
	c.say(voice(t, "Billing."))
	c.waitEnd(10 * time.Second)
	st := w.state(c.caller)
	if st.InputNoInputs != 1 || st.InputNoMatch != 0 || pathOf(st) != "welcome>billing" {
		t.Errorf("no-inputs %d no-matches %d path %s", st.InputNoInputs, st.InputNoMatch, pathOf(st))
	}
	if rs := reps.get(); len(rs) != 2 || rs[0].Outcome != "empty" || rs[1].Outcome != "recognized" {
		t.Errorf("reports %+v", rs)
	}
}

// Recognizing → keypad: the server stops answering mid-call (it hangs, or
// fails) → the caller hears the keypad fallback and finishes by keypad.
func TestRecognizerFailsFallsBackToKeypad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, kind string
		reply      asrReply
	}{
		{"hangs", "timeout", asrReply{hang: true}},
		{"500", "error", asrReply{status: 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			asr := newASR(t, func(n int) asrReply { return tc.reply })
			w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 5s}"), asr, func(c *Config) {
				c.RecognizeTimeout = time.Second
			})
			c := w.dialTape()
			c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
			c.say(voice(t, "I want to pay my bill."))
			// The fallback prompt: "Speech is off. Press 1 ..." (51 characters, about 1 s).
			c.waitFar(30+15, 10*time.Second)
			c.waitPromptEnd(200*time.Millisecond, 10*time.Second)
			c.press("2")
			if out := c.waitEnd(8 * time.Second); out != dialog.OutcomeResolved {
				t.Errorf("outcome %q", out)
			}
			st := w.state(c.caller)
			if !st.Keypad || pathOf(st) != "welcome>outage" {
				t.Errorf("keypad %v path %s", st.Keypad, pathOf(st))
			}
			s := w.runner.SpeechStats()
			if s.Fallbacks != 1 || (tc.kind == "timeout" && s.FallbackTimeout != 1) || (tc.kind == "error" && s.FallbackError != 1) {
				t.Errorf("stats %+v", s)
			}
			if rs := reps.get(); len(rs) != 1 || rs[0].Outcome != tc.kind {
				t.Errorf("reports %+v", rs)
			}
		})
	}
}

// Start → ErrBusy → keypad at once: a second call finds every recogniser
// slot taken by the first call's (hung) utterance.
func TestRecognizerBusyFallsBackToKeypad(t *testing.T) {
	t.Parallel()
	asr := newASR(t, func(n int) asrReply { return asrReply{hang: true} }, func(c *speech.OpenAIConfig) {
		c.MaxInFlight = 1
	})
	w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 8s}"), asr, func(c *Config) {
		c.RecognizeTimeout = 6 * time.Second
	})
	first := w.dialTape()
	first.waitPromptEnd(200*time.Millisecond, 5*time.Second)
	first.say(voice(t, "I want to pay my bill."))
	deadline := time.Now().Add(10 * time.Second)
	for len(asr.requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	second := w.dialTape()
	second.waitPromptEnd(200*time.Millisecond, 5*time.Second)
	second.say(voice(t, "There is an outage."))
	second.waitFar(15+30, 10*time.Second)
	second.waitPromptEnd(200*time.Millisecond, 10*time.Second)
	second.press("2")
	second.waitEnd(8 * time.Second)
	if st := w.state(second.caller); !st.Keypad || pathOf(st) != "welcome>outage" {
		t.Errorf("second call: keypad %v path %s", st.Keypad, pathOf(st))
	}
	if s := w.runner.SpeechStats(); s.FallbackBusy != 1 {
		t.Errorf("stats %+v", s)
	}
	found := false
	for _, r := range reps.get() {
		found = found || r.Outcome == "busy"
	}
	if !found {
		t.Errorf("no busy report: %+v", reps.get())
	}
}

// No recogniser configured: a speech-and-keys question takes keys, no
// fallback announcement; a speech-only question gets the keypad fallback
// at once instead of silence.
func TestNoRecognizer(t *testing.T) {
	t.Parallel()
	t.Run("speech and keys", func(t *testing.T) {
		t.Parallel()
		w, _ := speechWorld(t, speechScript("Hi.", "{timeout: 5s}"), nil)
		c := w.dialTape()
		c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
		c.press("1")
		c.waitEnd(8 * time.Second)
		if st := w.state(c.caller); st.Keypad || pathOf(st) != "welcome>billing" {
			t.Errorf("keypad %v path %s", st.Keypad, pathOf(st))
		}
	})
	t.Run("speech only", func(t *testing.T) {
		t.Parallel()
		w, _ := speechWorld(t, speechScript("Hi.", "{timeout: 5s, input: [speech]}"), nil)
		c := w.dialTape()
		// "Hi." then the fallback (about 1 s).
		c.waitFar(3+40, 5*time.Second)
		c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
		c.press("2")
		c.waitEnd(8 * time.Second)
		if st := w.state(c.caller); !st.Keypad || pathOf(st) != "welcome>outage" {
			t.Errorf("keypad %v path %s", st.Keypad, pathOf(st))
		}
		if s := w.runner.SpeechStats(); s.NoRecognizer != 1 || s.Fallbacks != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

// Capturing → key: a key pressed while the caller speaks wins; the
// utterance is dropped, nothing is sent to the recogniser.
func TestKeyWhileSpeakingWins(t *testing.T) {
	t.Parallel()
	asr := newASR(t, always("outage"))
	w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 5s}"), asr)
	c := w.dialTape()
	c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
	c.say(voice(t, "There is a power cut in my street and the lights have been off since this morning."))
	time.Sleep(time.Second) // well into the utterance
	c.press("1")
	c.waitEnd(8 * time.Second)
	if st := w.state(c.caller); pathOf(st) != "welcome>billing" {
		t.Errorf("path %s: the key should win", pathOf(st))
	}
	if n := len(asr.requests()); n != 0 {
		t.Errorf("%d transcription requests after the key", n)
	}
	if rs := reps.get(); len(rs) != 1 || rs[0].Outcome != "key" {
		t.Errorf("reports %+v", rs)
	}
	if s := w.runner.SpeechStats(); s.KeyWins != 1 {
		t.Errorf("stats %+v", s)
	}
}

// Capturing → hang-up: the stream is aborted, nothing is left running.
// Not parallel: it counts goroutines.
func TestHangupMidUtterance(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("call", func(t *testing.T) {
		asr := newASR(t, always("billing"))
		w, reps := speechWorld(t, speechScript("Hi.", "{timeout: 5s}"), asr)
		c := w.dialTape()
		c.waitPromptEnd(200*time.Millisecond, 5*time.Second)
		c.say(voice(t, "There is a power cut in my street and the lights have been off since this morning."))
		time.Sleep(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.c.Hangup(ctx)
		cancel()
		st := w.state(c.caller)
		if st.Outcome != dialog.OutcomeAbandoned {
			t.Errorf("outcome %s", st.Outcome)
		}
		if rs := reps.get(); len(rs) != 1 || rs[0].Outcome != "hangup" {
			t.Errorf("reports %+v", rs)
		}
		if n := len(asr.requests()); n != 0 {
			t.Errorf("%d requests for an utterance the caller hung up in", n)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestRecognizerLanguage: a recogniser that lacks the script's language is
// not used for that script (a Chinese hotline beside pocketsphinx's English
// model takes keys, as without a recogniser).
func TestRecognizerLanguage(t *testing.T) {
	var en englishOnly
	if recognizerFor(en, "zh-CN") != nil {
		t.Error("an English-only recogniser was chosen for zh-CN")
	}
	if recognizerFor(en, "en-GB") == nil {
		t.Error("an English-only recogniser was refused for en-GB")
	}
	if recognizerFor(nil, "en-US") != nil {
		t.Error("nil recogniser became non-nil")
	}
	p := &speech.Pocketsphinx{}
	if p.Understands("zh-CN") || !p.Understands("en-US") || !p.Understands("en") {
		t.Error("pocketsphinx's languages")
	}
}

// englishOnly is only a language answer for recognizerFor; it never runs.
type englishOnly struct{ speech.Recognizer }

func (englishOnly) Understands(lang string) bool { return strings.HasPrefix(lang, "en") }
