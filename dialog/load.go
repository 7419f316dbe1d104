package dialog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/dialog/match"
	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Limits that keep a hostile or broken script from exhausting memory.
const (
	maxFileSize   = 8 << 20
	maxFiles      = 256
	maxYAMLNodes  = 500_000
	maxIncludeDep = 16
)

// Source reads script files. LoadFile uses the operating system; tests and
// fuzzers use FSSource over an in-memory file system.
type Source interface {
	ReadFile(name string) ([]byte, error)
	Glob(pattern string) ([]string, error)
	Join(dir, name string) string
	Dir(name string) string
}

type osSource struct{}

func (osSource) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a script file", name)
	}
	if info.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, maxFileSize>>20)
	}
	return os.ReadFile(name)
}
func (osSource) Glob(p string) ([]string, error) { return filepath.Glob(p) }
func (osSource) Join(dir, name string) string {
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(dir, name)
}
func (osSource) Dir(name string) string { return filepath.Dir(name) }

// FSSource reads scripts from an fs.FS (slash-separated paths).
type FSSource struct{ FS fs.FS }

func (s FSSource) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(s.FS, name)
	if err == nil && len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, maxFileSize>>20)
	}
	return b, err
}
func (s FSSource) Glob(p string) ([]string, error) { return fs.Glob(s.FS, p) }
func (s FSSource) Join(dir, name string) string    { return path.Join(dir, name) }
func (s FSSource) Dir(name string) string          { return path.Dir(name) }

// LoadFile loads and validates the script at path, every file it includes,
// and its learned file (see LearnedPath) when there is one.
func LoadFile(path string) (*Script, error) { return Load(osSource{}, path) }

// Load loads and validates a script, with its learned file (LearnedPath(path),
// read through src) merged in when src has it. On failure the error is a
// *LoadError listing every problem found, each with file:line:column.
func Load(src Source, path string) (s *Script, err error) {
	l := &loader{
		src:     src,
		budget:  maxYAMLNodes,
		visited: map[string]bool{},
		s: &Script{
			Answers: map[string]*Answer{},
			Nodes:   map[string]*Node{},
			Dir:     src.Dir(path),
		},
	}
	l.s.Defaults = builtinDefaults()
	l.s.Match = MatchOptions{Threshold: match.DefaultThreshold, Pinyin: true, Examples: true}
	l.s.Recording = true
	l.learnedPath = LearnedPath(path)
	l.file(path, true, 0, Pos{})
	// The learned file beside the script: what staff taught the bot from its
	// unanswered questions, merged once every file of the script is read.
	if len(l.files) > 0 && !l.unreadable {
		l.learned(l.learnedPath)
	}
	// Cross-references are checked even when some fields were wrong, so one
	// run lists every error; only files that could not be read stop it.
	if len(l.files) > 0 && !l.unreadable {
		l.resolve()
	}
	if !l.diags.HasErrors() {
		l.compile()
	}
	l.diags.Sort()
	if l.diags.HasErrors() {
		return nil, &LoadError{Path: path, Diags: l.diags}
	}
	l.s.Files = l.files
	l.s.Version = hex.EncodeToString(l.hash.Sum(nil))[:12]
	return l.s, nil
}

// Parse loads a single script held in memory; includes are not available.
func Parse(name string, data []byte) (*Script, error) {
	return Load(memSource{name: name, data: data}, name)
}

type memSource struct {
	name string
	data []byte
}

func (m memSource) ReadFile(name string) ([]byte, error) {
	if name == m.name {
		if len(m.data) > maxFileSize {
			return nil, fmt.Errorf("%s is larger than %d MiB", name, maxFileSize>>20)
		}
		return m.data, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: errNoIncludes{}}
}
func (memSource) Glob(string) ([]string, error) { return nil, nil }
func (memSource) Join(dir, name string) string  { return path.Join(dir, name) }
func (memSource) Dir(name string) string        { return path.Dir(name) }

// errNoIncludes: a script parsed from memory has no other files. It counts as
// "does not exist", so the (absent) learned file is no error there.
type errNoIncludes struct{}

func (errNoIncludes) Error() string        { return "includes are not available here" }
func (errNoIncludes) Is(target error) bool { return target == fs.ErrNotExist }

func builtinDefaults() Defaults {
	return Defaults{
		Listen: ListenSpec{
			Timeout: 6 * time.Second, MaxSpeech: 15 * time.Second, EndSilence: 600 * time.Millisecond,
			DigitTimeout: 3 * time.Second, BargeIn: true, Speech: true, DTMF: true,
		},
		Retries: Retries{NoInput: 2, NoMatch: 2},
		Collect: DigitsSpec{Min: 1, Max: 20, End: "#", InterDigit: 5 * time.Second, Timeout: 8 * time.Second},
	}
}

type loader struct {
	src     Source
	diags   Diags
	budget  int
	s       *Script
	files   []string
	visited map[string]bool
	hash    hashWriter

	startPos    Pos
	refs        []nodeRef
	intentRefs  []intentRef
	globalNode  *yaml.Node
	globalFile  string
	answerPairs []answerDef
	unreadable  bool   // a file could not be read or parsed
	learnedPath string // the learned file beside the main script (read by learned, never as an include)
}

type hashWriter struct{ h []byte }

func (w *hashWriter) add(name string, data []byte) {
	w.h = append(w.h, name...)
	w.h = append(w.h, 0)
	w.h = append(w.h, data...)
	w.h = append(w.h, 0)
}

func (w *hashWriter) Sum([]byte) []byte {
	s := sha256.Sum256(w.h)
	return s[:]
}

type nodeRef struct {
	target  string
	pos     Pos
	what    string
	builtin bool // $repeat allowed
}

type intentRef struct {
	name string
	pos  Pos
	what string
}

type answerDef struct {
	intent string
	pos    Pos
	val    *yaml.Node
	d      *decoder
}

var (
	nameRE     = regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_\-.]*$`)
	dtmfRE     = regexp.MustCompile(`^[0-9*#A-Da-d]{1,8}$`)
	headerRE   = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_` + "`" + `|~]+$`)
	gradeRE    = regexp.MustCompile(`^[A-E]$`)
	yamlErrRE  = regexp.MustCompile(`line (\d+)`)
	yamlLineRE = regexp.MustCompile(`^line \d+: `)
)

// file reads one script file; from is the include: line that named it (zero
// for the main file), where problems reading it are reported.
func (l *loader) file(name string, main bool, depth int, from Pos) {
	if l.visited[name] {
		return // included twice (or a cycle): read it once
	}
	l.visited[name] = true
	if from.File == "" {
		from = Pos{File: name}
	}
	if len(l.files) >= maxFiles {
		l.diags.errorf(from, "too-many-files", maxFiles)
		l.unreadable = true
		return
	}
	data, err := l.src.ReadFile(name)
	if err != nil {
		l.diags.errorf(from, "read-file", err.Error())
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
		l.diags.errorf(Pos{File: name, Line: 1}, "empty-file")
		if main {
			l.unreadable = true
		}
		return
	}
	root := doc.Content[0]
	d := &decoder{file: name, diags: &l.diags, budget: &l.budget}
	var includes []pair
	fields := map[string]fieldFn{
		"description": func(_, _ *yaml.Node) {},
		"intents":     func(_, v *yaml.Node) { l.intents(d, v) },
		"answers": func(_, v *yaml.Node) {
			for _, p := range d.pairs(v, "answers") {
				l.answerPairs = append(l.answerPairs, answerDef{intent: p.key, pos: p.pos, val: p.val, d: d})
			}
		},
		"nodes":    func(_, v *yaml.Node) { l.nodes(d, v) },
		"synonyms": func(_, v *yaml.Node) { l.synonyms(d, v) },
		"include": func(k, v *yaml.Node) {
			for _, item := range d.list(v, "include") {
				if s, ok := d.str(item, "include"); ok {
					includes = append(includes, pair{key: s, pos: d.pos(item)})
				}
			}
		},
	}
	if main {
		// Defaults first: nodes written above them in the file still inherit them.
		if root = d.deref(root); root != nil && root.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(root.Content); i += 2 {
				if root.Content[i].Value == "defaults" {
					l.defaults(d, root.Content[i+1])
				}
			}
		}
		seenName, seenLang, seenStart := false, false, false
		fields["defaults"] = func(_, _ *yaml.Node) {}
		fields["name"] = func(_, v *yaml.Node) {
			seenName = true
			l.s.Name, _ = d.str(v, "name")
		}
		fields["language"] = func(_, v *yaml.Node) {
			seenLang = true
			if s, ok := d.str(v, "language"); ok {
				tag, err := language.Parse(s)
				if err != nil {
					l.diags.errorf(d.pos(v), "bad-language", s)
					return
				}
				l.s.Language = tag.String()
			}
		}
		fields["start"] = func(_, v *yaml.Node) {
			seenStart = true
			if s, ok := d.str(v, "start"); ok {
				l.s.Start = s
				l.startPos = d.pos(v)
			}
		}
		fields["hours"] = func(_, v *yaml.Node) { l.hours(d, v) }
		fields["recording"] = d.setBool(&l.s.Recording, "recording")
		fields["voice"] = func(_, v *yaml.Node) { l.s.Voice, _ = d.str(v, "voice") }
		fields["keypad_fallback"] = func(_, v *yaml.Node) { l.s.KeypadFallback = l.say(d, v, "keypad_fallback") }
		fields["recording_notice"] = func(_, v *yaml.Node) { l.ref(d, v, "recording_notice", &l.s.RecordingNotice) }
		fields["match"] = func(_, v *yaml.Node) { l.matchOptions(d, v) }
		fields["global"] = func(_, v *yaml.Node) { l.globalNode, l.globalFile = v, name }
		fields["after_answer"] = func(_, v *yaml.Node) {
			if s, ok := d.str(v, "after_answer"); ok {
				l.s.AfterAnswer = s
				l.refs = append(l.refs, nodeRef{target: s, pos: d.pos(v), what: "after_answer"})
			}
		}
		if !d.mapping(root, "script", fields) {
			return
		}
		top := d.pos(root)
		if !seenName {
			l.diags.errorf(top, "missing-field", "name", "script")
		}
		if !seenLang {
			l.diags.errorf(top, "missing-field", "language", "script")
		}
		if !seenStart {
			l.diags.errorf(top, "missing-field", "start", "script")
		}
	} else if !d.mapping(root, "included file", fields) {
		return
	}
	for _, inc := range includes {
		if depth+1 > maxIncludeDep {
			l.diags.errorf(inc.pos, "include-depth", maxIncludeDep)
			return
		}
		pattern := l.src.Join(l.src.Dir(name), inc.key)
		if strings.ContainsAny(inc.key, "*?[") {
			matches, err := l.src.Glob(pattern)
			if err != nil {
				l.diags.errorf(inc.pos, "bad-include", inc.key, err.Error())
				continue
			}
			if len(matches) == 0 {
				l.diags.errorf(inc.pos, "include-none", inc.key)
			}
			sort.Strings(matches)
			for _, m := range matches {
				if !l.isLearned(m) { // a pattern such as *.yaml: the learned file is read as such, last
					l.file(m, false, depth+1, inc.pos)
				}
			}
			continue
		}
		if !l.isLearned(pattern) {
			l.file(pattern, false, depth+1, inc.pos)
		}
	}
}

// isLearned reports whether name is the learned file, which is never read as an include.
func (l *loader) isLearned(name string) bool {
	return filepath.Clean(name) == filepath.Clean(l.learnedPath)
}

// yamlHints explain the YAML parser's most common complaints about scripts.
var yamlHints = []struct{ contains, hint string }{
	{"did not find expected alphabetic or numeric character", `a value starting with * or & must be quoted, e.g. dtmf: "*"`},
	{"found character that cannot start any token", "a value starting with @, ` or % must be quoted"},
	{"mapping values are not allowed in this context", `text containing ": " must be quoted`},
	{"found undefined alias", `a value starting with * must be quoted, e.g. dtmf: "*"`},
	{"found a tab character", "indent with spaces, not tabs"},
}

// yamlParserErrors are reported by yaml.v3 with the 0-based line where the
// unclosed structure began; scanner errors come 1-based.
var yamlParserErrors = []string{
	"did not find expected ',' or '}'", "did not find expected ',' or ']'", "did not find expected key",
	"did not find expected '-' indicator", "did not find expected node content", "did not find expected <document start>",
}

var yamlAnchorRE = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)

// yamlErrorPos finds the line of a YAML parser error.
func yamlErrorPos(file string, data []byte, err error) Pos {
	p := Pos{File: file}
	msg := err.Error()
	if m := yamlErrRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		for _, pe := range yamlParserErrors {
			if strings.Contains(msg, pe) {
				p.Line++
				break
			}
		}
		return p
	}
	// The parser gives no line for an unknown alias: find where it is used.
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			p.Line = 1 + bytes.Count(data[:i], []byte("\n"))
			p.Col = 1 + i - (bytes.LastIndexByte(data[:i], '\n') + 1)
		}
	}
	return p
}

func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = yamlLineRE.ReplaceAllString(msg, "") // the position says it already
	for _, h := range yamlHints {
		if strings.Contains(msg, h.contains) {
			return msg + " (" + h.hint + ")"
		}
	}
	return msg
}

// safeUnmarshal turns a panic inside the YAML parser into an error: a broken
// script must never take the server down.
func safeUnmarshal(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil {
		if err.Error() == "EOF" {
			return nil
		}
		return err
	}
	return nil
}

func (l *loader) checkName(d *decoder, name string, pos Pos, what string) bool {
	if !nameRE.MatchString(name) {
		l.diags.errorf(pos, "bad-name", noun(what), name)
		return false
	}
	return true
}

func (l *loader) defaults(d *decoder, n *yaml.Node) {
	df := &l.s.Defaults
	d.mapping(n, "defaults", map[string]fieldFn{
		"listen":  func(_, v *yaml.Node) { l.listenFields(d, v, &df.Listen, "defaults.listen") },
		"retries": func(_, v *yaml.Node) { l.retries(d, v, &df.Retries) },
		"escalate": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "escalate"); ok {
				df.Escalate = s
				l.refs = append(l.refs, nodeRef{target: s, pos: d.pos(v), what: "defaults.escalate"})
			}
		},
		"no_input": func(_, v *yaml.Node) { df.NoInput = l.sayList(d, v, "no_input") },
		"no_match": func(_, v *yaml.Node) { df.NoMatch = l.sayList(d, v, "no_match") },
		"collect":  func(_, v *yaml.Node) { l.digitsFields(d, v, &df.Collect, "defaults.collect") },
	})
}

func (l *loader) listenFields(d *decoder, n *yaml.Node, ls *ListenSpec, what string) {
	if isNull(d.deref(n)) {
		return
	}
	d.mapping(n, what, map[string]fieldFn{
		"timeout":       d.setDuration(&ls.Timeout, "timeout", time.Second, time.Minute),
		"max_speech":    d.setDuration(&ls.MaxSpeech, "max_speech", time.Second, 2*time.Minute),
		"end_silence":   d.setDuration(&ls.EndSilence, "end_silence", 100*time.Millisecond, 5*time.Second),
		"digit_timeout": d.setDuration(&ls.DigitTimeout, "digit_timeout", 500*time.Millisecond, 30*time.Second),
		"barge_in":      d.setBool(&ls.BargeIn, "barge_in"),
		"input": func(_, v *yaml.Node) {
			ls.Speech, ls.DTMF = false, false
			for _, s := range d.strs(v, "input") {
				switch s {
				case "speech":
					ls.Speech = true
				case "dtmf":
					ls.DTMF = true
				default:
					l.diags.errorf(d.pos(v), "bad-input", s)
				}
			}
			if !ls.Speech && !ls.DTMF {
				l.diags.errorf(d.pos(v), "no-input-kind")
			}
		},
	})
}

func (l *loader) retries(d *decoder, n *yaml.Node, r *Retries) {
	n = d.deref(n)
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		if v, ok := d.integer(n, "retries", 0, 10); ok {
			r.NoInput, r.NoMatch = v, v
		}
		return
	}
	d.mapping(n, "retries", map[string]fieldFn{
		"no_input": d.setInt(&r.NoInput, "retries.no_input", 0, 10),
		"no_match": d.setInt(&r.NoMatch, "retries.no_match", 0, 10),
	})
}

func (l *loader) digitsFields(d *decoder, n *yaml.Node, ds *DigitsSpec, what string) {
	d.mapping(n, what, map[string]fieldFn{
		"min":         d.setInt(&ds.Min, "min", 1, 64),
		"max":         d.setInt(&ds.Max, "max", 1, 64),
		"end":         func(_, v *yaml.Node) { l.endKey(d, v, &ds.End) },
		"inter_digit": d.setDuration(&ds.InterDigit, "inter_digit", 500*time.Millisecond, 30*time.Second),
		"timeout":     d.setDuration(&ds.Timeout, "timeout", time.Second, time.Minute),
	})
	if ds.Min > ds.Max {
		l.diags.errorf(d.pos(n), "min-max", ds.Min, ds.Max)
	}
}

// endKey reads the one key that ends input ("#"), or "" for none.
func (l *loader) endKey(d *decoder, v *yaml.Node, dst *string) {
	if s, ok := d.str(v, "end"); ok {
		if s != "" && (len(s) != 1 || !dtmfRE.MatchString(s)) {
			l.diags.errorf(d.pos(v), "bad-end-key", s)
			return
		}
		*dst = s
	}
}

func (l *loader) matchOptions(d *decoder, n *yaml.Node) {
	m := &l.s.Match
	d.mapping(n, "match", map[string]fieldFn{
		"threshold":      d.setFloat(&m.Threshold, "threshold", 0.01, 1),
		"margin":         d.setFloat(&m.Margin, "margin", 0, 1),
		"min_confidence": d.setFloat(&m.MinConfidence, "min_confidence", 0, 1),
		"pinyin":         d.setBool(&m.Pinyin, "pinyin"),
		"examples":       d.setBool(&m.Examples, "examples"),
	})
}

func (l *loader) hours(d *decoder, n *yaml.Node) {
	h := &Hours{Location: time.UTC, Zone: "UTC", Pos: d.pos(n)}
	seenOpen := false
	d.mapping(n, "hours", map[string]fieldFn{
		"timezone": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "timezone"); ok {
				loc, err := time.LoadLocation(s)
				if err != nil || s == "" || s == "Local" {
					l.diags.errorf(d.pos(v), "bad-timezone", s)
					return
				}
				h.Location, h.Zone = loc, s
			}
		},
		"open": func(_, v *yaml.Node) {
			seenOpen = true
			for _, item := range d.list(v, "open") {
				s, ok := d.str(item, "open")
				if !ok {
					continue
				}
				rs, err := parseWeekly(s)
				if err != nil {
					l.diags.errorf(d.pos(item), "bad-hours", err.Error())
					continue
				}
				h.Open = append(h.Open, rs...)
			}
		},
		"holidays": func(_, v *yaml.Node) {
			for _, item := range d.list(v, "holidays") {
				s, ok := d.str(item, "holidays")
				if !ok {
					continue
				}
				r, err := parseDateRange(s)
				if err != nil {
					l.diags.errorf(d.pos(item), "bad-hours", err.Error())
					continue
				}
				h.Holidays = append(h.Holidays, r)
			}
		},
		"special": func(_, v *yaml.Node) {
			for _, p := range d.pairs(v, "special") {
				date, err := parseDate(p.key)
				if err != nil {
					l.diags.errorf(p.pos, "bad-hours", err.Error())
					continue
				}
				s, ok := d.str(p.val, "special")
				if !ok {
					continue
				}
				sd := SpecialDay{Date: date, Text: p.key + " " + s}
				if s != "closed" && s != "休息" {
					rs, err := parseTimeRanges(s)
					if err != nil {
						l.diags.errorf(d.pos(p.val), "bad-hours", err.Error())
						continue
					}
					sd.Ranges = rs
				}
				h.Special = append(h.Special, sd)
			}
		},
		"closed": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "closed"); ok {
				h.Closed = s
				l.refs = append(l.refs, nodeRef{target: s, pos: d.pos(v), what: "hours.closed"})
			}
		},
	})
	if !seenOpen {
		l.diags.errorf(h.Pos, "missing-field", "open", "hours")
	}
	l.s.Hours = h
}

func (l *loader) synonyms(d *decoder, n *yaml.Node) {
	n = d.deref(n)
	if n == nil {
		return
	}
	// Either a list of groups, or a mapping of a word to its synonyms.
	if n.Kind == yaml.MappingNode {
		for _, p := range d.pairs(n, "synonyms") {
			group := append([]string{p.key}, d.strs(p.val, "synonyms")...)
			l.s.Synonyms = append(l.s.Synonyms, group)
		}
		return
	}
	for _, g := range d.list(n, "synonyms") {
		group := d.strs(g, "synonyms")
		if len(group) < 2 {
			l.diags.errorf(d.pos(g), "short-synonyms")
			continue
		}
		l.s.Synonyms = append(l.s.Synonyms, group)
	}
}

func (l *loader) intents(d *decoder, n *yaml.Node) {
	for _, p := range d.pairs(n, "intents") {
		if !l.checkName(d, p.key, p.pos, "intent") {
			continue
		}
		if prev := l.s.IntentByName(p.key); prev != nil {
			l.diags.errorf(p.pos, "duplicate-def", noun("intent"), p.key, prev.Pos.String())
			continue
		}
		in := &Intent{Name: p.key, Pos: p.pos, Negation: true}
		v := d.deref(p.val)
		if v == nil {
			return
		}
		if v.Kind == yaml.SequenceNode || v.Kind == yaml.ScalarNode {
			in.Keywords = d.strs(v, "keywords") // short form: a list of keywords
		} else {
			d.mapping(v, "intent "+p.key, map[string]fieldFn{
				"description": func(_, _ *yaml.Node) {},
				"keywords":    func(_, v *yaml.Node) { in.Keywords = d.strs(v, "keywords") },
				"exclude":     func(_, v *yaml.Node) { in.Exclude = d.strs(v, "exclude") },
				"examples":    func(_, v *yaml.Node) { in.Examples = d.strs(v, "examples") },
				"dtmf": func(_, v *yaml.Node) {
					for _, item := range d.list(v, "dtmf") {
						if s, ok := d.str(item, "dtmf"); ok {
							if !dtmfRE.MatchString(s) {
								l.diags.errorf(d.pos(item), "bad-dtmf", s)
								continue
							}
							in.DTMF = append(in.DTMF, strings.ToUpper(s))
						}
					}
				},
				"priority": d.setInt(&in.Priority, "priority", -1000, 1000),
				"handoff":  d.setBool(&in.Handoff, "handoff"),
				"negation": d.setBool(&in.Negation, "negation"),
			})
		}
		for _, kw := range append(append([]string{}, in.Keywords...), in.Exclude...) {
			if len(textnorm.Analyze(kw).Units) == 0 {
				l.diags.errorf(p.pos, "empty-keyword", kw, p.key)
			}
		}
		for _, ex := range in.Examples {
			if phraseKey(ex) == "" {
				l.diags.errorf(p.pos, "empty-example", ex, p.key)
			}
		}
		if len(in.Keywords) == 0 && len(in.DTMF) == 0 && len(in.Examples) == 0 {
			l.diags.errorf(p.pos, "empty-intent", p.key)
		}
		if l.s.intentIndex == nil {
			l.s.intentIndex = map[string]int{}
		}
		l.s.intentIndex[in.Name] = len(l.s.Intents)
		l.s.Intents = append(l.s.Intents, in)
	}
}

// sayList reads a list of alternative prompts (retry messages): each item is a Say.
func (l *loader) sayList(d *decoder, n *yaml.Node, what string) []Prompt {
	var out []Prompt
	for _, item := range d.list(n, what) {
		if s := l.say(d, item, what); len(s) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// say reads "text", {text, audio}, or a list of those.
func (l *loader) say(d *decoder, n *yaml.Node, what string) Prompt {
	var out Prompt
	for _, item := range d.list(n, what) {
		seg := Segment{Pos: d.pos(item)}
		if item.Kind == yaml.ScalarNode {
			if s, ok := d.str(item, what); ok {
				seg.Text = l.template(d, item, s)
			}
		} else {
			d.mapping(item, what, map[string]fieldFn{
				"text": func(_, v *yaml.Node) {
					if s, ok := d.str(v, "text"); ok {
						seg.Text = l.template(d, v, s)
					}
				},
				"audio": func(_, v *yaml.Node) {
					if s, ok := d.str(v, "audio"); ok {
						if s == "" || strings.Contains(s, "\x00") {
							l.diags.errorf(d.pos(v), "bad-audio", s)
							return
						}
						seg.Audio = s
					}
				},
			})
			if seg.Text == nil && seg.Audio == "" {
				l.diags.errorf(seg.Pos, "empty-say")
				continue
			}
		}
		if seg.Text != nil || seg.Audio != "" {
			out = append(out, seg)
		}
	}
	return out
}

func (l *loader) template(d *decoder, n *yaml.Node, s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		l.diags.errorf(d.pos(n), "bad-template", err.Error())
		return nil
	}
	return t
}

func (l *loader) varName(d *decoder, n *yaml.Node, what string) string {
	s, ok := d.str(n, what)
	if !ok {
		return ""
	}
	if !varNameRE.MatchString(s) {
		l.diags.errorf(d.pos(n), "bad-var", s)
		return ""
	}
	if _, builtin := builtinVars[s]; builtin {
		l.diags.errorf(d.pos(n), "builtin-var", s)
		return ""
	}
	return s
}

func (l *loader) ref(d *decoder, v *yaml.Node, what string, dst *string) {
	if s, ok := d.str(v, what); ok {
		*dst = s
		l.refs = append(l.refs, nodeRef{target: s, pos: d.pos(v), what: what})
	}
}

func (l *loader) nodes(d *decoder, n *yaml.Node) {
	for _, p := range d.pairs(n, "nodes") {
		if !l.checkName(d, p.key, p.pos, "node") {
			continue
		}
		if prev, dup := l.s.Nodes[p.key]; dup {
			l.diags.errorf(p.pos, "duplicate-def", noun("node"), p.key, prev.Pos.String())
			continue
		}
		nd := &Node{Name: p.key, Pos: p.pos, Answers: true}
		l.node(d, nd, p.val)
		l.s.Nodes[p.key] = nd
		l.s.NodeOrder = append(l.s.NodeOrder, p.key)
	}
}

func (l *loader) node(d *decoder, nd *Node, n *yaml.Node) {
	what := "node " + nd.Name
	var listenSeen, routesSeen bool
	var retries, listen *yaml.Node
	d.mapping(n, what, map[string]fieldFn{
		"description": func(_, _ *yaml.Node) {},
		"say":         func(_, v *yaml.Node) { nd.Say = l.say(d, v, "say") },
		"reprompt":    func(_, v *yaml.Node) { nd.Reprompt = l.say(d, v, "reprompt") },
		"listen": func(_, v *yaml.Node) {
			listenSeen = true
			listen = v
		},
		"routes": func(_, v *yaml.Node) {
			routesSeen = true
			for _, rp := range d.pairs(v, "routes") {
				target, ok := d.str(rp.val, "routes")
				if !ok {
					continue
				}
				nd.Routes = append(nd.Routes, Route{Intent: rp.key, Target: target, Pos: rp.pos})
				l.intentRefs = append(l.intentRefs, intentRef{name: rp.key, pos: rp.pos, what: "routes"})
				l.refs = append(l.refs, nodeRef{target: target, pos: d.pos(rp.val), what: "routes", builtin: true})
			}
		},
		"answers":  d.setBool(&nd.Answers, "answers"),
		"collect":  func(_, v *yaml.Node) { nd.Collect = l.collect(d, v) },
		"http":     func(_, v *yaml.Node) { nd.HTTP = l.httpSpec(d, v) },
		"transfer": func(_, v *yaml.Node) { nd.Transfer = l.transfer(d, v) },
		"record":   func(_, v *yaml.Node) { nd.Record = l.record(d, v) },
		"branch":   func(_, v *yaml.Node) { nd.Branch = l.branch(d, v) },
		"hangup":   d.setBool(&nd.Hangup, "hangup"),
		"next":     func(_, v *yaml.Node) { l.ref(d, v, "next", &nd.Next) },
		"closed":   func(_, v *yaml.Node) { l.ref(d, v, "closed", &nd.Closed) },
		"escalate": func(_, v *yaml.Node) { l.ref(d, v, "escalate", &nd.Escalate) },
		"set": func(_, v *yaml.Node) {
			for _, sp := range d.pairs(v, "set") {
				if !varNameRE.MatchString(sp.key) {
					l.diags.errorf(sp.pos, "bad-var", sp.key)
					continue
				}
				if _, builtin := builtinVars[sp.key]; builtin {
					l.diags.errorf(sp.pos, "builtin-var", sp.key)
					continue
				}
				if s, ok := d.str(sp.val, "set"); ok {
					if t := l.template(d, sp.val, s); t != nil {
						nd.Set = append(nd.Set, Assign{Var: sp.key, Value: t, Pos: sp.pos})
					}
				}
			}
		},
		"tag":      func(_, v *yaml.Node) { nd.Tag = l.tag(d, v) },
		"resolves": d.setBool(&nd.Resolves, "resolves"),
		"retries":  func(_, v *yaml.Node) { retries = v },
		"no_input": func(_, v *yaml.Node) { nd.NoInput = l.sayList(d, v, "no_input") },
		"no_match": func(_, v *yaml.Node) { nd.NoMatch = l.sayList(d, v, "no_match") },
	})
	nd.Retries = l.s.Defaults.Retries
	if retries != nil {
		l.retries(d, retries, &nd.Retries)
	}
	if listenSeen || routesSeen {
		ls := l.s.Defaults.Listen
		if listen != nil {
			l.listenFields(d, listen, &ls, "listen")
		}
		nd.Listen = &ls
	}
	// One way to wait for or hand over the caller per node.
	var kinds []string
	if nd.Listen != nil {
		kinds = append(kinds, "listen/routes")
	}
	for _, k := range []struct {
		on   bool
		name string
	}{{nd.Collect != nil, "collect"}, {nd.Record != nil, "record"}, {nd.Transfer != nil, "transfer"},
		{nd.Hangup, "hangup"}, {nd.Branch != nil, "branch"}} {
		if k.on {
			kinds = append(kinds, k.name)
		}
	}
	if len(kinds) > 1 {
		l.diags.errorf(nd.Pos, "conflict", nd.Name, strings.Join(kinds, ", "))
	}
	if nd.Next != "" && (nd.Listen != nil || nd.Transfer != nil || nd.Hangup || nd.Branch != nil) {
		l.diags.errorf(nd.Pos, "next-conflict", nd.Name, kinds[0])
	}
	if len(nd.Say) == 0 && len(kinds) == 0 && nd.Next == "" && nd.HTTP == nil && len(nd.Set) == 0 && nd.Tag == nil {
		l.diags.errorf(nd.Pos, "empty-node", nd.Name)
	}
}

func (l *loader) collect(d *decoder, n *yaml.Node) *CollectSpec {
	c := &CollectSpec{Digits: l.s.Defaults.Collect, DTMF: true, Pos: d.pos(n), BargeIn: l.s.Defaults.Listen.BargeIn}
	seenInto := false
	d.mapping(n, "collect", map[string]fieldFn{
		"into": func(_, v *yaml.Node) {
			seenInto = true
			c.Into = l.varName(d, v, "into")
		},
		"digits": func(_, v *yaml.Node) {
			l.digitsFields(d, v, &c.Digits, "collect.digits")
		},
		"speech": d.setBool(&c.Speech, "speech"),
		"dtmf":   d.setBool(&c.DTMF, "dtmf"),
		"pattern": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "pattern"); ok {
				re, err := regexp.Compile(s)
				if err != nil {
					l.diags.errorf(d.pos(v), "bad-pattern", s, err.Error())
					return
				}
				c.Pattern = re
			}
		},
		"invalid":  func(_, v *yaml.Node) { c.Invalid = l.say(d, v, "invalid") },
		"barge_in": d.setBool(&c.BargeIn, "barge_in"),
	})
	if !seenInto {
		l.diags.errorf(c.Pos, "missing-field", "into", "collect")
	}
	if !c.DTMF && !c.Speech {
		l.diags.errorf(c.Pos, "no-input-kind")
	}
	return c
}

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

func (l *loader) httpSpec(d *decoder, n *yaml.Node) *HTTPSpec {
	h := &HTTPSpec{Method: "GET", Timeout: 3 * time.Second, Pos: d.pos(n), OnStatus: map[int]string{}}
	urlSeen := 0
	setURL := func(method string) fieldFn {
		return func(_, v *yaml.Node) {
			urlSeen++
			if method != "" {
				h.Method = method
			}
			if s, ok := d.str(v, "url"); ok {
				if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
					l.diags.errorf(d.pos(v), "bad-url", s)
					return
				}
				h.URL = l.template(d, v, s)
			}
		}
	}
	d.mapping(n, "http", map[string]fieldFn{
		"url": setURL(""), "get": setURL("GET"), "post": setURL("POST"), "put": setURL("PUT"),
		"patch": setURL("PATCH"), "delete": setURL("DELETE"),
		"method": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "method"); ok {
				if !httpMethods[strings.ToUpper(s)] {
					l.diags.errorf(d.pos(v), "bad-method", s)
					return
				}
				h.Method = strings.ToUpper(s)
			}
		},
		"headers": func(_, v *yaml.Node) { h.Headers = l.headers(d, v) },
		"body": func(_, v *yaml.Node) {
			if b, ok := l.body(d, v); ok {
				h.Body = &BodyTemplate{value: b}
			}
		},
		"timeout":  d.setDuration(&h.Timeout, "timeout", 100*time.Millisecond, 30*time.Second),
		"into":     func(_, v *yaml.Node) { h.Into = l.varName(d, v, "into") },
		"on_error": func(_, v *yaml.Node) { l.ref(d, v, "on_error", &h.OnError) },
		"on_status": func(_, v *yaml.Node) {
			for _, sp := range d.pairs(v, "on_status") {
				code, err := strconv.Atoi(sp.key)
				if err != nil || code < 100 || code > 599 {
					l.diags.errorf(sp.pos, "bad-status", sp.key)
					continue
				}
				if s, ok := d.str(sp.val, "on_status"); ok {
					h.OnStatus[code] = s
					l.refs = append(l.refs, nodeRef{target: s, pos: d.pos(sp.val), what: "on_status"})
				}
			}
		},
	})
	if urlSeen == 0 {
		l.diags.errorf(h.Pos, "missing-field", "url", "http")
	} else if urlSeen > 1 {
		l.diags.errorf(h.Pos, "two-urls")
	}
	return h
}

func (l *loader) headers(d *decoder, n *yaml.Node) []Header {
	var out []Header
	for _, p := range d.pairs(n, "headers") {
		if !headerRE.MatchString(p.key) {
			l.diags.errorf(p.pos, "bad-header", p.key)
			continue
		}
		if s, ok := d.str(p.val, "headers"); ok {
			if t := l.template(d, p.val, s); t != nil {
				out = append(out, Header{Name: p.key, Value: t})
			}
		}
	}
	return out
}

// body turns a YAML value into a JSON body whose strings are templates.
func (l *loader) body(d *decoder, n *yaml.Node) (any, bool) {
	n = d.deref(n)
	if n == nil {
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range d.pairs(n, "body") {
			v, ok := l.body(d, p.val)
			if !ok {
				return nil, false
			}
			m[p.key] = v
		}
		return m, true
	case yaml.SequenceNode:
		var list []any
		for _, c := range n.Content {
			v, ok := l.body(d, c)
			if !ok {
				return nil, false
			}
			list = append(list, v)
		}
		return list, true
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			_ = n.Decode(&b)
			return b, true
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err == nil {
				return f, true
			}
		}
		t := l.template(d, n, n.Value)
		return t, t != nil
	}
	return nil, false
}

func (l *loader) transfer(d *decoder, n *yaml.Node) *TransferSpec {
	t := &TransferSpec{Mode: "blind", Timeout: 30 * time.Second, Pos: d.pos(n)}
	seenTo := false
	setTo := func(v *yaml.Node) {
		seenTo = true
		if s, ok := d.str(v, "to"); ok {
			low := strings.ToLower(s)
			if !strings.HasPrefix(low, "sip:") && !strings.HasPrefix(low, "sips:") && !strings.HasPrefix(low, "tel:") {
				l.diags.errorf(d.pos(v), "bad-uri", s)
				return
			}
			t.To = l.template(d, v, s)
		}
	}
	if v := d.deref(n); v != nil && v.Kind == yaml.ScalarNode {
		setTo(v)
	} else {
		d.mapping(n, "transfer", map[string]fieldFn{
			"to": func(_, v *yaml.Node) { setTo(v) },
			"mode": func(_, v *yaml.Node) {
				if s, ok := d.str(v, "mode"); ok {
					if s != "blind" && s != "bridge" {
						l.diags.errorf(d.pos(v), "bad-mode", s)
						return
					}
					t.Mode = s
				}
			},
			"headers": func(_, v *yaml.Node) { t.Headers = l.headers(d, v) },
			"timeout": d.setDuration(&t.Timeout, "timeout", 5*time.Second, 5*time.Minute),
			"whisper": func(_, v *yaml.Node) {
				if s, ok := d.str(v, "whisper"); ok {
					t.Whisper = l.template(d, v, s)
				}
			},
			"on_fail": func(_, v *yaml.Node) { l.ref(d, v, "on_fail", &t.OnFail) },
		})
	}
	if !seenTo {
		l.diags.errorf(t.Pos, "missing-field", "to", "transfer")
	}
	if t.Whisper != nil && t.Mode != "bridge" {
		l.diags.errorf(t.Pos, "whisper-blind")
	}
	return t
}

func (l *loader) record(d *decoder, n *yaml.Node) *RecordSpec {
	r := &RecordSpec{Max: 60 * time.Second, Silence: 5 * time.Second, End: "#", Beep: true, Pos: d.pos(n)}
	if v := d.deref(n); v != nil && v.Kind == yaml.ScalarNode {
		if b, ok := d.boolean(v, "record"); ok && !b {
			l.diags.errorf(r.Pos, "record-false")
		}
		return r
	}
	d.mapping(n, "record", map[string]fieldFn{
		"max":     d.setDuration(&r.Max, "max", time.Second, 10*time.Minute),
		"silence": d.setDuration(&r.Silence, "silence", time.Second, time.Minute),
		"end":     func(_, v *yaml.Node) { l.endKey(d, v, &r.End) },
		"beep":    d.setBool(&r.Beep, "beep"),
		"into":    func(_, v *yaml.Node) { r.Into = l.varName(d, v, "into") },
	})
	return r
}

func (l *loader) branch(d *decoder, n *yaml.Node) *Branch {
	b := &Branch{Pos: d.pos(n)}
	seenOn := false
	d.mapping(n, "branch", map[string]fieldFn{
		"on": func(_, v *yaml.Node) {
			seenOn = true
			if s, ok := d.str(v, "on"); ok {
				b.On = l.template(d, v, s)
			}
		},
		"cases": func(_, v *yaml.Node) {
			for _, p := range d.pairsOf(v, "cases", true) {
				c := BranchCase{Value: p.key, Pos: p.pos}
				if len(p.key) >= 2 && strings.HasPrefix(p.key, "/") && strings.HasSuffix(p.key, "/") {
					re, err := regexp.Compile(p.key[1 : len(p.key)-1])
					if err != nil {
						l.diags.errorf(p.pos, "bad-pattern", p.key, err.Error())
						continue
					}
					c.Pattern = re
				}
				if s, ok := d.str(p.val, "cases"); ok {
					c.Target = s
					l.refs = append(l.refs, nodeRef{target: s, pos: d.pos(p.val), what: "branch"})
				}
				b.Cases = append(b.Cases, c)
			}
		},
		"default": func(_, v *yaml.Node) { l.ref(d, v, "default", &b.Default) },
	})
	if !seenOn {
		l.diags.errorf(b.Pos, "missing-field", "on", "branch")
	}
	if b.Default == "" {
		l.diags.errorf(b.Pos, "missing-field", "default", "branch")
	}
	return b
}

func (l *loader) tag(d *decoder, n *yaml.Node) *TagSpec {
	t := &TagSpec{Pos: d.pos(n)}
	v := d.deref(n)
	if v == nil {
		return t
	}
	if v.Kind != yaml.MappingNode {
		t.Tags = d.strs(v, "tag")
		return t
	}
	d.mapping(v, "tag", map[string]fieldFn{
		"grade": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "grade"); ok {
				if !gradeRE.MatchString(s) {
					l.diags.errorf(d.pos(v), "bad-grade", s)
					return
				}
				t.Grade = s
			}
		},
		"tags": func(_, v *yaml.Node) { t.Tags = d.strs(v, "tags") },
	})
	return t
}

// resolve checks every cross-reference once all files are read.
func (l *loader) resolve() {
	s := l.s
	if len(s.Nodes) == 0 {
		l.diags.errorf(Pos{File: l.files[0], Line: 1}, "no-nodes")
		return
	}
	if s.Start != "" {
		l.refs = append(l.refs, nodeRef{target: s.Start, pos: l.startPos, what: "start"})
	}
	// Answers, now that every intent is known.
	for _, a := range l.answerPairs {
		d := a.d
		if s.IntentByName(a.intent) == nil {
			l.diags.errorf(a.pos, "unknown-intent", a.intent, "answers", l.intentNames())
			continue
		}
		if prev, dup := s.Answers[a.intent]; dup {
			l.diags.errorf(a.pos, "duplicate-def", noun("answer"), a.intent, prev.Pos.String())
			continue
		}
		ans := &Answer{Intent: a.intent, Pos: a.pos}
		v := d.deref(a.val)
		if v == nil {
			return
		}
		if v.Kind == yaml.MappingNode && hasKey(v, "say") {
			d.mapping(v, "answer "+a.intent, map[string]fieldFn{
				"say":  func(_, v *yaml.Node) { ans.Say = l.say(d, v, "say") },
				"tag":  func(_, v *yaml.Node) { ans.Tag = l.tag(d, v) },
				"next": func(_, v *yaml.Node) { l.ref(d, v, "next", &ans.Next) },
			})
		} else {
			ans.Say = l.say(d, v, "answer")
		}
		if len(ans.Say) == 0 {
			l.diags.errorf(a.pos, "empty-answer", a.intent)
		}
		s.Answers[a.intent] = ans
	}
	if l.globalNode != nil {
		d := &decoder{file: l.globalFile, diags: &l.diags, budget: &l.budget}
		g := d.deref(l.globalNode)
		if g != nil && g.Kind == yaml.MappingNode {
			for _, p := range d.pairs(g, "global") {
				if t, ok := d.str(p.val, "global"); ok {
					s.Global = append(s.Global, Route{Intent: p.key, Target: t, Pos: p.pos})
					l.refs = append(l.refs, nodeRef{target: t, pos: d.pos(p.val), what: "global", builtin: true})
				}
			}
		} else {
			for _, item := range d.list(g, "global") {
				name, ok := d.str(item, "global")
				if !ok {
					continue
				}
				// List form: the intent goes to the node of the same name; "repeat" repeats.
				target := name
				if _, isNode := s.Nodes[name]; !isNode && name == "repeat" {
					target = TargetRepeat
				}
				s.Global = append(s.Global, Route{Intent: name, Target: target, Pos: d.pos(item)})
				l.refs = append(l.refs, nodeRef{target: target, pos: d.pos(item), what: "global", builtin: true})
			}
		}
		for _, r := range s.Global {
			l.intentRefs = append(l.intentRefs, intentRef{name: r.Intent, pos: r.Pos, what: "global"})
		}
	}
	for _, in := range s.Intents {
		if !in.Handoff {
			continue
		}
		global := false
		for _, r := range s.Global {
			global = global || r.Intent == in.Name
		}
		if !global {
			l.diags.errorf(in.Pos, "handoff-not-global", in.Name)
		}
	}
	for _, r := range l.intentRefs {
		if s.IntentByName(r.name) == nil {
			l.diags.errorf(r.pos, "unknown-intent", r.name, r.what, l.intentNames())
		}
	}
	for _, r := range l.refs {
		if r.target == TargetRepeat && r.builtin {
			continue
		}
		if _, ok := s.Nodes[r.target]; !ok {
			if sg := suggest(r.target, s.NodeOrder); sg != "" {
				l.diags.errorf(r.pos, "unknown-node-suggest", r.target, r.what, sg)
			} else {
				l.diags.errorf(r.pos, "unknown-node", r.target, r.what)
			}
		}
	}
	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		if nd.Escalate == "" {
			nd.Escalate = s.Defaults.Escalate
		}
		seen := map[string]bool{}
		for _, r := range nd.Routes {
			if seen[r.Intent] {
				l.diags.errorf(r.Pos, "duplicate-key", r.Intent, "routes")
			}
			seen[r.Intent] = true
		}
	}
	l.loops()
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (l *loader) intentNames() string {
	names := make([]string, 0, len(l.s.Intents))
	for _, in := range l.s.Intents {
		names = append(names, in.Name)
	}
	if len(names) > 12 {
		names = append(names[:12], "…")
	}
	return strings.Join(names, ", ")
}

// loops rejects cycles of nodes that never wait for the caller: the engine
// would spin through them forever.
func (l *loader) loops() {
	s := l.s
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	reported := false
	var visit func(name string)
	visit = func(name string) {
		if reported {
			return
		}
		nd := s.Nodes[name]
		if nd == nil || nd.waits() {
			return
		}
		color[name] = grey
		stack = append(stack, name)
		for _, next := range nd.autoTargets() {
			switch color[next] {
			case grey:
				i := len(stack) - 1
				for i > 0 && stack[i] != next {
					i--
				}
				cycle := append(append([]string{}, stack[i:]...), next)
				l.diags.errorf(s.Nodes[next].Pos, "loop", strings.Join(cycle, " → "))
				reported = true
				return
			case white:
				visit(next)
				if reported {
					return
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for _, name := range s.NodeOrder {
		if color[name] == white {
			visit(name)
		}
	}
}

// waits reports whether entering the node stops for the caller or ends the bot's part.
func (nd *Node) waits() bool {
	return nd.Listen != nil || nd.Collect != nil || nd.Record != nil || nd.Transfer != nil || nd.Hangup
}

// autoTargets are the nodes reached from nd without waiting for the caller.
func (nd *Node) autoTargets() []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	add(nd.Next)
	add(nd.Closed)
	if nd.HTTP != nil {
		add(nd.HTTP.OnError)
		codes := make([]int, 0, len(nd.HTTP.OnStatus))
		for c := range nd.HTTP.OnStatus {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			add(nd.HTTP.OnStatus[c])
		}
	}
	if nd.Branch != nil {
		for _, c := range nd.Branch.Cases {
			add(c.Target)
		}
		add(nd.Branch.Default)
	}
	return out
}

// Targets are every node nd can lead to, for graphs and reachability.
func (nd *Node) Targets(s *Script) []string {
	out := nd.autoTargets()
	for _, r := range nd.Routes {
		if r.Target != TargetRepeat {
			out = append(out, r.Target)
		}
	}
	if nd.Transfer != nil && nd.Transfer.OnFail != "" {
		out = append(out, nd.Transfer.OnFail)
	}
	if nd.Listen != nil || nd.Collect != nil {
		if nd.Escalate != "" {
			out = append(out, nd.Escalate)
		}
	}
	return out
}

func (l *loader) compile() {
	s := l.s
	intents := make([]match.Intent, len(s.Intents))
	seen := map[string]bool{}
	for i, in := range s.Intents {
		intents[i] = match.Intent{
			Name: in.Name, Keywords: in.Keywords, Exclude: in.Exclude, DTMF: in.DTMF,
			Examples: in.Examples, Priority: in.Priority, Handoff: in.Handoff, Negation: in.Negation,
		}
		for _, kw := range in.Keywords {
			if !seen[kw] {
				seen[kw] = true
				s.hints = append(s.hints, kw)
			}
		}
	}
	m, err := match.Compile(intents, match.Options{
		Threshold: s.Match.Threshold, Margin: s.Match.Margin, Pinyin: s.Match.Pinyin,
		Examples: s.Match.Examples, Synonyms: s.Synonyms,
	})
	if err != nil {
		l.diags.errorf(Pos{File: l.files[0]}, "matcher", err.Error())
		return
	}
	s.matcher = m
	s.info = map[string]*nodeInfo{}
	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		info := &nodeInfo{active: match.NewSet(len(s.Intents)), maxDigits: 1}
		add := func(intent string) {
			if i, ok := s.intentIndex[intent]; ok {
				info.active.Add(i)
			}
		}
		for _, r := range s.Global {
			add(r.Intent)
		}
		if nd.Listen != nil {
			for _, r := range nd.Routes {
				add(r.Intent)
			}
			if nd.Answers {
				for intent := range s.Answers {
					add(intent)
				}
			}
		}
		seenHint := map[string]bool{}
		for i, in := range s.Intents {
			if !info.active.Has(i) {
				continue
			}
			for _, kw := range in.Keywords {
				if !seenHint[kw] {
					seenHint[kw] = true
					info.hints = append(info.hints, kw)
				}
			}
			for _, k := range in.DTMF {
				info.maxDigits = max(info.maxDigits, len(k))
			}
		}
		// Then their examples: whole sentences a caller says, which a
		// recogniser's grammar or prompt needs as much as the keywords
		// (speech.Options.Hints); after them, so a backend that keeps only
		// the first hints keeps the keywords.
		for i, in := range s.Intents {
			if !info.active.Has(i) {
				continue
			}
			for _, ex := range in.Examples {
				if !seenHint[ex] {
					seenHint[ex] = true
					info.hints = append(info.hints, ex)
				}
			}
		}
		s.info[name] = info
	}
}
