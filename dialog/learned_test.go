package dialog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func TestLearnedPath(t *testing.T) {
	for in, want := range map[string]string{
		"script.yaml":                  "script.learned.yaml",
		"path/to/script.yaml":          "path/to/script.learned.yaml",
		"/srv/hotline/acme.yml":        "/srv/hotline/acme.learned.yaml",
		"examples/zh-shop/script.YAML": "examples/zh-shop/script.learned.yaml",
		"v1.2/hotline":                 "v1.2/hotline.learned.yaml",
		"./script.yaml":                "./script.learned.yaml",
	} {
		if got := LearnedPath(in); got != want {
			t.Errorf("LearnedPath(%q) = %q, want %q", in, got, want)
		}
	}
}

const learnScript = `name: learn
language: en-US
start: welcome
intents:
  agent: {keywords: [agent], dtmf: "0", handoff: true}
  billing: {keywords: [bill], examples: ["why is my bill so high"], dtmf: "1"}
  hours: {keywords: [opening hours]}
global: [agent]
answers:
  hours: "We are open nine to six."
  billing: "Bills go out on the first of the month."
after_answer: anything_else
nodes:
  welcome:
    say: "This call is recorded. How can I help?"
    listen: {}
  anything_else:
    say: "Anything else?"
    listen: {}
  agent:
    say: "Putting you through."
    transfer: {to: "sip:queue@pbx.example", on_fail: welcome}
`

func intentHas(t *testing.T, s *Script, intent string, keywords, examples []string) {
	t.Helper()
	in := s.IntentByName(intent)
	if in == nil {
		t.Fatalf("no intent %q", intent)
	}
	if !slices.Equal(in.Keywords, keywords) {
		t.Errorf("%s keywords %q, want %q", intent, in.Keywords, keywords)
	}
	if !slices.Equal(in.Examples, examples) {
		t.Errorf("%s examples %q, want %q", intent, in.Examples, examples)
	}
}

func TestLearnedMerge(t *testing.T) {
	fsys := fstest.MapFS{
		"hl/script.yaml": {Data: []byte(strings.Replace(learnScript, "global:", "include: [more.yaml]\nglobal:", 1))},
		"hl/more.yaml":   {Data: []byte("intents:\n  outage: {keywords: [power cut]}\nanswers:\n  outage: \"We know of no power cut.\"\n")},
		"hl/script.learned.yaml": {Data: []byte(`# Learned by hotline.
description: what Ann taught the bot in March
intents:
  billing:
    examples: ["why is my bill so much higher this month", "Why is my bill so high?", "WHY IS MY BILL SO MUCH HIGHER THIS MONTH"]
    keywords: [bill shock, Bills, bill]
  outage:                   # an intent from an included file
    examples: ["all the lights went off"]
  hours: [when do you open] # the short form: keywords
  parking:                  # a learned answer's intent, taught here too
    examples: ["is there a car park"]
answers:
  parking:
    description: the car park behind the building
    keywords: [parking]
    exclude: [parking ticket]
    examples: ["where can I park"]
    say: "There is free parking behind the building."
  營業:
    keywords: [门店地址]
    say: {text: "我们在人民路一号。"}
    tag: {grade: C, tags: [address]}
    next: welcome
`)},
	}
	s, err := Load(FSSource{FS: fsys}, "hl/script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Appended, duplicates after normalisation ignored (case, punctuation, stems).
	intentHas(t, s, "billing", []string{"bill", "bill shock"}, []string{"why is my bill so high", "why is my bill so much higher this month"})
	intentHas(t, s, "outage", []string{"power cut"}, []string{"all the lights went off"})
	intentHas(t, s, "hours", []string{"opening hours", "when do you open"}, nil)
	intentHas(t, s, "parking", []string{"parking"}, []string{"where can I park", "is there a car park"})
	intentHas(t, s, "營業", []string{"门店地址"}, nil)
	if a := s.Answers["parking"]; a == nil || a.Pos.String() != "hl/script.learned.yaml:13:3" {
		t.Errorf("parking answer %+v, want one at hl/script.learned.yaml:13:3", a)
	}
	if a := s.Answers["營業"]; a == nil || a.Next != "welcome" || a.Tag == nil || a.Tag.Grade != "C" {
		t.Errorf("營業 answer %+v: want next welcome and grade C", a)
	}
	if want := []string{"hl/script.yaml", "hl/more.yaml", "hl/script.learned.yaml"}; !slices.Equal(s.Files, want) {
		t.Errorf("files %q, want %q", s.Files, want)
	}
	if ds := noticeDiags(Lint(s)); len(ds) > 0 {
		t.Errorf("lint: %v", ds)
	}

	// Learned answers behave like the script's: after_answer, next, tags.
	c, _ := dial(t, s, CallInfo{})
	wantSpoken(t, c.say("where can I park"), "There is free parking behind the building.", "Anything else?")
	c.at("anything_else", WaitInput)
	if !c.state().Answered {
		t.Error("a learned answer answers the call")
	}
	wantSpoken(t, c.say("is there a car park nearby"), "There is free parking behind the building.", "Anything else?")
	if u := heard(t, c.say("I got a parking ticket")); u.Outcome != "no_match" {
		t.Errorf("exclude: %q matched %s", "I got a parking ticket", u.Result.Intent)
	}
	wantSpoken(t, c.say("门店地址在哪"), "我们在人民路一号。", "This call is recorded. How can I help?")
	c.at("welcome", WaitInput)
	wantSpoken(t, c.say("I have bill shock"), "Bills go out on the first of the month.", "Anything else?")
	wantSpoken(t, c.say("all the lights went off"), "We know of no power cut.", "Anything else?")
	wantSpoken(t, c.say("when do you open"), "We are open nine to six.", "Anything else?")

	// The version covers the learned file.
	v1 := s.Version
	fsys["hl/script.learned.yaml"] = &fstest.MapFile{Data: append(bytes.Clone(fsys["hl/script.learned.yaml"].Data), "# a comment changes the version too\n"...)}
	s2, err := Load(FSSource{FS: fsys}, "hl/script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	delete(fsys, "hl/script.learned.yaml")
	s3, err := Load(FSSource{FS: fsys}, "hl/script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if v1 == s2.Version || v1 == s3.Version || s2.Version == s3.Version {
		t.Errorf("versions %s, %s, %s: a change of the learned file must show", v1, s2.Version, s3.Version)
	}
	if len(s3.Files) != 2 || s3.IntentByName("parking") != nil {
		t.Errorf("without the learned file: files %q", s3.Files)
	}
}

// TestLearnedFileDocExample: the example in docs/script.md loads beside a script
// with those intents.
func TestLearnedFileDocExample(t *testing.T) {
	data, err := os.ReadFile("../docs/script.md")
	if err != nil {
		t.Skip("docs/script.md not found:", err)
	}
	doc := string(data)
	i := strings.Index(doc, "## The learned file")
	if i < 0 {
		t.Fatal("docs/script.md has no section \"The learned file\"")
	}
	block := doc[i:]
	block = block[strings.Index(block, "```yaml\n")+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	fsys := fstest.MapFS{"script.yaml": {Data: []byte(learnScript)}, "script.learned.yaml": {Data: []byte(block)}}
	s, err := Load(FSSource{FS: fsys}, "script.yaml")
	if err != nil {
		t.Fatalf("the documented learned file does not load:\n%s\n%v", block, err)
	}
	intentHas(t, s, "billing", []string{"bill", "bill shock"}, []string{"why is my bill so high", "why is my bill so much higher this month"})
	intentHas(t, s, "hours", []string{"opening hours", "closing time"}, nil)
	intentHas(t, s, "parking", []string{"parking"}, []string{"where can I park"})
}

// TestLearnedErrorsName: errors in the learned file carry its path:line:column,
// in English and Chinese (the fixture's `# want:` markers check every line).
func TestLearnedErrorsName(t *testing.T) {
	ds := loadBroken(t, "testdata/broken/learned.yaml")
	want := map[string]string{
		"unknown-intent":   "testdata/broken/learned.learned.yaml:7:3: error: unknown intent \"bilings\"",
		"learned-exists":   "testdata/broken/learned.learned.yaml:14:3: error: the new answer \"billing\" has the name of an existing intent (at testdata/broken/learned.yaml:8:3)",
		"empty-example":    "testdata/broken/learned.learned.yaml:5:42: error: example \"?!\" of intent \"billing\" has no letters or digits",
		"learned-conflict": "testdata/broken/learned.learned.yaml:6:35: error: keyword \"opening hours\" already belongs to intent \"hours\" (at testdata/broken/learned.yaml:9:3)",
	}
	for code, prefix := range want {
		found := false
		for _, d := range ds {
			if d.Code == code && strings.HasPrefix(d.Format("en"), prefix) {
				found = true
				if !strings.HasPrefix(d.Format("zh"), strings.SplitN(prefix, ": error: ", 2)[0]+": 错误: ") {
					t.Errorf("Chinese: %s", d.Format("zh"))
				}
			}
		}
		if !found {
			t.Errorf("no %s starting %q in:\n%s", code, prefix, (&LoadError{Path: "learned.yaml", Diags: ds}).Error())
		}
	}
	ds = loadBroken(t, "testdata/broken/learned_yaml.yaml")
	if len(ds) != 1 || ds[0].Code != "yaml-syntax" || ds[0].Pos.String() != "testdata/broken/learned_yaml.learned.yaml:3" {
		t.Errorf("bad YAML in the learned file: %v", ds)
	}
}

// TestLearnedFileMissingOrEmpty: no learned file, or one with nothing in it, is fine.
func TestLearnedFileMissingOrEmpty(t *testing.T) {
	if _, err := Parse("script.yaml", []byte(learnScript)); err != nil {
		t.Errorf("Parse (no other files at all): %v", err)
	}
	for _, content := range []string{"", "# staff removed everything\n", "~\n", "intents:\nanswers:\n"} {
		fsys := fstest.MapFS{"script.yaml": {Data: []byte(learnScript)}, "script.learned.yaml": {Data: []byte(content)}}
		if _, err := Load(FSSource{FS: fsys}, "script.yaml"); err != nil {
			t.Errorf("learned file %q: %v", content, err)
		}
	}
}

// TestLearnedFileIsNoInclude: a pattern that matches the learned file does
// not read it as an included file (its intents would be defined twice).
func TestLearnedFileIsNoInclude(t *testing.T) {
	for _, include := range []string{`["*.yaml"]`, `[extra.yaml, script.learned.yaml]`, `["./*.yaml"]`} {
		fsys := fstest.MapFS{
			"script.yaml":         {Data: []byte(strings.Replace(learnScript, "global:", "include: "+include+"\nglobal:", 1))},
			"extra.yaml":          {Data: []byte("intents:\n  outage: [power cut]\nanswers:\n  outage: \"No power cut known.\"\n")},
			"script.learned.yaml": {Data: []byte("intents:\n  outage:\n    examples: [\"the lights are off\"]\n")},
		}
		s, err := Load(FSSource{FS: fsys}, "script.yaml")
		if err != nil {
			t.Errorf("include %s: %v", include, err)
			continue
		}
		if s.Files[len(s.Files)-1] != "script.learned.yaml" || slices.Index(s.Files, "script.learned.yaml") != len(s.Files)-1 {
			t.Errorf("include %s: files %q: the learned file is read once, last", include, s.Files)
		}
	}
}

func TestLearnedFileUnreadable(t *testing.T) {
	fsys := fstest.MapFS{"script.yaml": {Data: []byte(learnScript)}, "script.learned.yaml/x": {Data: []byte("x")}}
	_, err := Load(FSSource{FS: fsys}, "script.yaml")
	var le *LoadError
	if !errors.As(err, &le) || len(le.Diags) != 1 || le.Diags[0].Code != "read-file" || le.Diags[0].Pos.File != "script.learned.yaml" {
		t.Errorf("a learned file that cannot be read: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Learn

// learnDir writes a script (and optionally its learned file) to a temporary folder.
func learnDir(t *testing.T, script, learned string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if learned != "" {
		if err := os.WriteFile(LearnedPath(path), []byte(learned), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func mustLearn(t *testing.T, path string, ch LearnChange, changed bool) LearnResult {
	t.Helper()
	res, err := Learn(path, ch)
	if err != nil {
		t.Fatalf("Learn %+v: %v", ch, err)
	}
	if res.Changed != changed {
		t.Errorf("Learn %+v: changed %v, want %v", ch, res.Changed, changed)
	}
	if res.Script == nil || res.Path != LearnedPath(path) {
		t.Errorf("Learn %+v: result %+v", ch, res)
	}
	return res
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTempFiles checks that Learn left nothing but the script and its learned file.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "script.yaml" && e.Name() != "script.learned.yaml" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestLearnAddsAndNoOps(t *testing.T) {
	path := learnDir(t, learnScript, "")
	lp := LearnedPath(path)
	before := readFile(t, path)

	res := mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "billing", Phrase: " why is my bill so much higher this month "}, true)
	intentHas(t, res.Script, "billing", []string{"bill"}, []string{"why is my bill so high", "why is my bill so much higher this month"})
	got := readFile(t, lp)
	for _, want := range []string{"# Learned by hotline from unanswered questions", "# Staff may edit this file",
		"intents:\n  billing:\n    examples: [\"why is my bill so much higher this month\"]\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("learned file lacks %q:\n%s", want, got)
		}
	}
	if info, err := os.Stat(lp); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("learned file mode: %v %v", info.Mode(), err)
	}

	// Already there (also after normalisation, also in the script itself): no-ops that write nothing.
	for _, ch := range []LearnChange{
		{Kind: LearnExample, Intent: "billing", Phrase: "Why is my bill so much higher this month?"},
		{Kind: LearnExample, Intent: "billing", Phrase: "why is my bill so high"},
		{Kind: LearnKeyword, Intent: "billing", Phrase: "Bills"},
		{Kind: LearnKeyword, Intent: "hours", Phrase: "opening hours"},
	} {
		mustLearn(t, path, ch, false)
	}
	if readFile(t, lp) != got {
		t.Errorf("a no-op changed the learned file:\n%s", readFile(t, lp))
	}

	res = mustLearn(t, path, LearnChange{Kind: LearnKeyword, Intent: "billing", Phrase: "bill shock"}, true)
	intentHas(t, res.Script, "billing", []string{"bill", "bill shock"}, []string{"why is my bill so high", "why is my bill so much higher this month"})
	parking := LearnChange{Kind: LearnAnswer, Intent: "parking", Keywords: []string{"parking"}, Examples: []string{"where can I park"},
		Say: "There is free parking behind the building."}
	res = mustLearn(t, path, parking, true)
	intentHas(t, res.Script, "parking", []string{"parking"}, []string{"where can I park"})
	mustLearn(t, path, parking, false)
	// Teaching a learned answer's intent goes into its entry.
	res = mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "parking", Phrase: "is there a car park"}, true)
	want := `# Learned by hotline from unanswered questions (hotline unanswered assign, the admin page).
# Staff may edit this file; hotline adds to it. The script itself is not changed.
intents:
  billing:
    examples: ["why is my bill so much higher this month"]
    keywords: [bill shock]
answers: # new answer-library entries: a new intent and its scripted answer
  parking:
    keywords: [parking]
    examples: ["where can I park", "is there a car park"]
    say: "There is free parking behind the building."
`
	if got := readFile(t, lp); got != want {
		t.Errorf("learned file:\n%s\nwant:\n%s", got, want)
	}
	if readFile(t, path) != before {
		t.Error("Learn changed the script itself")
	}
	noTempFiles(t, filepath.Dir(path))
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != res.Script.Version {
		t.Error("LearnResult.Script is not the script as it loads now")
	}
}

func TestLearnRejects(t *testing.T) {
	const staff = "# Staff wrote this by hand.\nintents:\n  hours:\n    examples: [\"when do you close\"]   # from Monday's calls\n"
	for _, c := range []struct {
		name    string
		learned string // "" for no learned file
		ch      LearnChange
		code    string
	}{
		{"unknown intent", staff, LearnChange{Kind: LearnExample, Intent: "bilings", Phrase: "how much do I owe"}, "unknown-intent"},
		{"unknown intent, no file yet", "", LearnChange{Kind: LearnKeyword, Intent: "nope", Phrase: "x"}, "unknown-intent"},
		{"keyword of another intent", staff, LearnChange{Kind: LearnKeyword, Intent: "billing", Phrase: "Opening Hours"}, "learned-conflict"},
		{"example of another intent", "", LearnChange{Kind: LearnExample, Intent: "hours", Phrase: "why is my bill so high"}, "learned-conflict"},
		{"example of another intent, learned", staff, LearnChange{Kind: LearnExample, Intent: "billing", Phrase: "When do you close?"}, "learned-conflict"},
		{"answer named like an intent", staff, LearnChange{Kind: LearnAnswer, Intent: "hours", Keywords: []string{"schedule"}, Say: "Nine to six."}, "learned-exists"},
		{"answer keyword taken", staff, LearnChange{Kind: LearnAnswer, Intent: "parking", Keywords: []string{"bill"}, Say: "Free."}, "learned-conflict"},
		{"answer name", "", LearnChange{Kind: LearnAnswer, Intent: "car park", Keywords: []string{"parking"}, Say: "Free."}, "bad-name"},
		{"answer template", "", LearnChange{Kind: LearnAnswer, Intent: "parking", Keywords: []string{"parking"}, Say: "Free {{"}, "bad-template"},
		{"empty phrase", staff, LearnChange{Kind: LearnExample, Intent: "billing", Phrase: "?!"}, "empty-example"},
		{"empty keyword", staff, LearnChange{Kind: LearnKeyword, Intent: "billing", Phrase: "…"}, "empty-keyword"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := learnDir(t, learnScript, c.learned)
			lp := LearnedPath(path)
			res, err := Learn(path, c.ch)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want a *LoadError, got %v", err)
			}
			if res.Changed || res.Script != nil {
				t.Errorf("rejected, yet %+v", res)
			}
			found, elsewhere := false, false
			for _, d := range res.Diags.Errors() {
				found = found || d.Code == c.code && d.Pos.File == lp && d.Pos.Line > 0
				elsewhere = elsewhere || d.Pos.File != lp
			}
			if !found || elsewhere {
				t.Errorf("want one %s in %s, got:\n%s", c.code, lp, le.Error())
			}
			if c.learned == "" {
				if _, err := os.Stat(lp); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a rejected change created the learned file: %v", err)
				}
			} else if got := readFile(t, lp); got != c.learned {
				t.Errorf("a rejected change touched the learned file:\n%s", got)
			}
			noTempFiles(t, filepath.Dir(path))
		})
	}
	// Changes that say nothing are refused before anything is read.
	path := learnDir(t, learnScript, "")
	for _, ch := range []LearnChange{
		{Kind: LearnExample, Intent: "billing", Phrase: "  "},
		{Kind: LearnExample, Phrase: "hello"},
		{Kind: "synonym", Intent: "billing", Phrase: "invoice"},
		{Kind: LearnAnswer, Intent: "parking", Say: "Free."},
		{Kind: LearnAnswer, Intent: "parking", Keywords: []string{"parking"}, Say: " "},
	} {
		if res, err := Learn(path, ch); err == nil || res.Changed {
			t.Errorf("Learn %+v: want an error, got %+v", ch, res)
		}
	}
	// A script that does not load takes no lessons.
	path = learnDir(t, strings.Replace(learnScript, "start: welcome", "start: welcom", 1), "")
	if res, err := Learn(path, LearnChange{Kind: LearnExample, Intent: "billing", Phrase: "my bill"}); err == nil || len(res.Diags) == 0 {
		t.Errorf("broken script: want its errors, got %+v, %v", res, err)
	}
	if _, err := os.Stat(LearnedPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Error("learned file written for a broken script")
	}
}

// TestLearnKeepsStaffEdits: comments, order and what staff wrote stay.
func TestLearnKeepsStaffEdits(t *testing.T) {
	const staff = `# Learned by hotline from unanswered questions (hotline unanswered assign, the admin page).
# Staff may edit this file; hotline adds to it. The script itself is not changed.

# Reviewed by Ann, March.
answers: # answers first: Ann likes it that way
  parking:
    # the car park opens at eight
    keywords: [parking]
    say: "There is free parking behind the building." # checked with facilities
intents:
  hours: [when do you open]   # short form
  billing:
    examples:
      - "why is my bill so much higher this month"   # a common one
`
	path := learnDir(t, learnScript, staff)
	mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "billing", Phrase: "my bill doubled"}, true)
	mustLearn(t, path, LearnChange{Kind: LearnKeyword, Intent: "hours", Phrase: "closing time"}, true)
	mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "hours", Phrase: "are you open on sunday"}, true)
	mustLearn(t, path, LearnChange{Kind: LearnKeyword, Intent: "parking", Phrase: "car park"}, true)
	mustLearn(t, path, LearnChange{Kind: LearnKeyword, Intent: "agent", Phrase: "a real person"}, true)
	got := readFile(t, LearnedPath(path))
	want := `# Learned by hotline from unanswered questions (hotline unanswered assign, the admin page).
# Staff may edit this file; hotline adds to it. The script itself is not changed.

# Reviewed by Ann, March.
answers: # answers first: Ann likes it that way
  parking:
    # the car park opens at eight
    keywords: [parking, car park]
    say: "There is free parking behind the building." # checked with facilities
intents:
  hours: # short form
    keywords: [when do you open, closing time]
    examples: ["are you open on sunday"]
  billing:
    examples:
      - "why is my bill so much higher this month" # a common one
      - "my bill doubled"
  agent:
    keywords: [a real person]
`
	if got != want {
		t.Errorf("learned file:\n%s\nwant:\n%s", got, want)
	}
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	intentHas(t, s, "hours", []string{"opening hours", "when do you open", "closing time"}, []string{"are you open on sunday"})
}

// TestLearnChinese: a Chinese script gets a Chinese header, and Chinese names.
func TestLearnChinese(t *testing.T) {
	script := `name: 网店
language: zh-CN
start: welcome
intents:
  agent: {keywords: [人工], dtmf: "0", handoff: true}
  退款: {keywords: [退款], dtmf: "1"}
global: [agent]
answers:
  退款: "退款会在三到五个工作日内原路退回。"
after_answer: welcome
nodes:
  welcome:
    say: "本次通话将被录音。请问有什么可以帮您?"
    listen: {}
  agent:
    say: "正在为您转接。"
    transfer: {to: "sip:kefu@pbx.example", on_fail: welcome}
`
	path := learnDir(t, script, "")
	mustLearn(t, path, LearnChange{Kind: LearnAnswer, Intent: "停车", Keywords: []string{"停车", "车位"}, Examples: []string{"附近有地方停车吗"},
		Say: "大楼后面有免费停车场。"}, true)
	mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "退款", Phrase: "钱什么时候能回来"}, true)
	mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "退款", Phrase: "錢什麼時候能回來"}, false) // Traditional: the same
	got := readFile(t, LearnedPath(path))
	for _, want := range []string{"# 由 hotline 从未能回答的问题中学到", "# 工作人员可以编辑本文件", "answers: # 新的答案库条目",
		"  停车:\n    keywords: [停车, 车位]\n    examples: [\"附近有地方停车吗\"]\n    say: \"大楼后面有免费停车场。\"\n",
		"intents:\n  退款:\n    examples: [\"钱什么时候能回来\"]\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("learned file lacks %q:\n%s", want, got)
		}
	}
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dial(t, s, CallInfo{})
	wantSpoken(t, c.say("请问附近哪里有车位"), "大楼后面有免费停车场。", "本次通话将被录音。请问有什么可以帮您?")
}

// TestLearnQuotesAwkwardWords: phrases YAML would misread come back as written.
func TestLearnQuotesAwkwardWords(t *testing.T) {
	path := learnDir(t, strings.Replace(learnScript, `"yes"`, `"yes"`, 1), "")
	for _, kw := range []string{"no", "yes please", "on", "123", "#1", "a: b", "- dash", "*star", "it's", "null", "[x]", "\"quoted\""} {
		mustLearn(t, path, LearnChange{Kind: LearnKeyword, Intent: "agent", Phrase: kw}, true)
	}
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"agent", "no", "yes please", "on", "123", "#1", "a: b", "- dash", "*star", "it's", "null", "[x]", "\"quoted\""}
	if got := s.IntentByName("agent").Keywords; !slices.Equal(got, want) {
		t.Errorf("keywords %q, want %q\n%s", got, want, readFile(t, LearnedPath(path)))
	}
}

// TestLearnConcurrent: 20 Learn calls at once all land.
func TestLearnConcurrent(t *testing.T) {
	path := learnDir(t, learnScript, "")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := LearnChange{Kind: LearnExample, Intent: "billing", Phrase: fmt.Sprintf("question number %d about my statement", i)}
			if i%2 == 1 {
				ch = LearnChange{Kind: LearnKeyword, Intent: "hours", Phrase: fmt.Sprintf("timetable %d", i)}
			}
			res, err := Learn(path, ch)
			if err == nil && !res.Changed {
				err = fmt.Errorf("%+v: not changed", ch)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	billing, hours := s.IntentByName("billing"), s.IntentByName("hours")
	if len(billing.Examples) != 1+10 || len(hours.Keywords) != 1+10 {
		t.Errorf("examples %q, keywords %q: want 10 more of each", billing.Examples, hours.Keywords)
	}
	for i := range 20 {
		if i%2 == 0 && !slices.Contains(billing.Examples, fmt.Sprintf("question number %d about my statement", i)) ||
			i%2 == 1 && !slices.Contains(hours.Keywords, fmt.Sprintf("timetable %d", i)) {
			t.Errorf("change %d lost", i)
		}
	}
	if !strings.HasPrefix(readFile(t, LearnedPath(path)), "# Learned by hotline") {
		t.Error("header lost")
	}
	noTempFiles(t, filepath.Dir(path))
}

// TestLearnThenMatch: a question the bot could not answer is answered once
// staff assigned it to an intent and the script is loaded again.
func TestLearnThenMatch(t *testing.T) {
	path := learnDir(t, learnScript, "")
	const question = "the amount you took from my account is wrong"
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dial(t, s, CallInfo{})
	acts := c.say(question)
	if u := heard(t, acts); u.Outcome != "no_match" {
		t.Fatalf("before Learn: %q matched %s (%s)", question, u.Result.Intent, u.Outcome)
	}
	mustLearn(t, path, LearnChange{Kind: LearnExample, Intent: "billing", Phrase: question}, true)
	s, err = LoadFile(path) // what a reload does
	if err != nil {
		t.Fatal(err)
	}
	c, _ = dial(t, s, CallInfo{})
	acts = c.say(question)
	if u := heard(t, acts); u.Outcome != "matched" || u.Result.Intent != "billing" {
		t.Fatalf("after Learn: %q → %s %q", question, u.Outcome, u.Result.Intent)
	}
	wantSpoken(t, acts, "Bills go out on the first of the month.", "Anything else?")
	// A new answer, too.
	const parking = "where do I leave my car"
	if u := heard(t, c.say(parking)); u.Outcome != "no_match" {
		t.Fatalf("before Learn: %q matched %s", parking, u.Result.Intent)
	}
	mustLearn(t, path, LearnChange{Kind: LearnAnswer, Intent: "parking", Examples: []string{parking}, Say: "Behind the building."}, true)
	if s, err = LoadFile(path); err != nil {
		t.Fatal(err)
	}
	c, _ = dial(t, s, CallInfo{})
	wantSpoken(t, c.say(parking), "Behind the building.", "Anything else?")
}

// FuzzLearnedFile feeds arbitrary learned files to the loader beside a fixed
// script, and edits the ones that load: no panic, every diagnostic has a
// place, and an edited file still parses.
func FuzzLearnedFile(f *testing.F) {
	for _, seed := range []string{
		"intents:\n  billing:\n    examples: [\"why so high\"]\n    keywords: [bill shock]\n",
		"answers:\n  parking: {keywords: [parking], say: \"Free.\"}\n",
		"intents: {hours: [when], billing: ~}\nanswers: {x: {examples: [a], say: [b, {text: c}], tag: t, next: welcome}}\n",
		"# only a comment\n", "intents: &a {billing: *a}\n", "answers: [1, 2]\n",
	} {
		f.Add([]byte(seed))
	}
	if b, err := os.ReadFile("testdata/broken/learned.learned.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"script.yaml": {Data: []byte(learnScript)}, "script.learned.yaml": {Data: data}}
		_, err := Load(FSSource{FS: fsys}, "script.yaml")
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || !le.Diags.HasErrors() {
				t.Fatalf("error without diagnostics: %v", err)
			}
			for _, d := range le.Diags {
				if d.Pos.File == "" {
					t.Fatalf("diagnostic without a file: %v", d)
				}
			}
			return
		}
		for _, ch := range []LearnChange{
			{Kind: LearnExample, Intent: "billing", Phrase: "my bill doubled"},
			{Kind: LearnKeyword, Intent: "hours", Phrase: "timetable"},
			{Kind: LearnAnswer, Intent: "wifi", Keywords: []string{"wifi"}, Say: "No wifi."},
		} {
			out, err := learnedContent(data, ch, "en")
			if err != nil {
				continue // a shape Learn does not edit (it says so)
			}
			fsys["script.learned.yaml"] = &fstest.MapFile{Data: out}
			if _, err := Load(FSSource{FS: fsys}, "script.yaml"); err != nil {
				var le *LoadError
				if !errors.As(err, &le) {
					t.Fatalf("edited file: %v", err)
				}
				for _, d := range le.Diags {
					if d.Code == "yaml-syntax" {
						t.Fatalf("edited file does not parse: %v\n%s", d, out)
					}
				}
			}
		}
	})
}
