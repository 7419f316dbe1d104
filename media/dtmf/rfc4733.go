package dtmf

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtp"
)

// ClockRate is the telephone-event clock: hotline only negotiates it with
// 8 kHz G.711, and RFC 4733 says it follows the audio clock.
const ClockRate = 8000

// PayloadSize is the size of one RFC 4733 event payload.
const PayloadSize = 4

// MaxDuration is the longest event one set of packets can describe: the
// duration field counts 16-bit clock ticks (8.19 s at 8 kHz). Longer presses
// would need segments, which no keypad produces.
const MaxDuration = time.Duration(0xFFFF) * time.Second / ClockRate

// DefaultVolume is the power level hotline sends (-10 dBm0, a normal keypad).
const DefaultVolume = 10

// ErrShortPayload is returned for a telephone-event payload under 4 bytes.
var ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")

// Payload is the RFC 4733 §2.3 event payload:
//
//	 0                   1                   2                   3
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Payload struct {
	Event    uint8
	End      bool
	Volume   uint8  // 0-63, in -dBm0
	Duration uint16 // in ClockRate ticks since the event's timestamp
}

// AppendTo appends the 4-byte wire form of p to b.
func (p Payload) AppendTo(b []byte) []byte {
	flags := p.Volume & 0x3F
	if p.End {
		flags |= 0x80
	}
	return append(b, p.Event, flags, byte(p.Duration>>8), byte(p.Duration))
}

// Marshal returns the 4-byte wire form of p.
func (p Payload) Marshal() []byte { return p.AppendTo(make([]byte, 0, PayloadSize)) }

// Unmarshal reads the first 4 bytes of b. Longer payloads are accepted and
// the rest ignored (RFC 4733 allows several events only through RFC 2198
// redundancy, which uses its own payload type); the reserved bit is ignored
// as the RFC asks.
func (p *Payload) Unmarshal(b []byte) error {
	if len(b) < PayloadSize {
		return ErrShortPayload
	}
	p.Event = b[0]
	p.End = b[1]&0x80 != 0
	p.Volume = b[1] & 0x3F
	p.Duration = uint16(b[2])<<8 | uint16(b[3])
	return nil
}

func ticks(d time.Duration) int64 { return int64(d) * ClockRate / int64(time.Second) }

func fromTicks(n int64) time.Duration { return time.Duration(n) * time.Second / ClockRate }

// Packets returns the RTP packets a sender emits for one key press of the
// given duration, one every ptime, as RFC 4733 §2.5.1 describes: all carry
// timestamp ts (the start of the event), the first has the marker bit, the
// duration grows by ptime in each, and the final packet (E bit) is sent three
// times. SequenceNumber and SSRC are left zero for the sender to fill in.
func Packets(key rune, pt uint8, ts uint32, duration, ptime time.Duration) ([]rtp.Packet, error) {
	code, ok := EventCode(key)
	if !ok {
		return nil, fmt.Errorf("dtmf: %q is not a DTMF key", key)
	}
	if pt > 127 {
		return nil, fmt.Errorf("dtmf: payload type %d out of range", pt)
	}
	if duration <= 0 || duration > MaxDuration {
		return nil, fmt.Errorf("dtmf: duration %v not in (0, %v]", duration, MaxDuration)
	}
	step := ticks(ptime)
	if step <= 0 || step > 0xFFFF {
		return nil, fmt.Errorf("dtmf: ptime %v out of range", ptime)
	}
	total := ticks(duration)
	updates := (total + step - 1) / step // packets before the end packets, counting the first end
	pkts := make([]rtp.Packet, 0, updates+2)
	add := func(d int64, end bool) {
		pkts = append(pkts, rtp.Packet{
			Header: rtp.Header{
				Version:     2,
				Marker:      len(pkts) == 0,
				PayloadType: pt,
				Timestamp:   ts,
			},
			Payload: Payload{Event: code, End: end, Volume: DefaultVolume, Duration: uint16(d)}.Marshal(),
		})
	}
	for i := int64(1); i < updates; i++ {
		add(i*step, false)
	}
	for range 3 {
		add(total, true)
	}
	return pkts, nil
}

// Receiver turns a stream of telephone-event packets (one SSRC) into digits.
// A digit is reported on the first packet seen of an event (a new RTP
// timestamp), whatever its duration or E bit, so a lost start still gives the
// digit and the answer is as early as the network allows. Later packets of the
// same event (updates, the three end packets, RFC 4733 redundancy) only update
// the state. Packets of an earlier event arriving late are ignored, so
// reordering around a digit boundary neither repeats nor reorders digits.
//
// A repeated key ("11") is two events with two timestamps. Some senders (pcap
// replays, for example) reuse the timestamp for the next press: after an
// event ended, a non-end packet with the same timestamp that is clearly newer
// (a later sequence number, or arriving 100 ms after the end) and restarts the
// duration or changes the key starts a new event.
//
// The zero Receiver is ready to use.
type Receiver struct {
	active bool
	ssrc   uint32
	ts     uint32
	code   uint8
	ended  bool
	endDur uint16
	endAt  time.Duration
	maxSeq uint16
}

// NewReceiver returns a Receiver.
func NewReceiver() *Receiver { return &Receiver{} }

// Reset forgets the current event (a new stream started).
func (r *Receiver) Reset() { *r = Receiver{} }

// reuseAfter is how long after an event's end the same timestamp may start a
// new press (end packets are retransmitted within about 3 ptimes).
const reuseAfter = 100 * time.Millisecond

// staleWindow: a timestamp older than the current event by less than this is
// a late packet of an earlier event; older still means the sender restarted
// its clock.
const staleWindow = 10 * ClockRate

// Feed processes one telephone-event packet that arrived at at. It returns
// the digit when p starts a new event. Packets whose payload is short or whose
// event is not a DTMF key (flash, tones) are ignored.
func (r *Receiver) Feed(p *rtp.Packet, at time.Duration) (Digit, bool) {
	var pl Payload
	if p == nil || pl.Unmarshal(p.Payload) != nil {
		return Digit{}, false
	}
	key, ok := Key(pl.Event)
	if !ok {
		return Digit{}, false
	}
	if r.active && p.SSRC != r.ssrc {
		r.Reset()
	}
	if r.active {
		switch diff := int32(p.Timestamp - r.ts); {
		case diff == 0:
			newer := seqNewer(p.SequenceNumber, r.maxSeq)
			restart := r.ended && !pl.End && (pl.Event != r.code || pl.Duration < r.endDur) &&
				(newer || at-r.endAt >= reuseAfter)
			if !restart && !(newer && pl.Event != r.code) {
				r.update(p, pl, at, newer)
				return Digit{}, false
			}
		case diff < 0 && diff > -staleWindow:
			return Digit{}, false
		}
	}
	*r = Receiver{active: true, ssrc: p.SSRC, ts: p.Timestamp, code: pl.Event, maxSeq: p.SequenceNumber}
	r.update(p, pl, at, true)
	return Digit{Key: key, Source: SourceRFC4733, At: at, Duration: fromTicks(int64(pl.Duration))}, true
}

func (r *Receiver) update(p *rtp.Packet, pl Payload, at time.Duration, newer bool) {
	if newer {
		r.maxSeq = p.SequenceNumber
	}
	if pl.End {
		if !r.ended {
			r.endAt = at
		}
		r.ended = true
		r.endDur = max(r.endDur, pl.Duration)
	}
}

// seqNewer reports whether a is after b in RTP sequence-number order.
func seqNewer(a, b uint16) bool { return a != b && int16(a-b) > 0 }
