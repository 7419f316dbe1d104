package media

import (
	"runtime"
	"sync"
	"time"
)

// Pacing constants.
const (
	// LateThreshold is how late a frame may leave before it counts as late
	// (Stats.LateFrames, PacerStats.Late): the quality bar is inter-packet
	// gaps within 2 ms of ptime at p99.
	LateThreshold = 2 * time.Millisecond

	// maxCatchUp bounds the frames one session sends at once when its shard
	// wakes late: the due frames go out back to back (the peer's jitter
	// buffer absorbs a short burst), older backlog is dropped and counted,
	// because a burst of a second of audio would overflow it instead.
	maxCatchUp = 3

	// sendAhead: a frame due within this much of now is sent now. Go timers
	// on Linux wake up to 1 ms late (epoll timeouts are in milliseconds), so
	// a shard aims its timer this much before the deadline and sends what
	// is due within the window, which centres the error on zero (about
	// ±0.5 ms) instead of making it 0-1 ms late.
	sendAhead = 500 * time.Microsecond

	// grid: sessions start on whole milliseconds of the pacer's clock, so
	// the sessions of a shard share few distinct deadlines and a shard
	// wakes at most about once per millisecond however many calls it has.
	grid = time.Millisecond
)

// Pacer sends the frames of many sessions on an absolute-time schedule:
// frame n of a session goes out at start+n·ptime, so nothing drifts however
// long the call. The sessions are spread over shards, each one goroutine
// that owns a deadline-ordered heap of its sessions, sleeps until the
// earliest deadline and sends every frame then due. There is no goroutine per
// session or per packet, and no single global loop: with 500 calls on two
// shards each wakes about once a millisecond and sends a dozen packets.
//
// A shard holds its lock while it sends, so a session's Close (which
// unregisters it) never races a send in progress.
type Pacer struct {
	epoch  time.Time
	shards []*shard
	mu     sync.Mutex // serialises add's shard choice
	wg     sync.WaitGroup
	once   sync.Once

	sessions sessionSet // for Totals
}

type shard struct {
	p    *Pacer
	mu   sync.Mutex
	heap []*Session
	wake chan struct{}
	done chan struct{}
	st   shardStats
}

type shardStats struct {
	frames, late, skipped uint64
	max                   time.Duration
	sum                   time.Duration // of the lateness of every frame (Lateness)
	hist                  histogram
}

// NewPacer starts a pacer with the given number of shards (goroutines);
// shards <= 0 means GOMAXPROCS.
func NewPacer(shards int) *Pacer {
	if shards <= 0 {
		shards = runtime.GOMAXPROCS(0)
	}
	p := &Pacer{epoch: time.Now()}
	for range shards {
		sh := &shard{p: p, wake: make(chan struct{}, 1), done: make(chan struct{})}
		p.shards = append(p.shards, sh)
		p.wg.Add(1)
		go sh.run()
	}
	return p
}

// Close stops the shards. Sessions still registered stop sending; closing
// them afterwards is fine.
func (p *Pacer) Close() {
	p.once.Do(func() {
		for _, sh := range p.shards {
			close(sh.done)
		}
		p.wg.Wait()
	})
}

// now is the pacer's clock (monotonic) in nanoseconds since NewPacer.
func (p *Pacer) now() int64 { return int64(time.Since(p.epoch)) }

// add registers s on the least loaded shard; its first frame is due at the
// next grid point.
func (p *Pacer) add(s *Session) {
	p.mu.Lock()
	best := p.shards[0]
	for _, sh := range p.shards[1:] {
		if sh.size() < best.size() {
			best = sh
		}
	}
	p.mu.Unlock()
	best.mu.Lock()
	g := int64(grid)
	s.next = (p.now()/g + 1) * g
	s.shard = best
	best.push(s)
	best.mu.Unlock()
	select {
	case best.wake <- struct{}{}:
	default:
	}
}

// remove unregisters s; after it returns, no frame of s is being sent or
// will be.
func (p *Pacer) remove(s *Session) {
	sh := s.shard
	if sh == nil {
		return
	}
	sh.mu.Lock()
	if s.heapIdx >= 0 {
		sh.removeAt(s.heapIdx)
	}
	sh.mu.Unlock()
}

func (sh *shard) size() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.heap)
}

func (sh *shard) run() {
	defer sh.p.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		sh.mu.Lock()
		now := sh.p.now()
		for len(sh.heap) > 0 && sh.heap[0].next <= now+int64(sendAhead) {
			sh.serve(sh.heap[0], now)
			sh.fix(0)
			now = sh.p.now()
		}
		wait := time.Hour
		if len(sh.heap) > 0 {
			wait = time.Duration(sh.heap[0].next - int64(sendAhead) - now)
		}
		sh.mu.Unlock()
		t.Reset(wait)
		select {
		case <-t.C:
		case <-sh.wake:
		case <-sh.done:
			return
		}
	}
}

// serve sends the frames of s that are due, at most maxCatchUp of them;
// older ones are skipped (their timestamps still advance, so the schedule
// holds).
func (sh *shard) serve(s *Session, now int64) {
	pt := int64(s.ptime)
	due := (now+int64(sendAhead)-s.next)/pt + 1
	if due > maxCatchUp {
		skip := due - maxCatchUp
		s.skipFrames(int(skip))
		s.next += skip * pt
		sh.st.skipped += uint64(skip)
		due = maxCatchUp
	}
	for range due {
		late := time.Duration(now - s.next)
		s.sendFrame(late)
		sh.st.frames++
		sh.st.sum += late
		sh.st.hist.add(late)
		if late > LateThreshold {
			sh.st.late++
		}
		sh.st.max = max(sh.st.max, late)
		s.next += pt
	}
}

// The heap is ordered by Session.next; Session.heapIdx is its position
// (-1 when not in a heap).

func (sh *shard) push(s *Session) {
	s.heapIdx = len(sh.heap)
	sh.heap = append(sh.heap, s)
	sh.up(s.heapIdx)
}

func (sh *shard) removeAt(i int) {
	last := len(sh.heap) - 1
	sh.swap(i, last)
	sh.heap[last].heapIdx = -1
	sh.heap[last] = nil
	sh.heap = sh.heap[:last]
	if i < last {
		sh.fix(i)
	}
}

func (sh *shard) fix(i int) {
	if !sh.down(i) {
		sh.up(i)
	}
}

func (sh *shard) swap(i, j int) {
	h := sh.heap
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (sh *shard) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if sh.heap[p].next <= sh.heap[i].next {
			return
		}
		sh.swap(i, p)
		i = p
	}
}

func (sh *shard) down(i int) bool {
	start, n := i, len(sh.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && sh.heap[r].next < sh.heap[l].next {
			m = r
		}
		if sh.heap[i].next <= sh.heap[m].next {
			break
		}
		sh.swap(i, m)
		i = m
	}
	return i > start
}

// PacerStats describes how well a pacer keeps its schedule. Lateness is the
// time a frame left minus its slot (start+n·ptime); it is negative for
// frames sent up to sendAhead early.
type PacerStats struct {
	Shards   int
	Sessions []int // per shard
	Frames   uint64
	Late     uint64 // frames later than LateThreshold
	Skipped  uint64 // frames dropped by bounded catch-up
	P50, P90 time.Duration
	P99      time.Duration
	P999     time.Duration
	Max      time.Duration
}

// Stats returns the pacer's counters since NewPacer or ResetStats.
func (p *Pacer) Stats() PacerStats {
	st := PacerStats{Shards: len(p.shards)}
	var h histogram
	for _, sh := range p.shards {
		sh.mu.Lock()
		st.Sessions = append(st.Sessions, len(sh.heap))
		st.Frames += sh.st.frames
		st.Late += sh.st.late
		st.Skipped += sh.st.skipped
		st.Max = max(st.Max, sh.st.max)
		h.merge(&sh.st.hist)
		sh.mu.Unlock()
	}
	// Quantiles are bucket upper bounds: never report one above the max.
	q := func(x float64) time.Duration { return min(h.quantile(x), st.Max) }
	st.P50, st.P90, st.P99, st.P999 = q(0.5), q(0.9), q(0.99), q(0.999)
	return st
}

// Lateness is the distribution of the lateness of the frames a pacer sent
// (for a metrics histogram): Cumulative[i] frames left at most Bounds[i]
// after their slot, to the resolution of the pacer's own histogram (10 µs
// from -1 ms to 2 ms, 100 µs to 20 ms, 1 ms to 200 ms: bounds on those
// steps are exact).
type Lateness struct {
	Count      uint64 // frames sent
	Sum        time.Duration
	Bounds     []time.Duration
	Cumulative []uint64
}

// Lateness returns the distribution of the lateness of the frames sent since
// NewPacer or ResetStats, counted at each of bounds (ascending).
func (p *Pacer) Lateness(bounds []time.Duration) Lateness {
	var h histogram
	l := Lateness{Bounds: bounds, Cumulative: make([]uint64, len(bounds))}
	for _, sh := range p.shards {
		sh.mu.Lock()
		l.Count += sh.st.frames
		l.Sum += sh.st.sum
		h.merge(&sh.st.hist)
		sh.mu.Unlock()
	}
	for i, n := range h.n {
		if n == 0 {
			continue
		}
		// A bucket holds lateness below its upper bound; the overflow
		// bucket counts only in the total.
		up := h.upper(i)
		for j, b := range bounds {
			if i < len(h.n)-1 && up <= b {
				l.Cumulative[j] += n
			}
		}
	}
	return l
}

// ResetStats clears the counters (to measure a steady state after warm-up).
func (p *Pacer) ResetStats() {
	for _, sh := range p.shards {
		sh.mu.Lock()
		sh.st = shardStats{}
		sh.mu.Unlock()
	}
}

// histogram of lateness: 10 µs buckets from -1 ms to 2 ms, 100 µs buckets to
// 20 ms, 1 ms buckets to 200 ms, then one overflow bucket.
type histogram struct{ n [300 + 180 + 180 + 1]uint64 }

func (h *histogram) add(d time.Duration) {
	us := d.Microseconds()
	var i int
	switch {
	case us < 2000:
		i = int(max(us+1000, 0) / 10)
	case us < 20000:
		i = 300 + int(us-2000)/100
	case us < 200000:
		i = 480 + int(us-20000)/1000
	default:
		i = len(h.n) - 1
	}
	h.n[i]++
}

// upper returns the upper bound of bucket i.
func (h *histogram) upper(i int) time.Duration {
	var us int
	switch {
	case i < 300:
		us = (i+1)*10 - 1000
	case i < 480:
		us = 2000 + (i-300+1)*100
	case i < 660:
		us = 20000 + (i-480+1)*1000
	default:
		return time.Hour
	}
	return time.Duration(us) * time.Microsecond
}

func (h *histogram) merge(o *histogram) {
	for i, v := range o.n {
		h.n[i] += v
	}
}

func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for _, v := range h.n {
		total += v
	}
	if total == 0 {
		return 0
	}
	want := uint64(q*float64(total-1)) + 1
	var acc uint64
	for i, v := range h.n {
		if acc += v; acc >= want {
			return h.upper(i)
		}
	}
	return time.Hour
}
