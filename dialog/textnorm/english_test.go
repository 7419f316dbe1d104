package textnorm

import "testing"

func TestMaxEnWordLen(t *testing.T) {
	for w := range enWords {
		if len(w) > maxEnWordLen {
			t.Errorf("%q is longer than maxEnWordLen", w)
		}
	}
}
