package speech

import "strings"

// Measuring a recogniser: the word error rate and keyword checks that
// bench/asr, the speech tests and the end-to-end spoken calls share.

// Words splits a transcript for comparison: lower case, letters, digits and
// apostrophes only.
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	})
}

// EditDistance is the word-level Levenshtein distance between ref and hyp.
func EditDistance(ref, hyp []string) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}

// WordErrors is the word-level edit distance between the reference text and
// the hypothesis, and the reference's length in words: errors/length is the
// word error rate.
func WordErrors(ref, hyp string) (errs, n int) {
	r := Words(ref)
	return EditDistance(r, Words(hyp)), len(r)
}

// ContainsPhrase reports whether text contains phrase on word boundaries.
func ContainsPhrase(text, phrase string) bool {
	return strings.Contains(" "+strings.Join(Words(text), " ")+" ", " "+strings.Join(Words(phrase), " ")+" ")
}
