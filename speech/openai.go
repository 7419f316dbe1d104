package speech

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OpenAIConfig configures a client of an OpenAI-compatible audio API: the
// transcriber (POST {BaseURL}/audio/transcriptions) and the synthesiser
// (POST {BaseURL}/audio/speech). Zero values mean defaults.
type OpenAIConfig struct {
	// BaseURL is the API root, up to and including its version:
	// "https://api.openai.com/v1", "http://127.0.0.1:8000/v1".
	BaseURL string
	// APIKey is sent as "Authorization: Bearer <key>" when set. It is never
	// logged, and Stats and error messages never show it.
	APIKey string
	// Model is the model field of each request: default "whisper-1" for
	// the transcriber, "tts-1" for the synthesiser. Servers that host one
	// model (whisper.cpp) ignore it; vLLM wants the name it serves.
	Model string
	// Timeout bounds one HTTP request, body included; default 5 s for the
	// transcriber, 30 s for the synthesiser (a long prompt takes a while).
	Timeout time.Duration
	// Retries is how many times a request is sent again after a connection
	// error, a 5xx or a 429, with a short backoff and never past the
	// caller's context: 0 means the default, 1; a negative value, none. A
	// request that timed out is not sent again: the server is overloaded,
	// and a second wait would double the caller's silence.
	Retries int
	// MaxInFlight bounds the requests at once: default 8. The transcriber's
	// Start fails with ErrBusy when that many utterances are open; the
	// synthesiser waits (within its context) for a slot.
	MaxInFlight int
	// BreakerFailures consecutive failures open the circuit breaker
	// (default 3): for BreakerCooldown (default 30 s) requests fail at once
	// with ErrUnavailable, then a single trial request decides whether it
	// closes again.
	BreakerFailures int
	BreakerCooldown time.Duration
	// UploadRate is the sample rate of the WAV the transcriber uploads:
	// 16000 (default) or 8000. Whisper works at 16 kHz and every server
	// resamples 8 kHz audio — except whisper.cpp's server up to v1.7.4,
	// which rejects anything but 16 kHz; upsampling costs a millisecond of
	// CPU per utterance and twice the (small) upload.
	UploadRate int
	// HTTPClient sends the requests; default a client with its own
	// connection pool sized for MaxInFlight.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// OpenAIError is an error answer from the server, with the message it gave
// (OpenAI's {"error": {"message": …}}, whisper.cpp's {"error": "…"},
// FastAPI's {"detail": …}, or the start of a text body).
type OpenAIError struct {
	StatusCode int
	Message    string
	Type       string // OpenAI's error type ("invalid_request_error"), when given
	Param      string // the request field at fault ("voice"), when given
	Code       string
}

func (e *OpenAIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no error message"
	}
	return fmt.Sprintf("server answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// retryable tells whether sending the same request again may succeed.
func (e *OpenAIError) retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// parseAPIError reads an error body in any of the shapes servers use.
func parseAPIError(status int, body []byte) *OpenAIError {
	e := &OpenAIError{StatusCode: status}
	var v struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"` // vLLM's older ErrorResponse
		Type    string          `json:"type"`
	}
	if json.Unmarshal(body, &v) == nil {
		var obj struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Param   *string         `json:"param"`
			Code    json.RawMessage `json:"code"`
		}
		var s string
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
			e.Message, e.Type = obj.Message, obj.Type
			if obj.Param != nil {
				e.Param = *obj.Param
			}
			if json.Unmarshal(obj.Code, &s) == nil {
				e.Code = s
			} else if c := strings.TrimSpace(string(obj.Code)); c != "" && c != "null" {
				e.Code = c
			}
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil:
			e.Message = s
		case len(v.Detail) > 0 && json.Unmarshal(v.Detail, &s) == nil:
			e.Message = s
		case len(v.Detail) > 0:
			var items []struct {
				Loc []any  `json:"loc"`
				Msg string `json:"msg"`
			}
			if json.Unmarshal(v.Detail, &items) == nil {
				var parts []string
				for _, it := range items {
					loc := make([]string, 0, len(it.Loc))
					for _, l := range it.Loc {
						loc = append(loc, fmt.Sprint(l))
					}
					parts = append(parts, strings.Join(loc, ".")+": "+it.Msg)
				}
				e.Message = strings.Join(parts, "; ")
			} else {
				e.Message = string(v.Detail)
			}
		case v.Message != "":
			e.Message, e.Type = v.Message, v.Type
		}
	}
	if e.Message == "" {
		e.Message = strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")
	}
	if len(e.Message) > 300 {
		e.Message = strings.ToValidUTF8(e.Message[:300], "") + "…"
	}
	return e
}

// Defaults of the circuit breaker and the retry backoff.
const (
	defaultBreakerFailures = 3
	defaultBreakerCooldown = 30 * time.Second
	firstBackoff           = 100 * time.Millisecond
	// maxRetryDelay: a server that asks us to wait longer (Retry-After) is
	// not retried; the caller is on the phone.
	maxRetryDelay = 2 * time.Second
	latencyWindow = 256
)

// openaiClient is what the transcriber and the synthesiser share: the HTTP
// requests with their timeout and retries, the circuit breaker and the
// counters.
type openaiClient struct {
	kind     string // "transcriber" or "synthesizer", for messages
	base     string // BaseURL without its trailing slash
	shown    string // BaseURL without credentials or query, for logs and Stats
	key      string
	model    string
	hc       *http.Client
	own      *http.Transport // when hc is ours, to close idle connections
	timeout  time.Duration
	retries  int
	backoff  time.Duration
	log      *slog.Logger
	br       *breaker
	requests atomic.Int64 // HTTP requests sent, retries included
	retried  atomic.Int64
	failures atomic.Int64 // operations that failed
	rejected atomic.Int64 // operations refused by the open breaker

	mu        sync.Mutex
	latencies []time.Duration // ring of the last successful operations
	next      int
	lastErr   string
	lastErrAt time.Time
}

func newOpenAIClient(kind string, cfg *OpenAIConfig, defModel string, defTimeout time.Duration) (*openaiClient, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("speech: openai %s: no base URL (e.g. http://127.0.0.1:8000/v1)", kind)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("speech: openai %s: base URL: %w", kind, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("speech: openai %s: base URL %q is not an http(s) URL with a host", kind, redactURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("speech: openai %s: base URL %q must not have a query or fragment", kind, redactURL(u))
	}
	if cfg.Model == "" {
		cfg.Model = defModel
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defTimeout
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 1
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 8
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = defaultBreakerFailures
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = defaultBreakerCooldown
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &openaiClient{
		kind: kind, base: strings.TrimRight(cfg.BaseURL, "/"), shown: redactURL(u), key: cfg.APIKey, model: cfg.Model,
		hc: cfg.HTTPClient, timeout: cfg.Timeout, retries: cfg.Retries, backoff: firstBackoff,
		log:       cfg.Logger.With("backend", "openai:"+cfg.Model, "url", redactURL(u)),
		latencies: make([]time.Duration, 0, latencyWindow),
	}
	c.br = &breaker{threshold: cfg.BreakerFailures, cooldown: cfg.BreakerCooldown, now: time.Now, log: c.log}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.MaxInFlight
		c.own = tr
		c.hc = &http.Client{Transport: tr}
	}
	return c, nil
}

// redactURL shows a URL without user information, query or fragment.
func redactURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return strings.TrimRight(v.String(), "/")
}

// closeIdle closes the idle connections of the client's own pool.
func (c *openaiClient) closeIdle() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

// errNoAnswer marks a request that got no answer within the timeout.
var errNoAnswer = errors.New("no answer")

// post sends body to {base}{path} and returns the body of a 2xx answer (at
// most maxResp bytes) and its Content-Type. Connection errors, 5xx and 429
// are retried; the error of the last attempt is returned, wrapping an
// *OpenAIError when the server answered.
func (c *openaiClient) post(ctx context.Context, path, contentType string, body []byte, maxResp int64) ([]byte, string, error) {
	for attempt := 0; ; attempt++ {
		resp, ct, retryAfter, err := c.once(ctx, path, contentType, body, maxResp)
		if err == nil {
			return resp, ct, nil
		}
		var apiErr *OpenAIError
		retry := attempt < c.retries && ctx.Err() == nil
		switch {
		case errors.As(err, &apiErr):
			retry = retry && apiErr.retryable()
		case errors.Is(err, errNoAnswer), errors.Is(err, errTooLarge):
			retry = false
		}
		if !retry {
			return nil, "", err
		}
		delay := c.backoff << attempt
		delay += rand.N(delay/2 + 1)
		delay = max(delay, retryAfter)
		if dl, ok := ctx.Deadline(); delay > maxRetryDelay || ok && time.Until(dl) < delay {
			return nil, "", err
		}
		c.retried.Add(1)
		c.log.Debug("retrying", "path", path, "attempt", attempt+1, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, "", fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), err)
		}
	}
}

var errTooLarge = errors.New("answer too large")

// once sends one request.
func (c *openaiClient) once(ctx context.Context, path, contentType string, body []byte, maxResp int64) (resp []byte, ct string, retryAfter time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, "", 0, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "hotline")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	c.requests.Add(1)
	r, err := c.hc.Do(req)
	if err != nil {
		return nil, "", 0, c.netErr(ctx, actx, "POST "+path, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, maxResp+1))
	if err != nil {
		return nil, "", 0, c.netErr(ctx, actx, "reading the answer to POST "+path, err)
	}
	if r.StatusCode/100 != 2 {
		if s := r.Header.Get("Retry-After"); s != "" {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				retryAfter = time.Duration(n) * time.Second
			}
		}
		return nil, "", retryAfter, fmt.Errorf("POST %s: %w", path, parseAPIError(r.StatusCode, b))
	}
	if int64(len(b)) > maxResp {
		return nil, "", 0, fmt.Errorf("POST %s: %w: more than %d bytes", path, errTooLarge, maxResp)
	}
	return b, r.Header.Get("Content-Type"), 0, nil
}

// netErr describes a failed exchange without the URL (it may carry
// credentials), telling a time-out from a connection error.
func (c *openaiClient) netErr(ctx, actx context.Context, what string, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", what, ctx.Err())
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: %w within %v: %w", what, errNoAnswer, c.timeout, context.DeadlineExceeded)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: %w: %w", what, errNoAnswer, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// done records an operation's outcome: its latency when it succeeded, the
// breaker's verdict, the last error. Failures the caller caused (it hung
// up, aborted) give the breaker no verdict; a caller's deadline does count:
// the server was too slow for it.
func (c *openaiClient) done(trial bool, start time.Time, err error) {
	if err == nil {
		c.mu.Lock()
		d := time.Since(start)
		if len(c.latencies) < latencyWindow {
			c.latencies = append(c.latencies, d)
		} else {
			c.latencies[c.next] = d
			c.next = (c.next + 1) % latencyWindow
		}
		c.mu.Unlock()
		c.br.result(trial, true)
		return
	}
	if errors.Is(err, context.Canceled) {
		c.br.release(trial)
		return
	}
	c.failures.Add(1)
	c.mu.Lock()
	c.lastErr, c.lastErrAt = err.Error(), time.Now()
	c.mu.Unlock()
	if requestFault(err) {
		c.br.release(trial)
		return
	}
	c.br.result(trial, false)
}

// requestFault tells whether the server refused this one request (a voice
// it does not have, audio it cannot read) rather than failing: that says
// nothing about the next request, so the breaker does not count it. A wrong
// key (401, 403) or URL or model (404) fails every request and does count.
func requestFault(err error) bool {
	var apiErr *OpenAIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// OpenAIStats describe a client of an OpenAI-compatible API, for /healthz
// and metrics.
type OpenAIStats struct {
	Backend string `json:"backend"` // "openai:whisper-1"
	URL     string `json:"url"`     // the base URL, without credentials
	Healthy bool   `json:"healthy"` // the breaker is not open
	// Breaker is "closed" (requests go out), "open" (they fail at once
	// with ErrUnavailable) or "half-open" (one trial request is out or
	// may go).
	Breaker             string `json:"breaker"`
	BreakerOpens        int64  `json:"breaker_opens"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	Requests            int64  `json:"requests"`    // HTTP requests sent, retries included
	Retries             int64  `json:"retries"`     // of them, retries
	Failures            int64  `json:"failures"`    // utterances or syntheses that failed
	Unavailable         int64  `json:"unavailable"` // refused at once: breaker open
	Busy                int64  `json:"busy"`        // transcriber: Start refused, MaxInFlight reached
	InFlight            int    `json:"in_flight"`   // open utterances or running syntheses
	DroppedSamples      int64  `json:"dropped_samples,omitempty"`
	// Latency of the last (up to 256) successful operations, end of speech
	// (Close) or Synthesize to result, retries included.
	LatencyP50Ms float64   `json:"latency_p50_ms"`
	LatencyP99Ms float64   `json:"latency_p99_ms"`
	LatencyMaxMs float64   `json:"latency_max_ms"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
}

func (c *openaiClient) stats(inFlight int) OpenAIStats {
	st := OpenAIStats{
		Backend: "openai:" + c.model, URL: c.shown,
		Requests: c.requests.Load(), Retries: c.retried.Load(), Failures: c.failures.Load(),
		Unavailable: c.rejected.Load(), InFlight: inFlight,
	}
	st.Breaker, st.ConsecutiveFailures, st.BreakerOpens = c.br.state()
	st.Healthy = st.Breaker != "open"
	c.mu.Lock()
	lat := slices.Clone(c.latencies)
	st.LastError, st.LastErrorAt = c.lastErr, c.lastErrAt
	c.mu.Unlock()
	if n := len(lat); n > 0 {
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		st.LatencyP50Ms = ms(lat[(n-1)*50/100])
		st.LatencyP99Ms = ms(lat[(n-1)*99/100])
		st.LatencyMaxMs = ms(lat[n-1])
	}
	return st
}

// breaker is a circuit breaker: closed, it lets every request through and
// counts consecutive failures; at the threshold it opens for the cool-down,
// refusing everything; then it lets one trial through (half-open), and that
// trial's success closes it, its failure opens it again.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	log       *slog.Logger

	mu        sync.Mutex
	fails     int
	open      bool
	openUntil time.Time
	trialOut  bool
	opens     int64
}

// allow tells whether an operation may start; trial is true for the one
// trial of a half-open breaker, which must report with result or release.
func (b *breaker) allow() (ok, trial bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return true, false
	case b.now().Before(b.openUntil) || b.trialOut:
		return false, false
	}
	b.trialOut = true
	return true, true
}

// result records an operation's outcome.
func (b *breaker) result(trial, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if trial {
		b.trialOut = false
	}
	if ok {
		if b.open {
			b.log.Info("speech server answers again: breaker closed")
		}
		b.fails, b.open = 0, false
		return
	}
	b.fails++
	if trial || !b.open && b.fails >= b.threshold {
		b.open, b.openUntil = true, b.now().Add(b.cooldown)
		b.opens++
		b.log.Warn("speech server failing: breaker open, requests refused until a trial succeeds",
			"consecutive_failures", b.fails, "cooldown", b.cooldown)
	}
}

// release ends a trial that gave no verdict (the caller gave up).
func (b *breaker) release(trial bool) {
	if trial {
		b.mu.Lock()
		b.trialOut = false
		b.mu.Unlock()
	}
}

func (b *breaker) state() (string, int, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := "closed"
	switch {
	case b.open && (b.trialOut || !b.now().Before(b.openUntil)):
		s = "half-open"
	case b.open:
		s = "open"
	}
	return s, b.fails, b.opens
}

// unavailable is the error of an operation the open breaker refused.
func (c *openaiClient) unavailable() error {
	c.rejected.Add(1)
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	return fmt.Errorf("speech: openai %s at %s: %w (circuit open after repeated failures; last: %s)", c.kind, c.shown, ErrUnavailable, last)
}
