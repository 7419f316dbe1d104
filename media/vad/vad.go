package vad

import (
	"fmt"
	"math"
	"time"
)

// SampleRate is the rate of the audio the detector expects: 8 kHz mono.
const SampleRate = 8000

// Config sets the detector's timing. Zero values mean the defaults; every
// duration is rounded up to whole frames.
type Config struct {
	FrameSize  int           // samples per frame (default 160: 20 ms at 8 kHz)
	Onset      time.Duration // energy above the speech threshold this long = possible speech (default 40 ms): a barge-in pauses the prompt here
	MinSpeech  time.Duration // possible speech that lasts this long is speech (default 200 ms): shorter bursts (a cough, a click) are cancelled
	EndSilence time.Duration // silence that ends an utterance (default 600 ms)
	MaxSpeech  time.Duration // longest utterance (default 15 s): it ends there
	PreRoll    time.Duration // audio kept from before the onset, handed over at Start (default 300 ms) so the first syllable is not cut; negative: none
	// NoAudio: the detector only times speech (a talk-time meter) and
	// keeps no audio; Start's Event.Audio is nil. Saves the history
	// buffers, 23 KiB with the defaults.
	NoAudio bool
}

// Defaults, used for zero Config fields.
const (
	DefaultFrameSize  = 160
	DefaultOnset      = 40 * time.Millisecond
	DefaultMinSpeech  = 200 * time.Millisecond
	DefaultEndSilence = 600 * time.Millisecond
	DefaultMaxSpeech  = 15 * time.Second
	DefaultPreRoll    = 300 * time.Millisecond
)

// Kind is what an Event reports.
type Kind int

const (
	None   Kind = iota
	Onset       // possible speech began (Onset long)
	Start       // confirmed: MinSpeech of speech; Event.Audio holds pre-roll + everything since the onset
	Cancel      // the possible speech ended before MinSpeech: it was noise
	End         // the utterance ended: Reason "silence" (EndSilence) or "max" (MaxSpeech)
)

func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Onset:
		return "onset"
	case Start:
		return "start"
	case Cancel:
		return "cancel"
	case End:
		return "end"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event is the result of one Push.
type Event struct {
	Kind   Kind
	At     time.Duration // stream time of this frame's end (frames pushed × frame duration)
	Begin  time.Duration // Onset/Start/Cancel/End: stream time where the speech began (the onset's first frame)
	Audio  []int16       // Start only: pre-roll + speech so far, a slice of the detector's buffer valid until the next Push
	Reason string        // End: "silence" or "max"; Cancel: "short", or "tone" (a steady tone, e.g. in-band DTMF)
	// SpeechEnd is, for End, the stream time where the last speech frame
	// ended: At minus the trailing silence (for "max", At). Audio after it
	// is the silence that ended the utterance.
	SpeechEnd time.Duration
}

// Levels and margins, in dB. See the package comment for where they come
// from.
const (
	floorMin       = -75.0                  // the noise floor never goes below this (dBFS)
	floorMinPower  = 3.1622776601683795e-08 // floorMin as a power
	enterMargin    = 10.0                   // speech threshold: floor + enterMargin …
	stayMargin     = 6.0                    // … and floor + stayMargin to stay in speech (hysteresis)
	enterMinLevel  = -55.0                  // absolute minimum level to start speech (dBFS)
	stayMinLevel   = -59.0                  // … and to stay in speech
	digitalSilence = 1e-9                   // frames below this power (-90 dBFS: zeros, ±1 dither) carry no noise information
	highPass       = 120.0                  // Hz: levels are measured above this (no DC, hum or rumble)
)

// Noise floor tracking (minimum statistics): the floor is the minimum of the
// frame power, smoothed over smoothFrames, over the last subWindows
// sub-windows of subWindow each plus the current one.
const (
	smoothFrames = 3
	subWindow    = 500 * time.Millisecond
	subWindows   = 5 // 2.5 s of history + the current sub-window
)

// maxDip is the longest dip inside possible speech that does not cancel it.
const maxDip = 60 * time.Millisecond

// maxLoss is the longest run of digital silence taken for lost packets (the
// media layer fills up to 10 lost packets with zeros) rather than a quiet
// line.
const maxLoss = 200 * time.Millisecond

// Tone rejection: a frame is tone-like when a 4th-order linear predictor
// removes at least toneGain of its power (a sine or a sum of two sines is
// predicted exactly by 4 taps; G.711 noise leaves 13 dB or more for every
// DTMF pair), and its normalised autocorrelation (lags 1–4) and level have
// hardly changed since the previous frame. toneRun of tone-like frames in a
// row is a tone: not speech. Measured over about 10 minutes of espeak-ng
// speech through μ-law and A-law (seven English and Mandarin voices, four
// pitches each), the longest run of tone-like speech frames was 6 (120 ms);
// every DTMF key, the North
// American dial and busy tones, the European 425 Hz and single tones from 350
// to 3400 Hz are tone-like in every frame but the first.
const (
	toneGain     = 10.0                   // prediction gain, power ratio (10 dB)
	toneRhoDelta = 0.05                   // largest change of a normalised autocorrelation lag
	toneLevel    = 1.0                    // largest change of level, dB
	toneRun      = 160 * time.Millisecond // tone-like frames in a row (after a first frame)
)

type state uint8

const (
	quiet    state = iota // no speech
	pending               // frames above the threshold, fewer than Onset
	possible              // Onset sent, waiting for MinSpeech
	speaking              // Start sent, waiting for End
)

// Detector is a voice activity detector and endpointer for one audio stream.
// It is not safe for concurrent use; it does not allocate after New.
type Detector struct {
	fs                                       int
	fd                                       time.Duration
	onsetN, minN, endN, maxN, preN, possMaxN int
	dipN, subN0, toneN, zeroN                int // maxDip, subWindow, toneRun, maxLoss in frames

	// noise floor
	pw       [smoothFrames]float64
	pwN, pwI int
	curMin   float64
	subMin   [subWindows]float64 // minimum of each past sub-window, +Inf if none
	subI     int                 // next slot of subMin
	subCount int                 // frames in the current sub-window
	zeroRun  int                 // frames of digital silence in a row
	floor    float64
	guard    float64

	// high-pass filter: coefficients b0 b1 b2 a1 a2 (a0 = 1), state, output
	hp     [5]float64
	z1, z2 float64
	x      []float64

	// tone detection
	tail     [4]float64 // the previous frame's last 4 samples
	rho      [4]float64 // the previous frame's normalised autocorrelation, lags 1–4
	rhoLevel float64    // … and its level (dBFS)
	rhoOK    bool       // rho and rhoLevel are set (the previous frame was analysed)
	toneRun  int        // tone-like frames in a row

	// endpointing
	st         state
	n          int64 // frames pushed
	begin      int64 // first frame of the onset
	run        int   // pending: frames above threshold; speaking: consecutive speech frames
	speechN    int   // possible: speech frames since the onset
	dip        int   // possible: consecutive non-speech frames
	silence    int   // speaking: frames of silence since the last speech
	lastSpeech int64 // speaking: frame index after the last speech frame

	// audio history: a ring of histN frames, frame i at (i % histN)
	hist  []int16
	histN int
	out   []int16
}

// New returns a detector for cfg (zero fields take the defaults).
func New(cfg Config) *Detector {
	d := &Detector{}
	d.fs = cfg.FrameSize
	if d.fs <= 0 {
		d.fs = DefaultFrameSize
	}
	d.fd = time.Duration(d.fs) * time.Second / SampleRate
	frames := func(v, def time.Duration) int {
		if v == 0 {
			v = def
		}
		if v < 0 {
			return 0
		}
		return int((v + d.fd - 1) / d.fd)
	}
	d.onsetN = max(1, frames(cfg.Onset, DefaultOnset))
	d.minN = max(d.onsetN+1, frames(cfg.MinSpeech, DefaultMinSpeech))
	d.endN = max(1, frames(cfg.EndSilence, DefaultEndSilence))
	d.maxN = max(d.minN, frames(cfg.MaxSpeech, DefaultMaxSpeech))
	d.preN = frames(cfg.PreRoll, DefaultPreRoll)
	d.dipN = frames(maxDip, 0)
	d.subN0 = frames(subWindow, 0)
	d.toneN = frames(toneRun, 0)
	d.zeroN = frames(maxLoss, 0)
	// Possible speech lasts at most twice MinSpeech: dips between its speech
	// frames can stretch it, but not forever.
	d.possMaxN = 2 * d.minN
	d.histN = d.preN + d.possMaxN + 1
	if !cfg.NoAudio {
		d.hist = make([]int16, d.histN*d.fs)
		d.out = make([]int16, d.histN*d.fs)
	}
	d.x = make([]float64, d.fs)
	// The detector starts as if the line had been quiet for the last
	// second (two sub-windows), so that a caller who talks from the first
	// frame is heard, rather than taken for the floor; noise that is there
	// from the start is learnt after that second.
	d.curMin = math.Inf(1)
	for i := range d.subMin {
		d.subMin[i] = math.Inf(1) // no information
	}
	d.subMin[0], d.subMin[1] = floorMinPower, floorMinPower // overwritten first
	d.floor = floorMin
	// 2nd-order Butterworth high-pass at highPass Hz (RBJ cookbook).
	w := 2 * math.Pi * highPass / SampleRate
	cw, alpha := math.Cos(w), math.Sin(w)/math.Sqrt2
	a0 := 1 + alpha
	d.hp = [5]float64{(1 + cw) / 2 / a0, -(1 + cw) / a0, (1 + cw) / 2 / a0, -2 * cw / a0, (1 - alpha) / a0}
	return d
}

// FrameDuration is the duration of one frame.
func (d *Detector) FrameDuration() time.Duration { return d.fd }

// FrameSize is the number of samples Push takes.
func (d *Detector) FrameSize() int { return d.fs }

// Speaking reports whether an utterance is in progress: between Start and
// End.
func (d *Detector) Speaking() bool { return d.st == speaking }

// NoiseFloor is the current noise floor estimate in dBFS (a full-scale sine
// is -3 dBFS). It starts at -75, the lowest it goes.
func (d *Detector) NoiseFloor() float64 { return d.floor }

// SetEchoGuard raises both speech thresholds by dB (0 or less: off). Set it
// while a prompt plays so that the line echo of the prompt does not count as
// caller speech; clear it when the prompt stops.
func (d *Detector) SetEchoGuard(dB float64) { d.guard = max(0, dB) }

// Reset starts a new listening period: any utterance in progress (possible
// or confirmed) is forgotten without an event. The noise floor, the echo
// guard, the stream clock and the audio history (the next Start's pre-roll)
// are kept.
func (d *Detector) Reset() {
	d.st = quiet
	d.run, d.speechN, d.dip, d.silence = 0, 0, 0, 0
}

// Thresholds returns the current levels (dBFS) a frame must exceed to start
// possible speech and to stay in speech: the noise floor plus a margin, at
// least an absolute minimum, plus the echo guard.
func (d *Detector) Thresholds() (enter, stay float64) {
	enter = max(d.floor+enterMargin, enterMinLevel) + d.guard
	stay = max(d.floor+stayMargin, stayMinLevel) + d.guard
	return enter, stay
}

// Push processes one frame of exactly FrameSize samples (it panics on any
// other length: cut the stream with a Framer) and returns what it ended
// with: mostly None. After Start the caller forwards this and every later
// frame to the recogniser itself, until End.
func (d *Detector) Push(frame []int16) Event {
	if len(frame) != d.fs {
		panic(fmt.Sprintf("vad: frame of %d samples, want %d", len(frame), d.fs))
	}
	idx := d.n
	d.n++
	if d.hist != nil {
		copy(d.hist[int(idx%int64(d.histN))*d.fs:], frame)
	}

	// High-pass filter (transposed direct form II) into d.x, and the
	// filtered frame's energy.
	x := d.x[:len(frame)]
	b0, b1, b2, a1, a2 := d.hp[0], d.hp[1], d.hp[2], d.hp[3], d.hp[4]
	z1, z2 := d.z1, d.z2
	var sum, raw float64
	for i, s := range frame {
		v := float64(s)
		raw += v * v
		y := b0*v + z1
		z1 = b1*v - a1*y + z2
		z2 = b2*v - a2*y
		x[i] = y
		sum += y * y
	}
	if math.Abs(z1) < 1e-9 && math.Abs(z2) < 1e-9 {
		z1, z2 = 0, 0 // no denormals after digital silence: they are slow
	}
	d.z1, d.z2 = z1, z2
	p := sum / float64(len(frame)) / (32768 * 32768)
	level := -100.0
	if p > 0 {
		level = 10 * math.Log10(p)
	}
	// A few frames of digital silence (the zeros the media layer puts in
	// place of lost packets) say nothing about the caller's noise: they must
	// not pull the floor down. A line that stays digitally silent longer is
	// quiet.
	if raw > float64(len(frame))*(32768*32768)*digitalSilence {
		d.zeroRun = 0
		d.trackFloor(p)
	} else if d.zeroRun++; d.zeroRun > d.zeroN {
		d.trackFloor(floorMinPower)
	}
	enter, stay := d.Thresholds()
	tone := false
	if level > stay {
		tone = d.trackTone(x, sum, level)
	} else {
		d.rhoOK, d.toneRun = false, 0
	}
	loud := level > stay && !tone // speech, by the lower threshold
	copy(d.tail[:], x[len(x)-4:])

	ev := Event{At: d.time(idx + 1)}
	switch d.st {
	case quiet, pending:
		if !loud || level <= enter {
			d.st, d.run = quiet, 0
			break
		}
		if d.run == 0 {
			d.begin = idx
		}
		d.run++
		d.st = pending
		if d.run >= d.onsetN {
			d.st, d.speechN, d.dip = possible, d.run, 0
			ev.Kind, ev.Begin = Onset, d.time(d.begin)
		}
	case possible:
		if tone {
			d.st, d.run = quiet, 0
			ev.Kind, ev.Begin, ev.Reason = Cancel, d.time(d.begin), "tone"
			break
		}
		if loud {
			d.speechN++
			d.dip = 0
		} else {
			d.dip++
		}
		switch {
		case d.speechN >= d.minN && loud:
			d.st, d.run, d.silence, d.lastSpeech = speaking, 1, 0, idx+1
			ev.Kind, ev.Begin, ev.Audio = Start, d.time(d.begin), d.audio(idx)
		case d.dip > d.dipN || idx+1-d.begin >= int64(d.possMaxN):
			d.st, d.run = quiet, 0
			ev.Kind, ev.Begin, ev.Reason = Cancel, d.time(d.begin), "short"
		}
	case speaking:
		if loud {
			d.run++
		} else {
			d.run = 0
		}
		// One loud frame alone (a click) does not end the silence; two in a
		// row do, and count from the first.
		switch {
		case d.run >= 2:
			d.silence, d.lastSpeech = 0, idx+1
		case d.run == 1 && d.silence == 0:
			d.lastSpeech = idx + 1
		default:
			d.silence++
		}
		switch {
		case idx+1-d.begin >= int64(d.maxN):
			d.st, d.run = quiet, 0
			ev.Kind, ev.Begin, ev.Reason, ev.SpeechEnd = End, d.time(d.begin), "max", ev.At
		case d.silence >= d.endN:
			d.st, d.run = quiet, 0
			ev.Kind, ev.Begin, ev.Reason, ev.SpeechEnd = End, d.time(d.begin), "silence", d.time(d.lastSpeech)
		}
	}
	return ev
}

func (d *Detector) time(frames int64) time.Duration { return time.Duration(frames) * d.fd }

// audio returns pre-roll + frames begin..last from the history, in order.
func (d *Detector) audio(last int64) []int16 {
	if d.hist == nil {
		return nil // Config.NoAudio
	}
	first := max(0, d.begin-int64(d.preN), d.n-int64(d.histN))
	out := d.out[:0]
	for i := first; i <= last; i++ {
		off := int(i%int64(d.histN)) * d.fs
		out = append(out, d.hist[off:off+d.fs]...)
	}
	return out
}

// trackFloor updates the noise floor with a frame of power p (linear, full
// scale 1): minimum statistics of the power smoothed over smoothFrames.
func (d *Detector) trackFloor(p float64) {
	d.pw[d.pwI] = p
	d.pwI = (d.pwI + 1) % smoothFrames
	d.pwN = min(d.pwN+1, smoothFrames)
	var s float64
	for _, v := range d.pw[:d.pwN] {
		s += v
	}
	s /= float64(d.pwN)
	d.curMin = min(d.curMin, s)
	m := d.curMin
	for _, v := range d.subMin {
		m = min(m, v)
	}
	d.subCount++
	if d.subCount == d.subN0 {
		d.subMin[d.subI] = d.curMin
		d.subI = (d.subI + 1) % subWindows
		d.subCount, d.curMin = 0, math.Inf(1)
	}
	d.floor = max(floorMin, 10*math.Log10(m))
}

// trackTone analyses a frame above the stay threshold and reports whether it
// is part of a tone (toneFrames tone-like frames in a row).
func (d *Detector) trackTone(frame []float64, sum, level float64) bool {
	var rho [4]float64
	like := d.predictionGain(frame, sum, &rho) >= toneGain && d.rhoOK && math.Abs(level-d.rhoLevel) <= toneLevel
	for k := range rho {
		if math.Abs(rho[k]-d.rho[k]) > toneRhoDelta {
			like = false
		}
	}
	d.rho, d.rhoLevel, d.rhoOK = rho, level, true
	if like {
		d.toneRun++
	} else {
		d.toneRun = 0
	}
	return d.toneRun >= d.toneN
}

// predictionGain is the frame's power over what is left of it after the
// best 4th-order linear predictor, fitted to the frame by least squares (the
// covariance method, with the previous frame's last samples as history). A
// sum of two sines is predicted exactly by 4 taps; speech is not. sum is
// Σ frame². It also returns the frame's normalised autocorrelation at lags
// 1–4 in rho.
func (d *Detector) predictionGain(frame []float64, sum float64, rho *[4]float64) float64 {
	const p = 4
	n := len(frame)
	if n < 2*p || sum == 0 {
		return 1
	}
	// y(k) is sample k of the frame, k in [-4, n): negative k from tail.
	y := func(k int) float64 {
		if k < 0 {
			return d.tail[4+k]
		}
		return frame[k]
	}
	// phi[i][j] = Σ_{k=0}^{n-1} y(k-i) y(k-j), for i, j in 0..p.
	var phi [p + 1][p + 1]float64
	phi[0][0] = sum
	for j := 1; j <= p; j++ {
		var s float64
		for k := 0; k < j; k++ {
			s += frame[k] * d.tail[4+k-j]
		}
		for k := j; k < n; k++ {
			s += frame[k] * frame[k-j]
		}
		phi[0][j] = s
		rho[j-1] = s / sum
	}
	// Shift recursion: phi[i+1][j+1] = phi[i][j] + y(-1-i)y(-1-j) - y(n-1-i)y(n-1-j).
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			phi[i+1][j+1] = phi[i][j] + y(-1-i)*y(-1-j) - y(n-1-i)*y(n-1-j)
		}
	}
	// Solve phi[1..p][1..p] a = phi[0][1..p] by Cholesky, with a little
	// diagonal loading so that silence and clipping cannot break it.
	var l [p][p]float64
	load := 1e-6 * phi[0][0]
	for i := 0; i < p; i++ {
		for j := 0; j <= i; j++ {
			s := phi[min(i, j)+1][max(i, j)+1]
			if i == j {
				s += load
			}
			for k := 0; k < j; k++ {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				if s <= 0 {
					return 1
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	// Residual power = phi00 - |L⁻¹ φ|².
	var z [p]float64
	res := phi[0][0]
	for i := 0; i < p; i++ {
		s := phi[0][i+1]
		for k := 0; k < i; k++ {
			s -= l[i][k] * z[k]
		}
		z[i] = s / l[i][i]
		res -= z[i] * z[i]
	}
	if res <= 0 {
		return math.Inf(1)
	}
	return phi[0][0] / res
}
