package call

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/sip"
)

// brokenStereo fails every write, like a full disk.
type brokenStereo struct{ writes, closes int }

func (b *brokenStereo) WriteFrame(_, _ []int16) error {
	b.writes++
	return errors.New("no space left on device")
}
func (b *brokenStereo) Close() error { b.closes++; return nil }

// TestRecorderWriteErrorClosesTheFile: a recording that fails to write is
// closed at once (its descriptor is not kept until the process ends), the
// call goes on without it, and the first error is kept for the call's log.
func TestRecorderWriteErrorClosesTheFile(t *testing.T) {
	b := &brokenStereo{}
	r := &frameRecorder{stereo: b}
	frame := make([]int16, 160)
	for range 3 {
		if err := r.WriteFrame(frame, frame); err != nil {
			t.Fatalf("WriteFrame: %v (a recording error must not end the call)", err)
		}
	}
	if b.writes != 1 || b.closes != 1 || r.stereo != nil {
		t.Errorf("after a failed write: %d writes, %d closes, still recording: %v; want 1, 1, false", b.writes, b.closes, r.stereo != nil)
	}
	if r.err == nil {
		t.Error("the write error was not kept")
	}
}

// TestObserveChains: every observer sees each event, in the order they were
// added, and a missing hook is skipped.
func TestObserveChains(t *testing.T) {
	var cfg Config
	var got []string
	cfg.Observe(Observer{OnFinish: func(*sip.Call, Finish) { got = append(got, "records") }})
	cfg.Observe(Observer{OnAnswer: func(*sip.Call, Answer) { got = append(got, "live answer") }})
	cfg.Observe(Observer{OnFinish: func(*sip.Call, Finish) { got = append(got, "metrics") }})
	cfg.OnAnswer(nil, Answer{})
	cfg.OnFinish(nil, Finish{})
	if want := "live answer,records,metrics"; strings.Join(got, ",") != want {
		t.Errorf("hooks ran %v, want %s", got, want)
	}
	if cfg.OnPrompt != nil || cfg.OnTurn != nil {
		t.Error("hooks nobody set are not nil")
	}
}
