package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Dial places an outbound call from the server's own SIP endpoint: the
// INVITE leaves from the server's first listener of the target's transport,
// with that listener in Via and Contact, so a PBX sees one address for the
// calls it sends us and the calls we send it (a supervised transfer's agent
// leg). Its RTP socket comes from DialConfig.Ports, else Config.Ports. The
// call works as one from Dial (see there): CANCEL when ctx ends before the
// answer, *DialError for a refusal, Hangup, Done, ByeHeader; when it is over
// its RTP socket is closed (the endpoint stays, it is the server's).
//
// From is sip:hotline@<our host> with DialConfig.DisplayName (for a
// transfer: the caller's number), unless DialConfig.From says otherwise; when
// the target's host is one of Config.Register's upstreams (its registrar,
// domain or outbound proxy), From is that registration's address, and a
// 401/407 challenge to the INVITE is answered with its credentials.
//
// DialConfig's Listen, TLS, Advertise, UserAgent and AcceptTransfer do not
// apply: the server's own settings do (REFERs from the far end get 405).
// Calls placed this way are not counted in Stats or MaxCalls and Serve does
// not wait for them: whoever places one hangs it up (a Handler, before it
// returns). Dial fails before Ready and once Serve is shutting down.
func (s *Server) Dial(ctx context.Context, cfg DialConfig, target string) (*Call, error) {
	turi, network, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	select {
	case <-s.ready:
	default:
		return nil, errors.New("sip: the server is not serving yet")
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return nil, ErrShutdown
	}
	ln := s.listenerOf(network)
	if ln == nil {
		return nil, fmt.Errorf("sip: target %q: the server has no %s listener", target, network)
	}
	dialDefaults(&cfg, s.cfg.UserAgent)
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	extra, err := toSipHeaders(cfg.Headers)
	if err != nil {
		return nil, err
	}
	reg := s.registrationFor(turi)
	if reg != nil && cfg.From == "" {
		cfg.From = reg.aor()
	}
	if cfg.From != "" {
		var u sip.Uri
		if err := sip.ParseUri(cfg.From, &u); err != nil {
			return nil, fmt.Errorf("sip: From %q: %w", cfg.From, err)
		}
	}
	ports := cfg.Ports
	if ports == nil {
		ports = s.cfg.Ports
	}
	conn, err := ports.Listen()
	if err != nil {
		return nil, fmt.Errorf("sip: RTP socket: %w", err)
	}
	leg := outLeg{ep: s.ep, ln: ln, conn: conn, user: "hotline", release: func() { _ = conn.Close() }}
	leg.auth = inviteAuth(reg)
	if cfg.AuthPassword != "" {
		leg.auth = digestAuth(cfg.AuthUser, cfg.AuthPassword)
	}
	return leg.call(ctx, cfg, turi, extra)
}

// listenerOf is the server's first listener of a network ("udp", "tcp", "tls").
func (s *Server) listenerOf(network string) *listener {
	for _, l := range s.ep.lns {
		if l.network == network {
			return l
		}
	}
	return nil
}

// registrationFor finds the upstream a target belongs to: the host of its
// registrar, its domain or its outbound proxy is the target's host.
func (s *Server) registrationFor(target sip.Uri) *Registration {
	host := strings.ToLower(target.Host)
	for i := range s.cfg.Register {
		r := &s.cfg.Register[i]
		for _, h := range []string{uriHost(r.Registrar), r.Domain, uriHost(r.OutboundProxy)} {
			if h != "" && strings.ToLower(h) == host {
				return r
			}
		}
	}
	return nil
}

// aor is the registration's address, sip:User@Domain (Domain defaulting to
// the registrar's host).
func (r *Registration) aor() string {
	domain := r.Domain
	if domain == "" {
		domain = uriHost(r.Registrar)
	}
	return "sip:" + r.User + "@" + domain
}

// uriHost is the host of a "sip:host:port;params" URI ("" when it has none).
func uriHost(s string) string {
	if s == "" {
		return ""
	}
	if !strings.HasPrefix(s, "sip:") && !strings.HasPrefix(s, "sips:") {
		s = "sip:" + s
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return ""
	}
	if h, _, err := net.SplitHostPort(u.Host); err == nil {
		return h
	}
	return u.Host
}

// inviteAuth answers a 401/407 challenge to an outbound INVITE with a
// registration's credentials (nil: no credentials, the challenge is the
// refusal).
func inviteAuth(reg *Registration) func(invite *sip.Request, challenge *sip.Response) error {
	if reg == nil {
		return nil
	}
	user := reg.AuthUser
	if user == "" {
		user = reg.User
	}
	return digestAuth(user, reg.Password)
}

// digestAuth answers a 401/407 challenge to an INVITE with user and
// password (nil without a password). It only adds the Authorization or
// Proxy-Authorization header to the request: outLeg sends it again with the
// next CSeq and a new branch, and copies the credentials into the ACK.
func digestAuth(user, password string) func(invite *sip.Request, challenge *sip.Response) error {
	if password == "" {
		return nil
	}
	return func(invite *sip.Request, challenge *sip.Response) error {
		h, err := answerChallenge(challenge, string(invite.Method), invite.Recipient.String(), invite.Body(), user, password)
		if err != nil {
			return err
		}
		invite.RemoveHeader(h.Name())
		invite.AppendHeader(h)
		return nil
	}
}
