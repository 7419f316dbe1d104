package vad

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/hotline-dev/hotline/media/wav"
)

const frame = 160

// samples is the number of samples in d at 8 kHz.
func samples(d time.Duration) int { return int(d * SampleRate / time.Second) }

// dur is the duration of n samples.
func dur(n int) time.Duration { return time.Duration(n) * time.Second / SampleRate }

// load reads testdata/name.wav (espeak-ng, en-us, 8 kHz; see testdata/gen.sh).
func load(t testing.TB, name string) []int16 {
	t.Helper()
	pcm, _, err := wav.ReadFile(filepath.Join("testdata", name+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// trim cuts leading and trailing near-silence (|s| <= 64) off speech, so
// that the tests control the pauses exactly.
func trim(pcm []int16) []int16 {
	i, j := 0, len(pcm)
	for i < j && abs(pcm[i]) <= 64 {
		i++
	}
	for j > i && abs(pcm[j-1]) <= 64 {
		j--
	}
	return pcm[i:j]
}

func abs(s int16) int {
	if s < 0 {
		return -int(s)
	}
	return int(s)
}

// ulaw and alaw are a G.711 round trip, as every call's audio takes.
func ulaw(pcm []int16) []int16 {
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(s))
	}
	return out
}

func alaw(pcm []int16) []int16 {
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = g711.DecodeAlawFrame(g711.EncodeAlawFrame(s))
	}
	return out
}

var laws = []struct {
	name string
	fn   func([]int16) []int16
}{{"ulaw", ulaw}, {"alaw", alaw}}

// level is the RMS level of pcm in dBFS (-100 for silence).
func level(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	if s == 0 {
		return -100
	}
	return 10 * math.Log10(s/float64(len(pcm))/(32768*32768))
}

// scaled returns pcm times gain dB, clipped.
func scaled(pcm []int16, dB float64) []int16 {
	g := math.Pow(10, dB/20)
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = clip(float64(s) * g)
	}
	return out
}

func clip(v float64) int16 { return int16(max(-32768, min(32767, math.Round(v)))) }

// white is Gaussian white noise of n samples at RMS level dBFS.
func white(seed uint64, n int, dBFS float64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	rms := 32768 * math.Pow(10, dBFS/20)
	out := make([]int16, n)
	for i := range out {
		out[i] = clip(r.NormFloat64() * rms)
	}
	return out
}

// pink is 1/f noise (Paul Kellett's filter) at RMS level dBFS: fan and
// room noise, most of its power low.
func pink(seed uint64, n int, dBFS float64) []int16 {
	r := rand.New(rand.NewPCG(seed, 2))
	f := make([]float64, n)
	var b0, b1, b2, b3, b4, b5, b6 float64
	var p float64
	for i := range f {
		w := r.NormFloat64()
		b0 = 0.99886*b0 + w*0.0555179
		b1 = 0.99332*b1 + w*0.0750759
		b2 = 0.96900*b2 + w*0.1538520
		b3 = 0.86650*b3 + w*0.3104856
		b4 = 0.55000*b4 + w*0.5329522
		b5 = -0.7616*b5 - w*0.0168980
		f[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362
		b6 = w * 0.115926
		p += f[i] * f[i]
	}
	g := 32768 * math.Pow(10, dBFS/20) / math.Sqrt(p/float64(n))
	out := make([]int16, n)
	for i := range f {
		out[i] = clip(f[i] * g)
	}
	return out
}

// sine is a tone of n samples at frequency f and RMS level dBFS.
func sine(n int, f, dBFS float64) []int16 {
	a := 32768 * math.Pow(10, dBFS/20) * math.Sqrt2
	out := make([]int16, n)
	for i := range out {
		out[i] = clip(a * math.Sin(2*math.Pi*f*float64(i)/SampleRate))
	}
	return out
}

// mix adds b into a copy of a from sample offset at.
func mix(a, b []int16, at int) []int16 {
	out := append([]int16(nil), a...)
	for i, s := range b {
		if at+i < len(out) {
			out[at+i] = clip(float64(out[at+i]) + float64(s))
		}
	}
	return out
}

// concat joins clips; an int is that many samples of silence.
func concat(parts ...any) []int16 {
	var out []int16
	for _, p := range parts {
		switch p := p.(type) {
		case []int16:
			out = append(out, p...)
		case int:
			out = append(out, make([]int16, p)...)
		case time.Duration:
			out = append(out, make([]int16, samples(p))...)
		default:
			panic("concat: bad part")
		}
	}
	return out
}

// line is what a quiet phone line carries besides the caller: white noise
// at -65 dBFS.
func line(pcm []int16) []int16 { return mix(pcm, white(99, len(pcm), -65), 0) }

// run pushes pcm through a new detector (the last partial frame is
// dropped) and returns its events, Audio copied.
func run(cfg Config, pcm []int16) []Event {
	return runOn(New(cfg), pcm)
}

func runOn(d *Detector, pcm []int16) []Event {
	var evs []Event
	fs := d.FrameSize()
	for i := 0; i+fs <= len(pcm); i += fs {
		if e := d.Push(pcm[i : i+fs]); e.Kind != None {
			e.Audio = append([]int16(nil), e.Audio...)
			evs = append(evs, e)
		}
	}
	return evs
}

// kinds lists the events' kinds, with End and Cancel reasons.
func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := e.Kind.String()
		if e.Reason != "" {
			s += ":" + e.Reason
		}
		out = append(out, s)
	}
	return out
}

func count(evs []Event, k Kind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// espeak renders text (SSML allowed) with espeak-ng and sox at 8 kHz, skipping the test
// when they are missing (failing in CI, which installs both).
func espeak(t *testing.T, voice, pitch, text string) []int16 {
	t.Helper()
	for _, bin := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found: CI must install the Debian packages espeak-ng and sox", bin)
			}
			t.Skipf("%s not installed (Debian packages espeak-ng, sox)", bin)
		}
	}
	cmd := exec.Command("sh", "-c", `espeak-ng -m -v "$1" -p "$2" --stdout "$3" | sox -t wav - -r 8000 -c 1 -b 16 -e signed-integer -t raw -`, "sh", voice, pitch, text)
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

// after drops the events of utterances that began before t: what a new
// detector makes of noise that is there from the start, before it has learnt
// the noise (see TestStartup).
func after(evs []Event, t time.Duration) []Event {
	var out []Event
	for _, e := range evs {
		if e.Begin >= t {
			out = append(out, e)
		}
	}
	return out
}
