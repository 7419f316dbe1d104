package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/speech"
)

// fakeSources are Sources whose numbers a test sets.
type fakeSources struct {
	mu         sync.Mutex
	active     int
	draining   bool
	sip        sip.Counters
	media      media.Totals
	lateness   media.Lateness
	speech     Speech
	cache      speech.Stats
	queue      int
	recDropped uint64
}

func (f *fakeSources) sources() Sources {
	lock := func() func() { f.mu.Lock(); return f.mu.Unlock }
	return Sources{
		Version: "v1.2.3", MaxCalls: 500,
		ActiveCalls: func() int { defer lock()(); return f.active },
		Draining:    func() bool { defer lock()(); return f.draining },
		SIP:         func() sip.Counters { defer lock()(); return f.sip },
		Media:       func() media.Totals { defer lock()(); return f.media },
		Lateness: func(bounds []time.Duration) media.Lateness {
			defer lock()()
			l := f.lateness
			l.Bounds = bounds
			if l.Cumulative == nil {
				l.Cumulative = make([]uint64, len(bounds))
			}
			return l
		},
		Speech:            func() Speech { defer lock()(); return f.speech },
		PromptCache:       func() speech.Stats { defer lock()(); return f.cache },
		StoreQueue:        func() int { defer lock()(); return f.queue },
		RecordingsDropped: func() uint64 { defer lock()(); return f.recDropped },
	}
}

func (f *fakeSources) set(fn func(f *fakeSources)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// scrape gets h's text exposition and parses it.
func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return fams, string(body)
}

// find returns the metric of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's or gauge's value, a histogram's count; -1 if absent.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := find(fams, name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return -1
}

var (
	counterT   = dto.MetricType_COUNTER
	gaugeT     = dto.MetricType_GAUGE
	histogramT = dto.MetricType_HISTOGRAM
)

// families are the hotline metrics and their types: docs/metrics.md lists
// the same (TestDocsListEveryMetric).
var families = map[string]dto.MetricType{
	"hotline_build_info":                     gaugeT,
	"hotline_calls_active":                   gaugeT,
	"hotline_calls_max":                      gaugeT,
	"hotline_draining":                       gaugeT,
	"hotline_calls_total":                    counterT,
	"hotline_call_duration_seconds":          histogramT,
	"hotline_turns_total":                    counterT,
	"hotline_recognitions_total":             counterT,
	"hotline_recognition_duration_seconds":   histogramT,
	"hotline_synthesis_duration_seconds":     histogramT,
	"hotline_synthesis_failures_total":       counterT,
	"hotline_prompt_cache_requests_total":    counterT,
	"hotline_speech_fallbacks_total":         counterT,
	"hotline_speech_barge_ins_total":         counterT,
	"hotline_speech_dropped_frames_total":    counterT,
	"hotline_store_write_duration_seconds":   histogramT,
	"hotline_store_write_errors_total":       counterT,
	"hotline_store_writes_dropped_total":     counterT,
	"hotline_store_queue_depth":              gaugeT,
	"hotline_recording_blocks_dropped_total": counterT,
	"hotline_script_reloads_total":           counterT,
	"hotline_script_last_reload_success":     gaugeT,
	"hotline_sip_requests_total":             counterT,
	"hotline_sip_responses_total":            counterT,
	"hotline_sip_invites_total":              counterT,
	"hotline_sip_invite_results_total":       counterT,
	"hotline_sip_calls_completed_total":      counterT,
	"hotline_sip_handler_panics_total":       counterT,
	"hotline_sip_security_rejected_total":    counterT,
	"hotline_sip_security_dropped_total":     counterT,
	"hotline_sip_digest_challenges_total":    counterT,
	"hotline_sip_digest_auth_total":          counterT,
	"hotline_sip_bans_total":                 counterT,
	"hotline_sip_banned_sources":             gaugeT,
	"hotline_rtp_sessions":                   gaugeT,
	"hotline_rtp_sessions_started_total":     counterT,
	"hotline_rtp_packets_total":              counterT,
	"hotline_rtp_bytes_total":                counterT,
	"hotline_rtp_dropped_packets_total":      counterT,
	"hotline_rtp_lost_packets_total":         counterT,
	"hotline_rtp_ssrc_changes_total":         counterT,
	"hotline_rtp_send_errors_total":          counterT,
	"hotline_rtp_late_frames_total":          counterT,
	"hotline_rtp_skipped_frames_total":       counterT,
	"hotline_rtp_send_lateness_seconds":      histogramT,
	"hotline_dtmf_digits_total":              counterT,
	"hotline_media_events_dropped_total":     counterT,
	"hotline_recording_dropped_frames_total": counterT,
}

// observeSome moves every pushed metric once, so that the vectors without
// pre-made children show.
func observeSome(m *Metrics) {
	m.CallEnded("resolved", 42*time.Second)
	m.Turn("matched")
	m.Recognition("pocketsphinx", 80*time.Millisecond, "recognized")
	m.Synthesis("espeak-ng", 30*time.Millisecond, false)
	m.synthesisFailed("espeak-ng")
	m.StoreWrite("start", 2*time.Millisecond, nil)
	m.StoreDropped()
	m.ScriptReload(true)
}

func TestExposition(t *testing.T) {
	var f fakeSources
	m := New(f.sources())
	observeSome(m)
	fams, text := scrape(t, m.Handler())
	for name, typ := range families {
		fam := fams[name]
		if fam == nil {
			t.Errorf("%s not exposed", name)
			continue
		}
		if fam.GetType() != typ {
			t.Errorf("%s is a %v, want %v", name, fam.GetType(), typ)
		}
		if fam.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}
	for name, fam := range fams {
		if !strings.HasPrefix(name, "hotline_") {
			continue
		}
		if _, ok := families[name]; !ok {
			t.Errorf("%s is exposed but not in the test's list (nor, probably, in docs/metrics.md)", name)
		}
		if fam.GetType() == counterT && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
	}
	// The Go runtime and the process.
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds",
		"promhttp_metric_handler_requests_total"} {
		if fams[name] == nil {
			t.Errorf("%s not exposed", name)
		}
	}
	if v := value(fams, "hotline_build_info", "version", "v1.2.3"); v != 1 {
		t.Errorf("build info %v", v)
	}
	if value(fams, "hotline_calls_max") != 500 {
		t.Error("calls max")
	}
	for _, line := range []string{
		"# TYPE hotline_calls_total counter",
		`hotline_calls_total{outcome="resolved"} 1`,
		`hotline_calls_total{outcome="after_hours"} 0`, // every outcome shows from the start
		"# TYPE hotline_call_duration_seconds histogram",
		`hotline_call_duration_seconds_bucket{outcome="resolved",le="45"} 1`,
		`hotline_call_duration_seconds_bucket{outcome="resolved",le="30"} 0`,
		`hotline_sip_requests_total{method="OTHER"} 0`,
		`hotline_sip_responses_total{code="503"} 0`,
		`hotline_rtp_send_lateness_seconds_bucket{le="0.002"} 0`,
		`hotline_script_reloads_total{result="failed"} 0`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("no line %q", line)
		}
	}
}

func TestObservations(t *testing.T) {
	m := New(Sources{})
	m.CallEnded("transferred", 90*time.Second)
	m.CallEnded("transferred", 30*time.Second)
	m.CallEnded("message_left", time.Minute)
	for range 3 {
		m.Turn("matched")
	}
	m.Turn("no_match")
	m.Turn("low_confidence")
	m.Recognition("openai:whisper-1", 300*time.Millisecond, "recognized")
	m.Recognition("openai:whisper-1", 200*time.Millisecond, "empty")
	m.Recognition("openai:whisper-1", 3*time.Second, "timeout") // counted, not a latency
	m.Recognition("pocketsphinx", 0, "busy")
	m.Synthesis("espeak-ng", 40*time.Millisecond, false)
	m.Synthesis("espeak-ng", time.Millisecond, true)
	m.StoreWrite("turn", 3*time.Millisecond, nil)
	m.StoreWrite("turn", 2*time.Second, errors.New("database is locked"))
	m.StoreWrite("end", 5*time.Millisecond, nil)
	m.StoreDropped()
	m.StoreDropped()
	m.ScriptReload(true)
	m.ScriptReload(false)

	fams, _ := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hotline_calls_total", []string{"outcome", "transferred"}, 2},
		{"hotline_calls_total", []string{"outcome", "message_left"}, 1},
		{"hotline_calls_total", []string{"outcome", "resolved"}, 0},
		{"hotline_call_duration_seconds", []string{"outcome", "transferred"}, 2},
		{"hotline_turns_total", []string{"outcome", "matched"}, 3},
		{"hotline_turns_total", []string{"outcome", "no_match"}, 1},
		{"hotline_turns_total", []string{"outcome", "low_confidence"}, 1},
		{"hotline_turns_total", []string{"outcome", "collected"}, 0},
		{"hotline_recognitions_total", []string{"backend", "openai", "outcome", "recognized"}, 1},
		{"hotline_recognitions_total", []string{"backend", "openai", "outcome", "timeout"}, 1},
		{"hotline_recognitions_total", []string{"backend", "pocketsphinx", "outcome", "busy"}, 1},
		{"hotline_recognition_duration_seconds", []string{"backend", "openai"}, 2},
		{"hotline_recognition_duration_seconds", []string{"backend", "pocketsphinx"}, -1},
		{"hotline_synthesis_duration_seconds", []string{"backend", "espeak-ng", "cached", "false"}, 1},
		{"hotline_synthesis_duration_seconds", []string{"backend", "espeak-ng", "cached", "true"}, 1},
		{"hotline_store_write_duration_seconds", []string{"op", "turn"}, 2},
		{"hotline_store_write_duration_seconds", []string{"op", "end"}, 1},
		{"hotline_store_write_errors_total", []string{"op", "turn"}, 1},
		{"hotline_store_write_errors_total", []string{"op", "end"}, 0},
		{"hotline_store_writes_dropped_total", nil, 2},
		{"hotline_script_reloads_total", []string{"result", "ok"}, 1},
		{"hotline_script_reloads_total", []string{"result", "failed"}, 1},
		{"hotline_script_last_reload_success", nil, 0},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := find(fams, "hotline_recognition_duration_seconds", "backend", "openai").Histogram
	if s := h.GetSampleSum(); s < 0.4999 || s > 0.5001 {
		t.Errorf("recognition latency sum %v, want 0.5", s)
	}
	for _, b := range h.Bucket {
		if b.GetUpperBound() == 0.2 && b.GetCumulativeCount() != 1 || b.GetUpperBound() == 0.3 && b.GetCumulativeCount() != 2 {
			t.Errorf("bucket le=%v: %d", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
	// Pulled families are left out when their source is not set.
	for _, name := range []string{"hotline_calls_active", "hotline_sip_requests_total", "hotline_rtp_packets_total",
		"hotline_rtp_send_lateness_seconds", "hotline_speech_fallbacks_total", "hotline_prompt_cache_requests_total",
		"hotline_store_queue_depth", "hotline_recording_blocks_dropped_total", "hotline_calls_max", "hotline_draining"} {
		if fams[name] != nil {
			t.Errorf("%s exposed without a source", name)
		}
	}
	if value(fams, "hotline_build_info", "version", "unknown") != 1 {
		t.Error("build info without a version")
	}
}

// TestPulled: what the sources say shows on the next scrape.
func TestPulled(t *testing.T) {
	var f fakeSources
	m := New(f.sources())
	fams, _ := scrape(t, m.Handler())
	if value(fams, "hotline_calls_active") != 0 || value(fams, "hotline_rtp_packets_total", "direction", "in") != 0 {
		t.Fatal("not zero at first")
	}
	f.set(func(f *fakeSources) {
		f.active, f.draining, f.queue, f.recDropped = 7, true, 12, 3
		f.sip.Invites, f.sip.Accepted, f.sip.Rejected, f.sip.Panics = 10, 8, 2, 1
		f.sip.Requests[0], f.sip.Requests[sip.NumMethods-1] = 10, 4 // INVITE, OTHER
		f.sip.Responses[200], f.sip.Responses[486], f.sip.Responses[299], f.sip.Responses[0] = 9, 1, 2, 3
		f.sip.Security = sip.SecurityStats{Rejected: map[string]uint64{"scanner": 5, "new_reason": 2, "other": 1},
			DroppedBanned: 20, Bans: 1, BannedNow: 1, AuthOK: 3, AuthFailed: 4, Challenges: 6}
		f.media.Sessions, f.media.Started = 3, 9
		f.media.PacketsIn, f.media.PacketsOut, f.media.BytesIn, f.media.BytesOut = 100, 200, 17200, 34400
		f.media.Dropped.Source, f.media.Lost, f.media.LateFrames, f.media.SkippedFrames = 2, 5, 6, 1
		f.media.Digits, f.media.DigitsRFC4733, f.media.DigitsInband, f.media.DigitsINFO = 9, 4, 2, 1
		f.lateness = media.Lateness{Count: 200, Sum: 40 * time.Millisecond,
			Cumulative: []uint64{10, 100, 150, 180, 195, 197, 198, 199, 199, 199, 200, 200}}
		f.speech = Speech{BargeIns: 4, FallbackBusy: 2, FallbackUnavailable: 1, NoRecognizer: 3, FramesDropped: 7}
		f.cache = speech.Stats{Hits: 50, Renders: 5, Errors: 1}
	})
	fams, _ = scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hotline_calls_active", nil, 7},
		{"hotline_draining", nil, 1},
		{"hotline_store_queue_depth", nil, 12},
		{"hotline_recording_blocks_dropped_total", nil, 3},
		{"hotline_sip_invites_total", nil, 10},
		{"hotline_sip_invite_results_total", []string{"result", "accepted"}, 8},
		{"hotline_sip_invite_results_total", []string{"result", "rejected"}, 2},
		{"hotline_sip_handler_panics_total", nil, 1},
		{"hotline_sip_requests_total", []string{"method", "INVITE"}, 10},
		{"hotline_sip_requests_total", []string{"method", "OTHER"}, 4},
		{"hotline_sip_responses_total", []string{"code", "200"}, 9},
		{"hotline_sip_responses_total", []string{"code", "486"}, 1},
		{"hotline_sip_responses_total", []string{"code", "299"}, 2},
		{"hotline_sip_responses_total", []string{"code", "other"}, 3},
		{"hotline_sip_responses_total", []string{"code", "298"}, -1},
		{"hotline_sip_security_rejected_total", []string{"reason", "scanner"}, 5},
		{"hotline_sip_security_rejected_total", []string{"reason", "other"}, 3},
		{"hotline_sip_security_dropped_total", nil, 20},
		{"hotline_sip_digest_auth_total", []string{"result", "failed"}, 4},
		{"hotline_sip_banned_sources", nil, 1},
		{"hotline_rtp_sessions", nil, 3},
		{"hotline_rtp_sessions_started_total", nil, 9},
		{"hotline_rtp_packets_total", []string{"direction", "in"}, 100},
		{"hotline_rtp_packets_total", []string{"direction", "out"}, 200},
		{"hotline_rtp_bytes_total", []string{"direction", "out"}, 34400},
		{"hotline_rtp_dropped_packets_total", []string{"reason", "source"}, 2},
		{"hotline_rtp_lost_packets_total", nil, 5},
		{"hotline_rtp_late_frames_total", nil, 6},
		{"hotline_rtp_skipped_frames_total", nil, 1},
		{"hotline_rtp_send_lateness_seconds", nil, 200},
		{"hotline_dtmf_digits_total", []string{"source", "rfc4733"}, 4},
		{"hotline_dtmf_digits_total", []string{"source", "inband"}, 2},
		{"hotline_dtmf_digits_total", []string{"source", "info"}, 1},
		{"hotline_dtmf_digits_total", []string{"source", "other"}, 2},
		{"hotline_speech_fallbacks_total", []string{"cause", "busy"}, 2},
		{"hotline_speech_fallbacks_total", []string{"cause", "no_recognizer"}, 3},
		{"hotline_speech_barge_ins_total", nil, 4},
		{"hotline_speech_dropped_frames_total", nil, 7},
		{"hotline_prompt_cache_requests_total", []string{"result", "hit"}, 50},
		{"hotline_prompt_cache_requests_total", []string{"result", "render"}, 5},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := find(fams, "hotline_rtp_send_lateness_seconds").Histogram
	if h.GetSampleSum() != 0.04 {
		t.Errorf("lateness sum %v", h.GetSampleSum())
	}
	for _, b := range h.Bucket {
		if b.GetUpperBound() == 0.002 && b.GetCumulativeCount() != 195 {
			t.Errorf("lateness ≤ 2 ms: %d", b.GetCumulativeCount())
		}
	}
}

// TestTwoMetrics: each Metrics has its own registry: no duplicate
// registration panic, and what one observes the other does not show.
func TestTwoMetrics(t *testing.T) {
	var f1, f2 fakeSources
	a, b := New(f1.sources()), New(f2.sources())
	a.Turn("no_match")
	f1.set(func(f *fakeSources) { f.active = 3 })
	a.Handler() // a second handler of the same registry is fine too
	fa, _ := scrape(t, a.Handler())
	fb, _ := scrape(t, b.Handler())
	if value(fa, "hotline_turns_total", "outcome", "no_match") != 1 || value(fb, "hotline_turns_total", "outcome", "no_match") != 0 {
		t.Error("observations leak between registries")
	}
	if value(fa, "hotline_calls_active") != 3 || value(fb, "hotline_calls_active") != 0 {
		t.Error("sources leak between registries")
	}
	// The global registry is left alone.
	if err := testRegisterGlobal(); err != nil {
		t.Errorf("the default registry has hotline metrics: %v", err)
	}
}

// TestBoundedLabels: whatever the callers pass, the label values come from
// small fixed sets.
func TestBoundedLabels(t *testing.T) {
	var f fakeSources
	m := New(f.sources())
	for i := range 1000 {
		junk := fmt.Sprintf("caller said %d: 我要退款 13800138000", i)
		m.CallEnded(junk, time.Second)
		m.Turn(junk)
		m.Recognition(junk, time.Millisecond, junk)
		m.Recognition(fmt.Sprintf("engine%d:model", i), time.Millisecond, "recognized")
		m.Synthesis(junk, time.Millisecond, i%2 == 0)
		m.StoreWrite(junk, time.Millisecond, errors.New(junk))
	}
	fams, _ := scrape(t, m.Handler())
	if v := value(fams, "hotline_calls_total", "outcome", "other"); v != 1000 {
		t.Errorf("unknown outcomes counted as other: %v", v)
	}
	if v := value(fams, "hotline_turns_total", "outcome", "other"); v != 1000 {
		t.Errorf("unknown turn outcomes as other: %v", v)
	}
	if v := value(fams, "hotline_store_write_errors_total", "op", "other"); v != 1000 {
		t.Errorf("unknown ops as other: %v", v)
	}
	allowed := map[string]*regexp.Regexp{
		"outcome":   regexp.MustCompile(`^(` + strings.Join(append(append(CallOutcomes, TurnOutcomes...), RecognitionOutcomes...), "|") + `)$`),
		"op":        regexp.MustCompile(`^(` + strings.Join(StoreOps, "|") + `)$`),
		"backend":   regexp.MustCompile(`^[a-z0-9._-]{1,32}$`),
		"cached":    regexp.MustCompile(`^(true|false)$`),
		"result":    regexp.MustCompile(`^[a-z_]+$`),
		"version":   regexp.MustCompile(`^v1\.2\.3$`),
		"goversion": regexp.MustCompile(`^go`),
	}
	for name, fam := range fams {
		if !strings.HasPrefix(name, "hotline_") {
			continue
		}
		values := map[string]map[string]bool{}
		for _, mt := range fam.Metric {
			for _, l := range mt.Label {
				if values[l.GetName()] == nil {
					values[l.GetName()] = map[string]bool{}
				}
				values[l.GetName()][l.GetValue()] = true
				if re := allowed[l.GetName()]; re != nil && !re.MatchString(l.GetValue()) {
					t.Errorf("%s{%s=%q}", name, l.GetName(), l.GetValue())
				}
			}
		}
		for label, vs := range values {
			if len(vs) > 20 {
				t.Errorf("%s has %d values of %s", name, len(vs), label)
			}
		}
	}
	backends := map[string]bool{}
	for _, mt := range fams["hotline_recognitions_total"].Metric {
		for _, l := range mt.Label {
			if l.GetName() == "backend" {
				backends[l.GetValue()] = true
			}
		}
	}
	if len(backends) > maxBackends+1 || !backends["other"] {
		t.Errorf("backends %v", backends)
	}
}

func TestBackendLabel(t *testing.T) {
	for in, want := range map[string]string{
		"pocketsphinx":           "pocketsphinx",
		"openai:whisper-1":       "openai",
		"openai:tts-1-hd":        "openai",
		"espeak-ng":              "espeak-ng",
		"Azure/Neural Voice":     "azure",
		"":                       "unknown",
		"::":                     "unknown",
		"语音":                     "unknown",
		strings.Repeat("x", 100): strings.Repeat("x", 32),
	} {
		if got := backendLabel(in); got != want {
			t.Errorf("backendLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.CallEnded("resolved", time.Second)
	m.Turn("matched")
	m.Recognition("x", time.Second, "recognized")
	m.Synthesis("x", time.Second, true)
	m.StoreWrite("end", time.Second, nil)
	m.StoreDropped()
	m.ScriptReload(false)
	s := &tones{}
	if m.Synthesizer(s) != speech.Synthesizer(s) {
		t.Error("a nil Metrics wraps the synthesiser")
	}
}

func TestObservationsDoNotAllocate(t *testing.T) {
	m := New(Sources{})
	err := errors.New("x")
	if a := testing.AllocsPerRun(1000, func() {
		m.CallEnded("resolved", time.Minute)
		m.Turn("no_match")
		m.StoreWrite("turn", time.Millisecond, err)
		m.StoreDropped()
	}); a != 0 {
		t.Errorf("%v allocations per observation", a)
	}
}

// tones is a synthesiser for tests: a short beep, or an error.
type tones struct {
	mu    sync.Mutex
	calls int
	fail  bool
}

func (*tones) Name() string        { return "tones" }
func (*tones) Voice(string) string { return "beep" }
func (s *tones) Synthesize(ctx context.Context, text, voice string) ([]int16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail {
		return nil, errors.New("tones: out of tune")
	}
	return make([]int16, 800), nil
}

type versionedTones struct{ tones }

func (v *versionedTones) Version() string { return "v7 speed=1.1" }

func TestSynthesizer(t *testing.T) {
	m := New(Sources{})
	dir := t.TempDir()
	// The cache key is the wrapped synthesiser's, versioned or not.
	for _, s := range []speech.Synthesizer{&tones{}, &versionedTones{}} {
		plain, wrapped := speech.NewCache(dir, s), speech.NewCache(dir, m.Synthesizer(s))
		if plain.Key("hello", "beep") != wrapped.Key("hello", "beep") {
			t.Errorf("%T: the wrapper changes the prompt cache key", s)
		}
	}
	if speech.NewCache(dir, &tones{}).Key("a", "") == speech.NewCache(dir, m.Synthesizer(&versionedTones{})).Key("a", "") {
		t.Error("the version is not forwarded")
	}
	s := &tones{}
	cache := speech.NewCache(t.TempDir(), m.Synthesizer(s))
	ctx := context.Background()
	for range 3 {
		if _, err := cache.Get(ctx, "welcome", ""); err != nil {
			t.Fatal(err)
		}
	}
	s.fail = true
	if _, err := cache.Get(ctx, "another", ""); err == nil {
		t.Fatal("no error")
	}
	fams, _ := scrape(t, m.Handler())
	if v := value(fams, "hotline_synthesis_duration_seconds", "backend", "tones", "cached", "false"); v != 1 {
		t.Errorf("renderings observed: %v (the cache's hits must not reach the engine)", v)
	}
	if v := value(fams, "hotline_synthesis_failures_total", "backend", "tones"); v != 1 {
		t.Errorf("failures: %v", v)
	}
	if s.calls != 2 {
		t.Errorf("the engine ran %d times", s.calls)
	}
}

// testRegisterGlobal checks that New registered nothing in the default
// registry.
func testRegisterGlobal() error {
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return err
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "hotline_") {
			return fmt.Errorf("%s", f.GetName())
		}
	}
	return nil
}

// TestDocsListEveryMetric: docs/metrics.md has a row for every family, with
// its type.
func TestDocsListEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	types := map[dto.MetricType]string{counterT: "counter", gaugeT: "gauge", histogramT: "histogram"}
	for name, typ := range families {
		row := regexp.MustCompile("(?m)^\\| `" + name + "` \\| (\\w+) \\|")
		m := row.FindStringSubmatch(doc)
		if m == nil {
			t.Errorf("docs/metrics.md has no row for %s", name)
			continue
		}
		if m[1] != types[typ] {
			t.Errorf("docs/metrics.md says %s is a %s", name, m[1])
		}
	}
	for _, m := range regexp.MustCompile("(?m)^\\| `(hotline_\\w+)` \\|").FindAllStringSubmatch(doc, -1) {
		if _, ok := families[m[1]]; !ok {
			t.Errorf("docs/metrics.md lists %s, which is not exposed", m[1])
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	m := New(Sources{})
	b.Run("CallEnded", func(b *testing.B) {
		for b.Loop() {
			m.CallEnded("resolved", time.Minute)
		}
	})
	b.Run("Turn", func(b *testing.B) {
		for b.Loop() {
			m.Turn("no_match")
		}
	})
	b.Run("Recognition", func(b *testing.B) {
		for b.Loop() {
			m.Recognition("openai:whisper-1", 300*time.Millisecond, "recognized")
		}
	})
	b.Run("StoreWrite", func(b *testing.B) {
		for b.Loop() {
			m.StoreWrite("turn", time.Millisecond, nil)
		}
	})
}

// BenchmarkScrape is one scrape of a server with everything wired.
func BenchmarkScrape(b *testing.B) {
	var f fakeSources
	m := New(f.sources())
	observeSome(m)
	h := m.Handler()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	}
}
