package speech

import (
	"bufio"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A hint language model is a small n-gram model of a script's own phrases
// (its keywords and examples), written in the ARPA text format that
// pocketsphinx, Kaldi, KenLM and SRILM all read. Unlike a closed grammar it
// lets a caller's sentence differ from every example ("there is a power cut
// on our street" from "i have a power cut" and "power cut"), and unlike the
// general English model it only knows the script's few hundred words, so the
// recogniser cannot wander off into the rest of the dictionary.
//
// Smoothing is interpolated Kneser–Ney with one discount per order (Chen and
// Goodman 1998): the highest order counts n-grams, the lower orders count
// the distinct words seen before them (continuation counts), except for
// n-grams that start a sentence, which keep their counts. An interpolated
// model is exactly an ARPA back-off model whose back-off weight of a context
// is its interpolation weight, so nothing is approximated on the way out.

const (
	sentenceStart = "<s>"
	sentenceEnd   = "</s>"
)

// ngramCounts are the counts of one order: n-gram (words joined by a
// space) → count.
type ngramCounts map[string]float64

// LMOptions shape a hint language model.
type LMOptions struct {
	// Order is the n of the n-grams, 1..5 (default 3).
	Order int
	// Background is word → count of everyday words outside the script
	// (speech/background_en.txt). They get BackgroundWeight of the unigram
	// mass, so a caller's word the script never uses ("latest") can be
	// written down as itself instead of as the script word nearest in sound
	// ("agent").
	Background       map[string]float64
	BackgroundWeight float64
}

// BuildARPA returns an ARPA language model of sentences (each a list of
// words, without sentence markers). Every word of the sentences and of the
// background is in its vocabulary, with <s> and </s>. No sentences give an
// error.
func BuildARPA(sentences [][]string, opt LMOptions) (string, error) {
	n := opt.Order
	if n == 0 {
		n = 3
	}
	n = min(max(n, 1), 5)
	var toks [][]string
	for _, s := range sentences {
		if len(s) == 0 {
			continue
		}
		toks = append(toks, append(append([]string{sentenceStart}, s...), sentenceEnd))
	}
	if len(toks) == 0 {
		return "", fmt.Errorf("language model: no sentences")
	}
	// Raw counts of every order.
	raw := make([]ngramCounts, n+1)
	for k := 1; k <= n; k++ {
		raw[k] = ngramCounts{}
		for _, t := range toks {
			for i := 0; i+k <= len(t); i++ {
				if k == 1 && t[i] == sentenceStart {
					continue // <s> is never predicted
				}
				raw[k][strings.Join(t[i:i+k], " ")]++
			}
		}
	}
	// The counts each order's estimate uses: raw at the top, continuation
	// counts below (how many distinct words precede the n-gram), raw for
	// n-grams that begin with <s> (nothing can precede them).
	cnt := make([]ngramCounts, n+1)
	cnt[n] = raw[n]
	for k := n - 1; k >= 1; k-- {
		cnt[k] = ngramCounts{}
		for g, c := range raw[k] {
			if strings.HasPrefix(g, sentenceStart+" ") {
				cnt[k][g] = c
			}
		}
		// <s> only begins a sentence, so every other n-gram of this order
		// follows some word and gets a count here.
		for g := range raw[k+1] {
			_, rest, _ := strings.Cut(g, " ")
			cnt[k][rest]++
		}
	}
	// One discount per order from the counts of counts: D = n1/(n1+2·n2).
	disc := make([]float64, n+1)
	for k := 1; k <= n; k++ {
		var n1, n2 float64
		for _, c := range cnt[k] {
			switch c {
			case 1:
				n1++
			case 2:
				n2++
			}
		}
		d := 0.5
		if n1 > 0 && n1+2*n2 > 0 {
			d = n1 / (n1 + 2*n2)
		}
		disc[k] = min(max(d, 0.1), 0.9)
	}
	// Per context (the first k-1 words): the sum of counts and the number
	// of distinct words that follow.
	type ctxStat struct{ sum, types float64 }
	ctx := make([]map[string]*ctxStat, n+1)
	for k := 1; k <= n; k++ {
		ctx[k] = map[string]*ctxStat{}
		for g, c := range cnt[k] {
			h := ""
			if i := strings.LastIndexByte(g, ' '); i >= 0 {
				h = g[:i]
			}
			st := ctx[k][h]
			if st == nil {
				st = &ctxStat{}
				ctx[k][h] = st
			}
			st.sum += c
			st.types++
		}
	}
	vocab := make([]string, 0, len(raw[1])+len(opt.Background))
	for w := range raw[1] {
		vocab = append(vocab, w)
	}
	var bgTotal float64
	for w, c := range opt.Background {
		if c > 0 && w != sentenceStart && w != sentenceEnd {
			bgTotal += c
			if _, ok := raw[1][w]; !ok {
				vocab = append(vocab, w)
			}
		}
	}
	bgWeight := 0.0
	if bgTotal > 0 {
		bgWeight = min(max(opt.BackgroundWeight, 0), 0.9)
	}
	slices.Sort(vocab)
	prob := make([]map[string]float64, n+1) // interpolated p(w | h) of seen n-grams
	bow := make([]map[string]float64, n+1)  // interpolation weight of a context
	// Unigrams: interpolated with the uniform distribution over the vocabulary.
	prob[1] = map[string]float64{}
	u := ctx[1][""]
	gamma0 := disc[1] * u.types / u.sum
	for _, w := range vocab {
		p := max(cnt[1][w]-disc[1], 0)/u.sum + gamma0/float64(len(vocab))
		if bgWeight > 0 {
			p = (1-bgWeight)*p + bgWeight*max(opt.Background[w], 0)/bgTotal
		}
		prob[1][w] = p
	}
	for k := 2; k <= n; k++ {
		prob[k] = map[string]float64{}
		bow[k-1] = map[string]float64{}
		for h, st := range ctx[k] {
			bow[k-1][h] = disc[k] * st.types / st.sum
		}
		for g, c := range cnt[k] {
			i := strings.LastIndexByte(g, ' ')
			h := g[:i]
			_, lower, _ := strings.Cut(g, " ")
			prob[k][g] = max(c-disc[k], 0)/ctx[k][h].sum + bow[k-1][h]*lowerProb(prob, bow, k-1, lower)
		}
	}
	var b strings.Builder
	b.WriteString("\\data\\\n")
	counts := []int{0, len(vocab) + 1}
	for k := 2; k <= n; k++ {
		counts = append(counts, len(prob[k]))
	}
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "ngram %d=%d\n", k, counts[k])
	}
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "\n\\%d-grams:\n", k)
		var grams []string
		if k == 1 {
			grams = append(append(grams, sentenceStart), vocab...)
			slices.Sort(grams)
		} else {
			for g := range prob[k] {
				grams = append(grams, g)
			}
			slices.Sort(grams)
		}
		for _, g := range grams {
			lp := -99.0
			if p, ok := prob[k][g]; ok {
				lp = math.Log10(p)
			}
			fmt.Fprintf(&b, "%.6f\t%s", lp, g)
			if k < n {
				if w, ok := bow[k][g]; ok && g != sentenceEnd {
					fmt.Fprintf(&b, "\t%.6f", math.Log10(w))
				}
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n\\end\\\n")
	return b.String(), nil
}

// lowerProb is p(w | h) at order k for the n-gram g = "h w": the seen
// n-gram's interpolated probability, or the context's weight times the next
// lower order's (the back-off a decoder does).
func lowerProb(prob, bow []map[string]float64, k int, g string) float64 {
	if p, ok := prob[k][g]; ok {
		return p
	}
	if k == 1 {
		return 0 // every word is a seen unigram; never reached
	}
	i := strings.LastIndexByte(g, ' ')
	w := 1.0
	if bw, ok := bow[k-1][g[:i]]; ok {
		w = bw
	}
	_, lower, _ := strings.Cut(g, " ")
	return w * lowerProb(prob, bow, k-1, lower)
}

// backgroundEnglishList is the 1,000 most frequent words of the CLINC150
// training queries (Larson et al. 2019, CC BY 3.0: 15,000 questions people
// ask an assistant, banking to small talk), with their counts.
//
//go:embed background_en.txt
var backgroundEnglishList string

var backgroundEnglish = sync.OnceValue(func() map[string]float64 {
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(backgroundEnglishList))
	for sc.Scan() {
		w, c, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || strings.HasPrefix(w, "#") {
			continue
		}
		if n, err := strconv.ParseFloat(c, 64); err == nil && n > 0 {
			m[w] = n
		}
	}
	return m
})
