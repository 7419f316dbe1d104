package main

// Simulated Chinese recognition errors: characters replaced by homophones.

import (
	"math"
	"math/rand/v2"
	"sort"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// NoiseStats describe what homophoneNoise did.
type NoiseStats struct {
	Han           int // Chinese characters in the test split
	Substitutable int // of them, with a homophone among the training characters
	Replaced      int
}

// homophoneNoise replaces round(rate × Chinese characters) characters of the
// test utterances, chosen at random (fixed seed) among those that have a
// homophone: another character seen in the training split with the same
// toneless pinyin (go-pinyin's usual reading). The replacement is one of those
// homophones, at random.
func homophoneNoise(test, train []Utterance, rate float64, seed uint64) ([]Utterance, NoiseStats) {
	args := pinyin.NewArgs() // Style Normal: no tones
	reading := func(r rune) string {
		if p := pinyin.SinglePinyin(r, args); len(p) > 0 {
			return p[0]
		}
		return ""
	}
	classes := map[string][]rune{}
	seen := map[rune]bool{}
	for _, u := range train {
		for _, r := range u.Text {
			if unicode.Is(unicode.Han, r) && !seen[r] {
				seen[r] = true
				if p := reading(r); p != "" {
					classes[p] = append(classes[p], r)
				}
			}
		}
	}
	for _, c := range classes {
		sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	}
	type pos struct{ utt, idx int }
	var st NoiseStats
	var cand []pos
	texts := make([][]rune, len(test))
	for i, u := range test {
		texts[i] = []rune(u.Text)
		for j, r := range texts[i] {
			if !unicode.Is(unicode.Han, r) {
				continue
			}
			st.Han++
			c := classes[reading(r)]
			if len(c) > 1 || (len(c) == 1 && c[0] != r) {
				cand = append(cand, pos{i, j})
			}
		}
	}
	st.Substitutable = len(cand)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := min(int(math.Round(rate*float64(st.Han))), len(cand))
	for _, k := range rng.Perm(len(cand))[:n] {
		p := cand[k]
		r := texts[p.utt][p.idx]
		var others []rune
		for _, h := range classes[reading(r)] {
			if h != r {
				others = append(others, h)
			}
		}
		texts[p.utt][p.idx] = others[rng.IntN(len(others))]
		st.Replaced++
	}
	out := make([]Utterance, len(test))
	for i, u := range test {
		out[i] = Utterance{Text: string(texts[i]), Label: u.Label}
	}
	return out, st
}
