package dtmf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// throughULaw is what a tone suffers on the way in: G.711 μ-law.
func throughULaw(pcm []int16) []int16 {
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(v))
	}
	return out
}

// detect feeds pcm in 20 ms frames, as the media session does.
func detect(pcm []int16) []Digit {
	d := NewDetector()
	var out []Digit
	for i := 0; i < len(pcm); i += 160 {
		out = append(out, d.Process(pcm[i:min(i+160, len(pcm))], time.Duration(i)*sampleDur)...)
	}
	return out
}

func silence(d time.Duration) []int16 { return make([]int16, ticks(d)) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// pair makes a tone for key with the composite peak at level dBFS, relative
// frequency errors and twist (dB of the high tone over the low tone).
func pair(key rune, level, devLow, devHigh, twist float64, d time.Duration) []int16 {
	lo, hi, _ := Freqs(key)
	peak := 32767 * math.Pow(10, level/20)
	al := peak / (1 + math.Pow(10, twist/20))
	return TonePair(lo*(1+devLow), hi*(1+devHigh), al, peak-al, d)
}

func keysOf(ds []Digit) string {
	var b []rune
	for _, d := range ds {
		b = append(b, d.Key)
	}
	return string(b)
}

func TestDetectorEveryKey(t *testing.T) {
	for _, key := range "123A456B789C*0#D" {
		for _, level := range []float64{-3, -10, -18, -25} {
			for _, dl := range []float64{-0.015, 0, 0.015} {
				for _, dh := range []float64{-0.015, 0, 0.015} {
					// -8: normal twist (high group 8 dB weaker); +4: reverse twist.
					for _, tw := range []float64{-8, 0, 4} {
						for _, lead := range []time.Duration{30 * time.Millisecond, 33125 * time.Microsecond} {
							pcm := throughULaw(concat(silence(lead), pair(key, level, dl, dh, tw, 100*time.Millisecond), silence(100*time.Millisecond)))
							got := detect(pcm)
							if keysOf(got) != string(key) {
								t.Fatalf("key %c at %v dBFS, deviation %+.1f%%/%+.1f%%, twist %v dB: got %q", key, level, dl*100, dh*100, tw, keysOf(got))
							}
							if at := got[0].At; at < lead-5*time.Millisecond || at > lead+15*time.Millisecond {
								t.Errorf("key %c: At %v, tone started at %v", key, at, lead)
							}
						}
					}
				}
			}
		}
	}
}

func TestDetectorToneGenerator(t *testing.T) {
	for _, key := range "0123456789*#ABCD" {
		pcm := throughULaw(concat(silence(50*time.Millisecond), Tone(key, 80*time.Millisecond, 16000), silence(50*time.Millisecond)))
		if got := keysOf(detect(pcm)); got != string(key) {
			t.Errorf("Tone(%c): detected %q", key, got)
		}
	}
	if Tone('x', time.Second, 1000) != nil {
		t.Error("Tone of an unknown key should be nil")
	}
}

func TestDetectorDuration(t *testing.T) {
	// 40 ms must always be found, whatever the alignment; 20 ms never.
	for off := range 13 {
		lead := silence(10*time.Millisecond + time.Duration(off)*time.Millisecond)
		if got := keysOf(detect(throughULaw(concat(lead, pair('5', -10, 0, 0, 0, 40*time.Millisecond), silence(80*time.Millisecond))))); got != "5" {
			t.Errorf("40 ms tone at offset %d ms: got %q", off, got)
		}
		if got := keysOf(detect(throughULaw(concat(lead, pair('5', -10, 0, 0, 0, 20*time.Millisecond), silence(80*time.Millisecond))))); got != "" {
			t.Errorf("20 ms tone at offset %d ms: got %q", off, got)
		}
	}
}

func TestDetectorSequences(t *testing.T) {
	tone := func(k rune) []int16 { return pair(k, -10, 0, 0, 0, 60*time.Millisecond) }
	gap := silence(40 * time.Millisecond)
	pcm := throughULaw(concat(gap, tone('1'), gap, tone('1'), gap, tone('2'), gap, tone('#'), gap))
	if got := keysOf(detect(pcm)); got != "112#" {
		t.Errorf("got %q, want 112#", got)
	}
	// A lost 20 ms packet inside a long tone must not split it.
	long := pair('7', -15, 0, 0, 0, 300*time.Millisecond)
	for i := range 160 {
		long[1000+i] = 0
	}
	if got := keysOf(detect(throughULaw(concat(gap, long, gap)))); got != "7" {
		t.Errorf("tone with a 20 ms hole: got %q", got)
	}
	// Chunk size does not matter.
	d := NewDetector()
	var got []Digit
	all := throughULaw(concat(gap, tone('9'), gap))
	for i := 0; i < len(all); i += 7 {
		got = append(got, d.Process(all[i:min(i+7, len(all))], 0)...)
	}
	if keysOf(got) != "9" {
		t.Errorf("7-sample chunks: got %q", keysOf(got))
	}
}

func TestDetectorRejectsOutOfSpec(t *testing.T) {
	cases := map[string][]int16{
		"4% frequency error":   pair('5', -10, 0.04, 0.04, 0, 200*time.Millisecond),
		"-45 dBFS":             pair('5', -45, 0, 0, 0, 200*time.Millisecond),
		"12 dB normal twist":   pair('5', -6, 0, 0, -12, 200*time.Millisecond),
		"8 dB reverse twist":   pair('5', -6, 0, 0, 8, 200*time.Millisecond),
		"row tone only":        TonePair(770, 0, 8000, 0, 200*time.Millisecond),
		"two row tones":        TonePair(770, 941, 8000, 8000, 200*time.Millisecond),
		"dial tone 350+440 Hz": TonePair(350, 440, 8000, 8000, 200*time.Millisecond),
	}
	for name, pcm := range cases {
		if got := keysOf(detect(throughULaw(pcm))); got != "" {
			t.Errorf("%s: detected %q", name, got)
		}
	}
}

// vowel synthesises a voiced sound: harmonics of f0 (with slow vibrato and a
// little jitter) shaped by resonances at the formants.
func vowel(rng *rand.Rand, f0, vibrato float64, formants [][2]float64, d time.Duration, peak float64) []int16 {
	// Harmonic gains from the formant resonances (at the nominal f0).
	var gains []float64
	for h := 1; float64(h)*f0 < 3800; h++ {
		fh := float64(h) * f0
		g := 0.0
		for _, fm := range formants {
			r := fh / fm[0]
			g += 1 / math.Hypot(1-r*r, fh*fm[1]/(fm[0]*fm[0]))
		}
		gains = append(gains, g/float64(h))
	}
	n := int(ticks(d))
	x := make([]float64, n)
	phase, mx := 0.0, 0.0
	for i := range x {
		f := f0 * (1 + vibrato*math.Sin(2*math.Pi*5*float64(i)/sampleRate) + 0.002*rng.NormFloat64())
		phase += 2 * math.Pi * f / sampleRate
		v := 0.0
		for h, g := range gains {
			v += g * math.Sin(float64(h+1)*phase)
		}
		x[i] = v
		mx = max(mx, math.Abs(v))
	}
	out := make([]int16, n)
	for i, v := range x {
		out[i] = int16(v / mx * peak)
	}
	return out
}

func TestDetectorRejectsSpeechLike(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	formants := [][][2]float64{
		{{730, 90}, {1090, 110}, {2440, 170}}, // a
		{{700, 80}, {1210, 100}, {2500, 150}}, // a, F2 on a column tone
		{{270, 60}, {2290, 100}, {3010, 150}}, // i
		{{300, 60}, {870, 80}, {2240, 150}},   // u
		{{530, 70}, {1840, 100}, {2480, 150}}, // e
		{{850, 90}, {1350, 100}, {2600, 150}}, // æ, on 852/1336 ("8")
		{{940, 90}, {1480, 100}, {2600, 150}}, // on 941/1477 ("#")
	}
	for _, vib := range []float64{0, 0.02} {
		for f0 := 80.0; f0 <= 260; f0 += 0.5 {
			for i, fm := range formants {
				pcm := throughULaw(vowel(rng, f0, vib, fm, 150*time.Millisecond, 16000))
				if got := detect(pcm); len(got) > 0 {
					t.Errorf("vowel %d f0 %.1f Hz vibrato %v: detected %q", i, f0, vib, keysOf(got))
				}
			}
		}
	}
	for _, level := range []float64{0.02, 0.1, 0.3} {
		noise := make([]int16, 8000*5)
		for i := range noise {
			noise[i] = int16(max(-32768, min(32767, rng.NormFloat64()*32767*level)))
		}
		if got := detect(throughULaw(noise)); len(got) > 0 {
			t.Errorf("white noise at %v: detected %q", level, keysOf(got))
		}
	}
}

// chord plays notes (Hz) as organ-like tones: each note with decaying
// harmonics.
func chord(notes []float64, d time.Duration, peak float64) []int16 {
	n := int(ticks(d))
	x := make([]float64, n)
	mx := 0.0
	for i := range x {
		t := float64(i) / sampleRate
		for _, f := range notes {
			for h := 1; h <= 6 && float64(h)*f < 3900; h++ {
				x[i] += math.Sin(2*math.Pi*float64(h)*f*t) / float64(h*h)
			}
		}
		mx = max(mx, math.Abs(x[i]))
	}
	out := make([]int16, n)
	for i, v := range x {
		out[i] = int16(v / mx * peak)
	}
	return out
}

func TestDetectorRejectsMusic(t *testing.T) {
	note := func(semitones float64) float64 { return 440 * math.Pow(2, semitones/12) }
	var pcm []int16
	// Every major and minor triad and dominant seventh rooted from A3 to A5,
	// then two-note intervals in the DTMF band, each note with harmonics.
	for root := -12.0; root <= 12; root++ {
		for _, shape := range [][]float64{{0, 4, 7}, {0, 3, 7}, {0, 4, 7, 10}, {0, 12}, {0, 7}, {0, 5}, {0, 9}, {0, 16}} {
			var notes []float64
			for _, s := range shape {
				notes = append(notes, note(root+s))
			}
			pcm = append(pcm, chord(notes, 150*time.Millisecond, 20000)...)
		}
	}
	if got := detect(throughULaw(pcm)); len(got) > 0 {
		t.Errorf("chords: detected %q", keysOf(got))
	}
}

// TestDetectorRejectsEspeak runs synthetic speech (espeak-ng, resampled to
// 8 kHz by sox) through the detector: English and Mandarin, male and female
// voices, low to very high pitch, at two levels. It needs the Debian packages
// espeak-ng and sox.
func TestDetectorRejectsEspeak(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for _, bin := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian packages espeak-ng, sox)", bin)
		}
	}
	en := "Thank you for calling customer support. Please tell me in a few words what you are calling about. " +
		"For example, you can say where is my order, I want a refund, or talk to an agent. Our opening hours are " +
		"Monday to Friday, from nine in the morning until six in the evening. One two three four five six seven " +
		"eight nine zero, pound, star. Bob, Ann, Tom and Kate are all waiting in the queue for the operator."
	zh := "nin2 hao3, zhe4 li3 shi4 mou3 mou3 ke4 fu2 de5 zi4 dong4 yu3 yin1 zhu4 shou3. qing3 wen4 you3 shen2 me5 " +
		"ke3 yi3 bang1 nin2? an4 ling2 zhuan3 ren2 gong1. wo3 men5 de5 ying2 ye4 shi2 jian1 shi4 zhou1 yi1 dao4 zhou1 wu3."
	var seconds float64
	for _, v := range []struct {
		voice, text string
	}{{"en-us", en}, {"en-gb", en}, {"en-us+f3", en}, {"en-us+m3", en}, {"en-gb+f4", en}, {"cmn-latn-pinyin", zh}, {"cmn-latn-pinyin+f3", zh}} {
		for _, pitch := range []string{"20", "50", "80", "99"} {
			pcm := espeak(t, v.voice, pitch, v.text)
			seconds += float64(len(pcm)) / sampleRate
			for _, gain := range []float64{1, 3} {
				loud := make([]int16, len(pcm))
				for i, s := range pcm {
					loud[i] = int16(max(-32768, min(32767, float64(s)*gain)))
				}
				loud = throughULaw(loud)
				for _, off := range []int{0, 51} { // two block alignments
					if got := detect(loud[off:]); len(got) > 0 {
						t.Errorf("espeak-ng %s pitch %s gain %v: detected %q at %v", v.voice, pitch, gain, keysOf(got), got[0].At)
					}
				}
			}
		}
	}
	t.Logf("%.0f s of speech, none detected as DTMF", seconds)
}

func espeak(t *testing.T, voice, pitch, text string) []int16 {
	t.Helper()
	cmd := exec.Command("sh", "-c", `espeak-ng -v "$1" -p "$2" -s 160 --stdout "$3" | sox -t wav - -r 8000 -c 1 -b 16 -e signed-integer -t raw -`, "sh", voice, pitch, text)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("espeak-ng %s: %v: %s", voice, err, errb.String())
	}
	pcm := make([]int16, out.Len()/2)
	if err := binary.Read(&out, binary.LittleEndian, pcm); err != nil {
		t.Fatal(err)
	}
	return pcm
}

func BenchmarkDetectorFrame(b *testing.B) {
	for _, c := range []struct {
		name string
		pcm  []int16
	}{
		{"silence", make([]int16, 8000)},
		{"speech", throughULaw(vowel(rand.New(rand.NewPCG(1, 1)), 120, 0.02, [][2]float64{{730, 90}, {1090, 110}, {2440, 170}}, time.Second, 16000))},
		{"tone", throughULaw(Tone('5', time.Second, 16000))},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := NewDetector()
			i := 0
			for b.Loop() {
				d.Process(c.pcm[i:i+160], 0)
				if i += 160; i+160 > len(c.pcm) {
					i = 0
				}
			}
		})
	}
}

func ExampleDetector() {
	d := NewDetector()
	pcm := concat(silence(20*time.Millisecond), Tone('5', 60*time.Millisecond, 16000), silence(60*time.Millisecond))
	for i := 0; i < len(pcm); i += 160 {
		for _, dg := range d.Process(pcm[i:i+160], time.Duration(i)*time.Second/8000) {
			fmt.Printf("%c at %v\n", dg.Key, dg.At)
		}
	}
	// Output: 5 at 25.5ms
}

func TestDetectorNoisyLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, snr := range []float64{30, 20, 15} {
		for _, key := range "0123456789*#ABCD" {
			tone := pair(key, -20, 0.01, -0.01, -3, 80*time.Millisecond)
			pcm := concat(silence(60*time.Millisecond), tone, silence(60*time.Millisecond))
			// Noise power relative to the tone pair's power.
			var p float64
			for _, v := range tone {
				p += float64(v) * float64(v)
			}
			sigma := math.Sqrt(p/float64(len(tone))) * math.Pow(10, -snr/20)
			for i := range pcm {
				pcm[i] = int16(max(-32768, min(32767, float64(pcm[i])+rng.NormFloat64()*sigma)))
			}
			if got := keysOf(detect(throughULaw(pcm))); got != string(key) {
				t.Errorf("key %c with noise at %v dB SNR: got %q", key, snr, got)
			}
		}
	}
}
