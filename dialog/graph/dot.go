package graph

import (
	"fmt"
	"strings"
	"unicode"
)

// fontName lists fonts that have Chinese glyphs before the generic family, so
// a viewer without the first one still draws Chinese rather than boxes.
const fontName = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"

// Font sizes in points.
const (
	nodeFontSize = 12
	edgeFontSize = 10
)

// style is how a kind of node is drawn.
type style struct {
	shape, style, fill, color, fontColor string
}

var nodeStyles = map[string]style{
	KindListen:     {"box", "rounded,filled", "#E3F2FD", "#1565C0", ""},
	KindCollect:    {"box3d", "filled", "#E8F5E9", "#2E7D32", ""}, // a key of the keypad
	KindHTTP:       {"cylinder", "filled", "#FFF8E1", "#F9A825", ""},
	KindTransfer:   {"box", "filled,diagonals", "#F3E5F5", "#6A1B9A", ""},
	KindRecord:     {"note", "filled", "#FCE4EC", "#AD1457", ""},
	KindBranch:     {"diamond", "filled", "#FFF3E0", "#E65100", ""},
	KindHangup:     {"box", "rounded,filled,bold", "#ECEFF1", "#37474F", ""},
	KindSay:        {"box", "filled", "#FFFFFF", "#607D8B", ""},
	KindAny:        {"hexagon", "dashed,filled", "#F5F5F5", "#757575", ""},
	KindAnswers:    {"folder", "filled", "#E0F7FA", "#00838F", ""},
	KindAfterHours: {"box", "rounded,filled", "#424242", "#212121", "#FFFFFF"},
}

// edgeStyles: failures and fallbacks dashed, so the happy path stands out.
var edgeStyles = map[string]struct{ style, color string }{
	EdgeRoute:    {"solid", "#1565C0"},
	EdgeNext:     {"solid", "#455A64"},
	EdgeBranch:   {"solid", "#E65100"},
	EdgeOnError:  {"dashed", "#C62828"},
	EdgeOnStatus: {"solid", "#F9A825"},
	EdgeOnFail:   {"dashed", "#C62828"},
	EdgeEscalate: {"dashed", "#8D6E63"},
	EdgeClosed:   {"dotted", "#424242"},
	EdgeGlobal:   {"solid", "#757575"},
	EdgeAnswer:   {"solid", "#00838F"},
}

// startMarker is the ID of the dot that points at the start node; "$" cannot
// start a node name.
const startMarker = "$start"

// DOT renders the graph in Graphviz's language, for `dot` and other tools.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph flow {\n")
	fmt.Fprintf(&b, "\tgraph [rankdir=TB, charset=\"UTF-8\", fontname=%s, nodesep=0.4, ranksep=0.5];\n", dotQuote(fontName))
	fmt.Fprintf(&b, "\tnode [fontname=%s, fontsize=%d, shape=box, style=filled, fillcolor=\"#FFFFFF\", color=\"#607D8B\"];\n", dotQuote(fontName), nodeFontSize)
	fmt.Fprintf(&b, "\tedge [fontname=%s, fontsize=%d, color=\"#455A64\", fontcolor=\"#37474F\"];\n", dotQuote(fontName), edgeFontSize)

	declared := map[string]bool{}
	for _, n := range g.Nodes {
		if declared[n.ID] {
			continue // a hand-made graph may repeat a node; Build never does
		}
		declared[n.ID] = true
		st, ok := nodeStyles[n.Kind]
		if !ok {
			st = nodeStyles[KindSay]
		}
		ls := nodeLines(n)
		fmt.Fprintf(&b, "\t%s [label=%s, shape=%s, style=%s, fillcolor=%s, color=%s",
			dotQuote(n.ID), dotLabel(ls), st.shape, dotQuote(st.style), dotQuote(st.fill), dotQuote(st.color))
		if st.fontColor != "" {
			fmt.Fprintf(&b, ", fontcolor=%s", dotQuote(st.fontColor))
		}
		if n.Start || n.Closed {
			b.WriteString(", penwidth=2.5")
		}
		b.WriteString("];\n")
	}
	if g.Start != "" {
		// A small black dot, as in UML; a point shows no label.
		fmt.Fprintf(&b, "\t%s [shape=point, width=0.18, style=filled, fillcolor=\"#212121\", color=\"#212121\"];\n", dotQuote(startMarker))
		fmt.Fprintf(&b, "\t%s -> %s [color=\"#212121\", penwidth=1.5];\n", dotQuote(startMarker), dotQuote(g.Start))
	}
	for _, e := range g.Edges {
		es, ok := edgeStyles[e.Kind]
		if !ok {
			es = edgeStyles[EdgeNext]
		}
		fmt.Fprintf(&b, "\t%s -> %s [", dotQuote(e.From), dotQuote(e.To))
		if e.Label != "" {
			fmt.Fprintf(&b, "label=%s, ", dotLabel(lines(e.Label)))
		}
		fmt.Fprintf(&b, "style=%s, color=%s];\n", es.style, dotQuote(es.color))
	}
	b.WriteString("}\n")
	return b.String()
}

// dotLabel joins label lines with DOT's centred line break.
func dotLabel(ls []string) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = dotEscape(l)
	}
	return `"` + strings.Join(parts, `\n`) + `"`
}

// dotQuote makes s one double-quoted DOT string showing s literally.
func dotQuote(s string) string { return dotLabel(lines(s)) }

// dotEscape escapes one line for a double-quoted DOT string used as a label:
//   - \ and " for the DOT parser (and so that \N, \G, \l... are not expanded);
//   - & as &amp;, because Graphviz decodes HTML entities in labels and would
//     otherwise show "&lt;" as "<" and turn "&#1;" into a character that
//     makes the SVG invalid XML;
//   - control characters are dropped: they have no drawing.
func dotEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '&':
			b.WriteString("&amp;")
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
