// Package metrics exposes hotline's Prometheus metrics (GET /metrics).
//
// Two kinds of numbers go in. Most are pulled: the SIP server, the media
// pacer, the calls' speech counters and the prompt cache already count with
// atomics, and a Collector reads them when Prometheus scrapes, so the paths
// that count (every RTP packet, every SIP message) do nothing they did not
// do before. The rest are pushed by the server's hooks, once per event that
// is rare next to a packet: a call's end (CallEnded), a caller's turn
// (Turn), an utterance recognised (Recognition), a prompt synthesised
// (Synthesis, or wrap the synthesiser with Synthesizer), a store write
// (StoreWrite, StoreDropped), a script reload (ScriptReload). Every method is
// safe for concurrent use and on a nil *Metrics (it does nothing), and none
// blocks: they add to counters and histograms.
//
// Label values are bounded whatever the caller passes: outcomes, methods
// and operations outside their known sets are counted as "other", backend
// names are cut to their engine ("openai:whisper-1" → "openai") and at most
// eight distinct ones are kept apart. No metric has a call ID, a number or
// what a caller said as a label.
//
// Each Metrics has its own registry (with the Go runtime and process
// collectors), so two can live in one process (tests, two servers).
// docs/metrics.md lists every metric.
package metrics

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/speech"
)

// Sources are what the metrics read when they are scraped. Every field is
// optional: the metrics of a nil source are left out of the exposition (not
// shown as zero). Each func is called on every scrape, from the scraping
// goroutine, and must be safe for concurrent use and quick (they all read
// atomics or take a short lock).
type Sources struct {
	Version  string // hotline's version, for hotline_build_info
	MaxCalls int    // the configured concurrent call limit (hotline_calls_max); 0: not exported

	ActiveCalls func() int  // calls being set up or in progress: sip.Server.ActiveCalls
	Draining    func() bool // the server refuses new calls (hotline_draining)

	SIP      func() sip.Counters                         // sip.Server.Counters
	Media    func() media.Totals                         // media.Pacer.Totals
	Lateness func(bounds []time.Duration) media.Lateness // media.Pacer.Lateness

	Speech      func() Speech       // the calls' listening: from call.Runner.SpeechStats
	PromptCache func() speech.Stats // speech.Cache.Stats (the sum, when there are two caches)
	StoreQueue  func() int          // call record writes waiting: records.Recorder.Stats().QueueDepth
	// RecordingsDropped counts recorded audio lost because the disk fell
	// behind: call.Runner.RecordingsDropped.
	RecordingsDropped func() uint64
}

// Speech are the speech counters read on scrape: the fields of the same
// name of call.SpeechStats (the call package is not imported here, so that
// metrics stays a leaf the call package could use one day).
type Speech struct {
	BargeIns            uint64 // prompts abandoned because the caller spoke
	FallbackBusy        uint64 // calls switched to the keypad: every recogniser slot was in use
	FallbackUnavailable uint64 // … the recogniser is down (circuit breaker open)
	FallbackTimeout     uint64 // … no answer within the recognise timeout
	FallbackError       uint64 // … the recogniser failed
	NoRecognizer        uint64 // speech-only questions answered by keys: no recogniser configured
	FramesDropped       uint64 // caller frames a call loop could not take in time
}

// Label values.
var (
	// CallOutcomes are the outcomes of hotline_calls_total and
	// hotline_call_duration_seconds (records.Outcomes, and "other").
	CallOutcomes = []string{"resolved", "transferred", "abandoned", "after_hours", "message_left", "unresolved",
		"error", "interrupted", "other"}
	// TurnOutcomes are dialog.Understood's outcomes, and "other".
	TurnOutcomes = []string{"matched", "no_match", "low_confidence", "collected", "invalid", "other"}
	// RecognitionOutcomes are call.SpeechReport's outcomes, and "other".
	RecognitionOutcomes = []string{"recognized", "empty", "key", "hangup", "busy", "unavailable", "timeout", "error", "other"}
	// StoreOps are the call record writes (records' jobs), and "other".
	StoreOps = []string{"start", "turn", "question", "update", "end", "other"}
)

// Histogram buckets, in seconds.
var (
	// A call: from a quick after-hours message to an hour on hold.
	callDurationBuckets = []float64{5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600}
	// End of the utterance → its text: the responsiveness bar is 60 ms plus
	// this, and callers notice above a second.
	recognitionBuckets = []float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10}
	// A prompt rendering: espeak-ng takes tens of milliseconds, a speech
	// server up to seconds.
	synthesisBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30}
	// One store write: SQLite on a local disk, PostgreSQL over a network.
	storeBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	// How late an RTP frame left its slot: the pacing bar is p99 within
	// 2 ms; frames up to 0.5 ms early are normal. On the pacer's own
	// histogram steps, so the counts are exact.
	latenessBounds = []time.Duration{-500 * time.Microsecond, 0, 500 * time.Microsecond, time.Millisecond,
		2 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
		20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
)

// Metrics are hotline's metrics: a registry, the collectors that read the
// Sources, and the metrics the observation methods move.
type Metrics struct {
	reg *prometheus.Registry
	src Sources

	calls       []prometheus.Counter // by CallOutcomes index
	callSeconds []prometheus.Observer
	turns       []prometheus.Counter // by TurnOutcomes index

	recognitions       *prometheus.CounterVec   // backend, outcome
	recognitionSeconds *prometheus.HistogramVec // backend
	synthesisSeconds   *prometheus.HistogramVec // backend, cached
	synthesisFailures  *prometheus.CounterVec   // backend
	backends           backendSet

	storeSeconds []prometheus.Observer // by StoreOps index
	storeErrors  []prometheus.Counter
	storeDropped prometheus.Counter

	reloads    [2]prometheus.Counter // ok, failed
	lastReload prometheus.Gauge
}

// New makes the metrics of a server reading src, in a registry of their
// own.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), src: src}
	r := m.reg
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "hotline_build_info",
		Help:        "Always 1: the running hotline's version and the Go version it was built with.",
		ConstLabels: prometheus.Labels{"version": orUnknown(src.Version), "goversion": runtime.Version()}})
	info.Set(1)
	r.MustRegister(info)

	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_calls_total",
		Help: "Answered calls that ended, by outcome (as the call records keep it)."}, []string{"outcome"})
	callSeconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hotline_call_duration_seconds",
		Help: "Answered calls from the answer to the end, by outcome.", Buckets: callDurationBuckets}, []string{"outcome"})
	for _, o := range CallOutcomes {
		m.calls = append(m.calls, calls.WithLabelValues(o))
		m.callSeconds = append(m.callSeconds, callSeconds.WithLabelValues(o))
	}
	turns := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_turns_total",
		Help: "Caller inputs the dialog engine handled, by how it understood them (no_match and low_confidence: not understood)."},
		[]string{"outcome"})
	for _, o := range TurnOutcomes {
		m.turns = append(m.turns, turns.WithLabelValues(o))
	}
	m.recognitions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_recognitions_total",
		Help: "Caller utterances sent to speech recognition, by backend and outcome."}, []string{"backend", "outcome"})
	m.recognitionSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hotline_recognition_duration_seconds",
		Help:    "From the end of a caller's utterance to its text (recognized or empty), by backend.",
		Buckets: recognitionBuckets}, []string{"backend"})
	m.synthesisSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hotline_synthesis_duration_seconds",
		Help:    "Text-to-speech of one prompt, by backend; cached=\"false\" for a rendering by the engine.",
		Buckets: synthesisBuckets}, []string{"backend", "cached"})
	m.synthesisFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_synthesis_failures_total",
		Help: "Prompt renderings the text-to-speech engine failed, by backend."}, []string{"backend"})

	storeSeconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hotline_store_write_duration_seconds",
		Help: "Call record writes to the database, by operation (failed ones included).", Buckets: storeBuckets}, []string{"op"})
	storeErrors := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_store_write_errors_total",
		Help: "Call record writes the database refused, by operation."}, []string{"op"})
	for _, op := range StoreOps {
		m.storeSeconds = append(m.storeSeconds, storeSeconds.WithLabelValues(op))
		m.storeErrors = append(m.storeErrors, storeErrors.WithLabelValues(op))
	}
	m.storeDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_store_writes_dropped_total",
		Help: "Call record writes dropped because the write queue was full or closed."})

	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_script_reloads_total",
		Help: "Script reloads (SIGHUP or a change of its files), by result: ok, or failed (the old script kept serving)."},
		[]string{"result"})
	m.reloads = [2]prometheus.Counter{reloads.WithLabelValues("ok"), reloads.WithLabelValues("failed")}
	m.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{Name: "hotline_script_last_reload_success",
		Help: "1 if the last script reload succeeded (or none was tried), 0 if it failed."})
	m.lastReload.Set(1)

	r.MustRegister(calls, callSeconds, turns, m.recognitions, m.recognitionSeconds, m.synthesisSeconds,
		m.synthesisFailures, storeSeconds, storeErrors, m.storeDropped, reloads, m.lastReload)

	if src.ActiveCalls != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_calls_active",
			Help: "Calls being set up or in progress."}, func() float64 { return float64(src.ActiveCalls()) }))
	}
	if src.MaxCalls > 0 {
		limit := prometheus.NewGauge(prometheus.GaugeOpts{Name: "hotline_calls_max",
			Help: "The configured limit of concurrent calls; more get 503."})
		limit.Set(float64(src.MaxCalls))
		r.MustRegister(limit)
	}
	if src.Draining != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_draining",
			Help: "1 while the server drains (new calls get 503), else 0."}, func() float64 {
			if src.Draining() {
				return 1
			}
			return 0
		}))
	}
	if src.RecordingsDropped != nil {
		r.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hotline_recording_blocks_dropped_total",
			Help: "Blocks of recorded audio (256 ms each) lost, and recordings not started, because the disk fell behind."},
			func() float64 { return float64(src.RecordingsDropped()) }))
	}
	if src.StoreQueue != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_store_queue_depth",
			Help: "Call record writes waiting for the database."}, func() float64 { return float64(src.StoreQueue()) }))
	}
	r.MustRegister(newCollector(src))
	return m
}

// Registry is the metrics' registry (to add a collector of one's own).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:            m.reg, // promhttp_metric_handler_errors_total
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
}

// CallEnded counts an answered call that ended, with its outcome
// (records.Outcome) and its duration from the answer.
func (m *Metrics) CallEnded(outcome string, d time.Duration) {
	if m == nil {
		return
	}
	i := index(CallOutcomes, outcome)
	m.calls[i].Inc()
	m.callSeconds[i].Observe(max(d, 0).Seconds())
}

// Turn counts a caller's input the engine handled, by its outcome
// (dialog.Understood.Outcome: matched, no_match, low_confidence,
// collected, invalid).
func (m *Metrics) Turn(outcome string) {
	if m == nil {
		return
	}
	m.turns[index(TurnOutcomes, outcome)].Inc()
}

// Recognition counts an utterance sent to the recogniser backend (its
// Name(): "pocketsphinx", "openai:whisper-1") with its outcome
// (call.SpeechReport.Outcome) and d, the end of the utterance → the
// recogniser's answer (SpeechReport.Recognition()). d goes into the latency
// histogram only when the recogniser answered (recognized, empty) and d > 0.
func (m *Metrics) Recognition(backend string, d time.Duration, outcome string) {
	if m == nil {
		return
	}
	b := m.backends.label(backend)
	o := RecognitionOutcomes[index(RecognitionOutcomes, outcome)]
	m.recognitions.WithLabelValues(b, o).Inc()
	if d > 0 && (o == "recognized" || o == "empty") {
		m.recognitionSeconds.WithLabelValues(b).Observe(d.Seconds())
	}
}

// Synthesis observes the text-to-speech of one prompt by backend (the
// synthesiser's Name()): d is how long it took, cached whether it came from
// the prompt cache rather than the engine.
func (m *Metrics) Synthesis(backend string, d time.Duration, cached bool) {
	if m == nil {
		return
	}
	c := "false"
	if cached {
		c = "true"
	}
	m.synthesisSeconds.WithLabelValues(m.backends.label(backend), c).Observe(max(d, 0).Seconds())
}

// synthesisFailed counts a failed rendering.
func (m *Metrics) synthesisFailed(backend string) {
	m.synthesisFailures.WithLabelValues(m.backends.label(backend)).Inc()
}

// StoreWrite observes one call record write: op is the write (start,
// turn, question, update, end), d its duration, err its error (nil: it
// succeeded).
func (m *Metrics) StoreWrite(op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	i := index(StoreOps, op)
	m.storeSeconds[i].Observe(max(d, 0).Seconds())
	if err != nil {
		m.storeErrors[i].Inc()
	}
}

// StoreDropped counts a call record write dropped (full or closed queue).
func (m *Metrics) StoreDropped() {
	if m == nil {
		return
	}
	m.storeDropped.Inc()
}

// ScriptReload counts a script reload: ok, or rejected (the old script
// kept serving).
func (m *Metrics) ScriptReload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads[0].Inc()
		m.lastReload.Set(1)
	} else {
		m.reloads[1].Inc()
		m.lastReload.Set(0)
	}
}

// index is the index of v in values, whose last element is "other".
func index(values []string, v string) int {
	for i, x := range values[:len(values)-1] {
		if x == v {
			return i
		}
	}
	return len(values) - 1
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// maxBackends bounds the backend label's values; more are "other".
const maxBackends = 8

// backendSet turns backend names into bounded label values.
type backendSet struct {
	mu     sync.Mutex
	names  map[string]string // name as given → label (bounded too)
	labels []string
}

// label is the label value of a backend name: the engine ("openai" of
// "openai:whisper-1"), lower case, [a-z0-9._-] only, at most 32 bytes;
// beyond maxBackends distinct values, "other".
func (b *backendSet) label(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l, ok := b.names[name]; ok {
		return l
	}
	l := backendLabel(name)
	known := false
	for _, x := range b.labels {
		if x == l {
			known = true
			break
		}
	}
	if !known {
		if len(b.labels) >= maxBackends {
			l = "other"
		} else {
			b.labels = append(b.labels, l)
		}
	}
	if b.names == nil {
		b.names = map[string]string{}
	}
	if len(b.names) < 4*maxBackends {
		b.names[name] = l
	}
	return l
}

func backendLabel(name string) string {
	if i := strings.IndexAny(name, ":/ "); i >= 0 {
		name = name[:i]
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		if sb.Len() >= 32 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return "unknown"
	}
	return sb.String()
}
