package sip

import (
	"container/list"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The inbound policy of a Server (Config.Security), in the order a request
// meets it:
//
//  1. Before parsing (sipgo's transport read filter): datagrams from a banned
//     source are dropped (a banned TCP/TLS connection is closed); a UDP
//     datagram over MaxMessageSize gets a stateless 513 if its headers parse,
//     else it is dropped. Over TCP/TLS sipgo's stream parser enforces
//     MaxMessageSize (Parser.MaxMessageLength) and closes the connection: it
//     cannot answer 513 there, as the filter sees TCP reads, not messages.
//  2. After parsing, before any handler: untrusted sources pay a token per
//     INVITE, REGISTER or OPTIONS; a source without tokens is banned for
//     BanFor and the request is dropped. Trusted (allow-listed) sources are
//     never rate-limited nor banned: a trunk legitimately sends bursts of
//     calls, and MaxCalls (503) protects capacity against them.
//  3. Known scanner User-Agents get 403; more than MaxHeaders headers get 400.
//  4. Trusted sources pass. In-dialog requests (To tag) pass too: only an
//     authorised INVITE creates a dialog, and a request naming none gets 481.
//  5. An out-of-dialog INVITE from anyone else gets 403 (Others "reject") or
//     digest authentication (Others "digest": 401, then 403 for wrong
//     credentials). Any other out-of-dialog request (OPTIONS, REGISTER,
//     MESSAGE, SUBSCRIBE...) from an untrusted source gets 403: a trunk that
//     pings us with OPTIONS is on the allow-list, and answering 200 to
//     strangers only tells scanners that a SIP server lives here.

const (
	defaultRateLimit      = 10
	defaultBurst          = 20
	defaultBanFor         = 60 * time.Second
	defaultMaxMessageSize = 16 * 1024
	defaultMaxHeaders     = 64

	// nonceTTL is how long a digest nonce may be answered.
	nonceTTL = 30 * time.Second
	// nonceWindow is how many of the most recently issued nonces can be
	// answered (one bit each: 8 KiB). Older ones are stale even before their
	// TTL, so a challenge flood cannot grow the used-nonce table.
	nonceWindow = 1 << 16
	// maxSources bounds the per-source table (token bucket, ban); the least
	// recently seen source is forgotten first.
	maxSources = 16384
)

var defaultBlockUserAgents = []string{
	"friendly-scanner", "sipvicious", "sipcli", "VaxSIPUserAgent", "pplsip", "sundayddr", "iWar", "SIPScan", "sip-scan",
}

// SecurityStats are the inbound policy's counters (Stats.Security).
type SecurityStats struct {
	Rejected      map[string]uint64 `json:"rejected"`       // requests refused, by reason: scanner, not_allowed, auth_failed, too_large, too_many_headers
	DroppedBanned uint64            `json:"dropped_banned"` // requests dropped unanswered: from a banned source, or the one that got it banned
	Challenges    uint64            `json:"challenges"`     // 401 digest challenges sent
	AuthOK        uint64            `json:"auth_ok"`        // INVITEs with valid digest credentials
	AuthFailed    uint64            `json:"auth_failed"`    // INVITEs with wrong credentials (403)
	Bans          uint64            `json:"bans"`           // sources banned for exceeding the rate limit
	BannedNow     int               `json:"banned_now"`     // sources banned right now
	Sources       int               `json:"sources"`        // sources in the rate-limit table (bounded)
}

// source is one untrusted address's token bucket and ban.
type source struct {
	addr        netip.Addr
	tokens      float64
	last        time.Time
	bannedUntil time.Time
}

// guard enforces Config.Security on a Server's endpoint (sip.Dial's
// endpoint has none).
type guard struct {
	log        *slog.Logger
	allow      []netip.Prefix
	digest     bool
	realm      string
	algs       []string // our challenges, in order of preference
	users      map[string]string
	rate       float64
	burst      float64
	banFor     time.Duration
	blockUA    []string // lower case
	maxSize    int
	maxHeaders int
	key        []byte // signs our nonces

	mu      sync.Mutex
	sources map[netip.Addr]*list.Element // of *source
	lru     list.List                    // front: most recently seen
	// banHorizon is the latest ban expiry (unix ns): the read filter skips
	// the table lookup when no ban can be in force.
	banHorizon atomic.Int64

	nmu     sync.Mutex
	nextSeq uint64                   // sequence number of the next nonce
	used    [nonceWindow / 64]uint64 // bit seq%nonceWindow: nonce seq answered

	rejMu    sync.Mutex
	rejected map[string]uint64

	nDropped, nChallenges, nAuthOK, nAuthFailed, nBans atomic.Uint64

	upstreams []netip.Prefix // added to allow by trustUpstreams
}

// newGuard applies the defaults of sec. realm is the default realm (the
// host we advertise).
func newGuard(sec Security, realm string, log *slog.Logger) (*guard, error) {
	g := &guard{
		log:        log,
		allow:      slices.Clone(sec.Allow),
		realm:      sec.Realm,
		users:      sec.Users,
		rate:       sec.RateLimit,
		burst:      float64(sec.Burst),
		banFor:     sec.BanFor,
		maxSize:    sec.MaxMessageSize,
		maxHeaders: sec.MaxHeaders,
		sources:    map[netip.Addr]*list.Element{},
		rejected:   map[string]uint64{},
		key:        make([]byte, 32),
	}
	switch strings.ToLower(sec.Others) {
	case "", "reject":
	case "digest":
		if len(sec.Users) == 0 {
			return nil, errors.New("sip: Security.Others digest needs Security.Users")
		}
		g.digest = true
	default:
		return nil, fmt.Errorf("sip: Security.Others %q: want reject or digest", sec.Others)
	}
	if len(g.allow) == 0 {
		g.allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	for i, p := range g.allow {
		// Sources are compared unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
		}
		g.allow[i] = p.Masked()
	}
	if g.realm == "" {
		g.realm = realm
	}
	algs, err := digestAlgorithms(sec.DigestAlgorithms)
	if err != nil {
		return nil, err
	}
	g.algs = algs
	if g.rate <= 0 {
		g.rate = defaultRateLimit
	}
	if g.burst <= 0 {
		g.burst = defaultBurst
	}
	if g.banFor <= 0 {
		g.banFor = defaultBanFor
	}
	if g.maxSize <= 0 {
		g.maxSize = defaultMaxMessageSize
	}
	if g.maxHeaders <= 0 {
		g.maxHeaders = defaultMaxHeaders
	}
	ua := sec.BlockUserAgents
	if len(ua) == 0 {
		ua = defaultBlockUserAgents
	}
	for _, s := range ua {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			g.blockUA = append(g.blockUA, s)
		}
	}
	if _, err := rand.Read(g.key); err != nil {
		return nil, fmt.Errorf("sip: nonce key: %w", err)
	}
	return g, nil
}

// digestAlgorithms checks the order of our challenges. By default SHA-256
// comes first (RFC 8760: clients answer the topmost challenge they support);
// SIPp 3.6 and many older phones read only the topmost and know only MD5, so
// they need MD5 first (or alone).
func digestAlgorithms(list []string) ([]string, error) {
	if len(list) == 0 {
		return []string{"SHA-256", "MD5"}, nil
	}
	var out []string
	for _, a := range list {
		a = strings.ToUpper(strings.TrimSpace(a))
		if a != "MD5" && a != "SHA-256" {
			return nil, fmt.Errorf("sip: digest algorithm %q: want MD5 or SHA-256", a)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// defaultRealm is the host we advertise, as the listeners will.
func defaultRealm(cfg Config, specs []listenSpec) string {
	if cfg.Advertise != "" {
		return cfg.Advertise
	}
	for _, s := range specs {
		if h, _, err := net.SplitHostPort(s.addr); err == nil {
			if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
				return ip.String()
			}
		}
	}
	return defaultHost()
}

// trustUpstreams adds the addresses of the upstreams we register with
// (registrars, outbound proxies): they send us the calls for the
// registered number, so an operator need not list them twice.
func (g *guard) trustUpstreams(addrs []netip.Addr) {
	for _, a := range addrs {
		a = a.Unmap()
		if g.trusted(a) {
			continue
		}
		p := netip.PrefixFrom(a, a.BitLen())
		g.allow = append(g.allow, p)
		g.upstreams = append(g.upstreams, p)
	}
}

// describe is the start-up line: who may call.
func (g *guard) describe() string {
	var nets []string
	for _, p := range g.allow {
		if p.IsSingleIP() && p.Addr().Is6() {
			nets = append(nets, p.Addr().String())
		} else {
			nets = append(nets, p.String())
		}
	}
	who := strings.Join(nets, ", ")
	if g.loopbackOnly() {
		who = "loopback only (" + who + ")"
	}
	if len(g.upstreams) > 0 {
		who += fmt.Sprintf(" (with the %d upstream addresses we register with)", len(g.upstreams))
	}
	others := "rejected (403)"
	if g.digest {
		others = fmt.Sprintf("digest authentication (realm %q, %d users)", g.realm, len(g.users))
	}
	return fmt.Sprintf("sip: accepting calls from %s; others: %s", who, others)
}

func (g *guard) loopbackOnly() bool {
	for _, p := range g.allow {
		if !p.Addr().IsLoopback() {
			return false
		}
	}
	return true
}

func (g *guard) logStart() {
	g.log.Info(g.describe(),
		"rate_limit", g.rate, "burst", g.burst, "ban_for", g.banFor.String(),
		"max_message_size", g.maxSize, "max_headers", g.maxHeaders)
}

func (g *guard) trusted(a netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (g *guard) reject(reason string) {
	g.rejMu.Lock()
	g.rejected[reason]++
	g.rejMu.Unlock()
}

// --- sources: token buckets and bans ---

// banned reports whether a is banned now (cheap when nobody is).
func (g *guard) banned(a netip.Addr, now time.Time) bool {
	if now.UnixNano() >= g.banHorizon.Load() {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.sources[a]
	if !ok {
		return false
	}
	return now.Before(e.Value.(*source).bannedUntil)
}

// take spends one token of a's bucket. When there is none, a is banned
// (true is returned once, for the request that got it banned).
func (g *guard) take(a netip.Addr, now time.Time) (ok, newBan bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var s *source
	if e, found := g.sources[a]; found {
		g.lru.MoveToFront(e)
		s = e.Value.(*source)
	} else {
		if len(g.sources) >= maxSources {
			// A flood of spoofed sources recycles the oldest entries;
			// each of them has sent too little to be banned anyway.
			old := g.lru.Back()
			g.lru.Remove(old)
			delete(g.sources, old.Value.(*source).addr)
		}
		s = &source{addr: a, tokens: g.burst, last: now}
		g.sources[a] = g.lru.PushFront(s)
	}
	if now.Before(s.bannedUntil) {
		return false, false
	}
	if !s.bannedUntil.IsZero() {
		// The ban is over: start again with a full bucket.
		s.bannedUntil, s.tokens, s.last = time.Time{}, g.burst, now
	}
	if el := now.Sub(s.last).Seconds(); el > 0 {
		s.tokens = min(g.burst, s.tokens+el*g.rate)
	}
	s.last = now
	if s.tokens >= 1 {
		s.tokens--
		return true, false
	}
	s.bannedUntil = now.Add(g.banFor)
	if until := s.bannedUntil.UnixNano(); until > g.banHorizon.Load() {
		g.banHorizon.Store(until) // under g.mu: no lost update
	}
	return false, true
}

// --- the read filter (before sipgo parses) ---

// filter is sipgo's transport read filter: it runs on every datagram (UDP)
// or read (TCP/TLS) before parsing. An empty result drops the data; an
// error closes a TCP/TLS connection. It must never return an error for UDP:
// sipgo would stop reading the listener.
func (ep *endpoint) filter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	g := ep.guard
	if g == nil {
		return data, nil
	}
	a := addrOf(info.RemoteAddr)
	stream := !strings.EqualFold(info.Transport, "udp")
	if a.IsValid() && g.banned(a, time.Now()) {
		g.nDropped.Add(1)
		if stream {
			return nil, fmt.Errorf("source %s is banned", a)
		}
		return nil, nil
	}
	if !stream && len(data) > g.maxSize {
		g.reject("too_large")
		ep.tooLarge(info, data)
		return nil, nil
	}
	return data, nil
}

// tooLarge answers an oversized UDP request with a stateless 513 when its
// headers parse (the datagram may have been cut at sipgo's 32 KiB read
// buffer, so a missing body end is fine), and drops it otherwise.
func (ep *endpoint) tooLarge(info sip.TransportReadProps, data []byte) {
	p := sip.NewParser()
	p.MaxMessageLength = len(data)
	msg, _, err := p.Parse(data, false)
	if err != nil && !errors.Is(err, sip.ErrParseReadBodyIncomplete) {
		return
	}
	req, ok := msg.(*sip.Request)
	if !ok || req.IsAck() || req.Via() == nil || req.CallID() == nil || req.CSeq() == nil || req.From() == nil || req.To() == nil {
		return
	}
	res := sip.NewResponseFromRequest(req, 513, "Message Too Large", nil)
	res.AppendHeader(sip.NewHeader("Server", ep.name))
	for _, l := range ep.lns {
		if l.udp != nil && l.udp.LocalAddr().String() == info.LocalAddr.String() {
			if _, err := l.udp.WriteTo([]byte(res.String()), info.RemoteAddr); err != nil {
				ep.log.Debug("sip: 513 not sent", "source", info.RemoteAddr.String(), "error", err)
			}
			ep.stats.response(513)
			return
		}
	}
}

func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// --- the request check (after parsing, before the handlers) ---

// guarded wraps a request handler with the inbound policy.
func (ep *endpoint) guarded(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if ep.guard != nil && !ep.admit(req, tx) {
			ep.stats.request(string(req.Method))
			return
		}
		h(req, tx)
	}
}

// admit applies the policy to a parsed request: false when it has been
// answered (or dropped) here.
func (ep *endpoint) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	g := ep.guard
	// The transport's peer address, never Request.Source()'s fallback to
	// the Via header, which the sender writes: no source, no trust.
	src := netip.Addr{}
	if ap, err := netip.ParseAddrPort(req.MessageData.Source()); err == nil {
		src = ap.Addr().Unmap()
	}
	trusted := src.IsValid() && g.trusted(src)
	if !trusted && src.IsValid() {
		switch req.Method {
		case sip.INVITE, sip.REGISTER, sip.OPTIONS:
			ok, newBan := g.take(src, time.Now())
			if !ok {
				g.nDropped.Add(1)
				if newBan {
					g.nBans.Add(1)
					g.log.Warn("sip: source banned: over the rate limit", "source", src.String(),
						"rate_limit", g.rate, "burst", g.burst, "ban_for", g.banFor.String())
				}
				return false // unanswered; sipgo terminates the transaction
			}
		}
	}
	forbid := func(reason, text string) bool {
		g.reject(reason)
		if !req.IsAck() {
			ep.respond(tx, req, 403, "Forbidden", nil, warningHeader(ep.host(), 399, text))
		}
		return false
	}
	if ua := req.GetHeader("User-Agent"); ua != nil && g.scanner(ua.Value()) {
		g.log.Debug("sip: scanner refused", "source", req.Source(), "user_agent", ua.Value())
		return forbid("scanner", "forbidden")
	}
	if n := len(req.Headers()); n > g.maxHeaders {
		g.reject("too_many_headers")
		if !req.IsAck() {
			ep.respond(tx, req, 400, "Too Many Headers", nil)
		}
		return false
	}
	if trusted {
		return true
	}
	if req.IsAck() || req.IsCancel() {
		return true // a CANCEL matching our INVITE transaction never gets here
	}
	if to := req.To(); to != nil && tagOf(to.Params) != "" {
		return true // in-dialog: the handlers answer 481 unless it names a dialog we authorised
	}
	if !req.IsInvite() {
		return forbid("not_allowed", "source not allowed")
	}
	if !g.digest {
		return forbid("not_allowed", "source not allowed")
	}
	return ep.authorize(req, tx)
}

func (g *guard) scanner(ua string) bool {
	ua = strings.ToLower(ua)
	for _, s := range g.blockUA {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

// host is the host of our first listener (for Warning headers).
func (ep *endpoint) host() string {
	if len(ep.lns) > 0 {
		return ep.lns[0].host
	}
	return ep.name
}

// --- digest authentication (RFC 3261 22.4, RFC 7616, RFC 8760) ---

// nonce status
const (
	nonceOK = iota
	nonceInvalid
	nonceStale
	nonceReplayed
)

// newNonce issues a nonce: its time, its sequence number and a MAC of both,
// so that we keep no state per challenge, only one bit per answered nonce.
func (g *guard) newNonce(at time.Time) string {
	g.nmu.Lock()
	seq := g.nextSeq
	g.nextSeq++
	g.used[(seq%nonceWindow)/64] &^= 1 << (seq % 64) // the slot is this nonce's now
	g.nmu.Unlock()
	var b [32]byte
	binary.BigEndian.PutUint64(b[0:], uint64(at.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], seq)
	m := hmac.New(sha256.New, g.key)
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// useNonce checks a nonce and marks it answered: a nonce is good once.
func (g *guard) useNonce(nonce string, now time.Time) int {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 32 {
		return nonceInvalid
	}
	m := hmac.New(sha256.New, g.key)
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return nonceInvalid
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[0:])))
	seq := binary.BigEndian.Uint64(b[8:])
	if now.Sub(issued) > nonceTTL || issued.After(now.Add(time.Second)) {
		return nonceStale
	}
	g.nmu.Lock()
	defer g.nmu.Unlock()
	if seq >= g.nextSeq || g.nextSeq-seq > nonceWindow {
		return nonceStale // fell out of the window of answerable nonces
	}
	w, bit := (seq%nonceWindow)/64, uint64(1)<<(seq%64)
	if g.used[w]&bit != 0 {
		return nonceReplayed
	}
	g.used[w] |= bit
	return nonceOK
}

// challenge answers 401 with a fresh nonce: one challenge per algorithm,
// in our order of preference (RFC 8760).
func (ep *endpoint) challenge(tx sip.ServerTransaction, req *sip.Request, stale bool) {
	g := ep.guard
	g.nChallenges.Add(1)
	nonce := g.newNonce(time.Now())
	extra := ""
	if stale {
		extra = ", stale=true"
	}
	var hdrs []sip.Header
	for _, alg := range g.algs {
		hdrs = append(hdrs, sip.NewHeader("WWW-Authenticate",
			fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=%s, qop="auth"%s`, g.realm, nonce, alg, extra)))
	}
	ep.respond(tx, req, 401, "Unauthorized", nil, hdrs...)
}

// authorize checks the digest credentials of an INVITE from an untrusted
// source: true when they are good; otherwise it has answered 401 or 403.
func (ep *endpoint) authorize(req *sip.Request, tx sip.ServerTransaction) bool {
	g := ep.guard
	var cred *digestCredentials
	for _, h := range req.GetHeaders("Authorization") {
		c, err := parseDigestCredentials(h.Value())
		if err == nil && c.realm == g.realm {
			cred = c
			break
		}
	}
	if cred == nil {
		ep.challenge(tx, req, false)
		return false
	}
	switch g.useNonce(cred.nonce, time.Now()) {
	case nonceStale:
		ep.challenge(tx, req, true)
		return false
	case nonceInvalid, nonceReplayed:
		// Not a nonce of ours, or one already answered: a new round.
		g.log.Debug("sip: digest nonce refused", "source", req.Source(), "user", cred.username)
		ep.challenge(tx, req, false)
		return false
	}
	if !g.checkResponse(cred, string(req.Method)) {
		g.nAuthFailed.Add(1)
		g.reject("auth_failed")
		g.log.Info("sip: digest authentication failed", "source", req.Source(), "user", cred.username, "call_id", callIDOf(req))
		ep.respond(tx, req, 403, "Forbidden", nil, warningHeader(ep.host(), 399, "authentication failed"))
		return false
	}
	g.nAuthOK.Add(1)
	g.log.Debug("sip: digest authentication ok", "source", req.Source(), "user", cred.username, "call_id", callIDOf(req))
	return true
}

// checkResponse computes the expected response (qop=auth) and compares in
// constant time. Unknown users are hashed with a dummy password, so the
// time does not tell whether a user exists.
func (g *guard) checkResponse(c *digestCredentials, method string) bool {
	alg := strings.ToUpper(c.algorithm)
	if alg == "" {
		alg = "MD5" // RFC 2617's default
	}
	if !slices.Contains(g.algs, alg) {
		return false // not one we offered
	}
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-256":
		h = sha256.New()
	default:
		return false
	}
	pass, known := g.users[c.username]
	if !known {
		pass = "\x00no such user"
	}
	if !strings.EqualFold(c.qop, "auth") || c.nc == "" || c.cnonce == "" || c.uri == "" {
		return false
	}
	ha1 := hashHex(h, c.username, g.realm, pass)
	ha2 := hashHex(h, method, c.uri)
	want := hashHex(h, ha1, c.nonce, c.nc, c.cnonce, "auth", ha2)
	got := strings.ToLower(c.response)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 && known
}

// digestCredentials are the fields of an Authorization: Digest header we use.
type digestCredentials struct {
	username, realm, nonce, uri, response, algorithm, qop, nc, cnonce string
}

// parseDigestCredentials parses `Digest k=v, k="quoted", ...`.
func parseDigestCredentials(s string) (*digestCredentials, error) {
	s = strings.TrimSpace(s)
	scheme, rest, ok := strings.Cut(s, " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return nil, errors.New("not a digest credential")
	}
	c := &digestCredentials{}
	seen := 0
	for rest = strings.TrimSpace(rest); rest != ""; {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("digest: malformed parameter in %q", rest)
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, errors.New("digest: unterminated quoted string")
			}
			val, rest = b.String(), rest[i+1:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("digest: expected ',' before %q", rest)
			}
			rest = strings.TrimLeft(rest[1:], " \t")
		}
		if seen++; seen > 32 {
			return nil, errors.New("digest: too many parameters")
		}
		switch key {
		case "username":
			c.username = val
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "uri":
			c.uri = val
		case "response":
			c.response = val
		case "algorithm":
			c.algorithm = val
		case "qop":
			c.qop = val
		case "nc":
			c.nc = val
		case "cnonce":
			c.cnonce = val
		}
	}
	if c.username == "" || c.nonce == "" || c.response == "" {
		return nil, errors.New("digest: username, nonce or response missing")
	}
	return c, nil
}

// --- statistics ---

func (g *guard) stats() SecurityStats {
	st := SecurityStats{
		Rejected:      map[string]uint64{},
		DroppedBanned: g.nDropped.Load(),
		Challenges:    g.nChallenges.Load(),
		AuthOK:        g.nAuthOK.Load(),
		AuthFailed:    g.nAuthFailed.Load(),
		Bans:          g.nBans.Load(),
	}
	g.rejMu.Lock()
	for k, v := range g.rejected {
		st.Rejected[k] = v
	}
	g.rejMu.Unlock()
	now := time.Now()
	g.mu.Lock()
	st.Sources = len(g.sources)
	for _, e := range g.sources {
		if now.Before(e.Value.(*source).bannedUntil) {
			st.BannedNow++
		}
	}
	g.mu.Unlock()
	return st
}

// securityStats is the endpoint's policy counters (zero without a guard).
func (ep *endpoint) securityStats() SecurityStats {
	if ep.guard == nil {
		return SecurityStats{Rejected: map[string]uint64{}}
	}
	return ep.guard.stats()
}

// setGuard installs the policy on a Server's endpoint before it serves:
// sipgo's stream parser then enforces MaxMessageSize on TCP/TLS too.
func (ep *endpoint) setGuard(g *guard) {
	ep.guard = g
	ep.parser.MaxMessageLength = g.maxSize
	g.logStart()
}
