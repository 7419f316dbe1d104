package dialog

// The learned file: what staff taught the bot from the questions it could not
// answer, kept beside the script (script.yaml → script.learned.yaml) so the
// script stays exactly as its authors wrote it. Load merges it; Learn adds to
// it.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// LearnedPath returns the learned file of the script at scriptPath: the same
// name with .learned.yaml in place of .yaml or .yml (path/to/script.yaml →
// path/to/script.learned.yaml); a name without either gets .learned.yaml added.
func LearnedPath(scriptPath string) string {
	ext := filepath.Ext(scriptPath)
	if strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml") {
		scriptPath = scriptPath[:len(scriptPath)-len(ext)]
	}
	return scriptPath + ".learned.yaml"
}

// phraseKey is the normalised form of a keyword or example, for telling
// duplicates apart: the units matching compares (folded, Traditional →
// Simplified, Latin words stemmed), without punctuation. "" when the phrase
// has no letters or digits.
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

// Kinds of phrase an intent is taught.
const (
	kindKeyword = "keyword"
	kindExample = "example"
)

var phraseNouns = map[string]phrase{
	kindKeyword: {"keyword", "关键词"},
	kindExample: {"example", "例句"},
}

type phraseRef struct{ kind, key string }

type phraseOwner struct {
	intent string
	pos    Pos
}

// phraseIndex knows which intents already have which keywords and examples.
type phraseIndex struct {
	first map[phraseRef]phraseOwner     // the first intent with the phrase
	mine  map[phraseRef]map[string]bool // every intent with it
}

func (ix *phraseIndex) add(kind, key, intent string, pos Pos) {
	ref := phraseRef{kind, key}
	if _, ok := ix.first[ref]; !ok {
		ix.first[ref] = phraseOwner{intent, pos}
	}
	if ix.mine[ref] == nil {
		ix.mine[ref] = map[string]bool{}
	}
	ix.mine[ref][intent] = true
}

func (l *loader) phraseIndex() *phraseIndex {
	ix := &phraseIndex{first: map[phraseRef]phraseOwner{}, mine: map[phraseRef]map[string]bool{}}
	for _, in := range l.s.Intents {
		for _, kw := range in.Keywords {
			if k := phraseKey(kw); k != "" {
				ix.add(kindKeyword, k, in.Name, in.Pos)
			}
		}
		for _, ex := range in.Examples {
			if k := phraseKey(ex); k != "" {
				ix.add(kindExample, k, in.Name, in.Pos)
			}
		}
	}
	return ix
}

// learned reads the learned file, once every file of the script is read, and
// merges it: new answers become intents with answers, and examples and
// keywords are added to the intents they teach. A learned file that does not
// exist is no error.
func (l *loader) learned(name string) {
	data, err := l.src.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		l.diags.errorf(Pos{File: name}, "read-file", err.Error())
		l.unreadable = true
		return
	}
	l.files = append(l.files, name)
	l.hash.add(name, data)
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		l.diags.errorf(yamlErrorPos(name, data, err), "yaml-syntax", yamlMessage(err))
		l.unreadable = true
		return
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return // nothing learned yet, or staff emptied it
	}
	d := &decoder{file: name, diags: &l.diags, budget: &l.budget}
	var intents, answers *yaml.Node
	if !d.mapping(doc.Content[0], "learned file", map[string]fieldFn{
		"description": func(_, _ *yaml.Node) {},
		"intents":     func(_, v *yaml.Node) { intents = v },
		"answers":     func(_, v *yaml.Node) { answers = v },
	}) {
		return
	}
	ix := l.phraseIndex()
	// New answers first: the intents section may teach their intents too.
	for _, p := range d.pairs(answers, "answers") {
		l.learnedAnswer(d, p, ix)
	}
	for _, p := range d.pairs(intents, "intents") {
		l.learnedIntent(d, p, ix)
	}
}

// learnedAnswer reads a new answer-library entry: a new intent (keywords,
// examples, exclude) and its answer (say, tag, next), which then goes through
// the script's own answer decoder.
func (l *loader) learnedAnswer(d *decoder, p pair, ix *phraseIndex) {
	if !l.checkName(d, p.key, p.pos, "answer") {
		return
	}
	if prev := l.s.IntentByName(p.key); prev != nil {
		l.diags.errorf(p.pos, "learned-exists", p.key, prev.Pos.String())
		return
	}
	what := "learned answer " + p.key
	in := &Intent{Name: p.key, Pos: p.pos, Negation: true}
	var answer []*yaml.Node // the say, tag and next fields, for the answer decoder
	keep := func(k, v *yaml.Node) { answer = append(answer, k, v) }
	var keywords, examples *yaml.Node
	seenSay := false
	if !d.mapping(p.val, what, map[string]fieldFn{
		"description": func(_, _ *yaml.Node) {},
		"keywords":    func(_, v *yaml.Node) { keywords = v },
		"examples":    func(_, v *yaml.Node) { examples = v },
		"exclude":     func(_, v *yaml.Node) { in.Exclude = d.strs(v, "exclude") },
		"say": func(k, v *yaml.Node) {
			seenSay = true
			keep(k, v)
		},
		"tag":  keep,
		"next": keep,
	}) {
		return
	}
	n := l.learnPhrases(d, keywords, in, kindKeyword, ix)
	n += l.learnPhrases(d, examples, in, kindExample, ix)
	for _, ex := range in.Exclude {
		if phraseKey(ex) == "" {
			l.diags.errorf(p.pos, "empty-keyword", ex, p.key)
		}
	}
	if n == 0 {
		l.diags.errorf(p.pos, "empty-intent", p.key)
	}
	if !seenSay {
		l.diags.errorf(p.pos, "missing-field", "say", what)
	}
	if l.s.intentIndex == nil {
		l.s.intentIndex = map[string]int{}
	}
	l.s.intentIndex[in.Name] = len(l.s.Intents)
	l.s.Intents = append(l.s.Intents, in)
	if seenSay {
		val := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: p.pos.Line, Column: p.pos.Col, Content: answer}
		l.answerPairs = append(l.answerPairs, answerDef{intent: p.key, pos: p.pos, val: val, d: d})
	}
}

// learnedIntent adds examples and keywords to an intent of the script (or a
// learned answer's). `name: [a, b]` is the short form for keywords, as in the script.
func (l *loader) learnedIntent(d *decoder, p pair, ix *phraseIndex) {
	in := l.s.IntentByName(p.key)
	if in == nil {
		l.diags.errorf(p.pos, "unknown-intent", p.key, "intents", l.intentNames())
		return
	}
	v := d.deref(p.val)
	if isNull(v) {
		return
	}
	if v.Kind == yaml.SequenceNode || v.Kind == yaml.ScalarNode {
		l.learnPhrases(d, v, in, kindKeyword, ix)
		return
	}
	d.mapping(v, "learned intent "+p.key, map[string]fieldFn{
		"keywords": func(_, v *yaml.Node) { l.learnPhrases(d, v, in, kindKeyword, ix) },
		"examples": func(_, v *yaml.Node) { l.learnPhrases(d, v, in, kindExample, ix) },
	})
}

// learnPhrases adds the keywords or examples listed in v to in: one the
// intent has already (after normalisation) is ignored; one that belongs to
// another intent is an error. It returns how many phrases v lists.
func (l *loader) learnPhrases(d *decoder, v *yaml.Node, in *Intent, kind string, ix *phraseIndex) int {
	if v == nil {
		return 0
	}
	n := 0
	for _, item := range d.list(v, kind+"s") {
		text, ok := d.str(item, kind+"s")
		if !ok {
			continue
		}
		n++
		key := phraseKey(text)
		if key == "" {
			l.diags.errorf(d.pos(item), "empty-"+kind, text, in.Name)
			continue
		}
		ref := phraseRef{kind, key}
		if ix.mine[ref][in.Name] {
			continue // already there
		}
		if owner, taken := ix.first[ref]; taken {
			l.diags.errorf(d.pos(item), "learned-conflict", phraseNouns[kind], text, owner.intent, owner.pos.String())
			continue
		}
		ix.add(kind, key, in.Name, d.pos(item))
		if kind == kindKeyword {
			in.Keywords = append(in.Keywords, text)
		} else {
			in.Examples = append(in.Examples, text)
		}
	}
	return n
}

// LearnKind says what a LearnChange teaches.
type LearnKind string

const (
	LearnExample LearnKind = "example" // an example sentence for an existing intent
	LearnKeyword LearnKind = "keyword" // a keyword for an existing intent
	LearnAnswer  LearnKind = "answer"  // a new answer-library entry: a new intent and its answer
)

// LearnChange is one thing staff teach the bot, usually from a question it
// could not answer.
type LearnChange struct {
	Kind LearnKind `json:"kind"`
	// Intent is the intent taught (LearnExample, LearnKeyword), or the name
	// of the new intent (LearnAnswer): letters of any script, digits, _ - .
	Intent string `json:"intent"`
	// Phrase is the example or keyword (LearnExample, LearnKeyword).
	Phrase string `json:"phrase,omitempty"`
	// A new answer's keywords and/or examples, and what the bot says (a
	// prompt template, in the script's language).
	Keywords []string `json:"keywords,omitempty"`
	Examples []string `json:"examples,omitempty"`
	Say      string   `json:"say,omitempty"`
}

// LearnResult says what Learn did.
type LearnResult struct {
	Path string // the learned file
	// Changed is true when the learned file was written; false when the
	// change was there already (a no-op) or was rejected.
	Changed bool
	// Script is the script as it loads now, with the change (nil when rejected).
	Script *Script
	// Diags say why a change was rejected: load errors (and warnings), those
	// in the learned file at path:line:column of the content that was not written.
	Diags Diags
}

// clean trims the change's texts and checks that it says something.
func (ch LearnChange) clean() (LearnChange, error) {
	ch.Intent = strings.TrimSpace(ch.Intent)
	ch.Phrase = strings.TrimSpace(ch.Phrase)
	ch.Say = strings.TrimSpace(ch.Say)
	trim := func(list []string) []string {
		var out []string
		for _, s := range list {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	ch.Keywords, ch.Examples = trim(ch.Keywords), trim(ch.Examples)
	if ch.Intent == "" {
		return ch, errors.New("learn: no intent named")
	}
	switch ch.Kind {
	case LearnExample, LearnKeyword:
		if ch.Phrase == "" {
			return ch, fmt.Errorf("learn: the %s for intent %q is empty", ch.Kind, ch.Intent)
		}
	case LearnAnswer:
		if len(ch.Keywords) == 0 && len(ch.Examples) == 0 {
			return ch, fmt.Errorf("learn: the new answer %q needs keywords or examples", ch.Intent)
		}
		if ch.Say == "" {
			return ch, fmt.Errorf("learn: the new answer %q says nothing", ch.Intent)
		}
	default:
		return ch, fmt.Errorf("learn: unknown kind of change %q (use example, keyword or answer)", ch.Kind)
	}
	return ch, nil
}

// presentIn reports whether the change is already part of s: the example or keyword
// (after normalisation), or the same learned answer.
func (ch LearnChange) presentIn(s *Script, learnedPath string) bool {
	in := s.IntentByName(ch.Intent)
	if in == nil {
		return false
	}
	has := func(list []string, phrase string) bool {
		k := phraseKey(phrase)
		if k == "" {
			return false
		}
		for _, p := range list {
			if phraseKey(p) == k {
				return true
			}
		}
		return false
	}
	switch ch.Kind {
	case LearnExample:
		return has(in.Examples, ch.Phrase)
	case LearnKeyword:
		return has(in.Keywords, ch.Phrase)
	}
	a := s.Answers[ch.Intent]
	if a == nil || a.Pos.File != learnedPath || len(a.Say) != 1 || a.Say[0].Audio != "" || a.Say[0].Text.String() != ch.Say {
		return false
	}
	for _, kw := range ch.Keywords {
		if !has(in.Keywords, kw) {
			return false
		}
	}
	for _, ex := range ch.Examples {
		if !has(in.Examples, ex) {
			return false
		}
	}
	return true
}

// learnLocks serialises Learn calls per learned file within this process.
var learnLocks sync.Map // absolute path → *sync.Mutex

func learnLock(path string) *sync.Mutex {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	mu, _ := learnLocks.LoadOrStore(path, new(sync.Mutex))
	return mu.(*sync.Mutex)
}

// overlaySource is the operating system's files, except the learned file,
// which has the content given (or does not exist).
type overlaySource struct {
	Source
	name   string
	data   []byte
	exists bool
}

func (o overlaySource) ReadFile(name string) ([]byte, error) {
	if name != o.name {
		return o.Source.ReadFile(name)
	}
	if !o.exists {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return o.data, nil
}

// Learn adds one change to the learned file of the script at scriptPath (see
// LearnedPath), creating the file if needed. It loads the whole script with
// the changed learned file first and writes the file only if that loads
// without errors; otherwise the file is left as it was and the error (a
// *LoadError) and LearnResult.Diags say why. A change already there is a
// no-op (LearnResult.Changed is false). The file is edited as a YAML tree, so
// comments and what staff wrote in it stay; it is replaced atomically (a
// temporary file in the same folder, synced, then renamed), mode 0644.
//
// Learn calls for the same file in one process are serialised. Two processes
// changing the file at the same time are not coordinated: each replaces it
// whole, so one change may be lost (never half-written).
func Learn(scriptPath string, ch LearnChange) (LearnResult, error) {
	lp := LearnedPath(scriptPath)
	res := LearnResult{Path: lp}
	ch, err := ch.clean()
	if err != nil {
		return res, err
	}
	mu := learnLock(lp)
	mu.Lock()
	defer mu.Unlock()

	old, err := osSource{}.ReadFile(lp)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("learn: %w", err)
	}
	cur, err := Load(overlaySource{Source: osSource{}, name: lp, data: old, exists: exists}, scriptPath)
	if err != nil {
		res.Diags = loadDiags(err)
		return res, err
	}
	if ch.presentIn(cur, lp) {
		res.Script = cur
		return res, nil
	}
	data, err := learnedContent(old, ch, cur.Language)
	if err != nil {
		return res, fmt.Errorf("learn: %s: %w", lp, err)
	}
	s, err := Load(overlaySource{Source: osSource{}, name: lp, data: data, exists: true}, scriptPath)
	if err != nil {
		res.Diags = loadDiags(err)
		return res, err
	}
	if !ch.presentIn(s, lp) {
		return res, fmt.Errorf("learn: %s: the %s for %q did not take effect", lp, ch.Kind, ch.Intent)
	}
	if err := writeFileAtomic(lp, data, 0o644); err != nil {
		return res, fmt.Errorf("learn: %w", err)
	}
	res.Changed, res.Script = true, s
	return res, nil
}

func loadDiags(err error) Diags {
	var le *LoadError
	if errors.As(err, &le) {
		return le.Diags
	}
	return nil
}

// The comments hotline writes at the top of a new learned file.
const (
	learnedHeaderEN = "# Learned by hotline from unanswered questions (hotline unanswered assign, the admin page).\n" +
		"# Staff may edit this file; hotline adds to it. The script itself is not changed."
	learnedHeaderZH = "# 由 hotline 从未能回答的问题中学到(hotline unanswered assign、管理页面)。\n" +
		"# 工作人员可以编辑本文件;hotline 会往里添加内容。脚本本身不会被修改。"
	learnedAnswersEN = "# new answer-library entries: a new intent and its scripted answer"
	learnedAnswersZH = "# 新的答案库条目:一个新意图和它的标准答案"
)

// learnedContent returns the learned file old with the change applied. It
// edits the YAML tree, so comments and staff edits are kept.
func learnedContent(old []byte, ch LearnChange, lang string) ([]byte, error) {
	var doc yaml.Node
	if err := safeUnmarshal(old, &doc); err != nil {
		return nil, err
	}
	var prefix []byte
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		// A new file, or one staff emptied: keep its comments, start the content.
		root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		prefix = commentLines(old)
		if len(prefix) == 0 {
			root.HeadComment = learnedHeaderEN
			if isChinese(lang) {
				root.HeadComment = learnedHeaderZH
			}
		}
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("the learned file is not a mapping (intents:, answers:)")
	}
	switch ch.Kind {
	case LearnExample, LearnKeyword:
		field := string(ch.Kind) + "s"
		// An intent from a learned answer is taught in its entry.
		if answers := mapValue(root, "answers"); answers != nil && answers.Kind == yaml.MappingNode {
			if entry := mapValue(answers, ch.Intent); entry != nil && entry.Kind == yaml.MappingNode {
				if err := appendPhrase(entry, field, ch.Phrase); err != nil {
					return nil, err
				}
				break
			}
		}
		intents, err := ensureMapping(root, "intents", "")
		if err != nil {
			return nil, err
		}
		key, entry := mapEntry(intents, ch.Intent)
		switch {
		case entry == nil:
			entry = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			intents.Content = append(intents.Content, keyNode(ch.Intent), entry)
		case isNull(entry):
			toBlockMapping(key, entry, nil)
		case entry.Kind == yaml.ScalarNode || entry.Kind == yaml.SequenceNode:
			// The short form, a list of keywords.
			if field == "keywords" {
				return marshalLearned(prefix, &doc, appendPhrase(intents, ch.Intent, ch.Phrase))
			}
			short := *entry
			short.HeadComment, short.LineComment = "", ""
			toBlockMapping(key, entry, []*yaml.Node{keyNode("keywords"), &short})
		case entry.Kind != yaml.MappingNode:
			return nil, fmt.Errorf("intent %q in the learned file is not a mapping", ch.Intent)
		}
		if err := appendPhrase(entry, field, ch.Phrase); err != nil {
			return nil, err
		}
	case LearnAnswer:
		comment := learnedAnswersEN
		if isChinese(lang) {
			comment = learnedAnswersZH
		}
		answers, err := ensureMapping(root, "answers", comment)
		if err != nil {
			return nil, err
		}
		entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if len(ch.Keywords) > 0 {
			entry.Content = append(entry.Content, keyNode("keywords"), flowList(ch.Keywords, false))
		}
		if len(ch.Examples) > 0 {
			entry.Content = append(entry.Content, keyNode("examples"), flowList(ch.Examples, true))
		}
		entry.Content = append(entry.Content, keyNode("say"), strNode(ch.Say, true))
		answers.Content = append(answers.Content, keyNode(ch.Intent), entry)
	}
	return marshalLearned(prefix, &doc, nil)
}

func marshalLearned(prefix []byte, doc *yaml.Node, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(prefix)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// commentLines returns the comment lines of a file that holds nothing else.
func commentLines(data []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] == '#' {
			out = append(out, bytes.TrimRight(line, "\r\n")...)
			out = append(out, '\n')
		}
	}
	return out
}

// mapEntry returns the key and value nodes of key in the mapping m, or nils.
func mapEntry(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// mapValue returns the value of key in the mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	_, v := mapEntry(m, key)
	return v
}

// toBlockMapping turns the value v of key k into a block mapping with the
// given content. A comment on the line of the old value moves to the key:
// a block mapping cannot carry it there.
func toBlockMapping(k, v *yaml.Node, content []*yaml.Node) {
	if k.LineComment == "" {
		k.LineComment = v.LineComment
	}
	*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: v.HeadComment, FootComment: v.FootComment, Content: content}
}

// ensureMapping returns the mapping under key in root, adding it (with a line
// comment) when there is none.
func ensureMapping(root *yaml.Node, key, comment string) (*yaml.Node, error) {
	k, v := mapEntry(root, key)
	switch {
	case v == nil:
		k = keyNode(key)
		k.LineComment = comment
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		root.Content = append(root.Content, k, v)
	case isNull(v):
		toBlockMapping(k, v, nil)
	case v.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("%s: in the learned file is not a mapping", key)
	}
	return v, nil
}

// appendPhrase adds text to the list under key in the mapping m (a single
// value becomes a list).
func appendPhrase(m *yaml.Node, key, text string) error {
	quoted := key == "examples"
	v := mapValue(m, key)
	switch {
	case v == nil:
		m.Content = append(m.Content, keyNode(key), flowList([]string{text}, quoted))
	case isNull(v):
		*v = *flowList([]string{text}, quoted)
	case v.Kind == yaml.ScalarNode:
		one := *v
		one.HeadComment, one.LineComment, one.FootComment = "", "", ""
		*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, HeadComment: v.HeadComment,
			LineComment: v.LineComment, Content: []*yaml.Node{&one, strNode(text, quoted)}}
	case v.Kind == yaml.SequenceNode:
		v.Content = append(v.Content, strNode(text, quoted))
	default:
		return fmt.Errorf("%s: in the learned file is not a list", key)
	}
	return nil
}

func flowList(items []string, quoted bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, strNode(s, quoted))
	}
	return n
}

// yaml11Words are read as true, false or null by YAML 1.1 tools: quoted, so
// that an intent called "no" stays a name everywhere.
var yaml11Words = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "~": true}

func strNode(s string, quoted bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if quoted || yaml11Words[strings.ToLower(s)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func keyNode(s string) *yaml.Node { return strNode(s, false) }

// writeFileAtomic replaces name with data: a temporary file in the same
// folder is written, synced and renamed over it, so readers see the old file
// or the new one, never a part.
func writeFileAtomic(name string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, name); err != nil {
		return err
	}
	// The rename itself survives a crash once the folder is synced.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
