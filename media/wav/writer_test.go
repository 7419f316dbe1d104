package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// frame returns a 20 ms frame at 8 kHz whose samples encode (seq, i), so a
// reader can tell which frame and sample it is looking at.
func frame(seq, side int) []int16 {
	f := make([]int16, 160)
	for i := range f {
		f[i] = int16((seq*160+i)%30000*side + side)
	}
	return f
}

// rawStereo reads a canonical 44-byte-header stereo file's samples.
func rawStereo(t *testing.T, b []byte) (left, right []int16) {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[36:40]) != "data" {
		t.Fatalf("not our header: % x", b[:min(len(b), 44)])
	}
	for i := 44; i+4 <= len(b); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(b[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(b[i+2:])))
	}
	return left, right
}

func TestWriterStereo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	w, err := Create(path, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The header is on disk before any audio: the file plays from the start.
	b, _ := os.ReadFile(path)
	if len(b) != 44 || binary.LittleEndian.Uint32(b[40:]) != unknownSize {
		t.Fatalf("fresh file: % x", b)
	}
	for seq := range 100 {
		var bot []int16
		if seq%2 == 0 {
			bot = frame(seq, -1) // the bot speaks every other frame
		}
		if err := w.WriteFrame(frame(seq, 1), bot); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Duration(); got != 2*time.Second {
		t.Errorf("duration %v", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := w.WriteFrame(frame(0, 1), nil); err == nil {
		t.Error("write after close succeeded")
	}
	b, _ = os.ReadFile(path)
	if got := binary.LittleEndian.Uint32(b[40:]); got != 100*160*4 {
		t.Errorf("data size %d", got)
	}
	if got := binary.LittleEndian.Uint32(b[4:]); int(got) != len(b)-8 {
		t.Errorf("RIFF size %d, file %d", got, len(b))
	}
	left, right := rawStereo(t, b)
	for seq := range 100 {
		wantL, wantR := frame(seq, 1), frame(seq, -1)
		for i := range 160 {
			j := seq*160 + i
			if left[j] != wantL[i] {
				t.Fatalf("left %d = %d, want %d", j, left[j], wantL[i])
			}
			if seq%2 == 0 && right[j] != wantR[i] || seq%2 == 1 && right[j] != 0 {
				t.Fatalf("right %d = %d", j, right[j])
			}
		}
	}
	// Our own decoder reads it (mixed down), and so does sox when present.
	pcm, info, err := ReadFile(path)
	if err != nil || len(pcm) != 16000 || info.Channels != 2 {
		t.Fatalf("decode: %d samples, %+v, %v", len(pcm), info, err)
	}
}

func TestWriterMonoAndOddSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.wav")
	w, err := CreateWith(path, WriterOptions{Rate: 8000, Channels: 1, BufferSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The sum of caller and bot, clipped.
	if err := w.WriteFrame([]int16{1, 30000, -30000, 5}, []int16{2, 30000, -30000}); err != nil {
		t.Fatal(err)
	}
	// A frame larger than the whole buffer.
	big := make([]int16, 1000)
	big[999] = 7
	if err := w.WriteFrame(big, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteInterleaved([]int16{9, 8}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pcm, _, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{3, 32767, -32768, 5}
	if len(pcm) != 1006 || !slicesEqual(pcm[:4], want) || pcm[1003] != 7 || pcm[1004] != 9 {
		t.Fatalf("%d samples: %v … %v", len(pcm), pcm[:4], pcm[1000:])
	}
	s, err := Create(filepath.Join(t.TempDir(), "s.wav"), 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WriteInterleaved([]int16{1, 2, 3}); err == nil {
		t.Error("odd interleaved count accepted")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "x.wav"), 8000, 3); err == nil {
		t.Error("3 channels accepted")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), 8000, 2); err == nil {
		t.Error("missing folder accepted")
	}
}

// The crash simulation: a recorder that is never closed leaves a file that
// decodes (up to its last header fix-up) and that Repair makes whole.
func TestWriterCrashAndRepair(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "call.wav")
	w, err := CreateWith(path, WriterOptions{Rate: 8000, Channels: 2, FixupEvery: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const frames = 365 // 7.3 s
	for seq := range frames {
		if err := w.WriteFrame(frame(seq, 1), frame(seq, -1)); err != nil {
			t.Fatal(err)
		}
	}
	// kill -9 now: whatever reached the file is what there is. No Close.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed.wav")
	if err := os.WriteFile(crashed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	onDisk := (len(b) - 44) / 4 // whole stereo frames that reached the file
	fixed := int(binary.LittleEndian.Uint32(b[40:])) / 4
	if fixed != 6*8000 {
		t.Errorf("header says %d frames after 7.3 s with a fix-up every 2 s, want 48000", fixed)
	}
	if lost := frames*160 - onDisk; lost < 0 || lost > 32<<10/4 {
		t.Errorf("%d frames not on disk, want at most one buffer", lost)
	}
	// Before repair: it plays, up to the last fix-up.
	pcm, _, err := ReadFile(crashed)
	if err != nil || len(pcm) != fixed {
		t.Fatalf("before repair: %d samples, %v", len(pcm), err)
	}
	// A crash in the middle of a sample: three stray bytes.
	f, _ := os.OpenFile(crashed, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{1, 2, 3})
	f.Close()
	if err := Repair(crashed); err != nil {
		t.Fatal(err)
	}
	pcm, info, err := ReadFile(crashed)
	if err != nil || len(pcm) != onDisk {
		t.Fatalf("after repair: %d samples, want %d, %v", len(pcm), onDisk, err)
	}
	if info.Duration != time.Duration(onDisk)*time.Second/8000 {
		t.Errorf("duration %v", info.Duration)
	}
	rb, _ := os.ReadFile(crashed)
	if len(rb) != 44+onDisk*4 || int(binary.LittleEndian.Uint32(rb[4:])) != len(rb)-8 {
		t.Errorf("repaired file %d bytes, RIFF size %d", len(rb), binary.LittleEndian.Uint32(rb[4:]))
	}
	left, right := rawStereo(t, rb)
	for j := range onDisk {
		if left[j] != frame(j/160, 1)[j%160] || right[j] != frame(j/160, -1)[j%160] {
			t.Fatalf("sample %d is not what was written", j)
		}
	}
	// Repairing again changes nothing; closing the original recorder later is
	// still fine.
	if err := Repair(crashed); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(crashed); !bytes.Equal(again, rb) {
		t.Error("second repair changed the file")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if pcm, _, _ := ReadFile(path); len(pcm) != frames*160 {
		t.Errorf("closed file: %d samples", len(pcm))
	}
}

// The media goroutine writes while call teardown closes: no race, no torn
// frame, and writes after Close fail.
func TestWriterConcurrentClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.wav")
	w, err := Create(path, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := 0; ; seq++ {
			if err := w.WriteFrame(frame(seq, 1), frame(seq, -1)); err != nil {
				return
			}
			_ = w.Duration()
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	b, _ := os.ReadFile(path)
	if (len(b)-44)%640 != 0 || int(binary.LittleEndian.Uint32(b[40:])) != len(b)-44 {
		t.Errorf("%d bytes, header says %d", len(b), binary.LittleEndian.Uint32(b[40:]))
	}
}

func TestRepairLeavesGoodFiles(t *testing.T) {
	dir := t.TempDir()
	// A file with a LIST chunk after the data: nothing to repair.
	good := makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: -1,
		after: [][2]string{{"LIST", "INFOxxxx"}}}, tone(100, 8000, 300, 0.3))
	p := filepath.Join(dir, "good.wav")
	os.WriteFile(p, good, 0o644)
	if err := Repair(p); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, good) {
		t.Error("repair changed a good file")
	}
	// A streamed header (0xFFFFFFFF) gets real sizes.
	streamed := makeWAV(spec{format: formatPCM, bits: 16, channels: 1, rate: 8000, dataSize: 0xFFFFFFFF}, tone(100, 8000, 300, 0.3))
	p = filepath.Join(dir, "streamed.wav")
	os.WriteFile(p, streamed, 0o644)
	if err := Repair(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if binary.LittleEndian.Uint32(b[40:]) != 200 || binary.LittleEndian.Uint32(b[4:]) != uint32(len(b)-8) {
		t.Errorf("streamed: header % x", b[:44])
	}
	// Not a WAV, too short, missing.
	for name, content := range map[string][]byte{"junk.wav": []byte("hello, world, this is not audio at all"), "short.wav": good[:30]} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o644)
		if err := Repair(p); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := Repair(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.wav")
	if err := Write(p, []int16{1, 2, 3}, 8000); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []int16{4, 5}, 16000); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	pcm, info, err := ReadFile(p)
	if err != nil || info.SampleRate != 16000 || len(pcm) != 1 {
		t.Errorf("%v %+v %v", pcm, info, err)
	}
	if err := Write(filepath.Join(dir, "nope", "p.wav"), nil, 8000); err == nil {
		t.Error("missing folder accepted")
	}
	if err := Encode(&bytes.Buffer{}, nil, 10); err == nil {
		t.Error("rate 10 accepted")
	}
}

// BenchmarkWriteFrame: one 20 ms stereo frame. "file" includes the write(2)
// of each full buffer and the header fix-ups on this machine's disk;
// "devnull" is the encoding alone.
func BenchmarkWriteFrame(b *testing.B) {
	for _, where := range []string{"file", "devnull"} {
		b.Run(where, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.wav")
			if where == "devnull" {
				path = os.DevNull
			}
			w, err := Create(path, 8000, 2)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			caller, bot := frame(1, 1), frame(2, -1)
			b.SetBytes(160 * 4)
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteFrame(caller, bot); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
