package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"
)

// pcapWriter writes a classic little-endian microsecond pcap of Ethernet
// frames, as dumpcap -P does on lo.
type pcapWriter struct{ bytes.Buffer }

func newPcap() *pcapWriter {
	w := &pcapWriter{}
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 96)
	binary.LittleEndian.PutUint32(h[20:], linkEthernet)
	w.Write(h)
	return w
}

// udp adds a UDP datagram sent at t (µs) cut to snap bytes of frame.
func (w *pcapWriter) udp(t int64, src, dst uint16, payload []byte, snap int) {
	frame := make([]byte, 14+20+8, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0], ip[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	u := frame[34:]
	binary.BigEndian.PutUint16(u[0:], src)
	binary.BigEndian.PutUint16(u[2:], dst)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	frame = append(frame, payload...)
	orig := len(frame)
	if len(frame) > snap {
		frame = frame[:snap]
	}
	r := make([]byte, 16)
	binary.LittleEndian.PutUint32(r[0:], uint32(t/1e6))
	binary.LittleEndian.PutUint32(r[4:], uint32(t%1e6))
	binary.LittleEndian.PutUint32(r[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(r[12:], uint32(orig))
	w.Write(r)
	w.Write(frame)
}

func rtp(pt byte, marker bool, seq uint16, ssrc uint32, fill byte, n int) []byte {
	b := make([]byte, 12+n)
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	for i := 12; i < len(b); i++ {
		b[i] = fill
	}
	return b
}

// synthetic builds two sampled calls: port 20000 (a prompt, silence, the
// caller's key at 2 s, the reply 40 ms later, one late packet) and port
// 20016 (no key), plus SIP noise the analysis must skip.
func synthetic() []byte {
	w := newPcap()
	const base = int64(1_800_000_000) * 1e6
	const hotline, caller = 20000, 6000
	seq := uint16(0)
	for i := range 150 { // 3 s of outbound packets
		t := base + int64(i)*20_000
		switch i {
		case 60:
			t += 5_000 // 25 ms after the previous one, then 15 ms to the next
		}
		fill := byte(0xff)
		switch {
		case i < 50: // the prompt
			fill = 0x23
		case i >= 102: // the reply: key at 100 (2.000 s), first sound at 102 (2.040 s)
			fill = 0x91
		case i%2 == 0:
			fill = 0x7f // negative zero is silence too
		}
		w.udp(t, hotline, caller, rtp(0, i == 0, seq, 0xaaaa, fill, 160), 96)
		seq++
		// the caller's audio, and its key at 2.000 s
		pt, marker := byte(0), false
		if i >= 100 && i < 110 {
			pt, marker = ptPhoneEvent, i == 100
		}
		w.udp(t+300, caller, hotline, rtp(pt, marker, uint16(i), 0x1234abcd, 0x55, 160), 96)
	}
	w.udp(base+50_000, 5060, 5070, []byte("INVITE sip:ivr@127.0.0.1 SIP/2.0\r\n"), 96)
	for i := range 50 {
		w.udp(base+int64(i)*20_000+1000, 20016, caller, rtp(0, false, uint16(i), 0xbbbb, 0x11, 160), 96)
	}
	// a key on port 20016 after its stream ended: not this call's
	w.udp(base+5_000_000, caller, 20016, rtp(ptPhoneEvent, true, 1, 0x1234abcd, 0, 4), 96)
	return w.Bytes()
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

func TestAnalyzeCapture(t *testing.T) {
	c, err := analyzeCapture(bytes.NewReader(synthetic()), 20000, 20359, 20)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stats.Frames != 352 || c.Stats.Skipped != 1 || c.Outbound != 200 || c.Inbound != 151 {
		t.Errorf("counts: %+v", c)
	}
	p := c.Pacing
	if p.Streams != 2 || p.Gaps != 149+49 {
		t.Errorf("streams %d gaps %d", p.Streams, p.Gaps)
	}
	if !near(p.GapP50, 20) || !near(p.GapMax, 25) || !near(p.GapMin, 15) || !near(p.DevMax, 5) {
		t.Errorf("gaps: %+v", p)
	}
	// 2 of 198 gaps are 5 ms off: p99 (rank 197) is 5 ms, within 2 ms 196/198
	if !near(p.DevP99, 5) || !near(p.Within2Pct, 100*196.0/198) {
		t.Errorf("deviation: %+v", p)
	}
	if c.DTMF.N != 1 || !near(c.DTMF.P50, 39.7) || c.NoReply != 0 {
		t.Errorf("DTMF→reply: %+v (no reply %d), want one call at 39.7 ms", c.DTMF, c.NoReply)
	}
}

func TestReadPcapSnapAndSilence(t *testing.T) {
	w := newPcap()
	w.udp(1e6, 20000, 6000, rtp(0, false, 1, 7, 0xff, 160), 96)
	w.udp(2e6, 20000, 6000, rtp(8, true, 2, 7, 0x7f, 160), 60) // cut inside the RTP payload
	w.udp(3e6, 20000, 6000, []byte{0x80, 0}, 96)               // too short for RTP
	var got []rtpPacket
	st, err := readPcap(bytes.NewReader(w.Bytes()), func(p rtpPacket) { got = append(got, p) })
	if err != nil || st.Frames != 3 || st.RTP != 2 || st.Skipped != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	if got[0].captured != 96-42-12 || !got[0].silent || got[0].t != 1e9 {
		t.Errorf("first: %+v", got[0])
	}
	if !got[1].marker || got[1].pt != 8 || got[1].captured != 60-42-12 || !got[1].silent {
		t.Errorf("second: %+v", got[1])
	}
	if _, err := readPcap(strings.NewReader("\x0a\x0d\x0d\x0a...................."), func(rtpPacket) {}); err == nil {
		t.Error("pcapng accepted")
	}
}

// The caller's pcap in this directory: the digit is at 11.0 s.
func TestCallerPcap(t *testing.T) {
	f, err := os.Open("caller_dtmf1.pcap")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var first, key int64
	st, err := readPcap(f, func(p rtpPacket) {
		if first == 0 {
			first = p.t
		}
		if key == 0 && p.pt == ptPhoneEvent && p.marker {
			key = p.t
		}
	})
	if err != nil || st.RTP != 750 {
		t.Fatalf("%+v %v", st, err)
	}
	if d := float64(key-first) / 1e9; !near(d, 11) {
		t.Errorf("key at %.3f s", d)
	}
}

func TestCaptureFilter(t *testing.T) {
	if got, want := captureFilter(20000, 20399, 8), "(udp src portrange 20000-20399 and udp[0:2] & 15 = 0) or (udp dst portrange 20000-20399 and udp[2:2] & 15 = 0)"; got != want {
		t.Errorf("got %s", got)
	}
	if got := captureFilter(1, 2, 5); !strings.Contains(got, "udp[0:2] % 10 = 0") {
		t.Errorf("got %s", got)
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if quantile(s, .5) != 5 || quantile(s, .99) != 10 || quantile(s, 0) != 1 || quantile(nil, .5) != 0 {
		t.Error(quantile(s, .5), quantile(s, .99))
	}
	d := dist([]float64{3, 1, 2})
	if d.N != 3 || d.P50 != 2 || d.Max != 3 || d.Mean != 2 {
		t.Errorf("%+v", d)
	}
}
