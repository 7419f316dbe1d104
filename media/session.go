package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/pion/rtp"
)

// DefaultPTime is the packet time used when Config.PTime is zero.
const DefaultPTime = 20 * time.Millisecond

// Config describes one call's media.
type Config struct {
	Conn        *net.UDPConn  // from Ports.Listen; the session owns and closes it
	Remote      *net.UDPAddr  // from the peer's SDP (nil: send nothing until latched)
	Latch       bool          // symmetric RTP: send to the source of the first valid packet
	Codec       Codec         // PCMU or PCMA, with the negotiated payload type
	DTMFPayload uint8         // RFC 4733 telephone-event payload type; 0 = not negotiated (in-band detection runs)
	PTime       time.Duration // 10-60 ms in whole milliseconds; DefaultPTime if zero
	RTPTimeout  time.Duration // no valid RTP for this long → EventTimeout (0 = off)
	Pacer       *Pacer        // required
	Recorder    Recorder      // optional
	Logger      *slog.Logger  // optional; a call's logger carries its call ID

	// CallerAudio, if set, receives the caller's audio in order, after the
	// reorder window: decoded, with silence in place of lost packets, and
	// the time the packet arrived (since Start). It runs on the session's
	// receive goroutine, like Recorder, so it must not block; pcm is only
	// valid during the call. It is the tap for VAD and speech recognition.
	CallerAudio func(pcm []int16, at time.Duration)
}

// Recorder gets one frame per tick of the outbound clock: what the caller
// sent in that tick (decoded, silence when nothing arrived or it was lost)
// and what the bot sent (silence during hold). Both slices are frame-sized
// and valid only during the call.
//
// WriteFrame runs on the session's receive goroutine, about 100 ms behind
// real time (so that late and reordered packets land in their own tick),
// never on the pacer: a slow disk delays this call's recording, no other
// call's audio. Frames not yet written when the session closes are written
// by Close. After an error the session stops recording and logs it; a panic
// in WriteFrame (or CallerAudio) closes the session.
type Recorder interface {
	WriteFrame(caller, bot []int16) error
}

// Session is the media of one call: it receives and checks the caller's RTP
// (a goroutine per session, blocked in a read), sends a continuous paced
// stream (the shared Pacer), plays Sources, turns DTMF of all three kinds
// into Events and feeds the Recorder. Its methods are safe for concurrent
// use.
type Session struct {
	conn   *net.UDPConn
	pacer  *Pacer
	log    *slog.Logger
	ptime  time.Duration
	spf    int // samples per frame
	latch  bool
	rtpTO  time.Duration
	rec    Recorder
	onPCM  func([]int16, time.Duration)
	sender *sender
	recv   *receiver
	port   int

	// Owned by the pacer shard (under its lock).
	shard   *shard
	heapIdx int
	next    int64

	// Outbound state, under mu.
	mu         sync.Mutex
	src        Source
	playID     uint64
	lastPlayID uint64
	sending    bool
	seq        uint16
	ts         uint32
	ssrc       uint32
	marker     bool
	digitQ     []queuedDigit
	digitPkts  []rtp.Packet
	digitGap   int
	pcm        []int16
	pkt        []byte

	remote      atomic.Pointer[remoteState]
	latchedAddr atomic.Pointer[netip.AddrPort]

	// Bot frames on their way to the recorder (written by the pacer, read
	// by the receive goroutine).
	recMu  sync.Mutex
	recBot frameRing

	rx rxState // owned by the receive goroutine

	evMu     sync.Mutex
	events   chan Event
	evClosed bool

	lifeMu    sync.Mutex
	started   bool
	closed    atomic.Bool
	closeErr  error
	closeDone chan struct{}
	stopAfter func() bool
	startT    atomic.Pointer[time.Time]
	wg        sync.WaitGroup

	st counters
}

type remoteState struct {
	addr   netip.AddrPort // zero: none
	codec  Codec
	law    law
	dtmfPT uint8
	gen    uint64 // bumped when the address changes: the receiver latches again
}

type queuedDigit struct {
	key rune
	dur time.Duration
}

// eventBuffer is the capacity of the Events channel.
const eventBuffer = 32

// NewSession checks cfg and prepares a session; Start runs it.
func NewSession(cfg Config) (*Session, error) {
	if cfg.Conn == nil {
		return nil, errors.New("media: Config.Conn is nil")
	}
	if cfg.Pacer == nil {
		return nil, errors.New("media: Config.Pacer is nil")
	}
	l := cfg.Codec.law()
	if l == lawUnknown || (cfg.Codec.ClockRate != 0 && cfg.Codec.ClockRate != SampleRate) {
		return nil, fmt.Errorf("media: unsupported codec %q/%d", cfg.Codec.Name, cfg.Codec.ClockRate)
	}
	if cfg.Codec.PayloadType > 127 || cfg.DTMFPayload > 127 || (cfg.DTMFPayload != 0 && cfg.DTMFPayload == cfg.Codec.PayloadType) {
		return nil, fmt.Errorf("media: bad payload types %d/%d", cfg.Codec.PayloadType, cfg.DTMFPayload)
	}
	pt := cfg.PTime
	if pt == 0 {
		pt = DefaultPTime
	}
	if pt < 10*time.Millisecond || pt > 60*time.Millisecond || pt%time.Millisecond != 0 {
		return nil, fmt.Errorf("media: ptime %v not a whole number of milliseconds in 10-60", pt)
	}
	snd, err := newSender(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		conn:      cfg.Conn,
		pacer:     cfg.Pacer,
		ptime:     pt,
		spf:       FrameSamples(pt),
		latch:     cfg.Latch,
		rtpTO:     cfg.RTPTimeout,
		rec:       cfg.Recorder,
		onPCM:     cfg.CallerAudio,
		sender:    snd,
		heapIdx:   -1,
		sending:   true,
		marker:    true,
		events:    make(chan Event, eventBuffer),
		closeDone: make(chan struct{}),
	}
	if a, ok := cfg.Conn.LocalAddr().(*net.UDPAddr); ok {
		s.port = a.Port
	}
	s.log = log.With("rtp_port", s.port)
	s.pcm = make([]int16, s.spf)
	s.pkt = make([]byte, 12+max(s.spf, dtmf.PayloadSize))
	var r [10]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, fmt.Errorf("media: random SSRC: %w", err)
	}
	// RFC 3550 §5.1: random initial SSRC, sequence number and timestamp.
	s.ssrc = binary.BigEndian.Uint32(r[0:])
	s.seq = binary.BigEndian.Uint16(r[4:])
	s.ts = binary.BigEndian.Uint32(r[6:])
	s.remote.Store(&remoteState{addr: udpAddrPort(cfg.Remote), codec: cfg.Codec, law: l, dtmfPT: cfg.DTMFPayload})
	if s.rec != nil {
		s.recBot = newFrameRing(int((recordBuffer+pt-1)/pt), s.spf)
	}
	if s.recv, err = newReceiver(s, cfg.Conn); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	s.rx.init(s)
	return s, nil
}

func udpAddrPort(a *net.UDPAddr) netip.AddrPort {
	if a == nil {
		return netip.AddrPort{}
	}
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Start runs the session: the receive goroutine and the pacer's clock. It
// ends with ctx or Close, whichever comes first (ctx's end closes the
// session). Start after Close, or a second Start, does nothing.
func (s *Session) Start(ctx context.Context) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.started || s.closed.Load() {
		return
	}
	s.started = true
	now := time.Now()
	s.startT.Store(&now)
	s.pacer.track(s)
	s.wg.Add(1)
	go s.readLoop()
	s.pacer.add(s)
	s.stopAfter = context.AfterFunc(ctx, func() { s.Close() })
}

// since is the time since Start (0 before).
func (s *Session) since() time.Duration {
	if t := s.startT.Load(); t != nil {
		return time.Since(*t)
	}
	return 0
}

// Close stops the session: it leaves the pacer, closes the socket, waits for
// the receive goroutine, writes the recorder's last frames and closes the
// Events channel. It is idempotent; it must not be called from Recorder or
// CallerAudio (they run on the goroutine it waits for).
func (s *Session) Close() error {
	s.lifeMu.Lock()
	if s.closed.Load() {
		s.lifeMu.Unlock()
		<-s.closeDone
		return s.closeErr
	}
	s.closed.Store(true)
	started := s.started
	s.lifeMu.Unlock()

	if started {
		s.stopAfter()
		s.pacer.remove(s)
	}
	s.closeErr = s.conn.Close()
	s.wg.Wait()
	if started {
		s.finalFlush()
		s.pacer.retire(s)
	}
	s.evMu.Lock()
	s.evClosed = true
	close(s.events)
	s.evMu.Unlock()
	if started {
		st := s.Stats()
		s.log.Debug("media session closed", "packets_in", st.PacketsIn, "packets_out", st.PacketsOut,
			"lost", st.Lost, "dropped", st.Dropped.Total(), "late_frames", st.LateFrames, "jitter", st.Jitter)
	}
	close(s.closeDone)
	return s.closeErr
}

// finalFlush writes the recorder's last frames; a panicking recorder is
// logged, not passed on to whoever closes the session.
func (s *Session) finalFlush() {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("media: recorder panicked while closing", "panic", r)
		}
	}()
	s.rx.flushRecorder(s, true)
}

// Play starts playing src, replacing whatever was playing (which then ends
// without an event). It returns an ID that the EventPlayDone of src will
// carry, so a caller can tell its own playback's end from an earlier one's.
func (s *Session) Play(src Source) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastPlayID++
	s.src, s.playID = src, s.lastPlayID
	return s.playID
}

// StopPlayback stops what is playing (barge-in): the next frame sent after
// it returns is silence. No EventPlayDone is sent for a stopped playback.
func (s *Session) StopPlayback() {
	s.mu.Lock()
	s.src = nil
	s.mu.Unlock()
}

// Playing reports whether a source is playing.
func (s *Session) Playing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src != nil
}

// Events returns the session's events. The channel is buffered (32) and
// never blocks the media path: when it is full the oldest event is dropped
// to make room (Stats.EventsDropped), since the newest digits matter most to
// a consumer that fell behind. It is closed by Close.
func (s *Session) Events() <-chan Event { return s.events }

// InjectDigit adds a digit from elsewhere (SIP INFO) to the session's digit
// stream, timed now. Keys other than 0-9 * # A-D are ignored.
func (s *Session) InjectDigit(key rune, source string) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	if !dtmf.ValidKey(key) {
		return
	}
	s.emitDigit(dtmf.Digit{Key: key, Source: source, At: s.since()})
}

// SetRemote applies a re-INVITE: where to send, the codec and the
// telephone-event payload type (0: none, in-band detection runs). When the
// address changes, the session latches again on the next valid packet. An
// unsupported codec is ignored (the old one stays) and logged.
func (s *Session) SetRemote(addr *net.UDPAddr, c Codec, dtmfPT uint8) {
	l := c.law()
	if l == lawUnknown || c.PayloadType > 127 || dtmfPT > 127 || (dtmfPT != 0 && dtmfPT == c.PayloadType) {
		s.log.Warn("media: SetRemote with an unsupported codec ignored", "codec", c.Name, "pt", c.PayloadType, "dtmf_pt", dtmfPT)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.remote.Load()
	rs := &remoteState{addr: udpAddrPort(addr), codec: c, law: l, dtmfPT: dtmfPT, gen: old.gen}
	if rs.addr != old.addr {
		rs.gen++
		s.latchedAddr.Store(nil)
		s.marker = true
	}
	s.remote.Store(rs)
}

// SetSending turns sending on or off (hold). Off, the clock keeps running:
// timestamps advance, playback goes on, the recorder gets silence for the
// bot, but no packet is sent (and sequence numbers pause, as RFC 3550 wants).
// The first packet after hold has the marker bit.
func (s *Session) SetSending(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && !s.sending {
		s.marker = true
	}
	s.sending = on
}

// ErrNoTelephoneEvent is returned by SendDigit when the peer did not
// negotiate RFC 4733.
var ErrNoTelephoneEvent = errors.New("media: telephone-event not negotiated")

// maxQueuedDigits bounds SendDigit's queue.
const maxQueuedDigits = 64

// SendDigit queues an RFC 4733 key press of the given duration (the test
// caller's keypad). Digits go out one after the other with a 40 ms pause;
// while one is sent, the audio frames it replaces are not sent (playback
// continues underneath, as with a real keypad). Without telephone-event,
// play dtmf.Tone instead.
func (s *Session) SendDigit(key rune, duration time.Duration) error {
	if _, ok := dtmf.EventCode(key); !ok {
		return fmt.Errorf("media: %q is not a DTMF key", key)
	}
	if duration <= 0 || duration > dtmf.MaxDuration {
		return fmt.Errorf("media: digit duration %v out of range", duration)
	}
	if s.remote.Load().dtmfPT == 0 {
		return ErrNoTelephoneEvent
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.digitQ) >= maxQueuedDigits {
		return errors.New("media: too many digits queued")
	}
	s.digitQ = append(s.digitQ, queuedDigit{key, duration})
	return nil
}

// LocalPort is the session's RTP port (for the SDP).
func (s *Session) LocalPort() int { return s.port }

// PTime is the session's packet time.
func (s *Session) PTime() time.Duration { return s.ptime }
