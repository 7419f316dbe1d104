package sip

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// The client side of SIP digest authentication (RFC 3261 22, RFC 2617, RFC
// 7616, RFC 8760): the answer to a 401's WWW-Authenticate or a 407's
// Proxy-Authenticate. The hashing is github.com/icholy/digest's; this file
// picks the challenge, adds the -sess variants and keeps the nonce count.

// ErrNoChallenge is a 401/407 without a digest challenge we can answer.
var ErrNoChallenge = errors.New("sip: no digest challenge we can answer")

// answerChallenge answers the digest challenge of res, a 401 (its
// WWW-Authenticate: the result is an Authorization header) or a 407 (its
// Proxy-Authenticate: a Proxy-Authorization header), for a request of method
// to uri (its Request-URI, as sent) with body (only hashed for qop=auth-int).
//
// Of several challenges, the first one with an algorithm we support wins
// (RFC 8760: the server lists them in its order of preference): MD5,
// SHA-256, SHA-512-256 and their -sess variants; qop auth (preferred),
// auth-int, or none (RFC 2069). The nonce count is 1: use a digestClient to
// authorise more requests with the same challenge.
//
// The caller sends the request again with a new CSeq and the header added,
// replacing a header of the same name from an earlier round and keeping the
// other one (a request challenged by a proxy and then by the UAS carries both).
func answerChallenge(res *sip.Response, method, uri string, body []byte, user, pass string) (sip.Header, error) {
	c := digestClient{user: user, pass: pass}
	return c.answer(res, method, uri, body)
}

// digestClient answers the challenges of one set of credentials. It keeps the
// last challenge so that later requests to the same server can be
// authorised at once (authorize), with a growing nonce count, as registrars
// allow until the nonce goes stale.
type digestClient struct {
	user, pass string

	mu     sync.Mutex
	chal   *digest.Challenge
	proxy  bool   // the challenge came in a 407
	nc     int    // nonce count of the last answer
	cnonce string // -sess: the client nonce its session key was made with
}

// answer answers res's challenge (a 401 or 407), which replaces the one kept.
func (c *digestClient) answer(res *sip.Response, method, uri string, body []byte) (sip.Header, error) {
	var name string
	switch res.StatusCode {
	case 401:
		name = "WWW-Authenticate"
	case 407:
		name = "Proxy-Authenticate"
	default:
		return nil, fmt.Errorf("sip: %d is not a challenge", res.StatusCode)
	}
	chal, err := pickChallenge(res.GetHeaders(name))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chal, c.proxy, c.nc, c.cnonce = chal, res.StatusCode == 407, 0, ""
	return c.authorizeLocked(method, uri, body)
}

// authorize answers the kept challenge again for a new request (nonce count
// one higher); false when there is none.
func (c *digestClient) authorize(method, uri string, body []byte) (sip.Header, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chal == nil {
		return nil, false
	}
	h, err := c.authorizeLocked(method, uri, body)
	return h, err == nil
}

// forget drops the kept challenge (the server refused an answer to it).
func (c *digestClient) forget() {
	c.mu.Lock()
	c.chal = nil
	c.mu.Unlock()
}

// stale reports whether res says the nonce was stale (the credentials were
// right: answer the fresh challenge without counting a failure).
func challengeStale(res *sip.Response) bool {
	for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		for _, h := range res.GetHeaders(name) {
			if ch, err := digest.ParseChallenge(h.Value()); err == nil && ch.Stale {
				return true
			}
		}
	}
	return false
}

func (c *digestClient) authorizeLocked(method, uri string, body []byte) (sip.Header, error) {
	chal := *c.chal
	c.nc++
	opts := digest.Options{
		Method:   method,
		URI:      uri,
		Username: c.user,
		Password: c.pass,
		Count:    c.nc,
		GetBody:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
	}
	alg := strings.ToUpper(chal.Algorithm)
	base, sess := strings.CutSuffix(alg, "-SESS")
	if sess {
		// RFC 7616 3.4.2: A1 = H(user:realm:pass):nonce:cnonce, hashed
		// once more where the library uses A1. The session key is made
		// once per nonce, with the first cnonce.
		if c.cnonce == "" {
			var b [8]byte
			_, _ = rand.Read(b[:])
			c.cnonce = hex.EncodeToString(b[:])
		}
		h := newHash(base)
		opts.Cnonce = c.cnonce
		opts.A1 = hashHex(h, hashHex(h, c.user, chal.Realm, c.pass), chal.Nonce, c.cnonce)
		chal.Algorithm = base
	}
	cred, err := digest.Digest(&chal, opts)
	if err != nil {
		return nil, fmt.Errorf("sip: digest: %w", err)
	}
	cred.Algorithm = c.chal.Algorithm // as the server spelled it (-sess included)
	name := "Authorization"
	if c.proxy {
		name = "Proxy-Authorization"
	}
	return sip.NewHeader(name, cred.String()), nil
}

// pickChallenge returns the first digest challenge we can answer.
func pickChallenge(hs []sip.Header) (*digest.Challenge, error) {
	var last error
	for _, h := range hs {
		chal, err := digest.ParseChallenge(strings.TrimSpace(h.Value()))
		if err != nil {
			last = err
			continue
		}
		// "auth, auth-int" arrives as ["auth", " auth-int"].
		var qop []string
		for _, q := range chal.QOP {
			if q = strings.ToLower(strings.TrimSpace(q)); q != "" {
				qop = append(qop, q)
			}
		}
		chal.QOP = qop
		if !supportedAlgorithm(chal.Algorithm) {
			last = fmt.Errorf("algorithm %q not supported", chal.Algorithm)
			continue
		}
		if len(qop) > 0 && !chal.SupportsQOP("auth") && !chal.SupportsQOP("auth-int") {
			last = fmt.Errorf("qop %q not supported", strings.Join(qop, ","))
			continue
		}
		if chal.SupportsQOP("auth") {
			chal.QOP = []string{"auth"} // the library would take auth anyway; be explicit
		}
		return chal, nil
	}
	if last != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoChallenge, last)
	}
	return nil, ErrNoChallenge
}

func supportedAlgorithm(alg string) bool {
	base, _ := strings.CutSuffix(strings.ToUpper(alg), "-SESS")
	switch base {
	case "", "MD5", "SHA-256", "SHA-512-256":
		return true
	}
	return false
}

// newHash is the hash of a digest algorithm name (without -sess); MD5 for "".
func newHash(alg string) hash.Hash {
	switch strings.ToUpper(alg) {
	case "SHA-256":
		return sha256.New()
	case "SHA-512-256":
		return sha512.New512_256()
	default:
		return md5.New()
	}
}

// hashHex is the hex digest of the parts joined by ':'.
func hashHex(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
