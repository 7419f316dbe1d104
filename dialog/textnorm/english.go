package textnorm

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// English number words and the words that may appear inside a number.
type enClass uint8

const (
	enNone    enClass = iota
	enDigit           // zero … nine (value 0–9)
	enOh              // "oh": 0, but only between other number words
	enTeen            // ten … nineteen
	enTens            // twenty … ninety
	enHundred         // hundred
	enScale           // thousand, million, billion
	enAnd             // "and" inside a number: one hundred and five
	enA               // "a" before hundred/thousand…: a hundred
	enRepeat          // double, triple: double five → 55
)

type enWord struct {
	class enClass
	val   uint64
}

var enWords = map[string]enWord{
	"zero": {enDigit, 0}, "one": {enDigit, 1}, "two": {enDigit, 2}, "three": {enDigit, 3},
	"four": {enDigit, 4}, "five": {enDigit, 5}, "six": {enDigit, 6}, "seven": {enDigit, 7},
	"eight": {enDigit, 8}, "nine": {enDigit, 9},
	"oh":  {enOh, 0},
	"ten": {enTeen, 10}, "eleven": {enTeen, 11}, "twelve": {enTeen, 12}, "thirteen": {enTeen, 13},
	"fourteen": {enTeen, 14}, "fifteen": {enTeen, 15}, "sixteen": {enTeen, 16},
	"seventeen": {enTeen, 17}, "eighteen": {enTeen, 18}, "nineteen": {enTeen, 19},
	"twenty": {enTens, 20}, "thirty": {enTens, 30}, "forty": {enTens, 40}, "fifty": {enTens, 50},
	"sixty": {enTens, 60}, "seventy": {enTens, 70}, "eighty": {enTens, 80}, "ninety": {enTens, 90},
	"hundred":  {enHundred, 100},
	"thousand": {enScale, 1000}, "million": {enScale, 1000000}, "billion": {enScale, 1000000000},
	"and":    {enAnd, 0},
	"a":      {enA, 0},
	"double": {enRepeat, 2}, "triple": {enRepeat, 3},
}

// isNumberWord reports a word that is a number by itself (not a joiner).
func (w enWord) isNumberWord() bool {
	switch w.class {
	case enDigit, enTeen, enTens, enHundred, enScale:
		return true
	}
	return false
}

// enContractions maps whole words to their expansion. Negative contractions
// are expanded with and without the apostrophe because recognisers and
// typists drop it; positive ones only with it ("id", "its", "well" are words).
var enContractions = map[string]string{
	"don't": "do not", "dont": "do not",
	"doesn't": "does not", "doesnt": "does not",
	"didn't": "did not", "didnt": "did not",
	"can't": "can not", "cant": "can not", "cannot": "can not",
	"won't": "will not", "wont": "will not",
	"isn't": "is not", "isnt": "is not",
	"aren't": "are not", "arent": "are not",
	"wasn't": "was not", "wasnt": "was not",
	"weren't": "were not", "werent": "were not",
	"haven't": "have not", "havent": "have not",
	"hasn't": "has not", "hasnt": "has not",
	"hadn't": "had not", "hadnt": "had not",
	"shouldn't": "should not", "shouldnt": "should not",
	"wouldn't": "would not", "wouldnt": "would not",
	"couldn't": "could not", "couldnt": "could not",
	"mustn't": "must not", "mustnt": "must not",
	"needn't": "need not", "neednt": "need not",
	"mightn't": "might not", "mightnt": "might not",
	"shan't": "shall not", "shant": "shall not",
	"ain't": "is not", "aint": "is not",
	// "'s" is a possessive as often as "is"; expand it only after these.
	"it's": "it is", "that's": "that is", "what's": "what is", "there's": "there is",
	"here's": "here is", "where's": "where is", "who's": "who is", "how's": "how is",
	"he's": "he is", "she's": "she is", "let's": "let us",
}

// enSuffixes are the positive contractions expanded after any word.
var enSuffixes = [...]struct{ suffix, expansion string }{
	{"'m", "am"}, {"'re", "are"}, {"'ll", "will"}, {"'ve", "have"}, {"'d", "would"},
}

// expandContraction returns the expansion of a lower-case word, or "".
func expandContraction(w string) string {
	if strings.IndexByte(w, '\'') < 0 {
		if e, ok := enContractions[w]; ok {
			return e
		}
		return ""
	}
	if e, ok := enContractions[w]; ok {
		return e
	}
	for _, s := range enSuffixes {
		if len(w) > len(s.suffix) && strings.HasSuffix(w, s.suffix) {
			stem := w[:len(w)-len(s.suffix)]
			if strings.IndexByte(stem, '\'') < 0 {
				if e := enContractions[stem]; e != "" {
					stem = e // "cant'd"
				}
				return stem + " " + s.expansion
			}
		}
	}
	return ""
}

// isWordRune reports the characters of a word token for the English pass:
// letters of any script but Han (Han characters are words by themselves, so
// "one三" holds the word "one"), digits and combining marks.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	if unicode.Is(unicode.Han, r) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// enToken is a word of the English pass.
type enToken struct {
	start, end int // byte span in the input
	word       enWord
	ascii      bool // only lower-case ASCII letters (and apostrophes)
}

// scanEnglish splits s into word tokens. An apostrophe between two word
// characters belongs to the word ("don't", "o'neil").
func scanEnglish(s string, toks []enToken) []enToken {
	i := 0
	for i < len(s) {
		// ASCII fast paths: most text between words is spaces.
		if c := s[i]; c < utf8.RuneSelf && !isASCIIWordByte(c) {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		start := i
		ascii := true
		for i < len(s) {
			c := s[i]
			if 'a' <= c && c <= 'z' {
				i++
				continue
			}
			if c == '\'' {
				if i > start && i+1 < len(s) {
					if r2, _ := utf8.DecodeRuneInString(s[i+1:]); isWordRune(r2) {
						i++
						continue
					}
				}
				break
			}
			if c < utf8.RuneSelf {
				if !isASCIIWordByte(c) {
					break
				}
				ascii = false
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				break
			}
			ascii = false
			i += n
		}
		t := enToken{start: start, end: i, ascii: ascii}
		if ascii && i-start <= maxEnWordLen {
			t.word = enWords[s[start:i]]
		}
		toks = append(toks, t)
	}
	return toks
}

// maxEnWordLen is the length of the longest word in enWords ("seventeen");
// longer tokens skip the map lookup.
const maxEnWordLen = 9

func isASCIIWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// hasASCIILetter is the fast path of foldEnglish.
func hasASCIILetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
}

// foldEnglish expands contractions and turns English number words into
// digits.
func foldEnglish(s string) string {
	if !hasASCIILetter(s) {
		return s
	}
	var buf [48]enToken
	toks := scanEnglish(s, buf[:0])
	numbers := false
	for _, t := range toks {
		if !t.ascii {
			continue
		}
		if expandContraction(s[t.start:t.end]) != "" {
			// Expand first, then read numbers in the result: "four'd" is
			// "four would", whose "four" is a number.
			s = expandContractions(s, toks)
			toks = scanEnglish(s, toks[:0])
			return foldEnglishNumbers(s, toks)
		}
		numbers = numbers || t.word.class != enNone
	}
	if !numbers {
		return s
	}
	return foldEnglishNumbers(s, toks)
}

func expandContractions(s string, toks []enToken) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	last := 0
	for _, t := range toks {
		if !t.ascii {
			continue
		}
		if e := expandContraction(s[t.start:t.end]); e != "" {
			b.WriteString(s[last:t.start])
			b.WriteString(e)
			last = t.end
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// foldEnglishNumbers turns the number words of s into digits; toks are the
// tokens of s.
func foldEnglishNumbers(s string, toks []enToken) string {
	// A hyphenated compound that is not all number words ("one-time",
	// "twenty-first") is a word, not a number: freeze its parts.
	var fbuf [48]bool
	var frozen []bool
	if len(toks) <= len(fbuf) {
		frozen = fbuf[:len(toks)]
	} else {
		frozen = make([]bool, len(toks))
	}
	for i := 0; i < len(toks); {
		j := i
		allNum := toks[i].word.isNumberWord()
		for j+1 < len(toks) && hyphenLinked(s, toks[j], toks[j+1]) {
			j++
			allNum = allNum && toks[j].word.isNumberWord()
		}
		if j > i && !allNum {
			for k := i; k <= j; k++ {
				frozen[k] = true
			}
		}
		i = j + 1
	}

	var b strings.Builder
	b.Grow(len(s) + 16)
	last := 0 // s[last:] not yet written
	for i := 0; i < len(toks); {
		if frozen[i] || toks[i].word.class == enNone {
			i++
			continue
		}
		// A phrase: tokens that may form numbers, joined by spaces within a
		// line or by hyphens.
		j := i + 1
		for j < len(toks) && !frozen[j] && toks[j].word.class != enNone && phraseLinked(s, toks[j-1], toks[j]) {
			j++
		}
		last = writePhrase(&b, s, toks[i:j], last)
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func hyphenLinked(s string, a, b enToken) bool {
	return b.start == a.end+1 && s[a.end] == '-'
}

// phraseLinked reports that b follows a in the same number phrase.
func phraseLinked(s string, a, b enToken) bool {
	if hyphenLinked(s, a, b) {
		return true
	}
	if b.start == a.end {
		return false
	}
	for _, r := range s[a.end:b.start] {
		if !isSpace(r) || isLineBreak(r) {
			return false
		}
	}
	return true
}

// writePhrase writes the phrase toks with its numbers as digits. Adjacent
// numbers are concatenated ("one two three"→"123", "twenty twenty six"→
// "2026"); words that turn out not to be part of a number stay as they were,
// with the original text around them. It returns the new "written up to"
// offset.
func writePhrase(b *strings.Builder, s string, toks []enToken, last int) int {
	prevNumber := false // the previous token ended a number
	for i := 0; i < len(toks); {
		digits, j := parseEnGroup(toks, i, prevNumber)
		if j == i {
			// Not a number here: keep the word as written.
			prevNumber = false
			i++
			continue
		}
		if !prevNumber {
			b.WriteString(s[last:toks[i].start])
		} // else concatenate with the previous number: drop the separator
		b.WriteString(digits)
		last = toks[j-1].end
		prevNumber = true
		i = j
	}
	return last
}

// parseEnGroup parses one number starting at toks[i]. It returns its digits
// and the index after it, or j == i when toks[i] does not start a number.
func parseEnGroup(toks []enToken, i int, prevNumber bool) (string, int) {
	w := toks[i].word
	switch w.class {
	case enRepeat:
		if i+1 < len(toks) {
			if n := toks[i+1].word; n.class == enDigit || n.class == enOh {
				return strings.Repeat(strconv.FormatUint(n.val, 10), int(w.val)), i + 2
			}
		}
		return "", i
	case enOh:
		if prevNumber && i+1 < len(toks) {
			switch toks[i+1].word.class {
			case enDigit, enOh, enTeen, enTens:
				return "0", i + 1
			}
		}
		return "", i
	case enAnd:
		return "", i
	case enA:
		if i+1 < len(toks) {
			if c := toks[i+1].word.class; c == enHundred || c == enScale {
				if v, j := parseCardinal(toks, i+1); j > i+1 {
					return strconv.FormatUint(v, 10), j
				}
			}
		}
		return "", i
	}
	v, j := parseCardinal(toks, i)
	if j == i {
		return "", i
	}
	return strconv.FormatUint(v, 10), j
}

// parseCardinal parses a cardinal number: chunks below a thousand joined by
// descending scale words ("two million three hundred thousand and five").
func parseCardinal(toks []enToken, i int) (uint64, int) {
	var total uint64
	lastScale := uint64(0) // 0: no scale yet
	start := i
	for {
		chunk, j := parseEnChunk(toks, i)
		if j == i {
			// A bare scale word at the start counts one of it: "thousand",
			// "a thousand".
			if i != start || toks[i].word.class != enScale {
				break
			}
			chunk = 1
		}
		i = j
		if i < len(toks) && toks[i].word.class == enScale {
			s := toks[i].word.val
			if chunk >= 1000 || (lastScale != 0 && s >= lastScale) {
				total += chunk
				break
			}
			total += chunk * s
			lastScale = s
			i++
			// Continue with a lower chunk: "two thousand (and) twenty six".
			k := i
			if k < len(toks) && toks[k].word.class == enAnd {
				k++
			}
			if k < len(toks) && startsChunk(toks[k].word.class) {
				if _, j := parseEnChunk(toks, k); j > k {
					i = k
					continue
				}
			}
			break
		}
		total += chunk
		break
	}
	if i == start {
		return 0, start
	}
	return total, i
}

func startsChunk(c enClass) bool {
	return c == enDigit || c == enTeen || c == enTens || c == enHundred
}

// parseEnChunk parses a number below a thousand, or "nineteen hundred"-style
// hundreds (up to 9999). A bare "hundred"/"thousand" counts as one of them.
func parseEnChunk(toks []enToken, i int) (uint64, int) {
	if i >= len(toks) {
		return 0, i
	}
	var v uint64
	w := toks[i].word
	switch w.class {
	case enDigit:
		if w.val == 0 {
			return 0, i + 1 // zero takes no hundred: "zero hundred" is "0 100"
		}
		v = w.val
		i++
	case enTeen:
		v = w.val
		i++
	case enTens:
		v = w.val
		i++
		if i < len(toks) && toks[i].word.class == enDigit && toks[i].word.val != 0 {
			v += toks[i].word.val
			i++
		}
	case enHundred:
		v = 1 // "hundred" alone, or after "a"
	default:
		return 0, i
	}
	if i < len(toks) && toks[i].word.class == enHundred {
		v *= 100
		i++
		k := i
		if k < len(toks) && toks[k].word.class == enAnd {
			k++
		}
		if rest, j := parseBelowHundred(toks, k); j > k {
			v += rest
			i = j
		}
	}
	return v, i
}

func parseBelowHundred(toks []enToken, i int) (uint64, int) {
	if i >= len(toks) {
		return 0, i
	}
	w := toks[i].word
	switch w.class {
	case enDigit:
		if w.val == 0 {
			return 0, i
		}
		return w.val, i + 1
	case enTeen:
		return w.val, i + 1
	case enTens:
		if i+1 < len(toks) && toks[i+1].word.class == enDigit && toks[i+1].word.val != 0 {
			return w.val + toks[i+1].word.val, i + 2
		}
		return w.val, i + 1
	}
	return 0, i
}
