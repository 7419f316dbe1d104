package wav

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzDecode(f *testing.F) {
	src := tone(64, 8000, 440, 0.5)
	for _, s := range []spec{
		{format: formatPCM, bits: 8, channels: 1, rate: 8000},
		{format: formatPCM, bits: 16, channels: 2, rate: 44100},
		{format: formatPCM, bits: 24, channels: 1, rate: 22050},
		{format: formatPCM, bits: 32, channels: 3, rate: 16000, extensible: true},
		{format: formatPCM, bits: 32, validBits: 24, channels: 1, rate: 48000, extensible: true},
		{format: formatFloat, bits: 32, channels: 1, rate: 1000},
		{format: formatFloat, bits: 64, channels: 8, rate: 96000},
		{format: formatMuLaw, bits: 8, channels: 1, rate: 8000},
		{format: formatALaw, bits: 8, channels: 2, rate: 11025, before: [][2]string{{"LIST", "odd"}}},
	} {
		s.dataSize = -1
		b := makeWAV(s, src)
		f.Add(b)
		f.Add(b[:len(b)/2])
		s.dataSize = 0xFFFFFFFF
		f.Add(makeWAV(s, src))
	}
	f.Add([]byte("RF64\xff\xff\xff\xffWAVEds64\x1c\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, info, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Output is bounded by the input: at most one frame per byte, and at
		// most 8000/1000 output samples per frame (the lowest rate allowed).
		if len(pcm) > len(b)*8+8 {
			t.Fatalf("%d bytes gave %d samples (%+v)", len(b), len(pcm), info)
		}
		if info.Channels < 1 || info.Channels > MaxChannels || info.SampleRate < MinSampleRate {
			t.Fatalf("accepted %+v", info)
		}
	})
}

// Repair never panics on a damaged file, and what it leaves decodes.
func FuzzRepair(f *testing.F) {
	f.Add(makeWAV(spec{format: formatPCM, bits: 16, channels: 2, rate: 8000, dataSize: 0xFFFFFFFF}, tone(50, 8000, 300, 0.3)))
	f.Add(makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: -1, after: [][2]string{{"LIST", "x"}}}, tone(50, 8000, 300, 0.3)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.wav")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Repair(p); err != nil {
			return
		}
		if _, _, err := ReadFile(p); err != nil {
			t.Fatalf("repaired file does not decode: %v", err)
		}
	})
}

// BenchmarkDecode44kStereo: a 10 s 44.1 kHz stereo 16-bit file (1.76 MB) to
// 8 kHz mono: mix-down, anti-aliasing and resampling.
func BenchmarkDecode44kStereo(b *testing.B) {
	frames := make([][]float64, 441000)
	for i := range frames {
		frames[i] = []float64{0.3 * sinAt(i, 44100, 440), 0.3 * sinAt(i, 44100, 1500)}
	}
	data := makeWAV(spec{format: formatPCM, bits: 16, channels: 2, rate: 44100, dataSize: -1}, frames)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode8kMono: a 10 s prompt already in hotline's format.
func BenchmarkDecode8kMono(b *testing.B) {
	data := makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: -1}, tone(80000, 8000, 440, 0.3))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
