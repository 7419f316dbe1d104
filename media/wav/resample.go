package wav

import (
	"math"
	"sync"
	"sync/atomic"
)

// The anti-aliasing filter: a Kaiser-windowed sinc whose pass band ends at 85%
// of the lower Nyquist frequency (3.4 kHz at 8 kHz: the telephone band) and
// whose stop band starts at the Nyquist frequency, 80 dB down. Linear phase,
// centred, so the output is not delayed against the input.
const (
	filterPass  = 0.85
	filterStop  = 1.0
	filterAtten = 80.0
	// Tables larger than this (in coefficients) are not kept per phase: odd
	// rate pairs (44101 → 8000 has 8000 phases) interpolate between 256.
	maxExactTable = 1 << 18
	interpPhases  = 256
	// The filter cache holds at most this many coefficients (16 MB): the
	// common rate pairs take 30 000 each; a stream of odd rates from hostile
	// files must not grow it without bound.
	maxCachedCoefs = 4 << 20
)

// filter is a polyphase bank for one rate pair.
type filter struct {
	l, m   int64     // to/from rate, reduced
	half   int       // taps each side of the centre, in input samples
	taps   int       // 2*half
	phases int       // rows in coef
	interp bool      // rows are interpPhases+1 fractions to interpolate between, not the l exact phases
	coef   []float32 // phases × taps, row p is the kernel for output offset p/phases
}

var (
	filters     sync.Map // [2]int → *filter
	cachedCoefs atomic.Int64
)

func getFilter(from, to int) *filter {
	key := [2]int{from, to}
	if f, ok := filters.Load(key); ok {
		return f.(*filter)
	}
	f := newFilter(from, to)
	if n := int64(len(f.coef)); cachedCoefs.Add(n) <= maxCachedCoefs {
		if _, loaded := filters.LoadOrStore(key, f); loaded {
			cachedCoefs.Add(-n)
		}
	} else {
		cachedCoefs.Add(-n)
	}
	return f
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newFilter(from, to int) *filter {
	g := gcd(from, to)
	f := &filter{l: int64(to / g), m: int64(from / g)}
	nyq := float64(min(from, to)) / 2
	fc := (filterPass + filterStop) / 2 * nyq / float64(from) // cut-off, cycles per input sample
	width := (filterStop - filterPass) * nyq / float64(from)  // transition band, same unit
	n := (filterAtten - 7.95) / (14.36 * width)               // Kaiser's length estimate
	f.half = max(2, int(math.Ceil(n/2)))
	f.taps = 2 * f.half
	beta := 0.1102 * (filterAtten - 8.7)
	if f.l*int64(f.taps) <= maxExactTable {
		f.phases = int(f.l)
	} else {
		f.interp = true
		f.phases = interpPhases + 1
	}
	f.coef = make([]float32, f.phases*f.taps)
	i0beta := bessel0(beta)
	row := make([]float64, f.taps)
	for p := range f.phases {
		var phi float64 // where the output sample falls between two input samples
		if f.interp {
			phi = float64(p) / interpPhases
		} else {
			phi = float64(p) / float64(f.l)
		}
		var sum float64
		for k := range f.taps {
			t := float64(k-f.half+1) - phi
			x := t / float64(f.half)
			var w float64
			if x > -1 && x < 1 {
				w = bessel0(beta*math.Sqrt(1-x*x)) / i0beta
			}
			row[k] = 2 * fc * sinc(2*fc*t) * w
			sum += row[k]
		}
		// Every phase passes DC at exactly unity gain, so no phase-rate
		// ripple is added to the signal.
		for k := range f.taps {
			f.coef[p*f.taps+k] = float32(row[k] / sum)
		}
	}
	return f
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// Resample converts mono audio between rates with a proper anti-aliasing
// low-pass: a polyphase windowed-sinc filter, 80 dB stop band from the lower
// Nyquist frequency, pass band flat to 85% of it. The output has
// ceil(len(in)·toRate/fromRate) samples and is aligned with the input (no
// delay). The cost is about 2·(A−8)/(14.36·0.15)·max(1, from/to) ≈ 45·from/to
// multiply-adds per output sample (≈370 for 44.1 kHz → 8 kHz); filter tables
// are built once per rate pair (a few ms) and kept.
func Resample(in []float32, fromRate, toRate int) []float32 {
	if fromRate <= 0 || toRate <= 0 || len(in) == 0 {
		return nil
	}
	if fromRate == toRate {
		return append([]float32(nil), in...)
	}
	f := getFilter(fromRate, toRate)
	// Zero padding on both sides lets the inner loop run without bounds
	// checks on the signal's edges.
	pad := make([]float32, f.half+len(in)+f.half+1)
	copy(pad[f.half:], in)
	return f.run(pad, len(in))
}

// run filters n input samples that start at pad[f.half], with f.half+1
// zeros after them.
func (f *filter) run(pad []float32, n int) []float32 {
	outLen := int((int64(n)*f.l + f.m - 1) / f.m)
	out := make([]float32, outLen)
	for i := range out {
		t := int64(i) * f.m
		i0 := int(t / f.l)
		p := t % f.l
		x := pad[i0+1 : i0+1+f.taps]
		if !f.interp {
			out[i] = dot(x, f.coef[int(p)*f.taps:int(p+1)*f.taps])
			continue
		}
		pos := float64(p) * interpPhases / float64(f.l)
		r := int(pos)
		a := float32(pos - float64(r))
		y0 := dot(x, f.coef[r*f.taps:(r+1)*f.taps])
		y1 := dot(x, f.coef[(r+1)*f.taps:(r+2)*f.taps])
		out[i] = y0 + a*(y1-y0)
	}
	return out
}

// ResampleInt16 is Resample for 16-bit samples.
func ResampleInt16(in []int16, fromRate, toRate int) []int16 {
	return FloatToInt16(Resample(Int16ToFloat(in), fromRate, toRate))
}

// dot is the filter's inner loop; four accumulators let the CPU overlap the adds.
func dot(x, h []float32) float32 {
	h = h[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * h[i]
		s1 += x[i+1] * h[i+1]
		s2 += x[i+2] * h[i+2]
		s3 += x[i+3] * h[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * h[i]
	}
	return (s0 + s1) + (s2 + s3)
}
