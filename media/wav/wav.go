// Package wav reads WAV files of any common format into hotline's audio
// (8 kHz mono 16-bit PCM) and writes WAV files as audio arrives, in a way that
// survives a crash.
//
// It imports nothing but the standard library. github.com/go-audio/wav was
// the candidate; its encoder writes placeholder sizes (42 bytes) that it
// fixes only on Close, so a crashed recording plays as a few samples, and it
// encodes with binary.Write per sample. The call recorder needs a header that
// says "to the end of the file" from the start, periodic fix-ups, a repair
// for crashed files, and a cheap per-frame write; the decoder needs a real
// anti-aliasing resampler and memory bounded by the bytes actually read.
package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// Rate is hotline's audio rate: everything Decode returns is at this rate.
const Rate = 8000

// Format codes of the fmt chunk (RFC 2361).
const (
	formatPCM        = 0x0001
	formatFloat      = 0x0003
	formatALaw       = 0x0006
	formatMuLaw      = 0x0007
	formatExtensible = 0xFFFE
)

// Limits on what a header may claim; beyond them the file is not audio we can use.
const (
	MinSampleRate = 1000
	MaxSampleRate = 768000
	MaxChannels   = 8
)

// ErrFormat is wrapped by every error about the content of a file (as opposed
// to an error reading it).
var ErrFormat = errors.New("wav: bad format")

// Info describes the file as it was, before conversion to 8 kHz mono.
type Info struct {
	Format        string // "pcm", "float", "mulaw" or "alaw"
	SampleRate    int
	Channels      int
	BitsPerSample int           // the container size: 24-in-32 says 32
	Duration      time.Duration // of the audio actually read (a truncated file is shorter than its header says)
}

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)
}

// ReadFile decodes the WAV file at path to 8 kHz mono.
func ReadFile(path string) ([]int16, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	pcm, info, err := Decode(f)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, info, nil
}

// fmtChunk is the part of the fmt chunk we use.
type fmtChunk struct {
	format     uint16 // after resolving WAVE_FORMAT_EXTENSIBLE
	channels   int
	rate       int
	blockAlign int
	bits       int // container bits per sample
}

// Decode reads a WAV file of any common format — PCM 8/16/24/32-bit integer,
// 32/64-bit float (WAVE_FORMAT_IEEE_FLOAT), μ-law and A-law,
// WAVE_FORMAT_EXTENSIBLE, any sample rate, 1..8 channels (mixed down) — and
// returns 8 kHz mono 16-bit PCM.
//
// Unknown chunks (LIST, fact, bext, …) are skipped; odd chunk sizes are
// padded; truncated data is read as far as it goes (a partial last frame is
// dropped); a data size of 0 or 0xFFFFFFFF (a streamed or crashed file) means
// "to the end of the input". RF64 files are read too. Malformed input gives an
// error wrapping ErrFormat, never a panic, and memory grows with the bytes
// actually read, never with what a header claims.
func Decode(r io.Reader) (pcm []int16, info Info, err error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, info, noEOF(err, "RIFF header")
	}
	rf64 := string(hdr[0:4]) == "RF64"
	if string(hdr[0:4]) != "RIFF" && !rf64 || string(hdr[8:12]) != "WAVE" {
		if string(hdr[0:4]) == "RIFX" {
			return nil, info, formatErr("big-endian RIFX files are not supported")
		}
		return nil, info, formatErr("not a RIFF/WAVE file")
	}
	var (
		fc      *fmtChunk
		ds64Len uint64 // RF64: the real data size
		haveDS  bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			if fc == nil {
				return nil, info, noEOF(err, "fmt chunk")
			}
			return nil, info, noEOF(err, "data chunk")
		}
		id := string(ch[0:4])
		size := uint64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if fc != nil {
				return nil, info, formatErr("two fmt chunks")
			}
			f, err := readFmt(br, size)
			if err != nil {
				return nil, info, err
			}
			fc = f
			info = Info{Format: formatName(f.format), SampleRate: f.rate, Channels: f.channels, BitsPerSample: f.bits}
		case "ds64":
			if !rf64 || size < 24 {
				if err := skip(br, size); err != nil {
					return nil, info, err
				}
				continue
			}
			var b [24]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return nil, info, noEOF(err, "ds64 chunk")
			}
			ds64Len = binary.LittleEndian.Uint64(b[8:16])
			haveDS = true
			if err := skip(br, size-24); err != nil {
				return nil, info, err
			}
		case "data":
			if fc == nil {
				return nil, info, formatErr("data chunk before fmt chunk")
			}
			limit := int64(-1) // to the end
			switch {
			case rf64 && size == 0xFFFFFFFF && haveDS && ds64Len > 0 && ds64Len < math.MaxInt64:
				limit = int64(ds64Len)
			case size != 0 && size != 0xFFFFFFFF:
				limit = int64(size)
			}
			pcm, frames, err := decodeData(br, fc, limit)
			info.Duration = time.Duration(frames) * time.Second / time.Duration(fc.rate)
			return pcm, info, err
		default:
			if err := skip(br, size); err != nil {
				return nil, info, err
			}
		}
	}
}

// noEOF turns the end of the input before the audio into a format error.
func noEOF(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr("file ends before its %s", what)
	}
	return err
}

// skip discards a chunk body and its pad byte.
func skip(br *bufio.Reader, size uint64) error {
	return discard(br, size+size&1)
}

func discard(br *bufio.Reader, n uint64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		if _, err := br.Discard(k); err != nil {
			if errors.Is(err, io.EOF) {
				return formatErr("file ends inside a chunk, before the audio")
			}
			return err
		}
		n -= uint64(k)
	}
	return nil
}

func readFmt(br *bufio.Reader, size uint64) (*fmtChunk, error) {
	if size < 16 {
		return nil, formatErr("fmt chunk of %d bytes is too short", size)
	}
	var b [40]byte
	n := min(size, uint64(len(b)))
	if _, err := io.ReadFull(br, b[:n]); err != nil {
		return nil, noEOF(err, "fmt chunk")
	}
	// The rest of a long fmt chunk (extension bytes we do not use) and the pad byte.
	if err := discard(br, size-n+size&1); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	f := &fmtChunk{
		format:     le.Uint16(b[0:2]),
		channels:   int(le.Uint16(b[2:4])),
		rate:       int(le.Uint32(b[4:8])),
		blockAlign: int(le.Uint16(b[12:14])),
		bits:       int(le.Uint16(b[14:16])),
	}
	if f.format == formatExtensible {
		// cbSize(2) validBits(2) channelMask(4) subFormat GUID(16): the GUID's
		// first two bytes are the real format code.
		if size < 40 {
			return nil, formatErr("WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes is too short", size)
		}
		f.format = le.Uint16(b[24:26])
	}
	switch f.format {
	case formatPCM, formatFloat, formatALaw, formatMuLaw:
	default:
		return nil, formatErr("unsupported format code 0x%04x (supported: PCM, IEEE float, A-law, μ-law)", f.format)
	}
	if f.channels < 1 || f.channels > MaxChannels {
		return nil, formatErr("%d channels (supported: 1 to %d)", f.channels, MaxChannels)
	}
	if f.rate < MinSampleRate || f.rate > MaxSampleRate {
		return nil, formatErr("sample rate %d Hz (supported: %d to %d)", f.rate, MinSampleRate, MaxSampleRate)
	}
	// Writers disagree on bits vs block align (12-bit in 16, 24 in 32, a zero
	// block align); the block align is what lays out the bytes, when it is sane.
	width := (f.bits + 7) / 8
	if f.blockAlign >= f.channels && f.blockAlign%f.channels == 0 && f.blockAlign/f.channels <= 8 && f.blockAlign/f.channels >= width {
		width = f.blockAlign / f.channels
	}
	f.bits = width * 8
	f.blockAlign = width * f.channels
	ok := false
	switch f.format {
	case formatPCM:
		ok = width >= 1 && width <= 4
	case formatFloat:
		ok = width == 4 || width == 8
	case formatALaw, formatMuLaw:
		ok = width == 1
	}
	if !ok {
		return nil, formatErr("%d-bit samples are not supported for %s", f.bits, formatName(f.format))
	}
	return f, nil
}

func formatName(code uint16) string {
	switch code {
	case formatPCM:
		return "pcm"
	case formatFloat:
		return "float"
	case formatALaw:
		return "alaw"
	case formatMuLaw:
		return "mulaw"
	}
	return fmt.Sprintf("0x%04x", code)
}

// decodeData reads the samples (up to limit bytes, or to the end when limit
// is negative), mixes them down and converts them to 8 kHz. Blocks are kept
// as a list and joined once, so memory follows the bytes read (about 8 bytes
// per frame at most, plus the output) without append's repeated copying.
func decodeData(br *bufio.Reader, f *fmtChunk, limit int64) ([]int16, int64, error) {
	var src io.Reader = br
	if limit >= 0 {
		src = io.LimitReader(br, limit)
	}
	// Audio already at 8 kHz mono needs no float stage.
	direct := f.rate == Rate && f.channels == 1 && (f.format == formatPCM && f.bits == 16 || f.format == formatMuLaw || f.format == formatALaw)
	var (
		ints    [][]int16
		floats  [][]float32
		frames  int
		buf     = make([]byte, 32<<10-(32<<10)%f.blockAlign)
		scratch []float32
	)
	if !direct && f.channels > 1 {
		scratch = make([]float32, len(buf)/(f.bits/8))
	}
	for {
		n, err := io.ReadFull(src, buf)
		if k := n / f.blockAlign; k > 0 {
			b := buf[:k*f.blockAlign]
			frames += k
			if direct {
				ints = append(ints, toInt16(make([]int16, k), b, f.format))
			} else {
				mono := make([]float32, k)
				if f.channels == 1 {
					toFloat(mono, b, f)
				} else {
					all := scratch[:k*f.channels]
					toFloat(all, b, f)
					mixDown(mono, all, f.channels)
				}
				floats = append(floats, mono)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			return nil, int64(frames), err
		}
	}
	if direct {
		out := make([]int16, 0, frames)
		for _, c := range ints {
			out = append(out, c...)
		}
		return out, int64(frames), nil
	}
	if f.rate == Rate {
		out := make([]int16, 0, frames)
		for _, c := range floats {
			out = appendInt16s(out, c)
		}
		return out, int64(frames), nil
	}
	if frames == 0 {
		return nil, 0, nil
	}
	flt := getFilter(f.rate, Rate)
	pad := make([]float32, flt.half+frames+flt.half+1)
	at := flt.half
	for _, c := range floats {
		at += copy(pad[at:], c)
	}
	return FloatToInt16(flt.run(pad, frames)), int64(frames), nil
}

// toInt16 converts 16-bit PCM or G.711 bytes of one channel.
func toInt16(out []int16, b []byte, format uint16) []int16 {
	switch format {
	case formatMuLaw:
		for i, c := range b {
			out[i] = ulawTable[c]
		}
	case formatALaw:
		for i, c := range b {
			out[i] = alawTable[c]
		}
	default:
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return out
}

// toFloat converts interleaved samples to float32 in [-1, 1). One loop per
// format: the switch stays outside the per-sample work.
func toFloat(out []float32, b []byte, f *fmtChunk) {
	le := binary.LittleEndian
	w := f.bits / 8
	switch {
	case f.format == formatMuLaw:
		for i := range out {
			out[i] = float32(ulawTable[b[i]]) / 32768
		}
	case f.format == formatALaw:
		for i := range out {
			out[i] = float32(alawTable[b[i]]) / 32768
		}
	case f.format == formatFloat && w == 4:
		for i := range out {
			out[i] = cleanFloat(float64(math.Float32frombits(le.Uint32(b[4*i:]))))
		}
	case f.format == formatFloat:
		for i := range out {
			out[i] = cleanFloat(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case w == 1:
		for i := range out {
			out[i] = (float32(b[i]) - 128) / 128
		}
	case w == 2:
		for i := range out {
			out[i] = float32(int16(le.Uint16(b[2*i:]))) / 32768
		}
	case w == 3:
		for i := range out {
			s := b[3*i : 3*i+3]
			out[i] = float32(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24)>>8) / 8388608
		}
	default:
		for i := range out {
			out[i] = float32(float64(int32(le.Uint32(b[4*i:]))) / 2147483648)
		}
	}
}

// cleanFloat clips a float sample; NaN and infinities are a broken writer's
// noise, not audio.
func cleanFloat(x float64) float32 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return float32(max(-1, min(1, x)))
}

// mixDown averages each frame's channels.
func mixDown(mono, all []float32, ch int) {
	scale := 1 / float32(ch)
	for i := range mono {
		var sum float32
		for _, v := range all[i*ch : i*ch+ch] {
			sum += v
		}
		mono[i] = sum * scale
	}
}

func appendInt16s(out []int16, in []float32) []int16 {
	for _, v := range in {
		out = append(out, toSample(v))
	}
	return out
}

func toSample(v float32) int16 {
	x := math.Round(float64(v) * 32768)
	if x > 32767 {
		return 32767
	} else if x < -32768 {
		return -32768
	}
	return int16(x)
}

// FloatToInt16 converts samples in [-1, 1] to 16-bit, rounding and clipping.
func FloatToInt16(in []float32) []int16 {
	out := make([]int16, len(in))
	for i, v := range in {
		out[i] = toSample(v)
	}
	return out
}

// Int16ToFloat converts 16-bit samples to float32 in [-1, 1).
func Int16ToFloat(in []int16) []float32 {
	out := make([]float32, len(in))
	for i, v := range in {
		out[i] = float32(v) / 32768
	}
	return out
}
