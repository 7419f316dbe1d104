package privacy

import (
	"strings"
	"testing"
)

// FuzzRedact: Redact never panics, agrees with Find, is idempotent, and a
// card or ID it reports does not survive in its output.
func FuzzRedact(f *testing.F) {
	for _, c := range redactCases(f) {
		f.Add(c.in)
	}
	for _, s := range []string{
		"13800138000.x@qq.com", "13800138000-x@qq.com", "a@13800138000.com", "x at [email] dot com",
		"[phone].x@qq.com", "13800138000 dot john at x dot com", "a1-13800138000 at x dot com",
		"a@b.co_13800138000", "john at x dot com-13800138000", "11010519491231002X-13800138000",
		"+86 138 0013 8000 0086 138 0013 8000", "double", "plus", "(", "(+", "＋", "（１", "o o o",
		"oh double oh", "triple 0", "幺三八零零一三八零零零5", "one,one,one,one,one,one,one,one,one",
	} {
		f.Add(s)
	}
	r := New()
	f.Fuzz(func(t *testing.T, s string) {
		found := r.Find(s)
		checkFindings(t, s, found)
		out := r.Redact(s)

		// Redact replaces exactly what Find reports.
		var b strings.Builder
		last := 0
		for _, x := range found {
			b.WriteString(s[last:x.Start])
			b.WriteString(x.Kind.Token())
			last = x.End
		}
		b.WriteString(s[last:])
		if out != b.String() {
			t.Fatalf("Redact(%q) = %q, but Find says %q", s, out, b.String())
		}

		if again := r.Redact(out); again != out {
			t.Fatalf("not idempotent: Redact(%q) = %q, Redact of that = %q (%v)", s, out, again, r.Find(out))
		}

		for _, x := range found {
			if x.Kind != KindCard && x.Kind != KindID {
				continue
			}
			d := digitsOf(x.Text)
			if len(d) < 13 {
				continue // spelled out in English words
			}
			if strings.Contains(out, d) && !occursOutside(s, d, found) {
				t.Fatalf("output %q still holds the %v %q", out, x.Kind, d)
			}
		}
	})
}

// digitsOf returns the ASCII digits (and X) of typed text; spoken digits are
// skipped, which is enough for the check above.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == 'X':
			b.WriteRune(r)
		case r == 'x':
			b.WriteByte('X')
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		default:
			if v := hanDigit(r); v >= 0 {
				b.WriteByte(byte('0' + v))
			}
		}
	}
	return b.String()
}

// occursOutside reports whether d occurs in s somewhere no finding covers.
func occursOutside(s, d string, found []Finding) bool {
	for i := 0; ; {
		k := strings.Index(s[i:], d)
		if k < 0 {
			return false
		}
		k += i
		inside := false
		for _, f := range found {
			if k < f.End && k+len(d) > f.Start {
				inside = true
			}
		}
		if !inside {
			return true
		}
		i = k + 1
	}
}

// TestRandomTokens strings together the pieces the detectors care about, at
// random, and checks what FuzzRedact checks; byte mutation seldom builds
// "three eight oh at x dot cn" on its own.
func TestRandomTokens(t *testing.T) {
	pieces := []string{
		"0", "1", "3", "4", "8", "00", "13", "138", "0013", "8000", "4111", "1111", "020", "7946", "0958",
		"415", "555", "0132", "86", "44", "110105", "19491231", "002", "6222",
		"one", "three", "eight", "zero", "oh", "o", "double", "triple", "plus", "x", "X", "nine",
		"幺", "三", "八", "零", "两", "一", "１", "３", "８", "０", "Ｘ",
		" ", " ", " ", " ", "-", ".", ",", "，", "(", ")", "（", "）", "+", "＋", "@", "＠", "_",
		"at", "dot", "com", "cn", "uk", "dash", "underscore", "john", "a1", "AA", "the", "be",
		"[phone]", "[card]", "[id]", "[email]", "[", "]", "'", "号", "\n",
	}
	r := New()
	seed := uint64(20261127)
	next := func() uint64 { // xorshift: deterministic, no math/rand state to share
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return seed
	}
	n := 30000
	if testing.Short() {
		n = 3000
	}
	for range n {
		var b strings.Builder
		for k := int(next()%24) + 1; k > 0; k-- {
			b.WriteString(pieces[next()%uint64(len(pieces))])
		}
		s := b.String()
		found := r.Find(s)
		checkFindings(t, s, found)
		out := r.Redact(s)
		if again := r.Redact(out); again != out {
			t.Fatalf("not idempotent: Redact(%q) = %q, Redact of that = %q (%v)", s, out, again, r.Find(out))
		}
	}
}
