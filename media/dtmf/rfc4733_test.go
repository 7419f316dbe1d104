package dtmf

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
)

const ptime = 20 * time.Millisecond

// event builds the packets of one press with sequence numbers from seq.
func event(t *testing.T, key rune, ts uint32, seq uint16, d time.Duration) []rtp.Packet {
	t.Helper()
	pkts, err := Packets(key, 101, ts, d, ptime)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		pkts[i].SSRC = 0x1234
		pkts[i].SequenceNumber = seq + uint16(i)
	}
	return pkts
}

// feed runs packets through r, 20 ms apart, and returns the keys reported.
func feed(r *Receiver, pkts []rtp.Packet) string {
	var keys []rune
	for i := range pkts {
		if d, ok := r.Feed(&pkts[i], time.Duration(i)*ptime); ok {
			keys = append(keys, d.Key)
		}
	}
	return string(keys)
}

func TestPackets(t *testing.T) {
	pkts := event(t, '#', 1000, 0, 100*time.Millisecond)
	if len(pkts) != 7 {
		t.Fatalf("100 ms at 20 ms: %d packets, want 4 updates + 3 ends", len(pkts))
	}
	for i, p := range pkts {
		var pl Payload
		if err := pl.Unmarshal(p.Payload); err != nil {
			t.Fatal(err)
		}
		wantDur := uint16(min(i+1, 5) * 160)
		if p.Timestamp != 1000 || p.Marker != (i == 0) || pl.Event != 11 || pl.End != (i >= 4) || pl.Duration != wantDur || pl.Volume != DefaultVolume {
			t.Errorf("packet %d: marker %v ts %d payload %+v", i, p.Marker, p.Timestamp, pl)
		}
	}
	if _, err := Packets('x', 101, 0, time.Second, ptime); err == nil {
		t.Error("bad key accepted")
	}
	if _, err := Packets('1', 101, 0, 9*time.Second, ptime); err == nil {
		t.Error("9 s event accepted (the duration field holds 8.19 s)")
	}
	short, _ := Packets('1', 101, 0, 5*time.Millisecond, ptime)
	if len(short) != 3 || !short[0].Marker {
		t.Errorf("a press shorter than ptime: %d packets", len(short))
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	p := Payload{Event: 15, End: true, Volume: 63, Duration: 0xBEEF}
	var q Payload
	if err := q.Unmarshal(p.Marshal()); err != nil || q != p {
		t.Errorf("round trip: %+v %v", q, err)
	}
	if err := q.Unmarshal([]byte{1, 2, 3}); err != ErrShortPayload {
		t.Errorf("short payload: %v", err)
	}
	// The reserved bit is ignored.
	if err := q.Unmarshal([]byte{5, 0x40 | 10, 0, 160}); err != nil || q.Volume != 10 || q.End {
		t.Errorf("reserved bit: %+v", q)
	}
}

func TestReceiverFirstPacket(t *testing.T) {
	r := NewReceiver()
	pkts := event(t, '5', 1000, 10, 200*time.Millisecond)
	d, ok := r.Feed(&pkts[0], 3*time.Second)
	if !ok || d.Key != '5' || d.Source != SourceRFC4733 || d.At != 3*time.Second {
		t.Fatalf("first packet: %+v %v", d, ok)
	}
	if got := feed(r, pkts[1:]); got != "" {
		t.Errorf("rest of the event reported %q", got)
	}
}

func TestReceiverEndRetransmitsAndDuplicates(t *testing.T) {
	r := NewReceiver()
	pkts := event(t, '1', 1000, 0, 60*time.Millisecond)
	// Every packet duplicated by the network, the end packets once more, and
	// a stray copy of the first packet after the end.
	var all []rtp.Packet
	for _, p := range pkts {
		all = append(all, p, p)
	}
	all = append(all, pkts[len(pkts)-1], pkts[0])
	var keys []rune
	for i := range all {
		if d, ok := r.Feed(&all[i], time.Duration(i)*ptime/2); ok {
			keys = append(keys, d.Key)
		}
	}
	if string(keys) != "1" {
		t.Errorf("duplicated packets: got %q", string(keys))
	}
}

func TestReceiverLostStart(t *testing.T) {
	r := NewReceiver()
	pkts := event(t, '9', 1000, 0, 100*time.Millisecond)
	if got := feed(r, pkts[3:]); got != "9" { // only end packets arrive
		t.Errorf("lost start: got %q", got)
	}
	r.Reset()
	if got := feed(r, pkts[len(pkts)-1:]); got != "9" {
		t.Errorf("only one end packet: got %q", got)
	}
}

func TestReceiverRepeatedDigit(t *testing.T) {
	r := NewReceiver()
	a := event(t, '1', 1000, 0, 100*time.Millisecond)
	b := event(t, '1', 1000+1600, 7, 100*time.Millisecond)
	if got := feed(r, append(a, b...)); got != "11" {
		t.Errorf("11: got %q", got)
	}
}

func TestReceiverReusedTimestamp(t *testing.T) {
	// A sender that reuses the timestamp (and, replaying a capture, even the
	// sequence numbers) for the next press of the same key.
	r := NewReceiver()
	a := event(t, '4', 1000, 0, 100*time.Millisecond)
	var keys []rune
	for round := range 2 {
		for i := range a {
			if d, ok := r.Feed(&a[i], time.Duration(round)*time.Second+time.Duration(i)*ptime); ok {
				keys = append(keys, d.Key)
			}
		}
	}
	if string(keys) != "44" {
		t.Errorf("replayed press: got %q", string(keys))
	}
	// Same timestamp, newer sequence numbers, immediately after.
	r.Reset()
	b := event(t, '4', 1000, uint16(len(a)), 100*time.Millisecond)
	if got := feed(r, append(append([]rtp.Packet{}, a...), b...)); got != "44" {
		t.Errorf("reused timestamp: got %q", got)
	}
}

func TestReceiverReorder(t *testing.T) {
	r := NewReceiver()
	a := event(t, '2', 1000, 0, 100*time.Millisecond)
	b := event(t, '3', 3000, 7, 100*time.Millisecond)
	// Packets of a arrive late, after b started: no repeat, no reordering.
	seq := []rtp.Packet{a[1], a[0], a[3], a[2], b[0], a[4], a[6], b[2], b[1], a[5], b[3], b[6], b[5], b[4]}
	if got := feed(r, seq); got != "23" {
		t.Errorf("reordered: got %q", got)
	}
	// Timestamps wrap around.
	r.Reset()
	w1 := event(t, '7', 0xFFFFFF00, 100, 60*time.Millisecond)
	w2 := event(t, '8', 0x00000300, 110, 60*time.Millisecond)
	if got := feed(r, append(append([]rtp.Packet{}, w1...), append([]rtp.Packet{w1[4]}, w2...)...)); got != "78" {
		t.Errorf("wrap-around: got %q", got)
	}
}

func TestReceiverIgnores(t *testing.T) {
	r := NewReceiver()
	flash := rtp.Packet{Header: rtp.Header{Timestamp: 5}, Payload: Payload{Event: 16, Duration: 160}.Marshal()}
	short := rtp.Packet{Header: rtp.Header{Timestamp: 6}, Payload: []byte{1, 2}}
	for _, p := range []*rtp.Packet{&flash, &short, nil} {
		if d, ok := r.Feed(p, 0); ok {
			t.Errorf("reported %+v", d)
		}
	}
	// A new SSRC is a new stream, even with an older timestamp.
	a := event(t, '1', 5000, 0, 40*time.Millisecond)
	b := event(t, '2', 100, 0, 40*time.Millisecond)
	for i := range b {
		b[i].SSRC = 99
	}
	if got := feed(r, append(a, b...)); got != "12" {
		t.Errorf("new SSRC: got %q", got)
	}
}

// FuzzRFC4733 feeds arbitrary telephone-event packet sequences to a Receiver.
// Each 12-byte record is seq(2) ts(4) ssrc-bit(1) payload(4) gap(1).
func FuzzRFC4733(f *testing.F) {
	var seed []byte
	for i, k := range "12#" {
		pkts, _ := Packets(k, 101, uint32(1000*(i+1)), 80*time.Millisecond, ptime)
		for j, p := range pkts {
			rec := make([]byte, 12)
			binary.BigEndian.PutUint16(rec, uint16(i*10+j))
			binary.BigEndian.PutUint32(rec[2:], p.Timestamp)
			copy(rec[7:], p.Payload)
			rec[11] = 20
			seed = append(seed, rec...)
		}
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReceiver()
		var at time.Duration
		for len(data) >= 12 {
			rec := data[:12]
			data = data[12:]
			p := rtp.Packet{Header: rtp.Header{
				SequenceNumber: binary.BigEndian.Uint16(rec),
				Timestamp:      binary.BigEndian.Uint32(rec[2:]),
				SSRC:           uint32(rec[6] & 1),
			}, Payload: rec[7:11]}
			at += time.Duration(rec[11]) * time.Millisecond
			var pl Payload
			if err := pl.Unmarshal(p.Payload); err != nil {
				t.Fatal(err)
			}
			if q := pl.Marshal(); q[0] != rec[7] || q[1] != rec[8]&0xBF || q[2] != rec[9] || q[3] != rec[10] {
				t.Fatalf("payload round trip: % x -> %+v -> % x", rec[7:11], pl, q)
			}
			d, ok := r.Feed(&p, at)
			// The same packet again at once is a duplicate, whatever came before.
			if d2, ok2 := r.Feed(&p, at); ok2 {
				t.Fatalf("duplicate reported again: %+v", d2)
			}
			if !ok {
				continue
			}
			if !ValidKey(d.Key) || d.Source != SourceRFC4733 || d.At != at || d.Duration < 0 {
				t.Fatalf("bad digit %+v", d)
			}
			if code, _ := EventCode(d.Key); code != pl.Event {
				t.Fatalf("digit %c from event %d", d.Key, pl.Event)
			}
		}
	})
}
