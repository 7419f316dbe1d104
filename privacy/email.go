package privacy

import "strings"

// emailScanner finds e-mail addresses, written (john.smith@example.com) and
// as an English recogniser writes them (john dot smith at example dot com).
//
// It runs after the digit detectors and treats their findings as if they were
// already replaced by a token: a finding's first byte reads as '[', its last
// as ']' and the bytes between as '#'. An address never swallows a phone
// number, and text that was redacted once finds nothing new the second time.
type emailScanner struct {
	s     string
	bars  []span // digit findings, sorted and disjoint
	cands []span
}

// at returns s[i], or a bracket or '#' inside a digit finding.
func (e *emailScanner) at(i int) byte {
	if len(e.bars) > 0 {
		lo, hi := 0, len(e.bars)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if e.bars[m].end <= i {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(e.bars) && e.bars[lo].start <= i {
			switch i {
			case e.bars[lo].start:
				return '['
			case e.bars[lo].end - 1:
				return ']'
			}
			return '#'
		}
	}
	return e.s[i]
}

func (e *emailScanner) scan() {
	s := e.s
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			if e.at(i) == '@' {
				e.written(i, i+1)
				e.spoken(i, i+1)
			}
		case c|0x20 == 'a' && i+1 < len(s) && s[i+1]|0x20 == 't':
			if (i == 0 || !e.wordByte(i-1)) && (i+2 == len(s) || !e.wordByte(i+2)) &&
				e.at(i) == c {
				e.spoken(i, i+2)
			}
		case c == 0xEF && hasAt(s, i, "＠"):
			e.written(i, i+len("＠"))
		}
	}
}

func (e *emailScanner) add(start, end int) {
	e.cands = append(e.cands, span{KindEmail, start, end})
}

// written checks for local@domain around the at-sign s[a0:a1].
func (e *emailScanner) written(a0, a1 int) {
	start := a0
	for start > 0 && a0-start <= 64 && localByte(e.at(start-1)) {
		start--
	}
	if start == a0 || a0-start > 64 || e.s[start] == '.' || start > 0 && e.at(start-1) == ']' {
		return
	}
	end := a1
	for end < len(e.s) && domainByte(e.at(end)) {
		if end-a1 > 253 {
			return
		}
		end++
	}
	if end = domainEnd(e.s[a1:end]); end > 0 {
		e.add(start, a1+end)
	}
}

// domainEnd returns the length of the longest prefix of d that is a domain
// name of at least two labels ending in an alphabetic top-level label, or 0.
func domainEnd(d string) int {
	best, labels, ls := 0, 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			continue
		}
		if i == ls || d[ls] == '-' || d[i-1] == '-' {
			return best
		}
		labels++
		if labels >= 2 && i-ls >= 2 && allLetters(d[ls:i]) {
			best = i
		}
		ls = i + 1
	}
	return best
}

// spoken checks for "local at domain dot tld" around the at word (or sign)
// s[a0:a1]. Before it: words joined by "dot", "underscore", "dash", "hyphen"
// (spaced) or by '.', '_', '-' (glued). After it: words joined by "dot",
// "dash", "hyphen" or '.', '-', the last one after a dot a plausible top-level
// domain.
func (e *emailScanner) spoken(a0, a1 int) {
	s := e.s
	// Domain.
	p := e.skipSpaces(a1)
	if p == a1 && a1-a0 > 1 {
		return // "at" must be followed by a space
	}
	ws, we, ok := e.wordAt(p)
	if !ok || keyword(s[ws:we]) || inList(s[ws:we], notDomain) {
		return
	}
	end := -1
	p = we
	for labels := 1; ; labels++ {
		if labels > 32 {
			return
		}
		var dot bool
		var ce int // end of the connector
		if c := e.at0(p); c == '.' || c == '-' {
			dot, ce = c == '.', p+1
		} else {
			q := e.skipSpaces(p)
			cs, cend, ok := e.wordAt(q)
			if q == p || !ok {
				break
			}
			switch w := s[cs:cend]; {
			case eqFold(w, "dot"):
				dot = true
			case eqFold(w, "dash"), eqFold(w, "hyphen"):
			default:
				ok = false
			}
			if !ok {
				break
			}
			ce = e.skipSpaces(cend)
			if ce == cend {
				break
			}
		}
		ws, we, ok := e.wordAt(ce)
		if !ok || keyword(s[ws:we]) {
			break
		}
		if dot && tld(s[ws:we]) {
			end = we
		}
		p = we
	}
	if end < 0 {
		return
	}
	// Local part, backwards from the at.
	q := e.skipSpacesBack(a0)
	if q == a0 && a1-a0 > 1 {
		return
	}
	ls, le, ok := e.wordBefore(q)
	if !ok || keyword(s[ls:le]) {
		return
	}
	// A connector with no word before it (".x at", "] dot x at") means the
	// address began in text already taken: take none of it.
	start := ls
	for links := 0; ; links++ {
		if links > 32 {
			return
		}
		var cs int // start of the connector
		if c := e.at0(start - 1); c == '.' || c == '_' || c == '-' {
			cs = start - 1
		} else {
			p := e.skipSpacesBack(start)
			ws, we, ok := e.wordBefore(p)
			if p == start || !ok {
				break
			}
			switch w := s[ws:we]; {
			case eqFold(w, "dot"), eqFold(w, "underscore"), eqFold(w, "dash"), eqFold(w, "hyphen"):
			default:
				ok = false
			}
			if !ok {
				break
			}
			cs = e.skipSpacesBack(ws)
			if cs == ws {
				break
			}
		}
		ws, we, ok := e.wordBefore(cs)
		if !ok || keyword(s[ws:we]) {
			return
		}
		start = ws
	}
	if start == ls && inList(s[ls:le], notLocal) {
		return // "I'll be at home dot it"
	}
	e.add(start, end)
}

// English words that are far likelier to stand before "at" in a sentence
// than to be a whole local part, and words that start a phrase after "at".
var (
	notLocal = []string{"i", "me", "we", "us", "you", "he", "him", "she", "her", "it", "they", "them",
		"be", "am", "is", "are", "was", "were", "been", "being", "not", "here", "there", "back",
		"home", "work", "look", "looking", "looked", "stay", "staying", "arrive", "arrived",
		"meet", "still", "only", "just", "and", "or", "but", "call", "called", "reach"}
	notDomain = []string{"the", "a", "an", "my", "your", "our", "his", "her", "their", "this",
		"that", "least", "all", "last", "first", "once", "about", "around", "noon", "night"}
)

func inList(w string, list []string) bool {
	if len(w) > 8 {
		return false
	}
	for _, x := range list {
		if eqFold(w, x) {
			return true
		}
	}
	return false
}

// at0 is at that reads 0 outside s.
func (e *emailScanner) at0(i int) byte {
	if i < 0 || i >= len(e.s) {
		return 0
	}
	return e.at(i)
}

// wordByte reports whether s[i] continues a word: an ASCII letter or digit,
// an apostrophe, or a bracket of a token.
func (e *emailScanner) wordByte(i int) bool {
	c := e.at(i)
	return isAlnum(c) || c == '\'' || c == '[' || c == ']' || c == '#' || c == '_'
}

// wordAt returns the word of ASCII letters and digits starting at i, if it
// stands alone (not glued to an apostrophe or a token).
func (e *emailScanner) wordAt(i int) (int, int, bool) {
	if i >= len(e.s) || !isAlnum(e.at(i)) || i > 0 && e.wordByte(i-1) {
		return 0, 0, false
	}
	j := i
	for j < len(e.s) && j-i < 64 && isAlnum(e.at(j)) {
		j++
	}
	if j < len(e.s) && e.wordByte(j) {
		return 0, 0, false
	}
	return i, j, true
}

// wordBefore returns the word ending at j.
func (e *emailScanner) wordBefore(j int) (int, int, bool) {
	i := j
	for i > 0 && j-i < 64 && isAlnum(e.at(i-1)) {
		i--
	}
	if i == j {
		return 0, 0, false
	}
	if i > 0 && e.wordByte(i-1) || j < len(e.s) && e.wordByte(j) {
		return 0, 0, false
	}
	return i, j, true
}

func (e *emailScanner) skipSpaces(i int) int {
	k := i
	for k < len(e.s) && k-i < 3 && e.s[k] == ' ' {
		k++
	}
	return k
}

func (e *emailScanner) skipSpacesBack(i int) int {
	k := i
	for k > 0 && i-k < 3 && e.s[k-1] == ' ' {
		k--
	}
	return k
}

func keyword(w string) bool {
	return eqFold(w, "at") || eqFold(w, "dot")
}

// tld reports whether a spoken word is a plausible top-level domain.
func tld(w string) bool {
	if len(w) == 2 {
		return allLetters(w)
	}
	for _, t := range [...]string{"com", "net", "org", "edu", "gov"} {
		if eqFold(w, t) {
			return true
		}
	}
	return false
}

func allLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isLetter(w[i]) {
			return false
		}
	}
	return w != ""
}

func localByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("._%+-", c) >= 0
}

func domainByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '-'
}
