package speech

import (
	"bufio"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// arpaModel is a parsed ARPA file, to check BuildARPA the way a decoder
// reads it.
type arpaModel struct {
	order int
	lp    map[string]float64 // log10 p of each listed n-gram
	bow   map[string]float64 // log10 back-off weight
	vocab []string
}

func parseARPA(t *testing.T, text string) arpaModel {
	t.Helper()
	m := arpaModel{lp: map[string]float64{}, bow: map[string]float64{}}
	want := map[int]int{}
	got := map[int]int{}
	k := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || line == "\\data\\" || line == "\\end\\":
		case strings.HasPrefix(line, "ngram "):
			a, b, _ := strings.Cut(strings.TrimPrefix(line, "ngram "), "=")
			o, _ := strconv.Atoi(a)
			c, _ := strconv.Atoi(b)
			want[o] = c
			m.order = max(m.order, o)
		case strings.HasPrefix(line, "\\") && strings.HasSuffix(line, "-grams:"):
			k, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "\\"), "-grams:"))
		default:
			f := strings.Split(line, "\t")
			if len(f) < 2 || len(f) > 3 {
				t.Fatalf("bad line %q", line)
			}
			lp, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				t.Fatalf("bad probability in %q", line)
			}
			if n := len(strings.Fields(f[1])); n != k {
				t.Fatalf("%d words in the %d-grams: %q", n, k, line)
			}
			m.lp[f[1]] = lp
			if len(f) == 3 {
				bw, err := strconv.ParseFloat(f[2], 64)
				if err != nil {
					t.Fatalf("bad back-off weight in %q", line)
				}
				m.bow[f[1]] = bw
			}
			if k == 1 && f[1] != sentenceStart {
				m.vocab = append(m.vocab, f[1])
			}
			got[k]++
		}
	}
	for o, c := range want {
		if got[o] != c {
			t.Errorf("header says %d %d-grams, file has %d", c, o, got[o])
		}
	}
	return m
}

// p is the back-off probability of w after the words of h, as a decoder
// computes it.
func (m arpaModel) p(h []string, w string) float64 {
	if len(h) > m.order-1 {
		h = h[len(h)-(m.order-1):]
	}
	if lp, ok := m.lp[strings.Join(append(slices.Clone(h), w), " ")]; ok {
		return math.Pow(10, lp)
	}
	if len(h) == 0 {
		return 0
	}
	// A context without a listed weight backs off with weight 1.
	return math.Pow(10, m.bow[strings.Join(h, " ")]) * m.p(h[1:], w)
}

var ngramSentences = [][]string{
	strings.Fields("i have a power cut"),
	strings.Fields("power cut"),
	strings.Fields("my power has gone off"),
	strings.Fields("i have a question about my bill"),
	strings.Fields("why is my bill so high"),
	strings.Fields("i want to pay my bill"),
	strings.Fields("pay my bill"),
	strings.Fields("i want to speak to a person"),
	strings.Fields("operator"),
	strings.Fields("i want to give a meter reading"),
}

// TestBuildARPASumsToOne: after every context the model gives, the
// probabilities of the next word over the whole vocabulary add up to one,
// at every order: the back-off weights are right.
func TestBuildARPASumsToOne(t *testing.T) {
	bg := map[string]float64{"latest": 3, "the": 50, "my": 40, "kitchen": 1}
	for _, opt := range []LMOptions{{Order: 1}, {Order: 2}, {Order: 3}, {Order: 4}, {Order: 3, Background: bg, BackgroundWeight: 0.2}} {
		n := opt.Order
		m := parseARPA(t, mustARPA(t, ngramSentences, opt))
		if m.order != n {
			t.Fatalf("order %d, want %d", m.order, n)
		}
		contexts := [][]string{nil, {sentenceStart}, {"my"}, {"i", "have"}, {"want", "to"}, {"pay", "my"},
			{sentenceStart, "i"}, {"bill"}, {"a", "power", "cut"}, {"unseen"}, {"so", "unseen"}}
		for _, h := range contexts {
			if slicesContainUnseen(m, h) {
				continue
			}
			var sum float64
			for _, w := range m.vocab {
				p := m.p(h, w)
				if p <= 0 || p > 1 {
					t.Errorf("order %d: p(%s | %v) = %g", n, w, h, p)
				}
				sum += p
			}
			if math.Abs(sum-1) > 1e-4 {
				t.Errorf("order %d: the next word after %v sums to %.6f", n, h, sum)
			}
		}
	}
}

// TestBuildARPAPrefersSeen: the model ranks what the script says above
// what it does not, and still gives a new sentence of known words a chance.
func TestBuildARPAPrefersSeen(t *testing.T) {
	m := parseARPA(t, mustARPA(t, ngramSentences, LMOptions{Order: 3}))
	if a, b := m.p([]string{"pay", "my"}, "bill"), m.p([]string{"pay", "my"}, "power"); a <= b {
		t.Errorf("p(bill | pay my) = %g, not above p(power | pay my) = %g", a, b)
	}
	if p := m.p([]string{"my", "bill"}, "cut"); p <= 0 {
		t.Errorf("an unseen trigram has probability %g", p)
	}
	if a, b := m.p([]string{sentenceStart}, "operator"), m.p([]string{sentenceStart}, "cut"); a <= b {
		t.Errorf("p(operator | <s>) = %g, not above p(cut | <s>) = %g", a, b)
	}
}

func TestBuildARPAEmpty(t *testing.T) {
	if _, err := BuildARPA(nil, LMOptions{}); err == nil {
		t.Error("no sentences gave a model")
	}
	if _, err := BuildARPA([][]string{{}}, LMOptions{}); err == nil {
		t.Error("only empty sentences gave a model")
	}
}

func mustARPA(t *testing.T, s [][]string, opt LMOptions) string {
	t.Helper()
	text, err := BuildARPA(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// slicesContainUnseen: a context with a word outside the vocabulary is
// not one a decoder asks about.
func slicesContainUnseen(m arpaModel, h []string) bool {
	for _, w := range h {
		if _, ok := m.lp[w]; !ok {
			return true
		}
	}
	return false
}

// TestBuildARPABackground: everyday words outside the script join the
// vocabulary, below the script's own words.
func TestBuildARPABackground(t *testing.T) {
	bg := map[string]float64{"latest": 3, "kitchen": 1, "bill": 5}
	m := parseARPA(t, mustARPA(t, ngramSentences, LMOptions{Order: 3, Background: bg, BackgroundWeight: 0.05}))
	if p := m.p(nil, "latest"); p <= 0 {
		t.Fatalf("p(latest) = %g: a background word is not in the vocabulary", p)
	}
	if a, b := m.p([]string{"my"}, "bill"), m.p([]string{"my"}, "latest"); a <= b {
		t.Errorf("p(bill | my) = %g, not above p(latest | my) = %g", a, b)
	}
	without := parseARPA(t, mustARPA(t, ngramSentences, LMOptions{Order: 3}))
	if _, ok := without.lp["latest"]; ok {
		t.Error("a background word without a background")
	}
	if len(backgroundEnglish()) < 900 {
		t.Errorf("the embedded background list has %d words", len(backgroundEnglish()))
	}
}
