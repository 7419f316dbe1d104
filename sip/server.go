package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Stats are a Server's counters since it was created.
type Stats struct {
	Active    int    `json:"active"`    // calls being set up or in progress
	Invites   uint64 `json:"invites"`   // new INVITEs (outside a dialog) received
	Accepted  uint64 `json:"accepted"`  // answered and ACKed: handed to the Handler
	Rejected  uint64 `json:"rejected"`  // new INVITEs we refused with a final 4xx-6xx
	Cancelled uint64 `json:"cancelled"` // CANCELled by the caller before the answer
	NoAck     uint64 `json:"no_ack"`    // answered but never ACKed
	Completed uint64 `json:"completed"` // accepted calls that have ended
	Panics    uint64 `json:"panics"`    // handler panics recovered

	Requests  map[string]uint64 `json:"requests"`  // requests received, by method (other methods than Counters counts apart: "OTHER")
	Responses map[int]uint64    `json:"responses"` // responses we generated, by status code (retransmissions not counted; codes outside 100-699: 0)

	Security SecurityStats `json:"security"` // the inbound policy: rejections, bans, digest authentication
}

// Server answers inbound calls.
type Server struct {
	cfg   Config
	specs []listenSpec
	ep    *endpoint
	log   *slog.Logger

	draining atomic.Bool
	started  atomic.Bool
	ready    chan struct{}

	mu       sync.Mutex
	calls    map[*Call]struct{}
	reserved int
	closing  bool
	invites  map[string]struct{} // Call-ID/From-tag/CSeq of INVITEs being set up (merged requests)
	cwg      sync.WaitGroup

	nInvites, nAccepted, nRejected, nCancelled, nNoAck, nCompleted, nPanics atomic.Uint64

	// Upstream registrations (register.go), set once Serve is ready.
	regMu     sync.Mutex
	regs      []*registerer
	regTiming regTiming
}

// NewServer checks cfg and prepares a server; Serve starts it.
func NewServer(cfg Config) (*Server, error) {
	specs, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "hotline"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 30 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	s := &Server{
		cfg:     cfg,
		specs:   specs,
		log:     cfg.Logger,
		ready:   make(chan struct{}),
		calls:   map[*Call]struct{}{},
		invites: map[string]struct{}{},
	}
	g, err := newGuard(cfg.Security, defaultRealm(cfg, specs), cfg.Logger)
	if err != nil {
		return nil, err
	}
	g.trustUpstreams(upstreamAddrs(cfg.Register, cfg.Logger))
	ep, err := newEndpoint(cfg.UserAgent, cfg.Logger, cfg.TLS)
	if err != nil {
		return nil, err
	}
	ep.setGuard(g)
	ep.newInvite = s.onNewInvite
	ep.draining = s.draining.Load
	ep.retryAfter = func() int { return max(1, int(s.cfg.RetryAfter.Round(time.Second)/time.Second)) }
	s.ep = ep
	return s, nil
}

// Ready is closed once Serve has bound every listener.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs returns the bound listener addresses (after Ready), in Listen order.
func (s *Server) Addrs() []net.Addr {
	select {
	case <-s.ready:
	default:
		return nil
	}
	out := make([]net.Addr, 0, len(s.ep.lns))
	for _, l := range s.ep.lns {
		out = append(out, l.addr())
	}
	return out
}

// Addr returns the "host:port" of the first listener of network ("udp",
// "tcp", "tls"), "" if none (or before Ready).
func (s *Server) Addr(network string) string {
	select {
	case <-s.ready:
	default:
		return ""
	}
	for _, l := range s.ep.lns {
		if l.network == network {
			return l.addr().String()
		}
	}
	return ""
}

// Drain stops taking calls: new INVITEs (and OPTIONS probes) get 503 with
// Retry-After; calls in progress continue.
func (s *Server) Drain() { s.draining.Store(true) }

// ActiveCalls counts the calls being set up or in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := s.Counters()
	st := Stats{
		Active:    c.Active,
		Invites:   c.Invites,
		Accepted:  c.Accepted,
		Rejected:  c.Rejected,
		Cancelled: c.Cancelled,
		NoAck:     c.NoAck,
		Completed: c.Completed,
		Panics:    c.Panics,
		Requests:  map[string]uint64{},
		Responses: map[int]uint64{},
		Security:  c.Security,
	}
	for i, n := range c.Requests {
		if n > 0 {
			st.Requests[MethodName(i)] = n
		}
	}
	for code, n := range c.Responses {
		if n > 0 {
			st.Responses[code] = n
		}
	}
	return st
}

// Serve binds every Listen address and serves SIP until ctx ends. Then it
// refuses new calls, cancels the context of every call, waits (up to
// ShutdownTimeout) for the handlers to return and their BYEs to be
// answered, closes the listeners and returns nil. A listener that cannot be
// bound makes it return that error at once. Serve runs once.
func (s *Server) Serve(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("sip: Serve called twice")
	}
	for _, spec := range s.specs {
		l, err := bindListener(spec, s.cfg.TLS, s.cfg.Advertise)
		if err != nil {
			s.ep.close()
			return fmt.Errorf("sip: listen %s:%s: %w", spec.network, spec.addr, err)
		}
		s.ep.lns = append(s.ep.lns, l)
	}
	var lwg sync.WaitGroup
	for _, l := range s.ep.lns {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			s.ep.serve(l)
		}()
		s.ep.waitServing(l)
		s.log.Info("sip: listening", "network", l.network, "addr", l.addr().String(), "advertise", l.host)
	}
	// Registrations start before Ready, so that Registrations() lists every
	// one as soon as the server is ready (registering, or failed to start).
	stopRegistrations := s.startRegistrations()
	close(s.ready)

	<-ctx.Done()
	s.draining.Store(true)
	// Unregister while the calls wind down, before the endpoint closes
	// (bounded: a registrar that is gone does not hold up the shutdown).
	unregistered := make(chan struct{})
	go func() {
		defer close(unregistered)
		stopRegistrations()
	}()
	s.mu.Lock()
	s.closing = true
	active := make([]*Call, 0, len(s.calls))
	for c := range s.calls {
		active = append(active, c)
	}
	s.mu.Unlock()
	s.log.Info("sip: shutting down", "active_calls", len(active))
	for _, c := range active {
		c.cancel(ErrShutdown)
	}
	done := make(chan struct{})
	go func() {
		s.cwg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.log.Warn("sip: calls still running after the shutdown timeout", "active_calls", s.ActiveCalls())
	}
	<-unregistered
	s.ep.close()
	lwg.Wait()
	return nil
}

// reserve takes a call slot. It fails when draining, full or shutting down.
func (s *Server) reserve() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing || s.draining.Load():
		return 503, "draining"
	case s.cfg.MaxCalls > 0 && s.reserved >= s.cfg.MaxCalls:
		return 503, "at capacity"
	}
	s.reserved++
	return 0, ""
}

func (s *Server) unreserve() {
	s.mu.Lock()
	s.reserved--
	s.mu.Unlock()
}

// track adds a call set up under a reservation; false when shutting down.
func (s *Server) track(c *Call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.calls[c] = struct{}{}
	s.cwg.Add(1)
	return true
}

// finish releases everything a tracked call holds.
func (s *Server) finish(c *Call) {
	c.end(ErrLocalHangup) // no-op when already ended
	if c.Conn != nil {
		_ = c.Conn.Close()
	}
	s.mu.Lock()
	delete(s.calls, c)
	s.reserved--
	s.mu.Unlock()
	s.cwg.Done()
}

func (s *Server) reject(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	s.nRejected.Add(1)
	s.ep.respond(tx, req, code, reason, nil, hdrs...)
}

func mergeKey(req *sip.Request) string {
	return fmt.Sprintf("%s\x00%s\x00%d", string(*req.CallID()), tagOf(req.From().Params), req.CSeq().SeqNo)
}

// unsupportedRequire lists the Require option tags we do not support.
func unsupportedRequire(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag != "" && !strings.EqualFold(tag, "timer") {
				out = append(out, tag)
			}
		}
	}
	return out
}

// onNewInvite sets up an inbound call: checks, capacity, SDP, RTP socket,
// 200 OK, ACK, then hands it to the Handler.
func (s *Server) onNewInvite(req *sip.Request, tx sip.ServerTransaction) {
	s.nInvites.Add(1)
	ln := s.ep.listenerFor(req, tx)
	bad := func(text string) {
		s.reject(tx, req, 400, "Bad Request", warningHeader(ln.host, 399, text))
	}
	switch {
	case req.CallID() == nil:
		bad("missing Call-ID")
		return
	case req.From() == nil || tagOf(req.From().Params) == "":
		bad("missing From tag")
		return
	case req.To() == nil:
		bad("missing To")
		return
	case req.CSeq() == nil:
		bad("missing CSeq")
		return
	case req.Contact() == nil:
		bad("missing Contact")
		return
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips":
	default:
		s.reject(tx, req, 416, "Unsupported URI Scheme")
		return
	}
	if tags := unsupportedRequire(req); len(tags) > 0 {
		s.reject(tx, req, 420, "Bad Extension", sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
		return
	}
	if secs, _, supported := sessionExpires(req); supported && secs > 0 && secs < minSessionExpires {
		s.reject(tx, req, 422, "Session Interval Too Small", sip.NewHeader("Min-SE", strconv.Itoa(minSessionExpires)))
		return
	}
	if code, why := s.reserve(); code != 0 {
		s.log.Info("sip: call refused", "call_id", callIDOf(req), "why", why)
		s.reject(tx, req, code, "Service Unavailable", s.ep.retryAfterHeader())
		return
	}
	handed := false
	defer func() {
		if !handed {
			s.unreserve()
		}
	}()
	key := mergeKey(req)
	s.mu.Lock()
	_, merged := s.invites[key]
	if !merged {
		s.invites[key] = struct{}{}
	}
	s.mu.Unlock()
	if merged {
		s.reject(tx, req, 482, "Loop Detected")
		return
	}
	defer func() {
		s.mu.Lock()
		delete(s.invites, key)
		s.mu.Unlock()
	}()

	cancelled := make(chan struct{})
	var cancelOnce sync.Once
	if !tx.OnCancel(func(*sip.Request) { cancelOnce.Do(func() { close(cancelled) }) }) {
		s.nCancelled.Add(1)
		return
	}
	_ = s.ep.send(tx, sip.NewResponseFromRequest(req, 100, "Trying", nil))

	offer, err := sdpBody(req)
	if err != nil {
		s.reject(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
		return
	}
	var plan *answerPlan
	if offer != nil {
		if plan, err = negotiate(offer, nil); err != nil {
			s.log.Info("sip: offer refused", "call_id", callIDOf(req), "error", err)
			s.nRejected.Add(1)
			s.ep.sdpError(tx, req, ln.host, err)
			return
		}
	}
	conn, err := s.cfg.Ports.Listen()
	if err != nil {
		s.log.Error("sip: no RTP port", "call_id", callIDOf(req), "error", err)
		s.reject(tx, req, 503, "Service Unavailable", s.ep.retryAfterHeader())
		return
	}

	c := newCall(s.ep, string(*req.CallID()), false)
	c.Conn = conn
	c.initInbound(req, ln, tx)
	if plan != nil {
		c.media = plan.media
	}
	if !s.track(c) {
		_ = conn.Close()
		s.reject(tx, req, 503, "Service Unavailable", s.ep.retryAfterHeader())
		return
	}
	handed = true // the reservation now belongs to the call: finish releases it
	s.ep.addDialog(c)
	c.log.Info("sip: incoming call", "from", c.From, "to", c.To, "caller", c.caller, "transport", c.transport)

	c.mu.Lock()
	var body []byte
	if plan != nil {
		body = c.origin.answerSDP(plan, c.rtp)
	} else {
		body = c.offerLocked() // late offer: the answer comes in the ACK
	}
	c.pending = newPending(req.CSeq().SeqNo)
	timerHdrs := c.refreshSessionTimerLocked(req)
	c.mu.Unlock()

	fail := func(cause error) {
		c.end(cause)
		s.finish(c)
	}
	if s.cfg.Ring > 0 {
		ringing := c.inviteResponse(req, 180, "Ringing", nil)
		_ = s.ep.send(tx, ringing)
		t := time.NewTimer(s.cfg.Ring)
		select {
		case <-t.C:
		case <-cancelled:
			t.Stop()
			s.nCancelled.Add(1)
			c.log.Info("sip: caller cancelled")
			fail(ErrCancelled)
			return
		case <-c.ctx.Done():
			t.Stop()
			s.reject(tx, req, 503, "Service Unavailable", s.ep.retryAfterHeader())
			fail(ErrShutdown)
			return
		}
	}
	res := c.inviteResponse(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range append(c.allowSupported(), timerHdrs...) {
		res.AppendHeader(h)
	}
	select {
	case <-cancelled:
		s.nCancelled.Add(1)
		c.log.Info("sip: caller cancelled")
		fail(ErrCancelled)
		return
	default:
	}
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	ack, err := c.awaitAck(tx, res, pending)
	c.clearPending(pending)
	if err != nil && errors.Is(err, ErrRemoteHangup) && plan != nil {
		// The caller's BYE overtook its ACK (they travel in separate
		// goroutines here, and may be reordered on the wire): the call
		// was answered. The handler still runs, with its context already
		// cancelled, so that the answered call is recorded.
		err = nil
	}
	if err != nil {
		switch {
		case errors.Is(err, sip.ErrTransactionCanceled) || isClosed(cancelled):
			s.nCancelled.Add(1)
			c.log.Info("sip: caller cancelled")
			fail(ErrCancelled)
		case errors.Is(err, ErrNoAck):
			s.nNoAck.Add(1)
			c.log.Warn("sip: no ACK for our 200 OK, hanging up")
			c.mu.Lock()
			c.state = stateConfirmed // RFC 3261 13.3.1.4: confirmed, then BYE
			c.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
			_ = c.hangup(ctx, ErrNoAck)
			cancel()
			fail(ErrNoAck)
		default:
			c.log.Info("sip: call ended before ACK", "error", err)
			fail(err)
		}
		return
	}
	if plan == nil {
		ans, err := sdpBody(ack)
		if err == nil && ans == nil {
			err = errors.New("the ACK carries no SDP answer")
		}
		var m Media
		if err == nil {
			m, err = parseAnswer(ans, c.offer)
		}
		if err != nil {
			c.log.Warn("sip: late-offer ACK without a usable answer, hanging up", "error", err)
			c.mu.Lock()
			c.state = stateConfirmed
			c.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
			_ = c.hangup(ctx, ErrBadAnswer, Header{Name: "Reason", Value: `SIP;cause=488;text="no usable SDP answer in ACK"`})
			cancel()
			fail(ErrBadAnswer)
			return
		}
		c.mu.Lock()
		c.media = m
		c.mu.Unlock()
	}
	c.mu.Lock()
	if c.state != stateEnded {
		c.state = stateConfirmed
	}
	c.Media = c.media
	c.mu.Unlock()
	s.nAccepted.Add(1)
	c.log.Info("sip: call answered", "media", c.Media.String())
	go s.run(c)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// run calls the Handler, recovers its panics, and hangs up what it leaves up.
func (s *Server) run(c *Call) {
	defer s.finish(c)
	defer s.nCompleted.Add(1)
	panicked := false
	func() {
		defer func() {
			if r := recover(); r != nil {
				panicked = true
				s.nPanics.Add(1)
				c.log.Error("sip: handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		s.cfg.Handler.ServeCall(c.ctx, c)
	}()
	if c.ended() {
		return
	}
	var hdrs []Header
	if panicked {
		hdrs = append(hdrs, Header{Name: "Reason", Value: `SIP;cause=500;text="internal error"`})
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(s.cfg.ShutdownTimeout, 64*sip.T1))
	defer cancel()
	if err := c.Hangup(ctx, hdrs...); err != nil {
		c.log.Debug("sip: BYE after handler", "error", err)
	}
}

// initInbound fills the dialog state from the INVITE (RFC 3261 12.1.1).
func (c *Call) initInbound(req *sip.Request, ln *listener, tx sip.ServerTransaction) {
	c.ln = ln
	c.localTag = randomTag()
	from, to := req.From(), req.To()
	c.remoteTag = tagOf(from.Params)
	c.From = from.Address.String()
	c.To = to.Address.String()
	c.headers = headersOf(req)
	c.callerNm = from.DisplayName
	c.caller = from.Address.User
	if pai := req.GetHeader("P-Asserted-Identity"); pai != nil {
		var u sip.Uri
		var params sip.HeaderParams
		if _, err := sip.ParseAddressValue(strings.TrimSpace(strings.Split(pai.Value(), ",")[0]), &u, &params); err == nil && u.User != "" {
			c.caller = u.User
		}
	}
	if c.caller == "" {
		c.caller = from.DisplayName
	}
	c.called = req.Recipient.User
	if c.called == "" {
		c.called = to.Address.User
	}
	ourFrom := to.AsFrom()
	ourFrom.Params = ourFrom.Params.Clone()
	ourFrom.Params.Add("tag", c.localTag)
	c.fromHdr = ourFrom
	c.toHdr = from.AsTo()
	c.remoteTarget = *req.Contact().Address.Clone()
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			c.routes = append(c.routes, *rr.Address.Clone())
		}
	}
	c.remoteSeq, c.haveRemote = req.CSeq().SeqNo, true
	c.localSeq = uint32(randomSessionID() & 0x7fff)
	c.transport = strings.ToUpper(req.Transport())
	if sip.IsReliable(c.transport) {
		c.reliableDest = req.Source()
	}
	ra := c.Conn.LocalAddr().(*net.UDPAddr)
	host := ln.host
	if !ln.advertised && ra.IP != nil && !ra.IP.IsUnspecified() {
		host = ra.IP.String()
	}
	c.rtp = local{host: host, port: ra.Port}
	c.state = stateEarly
}

// inviteResponse builds a response to the INVITE with our To tag and Contact.
func (c *Call) inviteResponse(req *sip.Request, code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	if to := res.To(); to != nil {
		to.Params.Add("tag", c.localTag)
	}
	res.AppendHeader(c.contactHeader())
	return res
}
