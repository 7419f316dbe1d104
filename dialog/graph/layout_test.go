package graph

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/hotline-dev/hotline/dialog"
)

// exampleGraph builds the graph of one of the example hotlines.
func exampleGraph(t testing.TB, name string) *Graph {
	t.Helper()
	s, err := dialog.LoadFile("../../examples/" + name + "/script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return Build(s)
}

// randomGraph has n nodes of every kind and m edges between random nodes,
// self-loops and parallel edges included, some labelled.
func randomGraph(n, m int, seed uint64) *Graph {
	r := rand.New(rand.NewPCG(seed, 1))
	kinds := []string{KindListen, KindCollect, KindHTTP, KindTransfer, KindRecord, KindBranch, KindHangup, KindSay, KindAny, KindAnswers, KindAfterHours}
	g := &Graph{Start: "n0"}
	for i := range n {
		id := "n" + strconv.Itoa(i)
		nd := Node{ID: id, Label: id, Kind: kinds[r.IntN(len(kinds))], Start: i == 0}
		if r.IntN(2) == 0 {
			nd.Prompt = "Prompt of node " + id + ", long enough to wrap once or twice."
		}
		g.Nodes = append(g.Nodes, nd)
	}
	for range m {
		e := Edge{From: "n" + strconv.Itoa(r.IntN(n)), To: "n" + strconv.Itoa(r.IntN(n)), Kind: EdgeRoute}
		if r.IntN(3) > 0 {
			e.Label = "intent_" + strconv.Itoa(r.IntN(100))
		}
		g.Edges = append(g.Edges, e)
	}
	return g
}

// layoutCases are the graphs whose layouts are checked.
func layoutCases(t testing.TB) map[string]*Graph {
	m := map[string]*Graph{
		"zh-shop":        exampleGraph(t, "zh-shop"),
		"en-utility":     exampleGraph(t, "en-utility"),
		"full":           Build(parse(t, fullScript)),
		"chinese":        Build(parse(t, chineseScript)),
		"hostile script": Build(parse(t, hostileScript)),
		"hostile graph":  hostileGraph(),
		"hostile XML":    hostileXMLGraph(),
		"random 400":     randomGraph(400, 600, 1),
		"random 60":      randomGraph(60, 120, 2),
	}
	for name, g := range smallCases() {
		m[name] = g
	}
	return m
}

// smallCases are small graphs made by hand, each for a case of the layout.
func smallCases() map[string]*Graph {
	return map[string]*Graph{
		"cycle": {Start: "a", Nodes: []Node{
			{ID: "a", Label: "a", Kind: KindListen}, {ID: "b", Label: "b", Kind: KindSay}, {ID: "c", Label: "c", Kind: KindBranch},
		}, Edges: []Edge{
			{From: "a", To: "b", Label: "go"}, {From: "b", To: "c"}, {From: "c", To: "a", Label: "again"}, {From: "c", To: "b", Label: "back"},
		}},
		"self-loops": {Start: "a", Nodes: []Node{
			{ID: "a", Label: "a", Kind: KindListen, Prompt: "Say something."}, {ID: "b", Label: "b", Kind: KindBranch},
		}, Edges: []Edge{
			{From: "a", To: "a", Label: "repeat"}, {From: "a", To: "a", Label: "pardon (repeat)"}, {From: "a", To: "b"},
			{From: "b", To: "b", Label: "loop"},
		}},
		"parallel": {Start: "a", Nodes: []Node{
			{ID: "a", Label: "a", Kind: KindListen}, {ID: "b", Label: "b", Kind: KindSay},
		}, Edges: []Edge{
			{From: "a", To: "b", Label: "yes"}, {From: "a", To: "b", Label: "yes please"}, {From: "a", To: "b"},
			{From: "b", To: "a", Label: "back"}, {From: "b", To: "a"},
		}},
		"disconnected": {Start: "a", Nodes: []Node{
			{ID: "a", Label: "a", Kind: KindListen}, {ID: "b", Label: "b", Kind: KindHangup}, {ID: "lonely", Label: "lonely", Kind: KindRecord},
		}, Edges: []Edge{{From: "a", To: "b", Label: "bye"}}},
		"empty":         {},
		"no start":      {Nodes: []Node{{ID: "a", Label: "a"}, {ID: "b", Label: "b"}}, Edges: []Edge{{From: "a", To: "b"}, {From: "b", To: "a"}}},
		"missing start": {Start: "nowhere"},
	}
}

func TestLayout(t *testing.T) {
	for name, g := range layoutCases(t) {
		t.Run(name, func(t *testing.T) {
			l, err := newLayout(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			checkLayout(t, l)
		})
	}
}

// checkLayout checks the geometry of a layout.
func checkLayout(t *testing.T, l *layout) {
	t.Helper()
	boxes := l.nodes[:l.nBoxes]
	page := box{0, 0, l.width, l.height}
	inside := func(b box) bool {
		return b.X >= -0.01 && b.Y >= -0.01 && b.X+b.W <= page.W+0.01 && b.Y+b.H <= page.H+0.01
	}
	// Boxes apart from each other, on the page.
	for i, v := range boxes {
		if !inside(v.bbox()) {
			t.Errorf("box %s %v outside the page %v", name(v), v.bbox(), page)
		}
		for _, w := range boxes[i+1:] {
			if v.bbox().overlaps(w.bbox()) {
				t.Errorf("boxes %s %v and %s %v overlap", name(v), v.bbox(), name(w), w.bbox())
			}
		}
	}
	var labels []box
	samples := map[*vedge][]pt{}
	for _, e := range l.edges {
		samples[e] = samplePath(e)
	}
	for _, e := range l.edges {
		what := fmt.Sprintf("edge %d %s -> %s", e.idx, name(e.from), name(e.to))
		// Every edge starts and ends on the outline of its boxes.
		if d := outlineDist(e.from, e.start); d > 1.5 {
			t.Errorf("%s starts at %v, %.1f from the outline of %v", what, e.start, d, e.from.bbox())
		}
		if d := outlineDist(e.to, e.end); d > 1.5 {
			t.Errorf("%s ends at %v, %.1f from the outline of %v", what, e.end, d, e.to.bbox())
		}
		// The arrowhead points at the end, and the path reaches its base.
		if e.arrow[0] != e.end {
			t.Errorf("%s: arrow tip %v, end %v", what, e.arrow[0], e.end)
		}
		base := pt{(e.arrow[1].X + e.arrow[2].X) / 2, (e.arrow[1].Y + e.arrow[2].Y) / 2}
		if len(e.path) == 0 || dist(e.path[len(e.path)-1].P, base) > 0.5 {
			t.Errorf("%s: path does not end at the arrow's base %v", what, base)
		}
		if math.Abs(dist(base, e.end)-arrowLen) > 0.5 {
			t.Errorf("%s: arrow of length %.1f", what, dist(base, e.end))
		}
		if len(e.lines) == 0 {
			if e.labelBox.W != 0 {
				t.Errorf("%s: a label box without a label", what)
			}
			continue
		}
		lb := e.labelBox
		if lb.W < textWidth(e.lines[0], edgeFontSize, false) || lb.H < float64(len(e.lines))*edgeLineH {
			t.Errorf("%s: label box %v too small for %q", what, lb, e.lines)
		}
		if !inside(lb) {
			t.Errorf("%s: label %v outside the page", what, lb)
		}
		// Labels clear of all boxes and of each other.
		for _, v := range boxes {
			if lb.overlaps(v.bbox()) {
				t.Errorf("%s: label %q %v overlaps box %s %v", what, e.Label, lb, name(v), v.bbox())
			}
		}
		for _, o := range labels {
			if lb.overlaps(o) {
				t.Errorf("%s: label %q %v overlaps another label %v", what, e.Label, lb, o)
			}
		}
		labels = append(labels, lb)
		// The label is on its edge (which passes under it).
		if e.from != e.to && !pointsMeet(samples[e], lb) {
			t.Errorf("%s: label %v is not on its edge", what, lb)
		}
	}
	// Edges pass neither through boxes other than their own ends nor under
	// other edges' labels (found through a grid of cells, for the large
	// graphs).
	type obstacle struct {
		b    box
		v    *vnode // a box
		e    *vedge // a label
		what string
	}
	const cell = 64
	grid := map[[2]int][]obstacle{}
	add := func(o obstacle) {
		for i := int(o.b.X) / cell; i <= int(o.b.X+o.b.W)/cell; i++ {
			for j := int(o.b.Y) / cell; j <= int(o.b.Y+o.b.H)/cell; j++ {
				grid[[2]int{i, j}] = append(grid[[2]int{i, j}], o)
			}
		}
	}
	for _, v := range boxes {
		add(obstacle{b: v.bbox(), v: v, what: "box " + name(v)})
	}
	for _, e := range l.edges {
		if e.labelBox.W > 0 {
			add(obstacle{b: e.labelBox, e: e, what: "label " + strconv.Quote(e.Label)})
		}
	}
edges:
	for _, e := range l.edges {
		var near []obstacle
		at := [2]int{-1, -1}
		for _, p := range samples[e] {
			if c := [2]int{int(p.X) / cell, int(p.Y) / cell}; c != at {
				at, near = c, grid[c]
			}
			for _, o := range near {
				if o.v != nil && (o.v == e.from || o.v == e.to) || o.e == e {
					continue
				}
				b := o.b
				if p.X > b.X+1 && p.X < b.X+b.W-1 && p.Y > b.Y+1 && p.Y < b.Y+b.H-1 {
					t.Errorf("edge %d %s -> %s passes through %s at %v", e.idx, name(e.from), name(e.to), o.what, p)
					continue edges
				}
			}
		}
	}
}

func name(v *vnode) string {
	if v.node == nil {
		return "(start)"
	}
	return strconv.Quote(v.node.ID)
}

// samplePath returns points along an edge's path, every 3 pixels or less.
func samplePath(e *vedge) []pt {
	var out []pt
	p := e.start
	for _, s := range e.path {
		n := int(math.Max(dist(p, s.C1)+dist(s.C1, s.C2)+dist(s.C2, s.P), dist(p, s.P))/3) + 1
		for i := 1; i <= n; i++ {
			t := float64(i) / float64(n)
			if s.line {
				out = append(out, pt{p.X + (s.P.X-p.X)*t, p.Y + (s.P.Y-p.Y)*t})
				continue
			}
			u := 1 - t
			out = append(out, pt{
				u*u*u*p.X + 3*u*u*t*s.C1.X + 3*u*t*t*s.C2.X + t*t*t*s.P.X,
				u*u*u*p.Y + 3*u*u*t*s.C1.Y + 3*u*t*t*s.C2.Y + t*t*t*s.P.Y,
			})
		}
		p = s.P
	}
	return out
}

func pointsMeet(ps []pt, b box) bool {
	for _, p := range ps {
		if p.X >= b.X && p.X <= b.X+b.W && p.Y >= b.Y && p.Y <= b.Y+b.H {
			return true
		}
	}
	return false
}

// outlineDist is how far p is from the outline of v's shape, computed from
// the shape's corners (not from the layout's own outline functions).
func outlineDist(v *vnode, p pt) float64 {
	x0, y0, x1, y1 := v.x-v.w/2, v.y-v.h/2, v.x+v.w/2, v.y+v.h/2
	cx, cy := v.x, v.y
	var poly []pt
	switch v.shape {
	case shapeCircle:
		return math.Abs(dist(p, pt{cx, cy}) - markerR)
	case shapeDiamond:
		poly = []pt{{cx, y0}, {x1, cy}, {cx, y1}, {x0, cy}}
	case shapeHexagon:
		s := v.h * 0.3
		poly = []pt{{x0 + s, y0}, {x1 - s, y0}, {x1, cy}, {x1 - s, y1}, {x0 + s, y1}, {x0, cy}}
	case shapeNote:
		poly = []pt{{x0, y0}, {x1 - noteFold, y0}, {x1, y0 + noteFold}, {x1, y1}, {x0, y1}}
	case shapeBox3D:
		d := float64(box3dDepth)
		poly = []pt{{x0, y0 + d}, {x0 + d, y0}, {x1, y0}, {x1, y1 - d}, {x1 - d, y1}, {x0, y1}}
	case shapeFolder:
		tw := min(v.w*0.4, 44)
		poly = []pt{{x0, y0}, {x0 + tw, y0}, {x0 + tw + folderSlant, y0 + folderTab}, {x1, y0 + folderTab}, {x1, y1}, {x0, y1}}
	case shapeCylinder:
		// Straight sides, and the outer halves of the two ellipses.
		a, ry := v.w/2, float64(cylinderRy)
		d := math.Min(math.Abs(p.X-x0), math.Abs(p.X-x1))
		if p.Y < y0+ry || p.Y > y1-ry {
			cyE := y0 + ry
			if p.Y > cy {
				cyE = y1 - ry
			}
			// Distance to the ellipse, approximately, in its scaled space.
			r := math.Hypot((p.X-cx)/a, (p.Y-cyE)/ry)
			d = math.Abs(r-1) * ry
		}
		return d
	default:
		poly = []pt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
	}
	d := math.Inf(1)
	for i := range poly {
		d = math.Min(d, segDist(p, poly[i], poly[(i+1)%len(poly)]))
	}
	return d
}

func segDist(p, a, b pt) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	t := ((p.X-a.X)*dx + (p.Y-a.Y)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return dist(p, pt{a.X + t*dx, a.Y + t*dy})
}

func TestLayoutCycle(t *testing.T) {
	l, err := newLayout(context.Background(), smallCases()["cycle"])
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*vnode{}
	for _, v := range l.nodes[:l.nBoxes] {
		if v.node != nil {
			byID[v.node.ID] = v
		}
	}
	a, b, c := byID["a"], byID["b"], byID["c"]
	if !(a.rank < b.rank && b.rank < c.rank) {
		t.Errorf("ranks a %d, b %d, c %d: want the flow downwards from the start", a.rank, b.rank, c.rank)
	}
	for _, e := range l.edges {
		wantRev := e.from.rank > e.to.rank
		if e.reversed != wantRev {
			t.Errorf("edge %s -> %s reversed = %v", name(e.from), name(e.to), e.reversed)
		}
		// Drawn the right way: the arrow points into e.to, from above for
		// an edge down the flow, from below for one back up.
		if e.marker {
			continue
		}
		tip, base := e.arrow[0], pt{(e.arrow[1].X + e.arrow[2].X) / 2, (e.arrow[1].Y + e.arrow[2].Y) / 2}
		if down := tip.Y > base.Y; down == e.reversed {
			t.Errorf("edge %s -> %s: arrow from %v to %v", name(e.from), name(e.to), base, tip)
		}
	}
}

func TestLayoutSelfLoops(t *testing.T) {
	l, err := newLayout(context.Background(), smallCases()["self-loops"])
	if err != nil {
		t.Fatal(err)
	}
	var loops []*vedge
	for _, e := range l.edges {
		if e.from == e.to {
			loops = append(loops, e)
		}
	}
	if len(loops) != 3 {
		t.Fatalf("%d self-loops", len(loops))
	}
	for _, e := range loops {
		b := e.from.bbox()
		if e.start.X < b.X+b.W/2 || e.end.X < b.X+b.W/2 {
			t.Errorf("loop %q not on the right: %v %v of %v", e.Label, e.start, e.end, b)
		}
		if e.labelBox.X < b.X+b.W {
			t.Errorf("loop label %q %v not right of its box %v", e.Label, e.labelBox, b)
		}
	}
	// The two loops of a are drawn apart.
	if loops[0].path[0].C1 == loops[1].path[0].C1 {
		t.Error("two self-loops of one node are drawn on top of each other")
	}
}

func TestLayoutParallel(t *testing.T) {
	l, err := newLayout(context.Background(), smallCases()["parallel"])
	if err != nil {
		t.Fatal(err)
	}
	es := l.edges[:5]
	for i, e := range es {
		for _, f := range es[i+1:] {
			if dist(e.start, f.start) < 4 && dist(e.end, f.end) < 4 ||
				dist(e.start, f.end) < 4 && dist(e.end, f.start) < 4 {
				t.Errorf("edges %d and %d share their ends: %v-%v and %v-%v", e.idx, f.idx, e.start, e.end, f.start, f.end)
			}
			// Their middles are apart too.
			pe, pf := samplePath(e), samplePath(f)
			if dist(pe[len(pe)/2], pf[len(pf)/2]) < 4 {
				t.Errorf("edges %d and %d run together", e.idx, f.idx)
			}
		}
	}
}

func TestLayoutDisconnected(t *testing.T) {
	l, err := newLayout(context.Background(), smallCases()["disconnected"])
	if err != nil {
		t.Fatal(err)
	}
	if len(l.nodes) < 3 || l.width <= 0 || l.height <= 0 {
		t.Fatalf("layout %+v", l)
	}
	for _, v := range l.nodes[:l.nBoxes] {
		if v.node != nil && v.node.ID == "lonely" && (len(v.up) > 0 || len(v.down) > 0) {
			t.Error("the lonely node has edges")
		}
	}
}

// ctxAfter is a context that reports itself canceled after its Err has
// been called n times.
type ctxAfter struct {
	context.Context
	n, calls int
}

func (c *ctxAfter) Err() error {
	c.calls++
	if c.calls > c.n {
		return context.Canceled
	}
	return nil
}

// Cancellation is noticed at every check, between phases and within the
// long ones.
func TestLayoutCanceledBetweenPhases(t *testing.T) {
	g := exampleGraph(t, "en-utility")
	all := &ctxAfter{Context: context.Background(), n: math.MaxInt}
	if _, err := newLayout(all, g); err != nil {
		t.Fatal(err)
	}
	if all.calls < 5 {
		t.Fatalf("the layout checks its context %d times", all.calls)
	}
	for n := range all.calls {
		if _, err := newLayout(&ctxAfter{Context: context.Background(), n: n}, g); err != context.Canceled {
			t.Errorf("canceled after %d checks: err = %v", n, err)
		}
	}
}

func BenchmarkLayout(b *testing.B) {
	for _, c := range []struct {
		name string
		g    *Graph
	}{
		{"zh-shop", exampleGraph(b, "zh-shop")},
		{"en-utility", exampleGraph(b, "en-utility")},
		{"random-400-600", randomGraph(400, 600, 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := newLayout(context.Background(), c.g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
