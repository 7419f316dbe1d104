//go:build pocketsphinx

package speech

import (
	"math"
	"sync"
)

// The pocketsphinx en-us acoustic model is trained on 16 kHz audio, and its
// filter bank reaches 6.8 kHz. Telephone audio is 8 kHz: decoding it with
// pocketsphinx's own 8 kHz settings (-samprate 8000, -nfft 256, -upperf
// 3800) moves the mel filters away from where the model learnt them and
// nothing is recognised (bench/asr/README.md). What works is to upsample to
// 16 kHz and fill the empty 4–7.8 kHz band with faint noise (about -58 dBFS
// RMS, the harness's finding): an empty upper band gives the model's
// high-frequency filters log-energies it never saw in training.

const (
	upTaps = 16 // taps on each side of the half-band interpolator
	// noisePeriod is the length of the precomputed noise (0.256 s at
	// 16 kHz): long next to a 25 ms analysis frame, short to compute.
	noisePeriod = 4096
	// noiseRMS is the noise level in 16-bit units: -58 dBFS.
	noiseRMS = 32768 * 0.00125893 // 10^(-58/20)
	noiseLow = 4000.0             // Hz
	noiseHi  = 7800.0             // Hz
	// floorRMS is the level of the noise floor added to the 8 kHz input:
	// -72 dBFS, the idle-channel level of G.711 A-law (its smallest
	// codes are ±8). A μ-law line, or a caller that sends digital
	// silence, gives exact zeros between words; the model never saw
	// those (they sink the low mel filters' log-energies far below
	// anything in training and pull the cepstral mean with them), and
	// the grammar search then fits hints to the silence.
	floorRMS = 32768 * 0.000251189 // 10^(-72/20)
)

var (
	interpOnce  sync.Once
	interpCoefs [2 * upTaps]float32 // odd-phase (half-sample) coefficients
	noiseTable  [noisePeriod]float32
	floorTable  [noisePeriod]float32 // white noise at floorRMS, for the 8 kHz input
)

// initFrontend computes the interpolator and the noise table, once.
func initFrontend() {
	interpOnce.Do(func() {
		// Windowed sinc at half-sample offsets: the odd output samples of a
		// 2x half-band interpolator (the even ones are the input samples).
		n := 2 * upTaps
		for j := range n {
			t := float64(j) - float64(upTaps-1) - 0.5                                                        // -15.5 … 15.5
			w := 0.42 + 0.5*math.Cos(math.Pi*t/float64(upTaps)) + 0.08*math.Cos(2*math.Pi*t/float64(upTaps)) // Blackman
			interpCoefs[j] = float32(math.Sin(math.Pi*t) / (math.Pi * t) * w)
		}
		// Band-limited noise: a sum of sinusoids at every bin of the period
		// inside 4–7.8 kHz, with phases from a fixed-seed PRNG, so every
		// run hears the same noise (tests stay deterministic).
		binHz := 16000.0 / noisePeriod
		var acc [noisePeriod]float64
		seed := uint64(0x9e3779b97f4a7c15)
		for k := int(math.Ceil(noiseLow / binHz)); float64(k)*binHz <= noiseHi; k++ {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			phase := float64(seed>>11) / (1 << 53) * 2 * math.Pi
			step := 2 * math.Pi * float64(k) / noisePeriod
			for i := range acc {
				acc[i] += math.Cos(step*float64(i) + phase)
			}
		}
		var sum float64
		for _, v := range acc {
			sum += v * v
		}
		scale := noiseRMS / math.Sqrt(sum/noisePeriod)
		for i, v := range acc {
			noiseTable[i] = float32(v * scale)
		}
		// The input's noise floor: white (the 8 kHz band), uniform values
		// from the same PRNG, scaled to floorRMS.
		sum = 0
		for i := range acc {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			acc[i] = float64(seed>>11)/(1<<53) - 0.5
			sum += acc[i] * acc[i]
		}
		scale = floorRMS / math.Sqrt(sum/noisePeriod)
		for i, v := range acc {
			floorTable[i] = float32(v * scale)
		}
	})
}

// frontend turns 8 kHz telephone audio into what the 16 kHz model expects.
// It keeps state across chunks; reset it between utterances.
type frontend struct {
	hist  []float32 // last 2*upTaps-1 input samples
	in    []float32 // scratch: hist + the new chunk
	out   []int16   // scratch: the 16 kHz output
	phase int       // position in noiseTable
	fpos  int       // position in floorTable
	noise bool
}

func newFrontend(noise bool) *frontend {
	initFrontend()
	f := &frontend{noise: noise}
	f.reset()
	return f
}

func (f *frontend) reset() {
	f.hist = make([]float32, 2*upTaps-1)
	f.phase, f.fpos = 0, 0
}

// process upsamples pcm (8 kHz) to 16 kHz, adds the high-band noise, and
// returns a slice valid until the next call. The output lags the input by
// upTaps samples (2 ms): the tail comes out with the next chunk, or never at
// the end of the utterance, which ends in silence anyway.
func (f *frontend) process(pcm []int16) []int16 {
	f.in = append(f.in[:0], f.hist...)
	for _, s := range pcm {
		v := float32(s)
		if f.noise {
			v += floorTable[f.fpos]
			f.fpos = (f.fpos + 1) % noisePeriod
		}
		f.in = append(f.in, v)
	}
	f.out = f.out[:0]
	n := 2 * upTaps
	for i := n - 1; i < len(f.in); i++ {
		win := f.in[i-n+1 : i+1]
		even := win[upTaps-1]
		var odd float32
		for j, c := range interpCoefs {
			odd += c * win[j]
		}
		f.out = append(f.out, f.sample(even), f.sample(odd))
	}
	f.hist = append(f.hist[:0], f.in[len(f.in)-(n-1):]...)
	return f.out
}

func (f *frontend) sample(v float32) int16 {
	if f.noise {
		v += noiseTable[f.phase]
		f.phase = (f.phase + 1) % noisePeriod
	}
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}
