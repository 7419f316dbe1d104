package media

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/pion/rtp"
)

func TestSilenceStream(t *testing.T) {
	pacer := newTestPacer(t)
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.Name, func(t *testing.T) {
			_, p := testSession(t, pacer, func(cfg *Config) { cfg.Codec = c })
			first := p.read()
			if !first.pkt.Marker {
				t.Error("first packet without the marker bit")
			}
			prev := first.pkt
			for range 20 {
				r := p.read().pkt
				if r.PayloadType != c.PayloadType || r.SSRC != prev.SSRC || r.Marker || r.Version != 2 {
					t.Fatalf("header %+v", r.Header)
				}
				if r.SequenceNumber != prev.SequenceNumber+1 || r.Timestamp != prev.Timestamp+160 {
					t.Fatalf("seq %d->%d ts %d->%d", prev.SequenceNumber, r.SequenceNumber, prev.Timestamp, r.Timestamp)
				}
				if len(r.Payload) != 160 || !silent(r.Payload, c) {
					t.Fatalf("payload % x", r.Payload[:8])
				}
				prev = r
			}
		})
	}
}

func TestRandomInitialState(t *testing.T) {
	pacer := newTestPacer(t)
	_, p1 := testSession(t, pacer, nil)
	_, p2 := testSession(t, pacer, nil)
	a, b := p1.read().pkt, p2.read().pkt
	if a.SSRC == b.SSRC || (a.SequenceNumber == b.SequenceNumber && a.Timestamp == b.Timestamp) {
		t.Errorf("two sessions start alike: %+v %+v", a.Header, b.Header)
	}
}

// TestPacingAtReceiver checks the schedule from the peer's side over 3 s: gaps
// around 20 ms and no drift (packet n arrives near first + n·20 ms). The
// bounds are loose on purpose (CI machines are noisy, -race is slow); the
// real numbers are logged, and measured properly by internal/pacerbench.
func TestPacingAtReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("3 s")
	}
	pacer := newTestPacer(t)
	_, p := testSession(t, pacer, nil)
	first := p.read()
	var gaps []time.Duration
	var offsets []time.Duration // arrival minus slot, relative to the first
	prev := first.at
	for {
		r := p.read()
		n := int(r.pkt.SequenceNumber - first.pkt.SequenceNumber)
		if int(r.pkt.Timestamp-first.pkt.Timestamp) != n*160 {
			t.Fatalf("packet %d: timestamp off schedule", n)
		}
		gaps = append(gaps, r.at.Sub(prev))
		offsets = append(offsets, r.at.Sub(first.at)-time.Duration(n)*20*time.Millisecond)
		prev = r.at
		if n >= 150 {
			break
		}
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	med, p99 := sorted[len(sorted)/2], sorted[len(sorted)*99/100]
	mean := func(d []time.Duration) time.Duration {
		var s time.Duration
		for _, v := range d {
			s += v
		}
		return s / time.Duration(len(d))
	}
	drift := mean(offsets[len(offsets)-20:]) - mean(offsets[:20])
	t.Logf("gap median %v p99 %v max %v; drift over 3 s %v", med, p99, sorted[len(sorted)-1], drift)
	if med < 17*time.Millisecond || med > 23*time.Millisecond {
		t.Errorf("median gap %v", med)
	}
	if drift < -15*time.Millisecond || drift > 15*time.Millisecond {
		t.Errorf("the schedule drifted by %v over 3 s", drift)
	}
	for i, o := range offsets {
		if o < -100*time.Millisecond || o > 100*time.Millisecond {
			t.Errorf("packet %d is %v off its slot", i+1, o)
		}
	}
}

func TestPlayback(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	p.read()
	id := s.Play(NewPCMSource(tone(160*5-40, 8000))) // 4.75 frames
	if !s.Playing() {
		t.Fatal("not playing")
	}
	// Skip silence until the prompt starts, then expect 5 frames of it, the
	// last one padded with silence, then silence again.
	var r rtp.Packet
	for r = p.read().pkt; silent(r.Payload, PCMU); r = p.read().pkt {
	}
	want := PCMU.Encode(nil, tone(160, 8000))
	for i := range 5 {
		if i > 0 {
			r = p.read().pkt
		}
		if i < 4 && string(r.Payload) != string(want) {
			t.Fatalf("frame %d is not the prompt", i)
		}
		if i == 4 && (string(r.Payload[:120]) != string(want[:120]) || !silent(r.Payload[120:], PCMU)) {
			t.Fatal("last frame is not the prompt's end padded with silence")
		}
	}
	for range 3 {
		if r := p.read().pkt; !silent(r.Payload, PCMU) {
			t.Fatal("no silence after the prompt")
		}
	}
	if ev := nextEvent(t, s, EventPlayDone); ev.PlayID != id {
		t.Errorf("PlayDone for %d, want %d", ev.PlayID, id)
	}
	if s.Playing() {
		t.Error("still playing")
	}
}

func TestStopPlaybackWithinOneFrame(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	first := p.read().pkt
	s.Play(NewPCMSource(tone(8000*10, 8000)))
	for r := p.read().pkt; silent(r.Payload, PCMU); r = p.read().pkt {
	}
	time.Sleep(50 * time.Millisecond)
	s.StopPlayback()
	// Every packet built after StopPlayback returned is silence; PacketsOut
	// is counted when a packet is built, under the same lock.
	sent := s.Stats().PacketsOut
	if s.Playing() {
		t.Fatal("still playing")
	}
	for {
		r := p.read().pkt
		n := uint64(r.SequenceNumber-first.SequenceNumber) + 1 // 1-based count of this packet
		if n > sent && !silent(r.Payload, PCMU) {
			t.Fatalf("packet %d (after StopPlayback at %d) is not silence", n, sent)
		}
		if n > sent+5 {
			break
		}
	}
	select {
	case ev := <-s.Events():
		t.Errorf("event after StopPlayback: %+v", ev)
	default:
	}
}

func TestPlayReplaces(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	p.read()
	s.Play(NewPCMSource(tone(8000, 8000)))
	id := s.Play(NewPCMSource(tone(320, 4000)))
	if ev := nextEvent(t, s, EventPlayDone); ev.PlayID != id {
		t.Errorf("PlayDone %d, want only the second playback's %d", ev.PlayID, id)
	}
}

func TestLatching(t *testing.T) {
	pacer := newTestPacer(t)
	for _, latch := range []bool{true, false} {
		t.Run(fmt.Sprint("latch=", latch), func(t *testing.T) {
			decoy := newPeer(t) // the address in the SDP
			s, p := testSession(t, pacer, func(c *Config) { c.Latch = latch })
			s.SetRemote(decoy.addr(), PCMU, 101)
			decoy.drain()
			decoy.read() // packets go to the SDP address until something arrives
			p.drain()    // what was sent to p before SetRemote took effect
			if _, ok := p.tryRead(50 * time.Millisecond); ok {
				t.Fatal("the peer got packets before latching")
			}
			p.audio(s.addr(), 0, make([]byte, 160))
			eventually(t, "latching", func() bool { return s.Stats().AudioIn == 1 })
			decoy.drain()
			if latch {
				p.read()
				if _, ok := decoy.tryRead(60 * time.Millisecond); ok {
					t.Error("still sending to the SDP address after latching")
				}
			} else {
				decoy.read()
				if _, ok := p.tryRead(60 * time.Millisecond); ok {
					t.Error("latched although pinned to the SDP address")
				}
			}
			// Either way, only the latched source is accepted.
			other := newPeer(t)
			other.audio(s.addr(), 0, make([]byte, 160))
			eventually(t, "the foreign packet", func() bool { return s.Stats().Dropped.Source == 1 })
		})
	}
}

func TestDrops(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	to := s.addr()
	p.audio(to, 0, make([]byte, 160)) // latch
	eventually(t, "latch", func() bool { return s.Stats().AudioIn == 1 })

	good := func() []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, SSRC: p.ssrc}, Payload: make([]byte, 160)}).Marshal()
		return b
	}
	with := func(f func(b []byte) []byte) []byte { return f(good()) }
	cases := []struct {
		name string
		b    []byte
		want func(DropStats) uint64
	}{
		{"foreign SSRC", with(func(b []byte) []byte { b[8] ^= 0xFF; return b }), func(d DropStats) uint64 { return d.SSRC }},
		{"wrong payload type", with(func(b []byte) []byte { b[1] = 18; return b }), func(d DropStats) uint64 { return d.PayloadType }},
		{"version 1", with(func(b []byte) []byte { b[0] = 0x40; return b }), func(d DropStats) uint64 { return d.Version }},
		{"version 0 (STUN-like)", []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, func(d DropStats) uint64 { return d.Version }},
		{"RTCP receiver report", []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, func(d DropStats) uint64 { return d.RTCP }},
		{"short", good()[:11], func(d DropStats) uint64 { return d.Malformed }},
		{"empty", []byte{}, func(d DropStats) uint64 { return d.Malformed }},
		{"CSRC count past the end", with(func(b []byte) []byte { b[0] |= 0x0F; return b[:40] }), func(d DropStats) uint64 { return d.Malformed }},
		{"padding longer than the packet", with(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 250; return b }), func(d DropStats) uint64 { return d.Malformed }},
		{"padding of zero", with(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 0; return b }), func(d DropStats) uint64 { return d.Malformed }},
		{"extension past the end", with(func(b []byte) []byte {
			b[0] |= 0x10
			b[12], b[13], b[14], b[15] = 0xBE, 0xDE, 0xFF, 0xFF
			return b
		}), func(d DropStats) uint64 { return d.Malformed }},
		{"no payload", good()[:12], func(d DropStats) uint64 { return d.Malformed }},
		{"short telephone-event", with(func(b []byte) []byte { b[1] = 101; return b[:14] }), func(d DropStats) uint64 { return d.Malformed }},
		{"oversized", append(good(), make([]byte, 1400)...), func(d DropStats) uint64 { return d.Malformed }},
	}
	for _, c := range cases {
		before := c.want(s.Stats().Dropped)
		p.sendRaw(to, c.b)
		eventually(t, c.name, func() bool { return c.want(s.Stats().Dropped) == before+1 })
	}
	// From another address, even with the right SSRC.
	other := newPeer(t)
	other.ssrc = p.ssrc
	other.audio(to, 0, make([]byte, 160))
	eventually(t, "source", func() bool { return s.Stats().Dropped.Source == 1 })

	st := s.Stats()
	d := st.Dropped
	if st.PacketsIn != st.AudioIn+st.EventsIn+d.Malformed+d.Version+d.RTCP+d.PayloadType+d.Source+d.SSRC {
		t.Errorf("counters do not add up: %+v", st)
	}
	if st.AudioIn != 1 || d.Total() != uint64(len(cases))+1 {
		t.Errorf("audio %d, dropped %d (%+v)", st.AudioIn, d.Total(), d)
	}
	select {
	case ev := <-s.Events():
		t.Errorf("event from garbage: %+v", ev)
	default:
	}
}

func TestSSRCChange(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "latch", func() bool { return s.Stats().AudioIn == 1 })
	// A new SSRC while the old one is alive is dropped...
	old := p.ssrc
	p.ssrc = 77
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "drop", func() bool { return s.Stats().Dropped.SSRC == 1 })
	// ...and taken once the old one has been quiet for 100 ms.
	time.Sleep(150 * time.Millisecond)
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "switch", func() bool { st := s.Stats(); return st.AudioIn == 2 && st.SSRCChanges == 1 })
	p.ssrc = old
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "old one dropped", func() bool { return s.Stats().Dropped.SSRC == 2 })
}

func TestReorderAndLoss(t *testing.T) {
	pacer := newTestPacer(t)
	var mu sync.Mutex
	var got []int16 // first sample of each chunk released
	s, p := testSession(t, pacer, func(c *Config) {
		c.CallerAudio = func(pcm []int16, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			for i := 0; i < len(pcm); i += 160 {
				got = append(got, pcm[i])
			}
		}
	})
	// Packets 0..11 carry a constant sample value 1000·k (μ-law round
	// trip), sent in the order 0 1 3 2 4 5 7 8 9 10 11: 6 never comes.
	frame := func(k int) []byte { return PCMU.Encode(nil, slices.Repeat([]int16{int16(1000 * k)}, 160)) }
	base := p.seq
	for _, k := range []int{0, 1, 3, 2, 4, 5, 7, 8, 9, 10, 11} {
		p.seq = base + uint16(k)
		p.audio(s.addr(), 0, frame(k))
	}
	eventually(t, "release", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 11 })
	mu.Lock()
	defer mu.Unlock()
	var want []int16
	for k := range 12 {
		if k == 6 {
			want = append(want, 0) // lost: silence
			continue
		}
		want = append(want, PCMU.Decode(nil, frame(k)[:1])[0])
	}
	if fmt.Sprint(got) != fmt.Sprint(want[:len(got)]) || len(got) < 11 {
		t.Errorf("released %v, want %v", got, want)
	}
	st := s.Stats()
	if st.Reordered != 1 || st.Lost != 1 {
		t.Errorf("reordered %d lost %d", st.Reordered, st.Lost)
	}
}

func TestRTPTimeout(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, func(c *Config) { c.RTPTimeout = 300 * time.Millisecond })
	start := time.Now()
	for range 10 {
		p.audio(s.addr(), 0, make([]byte, 160))
		time.Sleep(20 * time.Millisecond)
	}
	ev := nextEvent(t, s, EventTimeout)
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Errorf("timeout after %v, too early", el)
	}
	if ev.At < 300*time.Millisecond {
		t.Errorf("event At %v", ev.At)
	}
	// Once per silence: no second event until RTP comes back.
	select {
	case ev := <-s.Events():
		t.Errorf("second event %+v", ev)
	case <-time.After(400 * time.Millisecond):
	}
	p.audio(s.addr(), 0, make([]byte, 160))
	nextEvent(t, s, EventTimeout)
}

func TestHold(t *testing.T) {
	pacer := newTestPacer(t)
	rec := &frames{}
	s, p := testSession(t, pacer, func(c *Config) { c.Recorder = rec })
	p.read()
	s.Play(NewPCMSource(tone(8000*5, 8000)))
	before := p.read().pkt
	s.SetSending(false)
	p.drain()
	hold := time.Now()
	if r, ok := p.tryRead(200 * time.Millisecond); ok {
		t.Fatalf("sent during hold: seq %d", r.pkt.SequenceNumber)
	}
	s.SetSending(true)
	held := time.Since(hold)
	var after rtp.Packet
	for {
		// Skip what was in flight before the hold.
		after = p.read().pkt
		if after.Marker {
			break
		}
	}
	if d := int(after.SequenceNumber - before.SequenceNumber); d < 1 || d > 5 {
		t.Errorf("sequence jumped by %d over hold", d)
	}
	gap := time.Duration(after.Timestamp-before.Timestamp) * time.Second / SampleRate
	if gap < held-40*time.Millisecond || gap > held+200*time.Millisecond || (after.Timestamp-before.Timestamp)%160 != 0 {
		t.Errorf("timestamp advanced %v over a hold of %v", gap, held)
	}
	if silent(after.Payload, PCMU) {
		t.Error("playback did not continue after hold")
	}
	s.Close()
	// The recorder kept running: about one frame per 20 ms, with bot silence
	// during the hold.
	n, silentBot := rec.len(), 0
	for _, f := range rec.bot {
		if f[2] == 0 {
			silentBot++
		}
	}
	if silentBot < 8 || n < silentBot+2 {
		t.Errorf("recorder: %d frames, %d silent bot frames", n, silentBot)
	}
}

func TestSetRemote(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "latch", func() bool { return s.Stats().AudioIn == 1 })
	p2 := newPeer(t)
	s.SetRemote(p2.addr(), PCMA, 96)
	var r rtp.Packet
	for r = p2.read().pkt; r.PayloadType != 8; r = p2.read().pkt {
	}
	if !silent(r.Payload, PCMA) {
		t.Error("A-law silence expected")
	}
	// The new peer is latched on; the old one is now foreign, and the old
	// codec is a wrong payload type.
	p2.audio(s.addr(), 8, make([]byte, 160))
	eventually(t, "new peer", func() bool { return s.Stats().AudioIn == 2 })
	p.audio(s.addr(), 8, make([]byte, 160))
	p2.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "drops", func() bool { d := s.Stats().Dropped; return d.Source == 1 && d.PayloadType == 1 })
	// The new telephone-event payload type works.
	pkts, _ := dtmf.Packets('4', 96, p2.ts, 60*time.Millisecond, 20*time.Millisecond)
	for _, pk := range pkts {
		pk.SSRC, pk.SequenceNumber = p2.ssrc, p2.seq
		p2.seq++
		p2.send(s.addr(), pk)
	}
	if ev := nextEvent(t, s, EventDigit); ev.Digit.Key != '4' {
		t.Errorf("digit %c", ev.Digit.Key)
	}
	// An unsupported codec is ignored.
	s.SetRemote(p2.addr(), Codec{Name: "G722", PayloadType: 9}, 0)
	if r := p2.read().pkt; r.PayloadType != 8 {
		t.Errorf("codec changed to %d", r.PayloadType)
	}
}

func TestInjectDigit(t *testing.T) {
	pacer := newTestPacer(t)
	s, _ := testSession(t, pacer, nil)
	s.InjectDigit('5', dtmf.SourceINFO)
	s.InjectDigit('x', dtmf.SourceINFO) // ignored
	s.InjectDigit('d', dtmf.SourceINFO)
	for _, want := range "5D" {
		ev := nextEvent(t, s, EventDigit)
		if ev.Digit.Key != want || ev.Digit.Source != dtmf.SourceINFO || ev.At <= 0 {
			t.Errorf("event %+v", ev)
		}
	}
}

func TestRFC4733Digits(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	// Audio on one SSRC, events on another (as SIPp's captures do), each
	// event's end packets sent three times, and "11" as two events.
	evSSRC, evSeq := uint32(0xE0E0), uint16(500)
	ts := uint32(1000)
	for _, k := range "11#" {
		pkts, _ := dtmf.Packets(k, 101, ts, 100*time.Millisecond, 20*time.Millisecond)
		for _, pk := range pkts {
			pk.SSRC, pk.SequenceNumber = evSSRC, evSeq
			evSeq++
			p.send(s.addr(), pk)
			p.audio(s.addr(), 0, make([]byte, 160))
			time.Sleep(5 * time.Millisecond)
		}
		ts += 2000
	}
	for _, want := range "11#" {
		ev := nextEvent(t, s, EventDigit)
		if ev.Digit.Key != want || ev.Digit.Source != dtmf.SourceRFC4733 {
			t.Errorf("event %+v, want %c", ev, want)
		}
	}
	select {
	case ev := <-s.Events():
		t.Errorf("extra event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
	if st := s.Stats(); st.Digits != 3 || st.EventsIn != 21 {
		t.Errorf("digits %d events in %d", st.Digits, st.EventsIn)
	}
}

func TestInbandDigits(t *testing.T) {
	pacer := newTestPacer(t)
	sendTones := func(s *Session, p *peer) {
		pcm := append(make([]int16, 800), dtmf.Tone('7', 100*time.Millisecond, 16000)...)
		pcm = append(pcm, make([]int16, 1600)...)
		for i := 0; i+160 <= len(pcm); i += 160 {
			p.audio(s.addr(), 0, PCMU.Encode(nil, pcm[i:i+160]))
			time.Sleep(2 * time.Millisecond)
		}
	}
	s, p := testSession(t, pacer, func(c *Config) { c.DTMFPayload = 0 })
	sendTones(s, p)
	ev := nextEvent(t, s, EventDigit)
	if ev.Digit.Key != '7' || ev.Digit.Source != dtmf.SourceInband {
		t.Errorf("event %+v", ev)
	}
	// With telephone-event negotiated the detector does not run.
	s2, p2 := testSession(t, pacer, nil)
	sendTones(s2, p2)
	eventually(t, "audio", func() bool { return s2.Stats().AudioIn == 20 })
	select {
	case ev := <-s2.Events():
		t.Errorf("in-band digit with telephone-event negotiated: %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSendDigit(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	p.read()
	for _, k := range "1#" {
		if err := s.SendDigit(k, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SendDigit('x', time.Second); err == nil {
		t.Error("bad key accepted")
	}
	r := dtmf.NewReceiver()
	var keys []rune
	var prev rtp.Packet
	for i := 0; len(keys) < 2 || i < 40; i++ {
		pk := p.read().pkt
		if i > 0 && pk.SequenceNumber != prev.SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", pk.SequenceNumber, prev.SequenceNumber)
		}
		prev = pk
		if pk.PayloadType == 101 {
			if d, ok := r.Feed(&pk, 0); ok {
				keys = append(keys, d.Key)
			}
		}
	}
	if string(keys) != "1#" {
		t.Errorf("peer decoded %q", string(keys))
	}
	s2, _ := testSession(t, pacer, func(c *Config) { c.DTMFPayload = 0 })
	if err := s2.SendDigit('1', 100*time.Millisecond); err != ErrNoTelephoneEvent {
		t.Errorf("without telephone-event: %v", err)
	}
}

func TestRecorder(t *testing.T) {
	pacer := newTestPacer(t)
	rec := &frames{}
	s, p := testSession(t, pacer, func(c *Config) { c.Recorder = rec })
	p.read()
	s.Play(NewPCMSource(tone(160*25, 10000)))
	callerFrame := PCMU.Encode(nil, slices.Repeat([]int16{-5000}, 160))
	start := time.Now()
	for range 25 { // 0.5 s of caller audio, paced
		p.audio(s.addr(), 0, callerFrame)
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	s.Close()
	elapsed := time.Since(start)
	n := rec.len()
	if want := int(elapsed / (20 * time.Millisecond)); n < want-5 || n > want+20 {
		t.Errorf("%d frames in %v", n, elapsed)
	}
	var callerFrames, botFrames int
	for i := range rec.bot {
		if len(rec.bot[i]) != 160 || len(rec.caller[i]) != 160 {
			t.Fatal("frame size")
		}
		if rec.caller[i][82] != 0 {
			callerFrames++
		}
		if rec.bot[i][82] != 0 {
			botFrames++
		}
	}
	if callerFrames < 20 || callerFrames > 26 || botFrames != 25 {
		t.Errorf("caller frames %d (want ~25), bot frames %d (want 25)", callerFrames, botFrames)
	}
	if st := s.Stats(); st.RecordDropped != 0 {
		t.Errorf("record dropped %d", st.RecordDropped)
	}
}

type failingRecorder struct{ n int }

func (f *failingRecorder) WriteFrame(_, _ []int16) error {
	f.n++
	return fmt.Errorf("disk full")
}

func TestRecorderErrorStopsRecording(t *testing.T) {
	pacer := newTestPacer(t)
	rec := &failingRecorder{}
	s, p := testSession(t, pacer, func(c *Config) { c.Recorder = rec })
	p.read()
	time.Sleep(300 * time.Millisecond)
	s.Close()
	if rec.n != 1 {
		t.Errorf("WriteFrame called %d times after failing", rec.n)
	}
}

type panicSource struct{}

func (panicSource) ReadFrame([]int16) (int, bool) { panic("bug in a source") }

func TestPanickingSourceIsStopped(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, nil)
	_, p2 := testSession(t, pacer, nil)
	s.Play(panicSource{})
	eventually(t, "stop", func() bool { return !s.Playing() })
	p.drain()
	p.read() // still sending
	p2.read()
}

func TestEventsNeverBlock(t *testing.T) {
	pacer := newTestPacer(t)
	s, _ := testSession(t, pacer, nil)
	for i := range 100 {
		s.InjectDigit(rune('0'+i%10), "info")
	}
	if st := s.Stats(); st.EventsDropped != 100-eventBuffer {
		t.Errorf("dropped %d", st.EventsDropped)
	}
	var last Event
	for range eventBuffer {
		last = <-s.Events()
	}
	if last.Digit.Key != '9' {
		t.Errorf("newest event %c, want 9 (drop-oldest)", last.Digit.Key)
	}
}

func TestCloseAndStartOrder(t *testing.T) {
	pacer := newTestPacer(t)
	// Close without Start, twice; Start after Close does nothing.
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Start(context.Background())
	if _, ok := <-s.Events(); ok {
		t.Error("events open after Close")
	}
	if st := pacer.Stats(); st.Sessions[0]+st.Sessions[1] != 0 {
		t.Error("a closed session joined the pacer")
	}
	// A second Start is ignored: the first context rules.
	s2, p2 := testSession(t, pacer, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s2.Start(ctx)
	cancel()
	time.Sleep(50 * time.Millisecond)
	p2.drain()
	p2.read()
	// The end of the context closes the session and its socket.
	p3 := newPeer(t)
	ctx3, cancel3 := context.WithCancel(context.Background())
	conn3, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s3, _ := NewSession(Config{Conn: conn3, Codec: PCMU, Pacer: pacer, Remote: p3.addr()})
	s3.Start(ctx3)
	p3.read()
	cancel3()
	// closed is set as Close begins; closeDone once the socket is closed.
	eventually(t, "ctx closes the session", func() bool {
		select {
		case <-s3.closeDone:
			return true
		default:
			return false
		}
	})
	if _, err := conn3.WriteToUDP([]byte{1}, p3.addr()); err == nil {
		t.Error("socket still open after ctx ended")
	}
}

func TestNewSessionChecks(t *testing.T) {
	pacer := newTestPacer(t)
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer conn.Close()
	for name, cfg := range map[string]Config{
		"no conn":         {Codec: PCMU, Pacer: pacer},
		"no pacer":        {Conn: conn, Codec: PCMU},
		"codec":           {Conn: conn, Codec: Codec{Name: "opus", PayloadType: 111}, Pacer: pacer},
		"clock rate":      {Conn: conn, Codec: Codec{Name: "PCMU", ClockRate: 16000}, Pacer: pacer},
		"ptime":           {Conn: conn, Codec: PCMU, Pacer: pacer, PTime: 25 * time.Microsecond},
		"dtmf = codec pt": {Conn: conn, Codec: PCMU, Pacer: pacer, DTMFPayload: 0x80},
	} {
		if _, err := NewSession(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPTimes(t *testing.T) {
	pacer := newTestPacer(t)
	for _, pt := range []time.Duration{10, 30, 40} {
		pt *= time.Millisecond
		_, p := testSession(t, pacer, func(c *Config) { c.PTime = pt })
		a, b := p.read().pkt, p.read().pkt
		if len(b.Payload) != FrameSamples(pt) || int(b.Timestamp-a.Timestamp) != FrameSamples(pt) {
			t.Errorf("ptime %v: payload %d, step %d", pt, len(b.Payload), b.Timestamp-a.Timestamp)
		}
	}
}

func TestPacerCatchUp(t *testing.T) {
	pacer := newTestPacer(t)
	p := newPeer(t)
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := NewSession(Config{Conn: conn, Remote: p.addr(), Codec: PCMU, Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Not started: drive a shard by hand, one second late.
	sh := pacer.shards[0]
	sh.mu.Lock()
	ts0 := s.ts
	s.next = 0
	sh.serve(s, int64(time.Second))
	next := s.next
	sh.mu.Unlock()
	st := s.Stats()
	// Frames due at 960, 980 and 1000 ms are sent at 1000 ms: two are late.
	if st.PacketsOut != maxCatchUp || st.SkippedFrames != 51-maxCatchUp || st.LateFrames != 2 {
		t.Errorf("out %d skipped %d late %d", st.PacketsOut, st.SkippedFrames, st.LateFrames)
	}
	if next <= int64(time.Second) || next > int64(time.Second)+int64(20*time.Millisecond) {
		t.Errorf("next slot %v", time.Duration(next))
	}
	first := p.read().pkt
	if int(first.Timestamp-ts0) != (51-maxCatchUp)*160 {
		t.Errorf("first timestamp after skipping: +%d", first.Timestamp-ts0)
	}
}

// TestGoroutinesReturnToBaseline runs 100 sessions with traffic and closes
// them (half by Close, half by their context): no goroutine may be left.
func TestGoroutinesReturnToBaseline(t *testing.T) {
	pacer := NewPacer(2)
	defer pacer.Close()
	sink := newPeer(t)
	base := runtime.NumGoroutine()
	var sessions []*Session
	var cancels []context.CancelFunc
	for i := range 100 {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSession(Config{Conn: conn, Remote: sink.addr(), Latch: true, Codec: PCMU, Pacer: pacer,
			Recorder: &frames{}, RTPTimeout: time.Minute, DTMFPayload: uint8(i % 2 * 101)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		s.Start(ctx)
		s.Play(NewPCMSource(tone(8000, 5000)))
		sink.audio(s.addr(), 0, make([]byte, 160))
		sessions = append(sessions, s)
		cancels = append(cancels, cancel)
	}
	time.Sleep(200 * time.Millisecond)
	// At least one goroutine per session (the baseline may include a
	// transient goroutine that has ended since: allow a few).
	if n := runtime.NumGoroutine(); n < base+95 {
		t.Fatalf("%d goroutines with 100 sessions, baseline %d", n, base)
	}
	for i, s := range sessions {
		if i%2 == 0 {
			s.Close()
		} else {
			cancels[i]()
		}
	}
	for _, c := range cancels {
		c()
	}
	var n int
	for range 200 {
		if n = runtime.NumGoroutine(); n <= base {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after closing, baseline %d\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
	if st := pacer.Stats(); st.Sessions[0]+st.Sessions[1] != 0 {
		t.Errorf("sessions left in the pacer: %v", st.Sessions)
	}
}

func TestPacerStats(t *testing.T) {
	pacer := newTestPacer(t)
	for range 4 {
		testSession(t, pacer, nil)
	}
	time.Sleep(300 * time.Millisecond)
	st := pacer.Stats()
	if st.Shards != 2 || st.Sessions[0] != 2 || st.Sessions[1] != 2 || st.Frames < 40 {
		t.Errorf("%+v", st)
	}
	if st.P50 < -time.Millisecond || st.P50 > 5*time.Millisecond || st.Max < st.P99 {
		t.Errorf("lateness %+v", st)
	}
	t.Logf("pacer: %d frames, lateness p50 %v p99 %v max %v", st.Frames, st.P50, st.P99, st.Max)
	pacer.ResetStats()
	if st := pacer.Stats(); st.Frames > 10 {
		t.Errorf("after reset: %d frames", st.Frames)
	}
}

type panicRecorder struct{}

func (panicRecorder) WriteFrame(_, _ []int16) error { panic("bug in a recorder") }

func TestPanicOnReceivePathClosesOnlyThatSession(t *testing.T) {
	pacer := newTestPacer(t)
	s, p := testSession(t, pacer, func(c *Config) { c.Recorder = panicRecorder{} })
	_, p2 := testSession(t, pacer, nil)
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "the session closes", func() bool { return s.closed.Load() })
	for range s.Events() { // closed
	}
	p2.drain()
	p2.read() // the other call goes on
}

func TestDualStackSocket(t *testing.T) {
	lo, hi := freeRange(t, 2)
	ports, err := NewPorts(nil, lo, hi) // all addresses: a dual-stack socket
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ports.Listen()
	if err != nil {
		t.Skipf("no dual-stack socket here: %v", err)
	}
	pacer := newTestPacer(t)
	p := newPeer(t)
	s, err := NewSession(Config{Conn: conn, Remote: p.addr(), Latch: true, Codec: PCMA, Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	defer s.Close()
	if r := p.read().pkt; r.PayloadType != 8 {
		t.Fatalf("payload type %d", r.PayloadType)
	}
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()}
	p.audio(to, 8, make([]byte, 160))
	p.audio(to, 8, make([]byte, 160))
	eventually(t, "IPv4 packets on a dual-stack socket", func() bool { return s.Stats().AudioIn == 2 })
	if d := s.Stats().Dropped; d.Total() != 0 {
		t.Errorf("dropped %+v", d)
	}
	p.drain()
	p.read() // still sending to the (mapped) latched address
}
