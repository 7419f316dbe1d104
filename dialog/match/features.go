package match

import (
	"slices"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Features of an utterance for the example model. Each is a string (hashed to
// 64 bits; the text is only rebuilt to explain a decision) of one group:
//
//   - word: a stemmed word, "#" for a number, a Chinese character;
//   - pair: two neighbouring units of one clause (a word pair, a character pair);
//   - han3: three neighbouring Chinese characters;
//   - gram: a character n-gram (2 to 4) of a Latin-script word, its edges
//     marked ("<ca", "car", "ard", "rd>"…): typos and inflections the stemmer
//     misses still share most of them;
//   - sound, sound pair: the tone-less pinyin of a Chinese character, alone
//     and with its neighbour's, so that a homophone a recogniser wrote
//     instead still counts (with the pinyin tier on);
//   - edge: the first and last unit of a clause ("^how", "吗$"), and the
//     punctuation the text ends with.
type featGroup uint8

const (
	gWord featGroup = iota
	gPair
	gHan3
	gGram
	gSound
	gSoundPair
	gEdge
	nGroups
)

var groupNames = [nGroups]string{"word", "pair", "han3", "gram", "sound", "sound pair", "edge"}

// rawFeat is a feature of an utterance and how often it occurs.
type rawFeat struct {
	key   uint64
	group featGroup
	tf    float32
}

// featConfig says which features to extract.
type featConfig struct {
	gramMin, gramMax int  // character n-grams of Latin words (0: none)
	han3             bool // Chinese character trigrams
	sounds           bool // pinyin features
	edges            bool // the first and last unit of each clause
	punct            bool // the punctuation the text ends with
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashByte(h uint64, b byte) uint64 {
	h ^= uint64(b)
	return h * fnvPrime
}

const numberUnit = "#"

// featureText is the token a unit contributes: its text, "#" for a number.
func featureText(u textnorm.Unit) string {
	if u.Kind == textnorm.Number {
		return numberUnit
	}
	return u.Text
}

// extractor collects the features of one utterance. With texts set it also
// records the readable form of each feature (or of those in want, if set),
// to explain a decision.
type extractor struct {
	cfg   featConfig
	feats []rawFeat
	texts map[uint64]string
	want  []uint64
}

// explaining reports whether the text of feature key is wanted.
func (x *extractor) explaining(key uint64) bool {
	return x.texts != nil && (x.want == nil || slices.Contains(x.want, key))
}

func (x *extractor) emit(key uint64, g featGroup) {
	x.feats = append(x.feats, rawFeat{key: key, group: g, tf: 1})
}

// note records the readable form of a feature, when explaining.
func (x *extractor) note(key uint64, text string) {
	if _, ok := x.texts[key]; !ok {
		x.texts[key] = text
	}
}

// extract sets x.feats to the features of t, repeats summed, sorted by key
// (so that everything built from them is deterministic); with want set, as
// they come.
func (x *extractor) extract(t textnorm.Text) {
	units := t.Units
	x.feats = x.feats[:0]
	if x.cfg.punct && len(units) > 0 {
		// How the text ends: a question mark says something.
		for _, r := range t.Folded[units[len(units)-1].End:] {
			if r == '?' || r == '!' || r == '.' || r == '。' {
				h := hashByte(hashByte(fnvOffset, '.'), byte(r))
				x.emit(h, gEdge)
				if x.explaining(h) {
					x.note(h, "ends with "+string(r))
				}
				break
			}
		}
	}
	var prev, prev2 textnorm.Unit // the previous units of this clause (Kind 0: none)
	prevSound := ""
	end := func() { // of a clause
		if x.cfg.edges && prev.Kind != 0 {
			tok := featureText(prev)
			h := hashString(hashByte(fnvOffset, '$'), tok)
			x.emit(h, gEdge)
			if x.explaining(h) {
				x.note(h, tok+"$")
			}
		}
	}
	for _, u := range units {
		if u.Kind == textnorm.Break {
			end()
			prev, prev2, prevSound = textnorm.Unit{}, textnorm.Unit{}, ""
			continue
		}
		tok := featureText(u)
		h := hashString(hashByte(fnvOffset, 'w'), tok)
		x.emit(h, gWord)
		if x.explaining(h) {
			x.note(h, tok)
		}
		if prev.Kind != 0 {
			p := featureText(prev)
			h := hashString(hashByte(hashString(hashByte(fnvOffset, 'b'), p), 0), tok)
			x.emit(h, gPair)
			if x.explaining(h) {
				x.note(h, pairText(p, tok, prev.Kind, u.Kind))
			}
			if x.cfg.han3 && prev2.Kind == textnorm.Han && prev.Kind == textnorm.Han && u.Kind == textnorm.Han {
				h := hashString(hashString(hashString(hashByte(fnvOffset, 't'), prev2.Text), p), tok)
				x.emit(h, gHan3)
				if x.explaining(h) {
					x.note(h, prev2.Text+p+tok)
				}
			}
		} else if x.cfg.edges {
			h := hashString(hashByte(fnvOffset, '^'), tok)
			x.emit(h, gEdge)
			if x.explaining(h) {
				x.note(h, "^"+tok)
			}
		}
		if u.Kind == textnorm.Word && x.cfg.gramMax > 0 {
			x.grams(u.Surface)
		}
		if x.cfg.sounds {
			s := ""
			if u.Kind == textnorm.Han {
				r, _ := utf8.DecodeRuneInString(u.Text)
				if py := textnorm.Pinyin(r); len(py) > 0 {
					s = py[0]
				}
			}
			if s != "" {
				h := hashString(hashByte(fnvOffset, 'p'), s)
				x.emit(h, gSound)
				if x.explaining(h) {
					x.note(h, s)
				}
				if prevSound != "" {
					h := hashString(hashByte(hashString(hashByte(fnvOffset, 'q'), prevSound), ' '), s)
					x.emit(h, gSoundPair)
					if x.explaining(h) {
						x.note(h, prevSound+" "+s)
					}
				}
			}
			prevSound = s
		}
		prev2, prev = prev, u
	}
	end()
	if len(x.feats) < 2 || x.want != nil {
		return // explaining: the texts are what counts
	}
	slices.SortFunc(x.feats, func(a, b rawFeat) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := x.feats[:1]
	for _, f := range x.feats[1:] {
		if last := &out[len(out)-1]; last.key == f.key {
			last.tf++
		} else {
			out = append(out, f)
		}
	}
	x.feats = out
}

func pairText(a, b string, ka, kb textnorm.Kind) string {
	if ka == textnorm.Han && kb == textnorm.Han {
		return a + b
	}
	return a + " " + b
}

// grams emits the character n-grams of a word, its edges marked by < and >,
// without building the marked string.
func (x *extractor) grams(word string) {
	var starts [64]int // rune starts, and len(word) after the last
	n := 0
	for i := range word {
		if n == len(starts)-2 {
			return // a very long "word": no n-grams
		}
		starts[n] = i
		n++
	}
	starts[n] = len(word)
	// Positions of the marked word: 0 is "<", 1…n the runes, n+1 is ">".
	for size := x.cfg.gramMin; size <= x.cfg.gramMax; size++ {
		for i := 0; i+size <= n+2; i++ {
			h := hashByte(fnvOffset, 'g')
			lo, hi := i, i+size // positions [lo, hi)
			open := lo == 0
			if open {
				h = hashByte(h, '<')
				lo = 1
			}
			closed := hi == n+2
			if closed {
				hi = n + 1
			}
			if lo < hi {
				h = hashString(h, word[starts[lo-1]:starts[hi-1]])
			}
			if closed {
				h = hashByte(h, '>')
			}
			x.emit(h, gGram)
			if x.explaining(h) {
				t := word[starts[lo-1]:starts[max(hi-1, lo-1)]]
				if open {
					t = "<" + t
				}
				if closed {
					t += ">"
				}
				x.note(h, t)
			}
		}
	}
}
