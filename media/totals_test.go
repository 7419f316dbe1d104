package media

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/pion/rtp"
)

func TestDigitsBySource(t *testing.T) {
	pacer := newTestPacer(t)
	s, _ := testSession(t, pacer, nil)
	s.emitDigit(dtmf.Digit{Key: '1', Source: dtmf.SourceRFC4733})
	s.emitDigit(dtmf.Digit{Key: '2', Source: dtmf.SourceInband})
	s.emitDigit(dtmf.Digit{Key: '3', Source: dtmf.SourceInband})
	s.InjectDigit('4', dtmf.SourceINFO)
	s.InjectDigit('5', "test") // another source: in Digits only
	st := s.Stats()
	if st.Digits != 5 || st.DigitsRFC4733 != 1 || st.DigitsInband != 2 || st.DigitsINFO != 1 {
		t.Errorf("digits %d, rfc4733 %d, inband %d, info %d", st.Digits, st.DigitsRFC4733, st.DigitsInband, st.DigitsINFO)
	}
}

// TestTotals: a pacer's totals add up its sessions, live and closed, and
// never go back when a session closes.
func TestTotals(t *testing.T) {
	pacer := newTestPacer(t)
	if tot := pacer.Totals(); tot.Sessions != 0 || tot.Started != 0 || tot.PacketsOut != 0 {
		t.Fatalf("a new pacer's totals: %+v", tot)
	}
	s1, p1 := testSession(t, pacer, nil)
	s2, p2 := testSession(t, pacer, nil)
	for range 5 {
		p1.audio(s1.addr(), 0, make([]byte, 160))
		p2.audio(s2.addr(), 0, make([]byte, 160))
	}
	s1.InjectDigit('1', dtmf.SourceINFO)
	eventually(t, "audio in", func() bool { return s1.Stats().AudioIn == 5 && s2.Stats().AudioIn == 5 })
	eventually(t, "audio out", func() bool { return s1.Stats().PacketsOut > 3 && s2.Stats().PacketsOut > 3 })
	tot := pacer.Totals()
	if tot.Sessions != 2 || tot.Started != 2 || tot.AudioIn != 10 || tot.PacketsIn != 10 || tot.BytesIn != 10*172 ||
		tot.PacketsOut < 8 || tot.BytesOut != tot.PacketsOut*172 || tot.Digits != 1 || tot.DigitsINFO != 1 {
		t.Fatalf("totals of two sessions: %+v", tot)
	}
	// Totals keep growing while they are read, and closing a session
	// moves its counters without losing any.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last Totals
		for {
			select {
			case <-stop:
				return
			default:
			}
			tot := pacer.Totals()
			if tot.PacketsOut < last.PacketsOut || tot.PacketsIn < last.PacketsIn || tot.Started < last.Started {
				t.Errorf("totals went back: %+v after %+v", tot, last)
				return
			}
			last = tot
		}
	}()
	s1.Close()
	closed := s1.Stats()
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	tot = pacer.Totals()
	if tot.Sessions != 1 || tot.Started != 2 || tot.AudioIn != 10 || tot.PacketsOut < closed.PacketsOut+s2.Stats().PacketsOut-1 {
		t.Fatalf("totals after one session closed: %+v", tot)
	}
	s2.Close()
	var want Stats
	want.add(closed)
	want.add(s2.Stats())
	tot = pacer.Totals()
	if tot.Sessions != 0 || tot.Stats != want {
		t.Fatalf("totals once all closed: %+v, want %+v", tot, want)
	}
	// A session never started is not counted; closing one twice changes nothing.
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s3, err := NewSession(Config{Conn: conn, Codec: PCMU, Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
	s2.Close()
	if tot := pacer.Totals(); tot.Started != 2 || tot.Stats != want {
		t.Fatalf("totals changed: %+v", tot)
	}
}

func TestLateness(t *testing.T) {
	pacer := NewPacer(1)
	defer pacer.Close()
	sh := pacer.shards[0]
	ms := time.Millisecond
	sh.mu.Lock()
	for _, d := range []time.Duration{-400 * time.Microsecond, 0, 300 * time.Microsecond, 1500 * time.Microsecond, 3 * ms, 25 * ms, time.Second} {
		sh.st.frames++
		sh.st.sum += d
		sh.st.hist.add(d)
	}
	sh.mu.Unlock()
	bounds := []time.Duration{-ms / 2, 0, ms / 2, ms, 2 * ms, 5 * ms, 20 * ms, 200 * ms}
	l := pacer.Lateness(bounds)
	want := []uint64{0, 1, 3, 3, 4, 5, 5, 6}
	if l.Count != 7 || l.Sum != -400*time.Microsecond+300*time.Microsecond+1500*time.Microsecond+3*ms+25*ms+time.Second {
		t.Errorf("count %d sum %v", l.Count, l.Sum)
	}
	for i := range want {
		if l.Cumulative[i] != want[i] {
			t.Errorf("at %v: %d frames, want %d", bounds[i], l.Cumulative[i], want[i])
		}
	}
	// The pacer's own frames land there too.
	s, p := testSession(t, pacer, nil)
	p.read()
	if l := pacer.Lateness(bounds); l.Count < 8 {
		t.Errorf("frames sent not counted: %d", l.Count)
	}
	_ = s
}

// benchSink is a local socket that swallows what a benchmark sends.
func benchSink(b *testing.B) *net.UDPConn {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sink.Close() })
	sink.SetReadBuffer(1 << 20)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	return sink
}

// BenchmarkPacerServe is one frame of one session as a pacer shard sends
// it: the shard's own accounting (frames, lateness histogram) around
// sendFrame.
func BenchmarkPacerServe(b *testing.B) {
	pacer := NewPacer(1)
	defer pacer.Close()
	sink := benchSink(b)
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, Pacer: pacer, Remote: sink.LocalAddr().(*net.UDPAddr)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Play(NewPCMSource(tone(8000*60, 5000)))
	sh := pacer.shards[0]
	var now int64
	for b.Loop() {
		now += int64(s.ptime)
		s.next = now - int64(time.Millisecond) // a little late, so the histogram moves
		sh.mu.Lock()
		sh.serve(s, now)
		sh.mu.Unlock()
	}
}

// BenchmarkPacerServeHold is BenchmarkPacerServe on hold: no packet goes
// to the socket, so what is left is the pacer's and the session's own work
// (no system call to hide it).
func BenchmarkPacerServeHold(b *testing.B) {
	pacer := NewPacer(1)
	defer pacer.Close()
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, Pacer: pacer})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetSending(false)
	s.Play(NewPCMSource(tone(8000*60, 5000)))
	sh := pacer.shards[0]
	var now int64
	for b.Loop() {
		now += int64(s.ptime)
		s.next = now - int64(time.Millisecond)
		sh.mu.Lock()
		sh.serve(s, now)
		sh.mu.Unlock()
	}
}

// BenchmarkReceiveEvent is the receive path of one RFC 4733 telephone-event
// packet (a key held down: no digit yet, just the event accounting).
func BenchmarkReceiveEvent(b *testing.B) {
	pacer := NewPacer(1)
	defer pacer.Close()
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, DTMFPayload: 101, Pacer: pacer})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, PayloadType: 101, Timestamp: 8000},
		Payload: dtmf.Payload{Event: 5, Duration: 160}.Marshal()}
	buf := make([]byte, 200)
	from := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	var at time.Duration
	for b.Loop() {
		pkt.SequenceNumber++
		at += 20 * time.Millisecond
		n, _ := pkt.MarshalTo(buf)
		s.handle(buf[:n], from, at)
	}
}

// BenchmarkEmitDigit is one digit reaching the session's events (the
// channel full, as when nobody reads: the oldest event is dropped).
func BenchmarkEmitDigit(b *testing.B) {
	pacer := NewPacer(1)
	defer pacer.Close()
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, DTMFPayload: 101, Pacer: pacer})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	d := dtmf.Digit{Key: '5', Source: dtmf.SourceRFC4733}
	for b.Loop() {
		s.emitDigit(d)
	}
}
