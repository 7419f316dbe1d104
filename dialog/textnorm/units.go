package textnorm

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Kind is the kind of a Unit.
type Kind uint8

const (
	Han    Kind = iota + 1 // one CJK ideograph
	Word                   // a run of letters of a non-Han script (Latin, Cyrillic, Greek, Hangul syllables, kana…)
	Number                 // a run of ASCII digits
	Break                  // a clause break: . , ; : ! ? 。,;:!?、 … and newline; consecutive breaks collapse into one; no Break at start or end
)

func (k Kind) String() string {
	switch k {
	case Han:
		return "Han"
	case Word:
		return "Word"
	case Number:
		return "Number"
	case Break:
		return "Break"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Unit is one token of a folded string.
type Unit struct {
	Text    string // what matching compares: the Han character; the stemmed lower-case word (Snowball English for Latin words; other scripts as-is); the digits; "|" for Break
	Surface string // the unit as it appears in the folded text
	Kind    Kind
	Start   int // byte offsets of Surface in the folded string
	End     int
}

// Text is a folded string and its units.
type Text struct {
	Folded string
	Units  []Unit
}

// Analyze = Fold then Units.
func Analyze(s string) Text {
	f := Fold(s)
	return Text{Folded: f, Units: Units(f)}
}

// BreakText is the Text of a Break unit.
const BreakText = "|"

// script classes for splitting letter runs: a change of script starts a new
// word ("abcабв" is two words), so that only Latin words are stemmed.
const (
	scNone = iota
	scLatin
	scGreek
	scCyrillic
	scHangul
	scKana
	scOther
)

func scriptOf(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		return scLatin
	case unicode.Is(unicode.Latin, r):
		return scLatin
	case unicode.Is(unicode.Cyrillic, r):
		return scCyrillic
	case unicode.Is(unicode.Greek, r):
		return scGreek
	case unicode.Is(unicode.Hangul, r):
		return scHangul
	case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
		return scKana
	case unicode.Is(unicode.Common, r), unicode.Is(unicode.Inherited, r):
		return scNone // ー and marks continue the word they are in
	}
	return scOther
}

// isBreak reports a clause-break character.
func isBreak(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '\n', '\r', '\v', '\f',
		'。', '，', '；', '：', '！', '？', '、', '…', '‥', '｡', '､', '．',
		'¡', '¿', '؟', '،', '؛', '।', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

func isHan(r rune) bool {
	return r >= 0x2e80 && unicode.Is(unicode.Han, r)
}

// isLetter reports the characters of a Word unit.
func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) && !isHan(r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' }

// Units tokenises a folded string. Spaces and symbols that are not clause breaks
// (quotes, brackets, #, *, emoji, …) separate units and are otherwise dropped.
// An apostrophe inside a Latin word stays in the word ("o'neil"). A '.', ','
// or ':' between two digits ("1.5", "12:30") separates the numbers but is not
// a clause break. The Surface of a Break spans all the break characters it
// collapses. Units does not panic on any input, including invalid UTF-8 and
// strings that were not folded (their words are stemmed, but not lower-cased
// unless Latin).
func Units(folded string) []Unit {
	units := make([]Unit, 0, len(folded)/3+2)
	brStart, brEnd := -1, -1 // pending break span
	emit := func(u Unit) {
		if brStart >= 0 {
			if len(units) > 0 {
				units = append(units, Unit{Text: BreakText, Surface: folded[brStart:brEnd], Kind: Break, Start: brStart, End: brEnd})
			}
			brStart, brEnd = -1, -1
		}
		units = append(units, u)
	}
	s := folded
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case isASCIIDigit(r):
			j := i + 1
			for j < len(s) && isDigitByte(s[j]) {
				j++
			}
			emit(Unit{Text: s[i:j], Surface: s[i:j], Kind: Number, Start: i, End: j})
			i = j
		case isHan(r):
			emit(Unit{Text: s[i : i+n], Surface: s[i : i+n], Kind: Han, Start: i, End: i + n})
			i += n
		case isLetter(r):
			j := scanWord(s, i)
			w := s[i:j]
			text := w
			if scriptOf(r) == scLatin {
				text = Stem(w)
			}
			emit(Unit{Text: text, Surface: w, Kind: Word, Start: i, End: j})
			i = j
		case isBreak(r):
			if (r == '.' || r == ',' || r == ':') && i > 0 && isDigitByte(s[i-1]) && i+1 < len(s) && isDigitByte(s[i+1]) {
				i += n // 1.5, 1,5, 12:30
				continue
			}
			if brStart < 0 {
				brStart = i
			}
			brEnd = i + n
			i += n
		default:
			i += n
		}
	}
	return units
}

// scanWord returns the end of the word starting at s[i]: letters of one
// script, combining marks, and apostrophes between Latin letters.
func scanWord(s string, i int) int {
	r, n := utf8.DecodeRuneInString(s[i:])
	script := scriptOf(r)
	j := i + n
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if isApostrophe(r) && script == scLatin && j+n < len(s) {
			if r2, _ := utf8.DecodeRuneInString(s[j+n:]); isLetter(r2) && scriptOf(r2) == scLatin {
				j += n
				continue
			}
		}
		if unicode.IsMark(r) {
			j += n
			continue
		}
		if !isLetter(r) {
			break
		}
		sc := scriptOf(r)
		if sc != scNone {
			if script == scNone {
				script = sc
			} else if sc != script {
				break
			}
		}
		j += n
	}
	return j
}

// Stem is the stemmer used by Units for Latin words (exported so keywords and utterances share it).
// It is Snowball English; stop words ("does", "was") are returned unchanged
// rather than mangled. The result is lower case. Common words are answered
// from a table Snowball fills once (see stemvocab.go), with the same result.
func Stem(word string) string {
	w := word
	for i := 0; i < len(w); i++ {
		if c := w[i]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			w = strings.ToLower(w)
			break
		}
	}
	if len(w) <= 2 {
		return w // Snowball leaves these alone; skip its allocations
	}
	loadStemTable()
	if st, ok := stemTable[w]; ok {
		return st
	}
	return stemSnowball(w)
}

func stemSnowball(w string) string {
	if !utf8.ValidString(w) {
		w = strings.ToValidUTF8(w, "\uFFFD")
	}
	return english.Stem(w, false)
}
