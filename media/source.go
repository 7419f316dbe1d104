package media

// Source produces outbound audio for playback (a prompt). The session's pacer
// calls ReadFrame once per frame, on a goroutine shared with other calls, so
// ReadFrame must not block: a source that has nothing ready yet (a TTS
// stream, say) returns n = 0 and done = false, and the frame is silence.
//
// ReadFrame fills pcm (len = frame size) and returns how many samples are
// real, from the start (the rest is sent as silence), and whether the source
// is finished. A source is read by one session at a time.
type Source interface {
	ReadFrame(pcm []int16) (n int, done bool)
}

// NewPCMSource returns a Source that plays pcm (8 kHz) once. It does not copy
// pcm: the caller must not change it while it plays (a prompt cache can share
// one buffer between any number of calls).
func NewPCMSource(pcm []int16) Source { return &pcmSource{pcm: pcm} }

type pcmSource struct {
	pcm []int16
	pos int
}

func (s *pcmSource) ReadFrame(pcm []int16) (int, bool) {
	n := copy(pcm, s.pcm[s.pos:])
	s.pos += n
	return n, s.pos >= len(s.pcm)
}
