package speech

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// Miss, hit, restart, damaged file: with the real engine behind a counter.
func TestCacheHitMissCorruption(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	dir := t.TempDir()
	syn := &counting{Synthesizer: e}
	c := NewCache(dir, syn)
	ctx := context.Background()
	text, voice := "Your balance is zero.", "en-us"

	first, err := c.Get(ctx, text, voice)
	if err != nil || len(first) == 0 {
		t.Fatalf("%d samples, %v", len(first), err)
	}
	again, err := c.Get(ctx, text, voice)
	if err != nil || len(again) != len(first) || syn.calls.Load() != 1 {
		t.Fatalf("second get: %d samples, %d calls, %v", len(again), syn.calls.Load(), err)
	}
	// On disk where the layout says, a plain 8 kHz WAV.
	key := c.Key(text, voice)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
		t.Fatalf("key %q", key)
	}
	path := filepath.Join(dir, "prompts", key[:2], key+".wav")
	if c.Path(key) != path {
		t.Errorf("path %s", c.Path(key))
	}
	disk, info, err := wav.ReadFile(path)
	if err != nil || info.SampleRate != 8000 || info.Channels != 1 || !equal(disk, first) {
		t.Fatalf("cached file: %+v %v", info, err)
	}
	// A restart: a new cache on the same folder renders nothing.
	c2 := NewCache(dir, syn)
	if pcm, err := c2.Get(ctx, text, voice); err != nil || !equal(pcm, first) || syn.calls.Load() != 1 {
		t.Fatalf("after restart: %d calls, %v", syn.calls.Load(), err)
	}
	// Another voice or another text is another prompt.
	if _, err := c2.Get(ctx, text, "en-gb"); err != nil || syn.calls.Load() != 2 {
		t.Fatalf("other voice: %d calls, %v", syn.calls.Load(), err)
	}
	// Damage: cut short, garbage, a valid WAV of the wrong rate. Each is
	// rendered again and the file repaired.
	damage := map[string]func(){
		"truncated": func() {
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b[:len(b)/2], 0o644)
		},
		"garbage": func() { os.WriteFile(path, []byte("RIFF junk junk junk"), 0o644) },
		"empty":   func() { os.WriteFile(path, nil, 0o644) },
		"16 kHz":  func() { wav.Write(path, first, 16000) },
	}
	for name, spoil := range damage {
		spoil()
		c3 := NewCache(dir, syn)
		before := syn.calls.Load()
		pcm, err := c3.Get(ctx, text, voice)
		if err != nil || !equal(pcm, first) || syn.calls.Load() != before+1 {
			t.Errorf("%s: %d samples, %d calls, %v", name, len(pcm), syn.calls.Load()-before, err)
		}
		if disk, _, err := wav.ReadFile(path); err != nil || !equal(disk, first) {
			t.Errorf("%s: file not repaired: %v", name, err)
		}
	}
	if s := c.Stats(); s.Renders != 1 || s.Hits != 1 {
		t.Errorf("stats %+v", s)
	}
}

// Twenty calls ask for the same new prompt at once: one rendering.
func TestCacheConcurrentSameKey(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	syn := &counting{Synthesizer: e, delay: 100 * time.Millisecond}
	c := NewCache(t.TempDir(), syn)
	var wg sync.WaitGroup
	results := make([][]int16, 20)
	for i := range results {
		wg.Go(func() {
			pcm, err := c.Get(context.Background(), "Please hold.", "en-us")
			if err != nil {
				t.Error(err)
			}
			results[i] = pcm
		})
	}
	wg.Wait()
	if n := syn.calls.Load(); n != 1 {
		t.Errorf("%d renderings for one prompt", n)
	}
	for i := range results {
		if len(results[i]) == 0 || !equal(results[i], results[0]) {
			t.Fatalf("caller %d got %d samples", i, len(results[i]))
		}
	}
	// Different prompts at once render in parallel, each once.
	texts := []string{"one", "two", "three", "four", "five"}
	for range 4 {
		for _, text := range texts {
			wg.Go(func() {
				if _, err := c.Get(context.Background(), text, "en-us"); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if n := syn.calls.Load(); n != 6 {
		t.Errorf("%d renderings for 6 prompts", n)
	}
}

// A caller that gives up gets its error at once; the rendering finishes and
// is kept. Failures are not cached.
func TestCacheCancelAndErrors(t *testing.T) {
	syn := &counting{Synthesizer: tones{}, delay: 300 * time.Millisecond}
	c := NewCache(t.TempDir(), syn)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Get(ctx, "slow prompt", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled get: %v", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("cancelled get returned after %v", took)
	}
	pcm, err := c.Get(context.Background(), "slow prompt", "")
	if err != nil || len(pcm) != 80*len("slow prompt") || syn.calls.Load() != 1 {
		t.Errorf("after cancel: %d samples, %d calls, %v", len(pcm), syn.calls.Load(), err)
	}

	boom := errors.New("engine on fire")
	syn.fail, syn.delay = boom, 0
	if _, err := c.Get(context.Background(), "will fail", ""); !errors.Is(err, boom) {
		t.Errorf("failure: %v", err)
	}
	syn.fail = nil
	if pcm, err := c.Get(context.Background(), "will fail", ""); err != nil || len(pcm) == 0 {
		t.Errorf("retry after failure: %v", err)
	}
	if s := c.Stats(); s.Errors != 1 {
		t.Errorf("stats %+v", s)
	}
	// Blank text needs no synthesiser.
	before := syn.calls.Load()
	if pcm, err := c.Get(context.Background(), "  ", ""); err != nil || pcm != nil || syn.calls.Load() != before {
		t.Errorf("blank: %v %v", pcm, err)
	}
}

// The engine version is part of the key: an upgrade renders everything again.
func TestCacheKeyParts(t *testing.T) {
	a := NewCache(t.TempDir(), tones{version: "1"})
	b := NewCache(t.TempDir(), tones{version: "2"})
	if a.Key("hi", "v") == b.Key("hi", "v") {
		t.Error("version not in the key")
	}
	if a.Key("hi", "v") == a.Key("hi", "w") || a.Key("hi", "v") == a.Key("ho", "v") {
		t.Error("voice or text not in the key")
	}
	// Field boundaries: moving characters between voice and text changes the key.
	if a.Key("b", "a") == a.Key("", "ab") {
		t.Error("fields not delimited")
	}
}

// A cache folder that cannot be written costs caching, not the prompt.
func TestCacheUnwritable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prompts"), []byte("a file, not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	syn := &counting{Synthesizer: tones{}}
	c := NewCache(dir, syn)
	c.SetMemoryLimit(0)
	for range 2 {
		if pcm, err := c.Get(context.Background(), "hello", ""); err != nil || len(pcm) == 0 {
			t.Fatalf("%v", err)
		}
	}
	if syn.calls.Load() != 2 {
		t.Errorf("%d calls", syn.calls.Load())
	}
}

func TestCacheMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	syn := &counting{Synthesizer: tones{}}
	c := NewCache(dir, syn)
	c.SetMemoryLimit(4 * 80 * 2 * 10) // room for four 10-byte prompts
	texts := []string{"aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd", "eeeeeeeeee"}
	for _, text := range texts {
		c.Get(context.Background(), text, "")
	}
	if c.lru.Len() != 4 || c.mem[c.Key(texts[0], "beep")] != nil {
		t.Errorf("%d in memory; the oldest should be gone", c.lru.Len())
	}
	// Gone from memory is still on disk: no new rendering.
	if _, err := c.Get(context.Background(), texts[0], ""); err != nil || syn.calls.Load() != 5 {
		t.Errorf("%d calls, %v", syn.calls.Load(), err)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
