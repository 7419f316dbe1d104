package wav

import (
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Spool writes call recordings off the calls' own goroutines. A
// SpoolWriter encodes each frame into a block of memory on the caller's
// goroutine (the media receive goroutine, for a call) and hands full blocks
// to the spool's lanes, a few goroutines that create, write, fix up and
// close the files. A disk that stalls (an ext4 journal commit under heavy
// writeback can hold file creation for seconds) then delays recordings,
// never a call's set-up or its media: the call starts its prompt at once,
// and its receive goroutine never waits in write(2).
//
// A lane holds at most laneQueue blocks waiting; when it is full, a block is
// dropped (the recording loses BlockSize of audio, counted in Dropped)
// rather than making the call wait. Blocks come from a pool, so a recording
// allocates nothing per frame or per block in the steady state.
type Spool struct {
	once    sync.Once
	lanes   []chan spoolOp
	seed    maphash.Seed
	blocks  sync.Pool
	dropped atomic.Uint64

	mu      sync.Mutex
	writers int    // open writers
	alive   []bool // lane goroutines running
	wg      sync.WaitGroup
}

const (
	// BlockSize is the unit a SpoolWriter hands over: 8 KiB, 256 ms of
	// 8 kHz stereo (the write size measured to cost no more CPU per byte
	// than 32 KiB writes, bench/results/load.md).
	BlockSize = 8 << 10
	// spoolLanes is how many files are written at once.
	spoolLanes = 4
	// laneQueue bounds the blocks waiting on one lane: 256 blocks are 2 MiB,
	// a minute of one call, or 8 s of audio of 32 calls at once.
	laneQueue = 256
	// laneIdle: a lane with no open recording and nothing queued for this
	// long ends its goroutine (a new recording starts it again).
	laneIdle = time.Second
)

type opKind uint8

const (
	opOpen opKind = iota
	opData
	opClose
)

type spoolOp struct {
	kind  opKind
	w     *SpoolWriter
	block *[]byte
}

// Dropped is the number of blocks dropped because a lane was full.
func (sp *Spool) Dropped() uint64 { return sp.dropped.Load() }

func (sp *Spool) init() {
	sp.once.Do(func() {
		sp.seed = maphash.MakeSeed()
		sp.blocks.New = func() any { b := make([]byte, 0, BlockSize); return &b }
		sp.lanes = make([]chan spoolOp, spoolLanes)
		sp.alive = make([]bool, spoolLanes)
		for i := range sp.lanes {
			sp.lanes[i] = make(chan spoolOp, laneQueue)
		}
	})
}

// Wait blocks until every recording is closed and the lanes have ended
// (a second after the last one): for tests and shutdown.
func (sp *Spool) Wait() { sp.wg.Wait() }

// Create starts a recording at path with o (its BufferSize is ignored: the
// spool writes whole blocks). It returns at once; the file is created on a
// lane, and an error creating it comes back from WriteFrame or Close.
func (sp *Spool) Create(path string, o WriterOptions) (*SpoolWriter, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	sp.init()
	w := &SpoolWriter{sp: sp, path: path, opts: o, done: make(chan struct{})}
	i := maphash.String(sp.seed, path) % uint64(len(sp.lanes))
	w.lane = sp.lanes[i]
	sp.mu.Lock()
	sp.writers++
	if !sp.alive[i] {
		sp.alive[i] = true
		sp.wg.Add(1)
		go sp.run(int(i))
	}
	sp.mu.Unlock()
	select {
	case w.lane <- spoolOp{kind: opOpen, w: w}:
	default:
		// The lane is a full queue behind a stalled disk: the call goes on
		// unrecorded rather than waiting for it.
		sp.dropped.Add(1)
		sp.mu.Lock()
		sp.writers--
		sp.mu.Unlock()
		return nil, fmt.Errorf("wav: %s: the recording queue is full (the disk is too slow)", path)
	}
	return w, nil
}

// SpoolWriter is one recording written by a Spool. WriteFrame and Close may
// be called from different goroutines.
type SpoolWriter struct {
	sp   *Spool
	lane chan spoolOp
	path string
	opts WriterOptions

	mu      sync.Mutex
	cur     *[]byte // the block being filled
	closed  bool
	dropped int // blocks of this recording dropped

	err atomic.Pointer[error] // the lane's first error (sticky)

	// Owned by the lane until done is closed.
	f        *os.File
	data     int64
	fixed    int64
	fixEvery int64
	opened   bool
	done     chan struct{}
}

// WriteFrame appends one frame: caller on the left channel, bot on the
// right (a mono file gets their sum), the shorter side padded with silence,
// as Writer.WriteFrame. It never waits for the disk.
func (w *SpoolWriter) WriteFrame(caller, bot []int16) error {
	if e := w.err.Load(); e != nil {
		return *e
	}
	n := max(len(caller), len(bot))
	if n == 0 {
		return nil
	}
	ch := w.opts.Channels
	need := n * ch * 2
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	if w.cur != nil && len(*w.cur)+need > cap(*w.cur) {
		w.handOver(false)
	}
	if w.cur == nil {
		w.cur = w.sp.blocks.Get().(*[]byte)
		*w.cur = (*w.cur)[:0]
	}
	b := *w.cur
	if need > cap(b)-len(b) { // a frame larger than a block (not from a call): a block of its own
		b = make([]byte, 0, need)
	}
	off := len(b)
	b = b[:off+need]
	encodeFrame(b[off:], caller, bot, ch)
	*w.cur = b
	return nil
}

// handOver gives the current block to the lane: at once, dropping it when
// the lane is full, or (at Close) waiting for room. Under w.mu.
func (w *SpoolWriter) handOver(wait bool) {
	blk := w.cur
	w.cur = nil
	if blk == nil || len(*blk) == 0 {
		if blk != nil {
			w.sp.recycle(blk)
		}
		return
	}
	op := spoolOp{kind: opData, w: w, block: blk}
	if wait {
		w.lane <- op
		return
	}
	select {
	case w.lane <- op:
	default:
		w.dropped++
		w.sp.dropped.Add(1)
		w.sp.recycle(blk)
	}
}

// Close hands over the last audio and waits until the file is written,
// fixed up and closed. Closing twice is harmless.
func (w *SpoolWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return w.result()
	}
	w.closed = true
	w.handOver(true)
	w.lane <- spoolOp{kind: opClose, w: w}
	w.mu.Unlock()
	<-w.done
	return w.result()
}

func (w *SpoolWriter) result() error {
	if e := w.err.Load(); e != nil && !errors.Is(*e, errClosed) {
		return *e
	}
	if w.dropped > 0 {
		return fmt.Errorf("wav: %s: %d blocks (%v of audio) dropped while the disk was slow", w.path, w.dropped,
			time.Duration(w.dropped*BlockSize/(w.opts.Channels*2))*time.Second/time.Duration(w.opts.Rate))
	}
	return nil
}

// Created reports whether the file was created (after Close: whether there
// is a recording to keep).
func (w *SpoolWriter) Created() bool {
	select {
	case <-w.done:
		return w.opened
	default:
		return false
	}
}

// Path is the recording's file.
func (w *SpoolWriter) Path() string { return w.path }

func (w *SpoolWriter) fail(err error) {
	w.err.CompareAndSwap(nil, &err)
}

// recycle returns a block to the pool (one made for an oversized frame is
// left to the garbage collector).
func (sp *Spool) recycle(b *[]byte) {
	if cap(*b) == BlockSize {
		*b = (*b)[:0]
		sp.blocks.Put(b)
	}
}

// run is lane i: it carries out the operations of its writers in order,
// and ends once no recording is open and nothing has come for laneIdle.
func (sp *Spool) run(i int) {
	defer sp.wg.Done()
	lane := sp.lanes[i]
	idle := time.NewTimer(laneIdle)
	defer idle.Stop()
	for {
		var op spoolOp
		select {
		case op = <-lane:
		default:
			idle.Reset(laneIdle)
			select {
			case op = <-lane:
			case <-idle.C:
				sp.mu.Lock()
				if sp.writers == 0 && len(lane) == 0 {
					sp.alive[i] = false
					sp.mu.Unlock()
					return
				}
				sp.mu.Unlock()
				continue
			}
		}
		w := op.w
		switch op.kind {
		case opOpen:
			w.open()
		case opData:
			w.writeBlock(*op.block)
			sp.recycle(op.block)
		case opClose:
			w.closeFile()
			close(w.done)
			sp.mu.Lock()
			sp.writers--
			sp.mu.Unlock()
		}
	}
}

func (w *SpoolWriter) open() {
	f, err := os.OpenFile(w.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		w.fail(err)
		return
	}
	// The header goes first, saying "to the end of the file": the file is a
	// playable WAV from its first moment.
	if _, err := f.Write(header(w.opts.Rate, w.opts.Channels, unknownSize)); err != nil {
		f.Close()
		w.fail(err)
		return
	}
	w.f, w.opened, w.fixed = f, true, unknownSize
	if w.opts.FixupEvery > 0 {
		w.fixEvery = max(int64(w.opts.FixupEvery.Seconds()*float64(w.opts.Rate*w.opts.Channels*2)), int64(w.opts.Channels*2))
	}
}

func (w *SpoolWriter) writeBlock(b []byte) {
	if w.f == nil || w.err.Load() != nil {
		return
	}
	if _, err := w.f.Write(b); err != nil {
		w.fail(err)
		return
	}
	w.data += int64(len(b))
	fixed := w.fixed
	if fixed == unknownSize {
		fixed = 0
	}
	if w.fixEvery > 0 && w.data-fixed >= w.fixEvery {
		w.fixup()
	}
}

func (w *SpoolWriter) fixup() {
	if err := writeSizes(w.f, w.data); err != nil {
		w.fail(err)
		return
	}
	w.fixed = w.data
}

func (w *SpoolWriter) closeFile() {
	if w.f == nil {
		return
	}
	if w.err.Load() == nil {
		w.fixup()
	}
	if err := w.f.Close(); err != nil {
		w.fail(err)
	}
	w.f = nil
}
