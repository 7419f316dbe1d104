package match

import (
	"math"
	"math/rand/v2"
)

// train fits the weights by stochastic gradient descent on the softmax
// cross-entropy (with "none of them" as one more outcome, never the right
// one) and L2 regularisation, in a fixed pseudo-random order, so that the
// same examples always give the same model. A fifth of each intent's examples
// is first held out: the model trained without them tells how sure it should
// be of questions it has not seen (the temperature); then training goes on
// with every example. Small training sets average several models, each
// trained in its own order.
func (m *exampleModel) train(ts *trainSet) {
	cfg := m.cfg
	n := len(ts.y)
	k := cfg.ensemble
	if k <= 0 {
		k = min(maxEnsemble, ensembleWork/max(1, n*m.nClass), 2*maxWeights/max(1, m.rows*m.nClass))
		k = max(1, k)
	}
	trs := make([]*trainer, k)
	for i := range trs {
		c := cfg
		c.seed = cfg.seed + uint64(i)
		trs[i] = newTrainer(m.nClass, m.rows, c)
	}
	held := make([]bool, n)
	nHeld := 0
	if cfg.holdEvery > 1 {
		seen := make([]int, m.nClass)
		for i, y := range ts.y {
			if seen[y]%cfg.holdEvery == 1 {
				held[i] = true
				nHeld++
			}
			seen[y]++
		}
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	m.temp = float32(cfg.temp)
	if nHeld >= cfg.minHeld {
		var part []int
		for i := range n {
			if !held[i] {
				part = append(part, i)
			}
		}
		for _, tr := range trs {
			tr.run(ts, part, cfg.epochs)
		}
		m.w, m.b = average(trs)
		m.temp = m.fitTemperature(ts, held)
		m.w = nil
		for _, tr := range trs {
			tr.run(ts, all, cfg.epochs2)
		}
	} else {
		for _, tr := range trs {
			tr.run(ts, all, cfg.epochs+cfg.epochs2)
		}
	}
	w, b := average(trs)
	m.b = b
	m.sparsify(w)
}

// average returns the mean of the trainers' weights (the first trainer's
// own when there is one).
func average(trs []*trainer) ([]float32, []float32) {
	w, b := trs[0].weights()
	if len(trs) == 1 {
		return w, b
	}
	aw, ab := make([]float32, len(w)), make([]float32, len(b))
	for _, tr := range trs {
		w, b := tr.weights()
		for j, x := range w {
			aw[j] += x
		}
		for j, x := range b {
			ab[j] += x
		}
	}
	inv := 1 / float32(len(trs))
	for j := range aw {
		aw[j] *= inv
	}
	for j := range ab {
		ab[j] *= inv
	}
	return aw, ab
}

// trainer is the state of stochastic gradient descent. The weights are
// v·scale, so that the L2 decay of every weight is one multiplication.
type trainer struct {
	cfg    modelConfig
	C      int
	v, b   []float32
	scale  float64
	t      int // steps done
	s      []float32
	active []int32
	rng    *rand.Rand
}

func newTrainer(classes, features int, cfg modelConfig) *trainer {
	return &trainer{cfg: cfg, C: classes, v: make([]float32, features*classes), b: make([]float32, classes),
		scale: 1, s: make([]float32, classes), rng: rand.New(rand.NewPCG(cfg.seed, 0x5eed))}
}

// run makes epochs passes over the examples of order (shuffled each time).
func (tr *trainer) run(ts *trainSet, order []int, epochs int) {
	cfg := tr.cfg
	C := tr.C
	v, b, s := tr.v, tr.b, tr.s
	null := cfg.nullScore
	for range epochs {
		tr.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			eta := cfg.eta0 / (1 + cfg.eta0*cfg.lambda*float64(tr.t))
			tr.t++
			ids, vals := ts.row(i)
			copy(s, b)
			sc := float32(tr.scale)
			for k, f := range ids {
				axpy(vals[k]*sc, v[int(f)*C:int(f)*C+C], s)
			}
			softmaxNull(s, null)
			s[ts.y[i]] -= 1 // s is now the gradient of the loss by the scores
			active := tr.active[:0]
			for c, g := range s {
				if g > cfg.skipGrad || g < -cfg.skipGrad {
					active = append(active, int32(c))
				}
			}
			tr.active = active
			tr.scale *= 1 - eta*cfg.lambda
			coef := float32(eta / tr.scale)
			for k, f := range ids {
				x := vals[k] * coef
				row := v[int(f)*C : int(f)*C+C]
				for _, c := range active {
					row[c] -= x * s[c]
				}
			}
			bl := float32(eta * cfg.biasLR)
			for _, c := range active {
				b[c] = min(b[c]-bl*s[c], cfg.biasMax)
			}
			if tr.scale < 1e-4 {
				tr.rescale()
			}
		}
	}
}

func (tr *trainer) rescale() {
	sc := float32(tr.scale)
	for j := range tr.v {
		tr.v[j] *= sc
	}
	tr.scale = 1
}

// weights returns the current weights (shared with the trainer).
func (tr *trainer) weights() ([]float32, []float32) {
	tr.rescale()
	return tr.v, tr.b
}

// axpy adds x·row to s.
func axpy(x float32, row, s []float32) {
	s = s[:len(row)]
	i := 0
	for ; i+4 <= len(row); i += 4 {
		r := row[i : i+4 : i+4]
		t := s[i : i+4 : i+4]
		t[0] += x * r[0]
		t[1] += x * r[1]
		t[2] += x * r[2]
		t[3] += x * r[3]
	}
	for ; i < len(row); i++ {
		s[i] += x * row[i]
	}
}

// softmaxNull turns scores into probabilities, with one more outcome of
// score null whose probability is left out of s.
func softmaxNull(s []float32, null float32) {
	mx := null
	for _, x := range s {
		mx = max(mx, x)
	}
	sum := float32(math.Exp(float64(null - mx)))
	for i, x := range s {
		e := float32(math.Exp(float64(x - mx)))
		s[i] = e
		sum += e
	}
	for i := range s {
		s[i] /= sum
	}
}

// fitTemperature finds the temperature that makes the model's confidence on
// the held-out examples honest (the lowest log loss). A held-out example is
// scored as an utterance would be: features only held-out examples have are
// unknown, and damp the confidence as unknown words do.
func (m *exampleModel) fitTemperature(ts *trainSet, held []bool) float32 {
	known := make([]bool, m.rows)
	for i := range held {
		if !held[i] {
			ids, _ := ts.row(i)
			for _, f := range ids {
				known[f] = true
			}
		}
	}
	type scored struct {
		z []float32 // rho^rhoPow × scores
		y int32
	}
	var set []scored
	C := m.nClass
	for i := range held {
		if !held[i] {
			continue
		}
		ids, vals := ts.row(i)
		var kn float64
		for k, f := range ids {
			if known[f] {
				kn += float64(vals[k] * vals[k])
			}
		}
		if kn == 0 {
			continue // nothing known: no match, whatever the temperature
		}
		z := make([]float32, C)
		copy(z, m.b)
		inv := float32(1 / math.Sqrt(kn))
		for k, f := range ids {
			if known[f] {
				axpy(vals[k]*inv, m.w[int(f)*C:int(f)*C+C], z)
			}
		}
		r := float32(math.Pow(math.Sqrt(kn), m.cfg.rhoPow))
		for c := range z {
			z[c] *= r
		}
		set = append(set, scored{z, ts.y[i]})
	}
	if len(set) == 0 {
		return float32(m.cfg.temp)
	}
	null := float64(m.cfg.nullScore)
	loss := func(T float64) float64 {
		var l float64
		for _, e := range set {
			mx := null
			for _, v := range e.z {
				mx = math.Max(mx, float64(v))
			}
			sum := math.Exp((null - mx) / T)
			for _, v := range e.z {
				sum += math.Exp((float64(v) - mx) / T)
			}
			l += math.Log(sum) - (float64(e.z[e.y])-mx)/T
		}
		return l
	}
	// Golden-section search on ln T in [ln 0.05, ln 20].
	lo, hi := math.Log(0.05), math.Log(20)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := loss(math.Exp(a)), loss(math.Exp(b))
	for range 40 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = loss(math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = loss(math.Exp(b))
		}
	}
	return float32(math.Exp((lo + hi) / 2))
}
