package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Registration with upstreams (RFC 3261 10): one goroutine per
// Config.Register entry keeps our binding at the registrar alive, answers its
// digest challenges, refreshes before the binding runs out, retries with
// backoff when it cannot, and removes the binding when Serve stops.

// RegistrationStatus is one upstream registration as /healthz shows it.
type RegistrationStatus struct {
	AOR       string    `json:"aor"`
	Registrar string    `json:"registrar"`
	State     string    `json:"state"`             // registering, registered, failed, unregistered
	Expires   time.Time `json:"expires,omitempty"` // when the binding runs out (zero if none)
	Refreshes int       `json:"refreshes"`         // successful REGISTERs so far
	Failures  int       `json:"failures"`          // failed attempts in a row
	LastError string    `json:"last_error,omitempty"`
}

// Registration states.
const (
	regRegistering  = "registering"
	regRegistered   = "registered"
	regFailed       = "failed"
	regUnregistered = "unregistered"
)

// regTiming are the registration's timers; tests shorten them.
type regTiming struct {
	backoffMin time.Duration // first retry after a failure (doubles)
	backoffMax time.Duration // longest wait between attempts
	attempt    time.Duration // bound of one REGISTER transaction (0: the transaction's own timer F)
	unregister time.Duration // bound of the unregistration at shutdown
}

func (t regTiming) withDefaults() regTiming {
	if t.backoffMin <= 0 {
		t.backoffMin = time.Second
	}
	if t.backoffMax <= 0 {
		t.backoffMax = 5 * time.Minute
	}
	if t.unregister <= 0 {
		t.unregister = 2500 * time.Millisecond
	}
	return t
}

const defaultRegisterExpires = 300 * time.Second

// registerer keeps one Registration's binding.
type registerer struct {
	s       *Server
	reg     Registration // with defaults filled in
	timing  regTiming
	log     *slog.Logger
	ruri    sip.Uri // the registrar (Request-URI, no user part)
	aor     sip.Uri
	proxy   *sip.Uri // outbound proxy (Route), nil without
	ln      *listener
	contact sip.Uri
	// The registrar's challenges (401) and the outbound proxy's (407) are
	// kept apart: a REGISTER through a proxy may need to answer both.
	auth, proxyAuth digestClient

	callID  string
	fromTag string
	cseq    uint32 // only the run goroutine (then the unregistration) touches it

	mu     sync.Mutex
	status RegistrationStatus
}

// regError is a REGISTER that failed with a final response.
type regError struct {
	code       int
	reason     string
	retryAfter time.Duration // 503's Retry-After
}

func (e *regError) Error() string { return fmt.Sprintf("%d %s", e.code, e.reason) }

// newRegisterer checks a Registration against the server's listeners.
func (s *Server) newRegisterer(r Registration) (*registerer, error) {
	if r.User == "" {
		return nil, fmt.Errorf("sip: register %q: no user", r.Registrar)
	}
	ruri, network, err := parseTarget(r.Registrar)
	if err != nil {
		return nil, fmt.Errorf("sip: register: registrar: %w", err)
	}
	ruri.User = "" // RFC 3261 10.2: no user part in a REGISTER's Request-URI
	ruri.Headers = nil
	if r.AuthUser == "" {
		r.AuthUser = r.User
	}
	if r.ContactUser == "" {
		r.ContactUser = r.User
	}
	if r.Expires <= 0 {
		r.Expires = defaultRegisterExpires
	}
	var aor sip.Uri
	if err := sip.ParseUri(r.aor(), &aor); err != nil {
		return nil, fmt.Errorf("sip: register: address %q: %w", r.aor(), err)
	}
	rg := &registerer{
		s: s, reg: r, timing: s.regTiming.withDefaults(),
		ruri: ruri, aor: aor,
		callID:    randomTag() + randomTag() + "@hotline",
		fromTag:   randomTag(),
		cseq:      uint32(rand.IntN(10000)) + 1,
		auth:      digestClient{user: r.AuthUser, pass: r.Password},
		proxyAuth: digestClient{user: r.AuthUser, pass: r.Password},
	}
	if r.OutboundProxy != "" {
		p, pnet, err := parseTarget(r.OutboundProxy)
		if err != nil {
			return nil, fmt.Errorf("sip: register: outbound proxy: %w", err)
		}
		p.User, p.Headers = "", nil
		if p.UriParams == nil {
			p.UriParams = sip.NewParams()
		}
		p.UriParams.Add("lr", "")
		rg.proxy = &p
		network = pnet // the first hop decides the transport
	}
	rg.ln = s.listenerOf(network)
	if rg.ln == nil {
		return nil, fmt.Errorf("sip: register %s: the server has no %s listener", r.Registrar, network)
	}
	rg.contact = sip.Uri{Scheme: "sip", User: r.ContactUser, Host: rg.ln.host, Port: rg.ln.port}
	if network != "udp" {
		rg.contact.UriParams = sip.HeaderParams{{K: "transport", V: network}}
	}
	rg.log = s.log.With("aor", aor.String(), "registrar", ruri.String())
	rg.status = RegistrationStatus{AOR: aor.String(), Registrar: ruri.String(), State: regRegistering}
	return rg, nil
}

// startRegistrations starts one registerer per Config.Register entry (once
// the listeners serve, just before Ready); stop, called on shutdown before the endpoint closes, ends them and
// unregisters what is registered, within the unregistration bound.
func (s *Server) startRegistrations() (stop func()) {
	if len(s.cfg.Register) == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var regs []*registerer
	for _, r := range s.cfg.Register {
		rg, err := s.newRegisterer(r)
		if err != nil {
			// Shown as failed (not left out) so that /healthz tells.
			s.log.Error("sip: registration not started", "error", err)
			regs = append(regs, &registerer{status: RegistrationStatus{
				AOR: r.aor(), Registrar: r.Registrar, State: regFailed, LastError: err.Error(),
			}})
			continue
		}
		regs = append(regs, rg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rg.run(ctx)
		}()
	}
	s.regMu.Lock()
	s.regs = regs
	s.regMu.Unlock()
	return func() {
		cancel()
		wg.Wait()
		var uwg sync.WaitGroup
		for _, rg := range regs {
			uwg.Add(1)
			go func() {
				defer uwg.Done()
				rg.unregister()
			}()
		}
		uwg.Wait()
	}
}

// Registrations returns the state of every upstream registration, in
// Config.Register order (empty before Serve is ready, or without any).
func (s *Server) Registrations() []RegistrationStatus {
	s.regMu.Lock()
	regs := s.regs
	s.regMu.Unlock()
	out := make([]RegistrationStatus, 0, len(regs))
	for _, rg := range regs {
		rg.mu.Lock()
		out = append(out, rg.status)
		rg.mu.Unlock()
	}
	return out
}

// run registers, refreshes and retries until ctx ends.
func (r *registerer) run(ctx context.Context) {
	expires := r.reg.Expires
	for {
		sent := time.Now()
		granted, err := r.register(ctx, &expires)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err == nil {
			wait = refreshDelay(granted)
			r.succeeded(sent.Add(granted), granted, time.Since(sent))
		} else {
			wait = r.failed(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// refreshDelay is when to refresh a binding granted for g: between half and
// three quarters of it, and at least 5 s before it runs out when that fits.
func refreshDelay(g time.Duration) time.Duration {
	return max(g/2, min(g*3/4, g-5*time.Second))
}

// backoff is the wait before attempt n+1 after n failures in a row:
// exponential from min to max, with "equal jitter" (half fixed, half random)
// so that many registrations failing together do not retry together.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// succeeded records a granted binding; took is the whole exchange
// (challenge rounds included).
func (r *registerer) succeeded(expiresAt time.Time, granted, took time.Duration) {
	r.mu.Lock()
	prev, fails := r.status.State, r.status.Failures
	r.status.State = regRegistered
	r.status.Expires = expiresAt
	r.status.Refreshes++
	r.status.Failures = 0
	r.status.LastError = ""
	r.mu.Unlock()
	switch {
	case prev == regFailed:
		r.log.Info("sip: registration recovered", "expires", granted, "failed_attempts", fails, "took", took)
	case prev != regRegistered:
		r.log.Info("sip: registered", "expires", granted, "contact", r.contact.String(), "took", took)
	default:
		r.log.Debug("sip: registration refreshed", "expires", granted, "took", took)
	}
}

func (r *registerer) failed(err error) time.Duration {
	r.mu.Lock()
	r.status.Failures++
	n := r.status.Failures
	prevErr := r.status.LastError
	r.status.State = regFailed
	r.status.LastError = err.Error()
	if !r.status.Expires.IsZero() && time.Now().After(r.status.Expires) {
		r.status.Expires = time.Time{}
	}
	r.mu.Unlock()
	wait := backoff(n, r.timing.backoffMin, r.timing.backoffMax)
	var re *regError
	if errors.As(err, &re) && re.retryAfter > 0 {
		wait = min(re.retryAfter, r.timing.backoffMax)
	}
	// A state change (or a new reason) is worth a line; the same failure
	// again is not.
	if n == 1 || err.Error() != prevErr {
		r.log.Warn("sip: registration failed", "error", err.Error(), "attempt", n, "retry_in", wait.Round(time.Millisecond))
	} else {
		r.log.Debug("sip: registration failed again", "error", err.Error(), "attempt", n, "retry_in", wait.Round(time.Millisecond))
	}
	return wait
}

// unregister removes our binding (Expires: 0) when one may be there.
func (r *registerer) unregister() {
	r.mu.Lock()
	had := r.status.Refreshes > 0 && !r.status.Expires.IsZero() && time.Now().Before(r.status.Expires)
	r.mu.Unlock()
	if !had {
		r.setState(regUnregistered, time.Time{})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timing.unregister)
	defer cancel()
	zero := time.Duration(0)
	if _, err := r.register(ctx, &zero); err != nil {
		r.log.Warn("sip: unregistration failed", "error", err.Error())
	} else {
		r.log.Info("sip: unregistered")
	}
	r.setState(regUnregistered, time.Time{})
}

func (r *registerer) setState(state string, expires time.Time) {
	r.mu.Lock()
	r.status.State = state
	r.status.Expires = expires
	r.mu.Unlock()
}

// register runs one REGISTER exchange: credentials for the challenges, a
// longer expiry after 423. *expires is what we ask for (423 raises it for
// the later refreshes too); the result is what the registrar granted.
func (r *registerer) register(ctx context.Context, expires *time.Duration) (time.Duration, error) {
	answered := map[int]bool{} // 401/407: the request carried an answer to a fresh challenge of that kind
	staleRounds := 0
	for round := 0; round < 6; round++ {
		req := r.request(*expires)
		if r.reg.Password != "" {
			// The kept challenge authorises refreshes at once (next nc).
			for _, dc := range []*digestClient{&r.auth, &r.proxyAuth} {
				if h, ok := dc.authorize(string(sip.REGISTER), req.Recipient.String(), nil); ok {
					req.AppendHeader(h)
				}
			}
		}
		res, err := r.do(ctx, req)
		if err != nil {
			return 0, err
		}
		switch {
		case res.IsSuccess():
			if *expires == 0 {
				return 0, nil
			}
			return r.granted(res, *expires), nil
		case res.StatusCode == 401 || res.StatusCode == 407:
			if r.reg.Password == "" {
				return 0, &regError{code: res.StatusCode, reason: res.Reason + " (no password configured)"}
			}
			stale := challengeStale(res)
			if stale {
				staleRounds++
			}
			dc := &r.auth
			if res.StatusCode == 407 {
				dc = &r.proxyAuth
			}
			if (answered[res.StatusCode] && !stale) || staleRounds > 2 {
				// Our answer to a fresh challenge was refused: wrong
				// credentials, retrying at once will not help.
				dc.forget()
				return 0, &regError{code: res.StatusCode, reason: res.Reason + " (credentials refused)"}
			}
			if _, err := dc.answer(res, string(sip.REGISTER), req.Recipient.String(), nil); err != nil {
				return 0, fmt.Errorf("%d %s: %w", res.StatusCode, res.Reason, err)
			}
			answered[res.StatusCode] = true
		case res.StatusCode == 423:
			least := headerSeconds(res, "Min-Expires")
			if least <= *expires || least > 24*time.Hour {
				return 0, &regError{code: 423, reason: res.Reason + " (no usable Min-Expires)"}
			}
			r.log.Info("sip: registrar wants a longer expiry", "min_expires", least)
			*expires = least
		default:
			e := &regError{code: res.StatusCode, reason: res.Reason}
			if res.StatusCode == 503 {
				e.retryAfter = headerSeconds(res, "Retry-After")
			}
			return 0, e
		}
	}
	return 0, errors.New("too many REGISTER rounds")
}

// do sends one REGISTER, bounded by timing.attempt when set.
func (r *registerer) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if r.timing.attempt > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timing.attempt)
		defer cancel()
	}
	res, err := r.s.ep.do(ctx, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout) {
			return nil, errors.New("no answer (timeout)")
		}
		return nil, fmt.Errorf("REGISTER: %w", err)
	}
	return res, nil
}

// request builds the next REGISTER (same Call-ID and From tag for every
// refresh, next CSeq: RFC 3261 10.2).
func (r *registerer) request(expires time.Duration) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, *r.ruri.Clone())
	network := strings.ToUpper(r.ln.network)
	via := &sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: network,
		Host: r.ln.host, Port: r.ln.port, Params: sip.NewParams(),
	}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	if r.proxy != nil {
		req.AppendHeader(&sip.RouteHeader{Address: *r.proxy.Clone()})
	}
	maxfwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxfwd)
	from := &sip.FromHeader{Address: *r.aor.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: *r.aor.Clone(), Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: *r.contact.Clone()})
	secs := int((expires + time.Second - 1) / time.Second)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	req.AppendHeader(sip.NewHeader("Allow", r.s.ep.allow))
	req.AppendHeader(sip.NewHeader("User-Agent", r.s.ep.name))
	req.SetBody(nil)
	req.SetTransport(network)
	if r.proxy != nil {
		// The Request-URI stays the registrar; the request goes to the proxy.
		port := r.proxy.Port
		if port == 0 {
			port = sip.DefaultPort(network)
		}
		req.SetDestination(fmt.Sprintf("%s:%d", r.proxy.Host, port))
	}
	if network == "UDP" {
		req.Laddr = sip.Addr{IP: r.ln.ip, Port: r.ln.port}
	}
	return req
}

// granted is the expiry the registrar gave our binding: its Contact's
// expires parameter, else the Expires header, else what we asked for.
func (r *registerer) granted(res *sip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		// sipgo splits "a, b" into one header per contact.
		if !sameContact(ch.Address, r.contact) {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if d := headerSeconds(res, "Expires"); d > 0 {
		return d
	}
	return asked
}

// sameContact compares the user, host and port of two Contact URIs (a
// registrar may add or reorder parameters).
func sameContact(a, b sip.Uri) bool {
	pa, pb := a.Port, b.Port
	if pa == 0 {
		pa = 5060
	}
	if pb == 0 {
		pb = 5060
	}
	return a.User == b.User && strings.EqualFold(a.Host, b.Host) && pa == pb
}

// headerSeconds is a header holding delta-seconds (Expires, Min-Expires,
// Retry-After "120 (comment);duration=..."), 0 when missing or bad.
func headerSeconds(res *sip.Response, name string) time.Duration {
	h := res.GetHeader(name)
	if h == nil {
		return 0
	}
	v := strings.TrimSpace(h.Value())
	if i := strings.IndexAny(v, " ;("); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// upstreamAddrs resolves the hosts of the registrars and outbound proxies
// (once, at start-up: a change of address needs a restart) so the inbound
// policy trusts them. A name that does not resolve is logged and skipped:
// its registration will report the same problem.
func upstreamAddrs(regs []Registration, log *slog.Logger) []netip.Addr {
	var out []netip.Addr
	seen := map[string]bool{}
	for _, r := range regs {
		for _, h := range []string{uriHost(r.Registrar), uriHost(r.OutboundProxy)} {
			if h == "" || seen[h] {
				continue
			}
			seen[h] = true
			if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
				out = append(out, a)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			cancel()
			if err != nil {
				log.Warn("sip: cannot resolve an upstream to trust its calls", "host", h, "error", err)
				continue
			}
			out = append(out, addrs...)
		}
	}
	return out
}
