package dialog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// The fixtures in testdata/notice are scripts that load; the recording-notice
// lint must report exactly the `# want: no-recording-notice` markers in them,
// with the severity below (an error when the script has a record node).
var noticeSeverity = map[string]Severity{
	"record_missing.yaml": Error,
	"branch.yaml":         Error,
	"http.yaml":           Error,
	"closed.yaml":         Error,
	"zh_english.yaml":     Error,
	"transfer.yaml":       Error,
	"warn_only.yaml":      Warning,
}

func noticeDiags(ds Diags) Diags {
	var out Diags
	for _, d := range ds {
		if d.Code == "no-recording-notice" {
			out = append(out, d)
		}
	}
	return out
}

func noticeFixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/notice/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/notice: %v", err)
	}
	return files
}

func TestRecordingNoticeFixtures(t *testing.T) {
	for _, fixture := range noticeFixtures(t) {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			s, err := LoadFile(fixture)
			if err != nil {
				t.Fatalf("notice fixture must load: %v", err)
			}
			ds := noticeDiags(LintWith(s, func(string) bool { return true }))
			var want []planted
			for _, m := range markers(t, fixture) {
				if m.Code == "no-recording-notice" {
					want = append(want, m)
				}
			}
			missing, extra := diffPlanted(want, reported(ds))
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("differs from the planted ones:%s", describeDiff(ds, missing, extra))
			}
			sev, ok := noticeSeverity[filepath.Base(fixture)]
			if len(want) > 0 && !ok {
				t.Fatalf("add %s to noticeSeverity", filepath.Base(fixture))
			}
			for _, d := range ds {
				if d.Severity != sev {
					t.Errorf("%s: severity %s, want %s", d, d.Severity, sev)
				}
			}
		})
	}
}

// TestRecordingNoticeMessage: the message names the node that asks and the
// way there, in English and Chinese, and says how to fix it.
func TestRecordingNoticeMessage(t *testing.T) {
	s, err := LoadFile("testdata/notice/branch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds := noticeDiags(Lint(s))
	if len(ds) != 1 {
		t.Fatalf("want one no-recording-notice, got %v", ds)
	}
	d := ds[0]
	if d.Pos.String() != "testdata/notice/branch.yaml:9:3" {
		t.Errorf("reported at %s, want the start node (testdata/notice/branch.yaml:9:3)", d.Pos)
	}
	en, zh := d.Format("en"), d.Format("zh")
	for _, want := range []string{`node "ask"`, "intro → quiet → ask", "this call is recorded", "recording_notice", "records messages", "error:"} {
		if !strings.Contains(en, want) {
			t.Errorf("English message lacks %q: %s", want, en)
		}
	}
	for _, want := range []string{`节点 "ask"`, "intro → quiet → ask", "本次通话将被录音", "recording_notice", "录制留言", "错误"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese message lacks %q: %s", want, zh)
		}
	}
	s, err = LoadFile("testdata/notice/warn_only.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds = noticeDiags(Lint(s))
	if len(ds) != 1 || !strings.Contains(ds[0].Message("en"), "records every call by default") ||
		!strings.Contains(ds[0].Message("zh"), "默认为每通电话录音") {
		t.Errorf("the warning should say why: %v", ds)
	}
}

// TestRecordingNoticeExamples: the example hotlines tell their callers; take
// the sentence out of an opening and lint fails with an error there.
func TestRecordingNoticeExamples(t *testing.T) {
	for _, c := range []struct{ script, notice, instead, node string }{
		{"en-utility/script.yaml", "assistant,\n      and this call is recorded.", "assistant.", "welcome"},
		{"en-utility/script.yaml", "assistant, and this call is recorded.\n", "assistant.\n", "after_hours"},
		{"zh-shop/script.yaml", "本次通话将被录音。\"\n    next: menu", "\"\n    next: menu", "welcome"},
		{"zh-shop/script.yaml", "本次通话将被录音。\"\n      - \"现在", "\"\n      - \"现在", "after_hours"},
	} {
		fsys := fstest.MapFS{}
		for _, name := range []string{c.script, filepath.Dir(c.script) + "/answers.yaml"} {
			data, err := os.ReadFile(filepath.Join("..", "examples", name))
			if err != nil {
				t.Fatal(err)
			}
			fsys[name] = &fstest.MapFile{Data: data}
		}
		s, err := Load(FSSource{FS: fsys}, c.script)
		if err != nil {
			t.Fatal(err)
		}
		if ds := noticeDiags(Lint(s)); len(ds) > 0 {
			t.Fatalf("%s as it is: %v", c.script, ds)
		}
		src := string(fsys[c.script].Data)
		if strings.Count(src, c.notice) != 1 {
			t.Fatalf("%s no longer says %q once", c.script, c.notice)
		}
		fsys[c.script] = &fstest.MapFile{Data: []byte(strings.Replace(src, c.notice, c.instead, 1))}
		if s, err = Load(FSSource{FS: fsys}, c.script); err != nil {
			t.Fatal(err)
		}
		ds := noticeDiags(Lint(s))
		if len(ds) != 1 || ds[0].Severity != Error || ds[0].Pos != s.Nodes[c.node].Pos {
			t.Errorf("%s without the notice in %s: want one error at that node, got %v", c.script, c.node, ds)
		}
	}
}

// TestRecordingNoticeLaterPromptsDoNotCount: a notice after the first
// question comes too late.
func TestRecordingNoticeLaterPromptsDoNotCount(t *testing.T) {
	s := mustParse(t, `name: later
language: en-US
start: welcome
intents:
  agent: {keywords: [agent], dtmf: "0", handoff: true}
global: [agent]
nodes:
  welcome:
    say: "How can I help?"
    listen: {}
  agent:
    say: "This call is recorded. Leave a message."
    record: true
`)
	ds := noticeDiags(Lint(s))
	if len(ds) != 1 || ds[0].Severity != Error || ds[0].Pos != s.Nodes["welcome"].Pos {
		t.Errorf("want an error at welcome, got %v", ds)
	}
}

// TestRecordingNoticeWords: what counts as telling the caller, by language.
func TestRecordingNoticeWords(t *testing.T) {
	for _, c := range []struct {
		lang, say string
		want      bool
	}{
		{"en-US", "This call is recorded.", true},
		{"en-GB", "We RECORD calls for training.", true},
		{"en-US", "Calls may be recorded and monitored.", true},
		{"en-US", "We are recording this call.", true},
		{"en-US", "Our recordings help us improve.", true},
		{"en-US", "This call is monitored.", false},
		{"en-US", "Call the recorder hotline.", false},
		{"en-US", "本次通话将被录音。", false},
		{"zh-CN", "本次通话将被录音。", true},
		{"zh-TW", "本次通話將被錄音。", true},
		{"zh-CN", "您的通话将被录制。", true},
		{"zh-CN", "我们会记录通话内容。", true},
		{"zh-CN", "This call is recorded.", false},
		{"zh-CN", "我们会记录您的问题。", false},
		{"fr-FR", "Cet appel est enregistré. This call is recorded.", true},
		{"fr-FR", "Cet appel est enregistré.", false},
	} {
		nd := &Node{Name: "n", Say: Prompt{{Text: MustTemplate(c.say)}}}
		s := &Script{Language: c.lang}
		if got := givesRecordingNotice(s, nd); got != c.want {
			t.Errorf("%s %q: notice %v, want %v", c.lang, c.say, got, c.want)
		}
	}
	// recording_notice names a node whose prompt the lint cannot read.
	nd := &Node{Name: "legal", Say: Prompt{{Audio: "legal.wav"}}}
	if givesRecordingNotice(&Script{Language: "en-US"}, nd) || !givesRecordingNotice(&Script{Language: "en-US", RecordingNotice: "legal"}, nd) {
		t.Error("recording_notice should make its node count, and only it")
	}
	if givesRecordingNotice(&Script{Language: "en-US", RecordingNotice: "legal"}, &Node{Name: "legal"}) {
		t.Error("a recording_notice node without a prompt tells nobody anything")
	}
}
