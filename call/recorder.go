package call

import (
	"github.com/hotline-dev/hotline/media/wav"
	"sync"
	"time"
)

// frameRecorder is the media Recorder of a call: every tick of the outbound
// clock it gets the caller's frame and the bot's frame. It writes the stereo
// call recording and, while the caller leaves a message, keeps the caller's
// side of it. It runs on the media clock, so it only copies and adds up.
type frameRecorder struct {
	stereo stereoWriter     // nil when the call is not recorded (or after a write error)
	file   *wav.SpoolWriter // the recording, nil when not recorded: Created says whether the file was made

	mu  sync.Mutex
	msg *messageCapture
	err error // the first write error of the call recording
}

// stereoWriter is the part of wav.Writer the recorder needs.
type stereoWriter interface {
	WriteFrame(left, right []int16) error
	Close() error
}

func (r *frameRecorder) WriteFrame(caller, bot []int16) error {
	if r.stereo != nil {
		if err := r.stereo.WriteFrame(caller, bot); err != nil {
			r.mu.Lock()
			if r.err == nil {
				r.err = err
			}
			r.mu.Unlock()
			// A full disk must not stop the call: stop recording instead,
			// and close the file now (its header gets what was written),
			// since the end of the call closes only a recording still going.
			_ = r.stereo.Close()
			r.stereo = nil
		}
	}
	r.mu.Lock()
	m := r.msg
	r.mu.Unlock()
	if m != nil {
		m.add(caller)
	}
	return nil
}

// startMessage begins keeping the caller's audio; the capture reports on its
// end channel when silence or the maximum length ends the message.
func (r *frameRecorder) startMessage(max, silence time.Duration) *messageCapture {
	m := &messageCapture{
		maxSamples:     int(max.Seconds() * 8000),
		silenceSamples: int(silence.Seconds() * 8000),
		end:            make(chan string, 1),
	}
	r.mu.Lock()
	r.msg = m
	r.mu.Unlock()
	return m
}

func (r *frameRecorder) stopMessage() {
	r.mu.Lock()
	r.msg = nil
	r.mu.Unlock()
}

// initialSilence is how long a caller may take to start a message after the
// beep: people need a moment, more than the pause that ends a message.
const initialSilence = 5 * 8000

// voiceRMS is the level above which a frame counts as the caller speaking
// (about -40 dBFS): telephone line noise stays well below it.
const voiceRMS = 330

// messageCapture is the caller's side of a message being recorded.
type messageCapture struct {
	mu             sync.Mutex
	pcm            []int16
	maxSamples     int
	silenceSamples int
	quiet          int // samples of silence at the end
	voiced         bool
	lastVoice      int // samples up to the end of the last voiced frame
	ended          bool
	end            chan string // "silence" or "max"
}

func (m *messageCapture) add(frame []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended {
		return
	}
	m.pcm = append(m.pcm, frame...)
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	if len(frame) > 0 && sum/float64(len(frame)) > voiceRMS*voiceRMS {
		m.voiced = true
		m.quiet = 0
		m.lastVoice = len(m.pcm)
	} else {
		m.quiet += len(frame)
	}
	switch {
	case len(m.pcm) >= m.maxSamples:
		m.finish("max")
	case m.voiced && m.silenceSamples > 0 && m.quiet >= m.silenceSamples:
		m.finish("silence")
	case !m.voiced && m.quiet >= max(m.silenceSamples, initialSilence):
		m.finish("silence") // the caller never started
	}
}

func (m *messageCapture) finish(why string) {
	m.ended = true
	select {
	case m.end <- why:
	default:
	}
}

// result returns the message audio (trailing silence trimmed, a little kept)
// and how long the caller spoke; zero when they said nothing.
func (m *messageCapture) result() ([]int16, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended = true
	if !m.voiced {
		return nil, 0
	}
	end := min(len(m.pcm), m.lastVoice+8000/2) // keep half a second after the last word
	pcm := m.pcm[:end]
	return pcm, time.Duration(len(pcm)) * time.Second / 8000
}
