package call

import (
	"math"
	"sync"
	"time"
)

// playlist is the media Source of a call's prompts: buffers played in order.
// Prompts queued while it plays join the end; once it has run dry it is
// finished, and the next prompts start a new playlist. done is closed when it
// finishes (played out or stopped), so the call loop never depends on the
// timing of media events to know that the caller heard everything.
//
// A barge-in pauses it (pause): it then sends silence and keeps its place
// until it resumes (noise) or stops (speech). Each buffer remembers whether
// the caller may interrupt it by speaking (Say.BargeIn).
type playlist struct {
	mu       sync.Mutex
	bufs     [][]int16
	barge    []bool // per buffer of bufs
	pos      int    // in bufs[0]
	finished bool
	paused   bool
	done     chan struct{}
	played   int       // samples
	first    time.Time // when its first audio frame was read for sending
}

func newPlaylist() *playlist { return &playlist{done: make(chan struct{})} }

// add queues audio; false when the playlist has already finished.
func (p *playlist) add(pcm []int16) bool { return p.addBarge(pcm, false) }

// addBarge queues audio the caller may (barge) or may not interrupt by
// speaking; false when the playlist has already finished.
func (p *playlist) addBarge(pcm []int16, barge bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return false
	}
	if len(pcm) > 0 {
		p.bufs = append(p.bufs, pcm)
		p.barge = append(p.barge, barge)
	}
	return true
}

// bargeable reports whether the audio playing now may be interrupted by
// speech (a paused playlist: the audio it will resume with).
func (p *playlist) bargeable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.finished && len(p.barge) > 0 && p.barge[0]
}

// pause makes the next frames silence, keeping the place (barge-in onset).
func (p *playlist) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// resume plays on from where pause stopped (the onset was noise).
func (p *playlist) resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
}

// firstAudio is when the first frame with audio was read for sending (zero:
// not yet): the first RTP packet of the reply.
func (p *playlist) firstAudio() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}

// ReadFrame implements media.Source; it runs on the media clock.
func (p *playlist) ReadFrame(pcm []int16) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused && !p.finished {
		clear(pcm)
		return 0, false
	}
	n := 0
	for n < len(pcm) && len(p.bufs) > 0 {
		c := copy(pcm[n:], p.bufs[0][p.pos:])
		n += c
		p.pos += c
		if p.pos >= len(p.bufs[0]) {
			p.bufs[0] = nil
			p.bufs = p.bufs[1:]
			p.barge = p.barge[1:]
			p.pos = 0
		}
	}
	for i := n; i < len(pcm); i++ {
		pcm[i] = 0
	}
	p.played += n
	if n > 0 && p.first.IsZero() {
		p.first = time.Now()
	}
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
	p.bufs, p.barge = nil, nil
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
