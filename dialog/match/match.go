// Package match decides which intent a caller's words (or keys) mean.
//
// It ranks intents by four tiers of evidence, strongest first: a keypad key,
// a keyword (substring for Chinese, whole words for Latin scripts, after
// normalisation), a keyword heard through a homophone or with a character
// missing (compared as tone-less, accent-tolerant pinyin), and example
// utterances (a classifier learned from them when the matcher is compiled,
// whose score is a calibrated probability: model.go). Negated keywords
// ("不要人工", "I don't want an agent") and an intent's exclusions remove it.
// Below the threshold the answer is "no match", never a guess, and every
// result explains itself.
//
// A Matcher is immutable once compiled and safe for concurrent use.
package match

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Tier is the kind of evidence behind a match.
type Tier uint8

const (
	NoTier  Tier = iota
	DTMF         // a keypad key bound to the intent
	Keyword      // a keyword or synonym, as written
	Pinyin       // a keyword that sounds the same (homophone, accent) or lacks one character
	Example      // similar to an example utterance
)

func (t Tier) String() string {
	switch t {
	case DTMF:
		return "dtmf"
	case Keyword:
		return "keyword"
	case Pinyin:
		return "pinyin"
	case Example:
		return "example"
	}
	return "none"
}

// Scores of the fixed tiers. Example scores are probabilities in [0, 1].
const (
	scoreDTMF     = 1.0
	scoreKeyword  = 1.0
	scorePinyin   = 0.85
	scoreDeletion = 0.7
)

// Intent is what the matcher needs to know of an intent.
type Intent struct {
	Name     string
	Keywords []string
	Exclude  []string
	DTMF     []string
	Examples []string
	Priority int
	Handoff  bool // wins over every other match
	Negation bool // negated keywords do not count
}

// Options tune a Matcher.
type Options struct {
	Threshold float64    // minimum score; 0 means DefaultThreshold
	Margin    float64    // example-tier ties closer than this are ambiguous (no match)
	Pinyin    bool       // enable the pinyin tier
	Examples  bool       // enable the example tier
	Synonyms  [][]string // groups of interchangeable words, applied to keywords
}

// DefaultThreshold is the score below which nothing matches.
const DefaultThreshold = 0.5

// Matcher matches utterances and keys against a fixed set of intents.
type Matcher struct {
	opt     Options
	intents []Intent
	index   map[string]int

	vocab  map[string]uint32 // unit text (or pinyin class) → symbol
	words  *automaton        // keywords, exclusions, negators
	wpat   []pattern
	sounds *automaton // pinyin forms of keywords and exclusions
	spat   []pattern

	examples *exampleModel
	dtmf     map[string][]int // keys → intents bound to them

	scratch sync.Pool // *scratch
}

type patKind uint8

const (
	patKeyword patKind = iota + 1
	patExclude
	patNegator
	patNotNegation
)

type pattern struct {
	kind     patKind
	intent   int
	text     string // as the staff wrote it
	runes    int    // specificity: longer keywords win ties
	gap      int    // negators: how many units may stand between it and the keyword
	after    bool   // negators: it follows the keyword it negates
	deletion bool   // pinyin variant with one character left out
}

// Compile builds a Matcher. It fails on intents with empty or duplicate names;
// keyword problems are reported by the script loader, not here.
func Compile(intents []Intent, opt Options) (*Matcher, error) {
	if opt.Threshold <= 0 {
		opt.Threshold = DefaultThreshold
	}
	m := &Matcher{
		opt:     opt,
		intents: intents,
		index:   make(map[string]int, len(intents)),
		vocab:   map[string]uint32{},
		words:   newAutomaton(),
		sounds:  newAutomaton(),
		dtmf:    map[string][]int{},
	}
	for i, in := range intents {
		if in.Name == "" {
			return nil, errors.New("intent without a name")
		}
		if _, dup := m.index[in.Name]; dup {
			return nil, fmt.Errorf("intent %q defined twice", in.Name)
		}
		m.index[in.Name] = i
	}
	syn := newSynonyms(opt.Synonyms)
	for i, in := range intents {
		for _, kw := range in.Keywords {
			for _, variant := range syn.expand(analyze(kw)) {
				m.addKeyword(i, kw, variant)
			}
		}
		for _, ex := range in.Exclude {
			units := analyze(ex)
			m.addWords(pattern{kind: patExclude, intent: i, text: ex}, units)
			if opt.Pinyin && syllableCount(units) >= 2 {
				for _, syms := range m.soundVariants(units) {
					m.spat = append(m.spat, pattern{kind: patExclude, intent: i, text: ex})
					m.sounds.add(syms)
				}
			}
		}
		for _, k := range in.DTMF {
			m.dtmf[k] = append(m.dtmf[k], i)
		}
	}
	for _, n := range negators {
		m.addWords(pattern{kind: patNegator, intent: -1, text: n.text, gap: n.gap, after: n.after}, analyze(n.text))
	}
	for _, n := range notNegations {
		m.addWords(pattern{kind: patNotNegation, intent: -1, text: n}, analyze(n))
	}
	m.words.build()
	m.sounds.build()
	if opt.Examples {
		cfg := defaultModel
		cfg.feat.sounds = opt.Pinyin
		m.examples = buildModel(intents, cfg)
	}
	m.scratch.New = func() any { return &scratch{} }
	return m, nil
}

func analyze(s string) []textnorm.Unit {
	units := textnorm.Analyze(s).Units
	out := units[:0:0]
	for _, u := range units {
		if u.Kind != textnorm.Break {
			out = append(out, u)
		}
	}
	return out
}

func hanCount(units []textnorm.Unit) int {
	n := 0
	for _, u := range units {
		if u.Kind == textnorm.Han {
			n++
		}
	}
	return n
}

// syllableCount counts what would be spoken as Chinese syllables: characters and digits.
func syllableCount(units []textnorm.Unit) int {
	n := 0
	for _, u := range units {
		switch u.Kind {
		case textnorm.Han:
			n++
		case textnorm.Number:
			n += len(u.Text)
		}
	}
	return n
}

// digitSounds are the Chinese readings of digits, the usual one first ("幺"
// for 1 and "两" for 2 are how people read phone and order numbers).
var digitSounds = [10][]string{
	{"ling"}, {"yi", "yao"}, {"er", "liang"}, {"san"}, {"si"}, {"wu"}, {"liu"}, {"qi"}, {"ba"}, {"jiu"},
}

func (m *Matcher) sym(text string) uint32 {
	if id, ok := m.vocab[text]; ok {
		return id
	}
	id := uint32(len(m.vocab) + 1)
	m.vocab[text] = id
	return id
}

func (m *Matcher) addWords(p pattern, units []textnorm.Unit) {
	if len(units) == 0 {
		return
	}
	syms := make([]uint32, len(units))
	for i, u := range units {
		syms[i] = m.sym(u.Text)
	}
	m.wpat = append(m.wpat, p)
	m.words.add(syms)
}

func (m *Matcher) addKeyword(intent int, text string, units []textnorm.Unit) {
	if len(units) == 0 {
		return
	}
	runes := 0
	for _, u := range units {
		runes += utf8.RuneCountInString(u.Text)
	}
	p := pattern{kind: patKeyword, intent: intent, text: text, runes: runes}
	m.addWords(p, units)
	if !m.opt.Pinyin || hanCount(units) == 0 || syllableCount(units) < 2 {
		return
	}
	for _, syms := range m.soundVariants(units) {
		m.spat = append(m.spat, p)
		m.sounds.add(syms)
	}
	// A recogniser often drops a character of a longer phrase ("营业时间" →
	// "营业时"). Only from four characters up: a three-character keyword
	// shortened to two matches too much ("没收到" → "收到"). Phrases longer
	// than maxDeletionUnits are left alone: they are rare as keywords, and
	// each unit would add a set of patterns.
	if n := hanCount(units); n >= 4 && len(units) <= maxDeletionUnits {
		for drop := range units {
			if units[drop].Kind != textnorm.Han {
				continue
			}
			short := make([]textnorm.Unit, 0, len(units)-1)
			short = append(short, units[:drop]...)
			short = append(short, units[drop+1:]...)
			dp := p
			dp.deletion = true
			for _, syms := range m.soundVariants(short) {
				m.spat = append(m.spat, dp)
				m.sounds.add(syms)
			}
		}
	}
}

const maxDeletionUnits = 8

// maxSoundVariants bounds the readings tried for keywords full of polyphones.
const maxSoundVariants = 16

// soundVariants spells units as fuzzy pinyin classes, one spelling per
// combination of the characters' readings (bounded).
func (m *Matcher) soundVariants(units []textnorm.Unit) [][]uint32 {
	variants := [][]uint32{{}}
	for _, u := range units {
		if u.Kind == textnorm.Number {
			// Digits sound like Chinese numerals: "再说1遍" is heard as "再说一边".
			for _, d := range u.Text {
				variants = m.extend(variants, m.classes(digitSounds[d-'0']))
			}
			continue
		}
		var classes []uint32
		if r, _ := utf8.DecodeRuneInString(u.Text); u.Kind == textnorm.Han {
			classes = m.classes(textnorm.Pinyin(r))
		}
		if len(classes) == 0 {
			classes = []uint32{m.sym(u.Text)}
		}
		variants = m.extend(variants, classes)
	}
	return variants
}

// classes interns the fuzzy classes of a character's readings.
func (m *Matcher) classes(readings []string) []uint32 {
	var out []uint32
	seen := map[string]bool{}
	for _, py := range readings {
		c := textnorm.Fuzzy(py)
		if !seen[c] {
			seen[c] = true
			out = append(out, m.sym(soundPrefix+c))
		}
	}
	return out
}

// extend appends each class to each variant, keeping at most maxSoundVariants.
func (m *Matcher) extend(variants [][]uint32, classes []uint32) [][]uint32 {
	var next [][]uint32
	for _, v := range variants {
		for ci, c := range classes {
			if ci > 0 && len(next) >= maxSoundVariants {
				break
			}
			nv := make([]uint32, len(v), len(v)+1)
			copy(nv, v)
			next = append(next, append(nv, c))
		}
	}
	return next
}

// soundPrefix keeps pinyin classes apart from Latin words spelled the same.
const soundPrefix = "\x00"

// Index returns the position of the intent called name, or -1.
func (m *Matcher) Index(name string) int {
	if i, ok := m.index[name]; ok {
		return i
	}
	return -1
}

// Len is the number of intents.
func (m *Matcher) Len() int { return len(m.intents) }

// Threshold is the effective minimum score.
func (m *Matcher) Threshold() float64 { return m.opt.Threshold }

// Candidate is one intent the input could mean.
type Candidate struct {
	Intent   string
	Index    int
	Tier     Tier
	Score    float64
	Evidence string // the keyword, key or example that matched
	Heard    string // the words of the input that matched, when they differ from Evidence
	Priority int
	Handoff  bool
	// Features: for the two best example-tier candidates, the words, pairs
	// and sounds of the input that weigh most for the intent, heaviest first.
	Features []Feature
	runes    int
}

// Feature is a piece of evidence the example tier found in the input.
type Feature struct {
	Text   string  // as the model sees it: a stemmed word, a pair of words or characters, "<car" (the start of a word), a pinyin syllable
	Kind   string  // word, pair, han3, gram, sound, sound pair
	Weight float64 // what it adds to the intent's score: its TF-IDF value in the input × the learned weight
}

// Rejection is an intent whose keyword was found but did not count.
type Rejection struct {
	Intent string
	Reason string // "negated by 不要" / "excluded by 不退"
}

// Result is the outcome of one match, with enough detail to explain it.
type Result struct {
	Input      string // the text as normalised (or the keys)
	Intent     string // "" when nothing matched
	Index      int    // -1 when nothing matched
	Tier       Tier
	Score      float64
	Evidence   string
	Candidates []Candidate // best first, at most maxCandidates
	Rejected   []Rejection
	Reason     string // why nothing matched
	// Coverage is the share of the input (by TF-IDF weight) the examples
	// know: the example tier's confidence is damped by unknown words.
	// 0 when the example tier did not run or knew nothing.
	Coverage float64
}

const maxCandidates = 5

// Matched reports whether an intent was chosen.
func (r Result) Matched() bool { return r.Index >= 0 }

// Explain describes the result in one line.
func (r Result) Explain() string {
	var b strings.Builder
	if r.Matched() {
		fmt.Fprintf(&b, "%s (%s %.2f: %s)", r.Intent, r.Tier, r.Score, r.Evidence)
	} else {
		fmt.Fprintf(&b, "no match (%s)", r.Reason)
	}
	fmt.Fprintf(&b, " input=%q", r.Input)
	if len(r.Candidates) > 1 || (!r.Matched() && len(r.Candidates) > 0) {
		b.WriteString(" candidates:")
		for _, c := range r.Candidates {
			fmt.Fprintf(&b, " %s=%.2f/%s", c.Intent, c.Score, c.Tier)
		}
	}
	for _, rej := range r.Rejected {
		fmt.Fprintf(&b, " [%s %s]", rej.Intent, rej.Reason)
	}
	return b.String()
}

// Set is a set of intents, by index: the intents active in a node.
type Set []uint64

// NewSet returns an empty set for n intents.
func NewSet(n int) Set { return make(Set, (n+63)/64) }

// All returns the set of every intent of m.
func (m *Matcher) All() Set {
	s := NewSet(len(m.intents))
	for i := range m.intents {
		s.Add(i)
	}
	return s
}

// Add puts intent i into the set.
func (s Set) Add(i int) {
	if i >= 0 && i/64 < len(s) {
		s[i/64] |= 1 << (uint(i) % 64)
	}
}

// Has reports whether intent i is in the set.
func (s Set) Has(i int) bool { return i >= 0 && i/64 < len(s) && s[i/64]&(1<<(uint(i)%64)) != 0 }

// MatchDigits matches keypad keys against the active intents' DTMF bindings.
func (m *Matcher) MatchDigits(keys string, active Set) Result {
	r := Result{Input: keys, Index: -1}
	var cands []Candidate
	for _, i := range m.dtmf[keys] {
		if active.Has(i) {
			cands = append(cands, m.candidate(i, DTMF, scoreDTMF, keys, "", 0))
		}
	}
	if len(cands) == 0 {
		r.Reason = fmt.Sprintf("no intent here is bound to key %q", keys)
		return r
	}
	rank(cands)
	r.Candidates = cands
	r.choose(cands[0])
	return r
}

func (m *Matcher) candidate(i int, tier Tier, score float64, evidence, heard string, runes int) Candidate {
	return Candidate{
		Intent: m.intents[i].Name, Index: i, Tier: tier, Score: score,
		Evidence: evidence, Heard: heard, Priority: m.intents[i].Priority,
		Handoff: m.intents[i].Handoff, runes: runes,
	}
}

func (r *Result) choose(c Candidate) {
	r.Intent, r.Index, r.Tier, r.Score, r.Evidence = c.Intent, c.Index, c.Tier, c.Score, c.Evidence
	if c.Heard != "" && c.Heard != c.Evidence {
		r.Evidence = fmt.Sprintf("%s, heard %q", c.Evidence, c.Heard)
	}
}

// rank orders candidates: higher score, then higher priority, then the more
// specific (longer) keyword, then declaration order.
func rank(c []Candidate) {
	sort.SliceStable(c, func(i, j int) bool {
		a, b := c[i], c[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if a.runes != b.runes {
			return a.runes > b.runes
		}
		return a.Index < b.Index
	})
}

type scratch struct {
	syms, sounds []uint32
	soundUnit    []int // unit of each sound
	hits, shits  []hit
	cands        []Candidate
	excluded     []verdict
	rejected     []verdict
	covered      []verdict
	ext          extractor // the example model's features of the utterance
	ids          []int32
	vals         []float32
	z            []float32 // scores by class
	classes      []int32   // active classes
	probs        []float32
	near         []neighbour
	keys         []uint64  // of ids
	nearQ        []posting // the utterance for the nearest-example similarity
	nearKeys     []uint64  // of nearQ
	explainQ     []posting // ids and vals, as postings
}

// Match finds the intent meant by an utterance, among the active intents.
func (m *Matcher) Match(text string, active Set) Result {
	t := textnorm.Analyze(text)
	r := Result{Input: t.Folded, Index: -1}
	if len(t.Units) == 0 {
		r.Reason = "empty input"
		return r
	}
	sc := m.scratch.Get().(*scratch)
	defer m.scratch.Put(sc)

	sc.syms, sc.sounds, sc.soundUnit = sc.syms[:0], sc.sounds[:0], sc.soundUnit[:0]
	for ui, u := range t.Units {
		s := uint32(0)
		if u.Kind != textnorm.Break {
			s = m.vocab[u.Text]
		}
		sc.syms = append(sc.syms, s)
		if !m.opt.Pinyin {
			continue
		}
		// The sound of the utterance: the usual reading of each character,
		// digits read one by one; sc.soundUnit maps it back to units.
		switch u.Kind {
		case textnorm.Han:
			r, _ := utf8.DecodeRuneInString(u.Text)
			if py := textnorm.Pinyin(r); len(py) > 0 {
				s = m.vocab[soundPrefix+textnorm.Fuzzy(py[0])]
			}
		case textnorm.Number:
			for _, d := range u.Text {
				sc.sounds = append(sc.sounds, m.vocab[soundPrefix+textnorm.Fuzzy(digitSounds[d-'0'][0])])
				sc.soundUnit = append(sc.soundUnit, ui)
			}
			continue
		}
		sc.sounds = append(sc.sounds, s)
		sc.soundUnit = append(sc.soundUnit, ui)
	}
	sc.hits = m.words.scan(sc.syms, sc.hits[:0])
	if m.opt.Pinyin {
		sc.shits = m.sounds.scan(sc.sounds, sc.shits[:0])
		// Back to unit positions; a match that splits a number is no match.
		kept := sc.shits[:0]
		for _, h := range sc.shits {
			su := sc.soundUnit
			if (h.start > 0 && su[h.start-1] == su[h.start]) || (h.end < len(su) && su[h.end] == su[h.end-1]) {
				continue
			}
			kept = append(kept, hit{pattern: h.pattern, start: su[h.start], end: su[h.end-1] + 1})
		}
		sc.shits = kept
	}

	sc.cands, sc.excluded, sc.rejected, sc.covered = sc.cands[:0], sc.excluded[:0], sc.rejected[:0], sc.covered[:0]
	consider := func(c Candidate) {
		for i := range sc.cands {
			if old := sc.cands[i]; old.Index == c.Index {
				if c.Score > old.Score || (c.Score == old.Score && c.runes > old.runes) {
					sc.cands[i] = c
				}
				return
			}
		}
		sc.cands = append(sc.cands, c)
	}
	for _, h := range sc.hits {
		if p := m.wpat[h.pattern]; p.kind == patExclude && active.Has(p.intent) {
			sc.excluded = addVerdict(sc.excluded, p.intent, "excluded by "+quote(p.text))
		}
	}
	for _, h := range sc.shits {
		if p := m.spat[h.pattern]; p.kind == patExclude && active.Has(p.intent) {
			sc.excluded = addVerdict(sc.excluded, p.intent, "excluded by "+quote(p.text))
		}
	}
	negated := m.negations(t.Units, sc.hits, sc.shits)
	for i, h := range sc.hits {
		if p := m.wpat[h.pattern]; m.counts(h, p, hitRef{false, i}, negated, sc, active) {
			consider(m.candidate(p.intent, Keyword, scoreKeyword, p.text, "", p.runes))
		}
	}
	for i, h := range sc.shits {
		p := m.spat[h.pattern]
		if !m.counts(h, p, hitRef{true, i}, negated, sc, active) {
			continue
		}
		score := scorePinyin
		if p.deletion {
			score = scoreDeletion
		}
		heard := t.Folded[t.Units[h.start].Start:t.Units[h.end-1].End]
		consider(m.candidate(p.intent, Pinyin, score, p.text, heard, p.runes))
	}
	if m.examples != nil {
		r.Coverage = m.examples.match(m, t, active, sc, consider)
	}

	// Excluded intents are out. Negated ones are out unless the caller also
	// names them plainly elsewhere: a negation never lets the example tier
	// bring the intent back.
	cands := make([]Candidate, 0, len(sc.cands))
	for _, c := range sc.cands {
		if hasVerdict(sc.excluded, c.Index) {
			continue
		}
		if hasVerdict(sc.rejected, c.Index) && c.Tier == Example {
			continue
		}
		cands = append(cands, c)
	}
	for _, v := range sc.excluded {
		r.Rejected = append(r.Rejected, Rejection{Intent: m.intents[v.intent].Name, Reason: v.why})
	}
	for _, v := range append(sc.rejected, sc.covered...) {
		if !hasVerdict(sc.excluded, v.intent) && !hasCandidate(cands, v.intent) && !hasRejection(r.Rejected, m.intents[v.intent].Name) {
			r.Rejected = append(r.Rejected, Rejection{Intent: m.intents[v.intent].Name, Reason: v.why})
		}
	}
	sort.Slice(r.Rejected, func(i, j int) bool { return r.Rejected[i].Intent < r.Rejected[j].Intent })
	rank(cands)
	// "Ask for a person", said plainly (a keyword or a key), wins over
	// everything it is found with.
	for i, c := range cands {
		if c.Handoff && (c.Tier == Keyword || c.Tier == DTMF) {
			copy(cands[1:i+1], cands[:i])
			cands[0] = c
			break
		}
	}
	if len(cands) > maxCandidates {
		cands = cands[:maxCandidates]
	}
	r.Candidates = cands
	switch {
	case len(cands) == 0:
		r.Reason = "nothing matched"
	case cands[0].Score < m.opt.Threshold:
		r.Reason = fmt.Sprintf("best %s %.2f is below the threshold %.2f", cands[0].Intent, cands[0].Score, m.opt.Threshold)
	case cands[0].Tier == Example && len(cands) > 1 && cands[1].Tier == Example &&
		cands[0].Score-cands[1].Score < m.opt.Margin:
		r.Reason = fmt.Sprintf("ambiguous: %s %.2f and %s %.2f are closer than %.2f",
			cands[0].Intent, cands[0].Score, cands[1].Intent, cands[1].Score, m.opt.Margin)
	default:
		r.choose(cands[0])
	}
	return r
}

func quote(s string) string { return `"` + s + `"` }

// counts decides whether a keyword hit is evidence for its intent, and
// records why not when it is refused or covered by a longer keyword.
func (m *Matcher) counts(h hit, p pattern, ref hitRef, negated map[hitRef]string, sc *scratch, active Set) bool {
	if p.kind != patKeyword || !active.Has(p.intent) || m.insideRefusal(h, sc.hits) {
		return false
	}
	if neg, ok := negated[ref]; ok && m.intents[p.intent].Negation {
		sc.rejected = addVerdict(sc.rejected, p.intent, "negated by "+quote(neg))
		return false
	}
	if by := m.covered(h, p.intent, sc, active); by != "" {
		sc.covered = addVerdict(sc.covered, p.intent, "inside "+by)
		return false
	}
	return true
}

// covered returns the longer keyword of another active intent that a keyword
// hit lies inside, or "": the longer phrase explains those words ("人工服务时间"
// is about hours, not a person; "没有" is not "有"). A negated longer keyword
// still covers: the refusal governs the words inside it too.
func (m *Matcher) covered(h hit, intent int, sc *scratch, active Set) string {
	check := func(list []hit, pats []pattern) string {
		for _, o := range list {
			p := pats[o.pattern]
			if p.kind == patKeyword && p.intent != intent && active.Has(p.intent) &&
				o.start <= h.start && h.end <= o.end && o.end-o.start > h.end-h.start &&
				!hasVerdict(sc.excluded, p.intent) {
				return quote(p.text) + " (" + m.intents[p.intent].Name + ")"
			}
		}
		return ""
	}
	if by := check(sc.hits, m.wpat); by != "" {
		return by
	}
	return check(sc.shits, m.spat)
}

// verdict is why an intent was ruled out; there are few per utterance, so a
// slice beats a map.
type verdict struct {
	intent int
	why    string
}

func addVerdict(vs []verdict, intent int, why string) []verdict {
	if hasVerdict(vs, intent) {
		return vs
	}
	return append(vs, verdict{intent, why})
}

func hasVerdict(vs []verdict, intent int) bool {
	for _, v := range vs {
		if v.intent == intent {
			return true
		}
	}
	return false
}

func hasRejection(rs []Rejection, intent string) bool {
	for _, r := range rs {
		if r.Intent == intent {
			return true
		}
	}
	return false
}

func hasCandidate(cs []Candidate, intent int) bool {
	for _, c := range cs {
		if c.Index == intent {
			return true
		}
	}
	return false
}
