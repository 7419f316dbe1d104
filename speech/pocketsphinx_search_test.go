//go:build pocketsphinx

package speech

import "testing"

func TestPocketsphinxGrammarConfidence(t *testing.T) {
	prev := 0.0
	for _, perFrame := range []float64{-1e6, -100, -70, psConfMid, -55, -30, 0} {
		c := grammarConfidence(perFrame)
		if c <= 0 || c > 1 || c < prev {
			t.Errorf("grammarConfidence(%v) = %v: want in (0, 1], rising", perFrame, c)
		}
		prev = c
	}
	if c := grammarConfidence(psConfMid); c != 0.5 {
		t.Errorf("grammarConfidence at the midpoint = %v, want 0.5", c)
	}
}

func TestMergeHybrid(t *testing.T) {
	lm := Result{Final: true, Text: "i have a power time", Confidence: 0.4,
		Alternatives: []Alternative{{Text: "i have a power cut", Confidence: 0.3}, {Text: "power cut", Confidence: 0.2}}}
	g := Result{Final: true, Text: "power cut", Confidence: 0.7}
	got := mergeHybrid(lm, g)
	want := []string{"i have a power cut", "power cut"}
	if got.Text != lm.Text || got.Confidence != lm.Confidence || len(got.Alternatives) != len(want) {
		t.Fatalf("merged %+v", got)
	}
	for i, a := range got.Alternatives {
		if a.Text != want[i] {
			t.Errorf("alternative %d = %q, want %q", i, a.Text, want[i])
		}
	}
	if got.Alternatives[1].Confidence != 0.7 {
		t.Errorf("the grammar's alternative keeps its confidence: %+v", got.Alternatives[1])
	}
	if r := mergeHybrid(Result{Final: true}, g); r.Text != "power cut" || r.Confidence != 0.7 {
		t.Errorf("nothing from the n-gram model: %+v, want the grammar's result", r)
	}
	if r := mergeHybrid(Result{Final: true, Text: "power cut", Confidence: 0.5}, g); len(r.Alternatives) != 0 {
		t.Errorf("the same text twice: %+v", r)
	}
}
