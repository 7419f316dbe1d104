package main

// Turning a training split into a hotline script, and asking the product's
// matcher about the test split.
//
// The training utterances reach the engine the way staff-taught questions do:
// the script (script.yaml) has one listening node and no intents of its own,
// and the learned file beside it (script.learned.yaml) has one new
// answer-library entry per label, with the label's training utterances as its
// examples. That is the file dialog.Learn writes when staff assign unanswered
// questions (LearnAnswer, then LearnExample), and dialog.Load merges it through
// the same code. Calling dialog.Learn once per utterance would reload the whole
// script each time (quadratic: hours for 10,000 examples), so the benchmark
// writes the file at once; the test TestSameAsLearn checks that both give the
// same script.

import (
	"fmt"
	"sort"
	"strings"
	"testing/fstest"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/dialog/match"
	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// MatchConfig is the script's match: section.
type MatchConfig struct {
	Threshold float64
	Margin    float64
	Pinyin    bool
}

// defaultMatch is what a script gets when it says nothing.
var defaultMatch = MatchConfig{Threshold: match.DefaultThreshold, Pinyin: true}

const (
	scriptName  = "script.yaml"
	learnedName = "script.learned.yaml"
)

// scriptYAML is the hotline around the learned answers: one node that listens.
func scriptYAML(name, lang string, mc MatchConfig) string {
	say := "How can I help?"
	if strings.HasPrefix(lang, "zh") {
		say = "请问有什么可以帮您?"
	}
	return fmt.Sprintf(`name: %s
language: %s
start: welcome
match: {threshold: %g, margin: %g, pinyin: %t, examples: true}
after_answer: welcome
nodes:
  welcome:
    say: %q
    listen: {}
`, name, lang, mc.Threshold, mc.Margin, mc.Pinyin, say)
}

// phraseKey is how the loader tells duplicate examples apart (dialog's
// phraseKey, which is not exported): the normalised units without breaks.
func phraseKey(s string) string {
	var b strings.Builder
	for _, u := range textnorm.Analyze(s).Units {
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

// teaching is the training split grouped as staff would teach it.
type teaching struct {
	labels   []string            // in order of first appearance
	examples map[string][]string // label → examples
	// conflicts: utterances whose normalised text another label was taught
	// first. The loader rejects such a learned file (learned-conflict), so
	// they are left out, as Learn would refuse them.
	conflicts int
	empty     int // utterances with no letters or digits
	dups      int // repeats within a label (the loader ignores them)
	// label → intent name, where the label is not a valid name (BANKING77
	// has "reverted_card_payment?"); renamed lists them.
	names   map[string]string
	labelOf map[string]string // intent name → label
	renamed []string
}

// intentName makes a label a valid intent name: letters, digits, _ - and .
func intentName(label string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, label)
}

func teach(train []Utterance) *teaching {
	t := &teaching{examples: map[string][]string{}, names: map[string]string{}, labelOf: map[string]string{}}
	owner := map[string]string{}
	for _, u := range train {
		k := phraseKey(u.Text)
		switch o, seen := owner[k]; {
		case k == "":
			t.empty++
			continue
		case seen && o != u.Label:
			t.conflicts++
			continue
		case seen:
			t.dups++
			continue
		}
		owner[k] = u.Label
		if _, ok := t.examples[u.Label]; !ok {
			t.labels = append(t.labels, u.Label)
			name := intentName(u.Label)
			for t.labelOf[name] != "" {
				name += "_"
			}
			t.names[u.Label], t.labelOf[name] = name, u.Label
			if name != u.Label {
				t.renamed = append(t.renamed, fmt.Sprintf("%q → %s", u.Label, name))
			}
		}
		t.examples[u.Label] = append(t.examples[u.Label], u.Text)
	}
	return t
}

// learnedYAML is the learned file: one new answer per label.
func (t *teaching) learnedYAML(lang string) ([]byte, error) {
	answers := &yaml.Node{Kind: yaml.MappingNode}
	labels := append([]string(nil), t.labels...)
	sort.Strings(labels)
	str := func(s string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
	}
	for _, l := range labels {
		ex := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range t.examples[l] {
			ex.Content = append(ex.Content, str(e))
		}
		say := "Answer for " + l + "."
		if strings.HasPrefix(lang, "zh") {
			say = "关于" + l + "的回答。"
		}
		answers.Content = append(answers.Content, str(t.names[l]), &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			str("examples"), ex, str("say"), str(say),
		}})
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("answers"), answers}}
	return yaml.Marshal(root)
}

// Engine is a loaded benchmark script.
type Engine struct {
	Script   *dialog.Script
	Learn    time.Duration // dialog.Load of the script with every example
	LearnCPU time.Duration // the process's CPU time during it
	Taught   *teaching
	preds    []Prediction // on the test split, once measured
}

// learn builds the script for a training split and loads it.
func learn(name, lang string, train []Utterance, mc MatchConfig) (*Engine, error) {
	t := teach(train)
	learned, err := t.learnedYAML(lang)
	if err != nil {
		return nil, err
	}
	fsys := fstest.MapFS{
		scriptName:  {Data: []byte(scriptYAML(name, lang, mc))},
		learnedName: {Data: learned},
	}
	start, cpu := time.Now(), cpuTime()
	s, err := dialog.Load(dialog.FSSource{FS: fsys}, scriptName)
	if err != nil {
		return nil, err
	}
	return &Engine{Script: s, Learn: time.Since(start), LearnCPU: cpuTime() - cpu, Taught: t}, nil
}

// Prediction is the matcher's answer for one utterance.
type Prediction struct {
	Intent     string // "" for no match
	Candidates []match.Candidate
	Took       time.Duration
}

// predict matches every text with all intents active (every label is an
// answer-library entry, which a listening node accepts).
func (e *Engine) predict(us []Utterance) []Prediction {
	m := e.Script.Matcher()
	all := m.All()
	out := make([]Prediction, len(us))
	for i, u := range us {
		start := time.Now()
		r := m.Match(u.Text, all)
		took := time.Since(start)
		out[i] = Prediction{Intent: e.Taught.labelOf[r.Intent], Candidates: r.Candidates, Took: took}
	}
	return out
}

// decide applies a threshold and margin to a prediction made with the lowest
// threshold and no margin: the rule of match.Matcher.Match (the best candidate
// below the threshold, or two example candidates closer than the margin, is no
// match). The choice of candidates does not depend on either setting, so this
// is what a script with those settings would answer; the chosen setting is then
// loaded as a script and measured for real on the test split.
func decide(p Prediction, threshold, margin float64) string {
	c := p.Candidates
	switch {
	case len(c) == 0, c[0].Score < threshold:
		return ""
	case c[0].Tier == match.Example && len(c) > 1 && c[1].Tier == match.Example && c[0].Score-c[1].Score < margin:
		return ""
	}
	return c[0].Intent
}
