package wav

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSpool: many recordings written at once through a spool come out as
// Writer makes them: the header first, every frame in order, true sizes.
func TestSpool(t *testing.T) {
	var sp Spool
	defer sp.Wait()
	dir := t.TempDir()
	const calls, frames = 20, 300 // 6 s each: more than one fix-up interval, many blocks
	var wg sync.WaitGroup
	for c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := sp.Create(filepath.Join(dir, fmt.Sprintf("c%d.wav", c)), WriterOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			for seq := range frames {
				var bot []int16
				if seq%3 == 0 {
					bot = frame(seq+c, -1)
				}
				if err := w.WriteFrame(frame(seq+c, 1), bot); err != nil {
					t.Error(err)
					return
				}
			}
			if err := w.Close(); err != nil {
				t.Error(err)
			}
			if !w.Created() {
				t.Error("not created")
			}
		}()
	}
	wg.Wait()
	for c := range calls {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("c%d.wav", c)))
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(b[40:]); got != frames*160*4 {
			t.Fatalf("call %d: data size %d", c, got)
		}
		left, right := rawStereo(t, b)
		for seq := range frames {
			wantL, wantR := frame(seq+c, 1), frame(seq+c, -1)
			for i := range 160 {
				j := seq*160 + i
				if left[j] != wantL[i] || (seq%3 == 0 && right[j] != wantR[i]) || (seq%3 != 0 && right[j] != 0) {
					t.Fatalf("call %d sample %d: %d/%d", c, j, left[j], right[j])
				}
			}
		}
	}
	if sp.Dropped() != 0 {
		t.Errorf("dropped %d", sp.Dropped())
	}
}

// TestSpoolPlaysWhileWriting: the file is a WAV from its first moment and
// its header is fixed up as the recording goes (what a crash leaves).
func TestSpoolPlaysWhileWriting(t *testing.T) {
	var sp Spool
	defer sp.Wait()
	path := filepath.Join(t.TempDir(), "live.wav")
	w, err := sp.Create(path, WriterOptions{FixupEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 200 { // 4 s
		w.WriteFrame(frame(seq, 1), frame(seq, -1))
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if len(b) >= 44 && binary.LittleEndian.Uint32(b[40:]) != unknownSize && binary.LittleEndian.Uint32(b[40:]) >= 8000*4 {
			if _, _, err := Decode(bytes.NewReader(b)); err != nil {
				t.Fatalf("the live file does not decode: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fix-up of the header while recording (%d bytes)", len(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSpoolErrors: a file that cannot be created shows as an error, not a
// hang, and the recording reports it was not made.
func TestSpoolErrors(t *testing.T) {
	var sp Spool
	defer sp.Wait()
	w, err := sp.Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 100 {
		if err := w.WriteFrame(frame(seq, 1), nil); err != nil {
			break // the lane has reported the failure
		}
	}
	if err := w.Close(); err == nil {
		t.Error("Close: no error for a file that could not be created")
	}
	if w.Created() {
		t.Error("Created for a file that could not be created")
	}
	if _, err := sp.Create("x.wav", WriterOptions{Channels: 3}); err == nil {
		t.Error("3 channels accepted")
	}
}

// TestSpoolDropsWhenFull: a writer whose lane is full drops blocks rather
// than waiting, and says so at Close.
func TestSpoolDropsWhenFull(t *testing.T) {
	sp := &Spool{}
	sp.init()
	lane := make(chan spoolOp, 1) // a lane nobody serves yet: the disk has stalled
	w := &SpoolWriter{sp: sp, lane: lane, path: "stalled.wav", opts: WriterOptions{Rate: 8000, Channels: 2}, done: make(chan struct{})}
	start := time.Now()
	for seq := range 200 { // 4 s: 16 blocks, of which one fits the lane
		if err := w.WriteFrame(frame(seq, 1), frame(seq, -1)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("writes took %v with a stalled lane", d)
	}
	if w.dropped == 0 || sp.Dropped() == 0 {
		t.Errorf("nothing dropped: %d", w.dropped)
	}
	go func() { // the disk comes back
		for op := range lane {
			if op.kind == opClose {
				close(op.w.done)
				return
			}
		}
	}()
	if err := w.Close(); err == nil {
		t.Error("Close did not report the dropped audio")
	}
}

// TestSpoolLanesEnd: with no recording open, the lanes' goroutines end;
// a new recording starts them again.
func TestSpoolLanesEnd(t *testing.T) {
	var sp Spool
	for round := range 2 {
		w, err := sp.Create(filepath.Join(t.TempDir(), "a.wav"), WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteFrame(frame(1, 1), nil)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { sp.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the lanes did not end", round)
		}
	}
}

func TestSpoolNoAllocs(t *testing.T) {
	var sp Spool
	defer sp.Wait()
	w, err := sp.Create(filepath.Join(t.TempDir(), "a.wav"), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	caller, bot := frame(1, 1), frame(1, -1)
	for range 200 { // warm the pool
		w.WriteFrame(caller, bot)
	}
	time.Sleep(50 * time.Millisecond)
	if a := testing.AllocsPerRun(1000, func() { w.WriteFrame(caller, bot) }); a > 0.02 {
		t.Errorf("%v allocations a frame", a)
	}
}

func BenchmarkSpoolWriteFrame(b *testing.B) {
	var sp Spool
	defer sp.Wait()
	w, err := sp.Create(filepath.Join(b.TempDir(), "a.wav"), WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	caller, bot := frame(1, 1), frame(1, -1)
	b.SetBytes(640)
	for b.Loop() {
		w.WriteFrame(caller, bot)
	}
}
