package privacy

import (
	"time"
	"unicode/utf8"
)

// How digits are found.
//
// The scanner walks the text once and turns every way a recogniser or a
// person writes a digit into digit tokens with byte spans: ASCII and
// full-width digits, Chinese digit characters read one by one, English digit
// words ("oh", "double three"). Tokens joined by a short separator (spaces, one
// hyphen, one dot between typed digits, one comma next to spoken digits, a
// parenthesis) form a run of groups; anything else ends the run. Every window
// of whole consecutive groups with 8 to 20 digits is then checked: ID number,
// card number, phone number, in that order. How a number is grouped is
// evidence: typed digits must be grouped the way that kind of number is
// written (a 10-digit North American number needs 415-555-0132 or
// (415) 555-0132, a card 4-4-4-4, ...); spoken digits carry no reliable
// grouping, so windows with a spoken group are judged on their digits alone.

type class uint8

const (
	clsStrict class = iota // ASCII or full-width digits: typed, grouping is meaningful
	clsHan                 // Chinese digit characters
	clsWord                // English digit words
)

type sepKind uint8

const (
	sepNone   sepKind = iota // nothing between: script change or parenthesis
	sepSpace                 // spaces only
	sepHyphen                // one hyphen (with spaces or not)
	sepDot                   // one dot
	sepComma                 // one comma or 、
)

const (
	maxDigits = 20 // longest window: "00" + 15-digit E.164 and a "(0)"; cards are 19
	minDigits = 8  // shortest finding: "+" and 8 digits
	groupBuf  = 48 // groups held per run; a window spans at most maxDigits groups
)

// dtok is one digit token, or a group of them.
type dtok struct {
	start, end int // bytes, including "(" ")" "+" or "plus "
	xEnd       int // end including a trailing check character X (== end if none)
	n          int // digits; only the first maxDigits are kept in d
	d          [maxDigits]byte
	cls        class // class of the last token
	spoken     bool  // has a Chinese or English spoken digit
	joined     bool  // typed, and joined to the typed group before it by sep
	paren      bool  // written in parentheses
	plus       bool  // preceded by + or "plus"
	x          bool  // followed by the ID check character X
	bad        bool  // part of an alphanumeric code: never a finding, ends the run
	sep        sepKind
}

func (t *dtok) push(c byte) {
	if t.n < maxDigits {
		t.d[t.n] = c
	}
	t.n++
}

type digitScanner struct {
	s        string
	r        *Redactor
	now      func() time.Time
	lastWord int // end of the last English digit word, -1 if none

	groups [groupBuf]dtok
	ng     int
	cands  []span // candidates of the current run
	found  []span // accepted findings, sorted

	record bool   // collect spans: every group and every code-like token
	spans  []span // when record, in order
}

func (sc *digitScanner) scan() {
	i := 0
	for {
		t, ok := sc.next(i)
		if !ok {
			break
		}
		i = t.xEnd
		if t.bad {
			sc.flush()
			if sc.record {
				sc.spans = append(sc.spans, span{0, t.start, t.end})
			}
			continue
		}
		sc.add(&t)
		if t.x {
			sc.flush()
		}
	}
	sc.flush()
}

// add puts a token into the current run: into the last group, as a new
// group, or as the first group of a new run.
func (sc *digitScanner) add(t *dtok) {
	if sc.ng > 0 {
		g := &sc.groups[sc.ng-1]
		same, sep, ok := sc.relate(g, t)
		if ok && same {
			for k := 0; k < t.n && k < maxDigits; k++ {
				g.push(t.d[k])
			}
			if t.n > maxDigits {
				g.n += t.n - maxDigits
			}
			g.end, g.xEnd, g.x = t.end, t.xEnd, t.x
			g.cls = t.cls
			g.spoken = g.spoken || t.spoken
			return
		}
		if ok {
			t.sep = sep
			t.joined = !g.spoken && !t.spoken && (sep == sepSpace || sep == sepHyphen || sep == sepDot)
			sc.finalize(sc.ng-1, t)
			sc.push(t)
			return
		}
		sc.flush()
	}
	t.sep, t.joined = sepNone, false
	sc.push(t)
}

func (sc *digitScanner) push(t *dtok) {
	if sc.ng == groupBuf {
		copy(sc.groups[:], sc.groups[groupBuf-maxDigits:])
		sc.ng = maxDigits
	}
	sc.groups[sc.ng] = *t
	sc.ng++
}

// relate decides how token t follows group g: same group, new group after a
// separator, or (ok false) a new run.
func (sc *digitScanner) relate(g, t *dtok) (same bool, sep sepKind, ok bool) {
	if g.x || t.plus || t.start < g.xEnd {
		return false, 0, false
	}
	gap := sc.s[g.end:t.start]
	if gap == "" {
		if g.cls == t.cls && !g.paren && !t.paren {
			return true, sepNone, true
		}
		return false, sepNone, true
	}
	if len(gap) > 12 {
		return false, 0, false
	}
	spaces, punct := 0, 0
	sep = sepSpace
	for _, r := range gap {
		switch r {
		case ' ', '\t', 0xA0, 0x3000:
			spaces++
		case '-', 0x2010, 0x2011, 0x2013, 0xFF0D:
			punct++
			sep = sepHyphen
		case '.':
			punct++
			sep = sepDot
		case ',', 0xFF0C, 0x3001:
			punct++
			sep = sepComma
		default:
			return false, 0, false
		}
	}
	if spaces > 3 || punct > 1 {
		return false, 0, false
	}
	switch sep {
	case sepComma:
		if !g.spoken && !t.spoken {
			return false, 0, false
		}
	case sepDot:
		if g.spoken || t.spoken {
			return false, 0, false
		}
	}
	if g.cls == clsWord && t.cls == clsWord && (sep == sepSpace || sep == sepHyphen) {
		return true, sep, true
	}
	return false, sep, true
}

// flush ends the current run: its last group's windows are checked and its
// candidates resolved into findings.
func (sc *digitScanner) flush() {
	if sc.ng > 0 {
		sc.finalize(sc.ng-1, nil)
	}
	sc.ng = 0
	if len(sc.cands) > 0 {
		sc.found = resolve(sc.cands, sc.found)
		sc.cands = sc.cands[:0]
	}
}

// finalize checks every window that ends with group j; next is the group
// that follows it in the run, if any.
func (sc *digitScanner) finalize(j int, next *dtok) {
	if sc.record {
		// Without a trailing X: an address may start at the X of
		// "415-555-0132 x at ...", which cuts no digits.
		sc.spans = append(sc.spans, span{0, sc.groups[j].start, sc.groups[j].end})
	}
	after := sepNone
	if next != nil && next.joined {
		after = next.sep
	}
	total := 0
	for i := j; i >= 0; i-- {
		total += sc.groups[i].n
		if total > maxDigits {
			break
		}
		if total >= minDigits {
			sc.eval(i, j, total, after)
		}
	}
}

// eval checks the window of groups i..j holding n digits; after is the
// separator joining it to a typed group after it (sepNone if none).
func (sc *digitScanner) eval(i, j, n int, after sepKind) {
	gs := sc.groups[i : j+1]
	var buf [maxDigits + 1]byte
	k := 0
	strict, paren := true, false
	for g := range gs {
		k += copy(buf[k:], gs[g].d[:gs[g].n])
		strict = strict && !gs[g].spoken
		paren = paren || gs[g].paren
	}
	d := buf[:n]
	first, last := &gs[0], &gs[len(gs)-1]
	plain := !first.plus && !paren
	if plain && sc.r.Enabled(KindID) {
		if last.x && n == 17 {
			buf[17] = 'X'
			if validID(buf[:18], sc.now) {
				sc.cands = append(sc.cands, span{KindID, first.start, last.xEnd})
				return
			}
		}
		if n == 18 && validID(d, sc.now) {
			sc.cands = append(sc.cands, span{KindID, first.start, last.end})
			return
		}
	}
	if plain && sc.r.Enabled(KindCard) && validCard(d) && (!strict || cardShape(gs)) {
		sc.cands = append(sc.cands, span{KindCard, first.start, last.end})
		return
	}
	if !sc.r.Enabled(KindPhone) {
		return
	}
	ok, weak := validPhone(gs, d, strict)
	if ok && weak && strict && len(gs) > 1 {
		// A number recognised only by its shape is not taken out of a longer
		// typed number written the same way: the middle of
		// "9222 0212 3456 7890 128" is not the UK number 0212 345 67890.
		inner := gs[1].sep
		if first.joined && first.sep == inner || after != sepNone && after == inner {
			ok = false
		}
	}
	if ok {
		sc.cands = append(sc.cands, span{KindPhone, first.start, last.end})
	}
}

// next returns the first digit token at or after byte i.
func (sc *digitScanner) next(i int) (dtok, bool) {
	s := sc.s
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case isLetter(c):
				j := i + 1
				for j < len(s) && isLetter(s[j]) {
					j++
				}
				if t, ok := sc.word(i, j); ok {
					return t, true
				}
				i = j
				continue
			case isDigit(c), c == '+', c == '(', c == '[':
				if t, ok := sc.at(i); ok {
					return t, true
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= '＋' && r <= '９' || r == '（' || hanDigit(r) >= 0 {
			if t, ok := sc.at(i); ok {
				return t, true
			}
		}
		i += size
	}
	return dtok{}, false
}

// at returns the digit token that starts exactly at byte i, if any (English
// words are handled by word).
func (sc *digitScanner) at(i int) (dtok, bool) {
	s := sc.s
	c := s[i]
	switch {
	case isDigit(c):
		return sc.typed(i, i, false, false), true
	case c == '+':
		if typedDigitAt(s, i+1) && plusOK(s, i) {
			return sc.typed(i, i+1, false, true), true
		}
		return dtok{}, false
	case c == '(':
		return sc.paren(i, 1)
	case c == '[':
		// A token of an earlier redaction stands for the number it replaced:
		// never part of a finding, but a neighbour all the same, so that
		// redacted text is read the way the original was.
		for k := KindID; k <= KindEmail; k++ {
			if hasAt(s, i, k.Token()) {
				t := dtok{start: i, end: i + len(k.Token()), n: maxDigits + 1, cls: clsStrict}
				t.xEnd = t.end
				return t, true
			}
		}
		return dtok{}, false
	case c < utf8.RuneSelf:
		if isLetter(c) {
			j := i + 1
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			return sc.word(i, j)
		}
		return dtok{}, false
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r >= '０' && r <= '９':
		return sc.typed(i, i, false, false), true
	case r == '＋':
		if typedDigitAt(s, i+size) && plusOK(s, i) {
			return sc.typed(i, i+size, false, true), true
		}
	case r == '（':
		return sc.paren(i, size)
	case hanDigit(r) >= 0:
		return sc.han(i), true
	}
	return dtok{}, false
}

// typed reads ASCII and full-width digits from p; the token starts at start
// (before a "+" or "(").
func (sc *digitScanner) typed(start, p int, paren, plus bool) dtok {
	s := sc.s
	t := dtok{start: start, cls: clsStrict, paren: paren, plus: plus}
	k := p
	for k < len(s) {
		if isDigit(s[k]) {
			t.push(s[k])
			k++
			continue
		}
		if v := wideDigitAt(s, k); v >= 0 {
			t.push(byte('0' + v))
			k += 3
			continue
		}
		break
	}
	t.end, t.xEnd = k, k
	if paren {
		return t
	}
	if xe := checkX(s, k); xe > 0 {
		t.x, t.xEnd = true, xe
	}
	// Digits that are part of an alphanumeric code (SO12345, a UUID, 3rd)
	// are not personal data on their own.
	if !plus && start > 0 {
		c := s[start-1]
		if isLetter(c) || c == '_' {
			t.bad = true
		} else if (c == '-' || c == '_') && mixedWordBefore(s, start-1) {
			t.bad = true
		}
	}
	if !t.x && k < len(s) {
		c := s[k]
		if isLetter(c) || c == '_' {
			t.bad = true
		} else if (c == '-' || c == '_') && mixedWordAfter(s, k+1) {
			t.bad = true
		}
	}
	return t
}

// paren reads "(digits)" or "(+digits)", also with full-width parentheses;
// open is the length of the opening parenthesis.
func (sc *digitScanner) paren(i, open int) (dtok, bool) {
	s := sc.s
	k := i + open
	plus := false
	if k < len(s) && s[k] == '+' {
		plus = true
		k++
	} else if hasAt(s, k, "＋") {
		plus = true
		k += len("＋")
	}
	if !typedDigitAt(s, k) {
		return dtok{}, false
	}
	t := sc.typed(i, k, true, plus)
	switch {
	case t.end < len(s) && s[t.end] == ')':
		t.end++
	case hasAt(s, t.end, "）"):
		t.end += len("）")
	default:
		return dtok{}, false
	}
	t.xEnd = t.end
	return t, true
}

// han reads Chinese digit characters from i.
func (sc *digitScanner) han(i int) dtok {
	s := sc.s
	t := dtok{start: i, cls: clsHan, spoken: true}
	k := i
	for k < len(s) {
		r, size := utf8.DecodeRuneInString(s[k:])
		v := hanDigit(r)
		if v < 0 {
			break
		}
		t.push(byte('0' + v))
		k += size
	}
	t.end, t.xEnd = k, k
	if xe := checkX(s, k); xe > 0 {
		t.x, t.xEnd = true, xe
	}
	return t
}

// word returns the digit token of the English word s[i:j] (a maximal run of
// ASCII letters): a digit word, "oh"/"o" inside a digit run, "double"/"triple"
// and the digit after it, or "plus" before digits.
func (sc *digitScanner) word(i, j int) (dtok, bool) {
	s := sc.s
	if !wordBounded(s, i, j) {
		return dtok{}, false
	}
	w := s[i:j]
	v, weak := digitWord(w)
	switch {
	case v >= 0 && (!weak || sc.weakOK(i, j)):
		t := dtok{start: i, end: j, cls: clsWord, spoken: true}
		t.push(byte('0' + v))
		return sc.wordDone(t), true
	case eqFold(w, "double") || eqFold(w, "triple"):
		times := 2
		if w[0]|0x20 == 't' {
			times = 3
		}
		k := skipWordSep(s, j)
		if k == j || k >= len(s) {
			return dtok{}, false
		}
		t := dtok{start: i, cls: clsWord, spoken: true}
		switch {
		case isLetter(s[k]):
			e := k + 1
			for e < len(s) && isLetter(s[e]) {
				e++
			}
			dv, _ := digitWord(s[k:e])
			if dv < 0 || !wordBounded(s, k, e) {
				return dtok{}, false
			}
			v, t.end = dv, e
		case isDigit(s[k]) && (k+1 == len(s) || !isAlnum(s[k+1])):
			v, t.end = int(s[k]-'0'), k+1
		default:
			return dtok{}, false
		}
		for range times {
			t.push(byte('0' + v))
		}
		return sc.wordDone(t), true
	case eqFold(w, "plus"):
		k := j
		for k < len(s) && k-j < 3 && s[k] == ' ' {
			k++
		}
		if k == j || k >= len(s) {
			return dtok{}, false
		}
		t, ok := sc.at(k)
		if !ok || t.start != k || t.bad || t.plus {
			return dtok{}, false
		}
		t.start, t.plus = i, true
		return t, true
	}
	return dtok{}, false
}

func (sc *digitScanner) wordDone(t dtok) dtok {
	sc.lastWord = t.end
	t.xEnd = t.end
	if xe := checkX(sc.s, t.end); xe > 0 {
		t.x, t.xEnd = true, xe
	}
	return t
}

// weakOK reports whether "oh" or "o" at s[i:j] is a zero: it is when a digit
// word comes right before it or a digit word follows it (through more "oh"s).
func (sc *digitScanner) weakOK(i, j int) bool {
	s := sc.s
	if sc.lastWord >= 0 && sc.lastWord < i && skipWordSep(s, sc.lastWord) == i {
		return true
	}
	k := j
	for range 16 {
		k2 := skipWordSep(s, k)
		if k2 == k || k2 >= len(s) || !isLetter(s[k2]) {
			return false
		}
		e := k2 + 1
		for e < len(s) && isLetter(s[e]) {
			e++
		}
		if !wordBounded(s, k2, e) {
			return false
		}
		w := s[k2:e]
		v, weak := digitWord(w)
		switch {
		case v >= 0 && !weak:
			return true
		case v >= 0:
			k = e
		case eqFold(w, "double") || eqFold(w, "triple"):
			return true
		default:
			return false
		}
	}
	return false
}

// digitWord returns the digit an English word stands for (-1 if none) and
// whether it is only a digit inside a run of digits ("oh", "o").
func digitWord(w string) (int, bool) {
	switch len(w) {
	case 1:
		if w[0]|0x20 == 'o' {
			return 0, true
		}
	case 2:
		if eqFold(w, "oh") {
			return 0, true
		}
	case 3:
		switch {
		case eqFold(w, "one"):
			return 1, false
		case eqFold(w, "two"):
			return 2, false
		case eqFold(w, "six"):
			return 6, false
		}
	case 4:
		switch {
		case eqFold(w, "zero"):
			return 0, false
		case eqFold(w, "four"):
			return 4, false
		case eqFold(w, "five"):
			return 5, false
		case eqFold(w, "nine"):
			return 9, false
		}
	case 5:
		switch {
		case eqFold(w, "three"):
			return 3, false
		case eqFold(w, "seven"):
			return 7, false
		case eqFold(w, "eight"):
			return 8, false
		}
	case 6:
		if eqFold(w, "nought") {
			return 0, false
		}
	}
	return -1, false
}

// hanDigit returns the value of a Chinese digit character read on its own,
// or -1.
func hanDigit(r rune) int {
	switch r {
	case '零', '〇':
		return 0
	case '一', '幺':
		return 1
	case '二', '两', '兩':
		return 2
	case '三':
		return 3
	case '四':
		return 4
	case '五':
		return 5
	case '六':
		return 6
	case '七':
		return 7
	case '八':
		return 8
	case '九':
		return 9
	}
	return -1
}

// checkX returns the end of an ID check character X right after a digit
// token ending at k (directly or after one space), or 0. The X must not be
// followed by a letter or digit.
func checkX(s string, k int) int {
	if k < len(s) && s[k] == ' ' {
		k++
	}
	var e int
	switch {
	case k < len(s) && s[k]|0x20 == 'x':
		e = k + 1
	case hasAt(s, k, "Ｘ"), hasAt(s, k, "ｘ"):
		e = k + 3
	default:
		return 0
	}
	if e < len(s) && (isAlnum(s[e]) || s[e] == '_' || s[e] == '\'') {
		return 0
	}
	return e
}

// plusOK reports whether a + at s[i] can be an international prefix: not
// when it follows a letter, a digit or a closing bracket ("1+1", "x+1"). The
// characters a finding can end with all count, and so does the ']' of the
// token that replaces it, so that redacted text reads the same way again.
func plusOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	if c := s[i-1]; c < utf8.RuneSelf {
		return !isAlnum(c) && c != ')' && c != ']'
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r != '）' && !(r >= '０' && r <= '９') && hanDigit(r) < 0
}

// mixedWordBefore reports whether the word ending at s[p] (exclusive) mixes
// letters and digits, like a UUID segment, other than digits and a final X.
func mixedWordBefore(s string, p int) bool {
	k := p
	for k > 0 && p-k < 64 && isAlnum(s[k-1]) {
		k--
	}
	return mixed(s[k:p])
}

func mixedWordAfter(s string, p int) bool {
	k := p
	for k < len(s) && k-p < 64 && isAlnum(s[k]) {
		k++
	}
	return mixed(s[p:k])
}

func mixed(w string) bool {
	letters, digits := 0, 0
	for i := 0; i < len(w); i++ {
		if isDigit(w[i]) {
			digits++
		} else {
			letters++
		}
	}
	if letters == 0 || digits == 0 {
		return false
	}
	// 11010519491231002X is an ID, not a code.
	return !(letters == 1 && w[len(w)-1]|0x20 == 'x')
}

// wordBounded reports whether the letters s[i:j] stand as a word: not glued
// to a digit or an apostrophe (3rd, o'clock).
func wordBounded(s string, i, j int) bool {
	if i > 0 && (isDigit(s[i-1]) || s[i-1] == '\'' || s[i-1] == '_') {
		return false
	}
	if j < len(s) && (isDigit(s[j]) || s[j] == '\'' || s[j] == '_') {
		return false
	}
	return true
}

// skipWordSep skips what may stand between spoken digit words of one group:
// up to three spaces and at most one hyphen.
func skipWordSep(s string, i int) int {
	k, hyphen := i, false
	for k < len(s) && k-i < 5 {
		switch s[k] {
		case ' ':
		case '-':
			if hyphen {
				return k
			}
			hyphen = true
		default:
			return k
		}
		k++
	}
	return k
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// eqFold compares ASCII word w with lower-case letters lower.
func eqFold(w, lower string) bool {
	if len(w) != len(lower) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

func hasAt(s string, i int, sub string) bool {
	return i >= 0 && i+len(sub) <= len(s) && s[i:i+len(sub)] == sub
}

// wideDigitAt returns the value of the full-width digit at s[i] or -1.
func wideDigitAt(s string, i int) int {
	if i+2 < len(s) && s[i] == 0xEF && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99 {
		return int(s[i+2] - 0x90)
	}
	return -1
}

func typedDigitAt(s string, i int) bool {
	return i < len(s) && (isDigit(s[i]) || wideDigitAt(s, i) >= 0)
}
