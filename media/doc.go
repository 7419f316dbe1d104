// Package media is the media plane of a call: RTP in and out over UDP, G.711,
// DTMF (RFC 4733, in-band tones and SIP INFO digits, in subpackage dtmf),
// paced playback with barge-in, and recording. It imports nothing else of
// hotline's.
//
// # Pieces
//
//   - Ports hands out one UDP socket per call from a port range.
//   - Pacer sends the frames of all sessions on an absolute schedule. Its
//     Totals add up the counters of every session it has run (for metrics:
//     read when asked, nothing added to the packet paths) and Lateness is
//     the distribution of how late frames left.
//   - Session is one call: Start, Play/StopPlayback, Events, SetRemote
//     (re-INVITE), SetSending (hold), SendDigit (RFC 4733 out, for the test
//     caller), InjectDigit (SIP INFO in), Stats, Close.
//   - Codec encodes and decodes G.711 (PCMU, PCMA) through tables built
//     from zaf/g711.
//   - Source is audio to play (NewPCMSource for a buffer); Recorder receives
//     both directions per tick; Config.CallerAudio taps the caller's audio in
//     order (for VAD and speech recognition).
//
// # Goroutines
//
// A Session has exactly one goroutine of its own, the receive loop (a
// blocking read with a deadline). Sending is done by the Pacer's shards,
// a fixed number of goroutines (GOMAXPROCS by default) shared by all calls:
// each owns a deadline-ordered heap of sessions, sleeps until the earliest
// deadline and sends every frame then due. Close stops the receive loop,
// leaves the pacer and returns only when nothing of the session runs.
//
// # Outbound stream
//
// A session sends one packet per ptime from Start to Close, whatever
// happens: the playing Source's audio, or the codec's silence byte (0xFF
// μ-law, 0xD5 A-law) when nothing plays. SSRC, first sequence number and
// first timestamp are random (crypto/rand); the first packet has the marker
// bit; each tick adds one frame of samples to the timestamp, also in
// silence and on hold. Frame n is due at start+n·ptime on the pacer's clock,
// so no error accumulates. A late shard sends what is due at once, at most
// three frames, and skips older ones (counted; their timestamps are used up,
// so the peer sees a gap, not a drift). Frames are sent up to 0.5 ms early
// to compensate for timer wake-ups that run up to 1 ms late. Sends never
// block: a full socket buffer loses that packet (Stats.SendErrors) rather
// than stall the other calls of the shard.
//
// # Inbound checks
//
// Each datagram is parsed with pion/rtp and dropped, with its reason
// counted in Stats.Dropped, when it is short or malformed (bad padding,
// extension or CSRC count, truncated, empty or oversized payload), not RTP
// version 2, RTCP, of a payload type other than the codec or telephone-event,
// or, once the session has latched, from another address or another SSRC.
// The session latches on the first valid packet: with Config.Latch it then
// sends there (symmetric RTP, for callers behind NAT); without, it keeps
// sending to Config.Remote but still accepts only that source. SetRemote
// with a new address latches again. The audio SSRC and the telephone-event
// SSRC are latched separately (some senders, SIPp's DTMF captures among
// them, use a second SSRC for events), and a new SSRC replaces a latched
// one after the old has been silent for 100 ms (a peer restarting its
// stream); interleaved with a live stream it is dropped.
//
// Caller audio passes a reorder window of 4 packets (sequence numbers with
// wrap-around) and is then decoded, with silence for lost packets, for the
// in-band DTMF detector (only when no telephone-event was negotiated), the
// CallerAudio tap and the Recorder. RFC 4733 packets skip the window: a digit
// is reported on the first packet of its event.
//
// # Events
//
// Events (digits of every source, playback done, RTP timeout) go to a
// buffered channel (32) that never blocks the media path: when full, the
// oldest event is dropped and counted. Play returns an ID that the
// EventPlayDone of that playback carries; a stopped or replaced playback
// sends none.
//
// # Failures
//
// Nothing a peer sends can panic a session (FuzzRTPPacket, FuzzReceivePath).
// Code the caller plugs in is contained to its call: a panicking Source is
// stopped and logged (it runs on a shard shared with other calls); a
// panicking Recorder or CallerAudio closes its session (Events closes).
//
// # Recording
//
// The Recorder gets one frame per tick of the outbound clock with what the
// caller sent in that tick and what the bot sent. It runs on the session's
// receive goroutine, 100 ms behind real time so late packets are in place,
// never on a pacer shard: a slow disk delays this call's recording only.
package media
