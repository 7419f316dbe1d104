package media

import (
	"context"
	"log/slog"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
)

// EventKind says what happened.
type EventKind uint8

// The events of a session.
const (
	EventDigit    EventKind = iota + 1 // a key press (Digit), from RFC 4733, in-band tones or InjectDigit
	EventPlayDone                      // a Source finished playing (PlayID says which)
	EventTimeout                       // no valid RTP for Config.RTPTimeout (sent once per silence)
)

func (k EventKind) String() string {
	switch k {
	case EventDigit:
		return "digit"
	case EventPlayDone:
		return "play-done"
	case EventTimeout:
		return "rtp-timeout"
	}
	return "unknown"
}

// Event is something the call runner reacts to. At is the time since Start.
type Event struct {
	Kind   EventKind
	Digit  dtmf.Digit // EventDigit
	PlayID uint64     // EventPlayDone: the ID Play returned
	At     time.Duration
}

// emit queues ev without ever blocking: when the buffer is full the oldest
// event is dropped.
func (s *Session) emit(ev Event) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if s.evClosed {
		return
	}
	select {
	case s.events <- ev:
		return
	default:
	}
	select {
	case <-s.events:
		s.st.eventsDropped.Add(1)
	default:
	}
	select {
	case s.events <- ev:
	default:
		s.st.eventsDropped.Add(1)
	}
}

func (s *Session) emitDigit(d dtmf.Digit) {
	s.st.digits.Add(1)
	switch d.Source {
	case dtmf.SourceRFC4733:
		s.st.digitsRFC4733.Add(1)
	case dtmf.SourceInband:
		s.st.digitsInband.Add(1)
	case dtmf.SourceINFO:
		s.st.digitsINFO.Add(1)
	}
	// Enabled first: building the line's attributes allocates, on the
	// receive goroutine, even when debug lines are not wanted.
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("media: digit", "key", string(d.Key), "source", d.Source, "at", d.At)
	}
	s.emit(Event{Kind: EventDigit, Digit: d, At: d.At})
}
