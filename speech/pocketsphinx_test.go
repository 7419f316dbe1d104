package speech

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// The spoken test set: testdata/asr/phrases.txt and the WAVs gen.sh made
// from it (espeak-ng, 8 kHz after a G.711 A-law round trip); the hints are
// the keywords and examples of examples/en-utility/script.yaml
// (testdata/asr/hints.txt, written by `go run -tags pocketsphinx ./bench/asr -write-hints`).

type asrPhrase struct {
	name, intent, keyword, text string
	pcm                         []int16
}

func loadASRSet(t testing.TB) ([]asrPhrase, []string) {
	t.Helper()
	var set []asrPhrase
	for _, line := range asrLines(t, "testdata/asr/phrases.txt") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("phrases.txt: bad line %q", line)
		}
		pcm, info, err := wav.ReadFile(filepath.Join("testdata/asr", f[0]+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		if info.SampleRate != 8000 || info.Channels != 1 {
			t.Fatalf("%s.wav: %d Hz × %d, want 8 kHz mono", f[0], info.SampleRate, info.Channels)
		}
		set = append(set, asrPhrase{f[0], f[1], f[2], f[3], pcm})
	}
	return set, asrLines(t, "testdata/asr/hints.txt")
}

func asrLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// needPocketsphinx makes a recogniser, skipping the test when the binary
// was built without it, or failing in CI, which builds with the tag.
func needPocketsphinx(t testing.TB, cfg PocketsphinxConfig) *Pocketsphinx {
	t.Helper()
	if !PocketsphinxAvailable {
		if os.Getenv("CI") != "" {
			t.Fatal("built without pocketsphinx: CI must test with -tags pocketsphinx (make test does when pkg-config finds pocketsphinx; .ci/deps installs it)")
		}
		t.Skip("built without pocketsphinx: go test -tags pocketsphinx (apt-get install libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us pkg-config)")
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	r, err := NewPocketsphinx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// recognise writes pcm in 20 ms frames and closes the stream.
func recognise(t testing.TB, r Recognizer, pcm []int16, hints []string) Result {
	t.Helper()
	ctx := context.Background()
	st, err := r.Start(ctx, Options{Language: "en-GB", Hints: hints, CallID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var partials []Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range st.Partials() {
			partials = append(partials, p)
		}
	}()
	for off := 0; off < len(pcm); off += 160 {
		if err := st.Write(pcm[off:min(off+160, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-done // Partials is closed once the result is in
	for _, p := range partials {
		if p.Final || p.Text == "" {
			t.Errorf("bad partial %+v", p)
		}
	}
	if !res.Final {
		t.Errorf("final result not marked Final: %+v", res)
	}
	return res
}

func TestPocketsphinxWithoutLibrary(t *testing.T) {
	if PocketsphinxAvailable {
		t.Skip("built with pocketsphinx")
	}
	_, err := NewPocketsphinx(PocketsphinxConfig{})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "-tags pocketsphinx") ||
		!strings.Contains(err.Error(), "libpocketsphinx-dev") {
		t.Fatalf("NewPocketsphinx without the library: %v; want ErrUnavailable saying how to get it", err)
	}
}

// asrMustFind are, per search, the phrases of the set whose keyword the
// search finds (bench/asr/README.md has the whole table): a regression
// guard, the accuracy itself is measured by bench/asr. A hybrid result
// finds it in its text or an alternative (the dialog tries those in turn).
var asrMustFind = map[string][]string{
	SearchJSGF: {"agent1", "agent5", "repeat2", "outage1", "outage2", "outage3", "outage5", "outage6",
		"billing1", "billing2", "balance2", "meter1", "meter2", "meter3", "message1", "message2", "yes1", "yes3", "no1", "no3"},
	SearchHybrid: {"agent1", "agent2", "agent5", "repeat1", "repeat2", "goodbye1", "outage1", "outage2", "outage3", "outage5", "outage6", "billing1", "billing2", "balance1", "balance2", "meter1", "meter2", "meter3", "complaint1", "complaint2", "message1", "message2", "yes1", "yes3", "no1", "no2", "no3"},
}

// TestPocketsphinxSpokenSet recognises the whole set one phrase after the
// other on one decoder (so the result does not depend on scheduling: the
// decoder's cepstral mean carries over between utterances), and logs the
// keyword accuracy and word error rate.
func TestPocketsphinxSpokenSet(t *testing.T) {
	for _, search := range []string{SearchJSGF, SearchHybrid} {
		t.Run(search, func(t *testing.T) {
			r := needPocketsphinx(t, PocketsphinxConfig{Workers: 1, Search: search})
			set, hints := loadASRSet(t)
			must := map[string]bool{}
			for _, n := range asrMustFind[search] {
				must[n] = true
			}
			var found, errs, words int
			for _, p := range set {
				res := recognise(t, r, p.pcm, hints)
				ok := ContainsPhrase(res.Text, p.keyword)
				for _, a := range res.Alternatives {
					ok = ok || ContainsPhrase(a.Text, p.keyword)
				}
				e, n := WordErrors(p.text, res.Text)
				errs += e
				words += n
				if ok {
					found++
				} else if must[p.name] {
					t.Errorf("%s: %q heard as %q (%d alternatives): no %q", p.name, p.text, res.Text, len(res.Alternatives), p.keyword)
				}
				if res.Text != "" && res.Confidence != -1 && (res.Confidence <= 0 || res.Confidence > 1) {
					t.Errorf("%s: result with confidence %v, want in (0, 1] or -1 (none)", p.name, res.Confidence)
				}
				t.Logf("%-11s %-5v %q → %q (%.2f) %v", p.name, ok, p.text, res.Text, res.Confidence, res.Alternatives)
			}
			t.Logf("keyword found in %d/%d phrases, word error rate %.1f%% (%d/%d)", found, len(set), 100*float64(errs)/float64(words), errs, words)
			if found < len(asrMustFind[search]) {
				t.Errorf("keyword found in %d phrases, want at least %d", found, len(asrMustFind[search]))
			}
		})
	}
}

// TestPocketsphinxLanguageModel: without hints a stream decodes with the
// general language model, whose confidence is a posterior in 0..1, and
// with alternatives.
func TestPocketsphinxLanguageModel(t *testing.T) {
	r := needPocketsphinx(t, PocketsphinxConfig{Workers: 1})
	set, _ := loadASRSet(t)
	for _, p := range set {
		if p.name != "no1" {
			continue
		}
		res := recognise(t, r, p.pcm, nil)
		t.Logf("%q → %+v", p.text, res)
		if !ContainsPhrase(res.Text, "no thank you") {
			t.Errorf("heard %q, want %q", res.Text, p.text)
		}
		if res.Confidence < 0 || res.Confidence > 1 {
			t.Errorf("confidence %v out of 0..1", res.Confidence)
		}
		for _, a := range res.Alternatives {
			if a.Text == res.Text || a.Confidence < 0 || a.Confidence > res.Confidence {
				t.Errorf("bad alternative %+v of %+v", a, res)
			}
		}
	}
}

// TestPocketsphinxConcurrent runs the set on two decoders from four
// goroutines: every stream either gets a result or ErrBusy (retried), and
// nothing races.
func TestPocketsphinxConcurrent(t *testing.T) {
	r := needPocketsphinx(t, PocketsphinxConfig{Workers: 2, Search: SearchKWS})
	set, hints := loadASRSet(t)
	var wg sync.WaitGroup
	jobs := make(chan asrPhrase)
	var mu sync.Mutex
	results := map[string]string{}
	for range 4 {
		wg.Go(func() {
			for p := range jobs {
				for try := 0; ; try++ {
					st, err := r.Start(context.Background(), Options{Hints: hints})
					if errors.Is(err, ErrBusy) && try < 10000 {
						runtime.Gosched()
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						t.Error(err)
						break
					}
					for off := 0; off < len(p.pcm); off += 160 {
						if err := st.Write(p.pcm[off:min(off+160, len(p.pcm))]); err != nil {
							t.Error(err)
						}
					}
					res, err := st.Close(context.Background())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					results[p.name] = res.Text
					mu.Unlock()
					break
				}
			}
		})
	}
	for _, p := range set {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	if len(results) != len(set) {
		t.Errorf("%d results for %d phrases", len(results), len(set))
	}
	if dropped, _ := r.Stats(); dropped != 0 {
		t.Errorf("%d writes dropped", dropped)
	}
}

// startWhenFree retries Start until a decoder is free: Abort gives the
// decoder back without waiting, a moment later.
func startWhenFree(t *testing.T, r Recognizer) Stream {
	t.Helper()
	for range 10000 {
		st, err := r.Start(context.Background(), Options{})
		if err == nil {
			return st
		}
		if !errors.Is(err, ErrBusy) {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("decoder never freed")
	return nil
}

func TestPocketsphinxBusyAndAbort(t *testing.T) {
	base := runtime.NumGoroutine()
	r := needPocketsphinx(t, PocketsphinxConfig{Workers: 1})
	set, _ := loadASRSet(t)
	ctx := context.Background()

	st, err := r.Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(ctx, Options{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Start on one decoder: %v, want ErrBusy", err)
	}
	if err := st.Write(set[0].pcm); err != nil {
		t.Fatal(err)
	}
	st.Abort()
	st.Abort() // twice is fine
	if err := st.Write(set[0].pcm); err == nil {
		t.Error("Write after Abort succeeded")
	}
	for range st.Partials() { // closed after Abort
	}

	// The decoder is back, and still works. (Close, unlike Abort, returns
	// once the decoder is back in the pool.)
	if _, err := startWhenFree(t, r).Close(ctx); err != nil {
		t.Fatal(err)
	}
	if res := recognise(t, r, set[0].pcm, nil); res.Text == "" {
		t.Error("nothing recognised after an abort")
	}

	// Close whose context ends gives up and frees the decoder.
	st = startWhenFree(t, r)
	if err := st.Write(set[0].pcm); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Close(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with a cancelled context: %v", err)
	}
	startWhenFree(t, r).Abort()

	// Close aborts open streams, frees the decoders, and later Starts fail.
	open := startWhenFree(t, r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := open.Close(ctx); err != nil {
		t.Logf("stream closed by the recogniser: %v", err)
	}
	if _, err := r.Start(ctx, Options{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Start after Close: %v, want ErrUnavailable", err)
	}
	// No goroutine is left behind.
	for i := 0; runtime.NumGoroutine() > base && i < 1000; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after Close, %d before", n, base)
	}
}

// TestPocketsphinxHints: hints with words the dictionary lacks are skipped,
// not fatal; hint sets in another order reuse the search.
func TestPocketsphinxHints(t *testing.T) {
	r := needPocketsphinx(t, PocketsphinxConfig{Workers: 1})
	set, _ := loadASRSet(t)
	var no asrPhrase
	for _, p := range set {
		if p.name == "no1" {
			no = p
		}
	}
	hints := []string{"yes please", "no thank you", "zzqxv blorptang", "ta-ra", "Power Cut!"}
	if res := recognise(t, r, no.pcm, hints); res.Text != "no thank you" {
		t.Errorf("heard %q", res.Text)
	}
	if res := recognise(t, r, no.pcm, []string{"power cut", "no thank you", "yes please"}); res.Text != "no thank you" {
		t.Errorf("heard %q", res.Text)
	}
	// Only unknown words: the language model decodes.
	if res := recognise(t, r, no.pcm, []string{"zzqxv"}); res.Confidence < 0 {
		t.Errorf("language model result without confidence: %+v", res)
	}
}

// TestPocketsphinxPrepare: the searches made ahead serve the next
// utterances, and a Start does not wait for a search to be made (the
// stream's goroutine makes it).
func TestPocketsphinxPrepare(t *testing.T) {
	r := needPocketsphinx(t, PocketsphinxConfig{Workers: 2})
	set, hints := loadASRSet(t)
	if err := r.Prepare(context.Background(), [][]string{hints, hints[:20], nil}); err != nil {
		t.Fatal(err)
	}
	for _, p := range set[:2] {
		res := recognise(t, r, p.pcm, hints)
		t.Logf("%q → %q", p.text, res.Text)
		if res.Text == "" {
			t.Errorf("%s: nothing recognised after Prepare", p.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Prepare(ctx, [][]string{hints[:5]}); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Prepare with a cancelled context: %v", err)
	}
	// Every decoder came back to the pool.
	var streams []Stream
	for range 2 {
		st, err := r.Start(context.Background(), Options{Hints: hints[:7]})
		if err != nil {
			t.Fatalf("a decoder is missing after Prepare: %v", err)
		}
		streams = append(streams, st)
	}
	for _, st := range streams {
		st.Abort()
	}
}
