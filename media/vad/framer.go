package vad

// Framer cuts audio that arrives in chunks of any length into frames of a
// fixed size for Push. media.Config.CallerAudio hands over one packet's
// worth at a time (160 samples at 20 ms, 240 at 30 ms, several packets of
// silence for a loss), so a call puts a Framer between the two. It does not
// allocate after NewFramer and is not safe for concurrent use.
type Framer struct {
	buf []int16
	n   int
}

// NewFramer returns a Framer for frames of size samples (at least 1).
func NewFramer(size int) *Framer {
	return &Framer{buf: make([]int16, max(1, size))}
}

// Write appends pcm and calls fn with each frame it completes, in order. A
// frame is valid only during its call of fn; it may be a slice of pcm.
// Samples that do not fill a frame wait for the next Write.
func (f *Framer) Write(pcm []int16, fn func(frame []int16)) {
	size := len(f.buf)
	if f.n > 0 {
		c := copy(f.buf[f.n:], pcm)
		f.n += c
		pcm = pcm[c:]
		if f.n < size {
			return
		}
		fn(f.buf)
		f.n = 0
	}
	for len(pcm) >= size {
		fn(pcm[:size:size])
		pcm = pcm[size:]
	}
	f.n = copy(f.buf, pcm)
}

// Buffered is the number of samples waiting for a frame.
func (f *Framer) Buffered() int { return f.n }

// Reset drops the samples waiting for a frame.
func (f *Framer) Reset() { f.n = 0 }
