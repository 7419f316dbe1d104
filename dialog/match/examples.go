package match

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Example-tier scores below this are not candidates.
const minExampleScore = 0.05

// Features explained per candidate.
const explainFeatures = 4

// match scores the utterance against the intents' examples: the model's
// probability of each active intent (and of "none of them"), sharpened or
// flattened by the temperature fitted when training and damped by the share
// of the utterance the examples know (rho: unknown words make it less sure,
// never surer). An intent with few examples, which the model knows too little
// of, scores at least its utterance's similarity to its nearest example. It
// returns rho.
func (m *exampleModel) match(mm *Matcher, t textnorm.Text, active Set, sc *scratch, consider func(Candidate)) float64 {
	if m.nClass == 0 {
		return 0
	}
	sc.ext.cfg, sc.ext.texts = m.cfg.feat, nil
	sc.ext.extract(t)
	var rho float32
	if sc.keys == nil {
		sc.keys, sc.nearKeys = make([]uint64, 0, 64), make([]uint64, 0, 64)
	}
	sc.ids, sc.vals, sc.keys, rho = m.vectorKeys(sc.ext.feats, sc.ids[:0], sc.vals[:0], sc.keys[:0])
	if len(sc.ids) == 0 {
		return 0
	}
	if cap(sc.z) < m.nClass {
		sc.z = make([]float32, m.nClass)
	}
	z := sc.z[:m.nClass]
	m.scores(sc.ids, sc.vals, z)
	sc.classes, sc.probs = sc.classes[:0], sc.probs[:0]
	k := float32(math.Pow(float64(rho), m.cfg.rhoPow)) / m.temp
	null := m.cfg.nullScore / m.temp
	mx := null
	for c, i := range m.intent {
		if active.Has(int(i)) {
			sc.classes = append(sc.classes, int32(c))
			mx = max(mx, z[c]*k)
		}
	}
	if len(sc.classes) == 0 {
		return float64(rho)
	}
	sum := float32(math.Exp(float64(null - mx)))
	for _, c := range sc.classes {
		e := float32(math.Exp(float64(z[c]*k - mx)))
		sc.probs = append(sc.probs, e)
		sum += e
	}
	for j := range sc.probs {
		sc.probs[j] /= sum
	}
	// Intents with few examples: their nearest example.
	sc.near = sc.near[:0]
	if m.few != nil {
		sc.nearQ, sc.nearKeys = m.nearVector(sc.ext.feats, sc.nearQ[:0], sc.nearKeys[:0])
		sc.near = m.few.nearest(sc.nearQ, sc.near)
		for _, nb := range sc.near {
			for j, c := range sc.classes {
				if c == nb.class && nb.sim > sc.probs[j] {
					sc.probs[j] = nb.sim
				}
			}
		}
	}
	// The best few, best first (insertion into a short list).
	var top [maxCandidates]int
	n := 0
	for j, p := range sc.probs {
		if p < minExampleScore {
			continue
		}
		pos := n
		for pos > 0 && sc.probs[top[pos-1]] < p {
			pos--
		}
		if pos >= maxCandidates {
			continue
		}
		if n < maxCandidates {
			n++
		}
		copy(top[pos+1:n], top[pos:n-1])
		top[pos] = j
	}
	// The winner and the runner-up explain themselves: their heaviest
	// features, whose text one more extraction finds.
	var cands [maxCandidates]Candidate
	var why [2]explanation
	var want []uint64
	built := false // sc.explainQ
	for r, j := range top[:n] {
		c := sc.classes[j]
		cands[r] = mm.candidate(int(m.intent[c]), Example, float64(sc.probs[j]), "", "", 0)
		if r >= len(why) {
			continue
		}
		if nb := m.few.of(sc.near, c); nb != nil && nb.sim == sc.probs[j] {
			cands[r].Evidence = "like " + quote(m.few.text[nb.ex])
			why[r] = heaviest(sc.nearQ, sc.nearKeys, func(f int32) float32 { return m.few.value(nb.ex, f) })
		} else {
			if !built {
				built = true
				sc.explainQ = sc.explainQ[:0]
				for k, f := range sc.ids {
					sc.explainQ = append(sc.explainQ, posting{f, sc.vals[k]})
				}
			}
			why[r] = heaviest(sc.explainQ, sc.keys, func(f int32) float32 { return m.weight(f, c) })
		}
		for _, it := range why[r].items[:why[r].n] {
			want = append(want, it.key)
		}
	}
	if len(want) > 0 {
		x := extractor{cfg: m.cfg.feat, texts: map[uint64]string{}, want: want}
		x.extract(t)
		for r := range why {
			if r >= n || why[r].n == 0 {
				continue
			}
			fs := make([]Feature, why[r].n)
			for i, it := range why[r].items[:why[r].n] {
				fs[i] = Feature{Text: x.texts[it.key], Kind: groupNames[groupOf(x.feats, it.key)], Weight: float64(it.w)}
			}
			cands[r].Features = fs
			if cands[r].Evidence == "" {
				cands[r].Evidence = evidenceText(fs)
			}
		}
	}
	for _, c := range cands[:n] {
		consider(c)
	}
	return float64(rho)
}

// explanation is a candidate's heaviest features, heaviest first.
type explanation struct {
	items [explainFeatures]struct {
		key uint64
		w   float32
	}
	n int
}

// heaviest finds the features of q (weight row, value; keys[k] is q[k]'s)
// with the largest value × weight(row).
func heaviest(q []posting, keys []uint64, weight func(int32) float32) explanation {
	var e explanation
	for k, p := range q {
		if p.id < 0 {
			continue
		}
		w := p.w * weight(p.id)
		if w <= 0 {
			continue
		}
		pos := e.n
		for pos > 0 && e.items[pos-1].w < w {
			pos--
		}
		if pos >= explainFeatures {
			continue
		}
		if e.n < explainFeatures {
			e.n++
		}
		copy(e.items[pos+1:e.n], e.items[pos:e.n-1])
		e.items[pos].key, e.items[pos].w = keys[k], w
	}
	return e
}

// groupOf is the group of feature key among feats.
func groupOf(feats []rawFeat, key uint64) featGroup {
	for _, f := range feats {
		if f.key == key {
			return f.group
		}
	}
	return gWord
}

func evidenceText(fs []Feature) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(f.Text))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatFloat(f.Weight, 'f', 2, 64))
	}
	return b.String()
}

// fewExamples is a nearest-example index over the examples of the intents
// that have at most fewMax of them: TF-IDF cosine over words and pairs (as
// the example tier was before it learned).
type fewExamples struct {
	post  map[int32][]posting // feature → examples that have it
	class []int32             // by example
	text  []string            // by example
	rows  [][]posting         // by example: its features (f in ex), sorted by feature
}

// posting is a weight: of an example (in fewExamples.post) or of a weight row
// (in fewExamples.rows, and in an utterance's vectors; -1: unknown feature).
type posting struct {
	id int32
	w  float32
}

// neighbour is the nearest example of one class.
type neighbour struct {
	class int32
	ex    int32
	sim   float32
}

// fewMax: intents with this many examples or fewer also match by their
// nearest example.
const fewMax = 3

// nearGroups are the feature groups of the nearest-example similarity.
const nearGroups = 1<<gWord | 1<<gPair

// nearVector is the TF-IDF vector over nearGroups, l2-normalised (unknown
// features count in the norm), appended to dst by feature (unknown: -1).
func (m *exampleModel) nearVector(feats []rawFeat, dst []posting, keys []uint64) ([]posting, []uint64) {
	var norm float64
	start := len(dst)
	for _, f := range feats {
		if nearGroups&(1<<f.group) == 0 {
			continue
		}
		tf := 1 + float32(math.Log(float64(f.tf)))
		e, ok := m.dict[f.key]
		w, id := tf*m.oovIDF[f.group], int32(-1)
		if ok {
			w, id = tf*e.idf, e.row
		}
		norm += float64(w * w)
		dst = append(dst, posting{id, w})
		if keys != nil {
			keys = append(keys, f.key)
		}
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := start; i < len(dst); i++ {
			dst[i].w *= inv
		}
	}
	return dst, keys
}

func (fx *fewExamples) add(m *exampleModel, feats []rawFeat, class int32, text string) {
	id := int32(len(fx.class))
	var row []posting
	q, _ := m.nearVector(feats, nil, nil)
	for _, p := range q {
		if p.id >= 0 {
			fx.post[p.id] = append(fx.post[p.id], posting{id, p.w})
			row = append(row, p)
		}
	}
	slices.SortFunc(row, func(a, b posting) int { return int(a.id - b.id) })
	fx.rows = append(fx.rows, row)
	fx.class = append(fx.class, class)
	fx.text = append(fx.text, text)
}

// nearest appends, for each class with a similar example, the most similar
// one (cosine similarity of the query vector q, from nearVector).
func (fx *fewExamples) nearest(q []posting, dst []neighbour) []neighbour {
	start := len(dst)
	var sims map[int32]float32
	for _, f := range q {
		if f.id < 0 {
			continue
		}
		for _, p := range fx.post[f.id] {
			if sims == nil {
				sims = map[int32]float32{}
			}
			sims[p.id] += f.w * p.w
		}
	}
	for ex, s := range sims {
		s = min(s, 1)
		c := fx.class[ex]
		found := false
		for i := start; i < len(dst); i++ {
			if dst[i].class == c {
				found = true
				if s > dst[i].sim || (s == dst[i].sim && ex < dst[i].ex) {
					dst[i] = neighbour{c, ex, s}
				}
			}
		}
		if !found {
			dst = append(dst, neighbour{c, ex, s})
		}
	}
	return dst
}

// of returns the neighbour of class c, or nil.
func (fx *fewExamples) of(near []neighbour, c int32) *neighbour {
	if fx == nil {
		return nil
	}
	for i := range near {
		if near[i].class == c {
			return &near[i]
		}
	}
	return nil
}

// value is feature f's weight in example ex.
func (fx *fewExamples) value(ex, f int32) float32 {
	row := fx.rows[ex]
	i, ok := slices.BinarySearchFunc(row, f, func(p posting, f int32) int { return int(p.id - f) })
	if !ok {
		return 0
	}
	return row[i].w
}
