package speech

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

var quiet = slog.New(slog.DiscardHandler)

// needEspeak returns a real espeak-ng backend, skipping the test when the
// program is missing, or failing in CI, which installs it (Debian package
// espeak-ng).
func needEspeak(t testing.TB, o EspeakOptions) *Espeak {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("espeak-ng not found: CI must install the Debian package espeak-ng")
		}
		t.Skip("espeak-ng not found (apt-get install espeak-ng)")
	}
	e, err := NewEspeak(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// counting wraps a synthesiser and counts its calls.
type counting struct {
	Synthesizer
	calls atomic.Int64
	delay time.Duration // added to every call, to make calls overlap
	mu    sync.Mutex
	texts []string
	fail  error // returned instead of synthesising, when set
}

func (c *counting) Synthesize(ctx context.Context, text, voice string) ([]int16, error) {
	c.calls.Add(1)
	c.mu.Lock()
	c.texts = append(c.texts, text)
	fail := c.fail
	c.mu.Unlock()
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	if fail != nil {
		return nil, fail
	}
	return c.Synthesizer.Synthesize(ctx, text, voice)
}

func (c *counting) Version() string {
	if v, ok := c.Synthesizer.(Versioned); ok {
		return v.Version()
	}
	return ""
}

// tones is a synthesiser for tests that need no engine: a 1 kHz tone, 10 ms
// per byte of text.
type tones struct{ version string }

func (tones) Name() string        { return "tones" }
func (tones) Voice(string) string { return "beep" }
func (t tones) Version() string   { return t.version }
func (tones) Synthesize(ctx context.Context, text, voice string) ([]int16, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pcm := make([]int16, 80*len(text))
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return pcm, nil
}

// speechStats are the duration and RMS level (dBFS) of 8 kHz audio, and the
// share of 20 ms frames that carry sound.
func speechStats(pcm []int16) (time.Duration, float64, float64) {
	var sum float64
	voiced, frames := 0, 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		var e float64
		for _, s := range pcm[i : i+160] {
			e += float64(s) * float64(s)
		}
		sum += e
		frames++
		if math.Sqrt(e/160) > 300 {
			voiced++
		}
	}
	d := time.Duration(len(pcm)) * time.Second / wav.Rate
	if frames == 0 {
		return d, math.Inf(-1), 0
	}
	rms := math.Sqrt(sum / float64(frames*160))
	return d, 20 * math.Log10(rms/32768), float64(voiced) / float64(frames)
}

// fakeEspeak writes a shell script that answers --version and --voices like
// espeak-ng and otherwise runs body (after reading stdin), and returns its path.
func fakeEspeak(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-espeak")
	script := fmt.Sprintf(`#!/bin/sh
case "$1" in
--version) echo "eSpeak NG text-to-speech: 0.0-fake  Data at: /nowhere"; exit 0;;
--voices) printf ' Pty Language       Age/Gender VoiceName          File                 Other Languages\n 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n'; exit 0;;
esac
cat >/dev/null
%s
`, body)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
