package media

import (
	"strings"
	"time"

	"github.com/zaf/g711"
)

// SampleRate is the rate of all audio in hotline: 8 kHz, 16-bit, mono.
const SampleRate = 8000

// FrameSamples is the number of samples in a frame of ptime (160 at 20 ms).
func FrameSamples(ptime time.Duration) int { return int(ptime * SampleRate / time.Second) }

// Codec is a negotiated audio codec: its name, the RTP payload type the SDP
// gave it, and its RTP clock rate. Only G.711 is supported; a dynamic payload
// type for PCMU or PCMA works, since the law is chosen by name.
type Codec struct {
	Name        string
	PayloadType uint8
	ClockRate   int
}

// The two G.711 codecs with their static payload types (RFC 3551).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: SampleRate}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: SampleRate}
)

// LookupCodec returns the codec for an SDP rtpmap encoding name (any case).
func LookupCodec(name string) (Codec, bool) {
	switch {
	case strings.EqualFold(name, "PCMU"):
		return PCMU, true
	case strings.EqualFold(name, "PCMA"):
		return PCMA, true
	}
	return Codec{}, false
}

type law uint8

const (
	lawUnknown law = iota
	lawU
	lawA
)

func (c Codec) law() law {
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return lawU
	case strings.EqualFold(c.Name, "PCMA"):
		return lawA
	case c.Name == "" && c.PayloadType == 0:
		return lawU
	case c.Name == "" && c.PayloadType == 8:
		return lawA
	}
	return lawUnknown
}

// Encoding tables, built once from zaf/g711 (so they are its results, only
// faster: a table lookup instead of bit twiddling per sample). μ-law depends
// on the top 14 bits of a sample and A-law on the top 13, which
// TestEncodeTablesMatchG711 checks for all 65536 values.
var (
	ulawEnc [1 << 14]byte
	alawEnc [1 << 13]byte
	ulawDec [256]int16
	alawDec [256]int16
)

func init() {
	for i := range ulawEnc {
		ulawEnc[i] = g711.EncodeUlawFrame(int16(uint16(i) << 2))
	}
	for i := range alawEnc {
		alawEnc[i] = g711.EncodeAlawFrame(int16(uint16(i) << 3))
	}
	for i := range 256 {
		ulawDec[i] = g711.DecodeUlawFrame(uint8(i))
		alawDec[i] = g711.DecodeAlawFrame(uint8(i))
	}
}

// Encode appends the G.711 encoding of pcm to dst and returns it.
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	return c.law().encode(dst, pcm)
}

func (l law) encode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n:]
	switch l {
	case lawU:
		for i, v := range pcm {
			out[i] = ulawEnc[uint16(v)>>2]
		}
	case lawA:
		for i, v := range pcm {
			out[i] = alawEnc[uint16(v)>>3]
		}
	default:
		return dst[:n]
	}
	return dst
}

// Decode appends the samples of a G.711 payload to dst and returns it.
func (c Codec) Decode(dst []int16, payload []byte) []int16 {
	return c.law().decode(dst, payload)
}

func (l law) decode(dst []int16, payload []byte) []int16 {
	var tab *[256]int16
	switch l {
	case lawU:
		tab = &ulawDec
	case lawA:
		tab = &alawDec
	default:
		return dst
	}
	n := len(dst)
	if cap(dst)-n < len(payload) {
		dst = append(dst, make([]int16, len(payload))...)
	} else {
		dst = dst[:n+len(payload)]
	}
	out := dst[n:]
	for i, b := range payload {
		out[i] = tab[b]
	}
	return dst
}

// Silence is the codec's encoding of a zero sample: 0xFF for μ-law and 0xD5
// for A-law (0x00 would be a loud negative sample in μ-law).
func (c Codec) Silence() byte { return c.law().silence() }

func (l law) silence() byte {
	if l == lawA {
		return 0xD5
	}
	return 0xFF
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		return append(b, make([]byte, n)...)
	}
	return b[:len(b)+n]
}
