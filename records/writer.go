package records

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// job is one unit of store work for a call: its writes, in order.
type job struct {
	call string
	what string // start, turn, question, update, end: for logs
	do   func(ctx context.Context) error
}

// writer is the bounded queue between the calls and the store: shards,
// each a channel with one worker, and a call always in the same shard, so
// its writes stay in order.
type writer struct {
	shards  []chan job
	timeout time.Duration // of one job
	log     *slog.Logger
	onWrite func(op string, took time.Duration, err error) // Options.OnWrite
	onDrop  func()

	mu     sync.RWMutex // held (read) while a job is being queued; Close takes it to close the shards
	closed bool

	base   context.Context // cancelled when a drain runs out of time: the rest is dropped
	cancel context.CancelFunc
	wg     sync.WaitGroup

	depth   atomic.Int64
	dropped atomic.Uint64
	done    atomic.Uint64 // jobs that succeeded
	failed  atomic.Uint64 // jobs that failed
	busyNS  atomic.Int64  // total time in jobs
	maxNS   atomic.Int64  // longest job

	errMu     sync.Mutex
	lastErr   string
	lastErrAt time.Time
	lastOKAt  time.Time
}

func newWriter(workers, capacity int, timeout time.Duration, log *slog.Logger) *writer {
	w := &writer{timeout: timeout, log: log}
	w.base, w.cancel = context.WithCancel(context.Background())
	per := max(capacity/workers, 1)
	w.shards = make([]chan job, workers)
	for i := range w.shards {
		ch := make(chan job, per)
		w.shards[i] = ch
		w.wg.Add(1)
		go w.work(ch)
	}
	return w
}

// shard is the shard of a call.
func (w *writer) shard(callID string) int {
	h := fnv.New32a()
	h.Write([]byte(callID))
	return int(h.Sum32() % uint32(len(w.shards)))
}

// put queues a job, waiting at most wait for room; it reports whether the
// job was queued (false: dropped and counted).
func (w *writer) put(j job, wait time.Duration) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.drop(j, "the recorder is closed")
		return false
	}
	ch := w.shards[w.shard(j.call)]
	w.depth.Add(1)
	select {
	case ch <- j:
		return true
	default:
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case ch <- j:
			return true
		case <-t.C:
		}
	}
	w.depth.Add(-1)
	w.drop(j, "the store queue is full")
	return false
}

func (w *writer) drop(j job, why string) {
	n := w.dropped.Add(1)
	if w.onDrop != nil {
		w.onDrop()
	}
	// One line per drop would flood the log when the database is down
	// under load: the first, then every 100th.
	if n == 1 || n%100 == 0 {
		w.log.Warn("call record write dropped", "call_id", j.call, "write", j.what, "why", why, "dropped", n)
	}
}

func (w *writer) work(ch chan job) {
	defer w.wg.Done()
	for j := range ch {
		w.depth.Add(-1)
		if w.base.Err() != nil {
			w.drop(j, "the drain ran out of time")
			continue
		}
		ctx, cancel := context.WithTimeout(w.base, w.timeout)
		start := time.Now()
		err := j.do(ctx)
		took := time.Since(start)
		cancel()
		if w.onWrite != nil {
			w.onWrite(j.what, took, err)
		}
		w.busyNS.Add(int64(took))
		for {
			m := w.maxNS.Load()
			if int64(took) <= m || w.maxNS.CompareAndSwap(m, int64(took)) {
				break
			}
		}
		w.errMu.Lock()
		if err != nil {
			w.lastErr, w.lastErrAt = err.Error(), time.Now()
		} else {
			w.lastOKAt = time.Now()
		}
		w.errMu.Unlock()
		if err != nil {
			w.failed.Add(1)
			w.log.Error("call record write failed", "call_id", j.call, "write", j.what, "err", err)
			continue
		}
		w.done.Add(1)
	}
}

// close stops taking jobs and waits for the queued ones, until ctx is done;
// then the rest is dropped and it waits for the workers to notice.
func (w *writer) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		for _, ch := range w.shards {
			close(ch)
		}
	}
	w.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel() // the jobs in progress end, the rest are dropped
		<-finished
		return ctx.Err()
	}
}
