package media

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/zaf/g711"
)

func TestEncodeTablesMatchG711(t *testing.T) {
	for v := math.MinInt16; v <= math.MaxInt16; v++ {
		s := int16(v)
		if got, want := PCMU.Encode(nil, []int16{s})[0], g711.EncodeUlawFrame(s); got != want {
			t.Fatalf("μ-law %d: %#x, g711 %#x", s, got, want)
		}
		if got, want := PCMA.Encode(nil, []int16{s})[0], g711.EncodeAlawFrame(s); got != want {
			t.Fatalf("A-law %d: %#x, g711 %#x", s, got, want)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(12000 * math.Sin(2*math.Pi*440*float64(i)/SampleRate))
	}
	for _, c := range []Codec{PCMU, PCMA, {Name: "pcmu", PayloadType: 96, ClockRate: 8000}} {
		enc := c.Encode([]byte{1, 2}, pcm)
		if len(enc) != 162 || enc[0] != 1 || enc[1] != 2 {
			t.Fatalf("%s: Encode must append to dst", c.Name)
		}
		dec := c.Decode(nil, enc[2:])
		for i := range pcm {
			// G.711 keeps about 3 significant bits per segment: within 1/16.
			if d := math.Abs(float64(dec[i] - pcm[i])); d > math.Abs(float64(pcm[i]))/16+16 {
				t.Fatalf("%s sample %d: %d -> %d", c.Name, i, pcm[i], dec[i])
			}
		}
		// Decoding is G.711's table, and a decoded frame encodes to itself.
		if re := c.Encode(nil, dec); !bytes.Equal(re, enc[2:]) {
			t.Errorf("%s: decode/encode is not stable", c.Name)
		}
	}
	if PCMU.Silence() != 0xFF || PCMA.Silence() != 0xD5 {
		t.Errorf("silence bytes %#x %#x", PCMU.Silence(), PCMA.Silence())
	}
	if PCMU.Decode(nil, []byte{0xFF})[0] != 0 || PCMA.Decode(nil, []byte{0xD5})[0] > 8 {
		t.Error("silence bytes do not decode to (near) zero")
	}
	if c, ok := LookupCodec("pcma"); !ok || c != PCMA {
		t.Error("LookupCodec(pcma)")
	}
	if _, ok := LookupCodec("opus"); ok {
		t.Error("LookupCodec(opus)")
	}
	if got := (Codec{Name: "G729"}).Encode(nil, pcm); len(got) != 0 {
		t.Error("unknown codec encoded something")
	}
	if FrameSamples(20*time.Millisecond) != 160 || FrameSamples(30*time.Millisecond) != 240 {
		t.Error("FrameSamples")
	}
}

func TestPCMSource(t *testing.T) {
	src := NewPCMSource([]int16{1, 2, 3, 4, 5})
	buf := make([]int16, 3)
	if n, done := src.ReadFrame(buf); n != 3 || done {
		t.Fatalf("first frame: %d %v", n, done)
	}
	if n, done := src.ReadFrame(buf); n != 2 || !done || buf[0] != 4 || buf[1] != 5 {
		t.Fatalf("last frame: %d %v %v", n, done, buf)
	}
	if n, done := NewPCMSource(nil).ReadFrame(buf); n != 0 || !done {
		t.Fatalf("empty source: %d %v", n, done)
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 200)
	}
	dst := make([]byte, 0, 160)
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name, func(b *testing.B) {
			for b.Loop() {
				dst = c.Encode(dst[:0], pcm)
			}
		})
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i)
	}
	dst := make([]int16, 0, 160)
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name, func(b *testing.B) {
			for b.Loop() {
				dst = c.Decode(dst[:0], payload)
			}
		})
	}
}

// BenchmarkEncodeFrameG711 is the same work through zaf/g711 directly, for
// comparison with the tables.
func BenchmarkEncodeFrameG711(b *testing.B) {
	pcm := make([]int16, 160)
	dst := make([]byte, 160)
	for b.Loop() {
		for i, v := range pcm {
			dst[i] = g711.EncodeUlawFrame(v)
		}
	}
}
