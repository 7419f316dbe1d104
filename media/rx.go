package media

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/pion/rtp"
)

const (
	// readBuffer is larger than any datagram we accept: a read that fills
	// it was truncated, and is dropped as malformed.
	readBuffer = 2048
	// maxAudioPayload: 120 ms of G.711, more than any ptime a peer offers.
	maxAudioPayload = 960
	// idleWake bounds how long the receive goroutine sleeps without
	// packets: it then flushes the reorder window, feeds the recorder and
	// checks the RTP timeout.
	idleWake = 60 * time.Millisecond
	// ssrcSwitchAfter: a new SSRC from the latched address replaces the
	// current one only once the current one has been silent this long (a
	// peer restarting its stream, a PBX switching sources). Interleaved with
	// a live stream it is dropped.
	ssrcSwitchAfter = 100 * time.Millisecond
	// recordLag: the recorder writes a tick this long after it happened, so
	// caller packets that were late or reordered (the reorder window holds
	// 4 packets, 80 ms at 20 ms) are in place.
	recordLag = 100 * time.Millisecond
	// callerBacklog bounds how much caller audio may wait for ticks before
	// the oldest is dropped (a caller whose clock runs fast, or a burst):
	// the recording stays within this of the bot's track.
	callerBacklog = 60 * time.Millisecond
	// recordBuffer is how much audio each side of the recorder may hold
	// while it waits for its tick: recordLag plus an idle wake of the
	// receive goroutine, twice over. A receive goroutine held up longer
	// than that (a machine far past its capacity) loses the oldest audio,
	// counted in Stats.RecordDropped, rather than holding more memory per
	// call: at 500 calls every KiB here is half a MiB.
	recordBuffer = 320 * time.Millisecond
)

// rxState is owned by the receive goroutine.
type rxState struct {
	deadline time.Time // the socket's read deadline
	errs     int       // failed reads in a row
	pkt      rtp.Packet
	gen      uint64
	latched  bool
	src      netip.AddrPort
	audio    ssrcLock
	event    ssrcLock
	reorder  reorder
	release  func(payload []byte, at time.Duration, lost int) // s.release, made once
	digits   dtmf.Receiver
	det      *dtmf.Detector
	pcm      []int16

	lastValid time.Duration
	timedOut  bool

	jitterInit  bool
	lastTransit int64
	jitter      float64 // in samples (RFC 3550 A.8)

	// Recorder side.
	rec      Recorder
	caller   sampleQueue
	callerF  []int16
	botF     []int16
	recShort bool // recorder failed: stop
}

type ssrcLock struct {
	set  bool
	ssrc uint32
	last time.Duration
}

func (rx *rxState) init(s *Session) {
	rx.pcm = make([]int16, 0, maxAudioPayload)
	rx.release = s.release
	rx.rec = s.rec
	if rx.rec != nil {
		rx.caller = newSampleQueue(int(recordBuffer * SampleRate / time.Second))
		rx.callerF = make([]int16, s.spf)
		rx.botF = make([]int16, s.spf)
	}
}

func (s *Session) readLoop() {
	defer s.wg.Done()
	// Recorder and CallerAudio are the caller's code: if one panics, this
	// call's media ends (Events closes), not the process.
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("media: panic on the receive path; session closed", "panic", r, "stack", string(debug.Stack()))
			s.rx.recShort = true // do not call the recorder again, not even from Close
			go s.Close()         // Close waits for this goroutine, which is ending
		}
	}()
	rx := &s.rx
	for {
		s.keepDeadline()
		// run hands every datagram to handle, then afterReceive, until an
		// error: the read deadline (no packet for idleWake), a closed
		// socket, or a failed read.
		err := s.recv.run()
		at := s.since()
		if s.closed.Load() || errors.Is(err, net.ErrClosed) {
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			rx.deadline = time.Time{}
			s.idle(at)
			continue
		}
		// Transient (ICMP errors on some systems); never spin on them.
		s.st.readErrors.Add(1)
		if rx.errs++; rx.errs > 100 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// keepDeadline moves the read deadline idleWake ahead when it is less than
// half of that away: a timer update every idleWake/2, not every packet.
func (s *Session) keepDeadline() {
	rx := &s.rx
	now := time.Now()
	if rx.deadline.Sub(now) < idleWake/2 {
		rx.deadline = now.Add(idleWake)
		_ = s.conn.SetReadDeadline(rx.deadline) // fails only when closed, which the read reports
	}
}

// afterReceive runs after each datagram, or each batch of them: the
// recorder's due ticks, and the read deadline.
func (s *Session) afterReceive() {
	s.rx.errs = 0
	s.rx.flushRecorder(s, false)
	s.keepDeadline()
}

// dropTruncated counts a datagram too long for the receive buffer.
func (s *Session) dropTruncated(n int) {
	s.st.packetsIn.Add(1)
	s.st.bytesIn.Add(uint64(n))
	s.st.dMalformed.Add(1)
}

// idle runs when no packet came for idleWake.
func (s *Session) idle(at time.Duration) {
	rx := &s.rx
	if rx.reorder.pending() > 0 && at-rx.reorder.lastAt >= idleWake {
		rx.reorder.flush(rx.release)
	}
	rx.flushRecorder(s, false)
	if s.rtpTO > 0 && !rx.timedOut && at-rx.lastValid >= s.rtpTO {
		rx.timedOut = true
		s.log.Info("media: RTP timeout", "after", at-rx.lastValid)
		s.emit(Event{Kind: EventTimeout, At: at})
	}
}

// handle checks one datagram and passes it on, or counts why it was
// dropped. It must never panic, whatever the bytes.
func (s *Session) handle(b []byte, from netip.AddrPort, at time.Duration) {
	rx := &s.rx
	st := &s.st
	st.packetsIn.Add(1)
	st.bytesIn.Add(uint64(len(b)))
	rs := s.remote.Load()
	if rs.gen != rx.gen {
		// The peer moved (re-INVITE): latch again.
		rx.gen = rs.gen
		rx.latched = false
		rx.audio, rx.event = ssrcLock{}, ssrcLock{}
		s.latchedAddr.Store(nil)
		rx.reorder.reset()
		rx.digits.Reset()
	}
	switch {
	case len(b) < 12 || len(b) >= readBuffer:
		st.dMalformed.Add(1)
		return
	case b[0]>>6 != 2:
		st.dVersion.Add(1)
		return
	case b[1] >= 192 && b[1] <= 223: // RTCP packet types 192-223 (RFC 5761)
		st.dRTCP.Add(1)
		return
	}
	p := &rx.pkt
	if err := p.Unmarshal(b); err != nil {
		st.dMalformed.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if rx.latched && from != rx.src {
		st.dSource.Add(1)
		return
	}
	var lock *ssrcLock
	audio := false
	switch {
	case p.PayloadType == rs.codec.PayloadType:
		if len(p.Payload) == 0 || len(p.Payload) > maxAudioPayload {
			st.dMalformed.Add(1)
			return
		}
		lock, audio = &rx.audio, true
	case rs.dtmfPT != 0 && p.PayloadType == rs.dtmfPT:
		if len(p.Payload) < dtmf.PayloadSize {
			st.dMalformed.Add(1)
			return
		}
		lock = &rx.event
	default:
		st.dPT.Add(1)
		return
	}
	if lock.set && p.SSRC != lock.ssrc {
		if at-lock.last < ssrcSwitchAfter {
			st.dSSRC.Add(1)
			return
		}
		st.ssrcChanges.Add(1)
		s.log.Info("media: peer changed SSRC", "old", lock.ssrc, "new", p.SSRC, "audio", audio)
		if audio {
			rx.reorder.reset()
			rx.jitterInit = false
		} else {
			rx.digits.Reset()
		}
	}
	*lock = ssrcLock{set: true, ssrc: p.SSRC, last: at}
	if !rx.latched {
		rx.latched, rx.src = true, from
		if s.latch {
			a := from // a copy, so that only this branch allocates
			s.latchedAddr.Store(&a)
		}
		s.log.Info("media: latched", "peer", from.String(), "ssrc", p.SSRC)
	}
	rx.lastValid, rx.timedOut = at, false
	if !audio {
		st.eventsIn.Add(1)
		if d, ok := rx.digits.Feed(p, at); ok {
			s.emitDigit(d)
		}
		if rx.audio.set && p.SSRC == rx.audio.ssrc {
			rx.reorder.skip(p.SequenceNumber, at, rx.release) // events share the audio's numbers
		}
		return
	}
	st.audioIn.Add(1)
	rx.updateJitter(p.Timestamp, at)
	st.jitter.Store(int64(rx.jitter * float64(time.Second) / SampleRate))
	switch r := rx.reorder.push(p.SequenceNumber, p.Payload, at, rx.release); r {
	case pushDuplicate:
		st.dDup.Add(1)
	case pushLate:
		st.dLate.Add(1)
	case pushReordered:
		st.reordered.Add(1)
	}
}

// updateJitter is RFC 3550 A.8, in sample units.
func (rx *rxState) updateJitter(ts uint32, at time.Duration) {
	arrival := int64(at) * SampleRate / int64(time.Second)
	transit := arrival - int64(ts)
	if rx.jitterInit {
		d := transit - rx.lastTransit
		// Timestamps are 32-bit: fold differences across a wrap.
		d = int64(int32(d))
		if d < 0 {
			d = -d
		}
		rx.jitter += (float64(d) - rx.jitter) / 16
	}
	rx.lastTransit, rx.jitterInit = transit, true
}

// release handles caller audio in sequence order: lost packets first (as
// silence of the same length), then the payload.
func (s *Session) release(payload []byte, at time.Duration, lost int) {
	rx := &s.rx
	if lost > 0 {
		s.st.lost.Add(uint64(lost))
		n := min(lost, maxLostFill) * len(payload)
		rx.pcm = rx.pcm[:0]
		for range n {
			rx.pcm = append(rx.pcm, 0)
		}
		s.callerAudio(rx.pcm, at)
	}
	rx.pcm = s.remote.Load().law.decode(rx.pcm[:0], payload)
	s.callerAudio(rx.pcm, at)
}

// maxLostFill bounds the silence put in for one gap (the rest of a long gap
// is time the caller was not sending, which ticks fill anyway).
const maxLostFill = 10

func (s *Session) callerAudio(pcm []int16, at time.Duration) {
	rx := &s.rx
	if s.remote.Load().dtmfPT == 0 {
		if rx.det == nil {
			// Made on first use: most peers negotiate telephone-event,
			// and then the in-band detector's 2 KiB are never needed.
			rx.det = dtmf.NewDetector()
		}
		for _, d := range rx.det.Process(pcm, at) {
			s.emitDigit(d)
		}
	}
	if s.onPCM != nil {
		s.onPCM(pcm, at)
	}
	if rx.rec != nil && !rx.recShort {
		if rx.caller.push(pcm, at) > 0 {
			s.st.recordDropped.Add(1)
		}
	}
}

// flushRecorder writes the ticks that are at least recordLag old (all of
// them when closing), each with the caller audio that had arrived by then.
func (rx *rxState) flushRecorder(s *Session, all bool) {
	if rx.rec == nil || rx.recShort {
		return
	}
	rx.flushRecorderAt(s, s.since(), all)
}

// flushRecorderAt is flushRecorder at stream time now.
func (rx *rxState) flushRecorderAt(s *Session, now time.Duration, all bool) {
	for {
		s.recMu.Lock()
		at, ok := s.recBot.peek()
		if !ok || (!all && now-at < recordLag) {
			s.recMu.Unlock()
			return
		}
		s.recBot.pop(rx.botF)
		s.recMu.Unlock()
		// Keep the caller's track within callerBacklog of the bot's.
		if over := rx.caller.readyBy(at) - int(callerBacklog*SampleRate/time.Second) - s.spf; over > 0 {
			rx.caller.discard(over)
			s.st.recordDropped.Add(1)
		}
		rx.caller.pop(rx.callerF, at)
		if err := rx.rec.WriteFrame(rx.callerF, rx.botF); err != nil {
			rx.recShort = true
			s.log.Error("media: recorder failed; recording stopped", "err", err)
			return
		}
	}
}

// sampleQueue is a FIFO of caller samples kept as chunks stamped with their
// arrival time, so a tick only takes audio that had arrived by the tick.
type sampleQueue struct {
	buf    []int16
	head   int // first sample
	n      int // samples queued
	chunks []chunk
	ch, cn int // first chunk, chunks queued
}

type chunk struct {
	at time.Duration
	n  int
}

func newSampleQueue(size int) sampleQueue {
	return sampleQueue{buf: make([]int16, size), chunks: make([]chunk, 64)}
}

// push appends pcm, dropping the oldest samples if the queue is full; it
// returns how many were dropped.
func (q *sampleQueue) push(pcm []int16, at time.Duration) (dropped int) {
	if len(pcm) > len(q.buf) {
		dropped += len(pcm) - len(q.buf)
		pcm = pcm[len(pcm)-len(q.buf):]
	}
	if over := q.n + len(pcm) - len(q.buf); over > 0 {
		q.discard(over)
		dropped += over
	}
	if q.cn > 0 && q.chunks[(q.ch+q.cn-1)%len(q.chunks)].at == at {
		q.chunks[(q.ch+q.cn-1)%len(q.chunks)].n += len(pcm)
	} else {
		if q.cn == len(q.chunks) {
			// Out of chunk slots: merge the two oldest (the older time wins,
			// which only makes audio eligible a little earlier).
			first := q.chunks[q.ch]
			q.ch = (q.ch + 1) % len(q.chunks)
			q.cn--
			q.chunks[q.ch].n += first.n
			q.chunks[q.ch].at = first.at
		}
		q.chunks[(q.ch+q.cn)%len(q.chunks)] = chunk{at: at, n: len(pcm)}
		q.cn++
	}
	tail := (q.head + q.n) % len(q.buf)
	k := copy(q.buf[tail:], pcm)
	copy(q.buf, pcm[k:]) // wrap around
	q.n += len(pcm)
	return dropped
}

// readyBy is how many samples had arrived by at.
func (q *sampleQueue) readyBy(at time.Duration) int {
	k := 0
	for i := range q.cn {
		c := q.chunks[(q.ch+i)%len(q.chunks)]
		if c.at > at {
			break
		}
		k += c.n
	}
	return k
}

// discard drops the n oldest samples.
func (q *sampleQueue) discard(n int) {
	n = min(n, q.n)
	q.head = (q.head + n) % len(q.buf)
	q.n -= n
	for n > 0 && q.cn > 0 {
		c := &q.chunks[q.ch]
		if c.n > n {
			c.n -= n
			return
		}
		n -= c.n
		q.ch = (q.ch + 1) % len(q.chunks)
		q.cn--
	}
}

// pop fills dst with samples that had arrived by at, silence for the rest.
func (q *sampleQueue) pop(dst []int16, at time.Duration) {
	k := min(len(dst), q.readyBy(at))
	m := copy(dst[:k], q.buf[q.head:])
	copy(dst[m:k], q.buf) // wrap around
	q.discard(k)
	clear(dst[k:])
}
