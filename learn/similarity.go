package learn

import (
	"math"
	"strings"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Normalize returns the form of an utterance that the store keeps in
// Question.Norm and Group.Norm: the units the matcher compares (textnorm:
// width and case folded, Traditional → Simplified, number words as digits,
// English words stemmed, one unit per Chinese character), separated by
// spaces, clause breaks and punctuation dropped. "" when the text has no
// letters or digits.
//
//	Normalize("Are you OPEN on Saturdays?") == "are you open on saturday"
//	Normalize("週末你們上班嗎")              == "周 末 你 们 上 班 吗"
func Normalize(text string) string {
	var b strings.Builder
	for _, u := range textnorm.Analyze(text).Units {
		if u.Kind == textnorm.Break {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(u.Text)
	}
	return b.String()
}

// vector is the weighted bag of features of one utterance (see features),
// with its Euclidean norm.
type vector struct {
	w    map[string]float64
	norm float64
	key  string // Normalize of the text: equal keys are the same question
}

// Feature weights. Content is what a question is about, so it weighs; the
// words every question has ("how do I", "请问", "吗") weigh nothing, and a
// number only says "a number was said" (account numbers differ, the
// question does not).
const (
	weightUnit      = 1.0 // a content word, or a Chinese character
	weightBigram    = 1.0 // two neighbouring Chinese characters, neither a stop character
	weightHalfStop  = 0.5 // two neighbouring Chinese characters, one a stop character
	weightNumber    = 0.5 // any number
	weightStopInHan = 0.0 // a stop character alone
)

// features cuts text into the features similarity compares:
//
//   - Chinese: every character that is not a stop character, and every
//     pair of neighbouring characters in a clause (character bigrams carry
//     the words Chinese does not separate: 发票 is not 发 + 票);
//   - English and other scripts: every stemmed word that is not a stop word
//     (stems: "opening" and "open" are one feature);
//   - numbers: one feature, "#".
func features(text string) vector {
	units := textnorm.Analyze(text).Units
	v := vector{w: make(map[string]float64, 2*len(units))}
	var key strings.Builder
	prevHan := ""
	for _, u := range units {
		if u.Kind != textnorm.Break {
			if key.Len() > 0 {
				key.WriteByte(' ')
			}
			key.WriteString(u.Text)
		}
		switch u.Kind {
		case textnorm.Han:
			stop := zhStop[u.Text]
			if !stop {
				v.w["c:"+u.Text] += weightUnit
			}
			if prevHan != "" {
				w := weightBigram
				switch ps := zhStop[prevHan]; {
				case ps && stop:
					w = 0
				case ps || stop:
					w = weightHalfStop
				}
				if w > 0 {
					v.w["b:"+prevHan+u.Text] += w
				}
			}
			prevHan = u.Text
			continue
		case textnorm.Word:
			if !enStop[u.Text] {
				v.w["w:"+u.Text] += weightUnit
			}
		case textnorm.Number:
			v.w["#"] += weightNumber
		}
		prevHan = ""
	}
	for _, x := range v.w {
		v.norm += x * x
	}
	v.norm = math.Sqrt(v.norm)
	v.key = key.String()
	return v
}

// similarity is the cosine of the two feature vectors, in [0, 1]: 1 for the
// same question (also when both have only stop words, if they are the same
// words), 0 for nothing in common.
func similarity(a, b vector) float64 {
	if a.key != "" && a.key == b.key {
		return 1
	}
	if a.norm == 0 || b.norm == 0 {
		return 0
	}
	small, large := a.w, b.w
	if len(small) > len(large) {
		small, large = large, small
	}
	var dot float64
	for f, x := range small {
		dot += x * large[f]
	}
	s := dot / (a.norm * b.norm)
	if s > 1 {
		s = 1
	}
	return s
}

// Similarity is the similarity of two utterances that Grouper compares to
// its threshold: the cosine of their weighted feature bags (see the package
// documentation), in [0, 1].
func Similarity(a, b string) float64 { return similarity(features(a), features(b)) }

// enStop are English stop words, as textnorm stems them (so "does" and
// "doing" are here as their stems): the words of asking, not of the topic.
// The list is short on purpose: "not", "no", "before", "after" and numbers
// change what a question is about, and stay.
var enStop = stemSet(
	"a", "an", "the", "i", "me", "my", "mine", "myself", "you", "your", "yours", "we", "our", "us", "they", "them",
	"their", "he", "she", "him", "her", "his", "it", "its", "this", "that", "these", "those", "there", "here",
	"is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "doing", "done",
	"have", "has", "had", "having", "can", "could", "would", "will", "shall", "should", "may", "might", "must",
	"to", "of", "in", "on", "at", "for", "with", "from", "by", "about", "into", "as", "up", "out",
	"and", "or", "but", "if", "so", "then", "than", "just", "also", "too", "very", "really", "still",
	"what", "whats", "how", "why", "who", "whom", "which", "where", "when",
	"please", "hi", "hello", "hey", "thanks", "thank", "ok", "okay", "yes", "yeah", "oh", "um", "uh", "er", "erm",
	"want", "like", "need", "know", "tell", "ask", "question", "get", "got", "go", "going", "any", "some",
)

func stemSet(words ...string) map[string]bool {
	m := make(map[string]bool, 2*len(words))
	for _, w := range words {
		m[w] = true
		m[textnorm.Stem(w)] = true
	}
	return m
}

// zhStop are Chinese characters that make a question polite or a question,
// not what it is about: particles, pronouns, "please/ask", measure words.
// Alone they weigh nothing; next to a content character they still make
// half a bigram (我要 is nothing, 要退 is something).
var zhStop = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range "的了吗呢吧啊呀嘛哦么哈呐嗯喂我你您他她它们是在请问一下个这那就都也还和与或把被给怎什哪可以能要" {
		m[string(r)] = true
	}
	return m
}()
