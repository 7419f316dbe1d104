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
