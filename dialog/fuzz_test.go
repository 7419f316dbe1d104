package dialog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const fuzzSeedScript = `name: acme-support
language: zh-CN
start: welcome
defaults:
  listen: {timeout: 6s, max_speech: 15s, barge_in: true, input: [speech, dtmf]}
  retries: 2
  escalate: agent
hours: {timezone: Asia/Shanghai, open: ["Mon-Fri 09:00-18:00"], holidays: ["2026-10-01..2026-10-07"], closed: after_hours}
intents:
  agent:  {keywords: [人工, 客服, 转人工, agent], dtmf: "0", handoff: true}
  repeat: {keywords: [再说一遍, repeat], dtmf: "*"}
  hours:  {keywords: [营业时间, 几点开门], examples: ["你们周末上班吗"]}
  refund: {keywords: [退款, 退钱], exclude: [不退]}
  order:  {keywords: [订单, 查订单], dtmf: "1"}
  yes: [是, 是的, 对]
  no: [没有, 不用]
global: [agent, repeat]
answers:
  hours:  "我们的营业时间是周一到周五。"
  refund: {say: "退款会在三到五个工作日内原路退回。", tag: refund}
after_answer: anything_else
nodes:
  welcome:
    say: "{{greeting}},这里是自动语音助手。"
    listen: {}
    routes: {order: order_status}
  anything_else:
    say: "请问还有其他问题吗?"
    routes: {no: goodbye, yes: welcome}
  order_status:
    say: "请输入您的订单号。"
    collect: {into: order, digits: {min: 6, max: 12, end: "#"}, speech: true, pattern: '^\d+$'}
    next: order_lookup
  order_lookup:
    http: {get: "https://crm.example/orders/{{order}}", timeout: 2s, into: result, on_error: agent, on_status: {404: agent}}
    say: "订单{{order | spell}}的状态是:{{result.status | default:\"未知\"}}。"
    branch: {on: "{{result.status}}", cases: {shipped: anything_else, "/^lost/": agent}, default: anything_else}
  agent:
    say: "正在为您转接人工客服。"
    transfer: {to: "sip:queue@pbx.example", headers: {X-Intent: "{{last_intent}}"}, on_fail: take_message}
  take_message:
    say: "请在提示音后留言。"
    record: {max: 60s, into: message}
    next: goodbye
  after_hours:
    say: "现在是非工作时间。"
    set: {reason: closed}
    tag: {grade: C, tags: [after_hours]}
    next: take_message
  goodbye:
    say: "再见。"
    hangup: true
`

// FuzzParse feeds arbitrary bytes to the script loader. It must never panic:
// a script is either loaded or rejected with diagnostics that have positions.
// A script that loads is then driven through a short conversation.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fuzzSeedScript))
	f.Add([]byte("name: x\nlanguage: en\nstart: a\nnodes: {a: {say: hi, hangup: true}}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("nodes:\n  a: {next: b}\n  b: {next: a}\nstart: a\nname: x\nlanguage: en\n"))
	f.Add([]byte("\xff\xfe\x00"))
	f.Add([]byte("- - - - [[[[{{{{"))
	for _, dir := range []string{"testdata/broken", "../examples/zh-shop", "../examples/en-utility"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || !le.Diags.HasErrors() {
				t.Fatalf("error without diagnostics: %v", err)
			}
			for _, d := range le.Diags {
				if d.Pos.File == "" {
					t.Fatalf("diagnostic without a file: %v", d)
				}
				_ = d.Format("zh")
			}
			return
		}
		_ = LintWith(s, func(string) bool { return false })
		se := NewSession(s, CallInfo{ID: "f", Caller: "1", Time: time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)})
		se.Start()
		for _, ev := range []Event{Utterance{Text: "转人工"}, Digits{Keys: "123456#"}, NoInput{},
			HTTPResult{Status: 200, Body: []byte(`{"status":"shipped"}`)}, TransferFailed{Code: 486},
			RecordDone{Duration: time.Second}, Utterance{Text: "没有"}, NoInput{}, NoInput{}, NoInput{}, HungUp{}} {
			se.Handle(ev)
		}
		if !se.Ended() {
			t.Fatalf("session did not end after hang-up: waits for %s", se.Waiting())
		}
	})
}

// FuzzTemplate parses arbitrary templates and renders them in every context.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{a}}", "x{{ a.b.0 | default:\"y\" | spell }}z", "{{", "}}{{}}", "{{a|last:3}}?q={{b}}", "{{a|nope}}"} {
		f.Add(s, "value\r\nX-Injected: 1")
	}
	f.Fuzz(func(t *testing.T, src, value string) {
		tpl, err := ParseTemplate(src)
		if err != nil {
			return
		}
		vars := map[string]any{"a": value, "b": map[string]any{"c": []any{value, 1.5}}}
		for _, ctx := range []Context{TextContext, URLContext, HeaderContext, rawContext} {
			out := tpl.Render(vars, ctx)
			if ctx == HeaderContext && containsAny(out, "\r\n") && !containsAny(src, "\r\n") {
				t.Fatalf("header value lets CR/LF through: %q", out)
			}
		}
	})
}

func containsAny(s, chars string) bool {
	for _, c := range chars {
		for _, r := range s {
			if r == c {
				return true
			}
		}
	}
	return false
}

// FuzzSuite feeds arbitrary bytes to the conversation test parser.
func FuzzSuite(f *testing.F) {
	f.Add([]byte("tests:\n  - name: a\n    steps:\n      - say: hi\n        bot: x\n"))
	f.Add([]byte("phrasings:\n  intents: {a: [x, y]}\n"))
	f.Add([]byte("tests: [{name: a, http: [{match: /x(/}], steps: [{digits: '#1', transfer: failed 99}]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		su, err := ParseSuite("fuzz.yaml", data)
		if err != nil {
			return
		}
		s, err := Parse("s.yaml", []byte(fuzzSeedScript))
		if err != nil {
			t.Fatal(err)
		}
		su.Run(s)
	})
}
