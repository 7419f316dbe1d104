package wav

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"testing"
)

// spec describes a WAV file for makeWAV to build.
type spec struct {
	format     uint16 // formatPCM, formatFloat, formatALaw, formatMuLaw
	bits       int    // container bits
	validBits  int    // for extensible; 0 = bits
	channels   int
	rate       int
	extensible bool
	before     [][2]string // extra chunks before data: id, body
	after      [][2]string // extra chunks after data
	dataSize   int64       // -1: the true size; otherwise written as is
}

// makeWAV encodes frames (frames[i][c] in [-1, 1]) as s says.
func makeWAV(s spec, frames [][]float64) []byte {
	var body bytes.Buffer
	le := binary.LittleEndian
	for _, fr := range frames {
		for c := range s.channels {
			v := fr[c%len(fr)]
			switch s.format {
			case formatPCM:
				switch s.bits {
				case 8:
					body.WriteByte(byte(int(math.Round(clampF(v*128, -128, 127))) + 128))
				case 16:
					binary.Write(&body, le, int16(math.Round(clampF(v*32768, -32768, 32767))))
				case 24:
					x := int32(math.Round(clampF(v*8388608, -8388608, 8388607)))
					body.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
				case 32:
					if s.validBits == 24 {
						x := int32(math.Round(clampF(v*8388608, -8388608, 8388607))) << 8
						binary.Write(&body, le, x)
					} else {
						binary.Write(&body, le, int32(math.Round(clampF(v*2147483648, -2147483648, 2147483647))))
					}
				}
			case formatFloat:
				if s.bits == 32 {
					binary.Write(&body, le, float32(v))
				} else {
					binary.Write(&body, le, v)
				}
			case formatMuLaw:
				body.WriteByte(ulawEncode(int16(math.Round(clampF(v*32768, -32768, 32767)))))
			case formatALaw:
				body.WriteByte(alawEncode(int16(math.Round(clampF(v*32768, -32768, 32767)))))
			}
		}
	}
	var fmtc bytes.Buffer
	code := s.format
	if s.extensible {
		code = formatExtensible
	}
	binary.Write(&fmtc, le, code)
	binary.Write(&fmtc, le, uint16(s.channels))
	binary.Write(&fmtc, le, uint32(s.rate))
	binary.Write(&fmtc, le, uint32(s.rate*s.channels*s.bits/8))
	binary.Write(&fmtc, le, uint16(s.channels*s.bits/8))
	binary.Write(&fmtc, le, uint16(s.bits))
	if s.extensible {
		vb := s.validBits
		if vb == 0 {
			vb = s.bits
		}
		binary.Write(&fmtc, le, uint16(22))
		binary.Write(&fmtc, le, uint16(vb))
		binary.Write(&fmtc, le, uint32(0))
		binary.Write(&fmtc, le, s.format)
		fmtc.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	} else if s.format != formatPCM {
		binary.Write(&fmtc, le, uint16(0)) // cbSize
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, le, uint32(0)) // fixed below
	out.WriteString("WAVE")
	chunk := func(id string, b []byte, size int64) {
		out.WriteString(id)
		if size < 0 {
			size = int64(len(b))
		}
		binary.Write(&out, le, uint32(size))
		out.Write(b)
		if len(b)%2 == 1 {
			out.WriteByte(0)
		}
	}
	for _, c := range s.before {
		chunk(c[0], []byte(c[1]), -1)
	}
	chunk("fmt ", fmtc.Bytes(), -1)
	chunk("data", body.Bytes(), s.dataSize)
	for _, c := range s.after {
		chunk(c[0], []byte(c[1]), -1)
	}
	b := out.Bytes()
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func clampF(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

// Independent G.711 compressors (G.191 reference style), to check our tables.
func ulawEncode(pcm int16) byte {
	const bias = 0x84
	x := int(pcm)
	mask := byte(0xFF)
	if x < 0 {
		x = -x
		mask = 0x7F
	}
	x = min(x+bias, 0x7FFF)
	seg := 0
	for v := x >> 8; v > 0 && seg < 7; v >>= 1 {
		seg++
	}
	return (byte(seg<<4) | byte((x>>(seg+3))&0x0F)) ^ mask
}

func alawEncode(pcm int16) byte {
	x := int(pcm) >> 3
	mask := byte(0xD5)
	if x < 0 {
		x = -x - 1
		mask = 0x55
	}
	seg := 0
	for v := x >> 5; v > 0 && seg < 8; v >>= 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte((x >> 1) & 0x0F)
	} else {
		a |= byte((x >> seg) & 0x0F)
	}
	return a ^ mask
}

// tone returns n frames of a sine at freq Hz and amplitude amp, on every channel.
func tone(n, rate int, freq, amp float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = []float64{amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))}
	}
	return out
}

// level is the RMS of x in dB relative to a full-scale sine's RMS (so a sine
// of amplitude 1 is 0 dB), over the middle, away from the edges.
func level(x []float32, skip int) float64 {
	if len(x) <= 2*skip {
		return math.Inf(-1)
	}
	var sum float64
	for _, v := range x[skip : len(x)-skip] {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum / float64(len(x)-2*skip))
	return 20 * math.Log10(rms*math.Sqrt2)
}

// toneLevel is the level of the component at freq (a DFT bin over the middle).
func toneLevel(x []float32, rate int, freq float64, skip int) float64 {
	var re, im float64
	seg := x[skip : len(x)-skip]
	for i, v := range seg {
		a := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += float64(v) * math.Cos(a)
		im += float64(v) * math.Sin(a)
	}
	amp := 2 * math.Hypot(re, im) / float64(len(seg))
	return 20 * math.Log10(amp)
}

// needTool skips without the tool, or fails when running in CI (CI installs it:
// Debian packages sox and libsox-fmt-all).
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: CI must install it (Debian packages sox libsox-fmt-all)", name)
		}
		t.Skipf("%s not found (apt-get install sox libsox-fmt-all)", name)
	}
	return p
}

func sinAt(i, rate int, freq float64) float64 {
	return math.Sin(2 * math.Pi * freq * float64(i) / float64(rate))
}
