package media

import "time"

const (
	// reorderWindow is how many packets may wait behind a missing one: a
	// packet up to 4 places (80 ms at 20 ms) out of order is put back in
	// place; a hole with 4 packets waiting behind it is declared lost.
	// Longer would only delay the caller's audio for rare events; loopback
	// and LANs reorder by one or two.
	reorderWindow = 4
	reorderSlots  = 8 // power of two > reorderWindow
	// maxSeqJump: a jump in sequence numbers beyond this (either way) is a
	// restarted stream, not loss or reordering: start over from it.
	maxSeqJump = 100
)

type pushResult uint8

const (
	pushInOrder   pushResult = iota
	pushReordered            // arrived after a packet that follows it, and was put back in place
	pushDuplicate
	pushLate // older than what was already released (a late copy, or a packet given up as lost)
)

// releaseFunc receives caller audio in sequence order; lost is the number of
// packets missing just before this one. It must not keep payload.
type releaseFunc = func(payload []byte, at time.Duration, lost int)

// reorder is the small window that puts caller audio back in sequence order
// (with wrap-around) before it is decoded for detection and recording. DTMF
// events do not go through it: they are reported on arrival.
type reorder struct {
	started bool
	next    uint16 // next sequence number to release
	slots   [reorderSlots]slot
	count   int           // packets waiting
	lost    int           // packets given up since the last release
	lastAt  time.Duration // arrival of the newest packet
}

type slot struct {
	used    bool
	skip    bool // taken by a packet that is not audio: no frame, no loss
	seq     uint16
	at      time.Duration
	payload []byte // allocated when a slot is first used: most calls never reorder
}

func (r *reorder) reset() {
	r.started, r.count, r.lost = false, 0, 0
	for i := range r.slots {
		r.slots[i].used = false
	}
}

func (r *reorder) pending() int { return r.count }

// push adds packet seq, releases what is now in order through rel and
// reports how the packet was taken.
func (r *reorder) push(seq uint16, payload []byte, at time.Duration, rel releaseFunc) pushResult {
	r.lastAt = at
	if !r.started {
		r.started, r.next = true, seq
	}
	d := int(int16(seq - r.next))
	if d < -maxSeqJump || d > maxSeqJump {
		// A new stream: what waits is released as is (its holes are not
		// losses of this stream), and this packet starts the sequence.
		r.drain(rel, false)
		r.next, d = seq, 0
	}
	if d < 0 {
		return pushLate
	}
	res := pushInOrder
	for i := range r.slots {
		if s := &r.slots[i]; s.used && int16(s.seq-seq) > 0 {
			res = pushReordered
			break
		}
	}
	// A hole with a full window behind it, or a packet beyond the slots:
	// give up on the head.
	for d >= reorderSlots || (d > 0 && r.count >= reorderWindow) {
		r.skipHead(rel) // may release several: recompute d
		d = int(int16(seq - r.next))
	}
	if d < 0 {
		return pushDuplicate // it was waiting already, and has just been released
	}
	if d > 0 {
		s := &r.slots[seq%reorderSlots]
		if s.used {
			return pushDuplicate
		}
		s.used, s.seq, s.at = true, seq, at
		s.payload = append(s.payload[:0], payload...)
		r.count++
		return res
	}
	r.release(payload, at, rel)
	r.releaseReady(rel)
	return res
}

// skip takes sequence number seq for a packet that is not audio (an RFC 4733
// event sent in the audio stream, as baresip does): without it the number
// would look like a lost audio packet, and the caller's audio would get
// 20 ms of silence for every event packet.
func (r *reorder) skip(seq uint16, at time.Duration, rel releaseFunc) {
	if !r.started {
		return
	}
	d := int(int16(seq - r.next))
	switch {
	case d < 0 || d >= reorderSlots:
		return
	case d == 0:
		r.next++
		r.releaseReady(rel)
		return
	}
	s := &r.slots[seq%reorderSlots]
	if s.used {
		return
	}
	s.used, s.skip, s.seq, s.at = true, true, seq, at
	s.payload = s.payload[:0]
	r.count++
}

// take frees a waiting slot and releases it, unless it was skipped.
func (r *reorder) take(s *slot, rel releaseFunc) {
	s.used = false
	r.count--
	if s.skip {
		s.skip = false
		r.next++
		return
	}
	r.release(s.payload, s.at, rel)
}

func (r *reorder) release(payload []byte, at time.Duration, rel releaseFunc) {
	lost := r.lost
	r.lost = 0
	r.next++
	rel(payload, at, lost)
}

// releaseReady releases waiting packets that are now in order.
func (r *reorder) releaseReady(rel releaseFunc) {
	for r.count > 0 {
		s := &r.slots[r.next%reorderSlots]
		if !s.used || s.seq != r.next {
			return
		}
		r.take(s, rel)
	}
}

// skipHead moves past the head: releases it if it is there, counts it lost
// if not, then releases what follows in order.
func (r *reorder) skipHead(rel releaseFunc) {
	s := &r.slots[r.next%reorderSlots]
	if s.used && s.seq == r.next {
		r.take(s, rel)
	} else {
		r.next++
		r.lost++
	}
	r.releaseReady(rel)
}

// flush releases everything waiting (the caller went quiet); the holes
// between are lost.
func (r *reorder) flush(rel releaseFunc) { r.drain(rel, true) }

func (r *reorder) drain(rel releaseFunc, holesLost bool) {
	for r.count > 0 {
		if s := &r.slots[r.next%reorderSlots]; !holesLost && (!s.used || s.seq != r.next) {
			r.next++
			continue
		}
		r.skipHead(rel)
	}
	r.lost = 0
}
