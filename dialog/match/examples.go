package match

import (
	"math"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// exampleIndex scores an utterance by its TF-IDF cosine similarity to the
// intents' example utterances (nearest example wins). Features are Chinese
// characters and character bigrams, stemmed words and word bigrams, and one
// feature for "a number". It is an inverted index, so an utterance costs time
// in proportion to the examples sharing its features, not to all examples.
type exampleIndex struct {
	uni      map[string]uint32 // unit text → unigram feature
	bi       map[uint64]uint32 // pair of unigram features → bigram feature
	idf      []float32         // by feature
	oovIDF   float32           // for features no example has
	postings [][]posting       // by feature
	intentOf []int32           // by example
	text     []string          // by example
	nIntents int
}

type posting struct {
	ex int32
	w  float32
}

// feature is a feature of one utterance with its count; id 0 is unknown.
type feature struct {
	id uint32
	tf float32
}

const numberUnit = "#"

func unitFeatureText(u textnorm.Unit) string {
	if u.Kind == textnorm.Number {
		return numberUnit
	}
	return u.Text
}

func buildExamples(intents []Intent) *exampleIndex {
	x := &exampleIndex{uni: map[string]uint32{}, bi: map[uint64]uint32{}, nIntents: len(intents)}
	x.idf = []float32{0} // feature 0 is "unknown"
	var docs [][]feature
	for i, in := range intents {
		for _, ex := range in.Examples {
			units := textnorm.Analyze(ex).Units
			feats := x.features(units, true, nil)
			if len(feats) == 0 {
				continue
			}
			docs = append(docs, feats)
			x.intentOf = append(x.intentOf, int32(i))
			x.text = append(x.text, ex)
		}
	}
	n := float64(len(docs))
	df := make([]float64, len(x.idf))
	for _, d := range docs {
		for _, f := range d {
			df[f.id]++
		}
	}
	for id := 1; id < len(df); id++ {
		x.idf[id] = float32(math.Log((1+n)/(1+df[id])) + 1)
	}
	x.oovIDF = float32(math.Log(1+n) + 1)
	x.postings = make([][]posting, len(x.idf))
	for e, d := range docs {
		var norm float64
		for _, f := range d {
			w := float64(sublinear(f.tf) * x.idf[f.id])
			norm += w * w
		}
		norm = math.Sqrt(norm)
		for _, f := range d {
			w := float64(sublinear(f.tf)*x.idf[f.id]) / norm
			x.postings[f.id] = append(x.postings[f.id], posting{ex: int32(e), w: float32(w)})
		}
	}
	return x
}

func sublinear(tf float32) float32 { return 1 + float32(math.Log(float64(tf))) }

// features appends the features of units to dst, counting repeats. With add
// set (building), unknown features get new IDs; otherwise they are ID 0, and
// each unknown one is kept apart so it still weighs in the norm.
func (x *exampleIndex) features(units []textnorm.Unit, add bool, dst []feature) []feature {
	prev := uint32(0)
	prevKind := textnorm.Kind(0)
	for _, u := range units {
		if u.Kind == textnorm.Break {
			prev, prevKind = 0, 0
			continue
		}
		id, ok := x.uni[unitFeatureText(u)]
		if !ok && add {
			id = uint32(len(x.idf))
			x.uni[unitFeatureText(u)] = id
			x.idf = append(x.idf, 0)
		}
		dst = addFeature(dst, id)
		// Bigrams of neighbours of the same kind: characters with characters, words with words.
		if prevKind == u.Kind && prev != 0 && id != 0 {
			k := uint64(prev)<<32 | uint64(id)
			bid, ok := x.bi[k]
			if !ok && add {
				bid = uint32(len(x.idf))
				x.bi[k] = bid
				x.idf = append(x.idf, 0)
			}
			dst = addFeature(dst, bid)
		} else if prevKind == u.Kind {
			dst = addFeature(dst, 0) // a bigram no example has
		}
		prev, prevKind = id, u.Kind
	}
	return dst
}

func addFeature(dst []feature, id uint32) []feature {
	if id != 0 {
		for i := range dst {
			if dst[i].id == id {
				dst[i].tf++
				return dst
			}
		}
	}
	return append(dst, feature{id: id, tf: 1})
}

// minExampleScore keeps noise out of the candidate list.
const minExampleScore = 0.15

func (x *exampleIndex) match(m *Matcher, units []textnorm.Unit, active Set, sc *scratch, consider func(Candidate)) {
	if len(x.intentOf) == 0 {
		return
	}
	sc.feats = x.features(units, false, sc.feats[:0])
	var qnorm float64
	for _, f := range sc.feats {
		idf := x.oovIDF
		if f.id != 0 {
			idf = x.idf[f.id]
		}
		w := float64(sublinear(f.tf) * idf)
		qnorm += w * w
	}
	if qnorm == 0 {
		return
	}
	qnorm = math.Sqrt(qnorm)
	if cap(sc.sims) < len(x.intentOf) {
		sc.sims = make([]float32, len(x.intentOf))
	}
	sims := sc.sims[:len(x.intentOf)]
	sc.touched = sc.touched[:0]
	for _, f := range sc.feats {
		if f.id == 0 {
			continue
		}
		wq := sublinear(f.tf) * x.idf[f.id]
		for _, p := range x.postings[f.id] {
			if sims[p.ex] == 0 {
				sc.touched = append(sc.touched, p.ex)
			}
			sims[p.ex] += wq * p.w
		}
	}
	// Nearest example per intent, in dense scratch arrays (a map here costs more than the scoring).
	if cap(sc.best) < x.nIntents {
		sc.best = make([]float32, x.nIntents)
		sc.bestEx = make([]int32, x.nIntents)
	}
	best, bestEx := sc.best[:x.nIntents], sc.bestEx[:x.nIntents]
	sc.intents = sc.intents[:0]
	for _, e := range sc.touched {
		s := sims[e]
		sims[e] = 0
		i := x.intentOf[e]
		if !active.Has(int(i)) {
			continue
		}
		if best[i] == 0 {
			sc.intents = append(sc.intents, i)
		}
		if s > best[i] {
			best[i], bestEx[i] = s, e
		}
	}
	for _, i := range sc.intents {
		score := float64(best[i]) / qnorm
		ex := bestEx[i]
		best[i] = 0
		if score < minExampleScore {
			continue
		}
		if score > 1 {
			score = 1
		}
		consider(m.candidate(int(i), Example, score, x.text[ex], "", 0))
	}
}
