package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestG711TablesRoundTrip(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if got := ulawEncode(ulawTable[b]); got != b && !(b == 0x7F && got == 0xFF) {
			t.Errorf("μ-law %#02x → %d → %#02x", b, ulawTable[b], got)
		}
		if got := alawEncode(alawTable[b]); got != b {
			t.Errorf("A-law %#02x → %d → %#02x", b, alawTable[b], got)
		}
	}
	// Spot values from G.711: the largest magnitudes and the silence codes.
	if ulawTable[0x00] != -32124 || ulawTable[0x80] != 32124 || ulawTable[0xFF] != 0 {
		t.Errorf("μ-law extremes: %d %d %d", ulawTable[0x00], ulawTable[0x80], ulawTable[0xFF])
	}
	if alawTable[0xAA] != 32256 || alawTable[0x2A] != -32256 || alawTable[0xD5] != 8 {
		t.Errorf("A-law extremes: %d %d %d", alawTable[0xAA], alawTable[0x2A], alawTable[0xD5])
	}
}

// Every format the decoder claims, at 8 kHz mono, decodes to the samples
// that were encoded, within that format's own precision.
func TestDecodeFormats(t *testing.T) {
	src := tone(800, 8000, 440, 0.6)
	cases := []struct {
		name string
		s    spec
		tol  int // largest allowed error, in 16-bit steps
		fmt  string
	}{
		{"pcm8", spec{format: formatPCM, bits: 8}, 256, "pcm"},
		{"pcm16", spec{format: formatPCM, bits: 16}, 0, "pcm"},
		{"pcm24", spec{format: formatPCM, bits: 24}, 1, "pcm"},
		{"pcm32", spec{format: formatPCM, bits: 32}, 1, "pcm"},
		{"float32", spec{format: formatFloat, bits: 32}, 1, "float"},
		{"float64", spec{format: formatFloat, bits: 64}, 1, "float"},
		{"mulaw", spec{format: formatMuLaw, bits: 8}, 1024, "mulaw"},
		{"alaw", spec{format: formatALaw, bits: 8}, 1024, "alaw"},
		{"ext-pcm16", spec{format: formatPCM, bits: 16, extensible: true}, 0, "pcm"},
		{"ext-pcm24in32", spec{format: formatPCM, bits: 32, validBits: 24, extensible: true}, 1, "pcm"},
		{"ext-float32", spec{format: formatFloat, bits: 32, extensible: true}, 1, "float"},
		{"ext-mulaw", spec{format: formatMuLaw, bits: 8, extensible: true}, 1024, "mulaw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.s.channels, c.s.rate, c.s.dataSize = 1, 8000, -1
			pcm, info, err := Decode(bytes.NewReader(makeWAV(c.s, src)))
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) != len(src) {
				t.Fatalf("%d samples, want %d", len(pcm), len(src))
			}
			if info.Format != c.fmt || info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != c.s.bits {
				t.Errorf("info %+v", info)
			}
			if info.Duration != 100*time.Millisecond {
				t.Errorf("duration %v", info.Duration)
			}
			worst := 0
			for i, fr := range src {
				want := int(math.Round(fr[0] * 32768))
				worst = max(worst, abs(int(pcm[i])-want))
			}
			if worst > c.tol {
				t.Errorf("largest error %d steps, want ≤ %d", worst, c.tol)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDecodeMixesChannels(t *testing.T) {
	n := 400
	frames := make([][]float64, n)
	for i := range frames {
		v := 0.5 * math.Sin(2*math.Pi*300*float64(i)/8000)
		// Left and right cancel; the other six carry the same signal.
		frames[i] = []float64{v, -v, v, v, v, v, v, v}
	}
	for _, ch := range []int{2, 8} {
		pcm, info, err := Decode(bytes.NewReader(makeWAV(spec{format: formatPCM, bits: 16, channels: ch, rate: 8000, dataSize: -1}, frames)))
		if err != nil {
			t.Fatal(err)
		}
		if info.Channels != ch || len(pcm) != n {
			t.Fatalf("%d channels: info %+v, %d samples", ch, info, len(pcm))
		}
		for i, fr := range frames {
			want := 0.0
			if ch == 8 {
				want = fr[0] * 6 / 8
			}
			if d := math.Abs(float64(pcm[i])/32768 - want); d > 2.0/32768 {
				t.Fatalf("%d channels: sample %d = %d, want %.0f", ch, i, pcm[i], want*32768)
			}
		}
	}
}

func TestDecodeSkipsChunksAndPads(t *testing.T) {
	src := tone(160, 8000, 1000, 0.5)
	s := spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: -1,
		before: [][2]string{{"LIST", "INFOISFT\x05\x00\x00\x00sox!\x00"}, {"fact", "\x01\x02\x03"}, {"bext", strings.Repeat("x", 601)}},
		after:  [][2]string{{"LIST", "odd"}},
	}
	pcm, _, err := Decode(bytes.NewReader(makeWAV(s, src)))
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) != 160 {
		t.Fatalf("%d samples", len(pcm))
	}
	// An odd fmt chunk size (an 18-byte fmt with a 1-byte extension is odd
	// once written by some tools) is padded too.
	b := makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: -1}, src)
	odd := append([]byte{}, b[:12]...)
	odd = append(odd, "fmt \x11\x00\x00\x00"...)
	odd = append(odd, b[20:36]...)
	odd = append(odd, 0, 0) // one extension byte and the pad
	odd = append(odd, b[36:]...)
	if pcm, _, err := Decode(bytes.NewReader(odd)); err != nil || len(pcm) != 160 {
		t.Fatalf("odd fmt: %d samples, %v", len(pcm), err)
	}
}

func TestDecodeStreamedAndTruncated(t *testing.T) {
	src := tone(1000, 8000, 500, 0.5)
	for _, size := range []int64{0, 0xFFFFFFFF, 0x7FFFF000, 10_000_000} {
		b := makeWAV(spec{format: formatPCM, bits: 16, channels: 2, rate: 8000, dataSize: size}, src)
		b = b[:len(b)-3] // a crash mid-frame: one and a half samples missing
		pcm, info, err := Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("data size %#x: %v", size, err)
		}
		if len(pcm) != 999 {
			t.Errorf("data size %#x: %d samples, want 999", size, len(pcm))
		}
		if info.Duration != 999*time.Second/8000 {
			t.Errorf("duration %v", info.Duration)
		}
	}
	// A data size smaller than the file stops there: what follows is not audio.
	b := makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: 200}, src)
	if pcm, _, err := Decode(bytes.NewReader(b)); err != nil || len(pcm) != 100 {
		t.Errorf("data size 200: %d samples, %v", len(pcm), err)
	}
}

func TestDecodeResamples(t *testing.T) {
	for _, rate := range []int{11025, 16000, 22050, 44100, 48000, 96000, 4000, 44101} {
		src := tone(rate/2, rate, 1000, 0.5)
		pcm, info, err := Decode(bytes.NewReader(makeWAV(spec{format: formatFloat, bits: 32, channels: 1, rate: rate, dataSize: -1}, src)))
		if err != nil {
			t.Fatal(err)
		}
		if info.SampleRate != rate || abs(len(pcm)-4000) > 1 {
			t.Fatalf("%d Hz: info %+v, %d samples", rate, info, len(pcm))
		}
		got := toneLevel(Int16ToFloat(pcm), 8000, 1000, 400)
		if want := 20 * math.Log10(0.5); math.Abs(got-want) > 0.1 {
			t.Errorf("%d Hz: 1 kHz tone at %.2f dB, want %.2f", rate, got, want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: -1}, tone(10, 8000, 100, 0.1))
	patch := func(off int, v ...byte) []byte {
		b := append([]byte{}, good...)
		copy(b[off:], v)
		return b
	}
	cases := map[string][]byte{
		"empty":            nil,
		"short":            good[:10],
		"not riff":         patch(0, 'J', 'U', 'N', 'K'),
		"rifx":             patch(0, 'R', 'I', 'F', 'X'),
		"not wave":         patch(8, 'A', 'V', 'I', ' '),
		"adpcm":            patch(20, 2, 0),
		"no channels":      patch(22, 0, 0),
		"nine channels":    patch(22, 9, 0),
		"rate 0":           patch(24, 0, 0, 0, 0),
		"rate 10 MHz":      patch(24, 0x80, 0x96, 0x98, 0),
		"pcm 40-bit":       patch(32, 5, 0, 40, 0),
		"fmt too short":    patch(16, 8, 0, 0, 0),
		"no fmt":           patch(12, 'j', 'u', 'n', 'k'),
		"no data":          good[:36],
		"data before fmt":  append(append(append([]byte{}, good[:12]...), good[36:]...), good[12:36]...),
		"huge chunk first": append(append(append([]byte{}, good[:12]...), "junk\xff\xff\xff\xff"...), good[12:]...),
		"extensible short": patch(20, 0xFE, 0xFF),
		"float 16-bit":     patch(20, 3, 0),
	}
	for name, b := range cases {
		_, _, err := Decode(bytes.NewReader(b))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v does not wrap ErrFormat", name, err)
		}
	}
	// A read error is passed on as it is.
	boom := errors.New("disk on fire")
	_, _, err := Decode(io.MultiReader(bytes.NewReader(good[:50]), errReader{boom}))
	if !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// A header that claims 4 GB of audio costs nothing until the bytes arrive.
func TestDecodeAllocatesByInput(t *testing.T) {
	b := makeWAV(spec{format: formatPCM, bits: 8, channels: 1, rate: 1000, dataSize: 0xFFFFFFF0}, tone(100, 1000, 100, 0.1))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pcm, _, err := Decode(bytes.NewReader(b))
	runtime.ReadMemStats(&after)
	if err != nil || len(pcm) != 800 {
		t.Fatalf("%d samples, %v", len(pcm), err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("allocated %d bytes for a %d-byte file", got, len(b))
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	want := []int16{0, 1, -1, 32767, -32768, 1234}
	if err := Write(path, want, 8000); err != nil {
		t.Fatal(err)
	}
	got, info, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(got, want) || info.Format != "pcm" || info.BitsPerSample != 16 {
		t.Fatalf("got %v %+v", got, info)
	}
	b, _ := os.ReadFile(path)
	if len(b) != 44+12 || binary.LittleEndian.Uint32(b[40:]) != 12 || binary.LittleEndian.Uint32(b[4:]) != 48 {
		t.Fatalf("header % x", b[:44])
	}
}

func slicesEqual(a, b []int16) bool {
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
