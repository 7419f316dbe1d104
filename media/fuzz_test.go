package media

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/pion/rtp"
)

// FuzzRTPPacket sends arbitrary datagrams over UDP to a live session (latched
// on the fuzzer's socket, recording, detecting in-band DTMF and
// telephone-event) and checks that nothing panics and that every datagram is
// accounted for exactly once in the counters.
func FuzzRTPPacket(f *testing.F) {
	mk := func(h rtp.Header, payload []byte) []byte {
		h.Version = 2
		h.SSRC = 0xF022
		b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(mk(rtp.Header{PayloadType: 0, SequenceNumber: 2}, make([]byte, 160)))
	f.Add(mk(rtp.Header{PayloadType: 0, SequenceNumber: 5, Timestamp: 9999}, PCMU.Encode(nil, tone(160, 9000))))
	f.Add(mk(rtp.Header{PayloadType: 101, SequenceNumber: 3, Marker: true}, dtmf.Payload{Event: 5, Duration: 160}.Marshal()))
	f.Add(mk(rtp.Header{PayloadType: 101, SequenceNumber: 4}, dtmf.Payload{Event: 5, End: true, Duration: 800}.Marshal()))
	f.Add(mk(rtp.Header{PayloadType: 0, SequenceNumber: 6, CSRC: []uint32{1, 2}}, make([]byte, 20)))
	ext := rtp.Header{PayloadType: 0, SequenceNumber: 7, Extension: true, ExtensionProfile: 0xBEDE}
	ext.SetExtension(1, []byte{1, 2, 3})
	f.Add(mk(ext, make([]byte, 10)))
	f.Add([]byte{0x81, 200, 0, 6, 0, 0, 0, 1})
	f.Add([]byte{0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xF0, 0x22, 0xFF})
	f.Add([]byte{})

	pacer := NewPacer(1)
	f.Cleanup(pacer.Close)
	fuzzer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { fuzzer.Close() })
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	// No Remote and Latch: the session answers the fuzzer, which never reads.
	s, err := NewSession(Config{Conn: conn, Latch: true, Codec: PCMU, DTMFPayload: 101, Pacer: pacer,
		Recorder: &discardRecorder{}, CallerAudio: func([]int16, time.Duration) {}})
	if err != nil {
		f.Fatal(err)
	}
	s.Start(context.Background())
	f.Cleanup(func() { s.Close() })
	to := s.addr()
	// Latch on the fuzzer's socket and SSRC, so inputs reach the deep paths.
	fuzzer.WriteToUDP(mk(rtp.Header{PayloadType: 0, SequenceNumber: 1}, make([]byte, 160)), to)
	for deadline := time.Now().Add(2 * time.Second); s.Stats().AudioIn == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			f.Fatal("the session did not latch")
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 9000 {
			return
		}
		before := s.Stats().PacketsIn
		if _, err := fuzzer.WriteToUDP(data, to); err != nil {
			t.Skip(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			st := s.Stats()
			d := st.Dropped
			if st.PacketsIn == before+1 && st.PacketsIn == st.AudioIn+st.EventsIn+d.Malformed+d.Version+d.RTCP+d.PayloadType+d.Source+d.SSRC {
				if d.Duplicate+d.Late > st.AudioIn {
					t.Fatalf("more audio dropped than received: %+v", st)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("datagram not accounted for: %+v (before: %d in)", st, before)
			}
			time.Sleep(20 * time.Microsecond)
		}
	})
}

type discardRecorder struct{}

func (discardRecorder) WriteFrame(_, _ []int16) error { return nil }

// BenchmarkReceivePacket is the receive path of one audio packet (checks,
// reorder window, decoding, in-band detector), without the socket.
func BenchmarkReceivePacket(b *testing.B) {
	benchReceive(b, nil, nil)
}

// benchReceive runs one caller packet per op, 20 ms apart on the stream's
// clock, through the receive path of a session made with cfg (nil: no
// recorder); tick, when set, runs after each packet with its time.
func benchReceive(b *testing.B, mod func(*Config), tick func(s *Session, at time.Duration)) *Session {
	pacer := NewPacer(1)
	b.Cleanup(pacer.Close)
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	cfg := Config{Conn: conn, Codec: PCMU, Pacer: pacer}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSession(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: PCMU.Encode(nil, tone(160, 5000))}
	buf := make([]byte, 200)
	from := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	var at time.Duration
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		at += 20 * time.Millisecond
		n, _ := pkt.MarshalTo(buf)
		s.handle(buf[:n], from, at)
		if tick != nil {
			tick(s, at)
		}
	}
	return s
}

// BenchmarkSendFrame is one tick of the outbound path: read the source,
// encode, marshal, send to a local socket.
func BenchmarkSendFrame(b *testing.B) {
	pacer := NewPacer(1)
	defer pacer.Close()
	sink, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	sink.SetReadBuffer(1 << 20)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, Pacer: pacer, Remote: sink.LocalAddr().(*net.UDPAddr)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pcm := tone(8000*60, 5000)
	s.Play(NewPCMSource(pcm))
	for b.Loop() {
		s.sendFrame(0)
	}
}

// FuzzReceivePath drives sequences of datagrams straight into a session's
// receive path (no socket, so millions of inputs): each record is a 2-byte
// length, a source selector and a time step, then the datagram. It checks
// that nothing panics, that every datagram is accounted for exactly once,
// and that the reorder window only releases audio in order.
func FuzzReceivePath(f *testing.F) {
	rec := func(src, step byte, b []byte) []byte {
		return append([]byte{byte(len(b) >> 8), byte(len(b)), src, step}, b...)
	}
	pkt := func(pt uint8, seq uint16, ssrc uint32, payload []byte) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, SSRC: ssrc, Timestamp: uint32(seq) * 160}, Payload: payload}).Marshal()
		return b
	}
	var seed []byte
	for _, seq := range []uint16{1, 2, 4, 3, 5, 9, 6, 7, 8, 200, 201, 65535, 0} {
		seed = append(seed, rec(0, 20, pkt(0, seq, 7, PCMU.Encode(nil, tone(160, float64(seq)*100))))...)
	}
	seed = append(seed, rec(0, 1, pkt(101, 50, 8, dtmf.Payload{Event: 3, Duration: 160}.Marshal()))...)
	seed = append(seed, rec(1, 1, pkt(0, 10, 7, make([]byte, 160)))...)
	seed = append(seed, rec(0, 200, pkt(0, 11, 9, make([]byte, 160)))...)
	f.Add(seed)
	tonePCM := append(make([]int16, 400), dtmf.Tone('9', 100*time.Millisecond, 20000)...)
	var toneSeed []byte
	for i := 0; i+160 <= len(tonePCM); i += 160 {
		toneSeed = append(toneSeed, rec(0, 20, pkt(0, uint16(i/160), 7, PCMU.Encode(nil, tonePCM[i:i+160])))...)
	}
	f.Add(toneSeed)

	// One socket and pacer for all inputs: sessions that are never started
	// own no goroutine and are not closed (closing would close the socket).
	pacer := NewPacer(1)
	f.Cleanup(pacer.Close)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		var released []int16
		s, err := NewSession(Config{Conn: conn, Latch: true, Codec: PCMU, DTMFPayload: 101, Pacer: pacer,
			CallerAudio: func(pcm []int16, _ time.Duration) { released = append(released, int16(len(pcm))) }})
		if err != nil {
			t.Fatal(err)
		}
		srcs := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4000"), netip.MustParseAddrPort("[::ffff:127.0.0.1]:4000"), netip.MustParseAddrPort("10.0.0.1:4000")}
		var at time.Duration
		var n uint64
		for len(data) >= 4 {
			l := int(data[0])<<8 | int(data[1])
			src, step := srcs[int(data[2])%len(srcs)], time.Duration(data[3])*time.Millisecond
			data = data[4:]
			l = min(l, len(data))
			at += step
			s.handle(data[:l], src, at)
			data = data[l:]
			n++
			st := s.Stats()
			d := st.Dropped
			if st.PacketsIn != n || st.PacketsIn != st.AudioIn+st.EventsIn+d.Malformed+d.Version+d.RTCP+d.PayloadType+d.Source+d.SSRC {
				t.Fatalf("after %d datagrams: %+v", n, st)
			}
			if d.Duplicate+d.Late > st.AudioIn || st.Reordered > st.AudioIn {
				t.Fatalf("audio counters: %+v", st)
			}
			if at > 200*time.Millisecond {
				s.idle(at) // flush the window as the idle wake-up would
			}
		}
		for _, l := range released {
			if l <= 0 || l > maxAudioPayload*maxLostFill {
				t.Fatalf("released a chunk of %d samples", l)
			}
		}
	})
}
