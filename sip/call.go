package sip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Why a call ended: context.Cause of the handler's context and Call.Err.
var (
	ErrRemoteHangup   = errors.New("sip: the far end hung up")
	ErrLocalHangup    = errors.New("sip: we hung up")
	ErrShutdown       = errors.New("sip: server shutting down")
	ErrNoAck          = errors.New("sip: no ACK for our 200 OK")
	ErrCancelled      = errors.New("sip: caller cancelled before answer")
	ErrSessionExpired = errors.New("sip: session timer expired without refresh")
	ErrBadAnswer      = errors.New("sip: unusable SDP answer")
)

type callState int

const (
	stateEarly     callState = iota // INVITE received/sent, no ACK yet
	stateConfirmed                  // ACKed: in progress
	stateEnded                      // BYE sent or received
)

// pendingInvite is an INVITE (initial or re-INVITE) whose 2xx awaits its ACK.
type pendingInvite struct {
	cseq uint32
	ack  chan *sip.Request
	done chan struct{} // closed when its ACK has arrived (or it was given up)
	once sync.Once
}

func newPending(cseq uint32) *pendingInvite {
	return &pendingInvite{cseq: cseq, ack: make(chan *sip.Request, 1), done: make(chan struct{})}
}

func (p *pendingInvite) finish() { p.once.Do(func() { close(p.done) }) }

// clearPending drops p as the pending INVITE of c.
func (c *Call) clearPending(p *pendingInvite) {
	c.mu.Lock()
	if c.pending == p {
		c.pending = nil
	}
	c.mu.Unlock()
	p.finish()
}

// Call is one SIP call, inbound (Server) or outbound (Dial).
//
// Its exported fields are set before the Handler runs (or Dial returns) and
// never change afterwards; Media is the media as first negotiated, later
// changes arrive on MediaChanges and CurrentMedia.
type Call struct {
	ID    string       // Call-ID
	From  string       // caller's URI (From header)
	To    string       // called URI (To header)
	Conn  *net.UDPConn // our RTP socket; closed when the call is over
	Media Media        // as negotiated at answer time

	ep       *endpoint
	log      *slog.Logger
	outbound bool
	ctx      context.Context
	cancel   context.CancelCauseFunc
	onEnd    func()
	endOnce  sync.Once
	inflight sync.WaitGroup // our requests awaiting their response

	// Read-only after setup.
	headers  []Header // INVITE's (inbound) or 2xx's (outbound) headers
	caller   string
	callerNm string
	called   string
	ln       *listener

	mu           sync.Mutex
	state        callState
	localTag     string
	remoteTag    string
	fromHdr      sip.FromHeader // our identity, in the From of our requests
	toHdr        sip.ToHeader   // theirs, in the To of our requests
	remoteTarget sip.Uri
	routes       []sip.Uri
	localSeq     uint32
	remoteSeq    uint32
	haveRemote   bool
	transport    string // UDP, TCP, TLS
	reliableDest string // TCP/TLS: reuse the connection the INVITE came on
	pending      *pendingInvite
	media        Media
	origin       origin
	rtp          local
	offer        []Codec // codecs of our last offer (late offer, outbound)
	byeHeaders   []Header
	refers       map[uint32]*referSub
	lastRefer    uint32
	sessTimer    *time.Timer
	sessExpires  int

	mediaMu   sync.Mutex
	mediaCh   chan Media
	digitCh   chan Digit
	transfers chan *Transfer
}

func randomTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b[:])
}

func randomSessionID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])>>2 + 1
}

func newCall(ep *endpoint, id string, outbound bool) *Call {
	c := &Call{
		ID:        id,
		ep:        ep,
		outbound:  outbound,
		log:       ep.log.With("call_id", id),
		mediaCh:   make(chan Media, 1),
		digitCh:   make(chan Digit, 64),
		transfers: make(chan *Transfer, 4),
		refers:    map[uint32]*referSub{},
	}
	// The version starts small: tools that read it as a double (SIPp,
	// JavaScript) cannot tell a bump of a 2^62 number.
	c.origin = origin{id: randomSessionID(), version: 1}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	return c
}

func (c *Call) dialogKey() string { return dialogKey(c.ID, c.localTag, c.remoteTag) }

// Caller is the caller's number or name for {{caller}}: the user part of
// P-Asserted-Identity, else of From, else From's display name.
func (c *Call) Caller() string { return c.caller }

// CallerName is the display name of the caller's From header.
func (c *Call) CallerName() string { return c.callerNm }

// Called is the number or name dialled: the user part of the Request-URI
// (inbound), else of To.
func (c *Call) Called() string { return c.called }

// Header returns the first value of a header of the INVITE (inbound calls)
// or of the 2xx answer (outbound calls); "" when absent.
func (c *Call) Header(name string) string {
	for _, h := range c.headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Outbound reports whether we placed the call (Dial).
func (c *Call) Outbound() bool { return c.outbound }

// Done is closed when the call is over (or, for inbound calls, when the
// server shuts down: the BYE follows once the handler returns).
func (c *Call) Done() <-chan struct{} { return c.ctx.Done() }

// Err says why the call ended (ErrRemoteHangup, ErrLocalHangup,
// ErrShutdown…); nil while it is in progress.
func (c *Call) Err() error { return context.Cause(c.ctx) }

// ByeHeader returns a header of the far end's BYE (for example
// X-Hotline-Outcome), "" when absent or when we hung up.
func (c *Call) ByeHeader(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.byeHeaders {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// CurrentMedia is the media in effect now.
func (c *Call) CurrentMedia() Media {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

// MediaChanges delivers the media each time a re-INVITE or UPDATE changes it
// (hold, unhold, new address, new codec). It holds only the latest change: a
// slow reader sees the newest state, never a stale one.
func (c *Call) MediaChanges() <-chan Media { return c.mediaCh }

// Digits delivers the digits received in SIP INFO (application/dtmf-relay,
// application/dtmf). It buffers 64 digits; beyond, digits are dropped and logged.
func (c *Call) Digits() <-chan Digit { return c.digitCh }

// Transfers delivers the REFERs the far end sends us (outbound calls made with
// DialConfig.AcceptTransfer; inbound calls refuse REFER with 405).
func (c *Call) Transfers() <-chan *Transfer { return c.transfers }

func headersOf(m interface{ Headers() []sip.Header }) []Header {
	hs := m.Headers()
	out := make([]Header, 0, len(hs))
	for _, h := range hs {
		out = append(out, Header{Name: h.Name(), Value: h.Value()})
	}
	return out
}

func toSipHeaders(hs []Header) ([]sip.Header, error) {
	out := make([]sip.Header, 0, len(hs))
	for _, h := range hs {
		if h.Name == "" || strings.ContainsAny(h.Name, ": \r\n") || strings.ContainsAny(h.Value, "\r\n") {
			return nil, fmt.Errorf("sip: bad header %q", h.Name)
		}
		switch strings.ToLower(h.Name) {
		case "via", "from", "to", "call-id", "cseq", "content-length", "max-forwards", "route", "contact", "content-type":
			return nil, fmt.Errorf("sip: header %q is managed by the dialog", h.Name)
		}
		out = append(out, sip.NewHeader(h.Name, h.Value))
	}
	return out, nil
}

// --- dialog ---

// checkCSeq applies RFC 3261 12.2.2: a request with a CSeq lower than the
// last one is out of order.
func (c *Call) checkCSeq(req *sip.Request) bool {
	cs := req.CSeq()
	if cs == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.haveRemote && cs.SeqNo < c.remoteSeq {
		return false
	}
	c.remoteSeq, c.haveRemote = cs.SeqNo, true
	return true
}

func (c *Call) contactHeader() *sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: "hotline", Host: c.ln.host, Port: c.ln.port}
	if c.ln.network != "udp" {
		u.UriParams = sip.HeaderParams{{K: "transport", V: c.ln.network}}
	}
	return &sip.ContactHeader{Address: u}
}

// newRequestLocked builds an in-dialog request (RFC 3261 12.2.1.1). c.mu is held.
func (c *Call) newRequestLocked(method sip.RequestMethod) *sip.Request {
	recipient := *c.remoteTarget.Clone()
	routes := c.routes
	if len(routes) > 0 && !routes[0].UriParams.Has("lr") {
		// Strict router: it goes in the Request-URI, the target at the end.
		recipient = *routes[0].Clone()
		routes = append(append([]sip.Uri{}, routes[1:]...), *c.remoteTarget.Clone())
	}
	req := sip.NewRequest(method, recipient)
	via := &sip.ViaHeader{
		ProtocolName:    "SIP",
		ProtocolVersion: "2.0",
		Transport:       c.transport,
		Host:            c.ln.host,
		Port:            c.ln.port,
		Params:          sip.NewParams(),
	}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	for i := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: *routes[i].Clone()})
	}
	maxfwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxfwd)
	from := c.fromHdr
	from.Params = c.fromHdr.Params.Clone()
	req.AppendHeader(&from)
	to := c.toHdr
	to.Params = c.toHdr.Params.Clone()
	req.AppendHeader(&to)
	cid := sip.CallIDHeader(c.ID)
	req.AppendHeader(&cid)
	if method != sip.ACK && method != sip.CANCEL {
		c.localSeq++
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: c.localSeq, MethodName: method})
	switch method {
	case sip.INVITE, sip.UPDATE, sip.REFER, sip.NOTIFY, sip.SUBSCRIBE, sip.ACK:
		req.AppendHeader(c.contactHeader())
	}
	req.AppendHeader(sip.NewHeader("User-Agent", c.ep.name))
	req.SetTransport(c.transport)
	if len(c.routes) == 0 && c.reliableDest != "" {
		req.SetDestination(c.reliableDest)
	}
	if c.transport == "UDP" {
		req.Laddr = sip.Addr{IP: c.ln.ip, Port: c.ln.port}
	}
	return req
}

// do sends an in-dialog request and waits for its final response.
func (c *Call) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	c.inflight.Add(1)
	defer c.inflight.Done()
	return c.ep.do(ctx, req)
}

// --- lifecycle ---

// end marks the call over: the dialog leaves the table and ctx is cancelled
// with cause (the first cause wins).
func (c *Call) end(cause error) {
	c.mu.Lock()
	c.state = stateEnded
	if c.sessTimer != nil {
		c.sessTimer.Stop()
		c.sessTimer = nil
	}
	c.mu.Unlock()
	c.ep.removeDialog(c)
	c.cancel(cause)
	c.endOnce.Do(func() {
		if c.onEnd != nil {
			c.onEnd()
		}
	})
}

func (c *Call) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateEnded
}

// Hangup ends the call with a BYE carrying headers (for example
// X-Hotline-Outcome: resolved) and waits for its response until ctx is done.
// The BYE is sent even if ctx is already cancelled. The call is over when
// Hangup returns, whatever the far end answered; hanging up an ended call is
// a no-op.
func (c *Call) Hangup(ctx context.Context, headers ...Header) error {
	return c.hangup(ctx, ErrLocalHangup, headers...)
}

func (c *Call) hangup(ctx context.Context, cause error, headers ...Header) error {
	extra, err := toSipHeaders(headers)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.state == stateEnded {
		c.mu.Unlock()
		return nil
	}
	c.state = stateEnded
	req := c.newRequestLocked(sip.BYE)
	c.mu.Unlock()
	for _, h := range extra {
		req.AppendHeader(h)
	}
	c.ep.removeDialog(c)
	res, err := c.do(ctx, req)
	c.end(cause)
	if err != nil {
		c.log.Debug("sip: BYE failed", "error", err)
		return fmt.Errorf("sip: BYE: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip: BYE answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// --- incoming in-dialog requests ---

func (c *Call) onAck(req *sip.Request) {
	c.mu.Lock()
	p := c.pending
	match := p != nil && req.CSeq() != nil && req.CSeq().SeqNo == p.cseq
	if match {
		c.pending = nil
	}
	c.mu.Unlock()
	if match {
		select {
		case p.ack <- req:
		default:
		}
		p.finish()
	}
}

// awaitAck sends a 2xx to an INVITE and retransmits it (T1, 2*T1 … T2)
// until its ACK arrives (RFC 3261 13.3.1.4), for 64*T1 at most.
func (c *Call) awaitAck(tx sip.ServerTransaction, res *sip.Response, p *pendingInvite) (*sip.Request, error) {
	if err := c.ep.send(tx, res); err != nil {
		return nil, err
	}
	interval := sip.T1
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	deadline := time.NewTimer(64 * sip.T1)
	defer deadline.Stop()
	for {
		select {
		case ack := <-p.ack:
			return ack, nil
		case ack := <-tx.Acks():
			// An ACK reusing the INVITE's branch (RFC 2543 peers) reaches
			// the INVITE transaction instead of our ACK handler.
			return ack, nil
		case <-retrans.C:
			if err := tx.Respond(res); err != nil {
				return nil, err
			}
			interval = min(2*interval, sip.T2)
			retrans.Reset(interval)
		case <-deadline.C:
			return nil, ErrNoAck
		case <-c.ctx.Done():
			return nil, context.Cause(c.ctx)
		}
	}
}

func (c *Call) onBye(req *sip.Request, tx sip.ServerTransaction) {
	hs := headersOf(req)
	c.mu.Lock()
	c.byeHeaders = hs
	c.state = stateEnded
	c.mu.Unlock()
	c.ep.respond(tx, req, 200, "OK", nil)
	c.log.Info("sip: far end hung up")
	c.end(ErrRemoteHangup)
}

func (c *Call) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	body := req.Body()
	if len(body) == 0 {
		// Empty INFO: a keep-alive some equipment sends.
		c.ep.respond(tx, req, 200, "OK", nil)
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if _, ok := isDTMFContentType(ct); !ok {
		c.ep.respond(tx, req, 415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	d, err := parseDTMFInfo(ct, body)
	if err != nil {
		c.ep.respond(tx, req, 400, "Bad Request", nil, warningHeader(c.ln.host, 399, err.Error()))
		return
	}
	d.At = time.Now()
	// Deliver before answering: the sender sends its next INFO only after our
	// 200, and sipgo handles each request on its own goroutine, so delivering
	// after the 200 could let the next digit overtake this one.
	select {
	case c.digitCh <- d:
		c.log.Debug("sip: INFO digit", "key", string(d.Key))
	default:
		c.log.Warn("sip: INFO digit dropped: nobody reads Digits()", "key", string(d.Key))
	}
	c.ep.respond(tx, req, 200, "OK", nil)
}

// setMedia installs m and reports it on MediaChanges if it differs.
func (c *Call) setMedia(m Media) {
	c.mu.Lock()
	changed := !m.equal(c.media)
	if changed {
		c.media = m
	}
	c.mu.Unlock()
	if !changed {
		return
	}
	c.log.Info("sip: media changed", "media", m.String())
	c.mediaMu.Lock()
	defer c.mediaMu.Unlock()
	for {
		select {
		case c.mediaCh <- m:
			return
		default:
			select {
			case <-c.mediaCh:
			default:
			}
		}
	}
}

// offerLocked renders an offer of our codecs, the one in use first.
func (c *Call) offerLocked() []byte {
	codecs := []Codec{PCMU, PCMA}
	if c.media.Codec.Name == "PCMA" {
		codecs = []Codec{PCMA, PCMU}
	}
	te := c.media.DTMFPayload
	if te == 0 {
		te = defaultTelephoneEvent
	}
	ptime := c.media.PTime
	if ptime == 0 {
		ptime = DefaultPTime
	}
	c.offer = codecs
	return c.origin.offerSDP(codecs, te, ptime, c.rtp)
}

func (c *Call) allowSupported() []sip.Header {
	return []sip.Header{c.ep.allowHeader(), sip.NewHeader("Supported", "timer")}
}

// onReoffer answers a re-INVITE or UPDATE: a new offer (hold, unhold, new
// address), a session refresh, or (re-INVITE without SDP) a request for our
// offer, whose answer comes in the ACK.
func (c *Call) onReoffer(req *sip.Request, tx sip.ServerTransaction) {
	isInvite := req.IsInvite()
	body, err := sdpBody(req)
	if err != nil {
		c.ep.respond(tx, req, 415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/sdp"))
		return
	}
	c.mu.Lock()
	if p := c.pending; p != nil && isInvite && req.CSeq().SeqNo > p.cseq {
		// A UAC ACKs before it re-INVITEs: the ACK is on its way (or being
		// handled in another goroutine). Give it a moment.
		c.mu.Unlock()
		select {
		case <-p.done:
		case <-time.After(4 * sip.T1):
		}
		c.mu.Lock()
	}
	switch {
	case c.state == stateEnded:
		c.mu.Unlock()
		c.ep.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	case c.pending != nil && (isInvite || body != nil):
		// RFC 3261 14.2 / RFC 3311 5.2: an offer while one is pending.
		c.mu.Unlock()
		c.ep.respond(tx, req, 500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1"))
		return
	}
	var (
		resBody  []byte
		newMedia *Media
		offered  bool
	)
	if body != nil {
		prev := c.media
		plan, err := negotiate(body, &prev)
		if err != nil {
			c.mu.Unlock()
			c.log.Info("sip: re-offer refused", "error", err)
			c.ep.sdpError(tx, req, c.ln.host, err)
			return
		}
		resBody = c.origin.answerSDP(plan, c.rtp)
		m := plan.media
		newMedia = &m
	} else if isInvite {
		resBody = c.offerLocked()
		offered = true
	}
	if ct := req.Contact(); ct != nil {
		c.remoteTarget = *ct.Address.Clone() // target refresh
	}
	var p *pendingInvite
	if isInvite {
		p = newPending(req.CSeq().SeqNo)
		c.pending = p
	}
	timerHdrs := c.refreshSessionTimerLocked(req)
	c.mu.Unlock()

	res := sip.NewResponseFromRequest(req, 200, "OK", resBody)
	if resBody != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(c.contactHeader())
	for _, h := range append(c.allowSupported(), timerHdrs...) {
		res.AppendHeader(h)
	}
	if newMedia != nil {
		c.setMedia(*newMedia)
	}
	if !isInvite {
		_ = c.ep.send(tx, res)
		return
	}
	ack, err := c.awaitAck(tx, res, p)
	c.clearPending(p)
	if err != nil {
		if errors.Is(err, ErrNoAck) {
			c.log.Warn("sip: no ACK for re-INVITE 200, hanging up")
			ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
			defer cancel()
			_ = c.hangup(ctx, ErrNoAck)
		}
		return
	}
	if offered {
		ans, err := sdpBody(ack)
		if err == nil && ans != nil {
			var m Media
			if m, err = parseAnswer(ans, c.offer); err == nil {
				c.setMedia(m)
				return
			}
		}
		c.log.Warn("sip: re-INVITE ACK carries no usable answer; media unchanged", "error", err)
	}
}

// --- session timers (RFC 4028), refresher = the far end ---

// minSessionExpires is our Min-SE (RFC 4028 minimum: 90 s).
var minSessionExpires = 90

// sessionExpires reads Session-Expires (or its compact form x) and whether
// the far end supports the extension.
func sessionExpires(req *sip.Request) (secs int, refresher string, supported bool) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x")
	}
	if h == nil {
		return 0, "", false
	}
	v, params, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0, "", false
	}
	for _, p := range strings.Split(params, ";") {
		if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	for _, name := range []string{"Supported", "k", "Require"} {
		for _, sh := range req.GetHeaders(name) {
			for _, tag := range strings.Split(sh.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(tag), "timer") {
					supported = true
				}
			}
		}
	}
	return secs, refresher, supported
}

// refreshSessionTimerLocked (re)arms the session timer for an INVITE,
// re-INVITE or UPDATE and returns the headers of our 2xx. We take part only
// when the far end supports timers and refreshes itself (refresher=uac or
// unset); otherwise we answer as a UA without RFC 4028, and the far end
// refreshes on its own if it wants to.
func (c *Call) refreshSessionTimerLocked(req *sip.Request) []sip.Header {
	if c.outbound {
		return nil
	}
	secs, refresher, supported := sessionExpires(req)
	if c.sessTimer != nil {
		c.sessTimer.Stop()
		c.sessTimer = nil
	}
	c.sessExpires = 0
	if !supported || secs == 0 || refresher == "uas" {
		return nil
	}
	secs = max(secs, minSessionExpires)
	c.sessExpires = secs
	c.sessTimer = time.AfterFunc(time.Duration(secs)*time.Second, func() {
		c.log.Warn("sip: session expired without refresh, hanging up", "session_expires", secs)
		ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
		defer cancel()
		_ = c.hangup(ctx, ErrSessionExpired, Header{Name: "Reason", Value: `SIP;cause=408;text="session expired"`})
	})
	return []sip.Header{
		sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", secs)),
		sip.NewHeader("Require", "timer"),
	}
}

// --- digits out ---

// SendDigit sends one digit in a SIP INFO (application/dtmf-relay) and
// waits for its response.
func (c *Call) SendDigit(ctx context.Context, d Digit) error {
	if _, ok := dtmfKey(string(d.Key)); !ok {
		return fmt.Errorf("sip: %q is not a DTMF key", d.Key)
	}
	c.mu.Lock()
	if c.state != stateConfirmed {
		c.mu.Unlock()
		return ErrCallEnded
	}
	req := c.newRequestLocked(sip.INFO)
	c.mu.Unlock()
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody(dtmfRelayBody(d))
	res, err := c.do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: INFO: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip: INFO answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}
