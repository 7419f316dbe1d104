package match

import (
	"strings"
	"testing"
)

func checkResult(t *testing.T, m *Matcher, r Result) {
	t.Helper()
	if r.Matched() {
		if r.Index >= m.Len() || r.Intent == "" || r.Score < m.Threshold() || r.Score > 1 {
			t.Fatalf("bad match: %+v", r)
		}
	} else if r.Index != -1 || r.Reason == "" {
		t.Fatalf("bad no-match: %+v", r)
	}
	for _, c := range r.Candidates {
		if c.Score < 0 || c.Score > 1 || c.Index < 0 || c.Index >= m.Len() {
			t.Fatalf("bad candidate: %+v", c)
		}
	}
	_ = r.Explain()
}

// FuzzMatch throws arbitrary utterances at a realistic matcher.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"我想退款", "不要人工", "I don't want an agent", "ＯＲＤＥＲ", "退宽", "营业时是",
		"一二三四五六", "\xff\xfe", "", "。,,!", "no no no agent", strings.Repeat("退款", 200)} {
		f.Add(s)
	}
	m, err := Compile(shopIntents(), allTiers)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkResult(t, m, m.Match(text, m.All()))
		checkResult(t, m, m.MatchDigits(text, m.All()))
	})
}

// FuzzCompile builds matchers from arbitrary keywords, exclusions and examples.
func FuzzCompile(f *testing.F) {
	f.Add("退款", "不退", "我要退钱", "我想退款")
	f.Add("a person", "no", "talk to someone", "i want a person")
	f.Add("", "", "", "")
	f.Add("不要", "不要不要", "不要不要不要", "不要不要不要不要")
	f.Fuzz(func(t *testing.T, kw, excl, example, text string) {
		m, err := Compile([]Intent{
			{Name: "a", Keywords: []string{kw, kw + kw}, Exclude: []string{excl}, Examples: []string{example}, Negation: true},
			{Name: "b", Keywords: []string{excl}, Examples: []string{kw}, Handoff: true},
		}, Options{Pinyin: true, Examples: true, Synonyms: [][]string{{kw, example}, {excl, text}}})
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, m, m.Match(text, m.All()))
		checkResult(t, m, m.Match(kw, m.All()))
	})
}
