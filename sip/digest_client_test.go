package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// hexOf is an independent H(a:b:…) for the tests (the code under test goes
// through github.com/icholy/digest).
func hexOf(newHash func() hash.Hash, parts ...string) string {
	h := newHash()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

func challengeResponse(code int, values ...string) *sip.Response {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "pbx.test"})
	res := sip.NewResponseFromRequest(req, code, "Unauthorized", nil)
	name := "WWW-Authenticate"
	if code == 407 {
		name = "Proxy-Authenticate"
	}
	for _, v := range values {
		res.AppendHeader(sip.NewHeader(name, v))
	}
	return res
}

// TestDigestClientAnswers checks the answers against RFC 2617/7616's
// formulas computed here: MD5 and SHA-256, qop=auth and none, -sess, the
// nonce count across authorize, the header name for 401 and 407.
func TestDigestClientAnswers(t *testing.T) {
	const user, pass, realm, nonce, uri = "hotline", "s3cret", "pbx.test", "abc123", "sip:pbx.test"
	cases := []struct {
		name      string
		code      int
		challenge string
		newHash   func() hash.Hash
		qop       bool
		sess      bool
	}{
		{"md5-auth", 401, `Digest realm="pbx.test", nonce="abc123", qop="auth", algorithm=MD5`, md5.New, true, false},
		{"md5-rfc2069", 401, `Digest realm="pbx.test", nonce="abc123"`, md5.New, false, false},
		{"sha256-auth", 401, `Digest realm="pbx.test", nonce="abc123", qop="auth,auth-int", algorithm=SHA-256`, sha256.New, true, false},
		{"sha256-proxy", 407, `Digest realm="pbx.test", nonce="abc123", qop="auth", algorithm=SHA-256`, sha256.New, true, false},
		{"md5-sess", 401, `Digest realm="pbx.test", nonce="abc123", qop="auth", algorithm=MD5-sess`, md5.New, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dc := digestClient{user: user, pass: pass}
			h, err := dc.answer(challengeResponse(c.code, c.challenge), "REGISTER", uri, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantName := "Authorization"
			if c.code == 407 {
				wantName = "Proxy-Authorization"
			}
			if h.Name() != wantName {
				t.Errorf("header %s, want %s", h.Name(), wantName)
			}
			var cnonce0 string
			for i, wantNC := range []string{"00000001", "00000002", "00000003"} {
				if i > 0 {
					var ok bool
					if h, ok = dc.authorize("REGISTER", uri, nil); !ok {
						t.Fatal("authorize: no kept challenge")
					}
				}
				p := authParams(h.Value())
				if p["username"] != user || p["realm"] != realm || p["nonce"] != nonce || p["uri"] != uri {
					t.Fatalf("credentials %s", h.Value())
				}
				ha1 := hexOf(c.newHash, user, realm, pass)
				if c.sess {
					if cnonce0 == "" {
						cnonce0 = p["cnonce"]
					}
					if p["cnonce"] != cnonce0 {
						t.Errorf("-sess: cnonce changed within the nonce")
					}
					ha1 = hexOf(c.newHash, ha1, nonce, p["cnonce"])
				}
				ha2 := hexOf(c.newHash, "REGISTER", uri)
				var want string
				if c.qop {
					if p["qop"] != "auth" || p["nc"] != wantNC || p["cnonce"] == "" {
						t.Fatalf("round %d: qop %q nc %q cnonce %q", i, p["qop"], p["nc"], p["cnonce"])
					}
					want = hexOf(c.newHash, ha1, nonce, p["nc"], p["cnonce"], "auth", ha2)
				} else {
					if p["qop"] != "" || p["nc"] != "" {
						t.Fatalf("qop %q nc %q without qop in the challenge", p["qop"], p["nc"])
					}
					want = hexOf(c.newHash, ha1, nonce, ha2)
				}
				if p["response"] != want {
					t.Errorf("round %d: response %s, want %s", i, p["response"], want)
				}
			}
			dc.forget()
			if _, ok := dc.authorize("REGISTER", uri, nil); ok {
				t.Error("authorize after forget")
			}
		})
	}
}

// TestDigestClientPicksAndRefuses: the first challenge with an algorithm we
// know wins; nothing answerable is ErrNoChallenge; stale is seen.
func TestDigestClientPicksAndRefuses(t *testing.T) {
	res := challengeResponse(401,
		`Digest realm="r", nonce="n1", qop="auth", algorithm=SHA3-512`,
		`Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256`,
		`Digest realm="r", nonce="n3", qop="auth", algorithm=MD5`)
	h, err := answerChallenge(res, "INVITE", "sip:a@b", nil, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if p := authParams(h.Value()); p["nonce"] != "n2" || !strings.EqualFold(p["algorithm"], "SHA-256") {
		t.Errorf("picked %s", h.Value())
	}
	for _, bad := range []*sip.Response{
		challengeResponse(401, `Digest realm="r", nonce="n", algorithm=SHA3-512`),
		challengeResponse(401, `Digest realm="r", nonce="n", qop="auth-conf"`),
		challengeResponse(401),
	} {
		if _, err := answerChallenge(bad, "REGISTER", "sip:b", nil, "u", "p"); !errors.Is(err, ErrNoChallenge) {
			t.Errorf("%v: err %v, want ErrNoChallenge", bad.GetHeaders("WWW-Authenticate"), err)
		}
	}
	if _, err := answerChallenge(challengeResponse(403), "REGISTER", "sip:b", nil, "u", "p"); err == nil {
		t.Error("403 answered as a challenge")
	}
	if challengeStale(challengeResponse(401, `Digest realm="r", nonce="n"`)) {
		t.Error("stale without stale=true")
	}
	if !challengeStale(challengeResponse(401, `Digest realm="r", nonce="n", stale=true`)) {
		t.Error("stale=true not seen")
	}
	if !challengeStale(challengeResponse(407, `Digest realm="r", nonce="n", stale=TRUE`)) {
		t.Error("stale=TRUE in a 407 not seen")
	}
}
