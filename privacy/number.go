package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// NumberMode is how caller numbers are kept (hotline's caller_numbers
// setting).
type NumberMode uint8

// The ways of keeping caller numbers.
const (
	NumbersFull   NumberMode = iota // as the PBX sent them
	NumbersMasked                   // 138****5678
	NumbersHash                     // h: and a keyed hash
)

// String returns the mode as written in the configuration: "full", "masked"
// or "hash".
func (m NumberMode) String() string {
	switch m {
	case NumbersFull:
		return "full"
	case NumbersMasked:
		return "masked"
	case NumbersHash:
		return "hash"
	}
	return fmt.Sprintf("NumberMode(%d)", uint8(m))
}

// NumberPolicy decides what is stored for a caller's number. The zero value
// keeps numbers in full and hashes them without a key (see Hash). A
// NumberPolicy is safe for concurrent use.
type NumberPolicy struct {
	mode NumberMode
	key  []byte
}

// ErrNoKey is returned by ParseNumberPolicy for mode "hash" without a key.
var ErrNoKey = errors.New(`privacy: caller_numbers "hash" needs a secret key`)

// ParseNumberPolicy returns the policy for a caller_numbers setting: "full"
// (or ""), "masked" or "hash" (case-insensitive). key is the secret for the
// keyed hash; it is copied. Mode "hash" without a key is an error (ErrNoKey):
// an unkeyed hash of a phone number is reversed by hashing every possible
// number, so it would only look private.
func ParseNumberPolicy(mode string, key []byte) (NumberPolicy, error) {
	p := NumberPolicy{key: append([]byte(nil), key...)}
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case "", "full":
		p.mode = NumbersFull
	case "masked":
		p.mode = NumbersMasked
	case "hash":
		p.mode = NumbersHash
		if len(key) == 0 {
			return NumberPolicy{}, ErrNoKey
		}
	default:
		return NumberPolicy{}, fmt.Errorf("privacy: unknown caller_numbers mode %q (want full, masked or hash)", mode)
	}
	if len(p.key) == 0 {
		p.key = nil
	}
	return p, nil
}

// Mode returns the policy's mode.
func (p NumberPolicy) Mode() NumberMode { return p.mode }

// String describes the policy without its key, for --print-config.
func (p NumberPolicy) String() string {
	if p.key == nil {
		return p.mode.String()
	}
	return p.mode.String() + " (key set)"
}

// Keep returns what is stored for a caller's number:
//
//   - full: number unchanged;
//   - masked: the normalised number (see NormalizeNumber) with its middle
//     masked: the first 3 and last 4 digits are kept when it has 8 digits or
//     more ("13800005678" → "138****5678", "+8613800005678" →
//     "+861******5678"), otherwise all but the last 2 are masked; a leading +
//     is kept;
//   - hash: Hash(number).
//
// An empty number (withheld) gives "".
func (p NumberPolicy) Keep(number string) string {
	switch p.mode {
	case NumbersMasked:
		return mask(NormalizeNumber(number))
	case NumbersHash:
		return p.Hash(number)
	}
	return number
}

// Hash returns "h:" and the first 16 hex digits of HMAC-SHA256(key,
// NormalizeNumber(number)), whatever the mode, so that "forget this caller"
// finds a caller's rows however their number is stored. The same caller
// hashes the same however the PBX wrote the number, as far as NormalizeNumber
// can tell (it cannot tell 13800138000 from +8613800138000).
//
// Without a key (a policy in mode full or masked configured without one, or
// the zero NumberPolicy) Hash falls back to an unkeyed SHA-256 of the
// normalised number. That is NOT private: phone numbers are few enough to hash
// them all. It only serves to match rows; configure a key to protect them.
//
// An empty number gives "".
func (p NumberPolicy) Hash(number string) string {
	n := NormalizeNumber(number)
	if n == "" {
		return ""
	}
	var sum []byte
	if p.key != nil {
		m := hmac.New(sha256.New, p.key)
		m.Write([]byte(n))
		sum = m.Sum(nil)
	} else {
		h := sha256.Sum256([]byte(n))
		sum = h[:]
	}
	return "h:" + hex.EncodeToString(sum[:8])
}

// mask keeps the first 3 and last 4 digits of 8 or more, else the last 2,
// and a leading +. A non-numeric user name is masked the same way, by
// character.
func mask(n string) string {
	prefix := ""
	if strings.HasPrefix(n, "+") {
		prefix, n = "+", n[1:]
	}
	count := utf8.RuneCountInString(n)
	keepHead, keepTail := 3, 4
	if count < 8 {
		keepHead, keepTail = 0, 2
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(n))
	b.WriteString(prefix)
	i := 0
	for _, r := range n {
		if i < keepHead || i >= count-keepTail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// NormalizeNumber returns a caller's number in one canonical form, so that
// the same caller hashes the same whichever way the PBX wrote the number:
//
//   - of a SIP or tel URI (also inside <...> after a display name), only the
//     user part: "sip:+8613800138000@pbx;user=phone" → "+8613800138000",
//     "tel:+44-20-7946-0958;phone-context=x" → "+442079460958";
//   - percent-escapes decoded, full-width digits made ASCII;
//   - visual separators (spaces, - . ( ) /) dropped, a leading + kept, and
//     the trunk "(0)" of "+44 (0)20 7946 0958" dropped;
//   - an international prefix 00 becomes +: "0086 138 0013 8000" →
//     "+8613800138000".
//
// A user part that is not a number ("anonymous", "alice") is returned as it
// is. A number written nationally (13800138000) and internationally
// (+8613800138000) stays different: telling them apart needs the PBX's
// country, so configure the PBX to send E.164.
func NormalizeNumber(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
		s = s[strings.IndexByte(s, ':')+1:]
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			s = s[:at]
		} else if semi := strings.IndexByte(s, ';'); semi >= 0 {
			s = s[:semi]
		}
		if semi := strings.IndexByte(s, ';'); semi >= 0 {
			s = s[:semi] // user-part parameters (;isub=, ;postd=)
		}
		if colon := strings.IndexByte(s, ':'); colon >= 0 {
			s = s[:colon] // user:password
		}
	case strings.HasPrefix(lower, "tel:"):
		s = s[len("tel:"):]
		if semi := strings.IndexByte(s, ';'); semi >= 0 {
			s = s[:semi]
		}
	}
	if strings.IndexByte(s, '%') >= 0 {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		s = strings.Replace(s, "(0)", "", 1) // +44 (0)20 …: the trunk 0 is not dialled
	}
	var b strings.Builder
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
			b.WriteRune(r)
			digits++
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
			digits++
		case r == '+' || r == '＋':
			if i != 0 {
				return s
			}
			b.WriteByte('+')
		case r == ' ', r == '-', r == '.', r == '(', r == ')', r == '/', r == 0xA0, r == '\t':
		default:
			return s // not a number: a SIP user name
		}
	}
	if digits == 0 {
		return s
	}
	n := b.String()
	if strings.HasPrefix(n, "00") && len(n) > 2 {
		n = "+" + n[2:]
	}
	return n
}
