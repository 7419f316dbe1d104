package graph

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// svgDoc is what an XML decoder reads from an SVG: the root's attributes,
// the style sheet, and per group of class node, edge or label its title
// and the text of its <text> elements.
type svgDoc struct {
	root     map[string]string
	style    string
	groups   map[string][]svgGroup // by class: "node", "edge", "label", "start"
	elements map[string]bool       // names of all elements
	attrs    []xml.Attr            // of all elements
}

type svgGroup struct {
	class string // all of it, e.g. "node listen"
	title string
	texts []string
}

// readSVG decodes the SVG as XML, token by token; it fails the test if the
// document is not well-formed.
func readSVG(t *testing.T, svg []byte) svgDoc {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	doc := svgDoc{root: map[string]string{}, groups: map[string][]svgGroup{}, elements: map[string]bool{}}
	var stack []string // element names
	var cur *svgGroup
	curKind := ""
	groupDepth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %v", tok.Name)
				}
				for _, a := range tok.Attr {
					doc.root[a.Name.Local] = a.Value
				}
			}
			stack = append(stack, tok.Name.Local)
			doc.elements[tok.Name.Space+" "+tok.Name.Local] = true
			doc.attrs = append(doc.attrs, tok.Attr...)
			if tok.Name.Local == "g" && cur == nil {
				for _, a := range tok.Attr {
					if a.Name.Local == "class" {
						kind, _, _ := strings.Cut(a.Value, " ")
						if kind == "node" || kind == "edge" || kind == "label" || kind == "start" {
							cur, curKind, groupDepth = &svgGroup{class: a.Value}, kind, len(stack)
						}
					}
				}
			}
		case xml.EndElement:
			if cur != nil && len(stack) == groupDepth {
				doc.groups[curKind] = append(doc.groups[curKind], *cur)
				cur = nil
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch stack[len(stack)-1] {
			case "style":
				doc.style += string(tok)
			case "title":
				if cur != nil {
					cur.title += string(tok)
				}
			case "text":
				if cur == nil {
					t.Errorf("text %q outside a node or label", tok)
				} else {
					cur.texts = append(cur.texts, string(tok))
				}
			}
		}
	}
	return doc
}

// checkSelfContained fails if the SVG's markup or style sheet refers to
// anything outside itself: only plain shapes and text, no links, scripts,
// images, event handlers or external fonts. (Text may say anything.)
func checkSelfContained(t *testing.T, svg []byte, doc svgDoc) {
	t.Helper()
	const ns = "http://www.w3.org/2000/svg "
	for el := range doc.elements {
		switch el {
		case ns + "svg", ns + "style", ns + "rect", ns + "g", ns + "title", ns + "path", ns + "polygon", ns + "circle", ns + "text":
		default:
			t.Errorf("SVG has element %q", el)
		}
	}
	for _, a := range doc.attrs {
		if a.Name.Space != "" && !(a.Name.Space == "xmlns" || a.Name.Local == "xmlns") ||
			strings.HasPrefix(a.Name.Local, "on") || a.Name.Local == "href" || a.Name.Local == "src" ||
			strings.Contains(a.Value, "(") || strings.Contains(a.Value, ":") && a.Name.Local != "xmlns" {
			t.Errorf("SVG has attribute %s=%q", a.Name.Local, a.Value)
		}
	}
	if m := regexp.MustCompile(`(?i)url\(|@import|@font-face|https?:|\\`).FindString(doc.style); m != "" {
		t.Errorf("style sheet has %s", m)
	}
	if m := regexp.MustCompile(`(?i)<!DOCTYPE|<!ENTITY|<\?xml-stylesheet`).Find(svg); m != nil {
		t.Errorf("SVG has %s", m)
	}
}

// compact drops all white space, so that text wrapped onto several lines
// compares with the text it came from.
func compact(s string) string { return strings.Join(strings.Fields(s), "") }

// svgVisible is what the SVG shows of a label: control characters dropped,
// the characters XML does not allow replaced.
func svgVisible(s string) string {
	return strings.NewReplacer("\uFFFE", "\uFFFD", "\uFFFF", "\uFFFD").Replace(visible(strings.ToValidUTF8(s, "\uFFFD")))
}

// svgCases are the graphs drawn as SVG in the tests.
func svgCases(t *testing.T) map[string]*Graph {
	return map[string]*Graph{
		"full": Build(parse(t, fullScript)), "chinese": Build(parse(t, chineseScript)),
		"hostile script": Build(parse(t, hostileScript)), "hostile graph": hostileGraph(),
		"hostile XML": hostileXMLGraph(), "zh-shop": exampleGraph(t, "zh-shop"), "en-utility": exampleGraph(t, "en-utility"),
		"empty": {},
	}
}

// hostileXMLGraph has names and labels aimed at the XML of an SVG.
func hostileXMLGraph() *Graph {
	return &Graph{
		Start: "<svg>",
		Nodes: []Node{
			{ID: "<svg>", Label: "</text></g></svg><script>alert(1)</script>", Kind: KindListen, Prompt: "]]> <![CDATA[ x ]]> <!-- c --> &amp; &#0; &lt;"},
			{ID: "bad\xff\xfeutf8", Label: "bad\xff\xfeutf8 \uFFFE\uFFFF", Kind: KindSay, Prompt: "nul\x00 bell\a esc\x1b[31m del\x7f c1\u0085 tab\tend"},
			{ID: "emoji", Label: "👨‍👩‍👧 \u202Eevil\u202C ﷽", Kind: KindBranch, Prompt: "\"quotes\" 'single' <b>bold</b>"},
			{ID: "x\" onload=\"alert(1)", Label: "x\" onload=\"alert(1)", Kind: "no-such-kind"},
		},
		Edges: []Edge{
			{From: "<svg>", To: "bad\xff\xfeutf8", Label: "</text><script>", Kind: EdgeRoute},
			{From: "bad\xff\xfeutf8", To: "emoji", Label: "&\x00<>\"'\uFFFF\xc0", Kind: "<kind>"},
			{From: "emoji", To: "x\" onload=\"alert(1)", Label: "url(http://evil.example/x.png)", Kind: EdgeOnError},
			{From: "emoji", To: "emoji", Label: "]]>", Kind: EdgeRoute},
		},
	}
}

func TestSVG(t *testing.T) {
	ctx := context.Background()
	for name, g := range svgCases(t) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			svg, err := g.SVG(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("SVG: %d bytes in %v", len(svg), time.Since(start))
			doc := readSVG(t, svg)
			checkSelfContained(t, svg, doc)
			if !strings.HasPrefix(string(svg), `<?xml version="1.0" encoding="UTF-8"?>`) {
				t.Error("no XML declaration")
			}
			// A size and a view box that match.
			w, errW := strconv.ParseFloat(doc.root["width"], 64)
			h, errH := strconv.ParseFloat(doc.root["height"], 64)
			if errW != nil || errH != nil || w <= 0 || h <= 0 || doc.root["viewBox"] != "0 0 "+doc.root["width"]+" "+doc.root["height"] {
				t.Errorf("root attributes %v", doc.root)
			}
			if !strings.Contains(doc.style, "font-family: "+fontFamily+";") || !strings.HasPrefix(fontFamily, "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, Helvetica, Arial, sans-serif") {
				t.Errorf("style sheet does not set the fonts: %s", doc.style)
			}
			if !strings.Contains(doc.style, ".label text { font-size: "+strconv.Itoa(edgeFontSize)+"px;") ||
				!strings.Contains(doc.style, ".node text { font-size: "+strconv.Itoa(nodeFontSize)+"px;") {
				t.Errorf("style sheet does not size the text: %s", doc.style)
			}

			// One group per node, each with its title and its text.
			ids := map[string]bool{}
			var nodes []Node
			for _, n := range g.Nodes {
				if !ids[n.ID] {
					ids[n.ID] = true
					nodes = append(nodes, n)
				}
			}
			for _, e := range g.Edges {
				for _, id := range []string{e.From, e.To} {
					if !ids[id] {
						ids[id] = true
						nodes = append(nodes, Node{ID: id, Label: id})
					}
				}
			}
			if g.Start != "" && !ids[g.Start] {
				nodes = append(nodes, Node{ID: g.Start, Label: g.Start})
			}
			ng := doc.groups["node"]
			if len(ng) != len(nodes) {
				t.Fatalf("%d node groups for %d nodes", len(ng), len(nodes))
			}
			for i, n := range nodes {
				if got, want := compact(strings.Join(ng[i].texts, "\n")), compact(svgVisible(expectedNodeLabel(n))); got != want {
					t.Errorf("node %q shows %q, want %q", n.ID, got, want)
				}
				// Each line as written, one <text> per line.
				if got, want := ng[i].texts, strings.Split(svgVisible(expectedNodeLabel(n)), "\n"); !slices.Equal(got, want) {
					t.Errorf("node %q lines %q, want %q", n.ID, got, want)
				}
				if !strings.HasPrefix(ng[i].title, svgVisible(strings.Join(lines(n.Label), " "))) {
					t.Errorf("node %q title %q", n.ID, ng[i].title)
				}
			}
			// One group per edge and for the start arrow, each with a title;
			// one label group per labelled edge, showing its label.
			wantEdges := len(g.Edges)
			if g.Start != "" {
				wantEdges++
				if len(doc.groups["start"]) != 1 {
					t.Errorf("%d start dots", len(doc.groups["start"]))
				}
			}
			if len(doc.groups["edge"]) != wantEdges {
				t.Errorf("%d edge groups for %d edges", len(doc.groups["edge"]), wantEdges)
			}
			for _, eg := range doc.groups["edge"] {
				if !strings.Contains(eg.title, " → ") {
					t.Errorf("edge title %q", eg.title)
				}
			}
			var got, want []string
			for _, lg := range doc.groups["label"] {
				got = append(got, compact(strings.Join(lg.texts, " ")))
			}
			for _, e := range g.Edges {
				if e.Label != "" {
					want = append(want, compact(svgVisible(expectedEdgeLabel(e))))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("edge labels show %q, want %q", got, want)
			}
		})
	}
}

func TestSVGEscape(t *testing.T) {
	for in, want := range map[string]string{
		`<a href="x">&amp;</a>`: "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;",
		"it's":                  "it&#39;s",
		"t\tx\x00\x07\x1b\x7f":  "t x",
		"\xff\xfe":              "\uFFFD\uFFFD",
		"\uFFFE\uFFFF":          "\uFFFD\uFFFD",
		"中文😀\u200d\U0010FFFD":   "中文😀\u200d\U0010FFFD",
		"]]>":                   "]]&gt;",
	} {
		var b svgWriter
		b.text(in)
		if got := b.String(); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSVGDeterministic(t *testing.T) {
	ctx := context.Background()
	for _, src := range []func() *Graph{
		func() *Graph { return Build(parse(t, chineseScript)) },
		func() *Graph { return exampleGraph(t, "en-utility") },
		func() *Graph { return randomGraph(120, 200, 3) },
	} {
		a, err := src().SVG(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := src().SVG(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Error("SVG differs between two builds")
		}
	}
}

// The layout has no shared state: concurrent calls neither race (go test
// -race) nor mix their outputs.
func TestSVGConcurrent(t *testing.T) {
	ctx := context.Background()
	graphs := []*Graph{Build(parse(t, fullScript)), Build(parse(t, chineseScript)), Build(parse(t, sampleScript))}
	want := make([][]byte, len(graphs))
	for i, g := range graphs {
		var err error
		if want[i], err = g.SVG(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 {
				k := (w + i) % len(graphs)
				got, err := graphs[k].SVG(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, want[k]) {
					t.Errorf("concurrent SVG of graph %d differs", k)
				}
			}
		}()
	}
	wg.Wait()
}

func TestSVGCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(parse(t, sampleScript)).SVG(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	if _, err := randomGraph(400, 600, 1).SVG(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestSVGTooLarge(t *testing.T) {
	g := &Graph{}
	for i := range maxSVGNodes + 1 {
		g.Nodes = append(g.Nodes, Node{ID: strconv.Itoa(i), Label: strconv.Itoa(i), Kind: KindSay})
	}
	if _, err := g.SVG(context.Background()); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Errorf("err = %v", err)
	}
	// A chain of 300 nodes, each looping back to the start: few nodes and
	// edges, but the loops cross 90,000 rows in all.
	g = &Graph{Start: "n0"}
	for i := range 300 {
		id := "n" + strconv.Itoa(i)
		g.Nodes = append(g.Nodes, Node{ID: id, Label: id, Kind: KindListen})
		if i > 0 {
			g.Edges = append(g.Edges, Edge{From: "n" + strconv.Itoa(i-1), To: id}, Edge{From: id, To: "n0", Label: "menu"})
		}
	}
	start := time.Now()
	if _, err := g.SVG(context.Background()); err == nil || !strings.Contains(err.Error(), "too tangled") {
		t.Errorf("err = %v", err)
	}
	t.Logf("refused in %v", time.Since(start))
}

func BenchmarkSVG(b *testing.B) {
	for _, c := range []struct {
		name string
		g    *Graph
	}{
		{"full", Build(parse(b, fullScript))},
		{"zh-shop", exampleGraph(b, "zh-shop")},
		{"en-utility", exampleGraph(b, "en-utility")},
		{"random-400-600", randomGraph(400, 600, 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := c.g.SVG(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
