package graph

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what SVG lays out, far above any real hotline's script. Every
// phase of the layout is about linear in the nodes plus the dummy nodes of
// long edges (one per row an edge crosses), except crossing reduction, which
// makes a fixed number of sweeps; the dummies, not the nodes and edges,
// decide how long it takes. On a 2-core AMD EPYC, the example scripts take
// 1.1 ms (zh-shop, 25 nodes) and 2.3 ms (en-utility, 39 nodes); random
// graphs of 400 nodes and 600 edges (8,500 dummies) 42 ms; 1,000 nodes and
// 1,300 edges (28,000 dummies) about 0.2 s; a chain of 200 nodes each
// looping back to the start (40,000 dummies) about 0.2 s (see BenchmarkSVG
// and BenchmarkLayout).
const (
	maxSVGNodes = 1000
	maxSVGEdges = 2000
	maxSVGBends = 40000 // dummy nodes
)

// fontFamily lists fonts that have Chinese glyphs before the Latin ones, so
// that a viewer without the first one still draws Chinese rather than boxes.
const fontFamily = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, Helvetica, Arial, sans-serif"

// svgClass prefixes the classes of the drawing, so that its style sheet
// affects nothing else when the SVG is put inline in a web page.
const svgClass = "hl-flow"

// SVG lays the graph out top to bottom and returns a self-contained SVG
// document: no links, images, scripts or font files, so it can be saved,
// mailed or embedded as it is. Text is drawn with the fonts of the viewer
// (see fontFamily). The same graph always gives the same bytes.
//
// SVG returns ctx's error if ctx ends before the layout is done. It is
// safe for concurrent use.
func (g *Graph) SVG(ctx context.Context) ([]byte, error) {
	if len(g.Nodes) > maxSVGNodes || len(g.Edges) > maxSVGEdges {
		return nil, fmt.Errorf("graph: %d nodes and %d edges are too many to lay out as SVG (at most %d and %d); use the Mermaid or DOT format",
			len(g.Nodes), len(g.Edges), maxSVGNodes, maxSVGEdges)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := newLayout(ctx, g)
	if err != nil {
		return nil, err
	}
	return l.svg(), nil
}

// svgNodeStyle is how the SVG draws a kind of box: the colours of DOT, the
// synthetic nodes dashed.
type svgNodeStyle struct {
	fill, stroke, text string
	width              float64
	dashed             bool
}

func nodeStyle(v *vnode) svgNodeStyle {
	st, ok := nodeStyles[v.node.Kind]
	if !ok {
		st = nodeStyles[KindSay]
	}
	s := svgNodeStyle{fill: st.fill, stroke: st.color, text: st.fontColor, width: 1.2}
	if s.text == "" {
		s.text = "#212121"
	}
	switch v.node.Kind {
	case KindHangup:
		s.width = 2
	case KindAny, KindAnswers:
		s.dashed = true
	case KindAfterHours:
		s.dashed, s.stroke = true, "#9E9E9E" // the DOT outline would not show on the dark fill
	}
	if v.node.Start || v.node.Closed {
		s.width = 2.5
	}
	return s
}

var svgDash = map[string]string{"dashed": "5,3", "dotted": "1.5,3"}

// svg writes the laid out graph.
func (l *layout) svg() []byte {
	var b svgWriter
	w, h := num(l.width), num(l.height)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="` + svgClass + `" width="` + w + `" height="` + h + `" viewBox="0 0 ` + w + ` ` + h + `">` + "\n")
	b.WriteString("<style>\n")
	b.WriteString("." + svgClass + " text { font-family: " + fontFamily + "; white-space: pre; }\n")
	b.WriteString("." + svgClass + " .node text { font-size: " + strconv.Itoa(nodeFontSize) + "px; text-anchor: middle; }\n")
	b.WriteString("." + svgClass + " .node text.title { font-weight: bold; }\n")
	b.WriteString("." + svgClass + " .label text { font-size: " + strconv.Itoa(edgeFontSize) + "px; text-anchor: middle; fill: #37474F; }\n")
	b.WriteString("." + svgClass + " .edge path { fill: none; stroke-width: 1.2; }\n")
	b.WriteString("</style>\n")
	b.WriteString(`<rect width="` + w + `" height="` + h + `" fill="#FFFFFF"/>` + "\n")

	b.WriteString("<g class=\"edges\">\n")
	for _, e := range l.edges {
		l.svgEdge(&b, e)
	}
	b.WriteString("</g>\n<g class=\"nodes\">\n")
	for _, v := range l.nodes[:l.nBoxes] {
		l.svgNode(&b, v)
	}
	// Labels last, over the edges that pass them.
	b.WriteString("</g>\n<g class=\"labels\">\n")
	for _, e := range l.edges {
		if e.labelBox.W == 0 {
			continue
		}
		lb := e.labelBox
		b.WriteString(`<g class="label"><title>`)
		b.text(edgeTitle(e))
		b.WriteString(`</title><rect x="` + num(lb.X) + `" y="` + num(lb.Y) + `" width="` + num(lb.W) + `" height="` + num(lb.H) + `" rx="2" fill="#FFFFFF" fill-opacity="0.92"/>`)
		for i, ln := range e.lines {
			y := lb.Y + labelPadY + float64(i)*edgeLineH + edgeLineH/2 + 0.36*edgeFontSize
			b.WriteString(`<text x="` + num(lb.X+lb.W/2) + `" y="` + num(y) + `">`)
			b.text(ln)
			b.WriteString("</text>")
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}

func (l *layout) svgEdge(b *svgWriter, e *vedge) {
	es, ok := edgeStyles[e.Kind]
	if !ok {
		es = edgeStyles[EdgeNext]
	}
	color, width := es.color, ""
	if e.marker {
		color, width = "#212121", ` stroke-width="1.5"`
	}
	b.WriteString(`<g class="edge"><title>`)
	b.text(edgeTitle(e))
	b.WriteString(`</title><path d="M` + num(e.start.X) + "," + num(e.start.Y))
	for _, s := range e.path {
		if s.line {
			b.WriteString("L" + num(s.P.X) + "," + num(s.P.Y))
		} else {
			b.WriteString("C" + num(s.C1.X) + "," + num(s.C1.Y) + " " + num(s.C2.X) + "," + num(s.C2.Y) + " " + num(s.P.X) + "," + num(s.P.Y))
		}
	}
	b.WriteString(`" stroke="` + color + `"` + width)
	if d := svgDash[es.style]; d != "" && !e.marker {
		b.WriteString(` stroke-dasharray="` + d + `"`)
	}
	b.WriteString(`/><polygon points="`)
	for i, p := range e.arrow {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(p.X) + "," + num(p.Y))
	}
	b.WriteString(`" fill="` + color + `"/></g>` + "\n")
}

func (l *layout) svgNode(b *svgWriter, v *vnode) {
	if v.marker {
		b.WriteString(`<g class="start"><title>start</title><circle cx="` + num(v.x) + `" cy="` + num(v.y) + `" r="` + num(markerR) + `" fill="#212121"/></g>` + "\n")
		return
	}
	st := nodeStyle(v)
	b.WriteString(`<g class="node ` + cssKind(v.node.Kind) + `"><title>`)
	b.text(nodeTitle(v.node))
	b.WriteString("</title>")
	paint := ` fill="` + st.fill + `" stroke="` + st.stroke + `" stroke-width="` + num(st.width) + `"`
	if st.dashed {
		paint += ` stroke-dasharray="5,3"`
	}
	line := ` fill="none" stroke="` + st.stroke + `" stroke-width="1"`
	x0, y0, x1, y1 := v.x-v.w/2, v.y-v.h/2, v.x+v.w/2, v.y+v.h/2
	switch v.shape {
	case shapeRect:
		b.rect(x0, y0, v.w, v.h, 0, paint)
		if v.node.Kind == KindTransfer {
			// Graphviz's "diagonals": the corners cut off.
			const d = 7
			b.WriteString(`<path d="M` + num(x0) + "," + num(y0+d) + "L" + num(x0+d) + "," + num(y0) +
				"M" + num(x1-d) + "," + num(y0) + "L" + num(x1) + "," + num(y0+d) +
				"M" + num(x1) + "," + num(y1-d) + "L" + num(x1-d) + "," + num(y1) +
				"M" + num(x0+d) + "," + num(y1) + "L" + num(x0) + "," + num(y1-d) + `"` + line + "/>")
		}
	case shapeRounded:
		b.rect(x0, y0, v.w, v.h, cornerR, paint)
	case shapeBox3D:
		const d = box3dDepth
		b.polygon(paint, x0, y0+d, x0+d, y0, x1, y0, x1, y1-d, x1-d, y1, x0, y1)
		b.WriteString(`<path d="M` + num(x0) + "," + num(y0+d) + "H" + num(x1-d) + "L" + num(x1) + "," + num(y0) +
			"M" + num(x1-d) + "," + num(y0+d) + "V" + num(y1) + `"` + line + "/>")
	case shapeCylinder:
		const ry = cylinderRy
		a := num(v.w/2) + "," + num(ry)
		b.WriteString(`<path d="M` + num(x0) + "," + num(y0+ry) + "A" + a + " 0 0 1 " + num(x1) + "," + num(y0+ry) +
			"V" + num(y1-ry) + "A" + a + " 0 0 1 " + num(x0) + "," + num(y1-ry) + `Z"` + paint + "/>")
		b.WriteString(`<path d="M` + num(x0) + "," + num(y0+ry) + "A" + a + " 0 0 0 " + num(x1) + "," + num(y0+ry) + `"` + line + "/>")
	case shapeNote:
		const f = noteFold
		b.polygon(paint, x0, y0, x1-f, y0, x1, y0+f, x1, y1, x0, y1)
		b.WriteString(`<path d="M` + num(x1-f) + "," + num(y0) + "V" + num(y0+f) + "H" + num(x1) + `"` + line + "/>")
	case shapeDiamond:
		b.polygon(paint, v.x, y0, x1, v.y, v.x, y1, x0, v.y)
	case shapeHexagon:
		s := v.hexInset()
		b.polygon(paint, x0+s, y0, x1-s, y0, x1, v.y, x1-s, y1, x0+s, y1, x0, v.y)
	case shapeFolder:
		tw := folderTabW(v.w)
		b.polygon(paint, x0, y0, x0+tw, y0, x0+tw+folderSlant, y0+folderTab, x1, y0+folderTab, x1, y1, x0, y1)
	}
	// Text: the title in bold, then the prompt.
	top := v.y + v.textDy - float64(len(v.lines))*nodeLineH/2
	for i, ln := range v.lines {
		y := top + float64(i)*nodeLineH + nodeLineH/2 + 0.36*nodeFontSize
		b.WriteString(`<text`)
		if i < v.titleLines {
			b.WriteString(` class="title"`)
		}
		b.WriteString(` x="` + num(v.x) + `" y="` + num(y) + `" fill="` + st.text + `">`)
		b.text(ln)
		b.WriteString("</text>")
	}
	b.WriteString("</g>\n")
}

// cssKind is a node kind as a class name: known kinds only.
func cssKind(kind string) string {
	if _, ok := nodeStyles[kind]; ok {
		return strings.ReplaceAll(kind, "_", "-")
	}
	return "say"
}

// nodeTitle is the hover text of a node: its name and what it says.
func nodeTitle(n *Node) string {
	t := strings.Join(lines(n.Label), " ")
	if n.Prompt != "" {
		t += "\n" + n.Prompt
	}
	return t
}

// edgeTitle is the hover text of an edge: where it goes and why.
func edgeTitle(e *vedge) string {
	if e.marker {
		return "start → " + strings.Join(lines(e.to.node.Label), " ")
	}
	t := strings.Join(lines(e.from.node.Label), " ") + " → " + strings.Join(lines(e.to.node.Label), " ")
	if e.Label != "" {
		t += ": " + strings.Join(lines(e.Label), " ")
	}
	return t
}

// svgWriter writes SVG elements.
type svgWriter struct{ bytes.Buffer }

func (b *svgWriter) rect(x, y, w, h, r float64, paint string) {
	b.WriteString(`<rect x="` + num(x) + `" y="` + num(y) + `" width="` + num(w) + `" height="` + num(h) + `"`)
	if r > 0 {
		b.WriteString(` rx="` + num(r) + `"`)
	}
	b.WriteString(paint + "/>")
}

func (b *svgWriter) polygon(paint string, xy ...float64) {
	b.WriteString(`<polygon points="`)
	for i := 0; i+1 < len(xy); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(xy[i]) + "," + num(xy[i+1]))
	}
	b.WriteString(`"` + paint + "/>")
}

// text writes s as XML character data: markup characters escaped, tabs as
// spaces, control characters dropped, and invalid UTF-8 and the characters
// XML does not allow (U+FFFE, U+FFFF) as U+FFFD.
func (b *svgWriter) text(s string) {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '\t':
			b.WriteByte(' ')
		case r == '\n':
			b.WriteByte('\n')
		case unicode.IsControl(r):
		case r == 0xFFFE || r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r) // RuneError for invalid UTF-8
		}
	}
}

// num formats a coordinate to a tenth of a pixel.
func num(x float64) string {
	x = math.Round(x*10) / 10
	if x == 0 {
		x = 0 // no "-0"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
