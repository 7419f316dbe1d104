package call

import (
	"math"
	"sync"
)

// playlist is the media Source of a call's prompts: buffers played in order.
// Prompts queued while it plays join the end; once it has run dry it is
// finished, and the next prompts start a new playlist. done is closed when it
// finishes (played out or stopped), so the call loop never depends on the
// timing of media events to know that the caller heard everything.
type playlist struct {
	mu       sync.Mutex
	bufs     [][]int16
	pos      int // in bufs[0]
	finished bool
	done     chan struct{}
	played   int // samples
}

func newPlaylist() *playlist { return &playlist{done: make(chan struct{})} }

// add queues audio; false when the playlist has already finished.
func (p *playlist) add(pcm []int16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return false
	}
	if len(pcm) > 0 {
		p.bufs = append(p.bufs, pcm)
	}
	return true
}

// ReadFrame implements media.Source; it runs on the media clock.
func (p *playlist) ReadFrame(pcm []int16) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(pcm) && len(p.bufs) > 0 {
		c := copy(pcm[n:], p.bufs[0][p.pos:])
		n += c
		p.pos += c
		if p.pos >= len(p.bufs[0]) {
			p.bufs[0] = nil
			p.bufs = p.bufs[1:]
			p.pos = 0
		}
	}
	for i := n; i < len(pcm); i++ {
		pcm[i] = 0
	}
	p.played += n
	if len(p.bufs) == 0 && !p.finished {
		p.finished = true
		close(p.done)
		return n, true
	}
	return n, p.finished
}

// stop ends the playlist now (barge-in, hang-up).
func (p *playlist) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bufs = nil
	if !p.finished {
		p.finished = true
		close(p.done)
	}
}

// tone is a sine at freq Hz for the given number of samples at 8 kHz and
// amplitude, with 5 ms ramps so it does not click: the beep before a message.
func tone(freq float64, samples int, amplitude float64) []int16 {
	out := make([]int16, samples)
	ramp := 40
	for i := range out {
		a := amplitude
		if i < ramp {
			a *= float64(i) / float64(ramp)
		} else if samples-i < ramp {
			a *= float64(samples-i) / float64(ramp)
		}
		out[i] = int16(a * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return out
}
