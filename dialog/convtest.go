package dialog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Suite is a file of conversation tests: each test is a conversation with the
// script, typed as caller turns with expectations on what the bot does.
type Suite struct {
	File      string
	Script    string // path of the script under test
	Tests     []*ConvTest
	Phrasings *Phrasings
}

// ConvTest is one conversation.
type ConvTest struct {
	Name   string
	Pos    Pos
	Caller string
	Called string
	Time   string // "2006-01-02 15:04" in the script's time zone, or RFC 3339
	Vars   map[string]any
	HTTP   []HTTPMock
	Steps  []Step
	Expect *Expect
}

// Step is one caller turn (or none, for expectations on the opening) and what
// the bot must do in response.
type Step struct {
	Pos    Pos
	Input  Event // nil: expectations apply to the opening (or the previous response)
	Label  string
	Bot    []TextCheck
	BotNot []TextCheck
	Intent *string // "none" for no match
	Expect *Expect
}

// TextCheck is a substring, or a regular expression written /…/.
type TextCheck struct {
	Text string
	RE   *regexp.Regexp
}

func (c TextCheck) String() string {
	if c.RE != nil {
		return "/" + c.RE.String() + "/"
	}
	return strconv.Quote(c.Text)
}

func (c TextCheck) in(s string) bool {
	if c.RE != nil {
		return c.RE.MatchString(s)
	}
	return strings.Contains(s, c.Text)
}

// Expect are checks on actions and state.
type Expect struct {
	Pos        Pos
	Node       string
	Tier       string
	Transfer   *TextCheck // a transfer whose target contains this
	NoTransfer bool       // transfer: false
	Headers    map[string]string
	Hangup     *bool
	Record     *bool
	Collect    *bool
	Listen     *bool
	BargeIn    *bool
	HTTP       *TextCheck
	HTTPBody   *TextCheck
	Tags       []string
	Grade      string
	Vars       map[string]string
	Outcome    string
	Ended      *bool
}

// HTTPMock answers the script's backend requests in a test.
type HTTPMock struct {
	Method string
	URL    TextCheck // exact URL, or /regex/
	Status int
	Body   []byte
	Err    string
	Pos    Pos
}

// Phrasings are realistic caller phrasings that must match given intents.
type Phrasings struct {
	Node    string
	Pos     Pos
	Intents []PhrasingSet
}

// PhrasingSet is the phrasings of one intent ("none": must match nothing).
type PhrasingSet struct {
	Intent string
	Pos    Pos
	Texts  []string
}

// IsSuiteFile reports whether a YAML file is a conversation test file (it has
// a top-level tests: or phrasings: key) rather than a script.
func IsSuiteFile(data []byte) bool {
	var doc yaml.Node
	if safeUnmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return false
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return false
	}
	return hasKey(root, "tests") || hasKey(root, "phrasings")
}

// FindSuites expands paths into test files: a file is taken as is; a folder
// (or a Go-style "dir/..." pattern) is searched recursively for YAML files
// that hold tests.
func FindSuites(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		p = strings.TrimSuffix(strings.TrimSuffix(p, "..."), string(filepath.Separator))
		if p == "" {
			p = "."
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); path != p && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if IsSuiteFile(data) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// LoadSuite reads a conversation test file. Errors list every problem with file:line.
func LoadSuite(path string) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tests %s: %w", path, err)
	}
	return ParseSuite(path, data)
}

// ParseSuite parses a conversation test file held in memory.
func ParseSuite(path string, data []byte) (*Suite, error) {
	var diags Diags
	budget := maxYAMLNodes
	d := &decoder{file: path, diags: &diags, budget: &budget}
	su := &Suite{File: path}
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		diags.errorf(yamlErrorPos(path, data, err), "yaml-syntax", yamlMessage(err))
		return nil, &LoadError{Path: path, Diags: diags}
	}
	if len(doc.Content) == 0 {
		diags.errorf(Pos{File: path, Line: 1}, "empty-file")
		return nil, &LoadError{Path: path, Diags: diags}
	}
	defaults := &ConvTest{}
	var testsNode *yaml.Node
	d.mapping(doc.Content[0], "test file", map[string]fieldFn{
		"description": func(_, _ *yaml.Node) {},
		"script": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "script"); ok {
				if filepath.IsAbs(s) {
					su.Script = s
				} else {
					su.Script = filepath.Join(filepath.Dir(path), s)
				}
			}
		},
		"defaults":  func(_, v *yaml.Node) { parseTestFields(d, v, defaults, "defaults", false) },
		"tests":     func(_, v *yaml.Node) { testsNode = v },
		"phrasings": func(_, v *yaml.Node) { su.Phrasings = parsePhrasings(d, v) },
	})
	for _, item := range d.list(testsNode, "tests") {
		t := &ConvTest{Pos: d.pos(item), Caller: defaults.Caller, Called: defaults.Called, Time: defaults.Time,
			Vars: defaults.Vars}
		parseTestFields(d, item, t, "test", true)
		// The test's own mocks first, so it can override a default for the same URL.
		t.HTTP = append(t.HTTP, defaults.HTTP...)
		if t.Name == "" {
			diags.errorf(t.Pos, "missing-field", "name", "test")
		}
		su.Tests = append(su.Tests, t)
	}
	if su.Script == "" {
		su.Script = defaultScriptFor(path)
	}
	if diags.HasErrors() {
		diags.Sort()
		return nil, &LoadError{Path: path, Diags: diags}
	}
	return su, nil
}

// defaultScriptFor finds script.yaml beside the test file or in its parent folder.
func defaultScriptFor(path string) string {
	dir := filepath.Dir(path)
	for _, cand := range []string{filepath.Join(dir, "script.yaml"), filepath.Join(filepath.Dir(dir), "script.yaml")} {
		if _, err := os.Stat(cand); err == nil {
			return cand
		}
	}
	return filepath.Join(filepath.Dir(dir), "script.yaml")
}

func parseTestFields(d *decoder, n *yaml.Node, t *ConvTest, what string, isTest bool) {
	fields := map[string]fieldFn{
		"caller": func(_, v *yaml.Node) { t.Caller, _ = d.str(v, "caller") },
		"called": func(_, v *yaml.Node) { t.Called, _ = d.str(v, "called") },
		"time": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "time"); ok {
				if _, err := parseTestTime(s, time.UTC); err != nil {
					d.diags.errorf(d.pos(v), "bad-test", err.Error())
					return
				}
				t.Time = s
			}
		},
		"vars": func(_, v *yaml.Node) {
			vars := map[string]any{}
			for k, val := range t.Vars {
				vars[k] = val
			}
			for _, p := range d.pairs(v, "vars") {
				if s, ok := d.str(p.val, "vars"); ok {
					vars[p.key] = s
				}
			}
			t.Vars = vars
		},
		"http": func(_, v *yaml.Node) {
			for _, item := range d.list(v, "http") {
				t.HTTP = append(t.HTTP, parseMock(d, item))
			}
		},
	}
	if isTest {
		fields["name"] = func(_, v *yaml.Node) { t.Name, _ = d.str(v, "name") }
		fields["steps"] = func(_, v *yaml.Node) {
			for _, item := range d.list(v, "steps") {
				t.Steps = append(t.Steps, parseStep(d, item))
			}
		}
		fields["expect"] = func(_, v *yaml.Node) { t.Expect = parseExpect(d, v) }
	}
	d.mapping(n, what, fields)
}

// parseTestTime reads "2006-01-02 15:04" in loc, or RFC 3339.
func parseTestTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: write \"2006-01-02 15:04\" (script's time zone) or RFC 3339", s)
	}
	return t, nil
}

func parseCheck(d *decoder, v *yaml.Node, what string) (TextCheck, bool) {
	s, ok := d.str(v, what)
	if !ok {
		return TextCheck{}, false
	}
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			d.diags.errorf(d.pos(v), "bad-pattern", s, err.Error())
			return TextCheck{}, false
		}
		return TextCheck{RE: re}, true
	}
	return TextCheck{Text: s}, true
}

func parseChecks(d *decoder, v *yaml.Node, what string) []TextCheck {
	var out []TextCheck
	for _, item := range d.list(v, what) {
		if c, ok := parseCheck(d, item, what); ok {
			out = append(out, c)
		}
	}
	return out
}

func parseMock(d *decoder, n *yaml.Node) HTTPMock {
	m := HTTPMock{Status: 200, Pos: d.pos(n)}
	seenMatch := false
	d.mapping(n, "http mock", map[string]fieldFn{
		"match": func(_, v *yaml.Node) {
			s, ok := d.str(v, "match")
			if !ok {
				return
			}
			seenMatch = true
			if method, rest, found := strings.Cut(s, " "); found && httpMethods[strings.ToUpper(method)] {
				m.Method = strings.ToUpper(method)
				s = strings.TrimSpace(rest)
			}
			if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
				re, err := regexp.Compile(s[1 : len(s)-1])
				if err != nil {
					d.diags.errorf(d.pos(v), "bad-pattern", s, err.Error())
					return
				}
				m.URL = TextCheck{RE: re}
			} else {
				m.URL = TextCheck{Text: s}
			}
		},
		"status": func(_, v *yaml.Node) {
			if x, ok := d.integer(v, "status", 100, 599); ok {
				m.Status = x
			}
		},
		"json": func(_, v *yaml.Node) {
			var x any
			if err := v.Decode(&x); err != nil {
				d.diags.errorf(d.pos(v), "bad-test", err.Error())
				return
			}
			b, err := jsonMarshal(x)
			if err != nil {
				d.diags.errorf(d.pos(v), "bad-test", err.Error())
				return
			}
			m.Body = b
		},
		"body": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "body"); ok {
				m.Body = []byte(s)
			}
		},
		"error": func(_, v *yaml.Node) { m.Err, _ = d.str(v, "error") },
	})
	if !seenMatch {
		d.diags.errorf(m.Pos, "missing-field", "match", "http mock")
	}
	return m
}

func parseStep(d *decoder, n *yaml.Node) Step {
	st := Step{Pos: d.pos(n)}
	inputs := 0
	setInput := func(ev Event, label string) {
		inputs++
		st.Input, st.Label = ev, label
	}
	d.mapping(n, "step", map[string]fieldFn{
		"say": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "say"); ok {
				setInput(Utterance{Text: s}, "say "+strconv.Quote(s))
			}
		},
		"digits": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "digits"); ok {
				if s == "" || strings.Trim(s, "0123456789*#ABCDabcd") != "" {
					d.diags.errorf(d.pos(v), "bad-dtmf", s)
					return
				}
				setInput(Digits{Keys: strings.ToUpper(s)}, "digits "+s)
			}
		},
		"no_input": func(_, v *yaml.Node) {
			if b, ok := d.boolean(v, "no_input"); ok && b {
				setInput(NoInput{}, "no input")
			}
		},
		"hangup": func(_, v *yaml.Node) {
			if b, ok := d.boolean(v, "hangup"); ok && b {
				setInput(HungUp{}, "caller hangs up")
			}
		},
		"transfer": func(_, v *yaml.Node) {
			s, ok := d.str(v, "transfer")
			if !ok {
				return
			}
			f := strings.Fields(s)
			switch {
			case len(f) == 1 && f[0] == "ok":
				setInput(Transferred{}, "transfer succeeds")
			case len(f) >= 1 && f[0] == "failed":
				code := 480
				if len(f) > 1 {
					c, err := strconv.Atoi(f[1])
					if err != nil || c < 300 || c > 699 {
						d.diags.errorf(d.pos(v), "bad-test", "transfer: write ok, failed or failed 486")
						return
					}
					code = c
				}
				setInput(TransferFailed{Code: code}, "transfer fails with "+strconv.Itoa(code))
			default:
				d.diags.errorf(d.pos(v), "bad-test", "transfer: write ok, failed or failed 486")
			}
		},
		"speech": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "speech"); ok {
				if s != "unavailable" {
					d.diags.errorf(d.pos(v), "bad-test", "speech: write unavailable (the recogniser stops working)")
					return
				}
				setInput(SpeechUnavailable{Reason: "test"}, "speech recognition becomes unavailable")
			}
		},
		"record": func(_, v *yaml.Node) {
			if x, ok := d.duration(v, "record", 0, time.Hour); ok {
				setInput(RecordDone{Duration: x, File: "message.wav"}, "caller records "+x.String())
			}
		},
		"bot":     func(_, v *yaml.Node) { st.Bot = parseChecks(d, v, "bot") },
		"bot_not": func(_, v *yaml.Node) { st.BotNot = parseChecks(d, v, "bot_not") },
		"intent": func(_, v *yaml.Node) {
			if s, ok := d.str(v, "intent"); ok {
				st.Intent = &s
			}
		},
		"expect": func(_, v *yaml.Node) { st.Expect = parseExpect(d, v) },
	})
	if inputs > 1 {
		d.diags.errorf(st.Pos, "bad-test", "a step has one input: say, digits, no_input, hangup, transfer or record")
	}
	return st
}

func parseExpect(d *decoder, n *yaml.Node) *Expect {
	e := &Expect{Pos: d.pos(n)}
	boolField := func(dst **bool, name string) fieldFn {
		return func(_, v *yaml.Node) {
			if b, ok := d.boolean(v, name); ok {
				*dst = &b
			}
		}
	}
	d.mapping(n, "expect", map[string]fieldFn{
		"node": func(_, v *yaml.Node) { e.Node, _ = d.str(v, "node") },
		"tier": func(_, v *yaml.Node) { e.Tier, _ = d.str(v, "tier") },
		"transfer": func(_, v *yaml.Node) {
			if v := d.deref(v); v != nil && v.Tag == "!!bool" {
				if b, ok := d.boolean(v, "transfer"); ok {
					if b {
						e.Transfer = &TextCheck{} // any target
					} else {
						e.NoTransfer = true
					}
				}
				return
			}
			if c, ok := parseCheck(d, v, "transfer"); ok {
				e.Transfer = &c
			}
		},
		"http_body": func(_, v *yaml.Node) {
			if c, ok := parseCheck(d, v, "http_body"); ok {
				e.HTTPBody = &c
			}
		},
		"headers": func(_, v *yaml.Node) {
			e.Headers = map[string]string{}
			for _, p := range d.pairs(v, "headers") {
				e.Headers[p.key], _ = d.str(p.val, "headers")
			}
		},
		"http": func(_, v *yaml.Node) {
			if c, ok := parseCheck(d, v, "http"); ok {
				e.HTTP = &c
			}
		},
		"hangup":   boolField(&e.Hangup, "hangup"),
		"record":   boolField(&e.Record, "record"),
		"collect":  boolField(&e.Collect, "collect"),
		"listen":   boolField(&e.Listen, "listen"),
		"barge_in": boolField(&e.BargeIn, "barge_in"),
		"ended":    boolField(&e.Ended, "ended"),
		"tags":     func(_, v *yaml.Node) { e.Tags = d.strs(v, "tags") },
		"grade":    func(_, v *yaml.Node) { e.Grade, _ = d.str(v, "grade") },
		"outcome":  func(_, v *yaml.Node) { e.Outcome, _ = d.str(v, "outcome") },
		"vars": func(_, v *yaml.Node) {
			e.Vars = map[string]string{}
			for _, p := range d.pairs(v, "vars") {
				e.Vars[p.key], _ = d.str(p.val, "vars")
			}
		},
	})
	return e
}

func parsePhrasings(d *decoder, n *yaml.Node) *Phrasings {
	ph := &Phrasings{Pos: d.pos(n)}
	d.mapping(n, "phrasings", map[string]fieldFn{
		"node": func(_, v *yaml.Node) { ph.Node, _ = d.str(v, "node") },
		"intents": func(_, v *yaml.Node) {
			for _, p := range d.pairs(v, "intents") {
				ph.Intents = append(ph.Intents, PhrasingSet{Intent: p.key, Pos: p.pos, Texts: d.strs(p.val, "phrasings")})
			}
		},
	})
	return ph
}
