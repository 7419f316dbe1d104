package call

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

func TestRecoverRecordings(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "recordings", "2026-11-27")
	os.MkdirAll(dir, 0o750)
	path := filepath.Join(dir, "crashed.wav")
	w, err := wav.CreateWith(path, wav.WriterOptions{Rate: 8000, Channels: 2, FixupEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	frame := tone(440, 160, 8000)
	for i := 0; i < 100; i++ { // two seconds
		w.WriteFrame(frame, frame)
	}
	w.Flush() // on disk, header never fixed: the process "crashes" here
	if n := RecoverRecordings(data, 3, slog.New(slog.NewTextHandler(io.Discard, nil))); n != 1 {
		t.Fatalf("checked %d files, want 1", n)
	}
	raw, _ := os.ReadFile(path)
	i := bytes.Index(raw, []byte("data"))
	if i < 0 || int(binary.LittleEndian.Uint32(raw[i+4:])) != len(raw)-i-8 {
		t.Fatalf("the data chunk's size is not the file's after repair")
	}
	pcm, info, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration < 1990*time.Millisecond || len(pcm) < 15900 {
		t.Errorf("after repair: %s, %d samples; want 2 s", info.Duration, len(pcm))
	}
}
