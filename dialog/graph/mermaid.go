package graph

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// mermaidShapes wrap a quoted label in the brackets of each kind's shape.
var mermaidShapes = map[string][2]string{
	KindListen:     {"(", ")"},   // rounded
	KindCollect:    {"[/", "/]"}, // parallelogram: input
	KindHTTP:       {"[(", ")]"}, // cylinder: the backend
	KindTransfer:   {"[[", "]]"}, // subroutine: someone else takes over
	KindRecord:     {">", "]"},   // flag
	KindBranch:     {"{", "}"},   // rhombus: decision
	KindHangup:     {"([", "])"}, // stadium: terminal
	KindSay:        {"[", "]"},
	KindAny:        {"{{", "}}"},  // hexagon
	KindAnswers:    {"[/", "\\]"}, // trapezoid
	KindAfterHours: {"((", "))"},
}

// mermaidClasses colour the kinds as DOT does, in a fixed order.
var mermaidClasses = []string{
	KindListen, KindCollect, KindHTTP, KindTransfer, KindRecord, KindBranch,
	KindHangup, KindSay, KindAny, KindAnswers, KindAfterHours,
}

// mermaidStart is the ID of the start dot; node IDs are n0, n1...
const mermaidStart = "callstart"

// dashedEdges are drawn dotted: failures and fallbacks.
var dashedEdges = map[string]bool{EdgeOnError: true, EdgeOnFail: true, EdgeEscalate: true, EdgeClosed: true}

// Mermaid renders the graph as a Mermaid flowchart, for Markdown and the admin page.
// Node IDs are n0, n1... in the order of g.Nodes, since script node names may
// be Chinese or collide with Mermaid keywords (end, graph, style...).
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	ids := map[string]string{}
	byClass := map[string][]string{}
	for _, n := range g.Nodes {
		if _, dup := ids[n.ID]; dup {
			continue // a hand-made graph may repeat a node; Build never does
		}
		m := "n" + strconv.Itoa(len(ids))
		ids[n.ID] = m
		sh, ok := mermaidShapes[n.Kind]
		kind := n.Kind
		if !ok {
			sh, kind = mermaidShapes[KindSay], KindSay
		}
		fmt.Fprintf(&b, "    %s%s%s%s\n", m, sh[0], mermaidLabel(nodeLines(n)), sh[1])
		byClass[kind] = append(byClass[kind], m)
	}
	// Edges of a hand-made graph may name nodes missing from g.Nodes:
	// declare them as plain boxes rather than lose the edge.
	id := func(nodeID string) string {
		if m, ok := ids[nodeID]; ok {
			return m
		}
		m := "n" + strconv.Itoa(len(ids))
		ids[nodeID] = m
		fmt.Fprintf(&b, "    %s[%s]\n", m, mermaidLabel(lines(nodeID)))
		return m
	}
	if g.Start != "" {
		// A small black dot pointing at the start node, as in UML.
		to := id(g.Start)
		fmt.Fprintf(&b, "    %s((\" \")) --> %s\n", mermaidStart, to)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if dashedEdges[e.Kind] {
			arrow = "-.->"
		}
		from, to := id(e.From), id(e.To)
		if e.Label == "" {
			fmt.Fprintf(&b, "    %s %s %s\n", from, arrow, to)
		} else {
			fmt.Fprintf(&b, "    %s %s|%s| %s\n", from, arrow, mermaidLabel(lines(e.Label)), to)
		}
	}
	b.WriteString("    classDef listen fill:#E3F2FD,stroke:#1565C0\n")
	b.WriteString("    classDef collect fill:#E8F5E9,stroke:#2E7D32\n")
	b.WriteString("    classDef http fill:#FFF8E1,stroke:#F9A825\n")
	b.WriteString("    classDef transfer fill:#F3E5F5,stroke:#6A1B9A\n")
	b.WriteString("    classDef record fill:#FCE4EC,stroke:#AD1457\n")
	b.WriteString("    classDef branch fill:#FFF3E0,stroke:#E65100\n")
	b.WriteString("    classDef hangup fill:#ECEFF1,stroke:#37474F,stroke-width:2px\n")
	b.WriteString("    classDef say fill:#FFFFFF,stroke:#607D8B\n")
	b.WriteString("    classDef any fill:#F5F5F5,stroke:#757575,stroke-dasharray:4 3\n")
	b.WriteString("    classDef answers fill:#E0F7FA,stroke:#00838F\n")
	b.WriteString("    classDef after_hours fill:#424242,stroke:#212121,color:#FFFFFF\n")
	b.WriteString("    classDef startdot fill:#212121,stroke:#212121\n")
	for _, k := range mermaidClasses {
		if ms := byClass[k]; len(ms) > 0 {
			fmt.Fprintf(&b, "    class %s %s\n", strings.Join(ms, ","), k)
		}
	}
	if g.Start != "" {
		b.WriteString("    class " + mermaidStart + " startdot\n")
	}
	return b.String()
}

// mermaidLabel quotes label lines for Mermaid, joined with <br/>.
func mermaidLabel(ls []string) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = mermaidEscape(l)
	}
	return `"` + strings.Join(parts, "<br/>") + `"`
}

// mermaidEscape makes s safe inside a double-quoted Mermaid label. Only
// letters, digits, spaces and a few inert punctuation marks pass as they are;
// any other ASCII character becomes Mermaid's entity code #NN; (decoded when
// drawn), which covers the quote that would end the label, brackets, | of edge
// labels, < > & of HTML, # and ; of entity codes themselves, : of the style
// pre-processor, % of directives, $ of math and ` of Markdown strings.
// Control characters are dropped.
func mermaidEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
		case r == 'ﬂ' || r == '¶':
			// Mermaid's own placeholders for entity codes: a label holding
			// them would be decoded as if it had written an entity.
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		case r >= 0x80, mermaidSafe(r):
			b.WriteRune(r)
		default:
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		}
	}
	return b.String()
}

func mermaidSafe(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		strings.ContainsRune(" ,.-_/+=!?'@~^*", r)
}
