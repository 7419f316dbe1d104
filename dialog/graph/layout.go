package graph

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
)

// The layered ("Sugiyama") layout that SVG draws, in plain Go:
//
//  1. prepare: one box per node, sized to its text; a dot above the start
//     node; room right of a box for its self-loops and their labels.
//  2. acyclic: edges into the start node, and the back edges of a
//     depth-first search from it (then from the other sources, then the
//     rest, in the graph's order), are reversed, so that the flow runs
//     downwards; they are drawn back up, their arrows into their targets.
//  3. rank: longest path from the top, then each node moves to whichever end
//     of its free range shortens its edges. Ranks are doubled: boxes sit on
//     even ranks, edge labels on the odd ranks between them, as dummy nodes
//     as wide as the label, so that a label never covers a box.
//  4. makeChains: an edge spanning several ranks gets a dummy node on each.
//  5. order: weighted-median sweeps down and up, each followed by swaps of
//     neighbours, keep the order with the fewest crossings; ties keep the
//     order of the script.
//  6. placeX: every node moves towards the weighted mean of its neighbours
//     above and below, each rank solved exactly under its no-overlap
//     constraints (pool adjacent violators), the weights reweighted by slant
//     so that the sweeps approach Graphviz's least sum of slants; then long
//     edges are straightened where their rows leave room.
//  7. placeY: rows as high as their tallest box or label, further apart
//     where edges go far sideways.
//  8. route: edges leave the bottom and enter the top of their boxes through
//     ports spread in the order of their neighbours; they go straight down
//     through rows and labels and straight across free space in between
//     (the points between are dropped wherever the line keeps clear of
//     boxes and labels), with rounded corners. Self-loops go round the
//     right side of their box.
//
// Each phase is about linear in the boxes plus the dummies (or n log n),
// except crossing reduction, which makes at most maxSweeps sweeps; the
// context is checked between phases and between sweeps.

// Geometry, in SVG pixels.
const (
	nodeLineH    = 16 // line height of node text (nodeFontSize)
	edgeLineH    = 13 // line height of edge labels (edgeFontSize)
	nodePadX     = 12
	nodePadY     = 8
	minNodeW     = 64
	minNodeH     = 34
	labelPadX    = 4
	labelPadY    = 1
	labelCols    = 32 // edge labels wrap at this many columns
	nodeSep      = 28 // between two boxes of a row
	nodeDummy    = 14 // between a box and an edge passing it
	dummySep     = 9  // between two edges passing side by side
	rankGap      = 20 // between a row of boxes and a row of labels, at least
	maxRankGap   = 64
	gapSlope     = 0.1 // rows are apart at least this much of how far edges go sideways
	cornerRadius = 40  // of edges' bends, at most
	margin       = 16
	markerR      = 5 // radius of the start dot
	arrowLen     = 8 // length of an arrowhead
	arrowHalfW   = 3.5
	portSep      = 12 // preferred distance between two ports of a side
	loopExt      = 20 // how far the first self-loop reaches right of its box
	loopStep     = 9  // and each further one
	cornerR      = 6  // radius of rounded boxes
	cylinderRy   = 5  // half height of a cylinder's ellipses
	box3dDepth   = 5
	noteFold     = 9
	folderTab    = 6
	folderSlant  = 4
	maxSweeps    = 24 // crossing reduction sweeps
	maxPlaceIts  = 60 // x placement sweeps
	irlsDelta    = 4  // slant (px) below which placement minimises squares
)

// shapes of boxes.
const (
	shapeRect = iota
	shapeRounded
	shapeBox3D
	shapeCylinder
	shapeNote
	shapeDiamond
	shapeHexagon
	shapeFolder
	shapeCircle // the start dot
)

var kindShapes = map[string]int{
	KindListen: shapeRounded, KindCollect: shapeBox3D, KindHTTP: shapeCylinder,
	KindTransfer: shapeRect, KindRecord: shapeNote, KindBranch: shapeDiamond,
	KindHangup: shapeRounded, KindSay: shapeRect, KindAny: shapeHexagon,
	KindAnswers: shapeFolder, KindAfterHours: shapeRounded,
}

type pt struct{ X, Y float64 }

// box is an axis-aligned rectangle: top-left corner and size.
type box struct{ X, Y, W, H float64 }

func (b box) overlaps(c box) bool {
	return b.X < c.X+c.W && c.X < b.X+b.W && b.Y < c.Y+c.H && c.Y < b.Y+b.H
}

// vnode is a node of the layered graph: a box, or a dummy an edge passes
// through (which may carry the edge's label).
type vnode struct {
	idx    int
	node   *Node // nil for the start dot and dummies
	marker bool  // the start dot
	edge   *vedge
	label  bool // a dummy carrying its edge's label

	shape      int
	lines      []string // text of a box
	titleLines int      // how many of lines are the title (bold)
	w, h       float64  // size of the box or label
	lw, rw     float64  // room left and right of x, for placement
	textDy     float64  // where the text block's centre is below y

	layer, rank, pos int
	x, y             float64 // centre

	up, down []*vseg  // segments to the rank above and below
	loops    []*vedge // self-loops
	dfsState int8
}

// vseg is a piece of an edge between two adjacent ranks.
type vseg struct {
	from, to   *vnode // from is on the rank above
	e          *vedge
	w          float64 // weight in placement: long edges stay straight
	fromX, toX float64 // ports
}

// vedge is an edge as drawn.
type vedge struct {
	Edge
	idx      int
	from, to *vnode // as in the graph
	marker   bool   // from the start dot
	reversed bool   // drawn against the flow (a loop back)
	chain    []*vnode
	segs     []*vseg
	lines    []string // label lines
	lw, lh   float64  // label size with its padding
	lbl      *vnode   // the dummy carrying the label

	// Set by route.
	path      []pathSeg
	start     pt    // where the edge leaves its first node
	end       pt    // the tip of its arrow, on the last node's boundary
	arrow     [3]pt // tip, then the two corners of the base
	labelBox  box   // zero W when there is no label
	selfIndex int   // self-loops: which one of the node's
}

// pathSeg is a straight line to P (line, C1 and C2 unused) or a cubic
// Bézier to P.
type pathSeg struct {
	C1, C2, P pt
	line      bool
}

type layout struct {
	nodes  []*vnode // boxes (the graph's nodes, then the start dot), then dummies
	nBoxes int
	edges  []*vedge
	ranks  [][]*vnode
	rowTop []float64
	rowH   []float64
	width  float64
	height float64
}

// newLayout lays out g. It returns ctx's error if ctx ends first.
func newLayout(ctx context.Context, g *Graph) (*layout, error) {
	l := &layout{}
	l.prepare(g)
	for _, phase := range []func(){l.acyclic, l.rank} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		phase()
	}
	// The work grows with the dummies, which the number of nodes and edges
	// does not bound: refuse before doing it.
	dummies := 0
	for _, e := range l.edges {
		if e.from != e.to {
			dummies += max(0, e.to.rank-e.from.rank, e.from.rank-e.to.rank) - 1
		}
	}
	if dummies > maxSVGBends {
		return nil, fmt.Errorf("graph: the flow is too tangled to lay out as SVG (its long edges bend %d times, at most %d); use the Mermaid or DOT format", dummies, maxSVGBends)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.makeChains()
	if err := l.order(ctx); err != nil {
		return nil, err
	}
	if err := l.placeX(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.placeY()
	l.route()
	return l, nil
}

// prepare makes a box per node (a hand-made graph may repeat a node, or
// name one in an edge or as Start without declaring it: such a node is drawn
// as a plain box of its ID, as Graphviz would), and the start dot.
func (l *layout) prepare(g *Graph) {
	byID := map[string]*vnode{}
	add := func(n Node) *vnode {
		if v, ok := byID[n.ID]; ok {
			return v
		}
		nn := n
		v := &vnode{idx: len(l.nodes), node: &nn}
		l.nodes = append(l.nodes, v)
		byID[n.ID] = v
		v.size()
		return v
	}
	missing := func(id string) *vnode {
		if v, ok := byID[id]; ok {
			return v
		}
		return add(Node{ID: id, Label: id, Kind: KindSay})
	}
	for _, n := range g.Nodes {
		add(n)
	}
	for i, e := range g.Edges {
		ve := &vedge{Edge: e, idx: i, from: missing(e.From), to: missing(e.To)}
		if e.Label != "" {
			for _, ln := range lines(e.Label) {
				ve.lines = append(ve.lines, wrap(ln, labelCols)...)
			}
			for _, ln := range ve.lines {
				ve.lw = max(ve.lw, textWidth(ln, edgeFontSize, false))
			}
			ve.lw += 2 * labelPadX
			ve.lh = float64(len(ve.lines))*edgeLineH + 2*labelPadY
		}
		l.edges = append(l.edges, ve)
	}
	if g.Start != "" {
		start := missing(g.Start)
		m := &vnode{idx: len(l.nodes), marker: true, shape: shapeCircle, w: 2 * markerR, h: 2 * markerR}
		m.lw, m.rw = markerR, markerR
		l.nodes = append(l.nodes, m)
		l.edges = append(l.edges, &vedge{Edge: Edge{Kind: EdgeNext}, idx: len(l.edges), from: m, to: start, marker: true})
	}
	l.nBoxes = len(l.nodes)
	for _, e := range l.edges {
		if e.from == e.to {
			e.selfIndex = len(e.from.loops)
			e.from.loops = append(e.from.loops, e)
		}
	}
	// Self-loops and their labels take room on the right of their box.
	for _, v := range l.nodes[:l.nBoxes] {
		if len(v.loops) == 0 {
			continue
		}
		var lw float64
		for _, e := range v.loops {
			lw = max(lw, e.lw)
		}
		v.rw += loopExt + loopStep*float64(len(v.loops)-1) + 4 + lw
	}
}

// size sets a box's text and size from its node.
func (v *vnode) size() {
	n := v.node
	v.titleLines = len(lines(n.Label))
	v.lines = nodeLines(*n)
	var tw float64
	for i, ln := range v.lines {
		tw = max(tw, textWidth(ln, nodeFontSize, i < v.titleLines))
	}
	th := float64(len(v.lines)) * nodeLineH
	shape, ok := kindShapes[n.Kind]
	if !ok {
		shape = shapeRect
	}
	v.shape = shape
	w := max(tw+2*nodePadX, minNodeW)
	h := max(th+2*nodePadY, minNodeH)
	switch shape {
	case shapeBox3D:
		w += box3dDepth
		h += box3dDepth
		v.textDy = box3dDepth / 2
	case shapeNote:
		w += noteFold / 2
	case shapeFolder:
		h += folderTab
		v.textDy = folderTab / 2
	case shapeCylinder:
		h += 2 * cylinderRy
		v.textDy = cylinderRy / 2
	case shapeHexagon:
		w += h * 0.6
	case shapeDiamond:
		// The text's box must fit inside: (tw/2)/a + (th/2)/b <= 1.
		b := th/2 + 16
		a := (tw/2 + 6) / (1 - (th/2+2)/b)
		w, h = max(2*a, minNodeW+16), 2*b
	}
	v.w, v.h = w, h
	v.lw, v.rw = w/2, w/2
}

// bbox is a box's bounding box.
func (v *vnode) bbox() box { return box{v.x - v.w/2, v.y - v.h/2, v.w, v.h} }

// hexInset is how far a hexagon's top and bottom sides are inset.
func (v *vnode) hexInset() float64 { return v.h * 0.3 }

// portRange is where edges may meet the top and bottom of a box.
func (v *vnode) portRange() (lo, hi float64) {
	var m float64
	switch v.shape {
	case shapeCircle:
		return v.x, v.x
	case shapeDiamond:
		return v.x - v.w*0.22, v.x + v.w*0.22
	case shapeHexagon:
		m = v.hexInset() + 2
	case shapeRounded:
		m = cornerR + 3
	case shapeCylinder:
		m = v.w * 0.15
	case shapeBox3D:
		m = box3dDepth + 6
	case shapeNote:
		m = noteFold + 4
	default:
		m = 6
	}
	m = min(m, v.w/2)
	return v.x - v.w/2 + m, v.x + v.w/2 - m
}

// topY is where a vertical line at x meets the top of the box's outline;
// bottomY the same at the bottom. x is inside portRange.
func (v *vnode) topY(x float64) float64 {
	y0 := v.y - v.h/2
	dx := math.Abs(x - v.x)
	switch v.shape {
	case shapeCircle:
		return v.y - math.Sqrt(max(0, markerR*markerR-dx*dx))
	case shapeDiamond:
		return v.y - v.h/2*(1-dx/(v.w/2))
	case shapeHexagon:
		if s := v.hexInset(); dx > v.w/2-s {
			return v.y - v.h/2*(v.w/2-dx)/s
		}
	case shapeCylinder:
		a := v.w / 2
		return y0 + cylinderRy - cylinderRy*math.Sqrt(max(0, 1-(dx/a)*(dx/a)))
	case shapeFolder:
		tx := v.x - v.w/2 + folderTabW(v.w) // the tab's top right corner
		switch {
		case x >= tx+folderSlant:
			return y0 + folderTab
		case x > tx:
			return y0 + folderTab*(x-tx)/folderSlant
		}
	case shapeNote:
		if x1 := v.x + v.w/2; x > x1-noteFold {
			return y0 + x - (x1 - noteFold)
		}
	}
	return y0
}

func (v *vnode) bottomY(x float64) float64 {
	y1 := v.y + v.h/2
	dx := math.Abs(x - v.x)
	switch v.shape {
	case shapeCircle:
		return v.y + math.Sqrt(max(0, markerR*markerR-dx*dx))
	case shapeDiamond:
		return v.y + v.h/2*(1-dx/(v.w/2))
	case shapeHexagon:
		if s := v.hexInset(); dx > v.w/2-s {
			return v.y + v.h/2*(v.w/2-dx)/s
		}
	case shapeCylinder:
		a := v.w / 2
		return y1 - cylinderRy + cylinderRy*math.Sqrt(max(0, 1-(dx/a)*(dx/a)))
	}
	return y1
}

// rightX is where a horizontal line at y meets the right of the outline.
func (v *vnode) rightX(y float64) float64 {
	x1 := v.x + v.w/2
	dy := math.Abs(y - v.y)
	switch v.shape {
	case shapeDiamond:
		return v.x + v.w/2*(1-dy/(v.h/2))
	case shapeHexagon:
		return x1 - v.hexInset()*dy/(v.h/2)
	case shapeCircle:
		return v.x + math.Sqrt(max(0, markerR*markerR-dy*dy))
	}
	return x1
}

func folderTabW(w float64) float64 { return min(w*0.4, 44) }

// acyclic reverses edges so that the layered graph has no cycle: every edge
// into the start node (it is drawn on top), then the back edges of a
// depth-first search from the start dot, then from the other nodes without
// incoming edges, then from the rest, each in the order of the graph.
func (l *layout) acyclic() {
	var start *vnode
	for _, e := range l.edges {
		if e.marker {
			start = e.to
		}
	}
	for _, e := range l.edges {
		if start != nil && e.to == start && !e.marker && e.from != e.to {
			e.reversed = true
		}
	}
	// Layered adjacency: tail(e) -> head(e) after reversal.
	succ := make([][]*vedge, len(l.nodes))
	indeg := make([]int, len(l.nodes))
	for _, e := range l.edges {
		if e.from == e.to {
			continue
		}
		t, b := e.ends()
		succ[t.idx] = append(succ[t.idx], e)
		indeg[b.idx]++
	}
	type frame struct {
		v *vnode
		i int
	}
	var stack []frame
	dfs := func(root *vnode) {
		if root.dfsState != 0 {
			return
		}
		root.dfsState = 1
		stack = append(stack[:0], frame{root, 0})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i == len(succ[f.v.idx]) {
				f.v.dfsState = 2
				stack = stack[:len(stack)-1]
				continue
			}
			e := succ[f.v.idx][f.i]
			f.i++
			_, h := e.ends()
			switch h.dfsState {
			case 0:
				h.dfsState = 1
				stack = append(stack, frame{h, 0})
			case 1:
				e.reversed = !e.reversed
			}
		}
	}
	for _, v := range l.nodes {
		if v.marker {
			dfs(v)
		}
	}
	for _, v := range l.nodes {
		if indeg[v.idx] == 0 {
			dfs(v)
		}
	}
	for _, v := range l.nodes {
		dfs(v)
	}
}

// ends are an edge's ends in the layered graph: top, then bottom.
func (e *vedge) ends() (top, bottom *vnode) {
	if e.reversed {
		return e.to, e.from
	}
	return e.from, e.to
}

// rank assigns layers: the longest path from the top, then each node moves
// to whichever end of its free range shortens its edges. The start dot is
// alone on layer 0 and the start node on layer 1.
func (l *layout) rank() {
	n := len(l.nodes)
	ups := make([][]*vnode, n)
	downs := make([][]*vnode, n)
	indeg := make([]int, n)
	for _, e := range l.edges {
		if e.from == e.to {
			continue
		}
		t, b := e.ends()
		downs[t.idx] = append(downs[t.idx], b)
		ups[b.idx] = append(ups[b.idx], t)
		indeg[b.idx]++
	}
	minLayer, start := 0, (*vnode)(nil)
	for _, e := range l.edges {
		if e.marker {
			minLayer, start = 1, e.to
		}
	}
	// Kahn's algorithm in node order.
	queue := make([]*vnode, 0, n)
	for _, v := range l.nodes {
		v.layer = minLayer
		if v.marker {
			v.layer = 0
		}
		if indeg[v.idx] == 0 {
			queue = append(queue, v)
		}
	}
	for i := 0; i < len(queue); i++ {
		v := queue[i]
		for _, w := range downs[v.idx] {
			w.layer = max(w.layer, v.layer+1)
			if indeg[w.idx]--; indeg[w.idx] == 0 {
				queue = append(queue, w)
			}
		}
	}
	// Move nodes with more edges below than above down, and the other way
	// round, within the layers their neighbours leave free.
	for range 8 {
		moved := false
		for _, v := range l.nodes {
			if v.marker || v == start {
				continue
			}
			lo, hi := minLayer, math.MaxInt
			for _, u := range ups[v.idx] {
				lo = max(lo, u.layer+1)
			}
			for _, w := range downs[v.idx] {
				hi = min(hi, w.layer-1)
			}
			in, out := len(ups[v.idx]), len(downs[v.idx])
			to := v.layer
			switch {
			case in == 0 && out == 0:
				to = minLayer
			case out > in:
				to = hi
			case in > out:
				to = lo
			}
			if to != v.layer {
				v.layer, moved = to, true
			}
		}
		if !moved {
			break
		}
	}
	// Drop empty layers.
	maxLayer := 0
	for _, v := range l.nodes {
		maxLayer = max(maxLayer, v.layer)
	}
	used := make([]int, maxLayer+2)
	for _, v := range l.nodes {
		used[v.layer] = 1
	}
	for i := 1; i < len(used); i++ {
		used[i] += used[i-1]
	}
	for _, v := range l.nodes {
		v.layer = used[v.layer] - 1
		v.rank = 2 * v.layer
	}
}

// makeChains splits each edge into segments between adjacent ranks, with a
// dummy node on each rank in between. The label rides on the dummy of the
// label rank (odd) nearest the middle of the edge, nearer its source on a tie.
func (l *layout) makeChains() {
	nRanks := 0
	for _, v := range l.nodes {
		nRanks = max(nRanks, v.rank+1)
	}
	for _, e := range l.edges {
		if e.from == e.to {
			continue
		}
		t, b := e.ends()
		lblRank := -1
		if len(e.lines) > 0 {
			mid := (t.rank + b.rank) / 2
			lblRank = mid
			if mid%2 == 0 {
				lblRank = mid - 1
				if e.reversed {
					lblRank = mid + 1
				}
			}
		}
		e.chain = append(e.chain, t)
		prev := t
		for r := t.rank + 1; r <= b.rank; r++ {
			next := b
			if r < b.rank {
				next = &vnode{idx: len(l.nodes), edge: e, rank: r}
				if r == lblRank {
					next.label, e.lbl = true, next
					next.w, next.h = e.lw, e.lh
					next.lw, next.rw = e.lw/2, e.lw/2
				}
				l.nodes = append(l.nodes, next)
			}
			s := &vseg{from: prev, to: next, e: e}
			prev.down = append(prev.down, s)
			next.up = append(next.up, s)
			e.segs = append(e.segs, s)
			e.chain = append(e.chain, next)
			prev = next
		}
	}
	// Weights for placement: the inner segments of long edges weigh most,
	// so that they run straight; a segment at a box weighs less the more
	// segments share that side of the box, so that the labels of a fan of
	// edges sit by the boxes they lead to, not in a crowd by their source.
	for _, v := range l.nodes[l.nBoxes:] {
		for _, s := range v.down {
			if s.to.edge != nil {
				s.w = 8
			} else {
				s.w = 1 + 4/float64(len(s.to.up))
			}
		}
		for _, s := range v.up {
			if s.from.edge == nil {
				s.w = 1 + 4/float64(len(s.from.down))
			}
		}
	}
	l.ranks = make([][]*vnode, nRanks)
	// Initial order: depth first from the top, in the graph's order.
	seen := make([]bool, len(l.nodes))
	var stack []*vnode
	visit := func(root *vnode) {
		if seen[root.idx] {
			return
		}
		stack = append(stack[:0], root)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[v.idx] {
				continue
			}
			seen[v.idx] = true
			v.pos = len(l.ranks[v.rank])
			l.ranks[v.rank] = append(l.ranks[v.rank], v)
			for i := len(v.down) - 1; i >= 0; i-- {
				if w := v.down[i].to; !seen[w.idx] {
					stack = append(stack, w)
				}
			}
		}
	}
	for _, v := range l.nodes[:l.nBoxes] {
		if v.marker {
			visit(v)
		}
	}
	for _, v := range l.nodes[:l.nBoxes] {
		if len(v.up) == 0 {
			visit(v)
		}
	}
	for _, v := range l.nodes {
		visit(v)
	}
}

// order reduces crossings with median sweeps down and up, each followed by
// swaps of adjacent nodes, keeping the best order found.
func (l *layout) order(ctx context.Context) error {
	best := l.crossings()
	bestPos := l.positions()
	stale := 0
	for it := 0; it < maxSweeps && best > 0 && stale < 4; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		down := it%2 == 0
		if down {
			for r := 1; r < len(l.ranks); r++ {
				l.sortRank(r, true)
			}
		} else {
			for r := len(l.ranks) - 2; r >= 0; r-- {
				l.sortRank(r, false)
			}
		}
		l.transpose()
		if c := l.crossings(); c < best {
			best, bestPos, stale = c, l.positions(), 0
		} else {
			stale++
		}
	}
	for _, v := range l.nodes {
		v.pos = bestPos[v.idx]
	}
	for _, rk := range l.ranks {
		slices.SortFunc(rk, func(a, b *vnode) int { return a.pos - b.pos })
	}
	return nil
}

func (l *layout) positions() []int {
	p := make([]int, len(l.nodes))
	for _, v := range l.nodes {
		p[v.idx] = v.pos
	}
	return p
}

// sortRank orders rank r by the median position of each node's neighbours
// on the rank above (byUp) or below. Nodes without such neighbours keep
// their place; ties keep the current order.
func (l *layout) sortRank(r int, byUp bool) {
	rk := l.ranks[r]
	type keyed struct {
		v   *vnode
		key float64
	}
	var ps []float64
	movable := make([]keyed, 0, len(rk))
	fixed := make([]bool, len(rk))
	for i, v := range rk {
		ps = ps[:0]
		segs := v.down
		if byUp {
			segs = v.up
		}
		for _, s := range segs {
			if byUp {
				ps = append(ps, float64(s.from.pos))
			} else {
				ps = append(ps, float64(s.to.pos))
			}
		}
		if m := median(ps); m >= 0 {
			movable = append(movable, keyed{v, m})
		} else {
			fixed[i] = true
		}
	}
	if len(movable) < 2 {
		return
	}
	slices.SortStableFunc(movable, func(a, b keyed) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.v.pos - b.v.pos
	})
	j := 0
	for i := range rk {
		if !fixed[i] {
			rk[i] = movable[j].v
			j++
		}
	}
	for i, v := range rk {
		v.pos = i
	}
}

// median is the weighted median of positions, as Graphviz computes it; -1
// when there are none.
func median(ps []float64) float64 {
	switch len(ps) {
	case 0:
		return -1
	case 1:
		return ps[0]
	case 2:
		return (ps[0] + ps[1]) / 2
	}
	slices.Sort(ps)
	m := len(ps) / 2
	if len(ps)%2 == 1 {
		return ps[m]
	}
	left, right := ps[m-1]-ps[0], ps[len(ps)-1]-ps[m]
	if left+right == 0 {
		return (ps[m-1] + ps[m]) / 2
	}
	return (ps[m-1]*right + ps[m]*left) / (left + right)
}

// transpose swaps adjacent nodes of a rank while that removes crossings.
func (l *layout) transpose() {
	for pass := 0; pass < 4; pass++ {
		improved := false
		for _, rk := range l.ranks {
			for i := 0; i+1 < len(rk); i++ {
				a, b := rk[i], rk[i+1]
				if pairCrossings(b, a) < pairCrossings(a, b) {
					rk[i], rk[i+1] = b, a
					a.pos, b.pos = i+1, i
					improved = true
				}
			}
		}
		if !improved {
			return
		}
	}
}

// pairCrossings counts the crossings between the edges of a and those of b
// when a is left of b.
func pairCrossings(a, b *vnode) int {
	c := 0
	for _, sa := range a.up {
		for _, sb := range b.up {
			if sa.from.pos > sb.from.pos {
				c++
			}
		}
	}
	for _, sa := range a.down {
		for _, sb := range b.down {
			if sa.to.pos > sb.to.pos {
				c++
			}
		}
	}
	return c
}

// crossings counts all edge crossings (Barth, Jünger and Mutzel's
// accumulator tree, n log n per pair of ranks).
func (l *layout) crossings() int {
	total := 0
	var segs []*vseg
	var tree []int
	for r := 0; r+1 < len(l.ranks); r++ {
		segs = segs[:0]
		for _, v := range l.ranks[r] {
			segs = append(segs, v.down...)
		}
		slices.SortFunc(segs, func(a, b *vseg) int {
			if c := a.from.pos - b.from.pos; c != 0 {
				return c
			}
			return a.to.pos - b.to.pos
		})
		n := len(l.ranks[r+1])
		tree = slices.Grow(tree[:0], n+1)[:n+1]
		clear(tree)
		for i, s := range segs {
			// Segments seen so far whose lower end lies right of this one's.
			le := 0
			for k := s.to.pos + 1; k > 0; k -= k & -k {
				le += tree[k]
			}
			total += i - le
			for k := s.to.pos + 1; k <= n; k += k & -k {
				tree[k]++
			}
		}
	}
	return total
}

// gap is the least distance between a and b side by side, a on the left.
func gap(a, b *vnode) float64 {
	d := a.rw + b.lw
	switch {
	case a.edge == nil && b.edge == nil:
		d += nodeSep
	case a.edge == nil || b.edge == nil:
		d += nodeDummy
	case a.edge == b.edge:
		d += 2
	default:
		d += dummySep
	}
	return d
}

// placeX assigns x coordinates: each sweep moves the nodes of each rank as
// close as the rank's spacing allows to the weighted mean of their
// neighbours above and below, each rank solved exactly (see place). The
// weights are divided by the current slant of each segment (iteratively
// reweighted least squares), so that the sweeps approach the least sum of
// weighted slants, which Graphviz minimises: edges run straight where they
// can, rather than all a little askew. straighten then removes the jogs
// that long edges keep where their rows leave room.
func (l *layout) placeX(ctx context.Context) error {
	for _, rk := range l.ranks {
		x := 0.0
		for i, v := range rk {
			if i > 0 {
				x += gap(rk[i-1], v)
			}
			v.x = x
		}
		for _, v := range rk {
			v.x -= x / 2
		}
	}
	var p placer
	for it := 0; it < maxPlaceIts; it++ {
		if it%8 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var moved float64
		if it%2 == 0 {
			for _, rk := range l.ranks {
				moved = max(moved, p.place(rk))
			}
		} else {
			for r := len(l.ranks) - 1; r >= 0; r-- {
				moved = max(moved, p.place(l.ranks[r]))
			}
		}
		if moved < 0.1 {
			break
		}
	}
	l.straighten()
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, v := range l.nodes {
		minX = min(minX, v.x-max(v.lw, v.w/2))
		maxX = max(maxX, v.x+max(v.rw, v.w/2))
	}
	if len(l.nodes) == 0 {
		minX, maxX = 0, 0
	}
	for _, v := range l.nodes {
		v.x += margin - minX
	}
	l.width = maxX - minX + 2*margin
	return nil
}

// placer holds the scratch space of place.
type placer struct {
	target, weight, offset []float64
	blocks                 []pavBlock
}

type pavBlock struct {
	start    int
	w, wt, t float64
}

// place moves the nodes of a rank to minimise the sum of w*(x-target)^2,
// keeping them in order and apart (pool adjacent violators), and returns
// how far a node moved at most.
func (p *placer) place(rk []*vnode) float64 {
	n := len(rk)
	if n == 0 {
		return 0
	}
	p.target = slices.Grow(p.target[:0], n)[:n]
	p.weight = slices.Grow(p.weight[:0], n)[:n]
	p.offset = slices.Grow(p.offset[:0], n)[:n]
	for i, v := range rk {
		// A little inertia keeps nodes without neighbours in place.
		const inertia = 0.001
		sw, sx := inertia, inertia*v.x
		for _, s := range v.up {
			w := s.w / (math.Abs(s.from.x-v.x) + irlsDelta)
			sw += w
			sx += w * s.from.x
		}
		for _, s := range v.down {
			w := s.w / (math.Abs(s.to.x-v.x) + irlsDelta)
			sw += w
			sx += w * s.to.x
		}
		if i == 0 {
			p.offset[i] = 0
		} else {
			p.offset[i] = p.offset[i-1] + gap(rk[i-1], v)
		}
		p.target[i] = sx/sw - p.offset[i]
		p.weight[i] = sw
	}
	p.blocks = p.blocks[:0]
	for i := range n {
		b := pavBlock{start: i, w: p.weight[i], wt: p.weight[i] * p.target[i], t: p.target[i]}
		for len(p.blocks) > 0 && p.blocks[len(p.blocks)-1].t >= b.t {
			prev := p.blocks[len(p.blocks)-1]
			p.blocks = p.blocks[:len(p.blocks)-1]
			b.start, b.w, b.wt = prev.start, prev.w+b.w, prev.wt+b.wt
			b.t = b.wt / b.w
		}
		p.blocks = append(p.blocks, b)
	}
	var moved float64
	for k, b := range p.blocks {
		end := n
		if k+1 < len(p.blocks) {
			end = p.blocks[k+1].start
		}
		for i := b.start; i < end; i++ {
			x := b.t + p.offset[i]
			moved = max(moved, math.Abs(x-rk[i].x))
			rk[i].x = x
		}
	}
	return moved
}

// straighten lines up the dummies of each long edge: every run of them
// that the neighbours in their rows leave room for moves to one x, the
// median of theirs, so that the edge runs straight down instead of
// wavering. Nodes only move within their room, so nothing overlaps.
func (l *layout) straighten() {
	room := func(d *vnode) (lo, hi float64) {
		rk := l.ranks[d.rank]
		lo, hi = math.Inf(-1), math.Inf(1)
		if d.pos > 0 {
			lo = rk[d.pos-1].x + gap(rk[d.pos-1], d)
		}
		if d.pos+1 < len(rk) {
			hi = rk[d.pos+1].x - gap(d, rk[d.pos+1])
		}
		return lo, hi
	}
	var xs []float64
	for range 2 {
		for _, e := range l.edges {
			if len(e.chain) < 4 {
				continue // one dummy is straight already
			}
			ds := e.chain[1 : len(e.chain)-1]
			for i := 0; i < len(ds); {
				lo, hi := room(ds[i])
				j := i + 1
				for ; j < len(ds); j++ {
					a, b := room(ds[j])
					if max(lo, a) > min(hi, b) {
						break
					}
					lo, hi = max(lo, a), min(hi, b)
				}
				xs = xs[:0]
				for _, d := range ds[i:j] {
					xs = append(xs, d.x)
				}
				slices.Sort(xs)
				x := min(max(xs[len(xs)/2], lo), hi)
				for _, d := range ds[i:j] {
					d.x = x
				}
				i = j
			}
		}
	}
}

// placeY stacks the rows: each as high as its tallest box (or self-loop
// labels) or label, at least rankGap apart, more where edges have far to go
// sideways, so that they do not run flat along each other.
func (l *layout) placeY() {
	for _, v := range l.nodes[l.nBoxes:] {
		for _, s := range v.down {
			s.fromX = v.x
		}
		for _, s := range v.up {
			s.toX = v.x
		}
	}
	for _, v := range l.nodes[:l.nBoxes] {
		l.ports(v, v.down, true)
		l.ports(v, v.up, false)
	}
	l.rowTop = make([]float64, len(l.ranks))
	l.rowH = make([]float64, len(l.ranks))
	y := float64(margin)
	for r, rk := range l.ranks {
		var h float64
		for _, v := range rk {
			h = max(h, v.h)
			if len(v.loops) > 0 {
				h = max(h, loopLabelsH(v)+4)
			}
		}
		if r > 0 {
			var dx float64
			for _, v := range l.ranks[r-1] {
				for _, s := range v.down {
					dx = max(dx, math.Abs(s.toX-s.fromX))
				}
			}
			y += min(max(rankGap, dx*gapSlope), maxRankGap)
		}
		l.rowTop[r], l.rowH[r] = y, h
		for _, v := range rk {
			v.y = y + h/2
		}
		y += h
	}
	l.height = y + margin
	if len(l.ranks) == 0 {
		l.width, l.height = 2*margin, 2*margin
	}
}

func loopLabelsH(v *vnode) float64 {
	var h float64
	for i, e := range v.loops {
		if i > 0 {
			h += 2
		}
		h += max(e.lh, edgeLineH)
	}
	return h
}

// route places ports and edge labels and draws the edges.
func (l *layout) route() {
	for _, e := range l.edges {
		if e.from == e.to {
			l.routeLoop(e)
		} else {
			l.routeChain(e)
		}
	}
}

// ports spreads the ends of a box's segments along its bottom (or top), in
// the order of the nodes at their other ends, each as close to straight
// below (above) its neighbour as the others leave room for.
func (l *layout) ports(v *vnode, segs []*vseg, bottom bool) {
	if len(segs) == 0 {
		return
	}
	other := func(s *vseg) *vnode {
		if bottom {
			return s.to
		}
		return s.from
	}
	ss := slices.Clone(segs)
	slices.SortStableFunc(ss, func(a, b *vseg) int {
		if c := cmp.Compare(other(a).x, other(b).x); c != 0 {
			return c
		}
		return a.e.idx - b.e.idx
	})
	lo, hi := v.portRange()
	n := len(ss)
	sep := float64(portSep)
	if n > 1 {
		sep = min(sep, (hi-lo)/float64(n-1))
	}
	// Each port below (above) its neighbour, clamped to the range, then
	// pushed apart rightwards and pulled back leftwards; the ports fit
	// since sep*(n-1) <= hi-lo, so the first stays >= lo.
	xs := make([]float64, n)
	for i, s := range ss {
		xs[i] = min(max(other(s).x, lo), hi)
		if i > 0 {
			xs[i] = max(xs[i], xs[i-1]+sep)
		}
	}
	xs[n-1] = min(xs[n-1], hi)
	for i := n - 2; i >= 0; i-- {
		xs[i] = min(xs[i], xs[i+1]-sep)
	}
	for i, s := range ss {
		if bottom {
			s.fromX = xs[i]
		} else {
			s.toX = xs[i]
		}
	}
}

// rowBottom is the bottom of rank r's row.
func (l *layout) rowBottom(r int) float64 { return l.rowTop[r] + l.rowH[r] }

// routeChain draws an edge through its dummies. The path leaves its first
// box straight down to the bottom of the box's row, and enters its last
// box straight down from the top of that row; in between it would go
// straight down through each row, past boxes and labels, and through its
// own label. Where the
// straight line between two points further apart keeps clear of every box
// and every other label, the points in between are dropped ("string
// pulling"), so that edges cut across free space; the corners left are
// rounded.
func (l *layout) routeChain(e *vedge) {
	top, bot := e.chain[0], e.chain[len(e.chain)-1]
	first, last := e.segs[0], e.segs[len(e.segs)-1]
	p0 := pt{first.fromX, top.bottomY(first.fromX)}
	pn := pt{last.toX, bot.topY(last.toX)}
	type point struct {
		pt
		keep bool
	}
	// The arrowhead comes straight down (or up) into its box, the stretch
	// before it no shorter than the arrow, in the gap between the rows.
	exitY, entryY := l.rowBottom(top.rank), l.rowTop[bot.rank]
	if e.reversed {
		exitY = max(exitY, p0.Y+arrowLen+2)
	} else {
		entryY = min(entryY, pn.Y-arrowLen-2)
	}
	pts := []point{{p0, true}}
	if exitY > p0.Y+0.5 {
		pts = append(pts, point{pt{p0.X, exitY}, true})
	}
	for _, d := range e.chain[1 : len(e.chain)-1] {
		switch {
		case d.label:
			e.labelBox = box{d.x - d.w/2, d.y - d.h/2, d.w, d.h}
			pts = append(pts,
				point{pt{d.x, l.rowTop[d.rank]}, false}, point{pt{d.x, d.y - d.h/2}, true},
				point{pt{d.x, d.y + d.h/2}, true}, point{pt{d.x, l.rowBottom(d.rank)}, false})
		case l.rowH[d.rank] > 0:
			pts = append(pts, point{pt{d.x, l.rowTop[d.rank]}, false}, point{pt{d.x, l.rowBottom(d.rank)}, false})
		default:
			pts = append(pts, point{pt{d.x, d.y}, false})
		}
	}
	if entryY < pn.Y-0.5 {
		pts = append(pts, point{pt{pn.X, entryY}, true})
	}
	pts = append(pts, point{pn, true})

	q := []pt{pts[0].pt}
	for i := 0; i < len(pts)-1; {
		j := i + 1
		for !pts[j].keep && l.clear(pts[i].pt, pts[j+1].pt, e) {
			j++
		}
		q = append(q, pts[j].pt)
		i = j
	}
	if e.reversed {
		slices.Reverse(q)
	}
	e.start, e.end = q[0], q[len(q)-1]
	// The path ends at the base of the arrowhead.
	prev := q[len(q)-2]
	d := dist(prev, e.end)
	ux, uy := (e.end.X-prev.X)/d, (e.end.Y-prev.Y)/d
	base := pt{e.end.X - ux*arrowLen, e.end.Y - uy*arrowLen}
	q[len(q)-1] = base
	e.arrow = [3]pt{e.end, {base.X - uy*arrowHalfW, base.Y + ux*arrowHalfW}, {base.X + uy*arrowHalfW, base.Y - ux*arrowHalfW}}
	e.path = roundCorners(q, func(a, b pt) bool { return l.clear(a, b, e) })
}

func dist(a, b pt) float64 { return math.Hypot(b.X-a.X, b.Y-a.Y) }

// roundCorners draws a polyline with its inner corners rounded: quadratic
// arcs (as cubics) between points on the two sides of each corner, as wide
// as the arc keeps clear (clear reports whether a segment does).
func roundCorners(q []pt, clear func(a, b pt) bool) []pathSeg {
	q = slices.CompactFunc(slices.Clone(q), func(a, b pt) bool { return dist(a, b) < 0.01 })
	var out []pathSeg
	pen := q[0]
	lineTo := func(p pt) {
		if dist(pen, p) >= 0.01 {
			out = append(out, pathSeg{P: p, line: true})
			pen = p
		}
	}
	for i := 1; i < len(q)-1; i++ {
		a, c, b := q[i-1], q[i], q[i+1]
		in, out2 := dist(a, c), dist(c, b)
		// Half of each side, all of it at the ends (which are not rounded).
		ri, ro := in/2, out2/2
		if i == 1 {
			ri = in
		}
		if i == len(q)-2 {
			ro = out2
		}
		r := min(cornerRadius, ri, ro)
		cross := (c.X-a.X)*(b.Y-c.Y) - (c.Y-a.Y)*(b.X-c.X)
		dot := (c.X-a.X)*(b.X-c.X) + (c.Y-a.Y)*(b.Y-c.Y)
		if math.Abs(cross) < 1e-6*in*out2 && dot > 0 {
			continue // straight on
		}
		if r < 0.5 {
			lineTo(c)
			continue
		}
		var p1, p2 pt
		for ; r >= 2; r /= 2 {
			p1 = pt{c.X - (c.X-a.X)/in*r, c.Y - (c.Y-a.Y)/in*r}
			p2 = pt{c.X + (b.X-c.X)/out2*r, c.Y + (b.Y-c.Y)/out2*r}
			// The arc's middle, between the corner and its chord's.
			m := pt{(p1.X+p2.X)/4 + c.X/2, (p1.Y+p2.Y)/4 + c.Y/2}
			if clear(p1, m) && clear(m, p2) {
				break
			}
		}
		if r < 2 {
			lineTo(c)
			continue
		}
		lineTo(p1)
		out = append(out, pathSeg{
			C1: pt{p1.X + (c.X-p1.X)*2/3, p1.Y + (c.Y-p1.Y)*2/3},
			C2: pt{p2.X + (c.X-p2.X)*2/3, p2.Y + (c.Y-p2.Y)*2/3},
			P:  p2,
		})
		pen = p2
	}
	lineTo(q[len(q)-1])
	return out
}

// clear reports whether the segment from a to b keeps clear of every box
// and label, except e's own ends and label.
func (l *layout) clear(a, b pt, e *vedge) bool {
	if a.Y > b.Y {
		a, b = b, a
	}
	const pad = 5
	first, last := e.chain[0], e.chain[len(e.chain)-1]
	r := sort.Search(len(l.ranks), func(r int) bool { return l.rowBottom(r)+pad > a.Y })
	for ; r < len(l.ranks) && l.rowTop[r]-pad < b.Y; r++ {
		y0, y1 := max(a.Y, l.rowTop[r]-pad), min(b.Y, l.rowBottom(r)+pad)
		xa, xb := xAt(a, b, y0), xAt(a, b, y1)
		if xa > xb {
			xa, xb = xb, xa
		}
		rk := l.ranks[r]
		i := sort.Search(len(rk), func(i int) bool { return rk[i].x+rk[i].rw+pad >= xa })
		for ; i < len(rk) && rk[i].x-rk[i].lw-pad <= xb; i++ {
			v := rk[i]
			if v == first || v == last || v == e.lbl || v.edge != nil && !v.label {
				continue
			}
			o := box{v.x - v.lw - pad, v.y - v.h/2 - pad, v.lw + v.rw + 2*pad, v.h + 2*pad}
			if segmentHitsBox(a, b, o) {
				return false
			}
		}
	}
	return true
}

// xAt is the x of the line through a and b at height y.
func xAt(a, b pt, y float64) float64 {
	if b.Y == a.Y {
		return a.X
	}
	return a.X + (b.X-a.X)*(y-a.Y)/(b.Y-a.Y)
}

// segmentHitsBox reports whether the segment from a to b meets the inside
// of o (Liang and Barsky's clipping).
func segmentHitsBox(a, b pt, o box) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := b.X-a.X, b.Y-a.Y
	for _, c := range [4][2]float64{
		{-dx, a.X - o.X}, {dx, o.X + o.W - a.X},
		{-dy, a.Y - o.Y}, {dy, o.Y + o.H - a.Y},
	} {
		p, q := c[0], c[1]
		if p == 0 {
			if q <= 0 {
				return false
			}
			continue
		}
		t := q / p
		if p < 0 {
			t0 = max(t0, t)
		} else {
			t1 = min(t1, t)
		}
		if t0 >= t1 {
			return false
		}
	}
	return true
}

// routeLoop draws a self-loop on the right of its box, the k-th one a
// little wider than the one before, its label to the right of them all.
func (l *layout) routeLoop(e *vedge) {
	v := e.from
	k := float64(e.selfIndex)
	ext := loopExt + loopStep*k
	dy := min(v.h/2-3, 6+3*k)
	y0, y1 := v.y-dy, v.y+dy
	a := pt{v.rightX(y0), y0}
	b := pt{v.rightX(y1), y1}
	c1 := pt{a.X + ext*1.25, y0 - ext*0.45}
	c2 := pt{b.X + ext*1.25, y1 + ext*0.45}
	e.start, e.end = a, b
	// The arrow points along the curve's end tangent, c2 to b.
	ux, uy := b.X-c2.X, b.Y-c2.Y
	d := math.Hypot(ux, uy)
	ux, uy = ux/d, uy/d
	base := pt{b.X - ux*arrowLen, b.Y - uy*arrowLen}
	e.arrow = [3]pt{b, {base.X - uy*arrowHalfW, base.Y + ux*arrowHalfW}, {base.X + uy*arrowHalfW, base.Y - ux*arrowHalfW}}
	e.path = []pathSeg{{C1: c1, C2: c2, P: base}}
	if len(e.lines) > 0 {
		// Labels stacked to the right of the widest loop, centred on the box.
		right := v.x + v.w/2 + loopExt + loopStep*float64(len(v.loops)-1) + 4
		y := v.y - loopLabelsH(v)/2
		for _, o := range v.loops[:e.selfIndex] {
			y += max(o.lh, edgeLineH) + 2
		}
		e.labelBox = box{right, y, e.lw, e.lh}
	}
}
