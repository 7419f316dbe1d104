package graph

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/hotline-dev/hotline/dialog"
)

// hostileScript has prompts and branch values that try to break out of a
// label in every format: quotes, brackets, arrows, HTML, entity codes,
// Mermaid directives, DOT escapes, control characters, newlines.
const hostileScript = `
name: "evil \"] --> x"
language: en
start: 开始
nodes:
  开始:
    say: "He said \"hi\"] --> [x] |pipe| ; end"
    next: q
  q:
    say: "<script>alert(1)</script> &lt; &#1; &amp;"
    next: r
  r:
    say: "%%{init: {\"theme\": \"dark\"}}%% #quot; #35; ` + "`md`" + ` $$x$$"
    next: s
  s:
    say: "back\\slash \\N \\\" \\n tab\there bell\a"
    next: t
  t:
    say: "line one\nline two\r\nline three"
    next: u
  u:
    say: "emoji 😀👨‍👩‍👧 ﬂ°°60¶ß 中文“引号”【括号】"
    branch:
      on: "{{x}}"
      cases:
        "\"]": end
        "-->": end
        "a\nb": end
        "|": end
        "x\" [label=y] \"": end
        "#quot;": end
        "&#1;": end
        "\\": end
      default: end
  end:
    say: "]]> --> \"]) style: fill:#f00;"
    hangup: true
`

// hostileGraph is made by hand, as another caller of the package might:
// IDs and labels are not limited to what a script may name.
func hostileGraph() *Graph {
	return &Graph{
		Start: "a\"b",
		Nodes: []Node{
			{ID: "a\"b", Label: "x\"]\n-->[y]", Kind: KindListen, Prompt: "p\"rompt"},
			{ID: "end", Label: "end", Kind: "no-such-kind"},
			{ID: "c\\\nd", Label: "c\\d", Kind: KindBranch},
			{ID: "graph", Label: "}", Kind: KindAny},
		},
		Edges: []Edge{
			{From: "a\"b", To: "end", Label: "\"] --> x[", Kind: EdgeRoute},
			{From: "end", To: "c\\\nd", Label: "|x|", Kind: "no-such-kind"},
			{From: "c\\\nd", To: "graph", Label: "\x00\x1b[31m", Kind: EdgeOnError},
			{From: "graph", To: "missing\"]", Kind: EdgeNext},
		},
	}
}

// visible is what a label should show: control characters dropped, tabs as spaces.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == '\n':
			b.WriteByte('\n')
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func expectedNodeLabel(n Node) string { return visible(strings.Join(nodeLines(n), "\n")) }

func expectedEdgeLabel(e Edge) string { return visible(strings.Join(lines(e.Label), "\n")) }

// --- Mermaid ---

var (
	// A label may hold nothing that Mermaid reads as syntax: no quote,
	// bracket, pipe, angle bracket, entity or directive character, except
	// the entity codes and line breaks the escaper writes.
	mmdLabel        = `(?:[^"\[\](){}<>|#;:%$&` + "`" + `\\\x00-\x1f\x7f]|#[0-9]+;|<br/>)*`
	mmdNodeLine     = regexp.MustCompile(`^    (n[0-9]+)(.*?)"(` + mmdLabel + `)"(.*)$`)
	mmdEdgeLine     = regexp.MustCompile(`^    (n[0-9]+|callstart) (-->|-\.->)(?:\|"(` + mmdLabel + `)"\|)? (n[0-9]+)$`)
	mmdStartLine    = regexp.MustCompile(`^    callstart\(\(" "\)\) --> (n[0-9]+)$`)
	mmdClassLine    = regexp.MustCompile(`^    class (n[0-9]+(?:,n[0-9]+)*|callstart) [a-z_]+$`)
	mmdClassDef     = regexp.MustCompile(`^    classDef [a-z_]+ [a-z-]+:[#0-9A-Za-z ]+(?:,[a-z-]+:[#0-9A-Za-z ]+)*$`)
	mmdEntity       = regexp.MustCompile(`#([0-9]+);`)
	mermaidShapeSet = func() map[[2]string]bool {
		m := map[[2]string]bool{}
		for _, sh := range mermaidShapes {
			m[sh] = true
		}
		return m
	}()
)

// mmdDecode undoes the escaping as Mermaid does when it draws the label.
func mmdDecode(s string) string {
	s = strings.ReplaceAll(s, "<br/>", "\n")
	return mmdEntity.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[1 : len(m)-1])
		return string(rune(n))
	})
}

// checkMermaid parses the output line by line against the grammar it is
// written in, and returns the decoded node and edge labels.
func checkMermaid(t *testing.T, out string) (nodeLabels map[string]string, edgeLabels []string) {
	t.Helper()
	ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if ls[0] != "flowchart TD" {
		t.Fatalf("first line %q", ls[0])
	}
	nodeLabels = map[string]string{}
	for _, l := range ls[1:] {
		if m := mmdStartLine.FindStringSubmatch(l); m != nil {
			continue
		}
		if m := mmdEdgeLine.FindStringSubmatch(l); m != nil {
			if m[3] != "" {
				edgeLabels = append(edgeLabels, mmdDecode(m[3]))
			}
			continue
		}
		if m := mmdNodeLine.FindStringSubmatch(l); m != nil {
			if !mermaidShapeSet[[2]string{m[2], m[4]}] {
				t.Errorf("node line %q: shape %q...%q", l, m[2], m[4])
			}
			nodeLabels[m[1]] = mmdDecode(m[3])
			continue
		}
		if mmdClassLine.MatchString(l) || mmdClassDef.MatchString(l) {
			continue
		}
		t.Errorf("line does not follow the grammar: %q", l)
	}
	return nodeLabels, edgeLabels
}

func TestMermaidEscaping(t *testing.T) {
	for name, g := range map[string]*Graph{
		"full": Build(parse(t, fullScript)), "chinese": Build(parse(t, chineseScript)),
		"hostile script": Build(parse(t, hostileScript)), "hostile graph": hostileGraph(),
	} {
		t.Run(name, func(t *testing.T) {
			out := g.Mermaid()
			nodeLabels, edgeLabels := checkMermaid(t, out)
			// Every label reads back as written.
			for i, n := range g.Nodes {
				if got, want := nodeLabels["n"+strconv.Itoa(i)], expectedNodeLabel(n); got != want {
					t.Errorf("node %q label reads back as %q, want %q", n.ID, got, want)
				}
			}
			var want []string
			for _, e := range g.Edges {
				if e.Label != "" {
					want = append(want, expectedEdgeLabel(e))
				}
			}
			if strings.Join(edgeLabels, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("edge labels read back as %q, want %q", edgeLabels, want)
			}
		})
	}
}

func TestMermaidSample(t *testing.T) {
	got := Build(parse(t, sampleScript)).Mermaid()
	want := `flowchart TD
    n0("welcome<br/>Hello! Say #34;refund#34; or<br/>press 2.")
    n1[/"account<br/>Key your account number."/]
    n2[["agent<br/>Putting you through."]]
    n3(["bye<br/>Goodbye."])
    n4{{"any node"}}
    callstart((" ")) --> n0
    n0 -->|"refund / 2"| n1
    n0 -->|"again #40;repeat#41;"| n0
    n1 --> n3
    n2 -.->|"transfer failed"| n3
    n4 -->|"agent / 0"| n2
    n4 -.->|"retries exhausted"| n2
`
	if !strings.HasPrefix(got, want) {
		t.Errorf("Mermaid:\n%s\nwant it to start with:\n%s", got, want)
	}
	if !strings.Contains(got, "\n    class n0 listen\n") || !strings.Contains(got, "\n    class callstart startdot\n") {
		t.Errorf("classes missing:\n%s", got)
	}
}

// sampleScript is small enough to read its output in a test.
const sampleScript = `
name: sample
language: en
start: welcome
defaults: {escalate: agent}
intents:
  agent: {keywords: [agent], dtmf: "0"}
  refund: {keywords: [refund], dtmf: "2"}
  again: {keywords: [pardon]}
global: [agent]
nodes:
  welcome:
    say: 'Hello! Say "refund" or press 2.'
    routes: {refund: account, again: $repeat}
  account:
    say: Key your account number.
    collect: {into: account}
    next: bye
  agent:
    say: Putting you through.
    transfer: {to: "sip:desk@pbx.example", on_fail: bye}
  bye:
    say: Goodbye.
    hangup: true
`

// --- DOT ---

// parsedDOT is what a DOT reader makes of our DOT.
type parsedDOT struct {
	nodes map[string]string // ID -> label attribute
	edges []string          // "tail -> head: label"
}

// parseDOT reads DOT as Graphviz's grammar has it (https://graphviz.org/doc/info/lang.html),
// for the statements our DOT writes: attribute statements, node statements
// and edge statements, with quoted or bare IDs. A quoted string ends at the
// first " not preceded by a backslash; \" stands for a quote (the only
// escape the parser itself undoes). Anything else fails the test, so a
// label that broke out of its quotes cannot go unnoticed.
func parseDOT(t *testing.T, src string) parsedDOT {
	t.Helper()
	toks := dotTokens(t, src)
	p := parsedDOT{nodes: map[string]string{}}
	i := 0
	next := func() string {
		if i >= len(toks) {
			t.Fatalf("DOT ends early:\n%s", src)
		}
		i++
		return toks[i-1]
	}
	expect := func(want string) {
		if got := next(); got != want {
			t.Fatalf("DOT has %q where %q belongs (token %d):\n%s", got, want, i, src)
		}
	}
	id := func() string {
		tok := next()
		if strings.HasPrefix(tok, "\"") {
			return strings.ReplaceAll(tok[1:len(tok)-1], `\"`, `"`)
		}
		if !regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$|^-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)$`).MatchString(tok) {
			t.Fatalf("DOT has %q where an ID belongs:\n%s", tok, src)
		}
		return tok
	}
	attrs := func() map[string]string {
		a := map[string]string{}
		expect("[")
		for {
			k := id()
			expect("=")
			a[k] = id()
			switch sep := next(); sep {
			case ",", ";":
			case "]":
				return a
			default:
				t.Fatalf("DOT has %q in an attribute list:\n%s", sep, src)
			}
		}
	}
	declare := func(n string) {
		if _, ok := p.nodes[n]; !ok {
			p.nodes[n] = ""
		}
	}
	expect("digraph")
	id()
	expect("{")
	for i < len(toks) && toks[i] != "}" {
		switch toks[i] {
		case "graph", "node", "edge":
			i++
			attrs()
		default:
			from := id()
			declare(from)
			if toks[i] == "->" {
				i++
				to := id()
				declare(to)
				a := attrs()
				p.edges = append(p.edges, from+" -> "+to+": "+a["label"])
			} else {
				p.nodes[from] = attrs()["label"]
			}
		}
		expect(";")
	}
	expect("}")
	if i != len(toks) {
		t.Fatalf("DOT goes on after the graph:\n%s", src)
	}
	return p
}

// dotTokens splits DOT into tokens: quoted strings (kept with their quotes),
// bare IDs and numbers, ->, and the punctuation { } [ ] = , ;.
func dotTokens(t *testing.T, src string) []string {
	t.Helper()
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				if src[j] == '\n' {
					t.Fatalf("raw line break in a DOT string at %d:\n%s", j, src)
				}
			}
			if j >= len(src) {
				t.Fatalf("unterminated DOT string at %d:\n%s", i, src)
			}
			toks = append(toks, src[i:j+1])
			i = j + 1
		case strings.HasPrefix(src[i:], "->"):
			toks = append(toks, "->")
			i += 2
		case strings.IndexByte("{}[]=,;", c) >= 0:
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '.' || src[j] == '-' && j == i ||
				'a' <= src[j] && src[j] <= 'z' || 'A' <= src[j] && src[j] <= 'Z' || '0' <= src[j] && src[j] <= '9') {
				j++
			}
			if j == i {
				t.Fatalf("unexpected %q in DOT at %d:\n%s", c, i, src)
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks
}

// dotDecode undoes DOT label escapes (after the parser has removed \"):
// \\ is a backslash, \n a line break, &amp; an ampersand.
func dotDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return strings.ReplaceAll(b.String(), "&amp;", "&")
}

func TestDOTParsesAndReadsBack(t *testing.T) {
	for name, g := range map[string]*Graph{
		"full": Build(parse(t, fullScript)), "chinese": Build(parse(t, chineseScript)),
		"hostile script": Build(parse(t, hostileScript)), "hostile graph": hostileGraph(),
	} {
		t.Run(name, func(t *testing.T) {
			{
				p := parseDOT(t, g.DOT())
				// Exactly our nodes (plus the start dot, and an edge's
				// undeclared end in the hand-made graph): a label that broke
				// out of its quotes would have made more, or failed to parse.
				wantNodes := len(g.Nodes) + 1
				if name == "hostile graph" {
					wantNodes++
				}
				if len(p.nodes) != wantNodes {
					t.Errorf("graphviz read %d nodes, want %d: %v", len(p.nodes), wantNodes, p.nodes)
				}
				for _, n := range g.Nodes {
					id := visible(strings.Join(lines(n.ID), "\n"))
					lbl, ok := p.nodes[dotEscapeID(id)]
					if !ok {
						t.Errorf("node %q missing; have %q", n.ID, keys(p.nodes))
						continue
					}
					if got, want := dotDecode(lbl), expectedNodeLabel(n); got != want {
						t.Errorf("node %q label reads back as %q, want %q", n.ID, got, want)
					}
				}
				if len(p.edges) != len(g.Edges)+1 {
					t.Errorf("graphviz read %d edges, want %d", len(p.edges), len(g.Edges)+1)
				}
				var labels, want []string
				for _, e := range p.edges {
					if _, l, _ := strings.Cut(e, ": "); l != "" {
						labels = append(labels, dotDecode(l))
					}
				}
				for _, e := range g.Edges {
					if e.Label != "" {
						want = append(want, expectedEdgeLabel(e))
					}
				}
				// Compare as sets, as Graphviz would list them by tail node.
				if strings.Join(sorted(labels), "\x00") != strings.Join(sorted(want), "\x00") {
					t.Errorf("edge labels read back as %q, want %q", labels, want)
				}
			}
		})
	}
}

// dotEscapeID is the name Graphviz gives a node whose ID we quoted: the
// escapes stay in it, except \" which the parser undoes.
func dotEscapeID(id string) string {
	parts := strings.Split(id, "\n")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(dotEscape(p), `\"`, `"`)
	}
	return strings.Join(parts, `\n`)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestDOTSample(t *testing.T) {
	got := Build(parse(t, sampleScript)).DOT()
	for _, want := range []string{
		"digraph flow {\n\tgraph [rankdir=TB, charset=\"UTF-8\", fontname=\"Noto Sans CJK SC, ",
		"\t\"welcome\" [label=\"welcome\\nHello! Say \\\"refund\\\" or\\npress 2.\", shape=box, style=\"rounded,filled\", fillcolor=\"#E3F2FD\", color=\"#1565C0\", penwidth=2.5];\n",
		"\t\"$start\" -> \"welcome\" [color=\"#212121\", penwidth=1.5];\n",
		"\t\"welcome\" -> \"welcome\" [label=\"again (repeat)\", style=solid, color=\"#1565C0\"];\n",
		"\t\"*\" -> \"agent\" [label=\"agent / 0\", style=solid, color=\"#757575\"];\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("DOT lacks %q:\n%s", want, got)
		}
	}
}

func TestDOTEscape(t *testing.T) {
	for in, want := range map[string]string{
		`a"b`:      `a\"b`,
		`a\b`:      `a\\b`,
		`\N \G \l`: `\\N \\G \\l`,
		"&lt;&#1;": "&amp;lt;&amp;#1;",
		"t\tx\x07": "t x",
		"中文😀":      "中文😀",
	} {
		if got := dotEscape(in); got != want {
			t.Errorf("dotEscape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := dotQuote("a\nb\"\r\nc"); got != `"a\nb\"\nc"` {
		t.Errorf("dotQuote = %s", got)
	}
}

func TestMermaidEscape(t *testing.T) {
	for in, want := range map[string]string{
		`say "hi"`: "say #34;hi#34;",
		`"] --> x`: "#34;#93; --#62; x",
		"#quot;":   "#35;quot#59;",
		"a:b%c$`":  "a#58;b#37;c#36;#96;",
		"中文 ok.":   "中文 ok.",
		"ﬂ°°60¶ß":  "#64258;°°60#182;ß",
		"x\x00\ty": "x y",
	} {
		if got := mermaidEscape(in); got != want {
			t.Errorf("mermaidEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func Example() {
	s, err := dialog.Parse("script.yaml", []byte(`
name: demo
language: en
start: welcome
intents:
  bye: {keywords: [bye], dtmf: "9"}
nodes:
  welcome:
    say: Hello!
    routes: {bye: bye}
  bye:
    say: Goodbye.
    hangup: true
`))
	if err != nil {
		panic(err)
	}
	g := Build(s)
	fmt.Print(strings.SplitAfter(g.Mermaid(), "n1\n")[0])
	// Output:
	// flowchart TD
	//     n0("welcome<br/>Hello!")
	//     n1(["bye<br/>Goodbye."])
	//     callstart((" ")) --> n0
	//     n0 -->|"bye / 9"| n1
}
