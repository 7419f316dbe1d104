package media

import (
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/pion/rtp"
)

// digitGapFrames is the pause after a sent digit before the next one.
const digitGapFrames = 2

// sendFrame builds and sends the session's next frame. The pacer calls it
// under the shard lock, once per ptime; late is how late the frame is.
// Everything it does is bounded: copy or encode one frame, one non-blocking
// send.
func (s *Session) sendFrame(late time.Duration) {
	s.mu.Lock()
	rs := s.remote.Load()
	audio := false
	if s.src != nil {
		audio = s.readSource()
	}
	dst := rs.addr
	if s.latch {
		if p := s.latchedAddr.Load(); p != nil {
			dst = *p
		}
	}
	send := s.sending && dst.IsValid()
	var pkt []byte
	recordAudio := audio && s.sending
	if send {
		h := rtp.Header{Version: 2, SequenceNumber: s.seq, SSRC: s.ssrc}
		if dp := s.nextDigitPacket(rs); dp != nil {
			h.PayloadType, h.Marker, h.Timestamp = dp.PayloadType, dp.Marker, dp.Timestamp
			n, _ := h.MarshalTo(s.pkt)
			pkt = s.pkt[:n+copy(s.pkt[n:], dp.Payload)]
			recordAudio = false
		} else {
			h.PayloadType, h.Marker, h.Timestamp = rs.codec.PayloadType, s.marker, s.ts
			n, _ := h.MarshalTo(s.pkt)
			if audio {
				pkt = rs.law.encode(s.pkt[:n], s.pcm)
			} else {
				pkt = s.pkt[:n+s.spf]
				fill(pkt[n:], rs.law.silence())
			}
		}
		s.seq++
		s.marker = false
		s.st.packetsOut.Add(1)
		s.st.bytesOut.Add(uint64(len(pkt)))
	} else {
		s.marker = true // a gap: the next packet starts a talkspurt
	}
	s.ts += uint32(s.spf)
	if s.rec != nil {
		var bot []int16
		if recordAudio {
			bot = s.pcm
		}
		s.pushBot(bot, 1)
	}
	s.mu.Unlock()

	if send {
		if err := s.sender.send(pkt, dst); err != nil {
			s.st.sendErrors.Add(1)
		}
	}
	if late > LateThreshold {
		s.st.lateFrames.Add(1)
	}
	if int64(late) > s.st.maxLate.Load() {
		s.st.maxLate.Store(int64(late))
	}
}

// readSource reads the next frame of the playing source into s.pcm and
// reports whether it holds audio. A source that panics is stopped and
// logged: it runs on a goroutine shared with other calls.
func (s *Session) readSource() (audio bool) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("media: playback source panicked; playback stopped", "panic", r)
			s.src = nil
			audio = false
		}
	}()
	n, done := s.src.ReadFrame(s.pcm)
	n = max(0, min(n, len(s.pcm)))
	clear(s.pcm[n:])
	if done {
		s.src = nil
		s.emit(Event{Kind: EventPlayDone, PlayID: s.playID, At: s.since()})
	}
	return n > 0
}

// nextDigitPacket returns the telephone-event packet to send in place of
// this frame's audio, if a queued digit is being sent.
func (s *Session) nextDigitPacket(rs *remoteState) *rtp.Packet {
	if len(s.digitPkts) == 0 {
		if s.digitGap > 0 {
			s.digitGap--
			return nil
		}
		if len(s.digitQ) == 0 || rs.dtmfPT == 0 {
			return nil
		}
		d := s.digitQ[0]
		s.digitQ = s.digitQ[1:]
		pkts, err := dtmf.Packets(d.key, rs.dtmfPT, s.ts, d.dur, s.ptime)
		if err != nil {
			s.log.Warn("media: digit not sent", "key", string(d.key), "err", err)
			return nil
		}
		s.digitPkts = pkts
	}
	p := &s.digitPkts[0]
	if s.digitPkts = s.digitPkts[1:]; len(s.digitPkts) == 0 {
		s.digitPkts = nil
		s.digitGap = digitGapFrames
	}
	return p
}

// skipFrames accounts for frames the pacer dropped to catch up: the clock
// (RTP timestamp) moves on, the source does not (the prompt just ends a
// little later), and the recorder gets silence so it stays in step.
func (s *Session) skipFrames(n int) {
	s.mu.Lock()
	s.ts += uint32(n * s.spf)
	s.marker = true
	if s.rec != nil {
		s.pushBot(nil, n)
	}
	s.mu.Unlock()
	s.st.skipped.Add(uint64(n))
}

// pushBot hands n bot frames (nil: silence) to the recorder side.
func (s *Session) pushBot(pcm []int16, n int) {
	at := s.since()
	s.recMu.Lock()
	for range n {
		if s.recBot.push(pcm, at) {
			s.st.recordDropped.Add(1)
		}
	}
	s.recMu.Unlock()
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// frameRing is a fixed ring of frames with their times; when full, a push
// overwrites the oldest frame.
type frameRing struct {
	pcm     []int16
	at      []time.Duration
	spf     int
	head, n int
}

func newFrameRing(frames, spf int) frameRing {
	return frameRing{pcm: make([]int16, frames*spf), at: make([]time.Duration, frames), spf: spf}
}

// push adds a frame (nil: silence) and reports whether one was overwritten.
func (r *frameRing) push(pcm []int16, at time.Duration) (dropped bool) {
	if r.n == len(r.at) {
		r.head = (r.head + 1) % len(r.at)
		r.n--
		dropped = true
	}
	i := (r.head + r.n) % len(r.at)
	f := r.pcm[i*r.spf : (i+1)*r.spf]
	if pcm == nil {
		clear(f)
	} else {
		copy(f, pcm)
	}
	r.at[i] = at
	r.n++
	return dropped
}

// peek returns the time of the oldest frame.
func (r *frameRing) peek() (time.Duration, bool) {
	if r.n == 0 {
		return 0, false
	}
	return r.at[r.head], true
}

// pop copies the oldest frame into dst.
func (r *frameRing) pop(dst []int16) {
	copy(dst, r.pcm[r.head*r.spf:(r.head+1)*r.spf])
	r.head = (r.head + 1) % len(r.at)
	r.n--
}
