package wav

import (
	"math"
	"testing"
)

func sine(n, rate int, freq, amp float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// The brief's bar: a 5 kHz tone at 48 kHz comes out of 48 → 8 kHz at least
// 40 dB down (it would alias to 3 kHz, in the middle of the speech band).
// Music at 44.1 kHz: nothing above 4 kHz may come back audibly.
func TestResampleStopBand(t *testing.T) {
	cases := []struct {
		from  int
		freqs []float64
	}{
		{48000, []float64{5000, 4200, 6000, 9000, 12000, 20000}},
		{44100, []float64{4200, 5000, 7000, 11025, 15000, 21000}},
		{22050, []float64{4100, 5000, 7000, 10000}},
		{16000, []float64{4300, 6000, 7900}},
		{44101, []float64{5000, 15000}}, // the interpolated-phase path
	}
	for _, c := range cases {
		for _, f := range c.freqs {
			out := Resample(sine(c.from, c.from, f, 1), c.from, 8000)
			got := level(out, 400)
			if got > -40 {
				t.Errorf("%d Hz → 8 kHz: %.0f Hz tone comes out at %.1f dB, want ≤ -40 dB", c.from, f, got)
			}
			if f == 5000 {
				t.Logf("%d Hz → 8 kHz: 5 kHz tone at %.1f dB", c.from, got)
			}
			if f >= 4300 && got > -70 { // the design is 80 dB; allow for float32
				t.Errorf("%d Hz → 8 kHz: %.0f Hz tone at %.1f dB, want ≤ -70 dB past the transition band", c.from, f, got)
			}
		}
	}
}

// Speech frequencies pass unchanged in level.
func TestResamplePassBand(t *testing.T) {
	for _, from := range []int{11025, 16000, 22050, 44100, 48000, 44101} {
		for _, f := range []float64{100, 1000, 3000, 3400} {
			out := Resample(sine(from, from, f, 0.5), from, 8000)
			if len(out) != 8000 {
				t.Fatalf("%d → 8000: %d samples", from, len(out))
			}
			got := toneLevel(out, 8000, f, 400) - 20*math.Log10(0.5)
			if math.Abs(got) > 0.1 {
				t.Errorf("%d Hz → 8 kHz: %.0f Hz tone changed by %.2f dB", from, f, got)
			}
		}
	}
}

// Upsampling (an 8 kHz prompt to a 44.1 kHz file) keeps the tone and leaves no images.
func TestResampleUp(t *testing.T) {
	for _, to := range []int{16000, 44100, 48000} {
		out := Resample(sine(8000, 8000, 1000, 0.5), 8000, to)
		if len(out) != to {
			t.Fatalf("8000 → %d: %d samples", to, len(out))
		}
		if got := toneLevel(out, to, 1000, to/20) - 20*math.Log10(0.5); math.Abs(got) > 0.1 {
			t.Errorf("8000 → %d: 1 kHz changed by %.2f dB", to, got)
		}
		if got := toneLevel(out, to, 7000, to/20); got > -70 {
			t.Errorf("8000 → %d: image at 7 kHz at %.1f dB", to, got)
		}
	}
}

func TestResampleEdges(t *testing.T) {
	if Resample(nil, 44100, 8000) != nil || Resample([]float32{1}, 0, 8000) != nil {
		t.Error("empty or bad rate should give nil")
	}
	in := []float32{0.1, 0.2, 0.3}
	out := Resample(in, 8000, 8000)
	if len(out) != 3 || &out[0] == &in[0] {
		t.Error("same rate should copy")
	}
	// Lengths round up: every input instant is covered.
	for _, n := range []int{1, 2, 5, 6, 441, 442} {
		if got, want := len(Resample(make([]float32, n), 44100, 8000)), (n*80+440)/441; got != want {
			t.Errorf("%d samples → %d, want %d", n, got, want)
		}
	}
	// DC passes at unity gain, on every phase, right up to the middle.
	dc := make([]float32, 44100)
	for i := range dc {
		dc[i] = 0.25
	}
	out = Resample(dc, 44100, 8000)
	for i := 200; i < len(out)-200; i++ {
		if math.Abs(float64(out[i])-0.25) > 1e-4 {
			t.Fatalf("DC sample %d = %v", i, out[i])
		}
	}
	// No delay: an impulse stays where it was.
	imp := make([]float32, 4800)
	imp[2400] = 1
	out = Resample(imp, 48000, 8000)
	peak := 0
	for i := range out {
		if math.Abs(float64(out[i])) > math.Abs(float64(out[peak])) {
			peak = i
		}
	}
	if peak != 400 {
		t.Errorf("impulse at input 2400 peaks at output %d, want 400", peak)
	}
	got := ResampleInt16([]int16{1000, 1000, 1000, 1000}, 16000, 8000)
	if len(got) != 2 {
		t.Errorf("ResampleInt16: %v", got)
	}
}

func BenchmarkResample44kTo8k(b *testing.B) {
	in := sine(441000, 44100, 1000, 0.5)
	b.SetBytes(int64(len(in) * 4))
	for b.Loop() {
		Resample(in, 44100, 8000)
	}
}

func BenchmarkResample22kTo8k(b *testing.B) {
	in := sine(220500, 22050, 1000, 0.5)
	b.SetBytes(int64(len(in) * 4))
	for b.Loop() {
		Resample(in, 22050, 8000)
	}
}
