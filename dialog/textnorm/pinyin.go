package textnorm

import (
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/unicode/norm"
)

// The reading tables are built once from go-pinyin's dictionary. Most Han
// characters lie in the CJK Unified Ideographs and Extension A blocks, which
// get a dense slice; the rest (extensions B…, compatibility) a map.
const (
	pyDenseLo = 0x3400
	pyDenseHi = 0xa000
)

var (
	pyOnce   sync.Once
	pyDense  [][]string
	pySparse map[rune][]string
)

func loadPinyin() {
	pyOnce.Do(func() {
		dense := make([][]string, pyDenseHi-pyDenseLo)
		sparse := map[rune][]string{}
		intern := map[string]string{}
		for cp, readings := range pinyin.PinyinDict {
			r := rune(cp)
			if !isHan(r) {
				continue
			}
			var list []string
			for _, p := range strings.Split(readings, ",") {
				t := toneless(p)
				if t == "" {
					continue
				}
				if v, ok := intern[t]; ok {
					t = v
				} else {
					intern[t] = t
				}
				dup := false
				for _, q := range list {
					dup = dup || q == t
				}
				if !dup {
					list = append(list, t)
				}
			}
			if len(list) == 0 {
				continue
			}
			// Full slice expression: a caller's append cannot write into the
			// shared table.
			list = list[:len(list):len(list)]
			if pyDenseLo <= r && r < pyDenseHi {
				dense[r-pyDenseLo] = list
			} else {
				sparse[r] = list
			}
		}
		pyDense, pySparse = dense, sparse
	})
}

// toneless strips the tone marks of a tone-marked syllable and writes ü as
// v: "lǜ"→"lv", "ńg"→"ng".
func toneless(p string) string {
	p = strings.TrimSpace(p)
	var b strings.Builder
	d := norm.NFD.String(p)
	for i, r := range d {
		switch {
		case r == 'u' && strings.HasPrefix(d[i+1:], "\u0308"):
			b.WriteByte('v')
		case r == 'ü':
			b.WriteByte('v')
		case unicode.Is(unicode.Mn, r):
		case 'a' <= r && r <= 'z':
			b.WriteRune(r)
		case 'A' <= r && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		}
	}
	return b.String()
}

// Pinyin returns the tone-less readings of a Han character, the most common
// first (go-pinyin's order), nil for anything else. "ü" is written "v".
// The returned slice is shared: do not modify it.
func Pinyin(r rune) []string {
	if !isHan(r) {
		return nil
	}
	loadPinyin()
	if pyDenseLo <= r && r < pyDenseHi {
		return pyDense[r-pyDenseLo]
	}
	return pySparse[r]
}

// Fuzzy maps a tone-less syllable to a class shared by syllables that
// callers' accents and recognisers commonly confuse: initials zh→z, ch→c, sh→s,
// n→l, f→h (only as initials, e.g. "fu"→"hu", "nan"→"lan"; r/l is rarer and,
// stacked with n→l and eng→en, made 能 sound like 人);
// finals ang→an, eng→en, ing→in (uang→uan, iang→ian follow from ang→an).
// Fuzzy(Fuzzy(x)) == Fuzzy(x) for every string x. The vowel-less syllables
// "n", "ng", "m", "hm", "hng" (嗯, 呣, 哼) are returned unchanged.
func Fuzzy(syllable string) string {
	s := syllable
	switch s {
	case "", "n", "ng", "m", "hm", "hng":
		return s
	}
	// Strip retroflex h until none is left, so that even a malformed "zhhi"
	// reaches a fixed point in one call.
	for len(s) >= 2 && s[1] == 'h' && (s[0] == 'z' || s[0] == 'c' || s[0] == 's') {
		s = s[:1] + s[2:]
	}
	if len(s) >= 2 {
		switch s[0] {
		case 'n':
			s = "l" + s[1:]
		case 'f':
			s = "h" + s[1:]
		}
	}
	if strings.HasSuffix(s, "ang") || strings.HasSuffix(s, "eng") || strings.HasSuffix(s, "ing") {
		s = s[:len(s)-1]
	}
	return s
}
