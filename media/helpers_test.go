package media

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// peer is the other end of a call in tests: a UDP socket that sends RTP
// built with pion/rtp and reads what the session sends.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, ssrc: 0xCA11E4, seq: 1000, ts: 50000}
}

func (p *peer) addr() *net.UDPAddr { return p.conn.LocalAddr().(*net.UDPAddr) }

type received struct {
	pkt rtp.Packet
	at  time.Time
}

// read returns the next packet the session sent, or fails the test.
func (p *peer) read() received {
	p.t.Helper()
	r, ok := p.tryRead(2 * time.Second)
	if !ok {
		p.t.Fatal("no packet from the session")
	}
	return r
}

func (p *peer) tryRead(d time.Duration) (received, bool) {
	buf := make([]byte, 1500)
	p.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return received{}, false
	}
	var r received
	r.at = time.Now()
	if err := r.pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("session sent a bad packet: %v", err)
	}
	return r, true
}

// drain discards what the session sent so far.
func (p *peer) drain() {
	for {
		if _, ok := p.tryRead(time.Millisecond); !ok {
			return
		}
	}
}

func (p *peer) sendRaw(to *net.UDPAddr, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDP(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// audio sends one frame of audio with the next sequence number.
func (p *peer) audio(to *net.UDPAddr, pt uint8, payload []byte) {
	p.t.Helper()
	p.send(to, rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: payload})
	p.seq++
	p.ts += uint32(len(payload))
}

func (p *peer) send(to *net.UDPAddr, pkt rtp.Packet) {
	p.t.Helper()
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(to, b)
}

// testSession starts a session on 127.0.0.1 talking to a new peer.
func testSession(t *testing.T, pacer *Pacer, mod func(*Config)) (*Session, *peer) {
	t.Helper()
	p := newPeer(t)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Conn: conn, Remote: p.addr(), Latch: true, Codec: PCMU, DTMFPayload: 101, Pacer: pacer}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(func() { s.Close() })
	return s, p
}

func (s *Session) addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

func newTestPacer(t *testing.T) *Pacer {
	p := NewPacer(2)
	t.Cleanup(p.Close)
	return p
}

// eventually polls cond for up to 3 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// nextEvent waits for an event of the given kind, skipping others.
func nextEvent(t *testing.T, s *Session, kind EventKind) Event {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatal("events closed")
			}
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event", kind)
		}
	}
}

func silent(payload []byte, c Codec) bool {
	for _, b := range payload {
		if b != c.Silence() {
			return false
		}
	}
	return true
}

// frames is a recorder that keeps everything.
type frames struct {
	mu          sync.Mutex
	caller, bot [][]int16
}

func (f *frames) WriteFrame(caller, bot []int16) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.caller = append(f.caller, append([]int16(nil), caller...))
	f.bot = append(f.bot, append([]int16(nil), bot...))
	return nil
}

func (f *frames) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bot)
}

func tone(n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		// 1 kHz: a quarter of a cycle every two samples.
		out[i] = int16(amp * []float64{0, 0.7071, 1, 0.7071, 0, -0.7071, -1, -0.7071}[i%8])
	}
	return out
}
