package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are a session's counters. Every datagram received is counted in
// PacketsIn and ends up in exactly one of AudioIn, EventsIn or a
// classification drop (Malformed, Version, RTCP, PayloadType, Source, SSRC):
//
//	PacketsIn == AudioIn + EventsIn + Dropped.Malformed + Dropped.Version +
//	             Dropped.RTCP + Dropped.PayloadType + Dropped.Source + Dropped.SSRC
//
// Audio packets that pass but come too late for the reorder window or twice
// are counted in AudioIn and again in Dropped.Late or Dropped.Duplicate.
type Stats struct {
	PacketsIn, BytesIn uint64
	AudioIn, EventsIn  uint64 // valid packets of the codec and of telephone-event
	Dropped            DropStats
	Lost               uint64        // caller audio packets that never came (silence in their place)
	Reordered          uint64        // packets that came out of order and were put back in place
	SSRCChanges        uint64        // the peer restarted a stream (new SSRC after a pause)
	Jitter             time.Duration // RFC 3550 interarrival jitter of the caller's audio
	ReadErrors         uint64

	PacketsOut, BytesOut uint64 // handed to the socket
	SendErrors           uint64 // the socket refused (full buffer, no route): the packet is lost
	LateFrames           uint64 // frames sent more than LateThreshold after their slot
	SkippedFrames        uint64 // frames the pacer dropped to catch up
	MaxLateness          time.Duration

	Digits        uint64 // digit events, all sources
	DigitsRFC4733 uint64 // … of them telephone-events (RFC 4733)
	DigitsInband  uint64 // … in-band tones
	DigitsINFO    uint64 // … SIP INFO (InjectDigit with dtmf.SourceINFO)
	EventsDropped uint64 // events dropped because the channel was full
	RecordDropped uint64 // frames the recorder missed because it fell recordBuffer (320 ms) behind
}

// DropStats counts dropped packets by reason.
type DropStats struct {
	Malformed   uint64 // unparseable: short, bad padding, extension or CSRC count, empty or oversized payload
	Version     uint64 // RTP version other than 2
	RTCP        uint64 // RTCP on the RTP port (rtcp-mux from a peer that was not offered it)
	PayloadType uint64 // neither the codec nor telephone-event
	Source      uint64 // from another address than the latched one
	SSRC        uint64 // another SSRC while the latched one is alive
	Duplicate   uint64 // audio packet received twice
	Late        uint64 // audio packet older than the reorder window
}

// Total is the number of dropped packets.
func (d DropStats) Total() uint64 {
	return d.Malformed + d.Version + d.RTCP + d.PayloadType + d.Source + d.SSRC + d.Duplicate + d.Late
}

type counters struct {
	packetsIn, bytesIn, audioIn, eventsIn                         atomic.Uint64
	dMalformed, dVersion, dRTCP, dPT, dSource, dSSRC, dDup, dLate atomic.Uint64
	lost, reordered, ssrcChanges, readErrors                      atomic.Uint64
	jitter                                                        atomic.Int64
	packetsOut, bytesOut, sendErrors, lateFrames, skipped         atomic.Uint64
	maxLate                                                       atomic.Int64
	digits, eventsDropped, recordDropped                          atomic.Uint64
	digitsRFC4733, digitsInband, digitsINFO                       atomic.Uint64
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	c := &s.st
	return Stats{
		PacketsIn: c.packetsIn.Load(), BytesIn: c.bytesIn.Load(),
		AudioIn: c.audioIn.Load(), EventsIn: c.eventsIn.Load(),
		Dropped: DropStats{
			Malformed: c.dMalformed.Load(), Version: c.dVersion.Load(), RTCP: c.dRTCP.Load(),
			PayloadType: c.dPT.Load(), Source: c.dSource.Load(), SSRC: c.dSSRC.Load(),
			Duplicate: c.dDup.Load(), Late: c.dLate.Load(),
		},
		Lost: c.lost.Load(), Reordered: c.reordered.Load(), SSRCChanges: c.ssrcChanges.Load(),
		Jitter: time.Duration(c.jitter.Load()), ReadErrors: c.readErrors.Load(),
		PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(), SendErrors: c.sendErrors.Load(),
		LateFrames: c.lateFrames.Load(), SkippedFrames: c.skipped.Load(), MaxLateness: time.Duration(c.maxLate.Load()),
		Digits: c.digits.Load(), DigitsRFC4733: c.digitsRFC4733.Load(), DigitsInband: c.digitsInband.Load(),
		DigitsINFO: c.digitsINFO.Load(), EventsDropped: c.eventsDropped.Load(), RecordDropped: c.recordDropped.Load(),
	}
}

// add adds o's counters to st (Jitter and MaxLateness, which do not add
// up, are left alone).
func (st *Stats) add(o Stats) {
	st.PacketsIn += o.PacketsIn
	st.BytesIn += o.BytesIn
	st.AudioIn += o.AudioIn
	st.EventsIn += o.EventsIn
	d, od := &st.Dropped, o.Dropped
	d.Malformed += od.Malformed
	d.Version += od.Version
	d.RTCP += od.RTCP
	d.PayloadType += od.PayloadType
	d.Source += od.Source
	d.SSRC += od.SSRC
	d.Duplicate += od.Duplicate
	d.Late += od.Late
	st.Lost += o.Lost
	st.Reordered += o.Reordered
	st.SSRCChanges += o.SSRCChanges
	st.ReadErrors += o.ReadErrors
	st.PacketsOut += o.PacketsOut
	st.BytesOut += o.BytesOut
	st.SendErrors += o.SendErrors
	st.LateFrames += o.LateFrames
	st.SkippedFrames += o.SkippedFrames
	st.Digits += o.Digits
	st.DigitsRFC4733 += o.DigitsRFC4733
	st.DigitsInband += o.DigitsInband
	st.DigitsINFO += o.DigitsINFO
	st.EventsDropped += o.EventsDropped
	st.RecordDropped += o.RecordDropped
}

// Totals are the counters of every session a Pacer has run, added up: the
// sessions that ended and the ones in progress. They only grow, so they
// suit counters in a metrics system; reading them costs the media path
// nothing (each session keeps its own counters, as ever, and the pacer
// reads them when asked).
type Totals struct {
	Sessions int    // sessions in progress (started, not yet closed)
	Started  uint64 // sessions started
	// Stats are the sessions' counters added up. Jitter and MaxLateness,
	// which do not add up, are zero: Pacer.Lateness has the distribution.
	Stats
}

// sessionSet is a pacer's account of its sessions, for Totals: a session is
// in live from Start to Close, then its final counters move to retired, in
// one step under mu, so a total never goes back.
type sessionSet struct {
	mu      sync.Mutex
	live    map[*Session]struct{}
	retired Stats
	started uint64
}

// track is called by Session.Start.
func (p *Pacer) track(s *Session) {
	ss := &p.sessions
	ss.mu.Lock()
	if ss.live == nil {
		ss.live = map[*Session]struct{}{}
	}
	ss.live[s] = struct{}{}
	ss.started++
	ss.mu.Unlock()
}

// retire is called by Session.Close once the session's goroutines are done
// (nothing counts packets any more).
func (p *Pacer) retire(s *Session) {
	ss := &p.sessions
	ss.mu.Lock()
	if _, ok := ss.live[s]; ok {
		delete(ss.live, s)
		ss.retired.add(s.Stats())
	}
	ss.mu.Unlock()
}

// Totals returns the counters of the pacer's sessions, ended and in
// progress, added up.
func (p *Pacer) Totals() Totals {
	ss := &p.sessions
	ss.mu.Lock()
	defer ss.mu.Unlock()
	t := Totals{Sessions: len(ss.live), Started: ss.started, Stats: ss.retired}
	for s := range ss.live {
		t.add(s.Stats())
	}
	return t
}
