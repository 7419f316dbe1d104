package media

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
	"github.com/pion/rtp"
)

// The per-packet and per-frame paths, one benchmark each (docs/benchmarks.md
// lists them all, with the ones in media/dtmf, media/vad and media/wav). The
// steady state allocates nothing: every one of them reports 0 allocs/op.

// BenchmarkRTPUnmarshal parses one PCMU packet's header in place, as the
// receive path does (the payload aliases the read buffer).
func BenchmarkRTPUnmarshal(b *testing.B) {
	src := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 7, Timestamp: 160, SSRC: 1}, Payload: make([]byte, 160)}
	buf, _ := src.Marshal()
	var p rtp.Packet
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := p.Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRTPMarshal writes one PCMU packet's header into a reused buffer
// and copies the payload after it, as the send path does.
func BenchmarkRTPMarshal(b *testing.B) {
	h := rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}
	payload := make([]byte, 160)
	buf := make([]byte, 12+160)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.SequenceNumber++
		h.Timestamp += 160
		n, err := h.MarshalTo(buf)
		if err != nil {
			b.Fatal(err)
		}
		copy(buf[n:], payload)
	}
}

// BenchmarkReceivePacketRecorded is BenchmarkReceivePacket with the call
// recorded: each packet is checked, decoded, queued for the recorder, and
// the tick that is recordLag old is written (caller and bot sides) to a
// stereo WAV file through wav.Writer, as in a recorded call.
func BenchmarkReceivePacketRecorded(b *testing.B) {
	w, err := wav.CreateWith(filepath.Join(b.TempDir(), "rec.wav"), wav.WriterOptions{BufferSize: 8 << 10})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() }) // after the session's Close (cleanups run last first)
	bot := tone(160, 3000)
	s := benchReceive(b, func(c *Config) { c.Recorder = w }, func(s *Session, at time.Duration) {
		// The pacer's side: one bot frame per tick, stamped with its time;
		// then the tick that is recordLag old is written.
		s.recMu.Lock()
		s.recBot.push(bot, at)
		s.recMu.Unlock()
		s.rx.flushRecorderAt(s, at, false)
	})
	if st := s.Stats(); st.RecordDropped > 0 {
		b.Fatalf("recorder dropped %d frames", st.RecordDropped)
	}
}

// BenchmarkWAVWriteFile is the recording write itself, through the call
// recording's 8 KiB buffer to a file (a write(2) every 256 ms of audio).
func BenchmarkWAVWriteFile(b *testing.B) {
	w, err := wav.CreateWith(filepath.Join(b.TempDir(), "rec.wav"), wav.WriterOptions{BufferSize: 8 << 10})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	caller, bot := tone(160, 5000), tone(160, 3000)
	b.SetBytes(640)
	for b.Loop() {
		if err := w.WriteFrame(caller, bot); err != nil {
			b.Fatal(err)
		}
	}
}
