package graph

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// wrapCols is the width of a prompt line in a drawn node, in columns where a
// Chinese character counts two: about 14 Chinese characters or 28 letters.
const wrapCols = 28

// lines splits a label at its line breaks; \r\n, \r and Unicode line and
// paragraph separators count as breaks too.
func lines(s string) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(s)
	return strings.Split(s, "\n")
}

// cols is the display width of r in columns.
func cols(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// wrap breaks s into lines of at most n columns where it can: at spaces,
// between Chinese characters, and where Chinese meets Latin text; never
// inside a Latin word or a {{placeholder}} that fits on a line, nor before
// closing punctuation (a line starting with "。" looks broken). Lines are
// balanced, so that a prompt does not end with a line of one character.
func wrap(s string, n int) []string {
	total := 0
	for _, r := range s {
		total += cols(r)
	}
	if total <= n {
		return []string{s}
	}
	k := (total + n - 1) / n
	if out := wrapGreedy(s, (total+k-1)/k+1); len(out) <= k {
		return out
	}
	return wrapGreedy(s, n)
}

// wrapGreedy fills each line as far as it can.
func wrapGreedy(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		w, cut, lastBreak := 0, len(s), 0
		prev := rune(-1)
		for i, r := range s {
			if prev >= 0 && canBreak(prev, r) {
				lastBreak = i
			}
			w += cols(r)
			if w > n && i > 0 && !noLineStart(r) {
				cut = i
				if lastBreak > 0 {
					cut = lastBreak
				}
				break
			}
			prev = r
		}
		out = append(out, strings.TrimRight(s[:cut], " "))
		s = strings.TrimLeft(s[cut:], " ")
	}
	return out
}

// canBreak reports whether a line may end after a and start with b.
func canBreak(a, b rune) bool {
	if noLineStart(b) || strings.ContainsRune("([{（「『【《〈“‘", a) {
		return false
	}
	if a == '{' || b == '}' {
		return false
	}
	return a == ' ' || cols(a) == 2 || cols(b) == 2
}

// noLineStart reports closing punctuation, which must not start a line.
func noLineStart(r rune) bool {
	return strings.ContainsRune("。，、．！？：；）」』】》〉”’…,.!?:;)]}%", r)
}

// nodeLines are the lines of a node's drawn label: its title, then its
// prompt, wrapped.
func nodeLines(n Node) []string {
	out := lines(n.Label)
	if n.Prompt != "" {
		for _, l := range lines(n.Prompt) {
			out = append(out, wrap(l, wrapCols)...)
		}
	}
	return out
}

// helveticaEm are the advance widths of printable ASCII (space to ~) in
// Helvetica/Arial, in thousandths of an em. Noto Sans CJK and the other fonts
// of fontFamily draw Latin text no wider, so boxes sized with these fit.
var helveticaEm = [95]uint16{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
	278, 278, 584, 584, 584, 556, 1015, // : to @
	667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A-M
	722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N-Z
	278, 278, 278, 469, 556, 333, // [ to `
	556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a-m
	556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n-z
	334, 260, 334, 584, // { to ~
}

// runeEm estimates how wide r is drawn, in em: Chinese, Japanese, Korean and
// full-width characters 1 em, Latin letters about 0.55 em, digits and most
// punctuation narrower; marks that combine with the character before them
// and invisible format characters nothing.
func runeEm(r rune) float64 {
	if r < utf8.RuneSelf {
		if r < ' ' || r == 0x7f {
			return 0
		}
		return float64(helveticaEm[r-' ']) / 1000
	}
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc) ||
		0xFE00 <= r && r <= 0xFE0F || 0xE0100 <= r && r <= 0xE01EF { // variation selectors
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 1
	case width.EastAsianHalfwidth:
		return 0.5
	case width.EastAsianAmbiguous:
		// Fonts with Chinese glyphs draw ambiguous punctuation and symbols
		// (“ ” … ° ♪ ①) full width; Greek and Cyrillic letters are not.
		if !unicode.IsLetter(r) {
			return 1
		}
	}
	switch {
	case r >= 0x10000: // emoji and other pictographs
		return 1
	case unicode.IsLetter(r), unicode.IsDigit(r):
		return 0.62
	case unicode.IsSpace(r):
		return 0.28
	}
	return 0.8
}

// textWidth estimates the width of one line of text drawn at size pixels.
// Bold text is about 7% wider.
func textWidth(s string, size float64, bold bool) float64 {
	var em float64
	for _, r := range s {
		em += runeEm(r)
	}
	if bold {
		em *= 1.07
	}
	return em * size
}
