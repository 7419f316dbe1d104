package textnorm

import (
	"sync"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
)

// The opencc converter is built once. After construction it only reads its
// double-array tries (Convert allocates its own scratch), so one instance is
// safe for concurrent use.
var (
	t2sOnce sync.Once
	t2sConv *opencc.OpenCC
	// t2sTrigger holds every rune whose presence can make Convert change a
	// string; a string without any of them is returned unchanged, and Convert
	// (a few µs, several allocations per rune) is skipped. Bit r of the
	// bitmap is set for triggers in the BMP; t2sAstral holds the others.
	t2sBMP    []uint64
	t2sAstral map[rune]bool
)

func loadT2S() {
	t2sOnce.Do(func() {
		cc, err := opencc.New("t2s")
		if err != nil {
			// Cannot happen with the embedded config; without a converter
			// Fold still works, it just does not convert Traditional Chinese.
			return
		}
		bmp := make([]uint64, 0x10000/64)
		astral := map[rune]bool{}
		set := func(r rune) {
			if r < 0x10000 {
				bmp[r/64] |= 1 << (r % 64)
			} else {
				astral[r] = true
			}
		}
		has := func(r rune) bool {
			if r < 0x10000 {
				return bmp[r/64]&(1<<(r%64)) != 0
			}
			return astral[r]
		}
		type phrase struct{ key, val string }
		var phrases []phrase
		// Every entry of every dictionary opencc uses for t2s. A single
		// character that maps to something else is a trigger.
		for _, g := range cc.DictChains {
			for _, d := range g.Dicts {
				for _, id := range d.Trie.PrefixPredict(nil, 0) {
					k, err := d.Trie.Key(id)
					if err != nil {
						continue
					}
					vi, err := d.Trie.Value(id)
					if err != nil || vi < 0 || vi >= len(d.Values) || len(d.Values[vi]) == 0 {
						continue
					}
					key, val := string(k), d.Values[vi][0]
					if key == val {
						continue
					}
					if r, n := utf8.DecodeRuneInString(key); n == len(key) {
						set(r)
					} else {
						phrases = append(phrases, phrase{key, val})
					}
				}
			}
		}
		// A phrase that changes but contains no trigger character would be
		// missed. Any one of its characters will do as a trigger (the phrase
		// cannot match without it); take one that changes, not a common one
		// like the 一 of 一目瞭然.
		for _, p := range phrases {
			found := false
			for _, r := range p.key {
				if has(r) {
					found = true
					break
				}
			}
			if found {
				continue
			}
			k, v := []rune(p.key), []rune(p.val)
			pick := k[len(k)-1]
			for i := range k {
				if i < len(v) && k[i] != v[i] {
					pick = k[i]
					break
				}
			}
			set(pick)
		}
		t2sConv, t2sBMP, t2sAstral = cc, bmp, astral
	})
}

// needsT2S reports whether s contains a character t2s may change.
func needsT2S(s string) bool {
	// Every trigger is a CJK character, encoded in three or four bytes.
	i := 0
	for i < len(s) && s[i] < 0xe2 {
		i++
	}
	if i == len(s) {
		return false
	}
	loadT2S()
	if t2sConv == nil {
		return false
	}
	for _, r := range s[i:] {
		if r < 0x2e80 {
			continue
		}
		if r < 0x10000 {
			if t2sBMP[r/64]&(1<<(r%64)) != 0 {
				return true
			}
		} else if t2sAstral[r] {
			return true
		}
	}
	return false
}

// t2s converts Traditional Chinese to Simplified with opencc's "t2s" config.
func t2s(s string) string {
	out, err := t2sConv.Convert(s)
	if err != nil {
		return s
	}
	return out
}
