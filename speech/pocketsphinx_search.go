//go:build pocketsphinx

package speech

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
)

// hintWords splits a hint phrase into the words pocketsphinx's dictionary
// knows: lower case, letters, digits and apostrophes; other characters end a
// word ("ta-ra" is two words).
func hintWords(phrase string) []string {
	return strings.FieldsFunc(strings.ToLower(phrase), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// hintPhrase is a hint that every word of is in the dictionary.
type hintPhrase struct {
	words  []string
	phones int
}

// usableHints keeps the hints whose every word is in the dictionary
// (phones returns a word's phone count, 0 when it is unknown), without
// duplicates, in a stable order, and returns the skipped ones.
func usableHints(hints []string, phones func(string) int) (ok []hintPhrase, skipped []string) {
	seen := map[string]bool{}
	for _, h := range hints {
		ws := hintWords(h)
		key := strings.Join(ws, " ")
		if len(ws) == 0 || seen[key] {
			continue
		}
		seen[key] = true
		hp := hintPhrase{words: ws}
		for _, w := range ws {
			n := phones(w)
			if n == 0 {
				hp.phones = 0
				break
			}
			hp.phones += n
		}
		if hp.phones == 0 {
			skipped = append(skipped, h)
			continue
		}
		ok = append(ok, hp)
	}
	slices.SortFunc(ok, func(a, b hintPhrase) int {
		return strings.Compare(strings.Join(a.words, " "), strings.Join(b.words, " "))
	})
	return ok, skipped
}

// searchKey names the search built for a mode and hint set: the same hints
// in any order share one search.
func searchKey(mode string, hints []string) string {
	norm := make([]string, 0, len(hints))
	for _, h := range hints {
		norm = append(norm, strings.Join(hintWords(h), " "))
	}
	slices.Sort(norm)
	norm = slices.Compact(norm)
	sum := sha256.Sum256([]byte(mode + "\x00" + strings.Join(norm, "\x00")))
	return mode + "-" + hex.EncodeToString(sum[:8])
}

// kwsThreshold is the detection threshold of a key phrase with this many
// phones. Short phrases are easily found in any speech, so they need a
// high threshold (few false alarms); long ones a low threshold to be found
// at all (the CMU guidance: 1e-1 … 1e-50). kwsPerPhone was tuned on the
// spoken set (bench/asr/README.md).
func kwsThreshold(phones int) float64 {
	exp := math.Min(math.Max(float64(phones)*kwsPerPhone, 5), 50)
	return math.Pow(10, -exp)
}

const kwsPerPhone = 4.0

// kwsList is the key phrase file of a keyword-spotting search.
func kwsList(hints []hintPhrase) string {
	var b strings.Builder
	for _, h := range hints {
		fmt.Fprintf(&b, "%s /%.0e/\n", strings.Join(h.words, " "), kwsThreshold(h.phones))
	}
	return b.String()
}

// jsgfGrammar is a closed grammar of the hint phrases: an utterance is one
// of them. Loops of filler words around the hints were measured and lost
// (bench/asr/README.md): short filler words fit any stretch of telephone
// audio better than a keyword does, and took over the hypotheses; so did
// optional carrier words ("i", "want", "my", "please"…) before and after
// the hint, even with the wide grammar beams.
func jsgfGrammar(hints []hintPhrase) string {
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar hints;\n")
	b.WriteString("public <utterance> = <hint>;\n")
	b.WriteString("<hint> = ")
	for i, h := range hints {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(strings.Join(h.words, " "))
	}
	b.WriteString(";\n")
	return b.String()
}

// grammarConfidence maps a grammar path's score per 10 ms frame
// (ps_get_hyp's score, in pocketsphinx's log units, acoustic and grammar
// together, divided by ps_get_n_frames) to 0..1 with a logistic. Acoustic
// scores are relative to the best senone of each frame, so a hint that
// fits the audio as well as anything could scores near 0 and a forced,
// wrong hint far below. It never returns 0: the dialog reads 0 as "no
// confidence given".
func grammarConfidence(perFrame float64) float64 {
	c := 1 / (1 + math.Exp(-(perFrame-psConfMid)/psConfScale))
	return math.Max(c, 1e-3)
}

// psConfMid and psConfScale place grammarConfidence's logistic, chosen on
// the spoken set (bench/asr/README.md): right hypotheses scored -75…-36
// per frame (most above -60), wrong ones -72…-52 (all but one below -59).
const (
	psConfMid   = -61.0
	psConfScale = 3.0
)

// mergeHybrid is a hybrid utterance's result: the n-gram model's text and
// confidence, with the grammar's hint as the first alternative (the dialog
// tries the alternatives in order when the text matches no intent), then
// the n-gram's own N-best. When the n-gram model heard nothing, the
// grammar's result stands alone.
func mergeHybrid(lm, grammar Result) Result {
	if lm.Text == "" {
		return grammar
	}
	out := lm
	out.Alternatives = nil
	for _, a := range lm.Alternatives {
		if a.Text != grammar.Text {
			out.Alternatives = append(out.Alternatives, a)
		}
	}
	if grammar.Text != "" && grammar.Text != lm.Text {
		out.Alternatives = append(out.Alternatives, Alternative{Text: grammar.Text, Confidence: grammar.Confidence})
	}
	return out
}
