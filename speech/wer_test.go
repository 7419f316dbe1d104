package speech

import "testing"

func TestWordErrors(t *testing.T) {
	for _, c := range []struct {
		ref, hyp string
		errs     int
	}{
		{"no thank you", "no thank you", 0},
		{"no thank you", "no thanks you", 1},
		{"I have a power cut", "i have power cut please", 2},
		{"yes", "", 1},
	} {
		if e, _ := WordErrors(c.ref, c.hyp); e != c.errs {
			t.Errorf("WordErrors(%q, %q) = %d, want %d", c.ref, c.hyp, e, c.errs)
		}
	}
}
