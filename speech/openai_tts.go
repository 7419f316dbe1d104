package speech

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/media/wav"
)

// OpenAISynthesizerConfig configures an OpenAISynthesizer.
type OpenAISynthesizerConfig struct {
	OpenAIConfig
	// Voice is the default voice: default "alloy".
	Voice string
	// Voices maps BCP 47 languages to voices, over the default: {"zh":
	// "…", "en-GB": "fable"}. A tag is matched whole, then by shorter
	// prefixes ("zh-CN" uses the "zh" entry).
	Voices map[string]string
	// Format is the response_format asked for: "wav" (default) or "pcm"
	// (raw 16-bit little-endian mono at PCMRate, OpenAI's 24 kHz).
	Format  string
	PCMRate int
	// Speed (0.25–4) and Instructions (gpt-4o-mini-tts: "speak slowly and
	// warmly") are sent when set.
	Speed        float64
	Instructions string
	// MaxText is the longest text in characters: default 4096, OpenAI's
	// limit.
	MaxText int
}

// maxSpeech bounds the audio of one answer: 4096 characters are about five
// minutes of speech, 14 MB at 24 kHz; 64 MiB leaves room for float or
// higher-rate WAV.
const maxSpeech = 64 << 20

// OpenAISynthesizer is a Synthesizer that asks a server of the OpenAI speech
// API (POST {BaseURL}/audio/speech, JSON in, audio out) and converts its
// answer to 8 kHz mono. Requests beyond MaxInFlight wait for a slot within
// their context; while the circuit breaker is open, Synthesize fails at
// once with an error wrapping ErrUnavailable.
type OpenAISynthesizer struct {
	c        *openaiClient
	cfg      OpenAISynthesizerConfig
	voices   map[string]string // normalised tag → voice
	sem      chan struct{}
	instHash string
}

// NewOpenAISynthesizer returns a synthesiser for the server at
// cfg.BaseURL. It sends nothing until the first Synthesize.
func NewOpenAISynthesizer(cfg OpenAISynthesizerConfig) (*OpenAISynthesizer, error) {
	c, err := newOpenAIClient("synthesizer", &cfg.OpenAIConfig, "tts-1", 30*time.Second)
	if err != nil {
		return nil, err
	}
	if cfg.Voice == "" {
		cfg.Voice = "alloy"
	}
	switch cfg.Format {
	case "":
		cfg.Format = "wav"
	case "wav", "pcm":
	default:
		return nil, fmt.Errorf("speech: openai synthesizer: response format %q: want wav or pcm", cfg.Format)
	}
	if cfg.PCMRate == 0 {
		cfg.PCMRate = 24000
	}
	if cfg.PCMRate < wav.MinSampleRate || cfg.PCMRate > wav.MaxSampleRate {
		return nil, fmt.Errorf("speech: openai synthesizer: PCM rate %d out of range", cfg.PCMRate)
	}
	if cfg.Speed != 0 && (cfg.Speed < 0.25 || cfg.Speed > 4) {
		return nil, fmt.Errorf("speech: openai synthesizer: speed %g: want 0.25 to 4", cfg.Speed)
	}
	if cfg.MaxText <= 0 {
		cfg.MaxText = 4096
	}
	s := &OpenAISynthesizer{c: c, cfg: cfg, voices: map[string]string{}, sem: make(chan struct{}, cfg.MaxInFlight)}
	for lang, v := range cfg.Voices {
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("speech: openai synthesizer: empty voice for %q", lang)
		}
		s.voices[normTag(lang)] = strings.TrimSpace(v)
	}
	if cfg.Instructions != "" {
		h := sha256.Sum256([]byte(cfg.Instructions))
		s.instHash = fmt.Sprintf("%x", h[:8])
	}
	return s, nil
}

// Name is "openai:" and the model, so cached prompts of different engines
// never mix.
func (s *OpenAISynthesizer) Name() string { return "openai:" + s.c.model }

// Version is everything else that changes the audio: the server (a
// different server may give the same model name different voices), the
// format, speed and instructions.
func (s *OpenAISynthesizer) Version() string {
	format := s.cfg.Format
	if format == "pcm" {
		format += fmt.Sprint(s.cfg.PCMRate)
	}
	return fmt.Sprintf("url=%s format=%s speed=%g instructions=%s", s.c.shown, format, s.cfg.Speed, s.instHash)
}

// Voice is the configured voice for language: the Voices entry for the
// tag or its shortest prefix that has one, else the default voice.
func (s *OpenAISynthesizer) Voice(language string) string {
	for t := normTag(language); t != ""; {
		if v, ok := s.voices[t]; ok {
			return v
		}
		i := strings.LastIndexByte(t, '-')
		if i < 0 {
			break
		}
		t = t[:i]
	}
	return s.cfg.Voice
}

// Healthy is false while the circuit breaker is open.
func (s *OpenAISynthesizer) Healthy() bool {
	st, _, _ := s.c.br.state()
	return st != "open"
}

// Stats returns the synthesiser's counters and state.
func (s *OpenAISynthesizer) Stats() OpenAIStats { return s.c.stats(len(s.sem)) }

// CloseIdleConnections closes the idle connections of the synthesiser's own
// connection pool.
func (s *OpenAISynthesizer) CloseIdleConnections() { s.c.closeIdle() }

// speechRequest is the JSON body of POST /audio/speech.
type speechRequest struct {
	Model          string  `json:"model"`
	Input          string  `json:"input"`
	Voice          string  `json:"voice"`
	ResponseFormat string  `json:"response_format"`
	Speed          float64 `json:"speed,omitempty"`
	Instructions   string  `json:"instructions,omitempty"`
}

// Synthesize renders text with voice ("" for the default voice) as 8 kHz
// mono PCM. A voice the server does not know gives an error wrapping
// ErrUnknownVoice (when the server says which field was wrong, as OpenAI
// does).
func (s *OpenAISynthesizer) Synthesize(ctx context.Context, text, voice string) ([]int16, error) {
	text = strings.TrimSpace(strings.ToValidUTF8(text, " "))
	if text == "" {
		return nil, nil
	}
	if n := utf8.RuneCountInString(text); n > s.cfg.MaxText {
		return nil, fmt.Errorf("speech: openai synthesizer: %w: %d characters, the limit is %d", ErrTextTooLong, n, s.cfg.MaxText)
	}
	if voice == "" {
		voice = s.cfg.Voice
	}
	body, err := json.Marshal(speechRequest{Model: s.c.model, Input: text, Voice: voice, ResponseFormat: s.cfg.Format,
		Speed: s.cfg.Speed, Instructions: s.cfg.Instructions})
	if err != nil {
		return nil, fmt.Errorf("speech: openai synthesizer: %w", err)
	}
	ok, trial := s.c.br.allow()
	if !ok {
		return nil, s.c.unavailable()
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		s.c.br.release(trial)
		return nil, fmt.Errorf("speech: openai synthesizer: waiting for a slot: %w", ctx.Err())
	}
	defer func() { <-s.sem }()
	start := time.Now()
	pcm, err := s.request(ctx, body)
	s.c.done(trial, start, err)
	if err != nil {
		var apiErr *OpenAIError
		if errors.As(err, &apiErr) && apiErr.StatusCode/100 == 4 && apiErr.Param == "voice" {
			err = fmt.Errorf("%w %q: %w", ErrUnknownVoice, voice, err)
		}
		return nil, fmt.Errorf("speech: openai synthesizer: %w", err)
	}
	s.c.log.Debug("synthesized", "voice", voice, "chars", utf8.RuneCountInString(text),
		"audio", time.Duration(len(pcm))*time.Second/wav.Rate, "took", time.Since(start))
	return pcm, nil
}

func (s *OpenAISynthesizer) request(ctx context.Context, body []byte) ([]int16, error) {
	resp, ct, err := s.c.post(ctx, "/audio/speech", "application/json", body, maxSpeech)
	if err != nil {
		return nil, err
	}
	return s.decode(resp, ct)
}

// decode converts the answer to 8 kHz mono: a WAV (whatever was asked for:
// some servers answer WAV to pcm) by its header, raw PCM when pcm was asked
// for and the answer is not a WAV.
func (s *OpenAISynthesizer) decode(b []byte, contentType string) ([]int16, error) {
	if len(b) >= 12 && (string(b[:4]) == "RIFF" || string(b[:4]) == "RF64") && string(b[8:12]) == "WAVE" {
		pcm, _, err := wav.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("the answer's WAV: %w", err)
		}
		return pcm, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if s.cfg.Format != "pcm" || strings.HasPrefix(mt, "application/json") || strings.HasPrefix(mt, "text/") {
		return nil, fmt.Errorf("the answer is not a WAV file (Content-Type %q, %d bytes): does the server support response_format %q?", contentType, len(b), s.cfg.Format)
	}
	if len(b)%2 != 0 {
		b = b[:len(b)-1]
	}
	raw := make([]int16, len(b)/2)
	for i := range raw {
		raw[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return wav.ResampleInt16(raw, s.cfg.PCMRate, wav.Rate), nil
}
