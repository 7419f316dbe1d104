// Package sip is hotline's SIP endpoint: it answers inbound calls, negotiates
// their media and hands each answered call to a Handler, which runs it (the
// call package). It also places calls: Dial for the test caller,
// `hotline call`, and Server.Dial for a bridge transfer's agent leg. It
// registers with upstreams and decides who may call (see below). It is built on github.com/emiago/sipgo (transport and
// transaction layers) and github.com/pion/sdp/v3 (SDP parsing), and imports
// nothing else of hotline: media parameters go out as a Media value plus a
// UDP socket obtained from a PortAllocator; the caller of this package turns
// them into an RTP session.
//
// # Serving calls
//
//	srv, err := sip.NewServer(sip.Config{
//		Listen:   []string{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"},
//		Advertise: "203.0.113.7",         // NAT: Contact, Via and SDP use it
//		MaxCalls: 500,                    // beyond: 503 + Retry-After
//		Ports:    allocator,              // one RTP socket per call
//		Handler:  sip.HandlerFunc(run),   // func(ctx, *sip.Call)
//		Logger:   logger,
//	})
//	go srv.Serve(ctx)                      // returns when ctx ends and calls have drained
//	<-srv.Ready()
//	...
//	srv.Drain()                            // SIGTERM: new calls get 503, calls go on
//
// The Handler runs once per answered call, in its own goroutine, after the
// caller's ACK. Its context is cancelled when the call ends: the caller's BYE
// (cause ErrRemoteHangup), our Hangup (ErrLocalHangup), a session timer
// expiry (ErrSessionExpired), or Serve's context ending (ErrShutdown: the BYE
// is sent when the handler returns). When the handler returns, the call is
// hung up if it is still up, and its RTP socket is closed: the handler must
// be done with Call.Conn by then. A panic in the handler is recovered, logged
// with the call ID and its stack, counted in Stats.Panics, and the call is
// hung up with "Reason: SIP;cause=500".
//
// A Call carries the Call-ID, From/To URIs, Caller() (P-Asserted-Identity
// user, else From user, else display name: {{caller}}), Called() (the
// Request-URI user), Header(name) (from the INVITE), the RTP socket Conn, and
// Media as negotiated. Changes arrive on MediaChanges() (latest value wins:
// a slow reader never sees a stale state), digits sent in SIP INFO on
// Digits(). Hangup(ctx, headers...) sends a BYE with extra headers such as
// X-Hotline-Outcome. Refer(ctx, target, headers...) performs a blind
// transfer and reports ReferAccepted, ReferProgress and one final ReferDone
// or ReferFailed on a channel (ReferTarget puts headers into the Refer-To URI
// so that the transfer target receives them). MediaChanges, Digits and
// Transfers are never closed: select on them together with the context (or
// Done).
//
// # Placing calls
//
// Dial(ctx, DialConfig{...}, "sip:ivr@127.0.0.1:5060") offers PCMU, PCMA and
// telephone-event/101 from a socket of its own, follows provisional
// responses (DialConfig.OnResponse sees them), ACKs the 200 and returns the
// same Call type. Done() closes when the call ends; Err() says why;
// ByeHeader("X-Hotline-Outcome") reads the far end's BYE. SendDigit sends
// INFO digits; with DialConfig.AcceptTransfer, REFERs are accepted and
// delivered on Transfers() (Transfer.Notify reports the new call's progress).
// The call's SIP endpoint and RTP socket are closed once it has ended.
//
// Server.Dial places a call from the server's own endpoint (same listener,
// Via and Contact as the calls it receives): a bridge transfer's agent leg.
// When the target's host is a registration's registrar, domain or outbound
// proxy, the call goes out as that registration's address and a 401/407 is
// answered with its credentials.
//
// # Registration
//
// Config.Register lists upstreams (a PBX extension, a trunk) to REGISTER
// with once Serve is ready: From/To the AOR, Contact the listener of the
// registrar's transport, digest (MD5, SHA-256, SHA-512-256, -sess; the
// challenge is kept so refreshes carry credentials at once with a growing
// nonce count; stale=true is answered without counting a failure), an
// optional outbound proxy (Route: <proxy;lr>). The granted expiry is taken
// from our Contact's expires, else Expires; 423 is answered with
// Min-Expires; refreshes come at 50-75 % of the grant and at least 5 s
// early. Failures back off from 1 s doubling to 5 minutes with jitter (a
// 503's Retry-After honoured). Shutdown sends Expires: 0 (2.5 s at most).
// Registrations() reports each one's state for /healthz.
//
// # Who may call
//
// Config.Security is checked before a request reaches a handler, in this
// order: a banned source's datagrams are dropped before sipgo parses them
// (a TCP/TLS connection of one is closed); a UDP datagram over
// MaxMessageSize gets 513 when its headers parse, else it is dropped; a
// scanner User-Agent gets 403 (even from a trusted source); more than
// MaxHeaders headers gets 400; an untrusted source over its rate
// (RateLimit/s with Burst, over INVITE, REGISTER and OPTIONS) is banned for
// BanFor and its requests go unanswered. Trusted sources (Allow, default
// loopback, plus the registrars and outbound proxies of Config.Register)
// pass and are never banned. In-dialog requests pass (a dialog exists only
// for an authorised call). From others, an INVITE gets 403, or with Others
// "digest" a 401 (SHA-256 then MD5 by default, DigestAlgorithms, qop=auth)
// whose nonce is HMAC-signed, valid 30 s and good for one answer (a replay
// gets a fresh 401; stale=true only when it expired), checked in constant
// time; wrong credentials get 403. Other out-of-dialog requests from them
// get 403. Source addresses come from the transport, never from Via. The
// tables are bounded (16384 sources, least recently seen evicted; spent
// nonces in a 65536-bit window). Stats.Security counts each outcome.
//
// # Offer/answer
//
// An INVITE's SDP offer is answered with PCMU or PCMA, whichever the offer
// lists first (a dynamic payload type mapped to PCMU/8000 or PCMA/8000 is
// honoured; a static 0 or 8 remapped to something else is not G.711);
// telephone-event/8000 on the payload type the offer used (16 kHz events are
// ignored); the offer's a=ptime (10-60 ms, rounded to 10 ms; a=maxptime
// below 20 ms is honoured; default 20 ms); and the mirrored direction
// (sendonly -> recvonly, recvonly -> sendonly, inactive -> inactive). An
// offer with c=0.0.0.0 (RFC 2543 hold) is answered recvonly with
// Media.Remote nil. Media.Direction is our direction; Media.CanSend says
// whether to send audio. Every m= line of the offer gets one in the answer,
// in order; streams other than the first usable audio one are rejected with
// port 0 (RFC 3264 section 6). Our o= line keeps its session id; its version
// starts at 1 and grows by one each time our description changes (a session
// refresh with an unchanged offer gets the same version; RFC 3264 section 8).
//
// No codec in common: 488 Not Acceptable Here with Warning 305 (no audio
// stream: 304; RTP/SAVP only: 302; a host name or multicast address in c=:
// 301). An SDP that does not parse, or has no c= for its audio: 400 with a
// Warning. A body that is not application/sdp (nor multipart with an SDP
// part, as SIP-I gateways send): 415 with Accept. SDP is parsed by
// pion/sdp, which follows RFC 4566's line order strictly; when it refuses an
// SDP, the lines are put in canonical order (and unknown types such as
// GB28181's y= dropped) and it is tried once more. A panic in the parser is
// turned into a 400. FuzzSDPAnswer checks that no offer panics and that every
// accepted offer yields an answer that parses and reads back to the
// negotiated media.
//
// Late offer: an INVITE without SDP is answered with our offer (PCMU, PCMA,
// telephone-event/101, sendrecv) in the 200; the caller's answer is read from
// its ACK. An ACK without a usable answer ends the call with a BYE (Reason:
// cause=488) before the handler runs. A re-INVITE without SDP is handled the
// same way (our offer lists the codec in use first).
//
// # SIP behaviour
//
//   - INVITE: 100 Trying at once, optionally 180 Ringing and a Config.Ring
//     wait, then 200 OK with the answer, Contact (Advertise host, listener
//     port, transport parameter for TCP/TLS), Allow and Supported. The 200 is
//     retransmitted (T1, doubling to T2) until its ACK, for 64*T1; no ACK ->
//     BYE, Stats.NoAck.
//   - ACK: confirms the call; only then does the handler run.
//   - CANCEL before the 200: 200 to the CANCEL and 487 to the INVITE (sipgo's
//     transaction layer), the handler is never called, the RTP socket is
//     closed, Stats.Cancelled. A CANCEL matching no INVITE: 481.
//   - BYE from the caller: 200, handler context cancelled. Our BYE
//     (Hangup) carries the headers given. A BYE that overtakes the ACK
//     still counts as an answered call: the handler runs with its context
//     already cancelled, so the call is recorded.
//   - OPTIONS: 200 with Allow, Accept: application/sdp, Accept-Encoding,
//     Accept-Language, Supported (load balancers probe with it); while
//     draining, 503 + Retry-After so that a dispatcher stops sending calls.
//     In-dialog OPTIONS: 200.
//   - re-INVITE and UPDATE with SDP: answered with our current description
//     (version bumped only if it changed); hold (a=sendonly, a=inactive,
//     c=0.0.0.0), unhold, a new address or codec are reported on
//     MediaChanges. The codec in use is kept when the new offer still lists
//     it. An unacceptable re-offer gets 488 and changes nothing. A re-INVITE
//     while another awaits its ACK: 500 + Retry-After (RFC 3261 14.2), after
//     a short wait for that ACK. A Contact in a re-INVITE/UPDATE refreshes
//     the remote target. UPDATE without SDP: 200 (session refresh).
//   - INFO: application/dtmf-relay ("Signal=5\r\nDuration=160"; Signal 10/11
//     are '*'/'#') and application/dtmf ("5") -> 200 and a Digit; any other
//     type -> 415 with Accept; an undecodable DTMF body -> 400; an empty INFO
//     (keep-alive) -> 200.
//   - REFER (ours): Refer-To, Referred-By, Contact and extra headers; 2xx ->
//     ReferAccepted; NOTIFY message/sipfrag 1xx -> ReferProgress, 2xx ->
//     ReferDone, 3xx-6xx -> ReferFailed; a REFER refused (4xx-6xx) or
//     unanswered (408), a transfer not finished when ctx ends (408; 2 minutes
//     without deadline) or a call ending first (0) -> ReferFailed. NOTIFYs
//     for no subscription: 481; Event other than refer: 489. A NOTIFY that
//     overtakes the 202 still yields ReferAccepted first.
//   - REFER to us: 405 on inbound calls (we transfer, we are not
//     transferred); accepted on outbound calls with AcceptTransfer.
//   - Requests for unknown dialogs: 481. Out-of-order CSeq in a dialog: 500.
//     Methods we do not implement (MESSAGE, SUBSCRIBE, REGISTER, PUBLISH,
//     PRACK…): 405 with Allow (from trusted sources; others get 403).
//   - Capacity (MaxCalls, counting calls being set up) or Drain: 503 with
//     Retry-After (Config.RetryAfter, default 30 s). No RTP port: 503 too.
//   - Malformed INVITEs that reach us: no Contact, From tag, To, Call-ID or
//     CSeq -> 400; a non-SIP Request-URI (tel:) -> 416; a Require we do not
//     support (100rel…) -> 420 with Unsupported; a Session-Expires below our
//     Min-SE -> 422 with Min-SE: 90; a merged request (same Call-ID, From tag
//     and CSeq on another branch) -> 482. None of them touches the call table
//     or allocates a port. Messages sipgo's parser cannot read (a From
//     without URI scheme, a non-numeric CSeq…) never reach us: sipgo logs and
//     drops them, so they get no response at all.
//   - Record-Route: copied into our responses; our in-dialog requests carry
//     the route set (UAS: the INVITE's Record-Route order; UAC: the 2xx's,
//     reversed) with the remote Contact as Request-URI (strict routers: RFC
//     3261 12.2.1.1). So calls through Kamailio work both ways.
//   - Session timers (RFC 4028): supported as the side that does not
//     refresh. When the caller says Supported: timer and Session-Expires with
//     refresher=uac (or none), the 200 carries Session-Expires
//     (refresher=uac) and Require: timer, and a call that gets no re-INVITE or
//     UPDATE before the interval ends is hung up (ErrSessionExpired). A caller
//     asking refresher=uas is answered as by a UA without the extension: it
//     may refresh on its own. We never send re-INVITE or UPDATE ourselves.
//   - Transports: UDP, TCP and TLS. Over TCP/TLS our in-dialog requests go
//     back on the connection the INVITE came on when there is no route set.
//     Responses follow Via (rport/received: RFC 3581).
//
// # Counters and leaks
//
// ActiveCalls counts the calls being set up or in progress; Stats adds
// totals (INVITEs, accepted, rejected, cancelled, not ACKed, completed,
// handler panics) and every response we generated by status code (first
// transmissions only). Counters is the same without maps, for metrics:
// requests by method and responses by code are fixed arrays of atomics
// (methods other than the known ones count as OTHER, so a scanner's
// inventions cannot grow them), counted without a lock. A call's resources (dialog entry, RTP socket, slot)
// are released on every path; the tests run 1000 calls (in Go and with
// SIPp) and check that ActiveCalls, the dialog table and open sockets return
// to zero and that, once Serve has returned, the goroutine count is back to
// its baseline.
//
// # sipgo notes
//
// The package uses sipgo's transport and transaction layers and its Client
// to send requests, and keeps its own dialog state (sipgo's DialogUA,
// DialogServerSession and DialogClientSession are not used):
// both the answering and the calling side share one in-dialog
// implementation (re-INVITE, UPDATE, INFO, REFER, NOTIFY), re-INVITE 2xx
// responses need the retransmission the dialog layer only does for the
// first INVITE, and REFER needs its CSeq known before it is sent to match
// NOTIFYs. sipgo hands every incoming message to its own goroutine, so
// messages of one dialog can be processed out of order (sipgo issue #306):
// this package tolerates a BYE or re-INVITE that overtakes an ACK and a
// NOTIFY that overtakes a 202; two INFOs sent back to back without waiting
// for the first 200 can still be seen in reverse order (the later CSeq
// wins and the earlier gets 500). Some sipgo code logs on the process's
// default slog logger (connection reference-count warnings at shutdown).
package sip
