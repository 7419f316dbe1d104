package graph

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/dialog"
)

// fullScript uses every way a node can lead to another.
const fullScript = `
name: test-line
language: en-US
start: welcome
defaults:
  escalate: agent
hours: {timezone: UTC, open: ["Mon-Fri 09:00-18:00"], closed: closed_msg}
intents:
  agent: {keywords: [agent, operator], dtmf: "0"}
  repeat: {keywords: [repeat], dtmf: "*"}
  refund: {keywords: [refund], dtmf: ["2", "22"]}
  order: {keywords: [order]}
  hours: {keywords: [opening hours]}
  again: {keywords: [pardon]}
  bye: {keywords: [bye]}
global: [agent, repeat]
answers:
  hours: "We are open from nine to six."
  refund: {say: "Refunds take three days.", next: goodbye}
after_answer: menu
nodes:
  welcome:
    say: "Welcome to the test line. This sentence is long enough to be shortened."
    listen: {}
    routes: {order: order_no, refund: refund_check, again: $repeat}
    closed: closed_msg
  menu:
    say: "Anything else?"
    routes: {bye: goodbye}
    escalate: goodbye
  order_no:
    say: "Key your order number."
    collect: {into: order}
    next: lookup
  lookup:
    http: {get: "https://crm.example/orders/{{order}}", into: result, on_error: agent, on_status: {"410": not_found, "200": status, "404": not_found}}
    next: menu
  status:
    branch: {on: "{{result.state}}", cases: {shipped: shipped, "/^ret/": returned}, default: menu}
  shipped:
    say: "It is on its way."
    next: menu
  returned:
    say: "It came back to us."
    next: menu
  not_found:
    say: "I cannot find that order."
    next: menu
  refund_check:
    say: {audio: prompts/refund.wav}
    next: menu
  agent:
    say: "Putting you through."
    transfer: {to: "sip:queue@pbx.example", on_fail: take_message}
  take_message:
    say: "Please leave a message."
    record: {into: message}
    next: goodbye
  closed_msg:
    say: "We are closed."
    next: take_message
  goodbye:
    say: "Goodbye."
    hangup: true
`

func parse(t testing.TB, yaml string) *dialog.Script {
	t.Helper()
	s, err := dialog.Parse("script.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func TestBuildEdges(t *testing.T) {
	g := Build(parse(t, fullScript))
	want := []Edge{
		{"welcome", "order_no", "order", EdgeRoute},
		{"welcome", "refund_check", "refund / 2,22", EdgeRoute},
		{"welcome", "welcome", "again (repeat)", EdgeRoute},
		{"welcome", "closed_msg", "closed", EdgeClosed},
		{"menu", "goodbye", "bye", EdgeRoute},
		{"menu", "goodbye", "retries exhausted", EdgeEscalate},
		{"order_no", "lookup", "", EdgeNext},
		{"lookup", "menu", "", EdgeNext},
		{"lookup", "agent", "error", EdgeOnError},
		{"lookup", "status", "200", EdgeOnStatus},
		{"lookup", "not_found", "404", EdgeOnStatus},
		{"lookup", "not_found", "410", EdgeOnStatus},
		{"status", "shipped", "shipped", EdgeBranch},
		{"status", "returned", "/^ret/", EdgeBranch},
		{"status", "menu", "default", EdgeBranch},
		{"shipped", "menu", "", EdgeNext},
		{"returned", "menu", "", EdgeNext},
		{"not_found", "menu", "", EdgeNext},
		{"refund_check", "menu", "", EdgeNext},
		{"agent", "take_message", "transfer failed", EdgeOnFail},
		{"take_message", "goodbye", "", EdgeNext},
		{"closed_msg", "take_message", "", EdgeNext},
		// Global intents and the default escalation: once, from "any node".
		{AnyNode, "agent", "agent / 0", EdgeGlobal},
		{AnyNode, AnyNode, "repeat / *", EdgeGlobal},
		{AnyNode, "agent", "retries exhausted", EdgeEscalate},
		{AnswersNode, "menu", "hours", EdgeAnswer},
		{AnswersNode, "goodbye", "refund", EdgeAnswer},
		{AfterHoursNode, "closed_msg", "", EdgeClosed},
	}
	if !reflect.DeepEqual(g.Edges, want) {
		t.Errorf("edges:\n%s\nwant:\n%s", edgeList(g.Edges), edgeList(want))
	}
	if g.Start != "welcome" {
		t.Errorf("Start = %q", g.Start)
	}
}

func edgeList(es []Edge) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("  " + e.From + " -> " + e.To + " [" + e.Label + "] " + e.Kind + "\n")
	}
	return b.String()
}

func TestBuildNodes(t *testing.T) {
	g := Build(parse(t, fullScript))
	type nk struct{ id, label, kind string }
	var got []nk
	for _, n := range g.Nodes {
		got = append(got, nk{n.ID, n.Label, n.Kind})
	}
	want := []nk{
		{"welcome", "welcome", KindListen}, {"menu", "menu", KindListen}, {"order_no", "order_no", KindCollect},
		{"lookup", "lookup", KindHTTP}, {"status", "status", KindBranch}, {"shipped", "shipped", KindSay},
		{"returned", "returned", KindSay}, {"not_found", "not_found", KindSay}, {"refund_check", "refund_check", KindSay},
		{"agent", "agent", KindTransfer}, {"take_message", "take_message", KindRecord}, {"closed_msg", "closed_msg", KindSay},
		{"goodbye", "goodbye", KindHangup},
		{AnyNode, "any node", KindAny}, {AnswersNode, "answers", KindAnswers}, {AfterHoursNode, "after hours", KindAfterHours},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nodes:\n%v\nwant:\n%v", got, want)
	}
	byID := map[string]Node{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	if p := byID["welcome"].Prompt; p != "Welcome to the test line. This sentence…" || utf8.RuneCountInString(p) != promptRunes {
		t.Errorf("welcome prompt = %q (%d runes)", p, utf8.RuneCountInString(p))
	}
	if p := byID["menu"].Prompt; p != "Anything else?" {
		t.Errorf("menu prompt = %q", p)
	}
	if p := byID["refund_check"].Prompt; p != "♪ refund.wav" {
		t.Errorf("audio prompt = %q", p)
	}
	if p := byID["status"].Prompt; p != "" {
		t.Errorf("silent node prompt = %q", p)
	}
	for _, n := range g.Nodes {
		if n.Start != (n.ID == "welcome") {
			t.Errorf("%s: Start = %v", n.ID, n.Start)
		}
		if n.Closed != (n.ID == "closed_msg") {
			t.Errorf("%s: Closed = %v", n.ID, n.Closed)
		}
	}
}

func TestGlobalDrawnOnce(t *testing.T) {
	g := Build(parse(t, fullScript))
	for _, f := range []format{formatMermaid, formatDOT} {
		out := render(g, f)
		// agent is reached from the any-node twice (global intent, escalation),
		// and from lookup's on_error: never from every listen node.
		if n := strings.Count(out, "agent / 0"); n != 1 {
			t.Errorf("%s: global edge label drawn %d times", f, n)
		}
	}
	var fromAny int
	for _, e := range g.Edges {
		if e.Kind == EdgeGlobal {
			fromAny++
			if e.From != AnyNode {
				t.Errorf("global edge from %s", e.From)
			}
		}
	}
	if fromAny != 2 {
		t.Errorf("%d global edges, want 2", fromAny)
	}
}

const chineseScript = `
name: 某某客服
language: zh-CN
start: 欢迎
defaults: {escalate: 转人工}
hours: {timezone: Asia/Shanghai, open: ["Mon-Fri 09:00-18:00"], closed: 下班}
intents:
  人工: {keywords: [人工, 客服], dtmf: "0"}
  repeat: {keywords: [再说一遍], dtmf: "*"}
  退款: {keywords: [退款], dtmf: "2"}
  营业时间: {keywords: [几点开门]}
global: [repeat]
answers:
  营业时间: "我们的营业时间是周一到周五,早上九点到晚上六点。"
after_answer: 欢迎
nodes:
  欢迎:
    say: "您好,这里是某某客服的自动语音助手。本次通话将被录音。请问有什么可以帮您?按0转人工。"
    routes: {退款: 退款说明, 人工: 转人工}
  退款说明:
    say: "退款会在三到五个工作日内原路退回。"
    branch: {on: "{{last_intent}}", cases: {退款: 再见}, default: 欢迎}
  转人工:
    say: "正在为您转接人工客服,请稍候。"
    transfer: {to: "sip:queue@pbx.example", on_fail: 再见}
  下班:
    say: "现在是非营业时间。"
    next: 再见
  再见:
    say: "感谢您的来电,再见。"
    hangup: true
`

func TestChinese(t *testing.T) {
	g := Build(parse(t, chineseScript))
	want := []Edge{
		{"欢迎", "退款说明", "退款 / 2", EdgeRoute},
		{"欢迎", "转人工", "人工 / 0", EdgeRoute},
		{"退款说明", "再见", "退款", EdgeBranch},
		{"退款说明", "欢迎", "其他", EdgeBranch},
		{"转人工", "再见", "转接失败", EdgeOnFail},
		{"下班", "再见", "", EdgeNext},
		{AnyNode, AnyNode, "重复 / *", EdgeGlobal},
		{AnyNode, "转人工", "重试用尽", EdgeEscalate},
		{AnswersNode, "欢迎", "营业时间", EdgeAnswer},
		{AfterHoursNode, "下班", "", EdgeClosed},
	}
	if !reflect.DeepEqual(g.Edges, want) {
		t.Errorf("edges:\n%s\nwant:\n%s", edgeList(g.Edges), edgeList(want))
	}
	last := g.Nodes[len(g.Nodes)-3:]
	if last[0].Label != "任意节点" || last[1].Label != "答案库" || last[2].Label != "非营业时间" {
		t.Errorf("synthetic labels: %+v", last)
	}
	if p := g.Nodes[0].Prompt; p != "您好,这里是某某客服的自动语音助手。本次通话将被录音。请问有什么可以帮您?按0…" {
		t.Errorf("prompt = %q", p)
	}
}

func TestAnswersGrouped(t *testing.T) {
	// Many answers to one place make one edge, its label kept short.
	var b strings.Builder
	b.WriteString("name: x\nlanguage: en\nstart: a\nintents:\n")
	for _, n := range []string{"q1", "q2", "q3", "q4", "q5", "q6"} {
		b.WriteString("  " + n + ": [" + n + " word]\n")
	}
	b.WriteString("answers:\n")
	for _, n := range []string{"q6", "q2", "q3", "q4", "q5", "q1"} {
		b.WriteString("  " + n + ": \"Answer " + n + ".\"\n")
	}
	b.WriteString("after_answer: a\nnodes:\n  a: {say: hi, routes: {q1: a}}\n")
	g := Build(parse(t, b.String()))
	var got []Edge
	for _, e := range g.Edges {
		if e.Kind == EdgeAnswer {
			got = append(got, e)
		}
	}
	want := []Edge{{AnswersNode, "a", "q1, q2, q3, q4, … (+2)", EdgeAnswer}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answer edges = %v, want %v", got, want)
	}
}

func TestNoSyntheticNodesWhenUnused(t *testing.T) {
	g := Build(parse(t, "name: x\nlanguage: en\nstart: a\nnodes:\n  a: {say: hi, hangup: true}\n"))
	if len(g.Nodes) != 1 || len(g.Edges) != 0 {
		t.Errorf("nodes %+v edges %+v", g.Nodes, g.Edges)
	}
}

func TestShortenAndWrap(t *testing.T) {
	if got := shorten("一二三四五", 4); got != "一二三…" {
		t.Errorf("shorten = %q", got)
	}
	if got := shorten("abc", 3); got != "abc" {
		t.Errorf("shorten = %q", got)
	}
	if got := oneLine("  a\n\tb\r\n c\x00d "); got != "a b c d" {
		t.Errorf("oneLine = %q", got)
	}
	// 。 does not start a line even when the line is full.
	if got := wrapGreedy("一二三四五六七八九十一二三四。", wrapCols); len(got) != 1 {
		t.Errorf("wrapGreedy = %q", got)
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"请问还有其他问题吗?", []string{"请问还有其他问题吗?"}},
		{"请输入您的订单号,以井号键结束。", []string{"请输入您的订单号,", "以井号键结束。"}}, // balanced
		{"正在为您转接人工客服请稍候。", []string{"正在为您转接人工客服请稍候。"}},
		{"一二三四五六七八九十一二三四。", []string{"一二三四五六七八", "九十一二三四。"}},
		{"订单{{order}}的状态是:{{result.status}}。", []string{"订单{{order}}的状态", "是:{{result.status}}。"}},
		{"Please key in your order number and then the hash key", []string{"Please key in your order", "number and then the hash key"}},
	} {
		if got := wrap(tc.in, wrapCols); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("wrap(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type format string

const (
	formatMermaid format = "mermaid"
	formatDOT     format = "dot"
)

func render(g *Graph, f format) string {
	if f == formatMermaid {
		return g.Mermaid()
	}
	return g.DOT()
}

func TestDeterministic(t *testing.T) {
	for _, src := range []string{fullScript, chineseScript, hostileScript} {
		a, b := Build(parse(t, src)), Build(parse(t, src))
		if a.Mermaid() != b.Mermaid() {
			t.Error("Mermaid differs between two builds")
		}
		if a.DOT() != b.DOT() {
			t.Error("DOT differs between two builds")
		}
	}
}
