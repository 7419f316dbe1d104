package match

import (
	"math"
	"slices"
	"strings"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// The example tier is a linear classifier learned from the intents'
// examples when the matcher is compiled: multinomial logistic regression
// over TF-IDF features (features.go), trained by stochastic gradient descent
// (train.go), with one more outcome, "none of them", whose score is fixed.
// Its confidence is the classifier's probability with a temperature fitted
// on held-out examples, damped when the utterance has words no example has;
// intents with very few examples also match by their nearest example
// (examples.go).

// modelConfig holds the example model's settings. They are fixed: the
// variables are those the benchmark (bench/understanding) chose them by.
type modelConfig struct {
	feat      featConfig
	groupW    [nGroups]float32 // weight of each feature group, before normalisation
	epochs    int              // passes over the examples not held out
	epochs2   int              // then passes over all examples
	eta0      float64          // learning rate: eta0 / (1 + eta0·lambda·step)
	lambda    float64          // L2 regularisation, per example
	skipGrad  float32          // gradient entries smaller than this are not applied
	biasLR    float64          // the class biases learn this much slower
	biasMax   float32          // … and stay at most this: no intent matches on its prior alone
	nullScore float32          // the score of "none of them"
	holdEvery int              // the 2nd, (2+holdEvery)th… example of each intent is held out to fit the temperature
	minHeld   int              // with fewer held out than this, the temperature is temp
	temp      float64          // the temperature when it cannot be fitted
	rhoPow    float64          // confidence: softmax(rho^rhoPow × scores / temperature)
	prune     float32          // weights smaller than this are dropped after training
	ensemble  int              // models averaged; 0: as many as fit in ensembleWork examples, up to maxEnsemble
	seed      uint64
	maxRows   int // 0: maxWeights / intents (tests set it lower)
}

// With the default ensemble, as many models (each trained in its own order)
// are averaged as fit in ensembleWork examples × intents: a small training
// set's model is steadier for it, a large one needs it less and would take
// longer.
const (
	ensembleWork = 400000
	maxEnsemble  = 5
)

// maxWeights bounds the weights while training (feature rows × intents,
// 4 bytes each): a script with more features than fit shares rows between
// features (by hash), which costs a little accuracy, not memory.
const maxWeights = 8 << 20

var defaultModel = modelConfig{
	feat:      featConfig{gramMin: 2, gramMax: 4, han3: true, sounds: true, edges: true, punct: true},
	groupW:    [nGroups]float32{gWord: 1, gPair: 0.7, gHan3: 0.5, gGram: 0.5, gSound: 1, gSoundPair: 1, gEdge: 1},
	epochs:    5,
	epochs2:   2,
	eta0:      2,
	lambda:    1e-6,
	skipGrad:  1e-4,
	biasLR:    0.1,
	biasMax:   0,
	nullScore: 1,
	holdEvery: 5,
	minHeld:   20,
	temp:      1,
	rhoPow:    2,
	prune:     0.03,
	seed:      1,
}

// exampleModel is the learned example tier.
type exampleModel struct {
	cfg     modelConfig
	dict    map[uint64]feature // by key, the features examples have
	rows    int                // weight rows (features, or fewer: see maxWeights)
	oovIDF  [nGroups]float32   // for features no example has
	nClass  int
	intent  []int32 // class → intent
	classOf []int32 // intent → class, -1 without examples
	b       []float32
	// The weights without the small ones: those of feature f are
	// wt[off[f]:off[f+1]], for the classes cls[off[f]:off[f+1]].
	off  []int32
	cls  []int32
	wt   []float32
	w    []float32 // while training: dense, row×nClass+class
	temp float32
	few  *fewExamples // the intents with few examples, nil if none
}

// feature is what the model knows of a feature.
type feature struct {
	row int32   // its weights
	idf float32 // times its group's weight
}

// trainSet is the examples as feature vectors (compressed rows; a feature
// is its weight row).
type trainSet struct {
	off  []int32
	ids  []int32
	vals []float32
	y    []int32
}

func (t *trainSet) row(i int) ([]int32, []float32) {
	return t.ids[t.off[i]:t.off[i+1]], t.vals[t.off[i]:t.off[i+1]]
}

// buildModel learns the example model of intents.
func buildModel(intents []Intent, cfg modelConfig) *exampleModel {
	m := &exampleModel{cfg: cfg, dict: map[uint64]feature{}, classOf: make([]int32, len(intents))}
	x := &extractor{cfg: cfg.feat}
	type doc struct {
		feats []rawFeat
		class int32
		text  string
	}
	// The model does not depend on the order intents and examples are
	// written in: classes are in the order of intent names, examples in the
	// order of their text.
	order := make([]int, len(intents))
	for i := range order {
		order[i] = i
		m.classOf[i] = -1
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(intents[a].Name, intents[b].Name) })
	var docs []doc
	for _, i := range order {
		first := len(docs)
		for _, ex := range intents[i].Examples {
			x.extract(textnorm.Analyze(ex))
			if len(x.feats) == 0 {
				continue
			}
			if m.classOf[i] < 0 {
				m.classOf[i] = int32(m.nClass)
				m.intent = append(m.intent, int32(i))
				m.nClass++
			}
			docs = append(docs, doc{feats: slices.Clone(x.feats), class: m.classOf[i], text: ex})
		}
		slices.SortStableFunc(docs[first:], func(a, b doc) int { return strings.Compare(a.text, b.text) })
	}
	if len(docs) == 0 {
		return m
	}
	df := map[uint64]int32{}
	for _, d := range docs {
		for _, f := range d.feats {
			df[f.key]++
		}
	}
	// Smooth IDF, as scikit-learn's: ln((1+n)/(1+df)) + 1. Rows in order
	// of first appearance (deterministic), or by hash when there are too
	// many.
	n := float64(len(docs))
	maxRows := cfg.maxRows
	if maxRows <= 0 {
		maxRows = max(1, maxWeights/m.nClass)
	}
	hashed := len(df) > maxRows
	m.rows = len(df)
	if hashed {
		m.rows = maxRows
	}
	next := int32(0)
	for _, d := range docs {
		for _, f := range d.feats {
			if _, ok := m.dict[f.key]; ok {
				continue
			}
			row := next
			if hashed {
				row = int32(f.key % uint64(m.rows))
			} else {
				next++
			}
			m.dict[f.key] = feature{row: row, idf: float32(math.Log((1+n)/(1+float64(df[f.key])))+1) * cfg.groupW[f.group]}
		}
	}
	for g := range m.oovIDF {
		m.oovIDF[g] = float32(math.Log(1+n)+1) * cfg.groupW[g]
	}
	ts := &trainSet{off: []int32{0}}
	var ids []int32
	var vals []float32
	count := make([]int, m.nClass)
	for _, d := range docs {
		ids, vals, _ = m.vector(d.feats, ids[:0], vals[:0])
		ts.ids = append(ts.ids, ids...)
		ts.vals = append(ts.vals, vals...)
		ts.off = append(ts.off, int32(len(ts.ids)))
		ts.y = append(ts.y, d.class)
		count[d.class]++
	}
	for _, d := range docs {
		if count[d.class] <= fewMax {
			if m.few == nil {
				m.few = &fewExamples{post: map[int32][]posting{}}
			}
			m.few.add(m, d.feats, d.class, d.text)
		}
	}
	m.train(ts)
	return m
}

// vector turns features into TF-IDF weights (sublinear tf: 1 + ln tf),
// l2-normalised over the features the model knows. rho is the share of the
// utterance's norm those features carry: 1 when the model knows every
// feature, lower when the utterance has words (characters, sounds…) no
// example has.
func (m *exampleModel) vector(feats []rawFeat, ids []int32, vals []float32) ([]int32, []float32, float32) {
	ids, vals, _, rho := m.vectorKeys(feats, ids, vals, nil)
	return ids, vals, rho
}

// vectorKeys is vector, also appending the key of each feature to keys
// (unless nil).
func (m *exampleModel) vectorKeys(feats []rawFeat, ids []int32, vals []float32, keys []uint64) ([]int32, []float32, []uint64, float32) {
	var norm, oov float64
	for _, f := range feats {
		tf := 1 + float32(math.Log(float64(f.tf)))
		e, ok := m.dict[f.key]
		if !ok {
			w := tf * m.oovIDF[f.group]
			oov += float64(w * w)
			continue
		}
		w := tf * e.idf
		norm += float64(w * w)
		ids = append(ids, e.row)
		vals = append(vals, w)
		if keys != nil {
			keys = append(keys, f.key)
		}
	}
	if norm == 0 {
		return ids, vals, keys, 0
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range vals {
		vals[i] *= inv
	}
	return ids, vals, keys, float32(math.Sqrt(norm / (norm + oov)))
}

// scores computes the class scores (logits) of a feature vector.
func (m *exampleModel) scores(ids []int32, vals []float32, s []float32) {
	copy(s, m.b)
	for k, f := range ids {
		x := vals[k]
		lo, hi := m.off[f], m.off[f+1]
		cls, wt := m.cls[lo:hi], m.wt[lo:hi]
		for j, c := range cls {
			s[c] += x * wt[j]
		}
	}
}

// weight is the weight of feature f for class c.
func (m *exampleModel) weight(f int32, c int32) float32 {
	for j := m.off[f]; j < m.off[f+1]; j++ {
		if m.cls[j] == c {
			return m.wt[j]
		}
	}
	return 0
}

// sparsify keeps the weights at least cfg.prune in size, by feature.
func (m *exampleModel) sparsify(w []float32) {
	C := m.nClass
	nz := 0
	for _, x := range w {
		if x >= m.cfg.prune || x <= -m.cfg.prune {
			nz++
		}
	}
	m.off = make([]int32, m.rows+1)
	m.cls = make([]int32, 0, nz)
	m.wt = make([]float32, 0, nz)
	for f := range m.rows {
		for c, x := range w[f*C : f*C+C] {
			if x >= m.cfg.prune || x <= -m.cfg.prune {
				m.cls = append(m.cls, int32(c))
				m.wt = append(m.wt, x)
			}
		}
		m.off[f+1] = int32(len(m.cls))
	}
	m.w = nil
}
