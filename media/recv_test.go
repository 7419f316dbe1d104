package media

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestReceiveBurst: datagrams that arrive together are all handled at once,
// not left in the socket until the next one (or the idle wake) comes. The
// receiver waits after a read that drained the socket without probing it
// again; a burst must not fool it into waiting with datagrams queued.
func TestReceiveBurst(t *testing.T) {
	var frames atomic.Int64
	s, p := testSession(t, newTestPacer(t), func(c *Config) {
		c.CallerAudio = func([]int16, time.Duration) { frames.Add(1) }
	})
	payload := make([]byte, 160)
	const bursts, size = 20, 8
	quick := 0
	for range bursts {
		want := frames.Load() + size
		start := time.Now()
		for range size {
			p.audio(s.addr(), 0, payload)
		}
		for frames.Load() < want && time.Since(start) < time.Second {
			time.Sleep(200 * time.Microsecond)
		}
		// Waiting for the idle wake would take idleWake (60 ms).
		if d := time.Since(start); frames.Load() >= want && d < idleWake/2 {
			quick++
		}
		time.Sleep(25 * time.Millisecond) // the receiver is waiting again
	}
	if quick < bursts-3 {
		t.Errorf("only %d of %d bursts of %d datagrams were handled within %v", quick, bursts, size, idleWake/2)
	}
	if st := s.Stats(); st.Dropped.Total() != 0 {
		t.Errorf("dropped: %+v", st)
	}
}

// TestReceiveTruncated: a datagram longer than the receive buffer is
// counted as malformed, and the next one is read normally.
func TestReceiveTruncated(t *testing.T) {
	var frames atomic.Int64
	s, p := testSession(t, newTestPacer(t), func(c *Config) {
		c.CallerAudio = func([]int16, time.Duration) { frames.Add(1) }
	})
	big := make([]byte, 4000)
	big[0] = 0x80
	p.sendRaw(s.addr(), big)
	p.audio(s.addr(), 0, make([]byte, 160))
	eventually(t, "the frame after the long datagram", func() bool { return frames.Load() == 1 })
	if st := s.Stats(); st.Dropped.Malformed != 1 {
		t.Errorf("malformed %d, want 1", st.Dropped.Malformed)
	}
}
