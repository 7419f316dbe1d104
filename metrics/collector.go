package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/sip"
)

// collector reads the Sources' counters on every scrape (the pull model:
// the SIP and RTP paths only add to their own atomics).
type collector struct {
	src Sources

	// SIP
	sipRequests, sipResponses, sipInvites, sipInviteResults, sipCompleted, sipPanics *prometheus.Desc
	sipRejected, sipDroppedBanned, sipChallenges, sipAuth, sipBans, sipBanned        *prometheus.Desc

	// RTP and DTMF
	rtpSessions, rtpSessionsStarted, rtpPackets, rtpBytes, rtpDropped, rtpLost *prometheus.Desc
	rtpSendErrors, rtpLateFrames, rtpSkippedFrames, rtpLateness, rtpSSRC       *prometheus.Desc
	dtmfDigits, mediaEventsDropped, recordingDropped                           *prometheus.Desc

	// Speech
	speechFallbacks, speechBargeIns, speechFramesDropped, promptCache *prometheus.Desc
}

// sipMethods are the label values of hotline_sip_requests_total.
var sipMethods = func() []string {
	out := make([]string, sip.NumMethods)
	for i := range out {
		out[i] = sip.MethodName(i)
	}
	return out
}()

// commonCodes are always exposed (zero until sent), so that rate() and
// alerts on them work from the start; other codes appear once sent.
var commonCodes = []int{100, 180, 183, 200, 401, 403, 404, 405, 407, 480, 481, 486, 487, 488, 500, 503}

// securityReasons are the reasons the inbound policy refuses requests
// (sip.SecurityStats.Rejected); others are summed as "other".
var securityReasons = []string{"scanner", "not_allowed", "auth_failed", "too_large", "too_many_headers", "other"}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &collector{
		src: src,

		sipRequests:      d("hotline_sip_requests_total", "SIP requests received, by method (unknown methods: OTHER).", "method"),
		sipResponses:     d("hotline_sip_responses_total", "SIP responses hotline generated, by status code (retransmissions not counted; codes outside 100-699: other).", "code"),
		sipInvites:       d("hotline_sip_invites_total", "New INVITEs (outside a dialog) received."),
		sipInviteResults: d("hotline_sip_invite_results_total", "What became of new INVITEs: accepted (answered and ACKed), rejected (a final 4xx-6xx), cancelled by the caller, no_ack (answered, never ACKed).", "result"),
		sipCompleted:     d("hotline_sip_calls_completed_total", "Accepted calls that have ended."),
		sipPanics:        d("hotline_sip_handler_panics_total", "Call handler panics recovered (the call ended, the server went on)."),
		sipRejected:      d("hotline_sip_security_rejected_total", "Requests the inbound policy refused, by reason.", "reason"),
		sipDroppedBanned: d("hotline_sip_security_dropped_total", "Requests dropped unanswered: from a banned source, or the one that got it banned."),
		sipChallenges:    d("hotline_sip_digest_challenges_total", "401 digest challenges sent."),
		sipAuth:          d("hotline_sip_digest_auth_total", "INVITEs with digest credentials, by result: ok, or failed (403).", "result"),
		sipBans:          d("hotline_sip_bans_total", "Sources banned for exceeding the rate limit."),
		sipBanned:        d("hotline_sip_banned_sources", "Sources banned right now."),

		rtpSessions:        d("hotline_rtp_sessions", "Media sessions in progress."),
		rtpSessionsStarted: d("hotline_rtp_sessions_started_total", "Media sessions started (a call, or a bridge's agent leg)."),
		rtpPackets:         d("hotline_rtp_packets_total", "RTP packets, by direction: in (every datagram received on an RTP port), out (handed to the socket).", "direction"),
		rtpBytes:           d("hotline_rtp_bytes_total", "RTP bytes (UDP payloads), by direction.", "direction"),
		rtpDropped:         d("hotline_rtp_dropped_packets_total", "Received RTP packets dropped, by reason.", "reason"),
		rtpLost:            d("hotline_rtp_lost_packets_total", "Caller audio packets that never came (silence played in their place)."),
		rtpSSRC:            d("hotline_rtp_ssrc_changes_total", "Peers that restarted their stream (a new SSRC after a pause)."),
		rtpSendErrors:      d("hotline_rtp_send_errors_total", "RTP packets the socket refused (full buffer, no route): lost."),
		rtpLateFrames:      d("hotline_rtp_late_frames_total", "Outbound frames sent more than 2 ms after their slot."),
		rtpSkippedFrames:   d("hotline_rtp_skipped_frames_total", "Outbound frames the pacer dropped to catch up after waking very late."),
		rtpLateness:        d("hotline_rtp_send_lateness_seconds", "How late each outbound frame left, after its slot (negative: early)."),
		dtmfDigits:         d("hotline_dtmf_digits_total", "Key presses received, by source: rfc4733 (telephone-event), inband (tones), info (SIP INFO).", "source"),
		mediaEventsDropped: d("hotline_media_events_dropped_total", "Media events (digits, playback ends) dropped because a call fell behind reading them."),
		recordingDropped:   d("hotline_recording_dropped_frames_total", "Frames call recordings missed because the recorder fell behind."),

		speechFallbacks:     d("hotline_speech_fallbacks_total", "Questions switched to the keypad because speech recognition could not serve them, by cause: busy, unavailable, timeout, error, no_recognizer.", "cause"),
		speechBargeIns:      d("hotline_speech_barge_ins_total", "Prompts abandoned because the caller spoke over them."),
		speechFramesDropped: d("hotline_speech_dropped_frames_total", "Caller audio frames a call could not take in time for the speech detector."),
		promptCache:         d("hotline_prompt_cache_requests_total", "Prompt cache look-ups, by result: hit (memory or disk), render (synthesised), error (the engine failed).", "result"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.sipRequests, c.sipResponses, c.sipInvites, c.sipInviteResults, c.sipCompleted, c.sipPanics,
		c.sipRejected, c.sipDroppedBanned, c.sipChallenges, c.sipAuth, c.sipBans, c.sipBanned,
		c.rtpSessions, c.rtpSessionsStarted, c.rtpPackets, c.rtpBytes, c.rtpDropped, c.rtpLost, c.rtpSSRC,
		c.rtpSendErrors, c.rtpLateFrames, c.rtpSkippedFrames, c.rtpLateness,
		c.dtmfDigits, c.mediaEventsDropped, c.recordingDropped,
		c.speechFallbacks, c.speechBargeIns, c.speechFramesDropped, c.promptCache,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.SIP != nil {
		c.collectSIP(ch, c.src.SIP())
	}
	if c.src.Media != nil {
		c.collectMedia(ch, c.src.Media())
	}
	if c.src.Lateness != nil {
		c.collectLateness(ch, c.src.Lateness(latenessBounds))
	}
	if c.src.Speech != nil {
		s := c.src.Speech()
		for _, f := range []struct {
			cause string
			n     uint64
		}{{"busy", s.FallbackBusy}, {"unavailable", s.FallbackUnavailable}, {"timeout", s.FallbackTimeout},
			{"error", s.FallbackError}, {"no_recognizer", s.NoRecognizer}} {
			counter(ch, c.speechFallbacks, f.n, f.cause)
		}
		counter(ch, c.speechBargeIns, s.BargeIns)
		counter(ch, c.speechFramesDropped, s.FramesDropped)
	}
	if c.src.PromptCache != nil {
		s := c.src.PromptCache()
		counter(ch, c.promptCache, uint64(max(s.Hits, 0)), "hit")
		counter(ch, c.promptCache, uint64(max(s.Renders, 0)), "render")
		counter(ch, c.promptCache, uint64(max(s.Errors, 0)), "error")
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, n uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (c *collector) collectSIP(ch chan<- prometheus.Metric, s sip.Counters) {
	for i, m := range sipMethods {
		counter(ch, c.sipRequests, s.Requests[i], m)
	}
	for _, code := range commonCodes {
		counter(ch, c.sipResponses, s.Responses[code], strconv.Itoa(code))
	}
	for code, n := range s.Responses {
		if n == 0 || code == 0 || isCommon(code) {
			continue
		}
		counter(ch, c.sipResponses, n, strconv.Itoa(code))
	}
	if s.Responses[0] > 0 {
		counter(ch, c.sipResponses, s.Responses[0], "other")
	}
	counter(ch, c.sipInvites, s.Invites)
	counter(ch, c.sipInviteResults, s.Accepted, "accepted")
	counter(ch, c.sipInviteResults, s.Rejected, "rejected")
	counter(ch, c.sipInviteResults, s.Cancelled, "cancelled")
	counter(ch, c.sipInviteResults, s.NoAck, "no_ack")
	counter(ch, c.sipCompleted, s.Completed)
	counter(ch, c.sipPanics, s.Panics)

	sec := s.Security
	rejected := make([]uint64, len(securityReasons))
	for reason, n := range sec.Rejected {
		rejected[index(securityReasons, reason)] += n
	}
	for i, r := range securityReasons {
		counter(ch, c.sipRejected, rejected[i], r)
	}
	counter(ch, c.sipDroppedBanned, sec.DroppedBanned)
	counter(ch, c.sipChallenges, sec.Challenges)
	counter(ch, c.sipAuth, sec.AuthOK, "ok")
	counter(ch, c.sipAuth, sec.AuthFailed, "failed")
	counter(ch, c.sipBans, sec.Bans)
	gauge(ch, c.sipBanned, float64(sec.BannedNow))
}

func isCommon(code int) bool {
	for _, c := range commonCodes {
		if c == code {
			return true
		}
	}
	return false
}

func (c *collector) collectMedia(ch chan<- prometheus.Metric, t media.Totals) {
	gauge(ch, c.rtpSessions, float64(t.Sessions))
	counter(ch, c.rtpSessionsStarted, t.Started)
	counter(ch, c.rtpPackets, t.PacketsIn, "in")
	counter(ch, c.rtpPackets, t.PacketsOut, "out")
	counter(ch, c.rtpBytes, t.BytesIn, "in")
	counter(ch, c.rtpBytes, t.BytesOut, "out")
	d := t.Dropped
	for _, r := range []struct {
		reason string
		n      uint64
	}{{"malformed", d.Malformed}, {"version", d.Version}, {"rtcp", d.RTCP}, {"payload_type", d.PayloadType},
		{"source", d.Source}, {"ssrc", d.SSRC}, {"duplicate", d.Duplicate}, {"late", d.Late}} {
		counter(ch, c.rtpDropped, r.n, r.reason)
	}
	counter(ch, c.rtpLost, t.Lost)
	counter(ch, c.rtpSSRC, t.SSRCChanges)
	counter(ch, c.rtpSendErrors, t.SendErrors)
	counter(ch, c.rtpLateFrames, t.LateFrames)
	counter(ch, c.rtpSkippedFrames, t.SkippedFrames)
	other := t.Digits - min(t.Digits, t.DigitsRFC4733+t.DigitsInband+t.DigitsINFO)
	counter(ch, c.dtmfDigits, t.DigitsRFC4733, "rfc4733")
	counter(ch, c.dtmfDigits, t.DigitsInband, "inband")
	counter(ch, c.dtmfDigits, t.DigitsINFO, "info")
	counter(ch, c.dtmfDigits, other, "other")
	counter(ch, c.mediaEventsDropped, t.EventsDropped)
	counter(ch, c.recordingDropped, t.RecordDropped)
}

func (c *collector) collectLateness(ch chan<- prometheus.Metric, l media.Lateness) {
	buckets := make(map[float64]uint64, len(l.Bounds))
	for i, b := range l.Bounds {
		if i < len(l.Cumulative) {
			buckets[b.Seconds()] = l.Cumulative[i]
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.rtpLateness, l.Count, l.Sum.Seconds(), buckets)
}
