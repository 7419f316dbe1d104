package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// uaEnv clears the environment the unanswered commands read.
func uaEnv(t *testing.T) {
	for _, k := range []string{"HOTLINE_DATA", "HOTLINE_DB", "HOTLINE_SCRIPT", "HOTLINE_CONFIG"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOTLINE_LANG", "en")
}

// uaSeeded is a store with unanswered questions, as hotline serve leaves it.
type uaSeeded struct {
	args   []string // --data DIR or --db URL
	data   string
	groups map[string]int64 // by representative question
}

// uaSeed stores questions through the grouper: three wordings of "when do
// you shut" (one from a recorded call), one about solar panels, one in Chinese.
func uaSeed(t *testing.T, dsn string) uaSeeded {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	s := uaSeeded{data: data, groups: map[string]int64{}}
	if dsn == "" {
		dsn = filepath.Join(data, "hotline.db")
		s.args = []string{"--data", data}
	} else {
		s.args = []string{"--db", dsn, "--data", data}
	}
	st, err := store.Open(ctx, dsn, store.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().Add(-time.Hour)
	if err := st.StartCall(ctx, store.Call{ID: "call-1", StartedAt: now, AnsweredAt: now, Language: "en-GB"}); err != nil {
		t.Fatal(err)
	}
	g := learn.NewGrouper(learn.GrouperOptions{})
	for i, q := range []store.Question{
		{CallID: "call-1", Node: "welcome", Text: "when do you shut", Language: "en-GB", Audio: "questions/call-1-2.wav", Intent: "balance", Score: 0.17},
		{Text: "When do you shut?", Language: "en-GB", Node: "anything_else"},
		{Text: "what time do you shut", Language: "en-GB"},
		{Text: "do you install solar panels", Language: "en-GB"},
		{Text: "可以用花呗付款吗", Language: "zh-CN"},
	} {
		q.At = now.Add(time.Duration(i) * time.Minute)
		stored, err := g.Add(ctx, st, q)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.groups[q.Text]; !ok {
			s.groups[q.Text] = stored.GroupID
		}
	}
	if s.groups["when do you shut"] != s.groups["what time do you shut"] {
		t.Fatalf("seed: paraphrases not grouped: %v", s.groups)
	}
	return s
}

func (s uaSeeded) id(text string) string { return strconv.FormatInt(s.groups[text], 10) }

func (s uaSeeded) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return run(t, "", append(append([]string{"unanswered"}, args...), s.args...)...)
}

// uaCopyExample copies examples/NAME into a temporary folder and returns its script.
func uaCopyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "script.yaml")
}

func uaMatch(t *testing.T, script, text string) string {
	t.Helper()
	s, err := dialog.LoadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Matcher()
	return m.Match(text, m.All()).Intent
}

func TestUnansweredList(t *testing.T) {
	uaEnv(t)
	s := uaSeed(t, "")
	out, code := s.run(t, "list")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(lines[0], "COUNT") || !strings.Contains(lines[1], "when do you shut / what time do you shut") ||
		!strings.Contains(lines[1], " 3 ") || !strings.Contains(out, "hotline unanswered show ID") {
		t.Errorf("table:\n%s", out)
	}

	out, code = s.run(t, "list", "--format", "json")
	var page learn.Page
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	if page.Total != 3 || len(page.Groups) != 3 || page.Groups[0].Count != 3 || page.Groups[0].Text != "when do you shut" ||
		page.Groups[0].Status != "open" || page.Groups[0].FirstAt.IsZero() {
		t.Errorf("json: %+v", page)
	}

	out, code = s.run(t, "list", "--format", "csv", "--language", "zh-CN")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 2 || recs[0][0] != "id" || recs[1][6] != "可以用花呗付款吗" {
		t.Errorf("csv: exit %d %v\n%s", code, err, out)
	}

	out, _ = s.run(t, "list", "--limit", "1")
	if !strings.Contains(out, "1 of 3 groups (--offset 1") {
		t.Errorf("paging:\n%s", out)
	}
	if out, _ := s.run(t, "list", "--since", "1d", "--status", "all", "--format", "json"); !strings.Contains(out, `"total": 3`) {
		t.Errorf("--since 1d:\n%s", out)
	}
	future := time.Now().AddDate(0, 0, 2).Format("2006-01-02")
	if out, code := s.run(t, "list", "--since", future); code != 0 || !strings.Contains(out, "no open groups") {
		t.Errorf("--since %s: exit %d\n%s", future, code, out)
	}
	if out, _ := s.run(t, "list", "--status", "ignored", "--lang", "zh"); !strings.Contains(out, "没有已忽略的未回答问题") {
		t.Errorf("zh, empty:\n%s", out)
	}
	if out, _ := s.run(t, "list", "--lang", "zh"); !strings.Contains(out, "次数") || !strings.Contains(out, "待处理") {
		t.Errorf("zh:\n%s", out)
	}

	for _, args := range [][]string{{"list", "--status", "closed"}, {"list", "--format", "xml"}, {"list", "--since", "last week"},
		{"list", "--limit", "0"}, {"list", "extra"}, {"list", "--bogus"}} {
		if out, code := s.run(t, args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d\n%s", args, code, out)
		}
	}
	// No database where one is expected: a usage error (as for hotline calls), and no empty database made.
	empty := t.TempDir()
	out, code = run(t, "", "unanswered", "list", "--data", empty)
	if code != 2 || !strings.Contains(out, "no hotline database in "+empty) {
		t.Errorf("empty data dir: exit %d\n%s", code, out)
	}
	if _, code := run(t, "", "unanswered", "list", "--db", filepath.Join(empty, "other.db")); code != 2 {
		t.Errorf("--db to a missing SQLite file: exit %d", code)
	}
	for _, f := range []string{"hotline.db", "other.db"} {
		if _, err := os.Stat(filepath.Join(empty, f)); err == nil {
			t.Errorf("list created %s", f)
		}
	}
}

func TestUnansweredShow(t *testing.T) {
	uaEnv(t)
	s := uaSeed(t, "")
	id := s.id("when do you shut")
	out, code := s.run(t, "show", id)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{`Group ` + id + `: "when do you shut"`, "asked 3 times", "call-1", "welcome", "balance 0.17",
		filepath.Join(s.data, "questions", "call-1-2.wav"), "What time do you shut"[1:], "hotline unanswered assign " + id} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, code = s.run(t, "show", id, "--format", "json")
	var d learn.Detail
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	if d.Group.Count != 3 || len(d.Questions) != 3 || d.Questions[0].CallID != "call-1" || d.Questions[1].Node != "anything_else" ||
		d.Questions[0].AudioFile == "" || d.Questions[0].At.IsZero() {
		t.Errorf("json: %+v", d)
	}
	out, code = s.run(t, "show", id, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 4 || recs[1][3] != "call-1" {
		t.Errorf("csv: exit %d %v\n%s", code, err, out)
	}
	if out, _ := s.run(t, "show", id, "--lang", "zh"); !strings.Contains(out, "问过 3 次") {
		t.Errorf("zh:\n%s", out)
	}
	if out, code := s.run(t, "show", "99999"); code != 1 || !strings.Contains(out, "no group 99999") {
		t.Errorf("missing group: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"show"}, {"show", "abc"}, {"show", "0"}, {"show", "1", "2"}, {"show", id, "--format", "yaml"}} {
		if out, code := s.run(t, args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d\n%s", args, code, out)
		}
	}
}

func TestUnansweredAssign(t *testing.T) {
	uaEnv(t)
	s := uaSeed(t, "")
	script := uaCopyExample(t, "en-utility")
	learned := dialog.LearnedPath(script)
	id := s.id("when do you shut")
	if got := uaMatch(t, script, "when do you shut"); got != "" {
		t.Fatalf("before: matches %s", got)
	}

	// Usage errors: no intent, a bad --as, no script (the built-in demo), a script that is not there.
	for _, args := range [][]string{{"assign", id, "--script", script}, {"assign", id, "--intent", "x", "--as", "synonym", "--script", script},
		{"assign", "x", "--intent", "opening_hours", "--script", script}, {"assign", id, "--intent", "opening_hours"},
		{"assign", id, "--intent", "opening_hours", "--script", script + ".nope"}} {
		if out, code := s.run(t, args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d\n%s", args, code, out)
		}
	}
	out, _ := s.run(t, "assign", id, "--intent", "opening_hours")
	if !strings.Contains(out, "--script") || !strings.Contains(out, "built-in demo") {
		t.Errorf("no script should explain itself:\n%s", out)
	}
	if out, _ := s.run(t, "assign", id, "--intent", "opening_hours", "--lang", "zh"); !strings.Contains(out, "内置演示脚本") {
		t.Errorf("no script, zh:\n%s", out)
	}

	// Rejected: an intent the script does not have. Exit 1, no file, the group open.
	out, code := s.run(t, "assign", id, "--intent", "closing_time", "--script", script)
	if code != 1 || !strings.Contains(out, "change rejected") || !strings.Contains(out, "unknown-intent") {
		t.Errorf("unknown intent: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(learned); err == nil {
		t.Error("a rejected change wrote the learned file")
	}

	out, code = s.run(t, "assign", id, "--intent", "opening_hours", "--script", script, "--by", "alice")
	if code != 0 || !strings.Contains(out, `group `+id+` assigned to intent "opening_hours"`) || !strings.Contains(out, learned) ||
		!strings.Contains(out, "reloads it by itself") {
		t.Fatalf("assign: exit %d\n%s", code, out)
	}
	if got := uaMatch(t, script, "when do you shut"); got != "opening_hours" {
		t.Errorf("after assigning: matches %q", got)
	}
	out, code = s.run(t, "assign", id, "--intent", "billing", "--script", script)
	if code != 1 || !strings.Contains(out, "already assigned") || !strings.Contains(out, "by alice") {
		t.Errorf("assigning twice: exit %d\n%s", code, out)
	}
	out, code = s.run(t, "list", "--status", "assigned")
	if code != 0 || !strings.Contains(out, "INTENT") || !strings.Contains(out, "opening_hours") {
		t.Errorf("assigned list:\n%s", out)
	}

	// --as keyword with --phrase, read from --config, JSON out.
	before, _ := os.ReadFile(learned)
	cfg := filepath.Join(t.TempDir(), "hotline.yaml")
	body := fmt.Sprintf("listen: [\"udp:127.0.0.1:5060\"]\ndata: %s\nscript: %s\nmax_calls: 10\n", s.data, script)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	solar := s.id("do you install solar panels")
	out, code = run(t, "", "unanswered", "assign", solar, "--intent", "outage", "--as", "keyword", "--phrase", "solar panels",
		"--config", cfg, "--format", "json")
	var res learn.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("--config --format json: exit %d\n%s", code, out)
	}
	if !res.Changed || res.Learned != learned || res.Kind != "keyword" || res.Phrase != "solar panels" || res.Group.Status != "assigned" {
		t.Errorf("json: %+v", res)
	}
	after, _ := os.ReadFile(learned)
	if bytes.Equal(before, after) || !strings.Contains(string(after), "solar panels") {
		t.Errorf("learned file:\n%s", after)
	}
	// HOTLINE_CONFIG works like --config; a flag wins over it.
	t.Setenv("HOTLINE_CONFIG", cfg)
	if out, code := run(t, "", "unanswered", "list", "--status", "all", "--format", "json"); code != 0 || !strings.Contains(out, `"total": 3`) {
		t.Errorf("HOTLINE_CONFIG: exit %d\n%s", code, out)
	}
	if _, code := run(t, "", "unanswered", "list", "--data", t.TempDir()); code != 2 {
		t.Errorf("--data over HOTLINE_CONFIG: exit %d", code)
	}
	if out, code := run(t, "", "unanswered", "list", "--config", filepath.Join(t.TempDir(), "none.yaml")); code != 2 {
		t.Errorf("missing --config: exit %d\n%s", code, out)
	}
}

func TestUnansweredAnswer(t *testing.T) {
	uaEnv(t)
	s := uaSeed(t, "")
	script := uaCopyExample(t, "en-utility")
	id := s.id("do you install solar panels")
	for _, args := range [][]string{{"answer", id, "--name", "solar", "--script", script}, {"answer", id, "--say", "x", "--script", script},
		{"answer", id, "--name", "solar", "--say", "x"}, {"answer", "--name", "solar", "--say", "x", "--script", script}} {
		if out, code := s.run(t, args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d\n%s", args, code, out)
		}
	}
	out, code := s.run(t, "answer", id, "--name", "opening_hours", "--say", "We fit them.", "--script", script)
	if code != 1 || !strings.Contains(out, "learned-exists") {
		t.Errorf("answer named like an intent: exit %d\n%s", code, out)
	}
	out, code = s.run(t, "answer", id, "--name", "solar_panels", "--say", "We don't fit solar panels.", "--keyword", "solar panel",
		"--example", "can you put solar panels on my roof", "--script", script, "--format", "json")
	var res learn.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("answer: exit %d\n%s", code, out)
	}
	if res.Kind != "answer" || res.Intent != "solar_panels" || res.Group.Intent != "solar_panels" || !res.Changed {
		t.Errorf("json: %+v", res)
	}
	if got := uaMatch(t, script, "do you install solar panels"); got != "solar_panels" {
		t.Errorf("after: matches %q", got)
	}
	out, code = s.run(t, "answer", s.id("可以用花呗付款吗"), "--name", "huabei", "--say", "We take cards.", "--script", script, "--lang", "zh")
	if code != 0 || !strings.Contains(out, "新答案") || !strings.Contains(out, "自动重新加载") {
		t.Errorf("zh answer: exit %d\n%s", code, out)
	}
}

func TestUnansweredIgnore(t *testing.T) {
	uaEnv(t)
	s := uaSeed(t, "")
	id := s.id("可以用花呗付款吗")
	out, code := s.run(t, "ignore", id, "--reason", "not our business", "--by", "bob", "--format", "json")
	var res learn.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("ignore: exit %d\n%s", code, out)
	}
	if res.Group.Status != "ignored" || res.Group.Resolution != "not our business" || res.Group.ResolvedBy != "bob" {
		t.Errorf("json: %+v", res)
	}
	if out, code := s.run(t, "ignore", id); code != 0 || !strings.Contains(out, "group "+id+" ignored") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
	out, _ = s.run(t, "list", "--status", "ignored", "--format", "json")
	if !strings.Contains(out, `"total": 1`) {
		t.Errorf("ignored list:\n%s", out)
	}
	script := uaCopyExample(t, "en-utility")
	shut := s.id("when do you shut")
	if _, code := s.run(t, "assign", shut, "--intent", "opening_hours", "--script", script); code != 0 {
		t.Fatal("assign failed")
	}
	if out, code := s.run(t, "ignore", shut); code != 1 || !strings.Contains(out, "already assigned") {
		t.Errorf("ignoring an assigned group: exit %d\n%s", code, out)
	}
	if out, code := s.run(t, "ignore", "99999"); code != 1 {
		t.Errorf("missing group: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"ignore"}, {"ignore", "-3"}, {"ignore", id, "--format", "csv"}} {
		if out, code := s.run(t, args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d\n%s", args, code, out)
		}
	}
}

func TestUnansweredHelp(t *testing.T) {
	uaEnv(t)
	for _, sub := range []string{"list", "show", "assign", "answer", "ignore"} {
		out, code := run(t, "", "unanswered", sub, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "hotline unanswered "+sub) {
			t.Errorf("%s --help: exit %d\n%s", sub, code, out)
		}
	}
	if out, code := run(t, "", "unanswered"); code != 0 || !strings.Contains(out, "learned file") {
		t.Errorf("unanswered: exit %d\n%s", code, out)
	}
	if out, code := run(t, "", "unanswered", "merge", "1", "2"); code != 2 {
		t.Errorf("unknown subcommand: exit %d\n%s", code, out)
	}
}

// TestUnansweredPostgres runs the inbox on PostgreSQL with --db (skipped
// without HOTLINE_TEST_POSTGRES, except in CI).
func TestUnansweredPostgres(t *testing.T) {
	uaEnv(t)
	s := uaSeed(t, storetest.New(t))
	out, code := s.run(t, "list", "--format", "json")
	if code != 0 || !strings.Contains(out, `"total": 3`) {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	script := uaCopyExample(t, "en-utility")
	id := s.id("when do you shut")
	if out, code := s.run(t, "assign", id, "--intent", "opening_hours", "--script", script); code != 0 {
		t.Fatalf("assign: exit %d\n%s", code, out)
	}
	if out, code := s.run(t, "show", id); code != 0 || !strings.Contains(out, "status assigned") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	if got := uaMatch(t, script, "when do you shut"); got != "opening_hours" {
		t.Errorf("after: %q", got)
	}
}
