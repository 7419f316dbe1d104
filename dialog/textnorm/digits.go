package textnorm

import (
	"strings"
	"unicode/utf8"
)

// enUnits after a number make it a quantity rather than part of an account
// number ("I waited 3 days").
var enUnits = map[string]bool{
	"day": true, "days": true, "hour": true, "hours": true, "minute": true, "minutes": true,
	"week": true, "weeks": true, "month": true, "months": true, "year": true, "years": true,
	"time": true, "times": true, "dollar": true, "dollars": true, "yuan": true, "percent": true,
}

// Digits returns the digits a caller said or typed, in order, for collecting
// an order or account number: "幺三八零零一三八零零零" → "13800138000",
// "one two three four five six" → "123456", "my number is 12 34 56" → "123456",
// "一二三四五六七八" → "12345678", "double five seven" → "557", "订单号是 123 四五六" → "123456".
// It works on raw or folded input. Returns "" when there are none.
//
// It reads the folded text: groups of digits and lone Chinese digit
// numerals or "oh"/"o" joined by spaces, hyphens or decimal points form a
// chain ("一 二 三", "5 oh 5"). A chain counts when it has an ASCII digit or at least two
// members (a lone 一 is the word "one", as in 一下). A chain that is a
// quantity — followed by a measure word or unit (3天, 三五天, 3 days) or
// preceded by 第 — is skipped, since the caller is not spelling a number.
func Digits(s string) string {
	f := Fold(spokenHomophones(s))
	var out []byte
	var chain []digitItem
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case isDigitByte(c):
			j := i + 1
			for j < len(f) && isDigitByte(f[j]) {
				j++
			}
			chain = append(chain, digitItem{start: i, end: j, ascii: true})
			i = j
			continue
		case c == ' ' || c == '-':
			i++
			continue
		case c == '.' && i > 0 && isDigitByte(f[i-1]) && i+1 < len(f) && isDigitByte(f[i+1]):
			i++ // 1.5 is one number; 1.5万 is a quantity as a whole
			continue
		case c == 'o' && (wordAt(f, i, "o") || wordAt(f, i, "oh")):
			n := 1
			if wordAt(f, i, "oh") {
				n = 2
			}
			chain = append(chain, digitItem{start: i, end: i + n, digit: '0'})
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(f[i:])
		if k, v := cnNumeral(r); k == cnDigit {
			chain = append(chain, digitItem{start: i, end: i + n, digit: byte('0' + v)})
			i += n
			continue
		}
		out = appendChain(out, f, chain)
		chain = chain[:0]
		i += n
	}
	return string(appendChain(out, f, chain))
}

// digitHomophones are words a recogniser writes for a spoken digit ("for"
// for four, "won" for one). They are read as digits only between spelled
// digit words ("for five six" → 456), never next to written numbers or other
// words ("pay for 1 item", "it's for 1234").
var digitHomophones = map[string]string{
	"for": "four", "fore": "four", "won": "one", "to": "two", "too": "two", "ate": "eight", "tree": "three",
}

var digitWords = map[string]bool{
	"zero": true, "oh": true, "one": true, "two": true, "three": true, "four": true, "five": true,
	"six": true, "seven": true, "eight": true, "nine": true, "double": true, "triple": true,
}

func spokenHomophones(s string) string {
	words := strings.Fields(strings.ToLower(s))
	changed := false
	// Runs of digit words and homophones; a run with at least two real digit
	// words is someone spelling a number ("for five six", "one to three"),
	// unlike "pay for one item".
	for i := 0; i < len(words); {
		j, real := i, 0
		for j < len(words) && (digitWords[words[j]] || digitHomophones[words[j]] != "") {
			if digitWords[words[j]] {
				real++
			}
			j++
		}
		if real >= 2 {
			for k := i; k < j; k++ {
				if d, ok := digitHomophones[words[k]]; ok {
					words[k] = d
					changed = true
				}
			}
		}
		i = max(j, i+1)
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// digitItem is a member of a chain in Digits: ASCII digits f[start:end], or
// one Chinese numeral or "oh" worth digit.
type digitItem struct {
	start, end int
	ascii      bool
	digit      byte
}

// appendChain appends the digits of chain to out if the chain counts.
func appendChain(out []byte, f string, chain []digitItem) []byte {
	if len(chain) == 0 {
		return out
	}
	hasASCII := false
	for _, it := range chain {
		hasASCII = hasASCII || it.ascii
	}
	if !hasASCII && len(chain) < 2 {
		return out
	}
	if quantityBefore(f, chain[0].start) || quantityAfter(f, chain[len(chain)-1].end) {
		return out
	}
	for _, it := range chain {
		if it.ascii {
			out = append(out, f[it.start:it.end]...)
		} else {
			out = append(out, it.digit)
		}
	}
	return out
}

// wordAt reports that the Latin word w stands alone at s[i:].
func wordAt(s string, i int, w string) bool {
	if !strings.HasPrefix(s[i:], w) {
		return false
	}
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isLetter(r) {
			return false
		}
	}
	if j := i + len(w); j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); isLetter(r) || r == '\'' {
			return false
		}
	}
	return true
}

// quantityBefore reports 第 before s[i] (第3), or a measure word after a
// number (the 5 of 3点5, 3块5).
func quantityBefore(s string, i int) bool {
	r, n := utf8.DecodeLastRuneInString(s[:i])
	if r == '第' {
		return true
	}
	if cnMeasures[r] && i-n > 0 && isDigitByte(s[i-n-1]) {
		return true
	}
	return false
}

// quantityAfter reports a measure word or 十百千万亿 at s[i:] (3天, 3 天,
// 1.5万) or an English
// unit after one space (3 days).
func quantityAfter(s string, i int) bool {
	rest := s[i:]
	rest = strings.TrimPrefix(rest, " ")
	if rest == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	if k, _ := cnNumeral(r); k == cnUnit || cnMeasures[r] {
		return true // 3天, 3万 (kept as 1.5万)
	}
	for _, w := range cnMultiMeasures {
		if strings.HasPrefix(rest, w) {
			return true
		}
	}
	j := 0
	for j < len(rest) && 'a' <= rest[j] && rest[j] <= 'z' {
		j++
	}
	if j == 0 || !enUnits[rest[:j]] {
		return false
	}
	r, _ = utf8.DecodeRuneInString(rest[j:])
	return !isLetter(r)
}
