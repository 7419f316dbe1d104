package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DialConfig configures an outbound call (the test caller, `hotline call`).
type DialConfig struct {
	// Listen is our SIP address, "udp:127.0.0.1:0" style. By default the
	// target's transport on 127.0.0.1 (loopback targets) or 0.0.0.0, any port.
	Listen string
	// TLS configures sips:/transport=tls targets.
	TLS *tls.Config
	// Advertise is the host put in Contact, Via and SDP (default as Config.Advertise).
	Advertise string
	// From is our URI (default sip:caller@<our host>); DisplayName its display name.
	From        string
	DisplayName string
	// Ports gives the RTP socket (default: any free UDP port on our SIP address).
	Ports PortAllocator
	// Codecs are offered in this order (default PCMU, PCMA), with
	// telephone-event/8000 on payload type 101.
	Codecs []Codec
	// PTime is the offered a=ptime (default 20 ms).
	PTime time.Duration
	// Headers are added to the INVITE.
	Headers []Header
	// NoTelephoneEvent leaves telephone-event out of the offer: the far end
	// must then listen for keys as in-band tones (a gateway without RFC 4733).
	NoTelephoneEvent bool
	// AcceptTransfer answers the far end's REFERs with 202 and delivers them
	// on Call.Transfers; without it REFER gets 405.
	AcceptTransfer bool
	// OnResponse, when set, sees every response to the INVITE (100, 180, 183, 200, 486…).
	OnResponse func(code int, reason string)
	// AuthUser and AuthPassword answer a 401/407 to the INVITE (digest:
	// MD5, SHA-256); for Server.Dial they take the place of a registration's
	// credentials.
	AuthUser, AuthPassword string
	UserAgent              string
	Logger                 *slog.Logger
}

// DialError is a call the far end refused (its final non-2xx response).
type DialError struct {
	Code   int
	Reason string
}

func (e *DialError) Error() string { return fmt.Sprintf("sip: call refused: %d %s", e.Code, e.Reason) }

// parseTarget accepts a SIP URI or a bare host:port.
func parseTarget(target string) (sip.Uri, string, error) {
	var u sip.Uri
	if !strings.Contains(target, ":") || (!strings.HasPrefix(target, "sip:") && !strings.HasPrefix(target, "sips:")) {
		target = "sip:" + target
	}
	if err := sip.ParseUri(target, &u); err != nil {
		return u, "", fmt.Errorf("sip: target %q: %w", target, err)
	}
	if u.Host == "" {
		return u, "", fmt.Errorf("sip: target %q has no host", target)
	}
	network := "udp"
	if t, ok := u.UriParams.Get("transport"); ok {
		network = strings.ToLower(t)
	}
	if strings.EqualFold(u.Scheme, "sips") {
		network = "tls"
	}
	switch network {
	case "udp", "tcp", "tls":
	default:
		return u, "", fmt.Errorf("sip: target %q: transport %q not supported", target, network)
	}
	return u, network, nil
}

// Dial places a call to target ("sip:ivr@127.0.0.1:5080", ";transport=tcp"
// for TCP) with an SDP offer of DialConfig.Codecs and telephone-event/101
// on an RTP socket of its own, follows the provisional responses, ACKs the
// 200 and returns the call, its negotiated Media and socket.
//
// ctx bounds the call setup only: when it ends before the answer, a CANCEL
// is sent (once a provisional response has arrived) and Dial returns
// ctx.Err(). A final non-2xx answer is a *DialError. An answer with no usable
// SDP is ACKed, hung up and returned as an error.
//
// The call owns a SIP endpoint and its RTP socket: both are closed once the
// call has ended (Done). The far end's hang-up shows as Err() ==
// ErrRemoteHangup with its BYE's headers in ByeHeader; Hangup ends it from
// our side; SendDigit sends INFO digits.
func Dial(ctx context.Context, cfg DialConfig, target string) (*Call, error) {
	turi, network, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	dialDefaults(&cfg, "hotline-caller")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	spec := listenSpec{network: network, addr: "0.0.0.0:0"}
	if ip := net.ParseIP(turi.Host); ip != nil && ip.IsLoopback() {
		spec.addr = net.JoinHostPort(ip.String(), "0")
	}
	if cfg.Listen != "" {
		if spec, err = parseListen(cfg.Listen); err != nil {
			return nil, err
		}
	}
	if spec.network == "tls" && cfg.TLS == nil {
		cfg.TLS = &tls.Config{ServerName: turi.Host}
	}
	extra, err := toSipHeaders(cfg.Headers)
	if err != nil {
		return nil, err
	}

	ep, err := newEndpoint(cfg.UserAgent, cfg.Logger, cfg.TLS)
	if err != nil {
		return nil, err
	}
	ep.acceptRefer = cfg.AcceptTransfer
	if ep.acceptRefer {
		ep.allow = allowBase + ", REFER"
	}
	ln, err := bindListener(spec, cfg.TLS, cfg.Advertise)
	if err != nil {
		ep.close()
		return nil, fmt.Errorf("sip: listen: %w", err)
	}
	ep.lns = []*listener{ln}
	served := make(chan struct{})
	go func() {
		defer close(served)
		ep.serve(ln)
	}()
	release := func() {
		ep.close()
		<-served
	}
	ep.waitServing(ln)

	var conn *net.UDPConn
	if cfg.Ports != nil {
		conn, err = cfg.Ports.Listen()
	} else {
		ip := ln.ip
		if ip == nil {
			ip = net.IPv4zero
		}
		conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	}
	if err != nil {
		release()
		return nil, fmt.Errorf("sip: RTP socket: %w", err)
	}
	leg := outLeg{ep: ep, ln: ln, conn: conn, user: "caller",
		release: func() {
			_ = conn.Close()
			release()
		}}
	leg.auth = digestAuth(cfg.AuthUser, cfg.AuthPassword)
	return leg.call(ctx, cfg, turi, extra)
}

// outLeg is where an outbound call leaves from: an endpoint and one of its
// listeners (Dial's own, or a Server's: Server.Dial), the call's RTP socket,
// and what to release once the call is over or has failed.
type outLeg struct {
	ep      *endpoint
	ln      *listener
	conn    *net.UDPConn
	user    string // user part of the default From URI
	release func() // closes what the leg owns (its RTP socket; Dial's own endpoint)
	// auth, when set, adds credentials for a 401/407 challenge to the
	// INVITE being resent (which then gets a new CSeq and branch).
	auth func(invite *sip.Request, challenge *sip.Response) error
}

// call sends the INVITE and sets the dialog up (the shared part of Dial and
// Server.Dial; see Dial for the behaviour).
func (o outLeg) call(ctx context.Context, cfg DialConfig, turi sip.Uri, extra []sip.Header) (*Call, error) {
	ep, ln, conn := o.ep, o.ln, o.conn
	c := newCall(ep, randomTag()+randomTag()+"@"+ln.host, true)
	if cfg.Logger != nil {
		c.log = cfg.Logger.With("call_id", c.ID)
	}
	c.Conn = conn
	c.ln = ln
	c.transport = strings.ToUpper(ln.network)
	c.localTag = randomTag()
	from := sip.Uri{Scheme: "sip", User: o.user, Host: ln.host}
	if cfg.From != "" {
		if err := sip.ParseUri(cfg.From, &from); err != nil {
			o.release()
			return nil, fmt.Errorf("sip: From %q: %w", cfg.From, err)
		}
	}
	c.fromHdr = sip.FromHeader{DisplayName: cfg.DisplayName, Address: from, Params: sip.NewParams()}
	c.fromHdr.Params.Add("tag", c.localTag)
	toURI := *turi.Clone()
	toURI.UriParams = nil
	toURI.Headers = nil
	c.toHdr = sip.ToHeader{Address: toURI, Params: sip.NewParams()}
	c.remoteTarget = turi
	c.From, c.To = from.String(), toURI.String()
	c.caller, c.callerNm, c.called = from.User, cfg.DisplayName, turi.User
	// The SDP has the advertised host (NAT), else the RTP socket's own
	// address, else the listener's.
	ra := conn.LocalAddr().(*net.UDPAddr)
	c.rtp = local{host: ln.host, port: ra.Port}
	switch {
	case ln.advertised:
	case ra.IP != nil && !ra.IP.IsUnspecified():
		c.rtp.host = ra.IP.String()
	case ln.ip != nil && !ln.ip.IsUnspecified():
		c.rtp.host = ln.ip.String()
	}
	c.offer = cfg.Codecs

	c.mu.Lock()
	c.localSeq = 0
	invite := c.newRequestLocked(sip.INVITE)
	te := uint8(defaultTelephoneEvent)
	if cfg.NoTelephoneEvent {
		te = 0
	}
	body := c.origin.offerSDP(cfg.Codecs, te, cfg.PTime, c.rtp)
	c.mu.Unlock()
	invite.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range c.allowSupported() {
		invite.AppendHeader(h)
	}
	for _, h := range extra {
		invite.AppendHeader(h)
	}
	invite.SetBody(body)

	fail := func(err error) (*Call, error) {
		c.cancel(err)
		o.release()
		return nil, err
	}
	tx, err := ep.request(invite)
	if err != nil {
		return fail(fmt.Errorf("sip: INVITE: %w", err))
	}
	c.log.Info("sip: calling", "target", turi.String())

	res, tx, invite, err := c.waitAnswer(ctx, tx, invite, cfg.OnResponse, o.auth)
	if err != nil {
		tx.Terminate()
		return fail(err)
	}

	// Dialog from the 2xx (RFC 3261 12.1.2).
	c.headers = headersOf(res)
	c.remoteTag = tagOf(res.To().Params)
	c.toHdr = sip.ToHeader{DisplayName: res.To().DisplayName, Address: *res.To().Address.Clone(), Params: res.To().Params.Clone()}
	if ct := res.Contact(); ct != nil {
		c.remoteTarget = *ct.Address.Clone()
	}
	rrs := res.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		if rr, ok := rrs[i].(*sip.RecordRouteHeader); ok {
			c.routes = append(c.routes, *rr.Address.Clone())
		}
	}
	if sip.IsReliable(c.transport) {
		c.reliableDest = invite.Destination()
	}
	c.onEnd = func() {
		go func() {
			// Let requests in flight (an INFO whose 200 crosses the far
			// end's BYE) finish before the endpoint goes.
			c.inflight.Wait()
			tx.Terminate()
			o.release()
		}()
	}
	c.mu.Lock()
	ack := c.newRequestLocked(sip.ACK)
	c.state = stateConfirmed
	c.mu.Unlock()
	// RFC 3261 13.2.2.4: the ACK carries the INVITE's credentials.
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		for _, h := range invite.GetHeaders(name) {
			ack.AppendHeader(sip.HeaderClone(h))
		}
	}
	// In the table before the ACK leaves: the far end may send a BYE or
	// re-INVITE the moment it has our ACK.
	ep.addDialog(c)
	ack.SetBody(nil)
	ackCopy := ack.Clone()
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			_ = ep.cli.WriteRequest(ackCopy.Clone())
		}
	})
	if err := ep.cli.WriteRequest(ack); err != nil {
		c.end(fmt.Errorf("sip: ACK: %w", err))
		return nil, fmt.Errorf("sip: ACK: %w", err)
	}

	ans, err := sdpBody(res)
	if err == nil && ans == nil {
		err = errors.New("the 200 OK carries no SDP")
	}
	var m Media
	if err == nil {
		m, err = parseAnswer(ans, cfg.Codecs)
	}
	if err != nil {
		hctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
		defer cancel()
		_ = c.hangup(hctx, ErrBadAnswer, Header{Name: "Reason", Value: `SIP;cause=488;text="no usable SDP answer"`})
		return nil, fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	c.mu.Lock()
	c.media = m
	c.Media = m
	c.mu.Unlock()
	c.log.Info("sip: call answered", "media", m.String())
	return c, nil
}

// dialDefaults fills in DialConfig's defaults.
func dialDefaults(cfg *DialConfig, userAgent string) {
	if cfg.UserAgent == "" {
		cfg.UserAgent = userAgent
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []Codec{PCMU, PCMA}
	}
	if cfg.PTime <= 0 {
		cfg.PTime = DefaultPTime
	}
}

// waitAnswer reads the INVITE's responses until a 2xx (returned), a final
// refusal (*DialError) or ctx's end (CANCEL). A 401/407 is answered once
// with auth, when set: the INVITE goes again with credentials, a new CSeq and
// a new transaction, which waitAnswer returns with the request it sent.
func (c *Call) waitAnswer(ctx context.Context, tx sip.ClientTransaction, invite *sip.Request, onResponse func(int, string),
	auth func(*sip.Request, *sip.Response) error) (*sip.Response, sip.ClientTransaction, *sip.Request, error) {
	provisional, challenged := false, false
	for {
		select {
		case res := <-tx.Responses():
			if onResponse != nil {
				onResponse(res.StatusCode, res.Reason)
			}
			switch {
			case res.IsProvisional():
				provisional = true
			case res.IsSuccess():
				if res.To() == nil || tagOf(res.To().Params) == "" {
					return nil, tx, invite, errors.New("sip: 2xx without To tag")
				}
				return res, tx, invite, nil
			case (res.StatusCode == 401 || res.StatusCode == 407) && auth != nil && !challenged:
				challenged = true
				next, err := c.authenticated(invite, res, auth)
				if err != nil {
					c.log.Warn("sip: cannot answer the challenge", "code", res.StatusCode, "error", err)
					return nil, tx, invite, &DialError{Code: res.StatusCode, Reason: res.Reason}
				}
				ntx, err := c.ep.request(next)
				if err != nil {
					return nil, tx, invite, fmt.Errorf("sip: INVITE: %w", err)
				}
				tx.Terminate() // it has its final answer; sipgo has ACKed it
				tx, invite, provisional = ntx, next, false
				c.log.Info("sip: INVITE sent again with credentials", "challenge", res.StatusCode)
			default:
				return nil, tx, invite, &DialError{Code: res.StatusCode, Reason: res.Reason}
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, tx, invite, fmt.Errorf("sip: INVITE: %w", err)
			}
			return nil, tx, invite, errors.New("sip: INVITE transaction ended without answer")
		case <-ctx.Done():
			if !provisional {
				// RFC 3261 9.1: no CANCEL before a provisional response.
				// Give the far end a moment to send one (most answer 100
				// Trying at once), so that the INVITE does not ring on.
				provisional = c.awaitProvisional(tx, onResponse)
			}
			if provisional {
				c.cancelInvite(tx, invite, onResponse)
			}
			return nil, tx, invite, ctx.Err()
		}
	}
}

// authenticated is the INVITE sent again after a 401/407: credentials, the
// next CSeq, a new branch.
func (c *Call) authenticated(invite *sip.Request, challenge *sip.Response, auth func(*sip.Request, *sip.Response) error) (*sip.Request, error) {
	next := invite.Clone()
	if err := auth(next, challenge); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.localSeq++
	seq := c.localSeq
	c.mu.Unlock()
	if cs := next.CSeq(); cs != nil {
		cs.SeqNo = seq
	}
	if via := next.Via(); via != nil {
		via.Params.Add("branch", sip.GenerateBranch())
	}
	return next, nil
}

// awaitProvisional waits briefly for the first response of an INVITE that
// is being abandoned: true on a provisional one (it can be CANCELled now).
// A 2xx that comes first is confirmed and hung up.
func (c *Call) awaitProvisional(tx sip.ClientTransaction, onResponse func(int, string)) bool {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case res := <-tx.Responses():
		if onResponse != nil {
			onResponse(res.StatusCode, res.Reason)
		}
		switch {
		case res.IsProvisional():
			return true
		case res.IsSuccess() && res.To() != nil:
			c.confirmAndHangup(res)
		}
	case <-tx.Done():
	case <-t.C:
	}
	return false
}

// confirmAndHangup ACKs a 2xx we no longer want (it crossed our CANCEL, or
// came after we gave up) and ends that call with a BYE.
func (c *Call) confirmAndHangup(res *sip.Response) {
	c.remoteTag = tagOf(res.To().Params)
	c.toHdr = sip.ToHeader{Address: *res.To().Address.Clone(), Params: res.To().Params.Clone()}
	if ct := res.Contact(); ct != nil {
		c.remoteTarget = *ct.Address.Clone()
	}
	c.mu.Lock()
	ack := c.newRequestLocked(sip.ACK)
	c.state = stateConfirmed
	c.mu.Unlock()
	_ = c.ep.cli.WriteRequest(ack)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	_ = c.hangup(ctx, ErrCancelled)
}

// cancelInvite sends a CANCEL (RFC 3261 9.1) and waits briefly for the
// INVITE's final response; a 2xx that crossed the CANCEL is ACKed and hung up.
func (c *Call) cancelInvite(tx sip.ClientTransaction, invite *sip.Request, onResponse func(int, string)) {
	cancel := sip.NewRequest(sip.CANCEL, *invite.Recipient.Clone())
	cancel.AppendHeader(sip.HeaderClone(invite.Via()))
	maxfwd := sip.MaxForwardsHeader(70)
	cancel.AppendHeader(&maxfwd)
	cancel.AppendHeader(sip.HeaderClone(invite.From()))
	cancel.AppendHeader(sip.HeaderClone(invite.To()))
	cancel.AppendHeader(sip.HeaderClone(invite.CallID()))
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.CANCEL})
	cancel.SetBody(nil)
	cancel.SetTransport(invite.Transport())
	cancel.Laddr = invite.Laddr
	ctx, stop := context.WithTimeout(context.Background(), 4*time.Second)
	defer stop()
	if _, err := c.ep.do(ctx, cancel); err != nil {
		c.log.Debug("sip: CANCEL", "error", err)
	}
	for {
		select {
		case res := <-tx.Responses():
			if onResponse != nil {
				onResponse(res.StatusCode, res.Reason)
			}
			if res.IsProvisional() {
				continue
			}
			if res.IsSuccess() && res.To() != nil {
				// The answer crossed our CANCEL: confirm and end the call.
				c.confirmAndHangup(res)
			}
			return
		case <-tx.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}
