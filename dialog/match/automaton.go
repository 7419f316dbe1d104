package match

// automaton is an Aho–Corasick automaton over symbol IDs (interned units), so
// one pass over an utterance finds every keyword, exclusion and negator in it,
// whatever the number of keywords. Symbol 0 is "unknown": it matches nothing.
type automaton struct {
	next map[uint64]int32 // (state<<32 | symbol) → state
	fail []int32
	out  [][]int32 // patterns ending at each state, own and inherited through fail links
	lens []int     // length in symbols of each pattern
}

type hit struct {
	pattern    int32
	start, end int // unit positions, end exclusive
}

func newAutomaton() *automaton {
	return &automaton{next: map[uint64]int32{}, fail: []int32{0}, out: [][]int32{nil}}
}

func key(state int32, sym uint32) uint64 { return uint64(state)<<32 | uint64(sym) }

// add inserts a pattern and returns its ID.
func (a *automaton) add(syms []uint32) int32 {
	state := int32(0)
	for _, s := range syms {
		n, ok := a.next[key(state, s)]
		if !ok {
			n = int32(len(a.fail))
			a.fail = append(a.fail, 0)
			a.out = append(a.out, nil)
			a.next[key(state, s)] = n
		}
		state = n
	}
	id := int32(len(a.lens))
	a.lens = append(a.lens, len(syms))
	a.out[state] = append(a.out[state], id)
	return id
}

// build computes failure links breadth first and merges outputs along them.
func (a *automaton) build() {
	children := make([][]struct {
		sym   uint32
		state int32
	}, len(a.fail))
	for k, n := range a.next {
		from := int32(k >> 32)
		children[from] = append(children[from], struct {
			sym   uint32
			state int32
		}{uint32(k), n})
	}
	queue := []int32{}
	for _, c := range children[0] {
		a.fail[c.state] = 0
		queue = append(queue, c.state)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, c := range children[s] {
			f := a.fail[s]
			for {
				if n, ok := a.next[key(f, c.sym)]; ok && n != c.state {
					a.fail[c.state] = n
					break
				}
				if f == 0 {
					a.fail[c.state] = 0
					break
				}
				f = a.fail[f]
			}
			if inherited := a.out[a.fail[c.state]]; len(inherited) > 0 {
				merged := make([]int32, 0, len(a.out[c.state])+len(inherited))
				merged = append(merged, a.out[c.state]...)
				a.out[c.state] = append(merged, inherited...)
			}
			queue = append(queue, c.state)
		}
	}
}

// scan appends every pattern occurrence in syms to hits.
func (a *automaton) scan(syms []uint32, hits []hit) []hit {
	state := int32(0)
	for i, s := range syms {
		if s == 0 {
			state = 0
			continue
		}
		for {
			if n, ok := a.next[key(state, s)]; ok {
				state = n
				break
			}
			if state == 0 {
				break
			}
			state = a.fail[state]
		}
		for _, p := range a.out[state] {
			hits = append(hits, hit{pattern: p, start: i + 1 - a.lens[p], end: i + 1})
		}
	}
	return hits
}
