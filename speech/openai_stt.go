package speech

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// Limits of one utterance sent to a transcription server.
const (
	// maxUtterance is the audio kept per utterance: 60 s (960 KB at
	// 8 kHz). The call's endpointing ends utterances long before; past it,
	// samples are dropped and counted.
	maxUtterance = 60 * wav.Rate
	// minUtterance: shorter audio is not sent (OpenAI refuses audio under
	// 0.1 s, and nothing can be said in it); the result is empty.
	minUtterance = wav.Rate / 10
	// maxPrompt bounds the prompt built from the hints. Whisper reads at
	// most 224 tokens of prompt; 500 bytes stay under that in English
	// (about 4 bytes a token) and in Chinese (3 bytes a hanzi, 1–2 tokens).
	maxPrompt = 500
	// maxTranscript bounds the server's answer.
	maxTranscript = 1 << 20
)

var errStreamDone = errors.New("speech: stream already closed or aborted")

// OpenAITranscriber is a Recognizer that sends each utterance, once it has
// ended, to a server of the OpenAI transcription API
// (POST {BaseURL}/audio/transcriptions, multipart/form-data): OpenAI,
// whisper.cpp's server, faster-whisper servers, vLLM.
//
// Start never waits: it fails with ErrBusy when MaxInFlight utterances are
// open and with ErrUnavailable while the circuit breaker is open, so a call
// can switch to the keypad at once. Write only buffers; Close uploads the
// utterance and waits for the text within its context.
type OpenAITranscriber struct {
	c          *openaiClient
	rate       int
	slots      chan struct{}
	jsonOnly   atomic.Bool // the server refused verbose_json once
	busy       atomic.Int64
	dropped    atomic.Int64
	maxSamples int // per utterance; a field so tests can lower it
}

// NewOpenAITranscriber returns a transcriber for the server at cfg.BaseURL.
// It sends nothing until the first utterance.
func NewOpenAITranscriber(cfg OpenAIConfig) (*OpenAITranscriber, error) {
	c, err := newOpenAIClient("transcriber", &cfg, "whisper-1", 5*time.Second)
	if err != nil {
		return nil, err
	}
	switch cfg.UploadRate {
	case 0:
		cfg.UploadRate = 16000
	case 8000, 16000:
	default:
		return nil, fmt.Errorf("speech: openai transcriber: upload rate %d: want 8000 or 16000", cfg.UploadRate)
	}
	return &OpenAITranscriber{c: c, rate: cfg.UploadRate, slots: make(chan struct{}, cfg.MaxInFlight), maxSamples: maxUtterance}, nil
}

// Name is "openai:" and the model.
func (t *OpenAITranscriber) Name() string { return "openai:" + t.c.model }

// Healthy is false while the circuit breaker is open.
func (t *OpenAITranscriber) Healthy() bool {
	s, _, _ := t.c.br.state()
	return s != "open"
}

// Stats returns the transcriber's counters and state.
func (t *OpenAITranscriber) Stats() OpenAIStats {
	st := t.c.stats(len(t.slots))
	st.Busy = t.busy.Load()
	st.DroppedSamples = t.dropped.Load()
	return st
}

// CloseIdleConnections closes the idle connections of the transcriber's own
// connection pool (none when cfg.HTTPClient was given).
func (t *OpenAITranscriber) CloseIdleConnections() { t.c.closeIdle() }

// Start opens a stream for one utterance. The stream is aborted when ctx
// is done (the call ended), so its slot is never lost.
func (t *OpenAITranscriber) Start(ctx context.Context, opts Options) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("speech: openai transcriber: %w", err)
	}
	ok, trial := t.c.br.allow()
	if !ok {
		return nil, t.c.unavailable()
	}
	select {
	case t.slots <- struct{}{}:
	default:
		t.c.br.release(trial)
		t.busy.Add(1)
		return nil, fmt.Errorf("speech: openai transcriber: %w: %d utterances in flight", ErrBusy, cap(t.slots))
	}
	s := &openaiStream{
		t: t, opts: opts, trial: trial,
		lang:   whisperLanguage(opts.Language),
		prompt: hintPrompt(opts.Hints, opts.Language),
		pcm:    make([]int16, 0, 4*wav.Rate),
	}
	s.stop = context.AfterFunc(ctx, s.Abort)
	return s, nil
}

// openaiStream is one utterance of an OpenAITranscriber.
type openaiStream struct {
	t            *OpenAITranscriber
	opts         Options
	lang, prompt string
	trial        bool
	stop         func() bool
	once         sync.Once

	mu      sync.Mutex
	pcm     []int16
	dropped int
	done    bool               // Close or Abort was called
	cancel  context.CancelFunc // of Close's request; set while Close runs
	aborted bool
}

// Write buffers audio; past 60 s it is dropped and counted.
func (s *openaiStream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	room := s.t.maxSamples - len(s.pcm)
	if len(pcm) > room {
		s.dropped += len(pcm) - max(room, 0)
		pcm = pcm[:max(room, 0)]
	}
	s.pcm = append(s.pcm, pcm...)
	return nil
}

// Partials is nil: the API gives one result per utterance.
func (s *openaiStream) Partials() <-chan Result { return nil }

// Close uploads the utterance and waits, within ctx, for its text.
func (s *openaiStream) Close(ctx context.Context) (Result, error) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return Result{}, errStreamDone
	}
	s.done = true
	pcm, dropped := s.pcm, s.dropped
	s.pcm = nil
	rctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.mu.Unlock()
	defer s.release()
	defer cancel()

	log := s.t.c.log.With("call", s.opts.CallID)
	if dropped > 0 {
		s.t.dropped.Add(int64(dropped))
		log.Warn("utterance over the limit: audio dropped", "kept", time.Duration(len(pcm))*time.Second/wav.Rate,
			"dropped", time.Duration(dropped)*time.Second/wav.Rate)
	}
	if len(pcm) < minUtterance {
		s.t.c.br.release(s.trial)
		return Result{Final: true, Confidence: 0}, nil
	}
	start := time.Now()
	res, err := s.t.transcribe(rctx, pcm, s.lang, s.prompt)
	s.mu.Lock()
	aborted := s.aborted
	s.mu.Unlock()
	if aborted && err != nil {
		err = fmt.Errorf("%w (stream aborted)", context.Canceled)
	}
	s.t.c.done(s.trial, start, err)
	if err != nil {
		err = fmt.Errorf("speech: openai transcriber: %w", err)
		if !errors.Is(err, context.Canceled) {
			log.Warn("transcription failed", "audio", time.Duration(len(pcm))*time.Second/wav.Rate, "err", err)
		}
		return Result{}, err
	}
	log.Debug("transcribed", "audio", time.Duration(len(pcm))*time.Second/wav.Rate, "took", time.Since(start),
		"chars", len(res.Text), "confidence", res.Confidence)
	return res, nil
}

// Abort discards the utterance; a request in flight is cancelled.
func (s *openaiStream) Abort() {
	s.mu.Lock()
	if s.aborted {
		s.mu.Unlock()
		return
	}
	s.done, s.aborted, s.pcm = true, true, nil
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel() // Close is running: it releases the slot when it returns
		return
	}
	s.t.c.br.release(s.trial)
	s.release()
}

// release frees the stream's slot, once.
func (s *openaiStream) release() {
	s.once.Do(func() {
		s.stop()
		<-s.t.slots
	})
}

// transcribe sends one utterance, falling back from verbose_json to json
// when the server refuses the former (and remembering it).
func (t *OpenAITranscriber) transcribe(ctx context.Context, pcm []int16, lang, prompt string) (Result, error) {
	if t.rate != wav.Rate {
		pcm = wav.ResampleInt16(pcm, wav.Rate, t.rate)
	}
	var audio bytes.Buffer
	audio.Grow(44 + 2*len(pcm))
	if err := wav.Encode(&audio, pcm, t.rate); err != nil {
		return Result{}, fmt.Errorf("encoding the utterance: %w", err)
	}
	format := "verbose_json"
	if t.jsonOnly.Load() {
		format = "json"
	}
	res, err := t.request(ctx, audio.Bytes(), format, lang, prompt)
	var apiErr *OpenAIError
	if err != nil && format == "verbose_json" && errors.As(err, &apiErr) &&
		(apiErr.StatusCode == http.StatusBadRequest || apiErr.StatusCode == http.StatusUnprocessableEntity) {
		// Some servers and models (gpt-4o-transcribe) have no
		// verbose_json. If json works, stay with it; if not, the request
		// was bad for another reason: report the first refusal.
		if r, err2 := t.request(ctx, audio.Bytes(), "json", lang, prompt); err2 == nil {
			t.jsonOnly.Store(true)
			t.c.log.Info("server refused response_format verbose_json: using json from now on (no confidence)", "refusal", apiErr.Message)
			return r, nil
		}
	}
	if err != nil && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		err = fmt.Errorf("%w (check the URL and the model; whisper.cpp's server needs --request-path /v1 --inference-path /audio/transcriptions)", err)
	}
	return res, err
}

// request sends one utterance with the given response format.
func (t *OpenAITranscriber) request(ctx context.Context, audio []byte, format, lang, prompt string) (Result, error) {
	body, ct, err := t.form(audio, format, lang, prompt)
	if err != nil {
		return Result{}, err
	}
	resp, _, err := t.c.post(ctx, "/audio/transcriptions", ct, body, maxTranscript)
	if err != nil {
		return Result{}, err
	}
	return parseTranscription(resp)
}

// form builds the multipart/form-data body of a transcription request.
func (t *OpenAITranscriber) form(audio []byte, format, lang, prompt string) ([]byte, string, error) {
	var b bytes.Buffer
	b.Grow(len(audio) + 1024)
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="utterance.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, err := mw.CreatePart(h)
	if err == nil {
		_, err = part.Write(audio)
	}
	fields := [][2]string{{"model", t.c.model}, {"response_format", format}, {"temperature", "0"}}
	if lang != "" {
		fields = append(fields, [2]string{"language", lang})
	}
	if prompt != "" {
		fields = append(fields, [2]string{"prompt", prompt})
	}
	for _, f := range fields {
		if err == nil {
			err = mw.WriteField(f[0], f[1])
		}
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return nil, "", fmt.Errorf("building the form: %w", err)
	}
	return b.Bytes(), mw.FormDataContentType(), nil
}

// transcription is the answer: json has only text; verbose_json has
// segments with Whisper's scores (vLLM leaves out no_speech_prob).
type transcription struct {
	Text     *string `json:"text"`
	Segments []struct {
		Start        float64  `json:"start"`
		End          float64  `json:"end"`
		Text         string   `json:"text"`
		AvgLogprob   *float64 `json:"avg_logprob"`
		NoSpeechProb *float64 `json:"no_speech_prob"`
	} `json:"segments"`
}

// Whisper's own thresholds (openai-whisper's transcribe defaults): a
// segment whose no_speech_prob is over 0.6 while its avg_logprob is under
// -1 is silence or noise the decoder hallucinated words for ("Thank you.",
// "谢谢观看"), and Whisper drops it.
const (
	noSpeechThreshold = 0.6
	logprobThreshold  = -1.0
)

// parseTranscription reads a json or verbose_json answer.
//
// Confidence: each segment's avg_logprob is the mean log-probability of
// its tokens, so exp(avg_logprob) is their geometric-mean probability: 1
// for a transcript the model is sure of, 0.37 at -1 (where Whisper treats
// a decode as failed). It is multiplied by 1 − no_speech_prob (the model's
// belief that there was speech at all, 1 when the server does not say),
// and averaged over the segments weighted by their duration. Without
// segment scores (json) the confidence is -1, unknown.
func parseTranscription(body []byte) (Result, error) {
	var tr transcription
	if err := json.Unmarshal(body, &tr); err != nil {
		return Result{}, fmt.Errorf("answer is not a transcription (JSON with text): %w", err)
	}
	if tr.Text == nil {
		return Result{}, errors.New("answer is not a transcription: no text field")
	}
	text := *tr.Text
	conf := -1.0
	var sum, weight float64
	var kept []string
	dropped := false
	for _, sg := range tr.Segments {
		if sg.AvgLogprob == nil {
			kept = append(kept, sg.Text)
			continue
		}
		noSpeech := 0.0
		if sg.NoSpeechProb != nil {
			noSpeech = min(max(*sg.NoSpeechProb, 0), 1)
		}
		if noSpeech > noSpeechThreshold && *sg.AvgLogprob < logprobThreshold {
			dropped = true
			continue
		}
		kept = append(kept, sg.Text)
		w := sg.End - sg.Start
		if !(w > 0) || math.IsInf(w, 0) {
			w = 1
		}
		sum += w * math.Exp(min(*sg.AvgLogprob, 0)) * (1 - noSpeech)
		weight += w
	}
	if dropped {
		text = strings.Join(kept, " ")
	}
	if weight > 0 {
		conf = min(max(sum/weight, 0), 1)
	}
	text = strings.Join(strings.Fields(text), " ")
	if text == "" && (conf >= 0 || dropped) {
		conf = 0
	}
	return Result{Text: text, Confidence: conf, Final: true}, nil
}

// whisperLanguage turns a BCP 47 tag into the ISO 639-1 code the API
// takes: "en-US" → "en", "zh-CN" → "zh", "cmn-Hans" and "yue" → "zh". An
// empty or unusable tag gives "" (the server detects the language).
func whisperLanguage(tag string) string {
	primary, _, _ := strings.Cut(normTag(tag), "-")
	switch primary {
	case "cmn", "yue":
		return "zh"
	}
	if len(primary) == 2 && primary[0] >= 'a' && primary[0] <= 'z' && primary[1] >= 'a' && primary[1] <= 'z' {
		return primary
	}
	return ""
}

// hintPrompt joins the script's expected phrases into a Whisper prompt,
// which biases the decoder towards that vocabulary and, for Chinese, towards
// simplified characters and Chinese punctuation. Duplicates and blanks are
// left out; it stops at the last whole hint under maxPrompt bytes.
func hintPrompt(hints []string, language string) string {
	sep := ", "
	if whisperLanguage(language) == "zh" {
		sep = "，"
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, h := range hints {
		h = strings.Join(strings.Fields(strings.ToValidUTF8(h, "")), " ")
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		n := len(h)
		if b.Len() > 0 {
			n += len(sep)
		}
		if b.Len()+n > maxPrompt {
			break
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(h)
	}
	return b.String()
}
