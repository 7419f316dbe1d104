package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxRefold bounds the extra passes Fold makes to reach a fixed point (see
// Fold). One extra pass normally finds nothing to change; the rest is margin.
const maxRefold = 4

// Fold returns the canonical form of s used for matching and display:
// Unicode NFKC (full-width letters/digits/punctuation become ASCII), lower case,
// Traditional Chinese to Simplified, English negative contractions expanded
// ("don't"→"do not", "can't"/"cannot"→"can not", "won't"→"will not", also
// without apostrophe: "dont", "cant", "wont"…; "'m" "'re" "'ll" "'ve" "'d" become
// "am" "are" "will" "have" "would"; "it's"-style "'s" after a pronoun or
// question word becomes "is", "let's" becomes "let us"),
// Chinese and English number words turned into ASCII digits where they are
// numbers (see the package documentation), thousands separators removed
// ("1,000"→"1000"), runs of white space collapsed to one space ("\n" if the
// run contains a line break, so clause breaks survive), trimmed. Punctuation
// is kept (Units uses it for clause breaks). Invalid UTF-8 becomes U+FFFD.
//
// Fold is idempotent: Fold(Fold(s)) == Fold(s).
func Fold(s string) string {
	out, unsure := foldOnce(s)
	if !unsure {
		return out
	}
	// Some steps are not idempotent on their own: t2s leaves a traditional
	// character inside a phrase it knows ("乾清宮"→"乾清宫") that a second run
	// converts ("干清宫"), and number conversion can break such a phrase up.
	// Folding again until nothing changes makes the result a fixed point. Only
	// inputs that needed t2s or unusual case mapping pay for it.
	for range maxRefold {
		again, _ := foldOnce(out)
		if again == out {
			break
		}
		out = again
	}
	return out
}

// foldOnce runs the pipeline once. unsure reports that a step which is not
// idempotent by itself ran, so Fold must check for a fixed point.
func foldOnce(s string) (out string, unsure bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = norm.NFKC.String(s)
	lowered, nonASCII := lowerMap(s)
	if lowered != s {
		// A lower-case letter can compose with a following mark where the
		// upper-case one did not ("Y\u030a" → "ẙ"); normalise again (cheap
		// when already normal).
		s = norm.NFKC.String(lowered)
	}
	unsure = nonASCII
	if needsT2S(s) {
		s = t2s(s)
		unsure = true
	}
	s = foldEnglish(s)
	// After English numbers ("hundred,000"), before Chinese ("1,000万").
	s = removeThousandsSep(s)
	// Chinese numbers can complete a digit group next to a comma ("1,23四"
	// → "1,234" → "1234", "十,000万"), and the joined group can be the
	// coefficient of a unit: repeat until no separator goes (each round
	// removes at least one comma).
	for {
		s = foldChineseNumbers(s)
		t := removeThousandsSep(s)
		if t == s {
			break
		}
		s = t
	}
	s = collapseSpace(s)
	return s, unsure
}

// lowerMap lower-cases s, writes typographic apostrophes as "'" and other
// scripts' decimal digits as ASCII digits. It returns s itself when nothing
// changes; nonASCII reports a change to a character outside ASCII.
func lowerMap(s string) (_ string, nonASCII bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if mapRune(r) != r {
			break
		}
		i += n
	}
	if i == len(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		m := mapRune(r)
		if m != r && r >= utf8.RuneSelf {
			nonASCII = true
		}
		b.WriteRune(m)
	}
	return b.String(), nonASCII
}

func mapRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}
	if 0x3400 <= r && r < 0xa000 {
		return r // CJK ideographs: no case, no digits; the common case
	}
	switch r {
	case '\u2019', '\u2018', '\u02bc', '\u2032':
		// ’ is what phones and word processors type for "'"; ‘ and ′ are
		// common mistypes of it.
		return '\''
	}
	if unicode.IsDigit(r) {
		if d, ok := digitValue(r); ok {
			return '0' + d
		}
	}
	return unicode.ToLower(r)
}

// digitValue returns the value of a decimal digit of any script. Unicode
// allocates each script's digits as a contiguous block 0…9, and the Nd table
// lists those blocks as ranges whose lengths are multiples of ten.
func digitValue(r rune) (rune, bool) {
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
				return 0, false
			}
			return (r - rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
				return 0, false
			}
			return (r - rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}

// isSpace reports the characters Fold treats as white space: Unicode spaces,
// control characters, and the invisible zero-width space and BOM, which
// separate words but would otherwise glue tokens together.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r <= ' ' || r == 0x7f
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cc, r) || r == '\u200b' || r == '\ufeff'
}

// isLineBreak reports the white space that ends a line.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// collapseSpace replaces each run of white space by one space, or by "\n"
// when the run contains a line break, and trims both ends.
func collapseSpace(s string) string {
	// Fast path: nothing to do.
	clean := true
	prevSpace := true // so a leading space is not clean
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			sp := c <= ' ' || c == 0x7f
			if sp && (c != ' ' || prevSpace) {
				clean = false
				break
			}
			prevSpace = sp
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			clean = false
			break
		}
		prevSpace = false
		i += n
	}
	if clean && !prevSpace {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending, newline := false, false
	for _, r := range s {
		if isSpace(r) {
			pending = true
			newline = newline || isLineBreak(r)
			continue
		}
		if pending && b.Len() > 0 {
			if newline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		pending, newline = false, false
		b.WriteRune(r)
	}
	return b.String()
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

// removeThousandsSep deletes the commas of well-formed digit groups
// ("1,000,000"→"1000000") so "1,000" and "one thousand" fold alike. A group
// that is not well formed ("1,00", "1,000,00", "3,4,5") is left alone; it is
// more likely a list than a number.
func removeThousandsSep(s string) string {
	if strings.IndexByte(s, ',') < 0 {
		return s
	}
	var b []byte
	last := 0 // s[last:] not yet copied to b
	for i := 0; i < len(s); {
		if !isDigitByte(s[i]) {
			i++
			continue
		}
		// s[i] starts a digit group.
		j := i
		for j < len(s) && isDigitByte(s[j]) {
			j++
		}
		head := j - i
		prevOK := i == 0 || (s[i-1] != ',' && s[i-1] != '.')
		end, commas := j, 0
		for end+4 <= len(s) && s[end] == ',' && isDigitByte(s[end+1]) && isDigitByte(s[end+2]) && isDigitByte(s[end+3]) &&
			(end+4 == len(s) || !isDigitByte(s[end+4])) {
			end += 4
			commas++
		}
		// "1,000,00" or "1,000,5": a list, not one number.
		trailOK := end == len(s) || s[end] != ',' || end+1 == len(s) || !isDigitByte(s[end+1])
		if commas > 0 && head <= 3 && prevOK && trailOK {
			b = append(b, s[last:i]...)
			for k := i; k < end; k++ {
				if s[k] != ',' {
					b = append(b, s[k])
				}
			}
			last = end
		}
		i = end
	}
	if b == nil {
		return s
	}
	b = append(b, s[last:]...)
	return string(b)
}
