package speech

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

const testKey = "sk-test-3f9a1c"

// noLeaks fails the test when goroutines it started are still running at its
// end. Call it first, so its cleanup runs after every other.
func noLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		var n int
		for i := 0; i < 500; i++ { // bounded: up to 5 s for connections to wind down
			if n = runtime.NumGoroutine(); n <= base {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		t.Errorf("goroutine leak: %d running, %d before the test\n%s", n, base, buf[:runtime.Stack(buf, true)])
	})
}

// sttRequest is what the fake server read from one transcription request.
type sttRequest struct {
	auth     string
	fields   map[string]string
	filename string
	fileType string
	header   []byte  // the WAV's first 44 bytes
	samples  []int16 // its data chunk
	rate     int
}

// fakeSTT is an OpenAI-compatible transcription server: it parses each
// request as the real API does (multipart/form-data on POST
// /v1/audio/transcriptions), checks the WAV, and answers with reply.
type fakeSTT struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []sttRequest
	reply func(w http.ResponseWriter, r *http.Request, n int, req sttRequest)
	hang  chan struct{} // closed at the end of the test, for handlers that hang
}

func newFakeSTT(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, n int, req sttRequest)) *fakeSTT {
	f := &fakeSTT{t: t, reply: reply, hang: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.hang) }) // runs before srv.Close
	return f
}

func apiError(w http.ResponseWriter, status int, msg, typ, param string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var p any
	if param != "" {
		p = param
	}
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": p, "code": nil}})
}

func (f *fakeSTT) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		f.t.Errorf("request %s %s, want POST /v1/audio/transcriptions", r.Method, r.URL.Path)
		apiError(w, http.StatusNotFound, "Invalid URL", "invalid_request_error", "")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		f.t.Errorf("Content-Type %q, want multipart/form-data", r.Header.Get("Content-Type"))
	}
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		f.t.Errorf("multipart form: %v", err)
		apiError(w, http.StatusBadRequest, "bad form", "invalid_request_error", "")
		return
	}
	req := sttRequest{auth: r.Header.Get("Authorization"), fields: map[string]string{}}
	for k, v := range r.MultipartForm.Value {
		if len(v) != 1 {
			f.t.Errorf("field %s sent %d times", k, len(v))
		}
		req.fields[k] = v[0]
	}
	files := r.MultipartForm.File["file"]
	if len(files) != 1 {
		f.t.Errorf("%d file parts, want 1", len(files))
		apiError(w, http.StatusBadRequest, "Could not parse multipart form", "invalid_request_error", "file")
		return
	}
	fh := files[0]
	req.filename, req.fileType = fh.Filename, fh.Header.Get("Content-Type")
	fd, err := fh.Open()
	if err != nil {
		f.t.Error(err)
		return
	}
	b, _ := io.ReadAll(fd)
	fd.Close()
	if err := checkWAVHeader(b); err != nil {
		f.t.Errorf("uploaded WAV: %v", err)
		apiError(w, http.StatusBadRequest, "Invalid file format.", "invalid_request_error", "file")
		return
	}
	req.header = b[:44]
	req.rate = int(binary.LittleEndian.Uint32(b[24:28]))
	for i := 44; i+1 < len(b); i += 2 {
		req.samples = append(req.samples, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	n := len(f.reqs)
	f.mu.Unlock()
	f.reply(w, r, n, req)
}

// checkWAVHeader checks a canonical mono 16-bit PCM WAV whose sizes match
// its length.
func checkWAVHeader(b []byte) error {
	le := binary.LittleEndian
	switch {
	case len(b) < 44:
		return fmt.Errorf("%d bytes, shorter than a header", len(b))
	case string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[12:16]) != "fmt " || string(b[36:40]) != "data":
		return fmt.Errorf("not a canonical RIFF/WAVE header: %q", b[:44])
	case le.Uint32(b[4:8]) != uint32(len(b)-8):
		return fmt.Errorf("RIFF size %d, file %d bytes", le.Uint32(b[4:8]), len(b))
	case le.Uint32(b[16:20]) != 16 || le.Uint16(b[20:22]) != 1 || le.Uint16(b[22:24]) != 1 || le.Uint16(b[34:36]) != 16:
		return fmt.Errorf("fmt chunk is not mono 16-bit PCM: % x", b[16:36])
	case le.Uint32(b[28:32]) != 2*le.Uint32(b[24:28]) || le.Uint16(b[32:34]) != 2:
		return fmt.Errorf("byte rate %d / block align %d wrong for rate %d", le.Uint32(b[28:32]), le.Uint16(b[32:34]), le.Uint32(b[24:28]))
	case le.Uint32(b[40:44]) != uint32(len(b)-44):
		return fmt.Errorf("data size %d, %d bytes of data", le.Uint32(b[40:44]), len(b)-44)
	}
	return nil
}

func (f *fakeSTT) requests() []sttRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sttRequest(nil), f.reqs...)
}

func verboseJSON(w http.ResponseWriter, text string, segs ...map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"task": "transcribe", "language": "chinese", "duration": 1.0, "text": text, "segments": segs,
	})
}

func seg(start, end float64, text string, avgLogprob, noSpeech float64) map[string]any {
	return map[string]any{"id": 0, "seek": 0, "start": start, "end": end, "text": text, "tokens": []int{50364, 1}, "temperature": 0.0,
		"avg_logprob": avgLogprob, "compression_ratio": 1.1, "no_speech_prob": noSpeech}
}

func newTranscriber(t *testing.T, f *fakeSTT, cfg OpenAIConfig) *OpenAITranscriber {
	t.Helper()
	cfg.BaseURL = f.srv.URL + "/v1"
	cfg.Logger = quiet
	tr, err := NewOpenAITranscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.c.backoff = time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// tone is n samples of a 440 Hz tone at 8 kHz.
func tone(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return pcm
}

// say runs one utterance: Start, 20 ms writes, Close.
func say(t *testing.T, r Recognizer, opts Options, pcm []int16) (Result, error) {
	t.Helper()
	s, err := r.Start(context.Background(), opts)
	if err != nil {
		return Result{}, err
	}
	for len(pcm) > 0 {
		n := min(160, len(pcm))
		if err := s.Write(pcm[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		pcm = pcm[n:]
	}
	return s.Close(context.Background())
}

func TestOpenAITranscribe(t *testing.T) {
	noLeaks(t)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		verboseJSON(w, " 我想退款。\n 谢谢 ",
			seg(0, 1.5, " 我想退款。", -0.2, 0.01),
			seg(1.5, 2, " 谢谢", -0.5, 0.1))
	})
	tr := newTranscriber(t, f, OpenAIConfig{APIKey: testKey})
	if tr.Name() != "openai:whisper-1" {
		t.Errorf("Name %q", tr.Name())
	}
	audio := tone(8000)
	res, err := say(t, tr, Options{Language: "zh-CN", Hints: []string{"退款", " 人工 ", "", "退款", "营业时间"}, CallID: "c1"}, audio)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "我想退款。 谢谢" || !res.Final {
		t.Errorf("result %+v", res)
	}
	// Duration-weighted exp(avg_logprob)·(1−no_speech_prob).
	want := (1.5*math.Exp(-0.2)*0.99 + 0.5*math.Exp(-0.5)*0.9) / 2
	if math.Abs(res.Confidence-want) > 1e-9 {
		t.Errorf("confidence %v, want %v", res.Confidence, want)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	if q.auth != "Bearer "+testKey {
		t.Errorf("Authorization %q", q.auth)
	}
	wantFields := map[string]string{"model": "whisper-1", "language": "zh", "response_format": "verbose_json",
		"temperature": "0", "prompt": "退款，人工，营业时间"}
	if fmt.Sprint(q.fields) != fmt.Sprint(wantFields) {
		t.Errorf("fields %v\nwant   %v", q.fields, wantFields)
	}
	if q.filename != "utterance.wav" || q.fileType != "audio/wav" {
		t.Errorf("file part %q %q", q.filename, q.fileType)
	}
	// 1 s at 8 kHz, uploaded at 16 kHz: 16000 samples, the same tone.
	if q.rate != 16000 || len(q.samples) != 16000 {
		t.Fatalf("uploaded %d samples at %d Hz, want 16000 at 16000", len(q.samples), q.rate)
	}
	back := wav.ResampleInt16(q.samples, 16000, 8000)
	var diff, energy float64
	for i := 200; i < 7800; i++ { // away from the edges
		d := float64(back[i]) - float64(audio[i])
		diff += d * d
		energy += float64(audio[i]) * float64(audio[i])
	}
	if diff/energy > 1e-3 {
		t.Errorf("uploaded audio differs from what was said: error energy %.2g of the signal's", diff/energy)
	}
	st := tr.Stats()
	if st.Requests != 1 || st.Failures != 0 || st.InFlight != 0 || !st.Healthy || st.Breaker != "closed" || st.LatencyMaxMs <= 0 {
		t.Errorf("stats %+v", st)
	}
	if strings.Contains(fmt.Sprintf("%+v", st), testKey) {
		t.Error("stats show the API key")
	}
}

func TestOpenAITranscribe8kHzNoKey(t *testing.T) {
	noLeaks(t)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"text":"hello"}`)
	})
	tr := newTranscriber(t, f, OpenAIConfig{UploadRate: 8000, Model: "Systran/faster-whisper-small"})
	audio := tone(4000)
	res, err := say(t, tr, Options{Language: "en-US", Hints: []string{"agent"}}, audio)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "hello" || res.Confidence != -1 {
		t.Errorf("result %+v", res)
	}
	q := f.requests()[0]
	if q.auth != "" {
		t.Errorf("Authorization %q sent without a key", q.auth)
	}
	if q.fields["model"] != "Systran/faster-whisper-small" || q.fields["language"] != "en" || q.fields["prompt"] != "agent" {
		t.Errorf("fields %v", q.fields)
	}
	if q.rate != 8000 || len(q.samples) != len(audio) {
		t.Fatalf("uploaded %d samples at %d Hz", len(q.samples), q.rate)
	}
	for i := range audio {
		if q.samples[i] != audio[i] {
			t.Fatalf("sample %d: %d, want %d", i, q.samples[i], audio[i])
		}
	}
}

func TestOpenAIFallsBackToJSON(t *testing.T) {
	noLeaks(t)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		if req.fields["response_format"] == "verbose_json" {
			apiError(w, 400, "response_format 'verbose_json' is not compatible with model 'gpt-4o-transcribe'. Use 'json' or 'text' instead.", "invalid_request_error", "response_format")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"text":"talk to a person","usage":{"type":"tokens","input_tokens":14,"output_tokens":5}}`)
	})
	tr := newTranscriber(t, f, OpenAIConfig{Model: "gpt-4o-transcribe"})
	for i := range 2 {
		res, err := say(t, tr, Options{Language: "en"}, tone(2000))
		if err != nil {
			t.Fatalf("utterance %d: %v", i, err)
		}
		if res.Text != "talk to a person" || res.Confidence != -1 {
			t.Errorf("utterance %d: %+v", i, res)
		}
	}
	var formats []string
	for _, q := range f.requests() {
		formats = append(formats, q.fields["response_format"])
	}
	// The refusal is remembered: the second utterance asks for json at once.
	if got := strings.Join(formats, " "); got != "verbose_json json json" {
		t.Errorf("formats %q", got)
	}
	if st := tr.Stats(); st.Failures != 0 || st.Breaker != "closed" {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenAIRetriesServerError(t *testing.T) {
	noLeaks(t)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		if n == 1 {
			apiError(w, 503, "The server is overloaded", "server_error", "")
			return
		}
		verboseJSON(w, "yes", seg(0, 1, " yes", -0.1, 0.02))
	})
	tr := newTranscriber(t, f, OpenAIConfig{})
	res, err := say(t, tr, Options{Language: "en"}, tone(2000))
	if err != nil || res.Text != "yes" {
		t.Fatalf("result %+v, %v", res, err)
	}
	if st := tr.Stats(); st.Requests != 2 || st.Retries != 1 || st.Failures != 0 || st.ConsecutiveFailures != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenAIErrorMessageSurfaces(t *testing.T) {
	noLeaks(t)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		apiError(w, 401, "Incorrect API key provided: sk-te***1c.", "invalid_request_error", "")
	})
	tr := newTranscriber(t, f, OpenAIConfig{APIKey: testKey})
	_, err := say(t, tr, Options{Language: "en"}, tone(2000))
	var apiErr *OpenAIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Type != "invalid_request_error" {
		t.Fatalf("error %v, want a 401 OpenAIError", err)
	}
	if !strings.Contains(err.Error(), "Incorrect API key provided") || strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q", err)
	}
	if len(f.requests()) != 1 {
		t.Errorf("%d requests: a 401 is not retried", len(f.requests()))
	}
	if st := tr.Stats(); st.Failures != 1 || !strings.Contains(st.LastError, "Incorrect API key") {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenAITimeout(t *testing.T) {
	noLeaks(t)
	var f *fakeSTT
	f = newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-f.hang:
		}
	})
	tr := newTranscriber(t, f, OpenAIConfig{Timeout: 50 * time.Millisecond, Retries: 3})
	_, err := say(t, tr, Options{Language: "en"}, tone(2000))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("error %v, want a time-out", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests: a time-out is not retried", n)
	}
	if st := tr.Stats(); st.Failures != 1 || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenAIConnectionRefused(t *testing.T) {
	noLeaks(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	tr, err := NewOpenAITranscriber(OpenAIConfig{BaseURL: base + "/v1", Logger: quiet, Retries: 2, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	tr.c.backoff = time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	_, err = say(t, tr, Options{}, tone(2000))
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Fatalf("error %v", err)
	}
	if st := tr.Stats(); st.Requests != 3 || st.Retries != 2 || st.Failures != 1 {
		t.Errorf("stats %+v: want 3 attempts", st)
	}
}

// fakeClock is a settable clock for the breaker.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOpenAIBreaker(t *testing.T) {
	noLeaks(t)
	var failing atomic.Bool
	failing.Store(true)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		if failing.Load() {
			apiError(w, 500, "CUDA error: out of memory", "server_error", "")
			return
		}
		verboseJSON(w, "hi", seg(0, 1, " hi", -0.1, 0))
	})
	tr := newTranscriber(t, f, OpenAIConfig{Retries: -1, BreakerFailures: 3, BreakerCooldown: 30 * time.Second})
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	tr.c.br.now = clock.now

	for i := range 3 {
		if _, err := say(t, tr, Options{}, tone(2000)); err == nil || errors.Is(err, ErrUnavailable) {
			t.Fatalf("utterance %d: %v, want the server's error", i, err)
		}
	}
	// Open: refused at once, without a request.
	_, err := tr.Start(context.Background(), Options{})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "CUDA error") {
		t.Fatalf("Start: %v, want ErrUnavailable with the last error", err)
	}
	if st := tr.Stats(); tr.Healthy() || st.Breaker != "open" || st.BreakerOpens != 1 || st.Unavailable != 1 || st.Requests != 3 {
		t.Errorf("stats %+v", st)
	}

	// After the cool-down one trial goes; a failed trial opens it again.
	clock.advance(30 * time.Second)
	if st := tr.Stats(); st.Breaker != "half-open" {
		t.Errorf("breaker %q after the cool-down", st.Breaker)
	}
	trial, err := tr.Start(context.Background(), Options{})
	if err != nil {
		t.Fatalf("trial Start: %v", err)
	}
	if _, err := tr.Start(context.Background(), Options{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second Start during the trial: %v, want ErrUnavailable", err)
	}
	trial.Write(tone(2000))
	if _, err := trial.Close(context.Background()); err == nil {
		t.Fatal("trial succeeded against a failing server")
	}
	if _, err := tr.Start(context.Background(), Options{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Start after a failed trial: %v", err)
	}

	// An aborted trial gives no verdict: the next Start is the trial.
	clock.advance(30 * time.Second)
	trial, err = tr.Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	trial.Abort()
	trial.Abort() // twice is harmless

	// The server recovers: the trial succeeds and the breaker closes.
	failing.Store(false)
	if res, err := say(t, tr, Options{}, tone(2000)); err != nil || res.Text != "hi" {
		t.Fatalf("trial: %+v, %v", res, err)
	}
	if st := tr.Stats(); !tr.Healthy() || st.Breaker != "closed" || st.ConsecutiveFailures != 0 || st.BreakerOpens != 2 {
		t.Errorf("stats %+v", st)
	}
	s1, err1 := tr.Start(context.Background(), Options{})
	s2, err2 := tr.Start(context.Background(), Options{})
	if err1 != nil || err2 != nil {
		t.Fatalf("closed breaker refuses: %v %v", err1, err2)
	}
	s1.Abort()
	s2.Abort()
}

func TestOpenAIBusyAndAbort(t *testing.T) {
	noLeaks(t)
	var f *fakeSTT
	arrived := make(chan struct{}, 1)
	f = newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-f.hang:
		}
	})
	tr := newTranscriber(t, f, OpenAIConfig{MaxInFlight: 2, Timeout: time.Minute})
	ctx := context.Background()
	a, err := tr.Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Start(ctx, Options{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("third Start: %v, want ErrBusy", err)
	}
	if st := tr.Stats(); st.Busy != 1 || st.InFlight != 2 {
		t.Errorf("stats %+v", st)
	}
	// Abort before Close frees the slot at once.
	a.Abort()
	if err := a.Write(tone(160)); !errors.Is(err, errStreamDone) {
		t.Errorf("Write after Abort: %v", err)
	}
	c, err := tr.Start(ctx, Options{})
	if err != nil {
		t.Fatalf("Start after Abort: %v", err)
	}
	c.Abort()

	// Abort while Close waits for the server: Close returns, the slot is
	// freed, and the breaker does not count it as the server's failure.
	b.Write(tone(2000))
	closed := make(chan error, 1)
	go func() {
		_, err := b.Close(ctx)
		closed <- err
	}()
	<-arrived
	b.Abort()
	if err := <-closed; !errors.Is(err, context.Canceled) {
		t.Errorf("Close of an aborted stream: %v", err)
	}
	if st := tr.Stats(); st.InFlight != 0 || st.Failures != 0 || st.ConsecutiveFailures != 0 {
		t.Errorf("stats %+v", st)
	}

	// The call's context ending aborts its stream.
	cctx, cancel := context.WithCancel(ctx)
	d, err := tr.Start(cctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for i := 0; tr.Stats().InFlight != 0; i++ { // the abort runs on its own goroutine
		if i == 1000 {
			t.Fatal("slot not freed after the context ended")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := d.Close(ctx); !errors.Is(err, errStreamDone) {
		t.Errorf("Close after the context ended: %v", err)
	}
}

func TestOpenAICloseDeadlineCounts(t *testing.T) {
	noLeaks(t)
	var f *fakeSTT
	f = newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		select {
		case <-r.Context().Done():
		case <-f.hang:
		}
	})
	tr := newTranscriber(t, f, OpenAIConfig{Timeout: time.Minute, BreakerFailures: 1})
	s, err := tr.Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Write(tone(2000))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
	// The caller could not wait that long: the server is too slow.
	if st := tr.Stats(); st.Failures != 1 || st.Breaker != "open" {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenAIUtteranceLimits(t *testing.T) {
	noLeaks(t)
	f := newFakeSTT(t, func(w http.ResponseWriter, r *http.Request, n int, req sttRequest) {
		verboseJSON(w, "")
	})
	tr := newTranscriber(t, f, OpenAIConfig{UploadRate: 8000})
	tr.maxSamples = 8000
	res, err := say(t, tr, Options{}, tone(12000))
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "" || res.Confidence != -1 {
		t.Errorf("result %+v", res)
	}
	if q := f.requests(); len(q) != 1 || len(q[0].samples) != 8000 {
		t.Fatalf("uploaded %d requests", len(q))
	}
	if st := tr.Stats(); st.DroppedSamples != 4000 {
		t.Errorf("dropped %d samples, want 4000", st.DroppedSamples)
	}
	// Under 0.1 s: nothing is sent.
	res, err = say(t, tr, Options{}, tone(400))
	if err != nil || res.Text != "" || !res.Final {
		t.Errorf("short utterance: %+v, %v", res, err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want no new one for a short utterance", n)
	}
}

func TestOpenAIParseTranscription(t *testing.T) {
	for _, c := range []struct {
		name, body, text string
		conf             float64
	}{
		{"json", `{"text":" Hello there. "}`, "Hello there.", -1},
		{"empty", `{"text":""}`, "", -1},
		{"verbose", `{"text":"a b","segments":[{"start":0,"end":1,"text":" a b","avg_logprob":0,"no_speech_prob":0}]}`, "a b", 1},
		// vLLM: no no_speech_prob.
		{"vllm", `{"text":"a","segments":[{"start":0,"end":2,"text":"a","avg_logprob":-1}]}`, "a", math.Exp(-1)},
		// Whisper's own rule drops a hallucinated segment over silence.
		{"hallucination", `{"text":"退款 谢谢观看","segments":[` +
			`{"start":0,"end":1,"text":"退款","avg_logprob":-0.1,"no_speech_prob":0.1},` +
			`{"start":1,"end":3,"text":" 谢谢观看","avg_logprob":-1.5,"no_speech_prob":0.9}]}`, "退款", math.Exp(-0.1) * 0.9},
		{"all silence", `{"text":"Thank you.","segments":[{"start":0,"end":1,"text":"Thank you.","avg_logprob":-1.2,"no_speech_prob":0.95}]}`, "", 0},
	} {
		res, err := parseTranscription([]byte(c.body))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if res.Text != c.text || math.Abs(res.Confidence-c.conf) > 1e-9 {
			t.Errorf("%s: %+v, want %q %v", c.name, res, c.text, c.conf)
		}
	}
	for _, bad := range []string{`<html>`, `{"segments":[]}`, ``} {
		if _, err := parseTranscription([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestOpenAIParseAPIError(t *testing.T) {
	for _, c := range []struct{ body, msg, param string }{
		{`{"error":{"message":"Invalid value: 'x'.","type":"invalid_request_error","param":"voice","code":"invalid_value"}}`, "Invalid value: 'x'.", "voice"},
		{`{"error":"failed to read audio data"}`, "failed to read audio data", ""},                                                      // whisper.cpp
		{`{"detail":"Model not found"}`, "Model not found", ""},                                                                         // FastAPI
		{`{"detail":[{"loc":["body","file"],"msg":"field required","type":"missing"}]}`, "body.file: field required", ""},               // FastAPI validation
		{`{"object":"error","message":"The model does not exist.","type":"NotFoundError","code":404}`, "The model does not exist.", ""}, // vLLM
		{"File Not Found (/v1/audio/transcriptions)", "File Not Found (/v1/audio/transcriptions)", ""},                                  // plain text
	} {
		e := parseAPIError(400, []byte(c.body))
		if e.Message != c.msg || e.Param != c.param {
			t.Errorf("%s: %+v", c.body, e)
		}
	}
	if e := parseAPIError(502, bytes.Repeat([]byte("x"), 5000)); len(e.Message) > 310 || !e.retryable() {
		t.Errorf("long body: %d bytes of message", len(e.Message))
	}
}

func TestOpenAIWhisperLanguageAndPrompt(t *testing.T) {
	for tag, want := range map[string]string{"en-US": "en", "zh-CN": "zh", "zh_TW": "zh", "cmn-Hans-CN": "zh", "yue": "zh", "fr": "fr", "": "", "x-klingon": "", "haw": ""} {
		if got := whisperLanguage(tag); got != want {
			t.Errorf("whisperLanguage(%q) = %q, want %q", tag, got, want)
		}
	}
	if p := hintPrompt([]string{"talk to a person", "agent", "agent", "  opening   hours "}, "en-US"); p != "talk to a person, agent, opening hours" {
		t.Errorf("prompt %q", p)
	}
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf("关键词%d", i))
	}
	p := hintPrompt(many, "zh-CN")
	if len(p) > maxPrompt || !strings.HasPrefix(p, "关键词0，关键词1，") || strings.HasSuffix(p, "，") {
		t.Errorf("long prompt: %d bytes: %q", len(p), p)
	}
}

func TestOpenAIConfigErrors(t *testing.T) {
	for _, cfg := range []OpenAIConfig{
		{},
		{BaseURL: "127.0.0.1:8080/v1"},
		{BaseURL: "ftp://host/v1"},
		{BaseURL: "http://host/v1?key=secret"},
		{BaseURL: "http://host/v1", UploadRate: 44100},
	} {
		if _, err := NewOpenAITranscriber(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the query: %v", err)
		}
	}
	tr, err := NewOpenAITranscriber(OpenAIConfig{BaseURL: "http://user:pw@127.0.0.1:9/v1/", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats(); st.URL != "http://127.0.0.1:9/v1" {
		t.Errorf("shown URL %q", st.URL)
	}
}

// fakeTTS is an OpenAI-compatible speech server: POST /v1/audio/speech with
// a JSON body, audio out.
type fakeTTS struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []speechRequest
	auths []string
	reply func(w http.ResponseWriter, req speechRequest)
}

func newFakeTTS(t *testing.T, reply func(w http.ResponseWriter, req speechRequest)) *fakeTTS {
	f := &fakeTTS{t: t, reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/speech" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields() // only the API's fields
		var req speechRequest
		if err := dec.Decode(&req); err != nil {
			t.Errorf("body: %v", err)
			apiError(w, 400, "We could not parse the JSON body of your request.", "invalid_request_error", "")
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		reply(w, req)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newSynth(t *testing.T, f *fakeTTS, cfg OpenAISynthesizerConfig) *OpenAISynthesizer {
	t.Helper()
	cfg.BaseURL = f.srv.URL + "/v1"
	cfg.Logger = quiet
	s, err := NewOpenAISynthesizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.c.backoff = time.Millisecond
	t.Cleanup(s.CloseIdleConnections)
	return s
}

// wav24k is 1 s of a 24 kHz tone as OpenAI's wav answer; streamed, the
// sizes say "unknown" as OpenAI's streamed WAV does.
func wav24k(t *testing.T, streamed bool) []byte {
	pcm := make([]int16, 24000)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*300*float64(i)/24000))
	}
	var b bytes.Buffer
	if err := wav.Encode(&b, pcm, 24000); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if streamed {
		binary.LittleEndian.PutUint32(out[4:], 0xFFFFFFFF)
		binary.LittleEndian.PutUint32(out[40:], 0xFFFFFFFF)
	}
	return out
}

func TestOpenAISynthesize(t *testing.T) {
	noLeaks(t)
	var streamed atomic.Bool
	f := newFakeTTS(t, func(w http.ResponseWriter, req speechRequest) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav24k(t, streamed.Load()))
	})
	s := newSynth(t, f, OpenAISynthesizerConfig{OpenAIConfig: OpenAIConfig{APIKey: testKey},
		Voices: map[string]string{"zh": "nova", "en-GB": "fable"}, Speed: 1.25})
	var _ Synthesizer = s
	var _ Versioned = s
	if s.Name() != "openai:tts-1" {
		t.Errorf("Name %q", s.Name())
	}
	for lang, want := range map[string]string{"zh-CN": "nova", "zh": "nova", "en-GB": "fable", "en-US": "alloy", "": "alloy"} {
		if v := s.Voice(lang); v != want {
			t.Errorf("Voice(%q) = %q, want %q", lang, v, want)
		}
	}
	for _, st := range []bool{false, true} {
		streamed.Store(st)
		pcm, err := s.Synthesize(context.Background(), " 您好，这里是客服。 ", s.Voice("zh-CN"))
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) != 8000 {
			t.Errorf("streamed=%v: %d samples, want 8000 (1 s at 8 kHz)", st, len(pcm))
		}
		var peak int16
		for _, v := range pcm[100:7900] {
			peak = max(peak, v)
		}
		if peak < 5000 || peak > 7000 {
			t.Errorf("streamed=%v: peak %d, want the tone's 6000", st, peak)
		}
	}
	want := speechRequest{Model: "tts-1", Input: "您好，这里是客服。", Voice: "nova", ResponseFormat: "wav", Speed: 1.25}
	if f.reqs[0] != want || f.auths[0] != "Bearer "+testKey {
		t.Errorf("request %+v %q\nwant    %+v", f.reqs[0], f.auths[0], want)
	}
	// Empty text: no audio, no request.
	if pcm, err := s.Synthesize(context.Background(), "  ", ""); pcm != nil || err != nil || len(f.reqs) != 2 {
		t.Errorf("empty text: %v %v, %d requests", pcm, err, len(f.reqs))
	}
	// Over the limit: refused before any request.
	if _, err := s.Synthesize(context.Background(), strings.Repeat("好", 4097), ""); !errors.Is(err, ErrTextTooLong) {
		t.Errorf("long text: %v", err)
	}
	if st := s.Stats(); st.Requests != 2 || st.Failures != 0 || !s.Healthy() {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenAISynthesizePCM(t *testing.T) {
	noLeaks(t)
	f := newFakeTTS(t, func(w http.ResponseWriter, req speechRequest) {
		w.Header().Set("Content-Type", "audio/pcm")
		b := wav24k(t, false)[44:] // raw 24 kHz 16-bit mono
		w.Write(b)
	})
	s := newSynth(t, f, OpenAISynthesizerConfig{Format: "pcm", Voice: "shimmer", OpenAIConfig: OpenAIConfig{Model: "gpt-4o-mini-tts"}})
	pcm, err := s.Synthesize(context.Background(), "Hello.", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) != 8000 {
		t.Errorf("%d samples, want 8000", len(pcm))
	}
	if r := f.reqs[0]; r.ResponseFormat != "pcm" || r.Voice != "shimmer" || r.Model != "gpt-4o-mini-tts" || f.auths[0] != "" {
		t.Errorf("request %+v, auth %q", r, f.auths[0])
	}
	wavS := newSynth(t, f, OpenAISynthesizerConfig{})
	if s.Version() == wavS.Version() || s.Name() == wavS.Name() {
		t.Errorf("pcm and wav synthesisers share a cache key: %q %q", s.Version(), wavS.Version())
	}
}

func TestOpenAISynthesizeErrors(t *testing.T) {
	noLeaks(t)
	var retries atomic.Int64
	f := newFakeTTS(t, func(w http.ResponseWriter, req speechRequest) {
		switch {
		case req.Voice == "robot":
			apiError(w, 400, "Invalid value: 'robot'. Supported values are: 'alloy', 'echo', 'fable', 'onyx', 'nova', and 'shimmer'.", "invalid_request_error", "voice")
		case req.Input == "mp3":
			w.Header().Set("Content-Type", "audio/mpeg")
			w.Write([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"))
		case req.Input == "retry" && retries.Add(1) == 1:
			w.Header().Set("Retry-After", "0")
			apiError(w, 429, "Rate limit reached for requests", "requests", "")
		default:
			w.Write(wav24k(t, false))
		}
	})
	s := newSynth(t, f, OpenAISynthesizerConfig{OpenAIConfig: OpenAIConfig{BreakerFailures: 2}})
	ctx := context.Background()
	_, err := s.Synthesize(ctx, "hi", "robot")
	if !errors.Is(err, ErrUnknownVoice) || !strings.Contains(err.Error(), "Supported values are") {
		t.Errorf("unknown voice: %v", err)
	}
	// A voice the server lacks is this request's fault: the breaker does
	// not count it.
	if st := s.Stats(); st.Failures != 1 || st.ConsecutiveFailures != 0 {
		t.Errorf("stats after a 400: %+v", st)
	}
	for range 2 {
		if _, err := s.Synthesize(ctx, "mp3", ""); err == nil || !strings.Contains(err.Error(), "audio/mpeg") {
			t.Errorf("mp3 answer: %v", err)
		}
	}
	// Two failures in a row: the breaker is open, Synthesize fails at once.
	if _, err := s.Synthesize(ctx, "hello", ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("open breaker: %v", err)
	}
	clock := &fakeClock{t: time.Now()}
	s.c.br.now = clock.now
	clock.advance(time.Hour)
	// The trial meets a 429, retried once, and closes the breaker.
	if pcm, err := s.Synthesize(ctx, "retry", ""); err != nil || len(pcm) != 8000 {
		t.Fatalf("after a 429: %d samples, %v", len(pcm), err)
	}
	if st := s.Stats(); st.Breaker != "closed" || st.Retries != 1 || st.Failures != 3 || st.Unavailable != 1 {
		t.Errorf("stats %+v", st)
	}
	if _, err := NewOpenAISynthesizer(OpenAISynthesizerConfig{OpenAIConfig: OpenAIConfig{BaseURL: "http://h/v1"}, Format: "mp3"}); err == nil {
		t.Error("mp3 format accepted")
	}
}

// whisper.cpp's server started without --request-path/--inference-path
// answers the OpenAI path with a text 404: the error says what to do.
func TestOpenAIWrongPath(t *testing.T) {
	noLeaks(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "File Not Found ("+r.URL.Path+")")
	}))
	t.Cleanup(srv.Close)
	tr, err := NewOpenAITranscriber(OpenAIConfig{BaseURL: srv.URL + "/v1", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	_, err = say(t, tr, Options{}, tone(2000))
	if err == nil || !strings.Contains(err.Error(), "File Not Found (/v1/audio/transcriptions)") || !strings.Contains(err.Error(), "--inference-path") {
		t.Fatalf("error %v", err)
	}
	if st := tr.Stats(); st.Requests != 1 || st.ConsecutiveFailures != 1 {
		t.Errorf("stats %+v: a 404 is not retried and counts for the breaker", st)
	}
}
