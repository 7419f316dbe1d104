package vad

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/dtmf"
)

// speechSpan is where speech really is in a clip: the first and last frame
// of clean (noise-free) audio above -50 dBFS, as stream times.
func speechSpan(clean []int16) (begin, end time.Duration) {
	first, last := -1, -1
	for i := 0; i+frame <= len(clean); i += frame {
		if level(clean[i:i+frame]) > -50 {
			if first < 0 {
				first = i
			}
			last = i + frame
		}
	}
	return dur(first), dur(last)
}

// TestPhrases: each phrase, alone on a quiet line after a second of line
// noise, through μ-law and A-law, is one utterance: Onset, Start, End by
// silence, found where the speech is. Short words ("yes", "no") are speech,
// not noise.
func TestPhrases(t *testing.T) {
	var onsetLat, endLat []time.Duration
	for _, name := range []string{"hello", "first", "second", "long", "yes", "no"} {
		for _, law := range laws {
			for _, gain := range []float64{0, -15} { // normal and quiet talker
				t.Run(fmt.Sprintf("%s/%s/%+.0fdB", name, law.name, gain), func(t *testing.T) {
					speech := scaled(trim(load(t, name)), gain)
					clean := concat(time.Second, speech, 2*time.Second)
					evs := run(Config{}, law.fn(line(clean)))
					want := []string{"onset", "start", "end:silence"}
					if got := kinds(evs); !slices.Equal(got, want) {
						t.Fatalf("events %v, want %v", got, want)
					}
					// The speech is the trimmed clip: from the first to the last
					// sample above ±64.
					b, e := time.Second, time.Second+dur(len(speech))
					on, st, end := evs[0], evs[1], evs[2]
					if d := on.Begin - b; d < -20*time.Millisecond || d > 100*time.Millisecond {
						t.Errorf("onset begins at %v, speech at %v", on.Begin, b)
					}
					if st.Begin != on.Begin || end.Begin != on.Begin {
						t.Errorf("Begin differs: onset %v start %v end %v", on.Begin, st.Begin, end.Begin)
					}
					if d := end.SpeechEnd - e; d < -150*time.Millisecond || d > 20*time.Millisecond {
						t.Errorf("speech ends at %v, detector says %v", e, end.SpeechEnd)
					}
					if got := end.At - end.SpeechEnd; got != 600*time.Millisecond {
						t.Errorf("End %v after the last speech frame, want EndSilence", got)
					}
					onsetLat = append(onsetLat, on.At-b)
					endLat = append(endLat, end.At-e)
				})
			}
		}
	}
	if !t.Failed() {
		slices.Sort(onsetLat)
		slices.Sort(endLat)
		t.Logf("speech start → Onset: %v..%v; speech end → End: %v..%v", onsetLat[0], onsetLat[len(onsetLat)-1], endLat[0], endLat[len(endLat)-1])
	}
}

// TestEventTiming checks the state machine's exact timing on a synthetic
// burst that starts and ends on frame boundaries, for 20 and 30 ms frames.
func TestEventTiming(t *testing.T) {
	for _, fs := range []int{160, 240} {
		t.Run(fmt.Sprint(fs), func(t *testing.T) {
			start, length := samples(time.Second), samples(1200*time.Millisecond)
			start -= start % fs
			length -= length % fs
			pcm := line(concat(start, white(1, length, -20), 2*time.Second))
			evs := run(Config{FrameSize: fs}, pcm)
			fd := dur(fs)
			ceil := func(d time.Duration) time.Duration { return (d + fd - 1) / fd * fd }
			b := dur(start)
			want := []Event{
				{Kind: Onset, At: b + ceil(40*time.Millisecond), Begin: b},
				{Kind: Start, At: b + ceil(200*time.Millisecond), Begin: b},
				// The detector's 120 Hz high-pass filter rings for a few ms after
				// the burst stops: one more frame above the threshold.
				{Kind: End, At: b + dur(length) + fd + ceil(600*time.Millisecond), Begin: b, Reason: "silence", SpeechEnd: b + dur(length) + fd},
			}
			if len(evs) != len(want) {
				t.Fatalf("events %v, want onset, start, end", kinds(evs))
			}
			for i := range want {
				got := evs[i]
				got.Audio = nil
				if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want[i]) {
					t.Errorf("event %d = %+v, want %+v", i, got, want[i])
				}
			}
		})
	}
}

// TestNoiseBursts: a click, a cough-like burst or a bump shorter than
// MinSpeech does not start an utterance. Bursts long enough for Onset are
// cancelled; a click is too short even for Onset.
func TestNoiseBursts(t *testing.T) {
	cough := func(n int) []int16 { // white noise with a fast attack, exponential decay
		w := white(7, n, -12)
		for i := range w {
			w[i] = clip(float64(w[i]) * math.Exp(-3*float64(i)/float64(n)))
		}
		return w
	}
	click := make([]int16, 40)
	click[0], click[1], click[2] = 20000, -16000, 8000
	for _, c := range []struct {
		name  string
		burst []int16
		want  []string
	}{
		{"click", click, nil},
		{"5ms", white(2, samples(5*time.Millisecond), -10), nil},
		{"60ms", white(3, samples(60*time.Millisecond), -20), []string{"onset", "cancel:short"}},
		{"100ms", white(4, samples(100*time.Millisecond), -20), []string{"onset", "cancel:short"}},
		{"150ms", white(5, samples(150*time.Millisecond), -20), []string{"onset", "cancel:short"}},
		{"cough150ms", cough(samples(150 * time.Millisecond)), []string{"onset", "cancel:short"}},
		{"pink140ms", pink(6, samples(140*time.Millisecond), -20), []string{"onset", "cancel:short"}},
	} {
		for _, law := range laws {
			t.Run(c.name+"/"+law.name, func(t *testing.T) {
				// Three bursts, at different frame alignments.
				pcm := line(concat(time.Second, c.burst, samples(time.Second)+37, c.burst, samples(time.Second)+91, c.burst, time.Second))
				var want []string
				for range 3 {
					want = append(want, c.want...)
				}
				if got := kinds(run(Config{}, law.fn(pcm))); !slices.Equal(got, want) {
					t.Errorf("events %v, want %v", got, want)
				}
			})
		}
	}
}

// TestPauses: a phrase with a pause shorter than EndSilence is one
// utterance; a longer pause splits it in two.
func TestPauses(t *testing.T) {
	a, b := trim(load(t, "first")), trim(load(t, "second"))
	for _, c := range []struct {
		pause time.Duration
		utts  int
	}{
		{150 * time.Millisecond, 1},
		{300 * time.Millisecond, 1},
		{450 * time.Millisecond, 1},
		{520 * time.Millisecond, 1},
		{700 * time.Millisecond, 2},
		{time.Second, 2},
		{2 * time.Second, 2},
	} {
		for _, law := range laws {
			for _, noise := range []string{"quiet", "pink-45"} {
				t.Run(fmt.Sprintf("%v/%s/%s", c.pause, law.name, noise), func(t *testing.T) {
					pcm := concat(3*time.Second, a, c.pause, b, 2*time.Second)
					if noise == "quiet" {
						pcm = line(pcm)
					} else {
						pcm = mix(pcm, pink(11, len(pcm), -45), 0)
					}
					evs := after(run(Config{}, law.fn(pcm)), 2*time.Second)
					var want []string
					for range c.utts {
						want = append(want, "onset", "start", "end:silence")
					}
					if got := kinds(evs); !slices.Equal(got, want) {
						t.Fatalf("events %v, want %v", got, want)
					}
				})
			}
		}
	}
}

// TestMaxSpeech: an utterance ends at MaxSpeech; the speech that goes on
// is a new utterance.
func TestMaxSpeech(t *testing.T) {
	pcm := ulaw(line(concat(time.Second, trim(load(t, "long")), 2*time.Second)))
	evs := run(Config{MaxSpeech: 3 * time.Second}, pcm)
	got := kinds(evs)
	if len(got) < 4 || !slices.Equal(got[:3], []string{"onset", "start", "end:max"}) || got[len(got)-1] != "end:silence" {
		t.Fatalf("events %v, want onset, start, end:max, …, end:silence", got)
	}
	if d := evs[2].At - evs[2].Begin; d != 3*time.Second {
		t.Errorf("max end %v after the beginning, want 3s", d)
	}
	if evs[2].SpeechEnd != evs[2].At {
		t.Errorf("max end: SpeechEnd %v, At %v", evs[2].SpeechEnd, evs[2].At)
	}
	if count(evs, End) < 2 || count(evs, Start) != count(evs, End) {
		t.Errorf("events %v: want every Start ended, at least two utterances", got)
	}

	// With the default 15 s, the 7 s paragraph (pauses at its comma and
	// full stop) is one utterance.
	if got := kinds(run(Config{}, pcm)); !slices.Equal(got, []string{"onset", "start", "end:silence"}) {
		t.Errorf("default config: events %v, want one utterance", got)
	}
}

// TestPreRoll: the Audio handed over at Start is exactly the stream from
// PreRoll before the onset to the Start frame, and it holds the soft
// beginning of a phrase that the threshold missed.
func TestPreRoll(t *testing.T) {
	for _, c := range []struct {
		name    string
		preRoll time.Duration
	}{{"default", 0}, {"500ms", 500 * time.Millisecond}, {"none", -1}} {
		for _, phrase := range []string{"hello", "second", "yes"} {
			t.Run(c.name+"/"+phrase, func(t *testing.T) {
				speech := trim(load(t, phrase))
				// A soft start: the first 150 ms fade in from -40 dB, under a
				// -50 dBFS noise floor, so the threshold misses the first syllable's
				// beginning.
				fade := samples(150 * time.Millisecond)
				speech = append([]int16(nil), speech...)
				for i := 0; i < fade; i++ {
					speech[i] = clip(float64(speech[i]) * math.Pow(10, -2*float64(fade-i)/float64(fade)))
				}
				start := samples(3*time.Second) + 53
				clean := concat(start, speech, time.Second)
				pcm := ulaw(mix(clean, white(5, len(clean), -50), 0))
				evs := after(run(Config{PreRoll: c.preRoll}, pcm), 2*time.Second)
				if len(evs) < 2 || evs[1].Kind != Start {
					t.Fatalf("events %v, want onset, start", kinds(evs))
				}
				st := evs[1]
				pre := 300 * time.Millisecond
				switch {
				case c.preRoll > 0:
					pre = c.preRoll
				case c.preRoll < 0:
					pre = 0
				}
				from := samples(st.Begin - pre)
				if want := pcm[from:samples(st.At)]; !slices.Equal(st.Audio, want) {
					t.Fatalf("Audio: %d samples, want the %d from Begin-PreRoll (%v) to At (%v)", len(st.Audio), len(want), st.Begin-pre, st.At)
				}
				if pre == 0 {
					return
				}
				if from > start {
					t.Errorf("Audio begins %v after the speech", dur(from-start))
				}
				// The onset missed the soft beginning, and the pre-roll has it.
				b := samples(st.Begin)
				if b <= start {
					t.Fatalf("onset at %v, at or before the speech (%v): the test proves nothing", st.Begin, dur(start))
				}
				if l := level(clean[start:b]); l < -65 {
					t.Errorf("the %v of speech before the onset is at %.1f dBFS: nothing to keep", dur(b-start), l)
				}
			})
		}
	}
}

// TestBackgroundNoise: steady noise is not speech once the floor has
// adapted, and speech in it is found. Noise that starts during a quiet call
// is taken for speech until the floor adapts: at most one utterance, ending
// within the adaptation time.
func TestBackgroundNoise(t *testing.T) {
	speech := trim(load(t, "hello"))
	for _, c := range []struct {
		name  string
		noise func(seed uint64, n int, dBFS float64) []int16
		floor float64 // the noise's level above 120 Hz (pink noise has much of its power below)
	}{{"white", white, -45}, {"pink", pink, -49.3}} {
		for _, law := range laws {
			t.Run(c.name+"/"+law.name, func(t *testing.T) {
				// Noise alone: no events once it has been learnt, floor near it.
				n := c.noise(21, samples(20*time.Second), -45)
				d := New(Config{})
				if evs := after(runOn(d, law.fn(n)), time.Second); len(evs) > 0 {
					t.Errorf("noise alone: events %v", kinds(evs))
				}
				if f := d.NoiseFloor(); f < c.floor-3 || f > c.floor {
					t.Errorf("noise floor %.1f dBFS in -45 dBFS noise (%.1f dBFS above 120 Hz)", f, c.floor)
				}

				// Quiet, then the noise starts at 3 s.
				at := samples(3 * time.Second)
				pcm := mix(line(make([]int16, at+len(n))), n, at)
				evs := run(Config{}, law.fn(pcm))
				if len(evs) > 0 {
					last := evs[len(evs)-1]
					if last.Kind != End && last.Kind != Cancel {
						t.Fatalf("noise starting mid-call: events %v, want it ended", kinds(evs))
					}
					if count(evs, Start) > 1 {
						t.Errorf("noise starting mid-call: events %v", kinds(evs))
					}
					adapt := last.At - dur(at)
					if adapt > 3700*time.Millisecond {
						t.Errorf("noise starting mid-call ended %v after it began", adapt)
					}
					t.Logf("noise starting mid-call: %v, last %v after it began", kinds(evs), adapt)
				}

				// Speech at +15 and +10 dB SNR (speech -22 dBFS active) in the noise,
				// after 3 s of noise alone.
				for _, snr := range []float64{15, 10} {
					sp := scaled(speech, -45+snr-level(speech))
					clean := concat(3*time.Second, sp, 2*time.Second)
					noisy := mix(clean, c.noise(22, len(clean), -45), 0)
					evs := after(run(Config{}, law.fn(noisy)), 2*time.Second)
					if got := kinds(evs); !slices.Equal(got, []string{"onset", "start", "end:silence"}) {
						t.Errorf("speech at %+.0f dB SNR: events %v, want one utterance", snr, got)
						continue
					}
					b, e := speechSpan(clean)
					if d := evs[0].Begin - b; d < 0 || d > 200*time.Millisecond {
						t.Errorf("speech at %+.0f dB SNR begins at %v, detected at %v", snr, b, evs[0].Begin)
					}
					if d := evs[2].SpeechEnd - e; d < -200*time.Millisecond || d > 200*time.Millisecond {
						t.Errorf("speech at %+.0f dB SNR ends at %v, detected at %v", snr, e, evs[2].SpeechEnd)
					}
				}
			})
		}
	}
}

// TestDigitalSilence: zeros, ±1 dither, the A-law idle pattern and G.711
// quantisation of very low noise are never speech.
func TestDigitalSilence(t *testing.T) {
	n := samples(10 * time.Second)
	dither := white(31, n, -96)
	for _, c := range []struct {
		name string
		pcm  []int16
	}{
		{"zeros", make([]int16, n)},
		{"dither", dither},
		{"alaw-idle", alaw(make([]int16, n))},
		{"ulaw-noise-70", ulaw(white(32, n, -70))},
		{"alaw-noise-70", alaw(white(33, n, -70))},
		{"zeros-then-noise-65", concat(make([]int16, n), white(34, n, -65))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if evs := run(Config{}, c.pcm); len(evs) > 0 {
				t.Errorf("events %v", kinds(evs))
			}
		})
	}
}

// TestLostPackets: lost packets (the media layer puts zeros in their
// place) inside steady noise do not pull the floor down and make the
// noise look like speech.
func TestLostPackets(t *testing.T) {
	pcm := pink(41, samples(20*time.Second), -45)
	for i := samples(5 * time.Second); i < len(pcm); i += samples(700 * time.Millisecond) {
		clear(pcm[i:min(len(pcm), i+samples(60*time.Millisecond))]) // 3 packets
	}
	if evs := after(run(Config{}, ulaw(pcm)), time.Second); len(evs) > 0 {
		t.Errorf("events %v", kinds(evs))
	}
}

// TestStartup: a new detector assumes the line was quiet for the last
// second. A caller who talks from the first frame is heard, on a digitally
// silent line and on a noisy one; noise that is there from the start is one
// short utterance, over about 1.6 s after the call starts, then learnt.
func TestStartup(t *testing.T) {
	speech := trim(load(t, "hello"))
	for _, c := range []struct {
		name  string
		noise []int16
	}{
		{"zeros", make([]int16, samples(5*time.Second))},
		{"line", white(81, samples(5*time.Second), -65)},
		{"pink-45", pink(82, samples(5*time.Second), -45)},
	} {
		for _, law := range laws {
			t.Run(c.name+"/"+law.name, func(t *testing.T) {
				evs := run(Config{}, law.fn(mix(c.noise, speech, 0)))
				if got := kinds(evs); !slices.Equal(got, []string{"onset", "start", "end:silence"}) || evs[0].Begin != 0 {
					t.Errorf("speech from the first frame: events %v, want one utterance from 0", got)
				} else if d := evs[2].SpeechEnd - dur(len(speech)); d < -150*time.Millisecond || d > 50*time.Millisecond {
					t.Errorf("speech from the first frame ends at %v, detected %v", dur(len(speech)), evs[2].SpeechEnd)
				}
			})
		}
	}
	for _, law := range laws {
		for _, noise := range []func(uint64, int, float64) []int16{white, pink} {
			evs := run(Config{}, law.fn(noise(83, samples(10*time.Second), -45)))
			if len(evs) == 0 {
				continue
			}
			if got := kinds(evs); !slices.Equal(got, []string{"onset", "start", "end:silence"}) || evs[2].At > 1700*time.Millisecond {
				t.Errorf("%s noise from the start: events %v, last at %v; want at most one utterance, over by 1.7 s", law.name, got, evs[len(evs)-1].At)
			} else {
				t.Logf("%s noise from the start: %v, over at %v", law.name, got, evs[2].At)
			}
		}
	}
}

// TestEchoGuard: the line echo of a prompt, 25 dB below it, barges in
// without the guard (so the test means something) and does not with it;
// the caller talking over the prompt still does.
func TestEchoGuard(t *testing.T) {
	prompt := concat(500*time.Millisecond, trim(load(t, "long")), 500*time.Millisecond)
	echo := scaled(prompt, -25)
	caller := trim(load(t, "hello"))
	for _, law := range laws {
		t.Run(law.name, func(t *testing.T) {
			pcm := law.fn(line(concat(time.Second, echo)))
			if evs := run(Config{}, pcm); count(evs, Onset) == 0 {
				t.Errorf("echo without guard: no onset (events %v): the test proves nothing", kinds(evs))
			}
			d := New(Config{})
			d.SetEchoGuard(20)
			if evs := runOn(d, pcm); len(evs) > 0 {
				t.Errorf("echo with 20 dB guard: events %v", kinds(evs))
			}

			// Barge-in: the caller starts talking 2 s into the prompt.
			mixed := law.fn(mix(line(concat(time.Second, echo)), caller, samples(3*time.Second)))
			d = New(Config{})
			d.SetEchoGuard(20)
			evs := runOn(d, mixed)
			if len(evs) < 2 || evs[0].Kind != Onset || evs[1].Kind != Start {
				t.Fatalf("caller over the echo: events %v, want onset, start", kinds(evs))
			}
			if lat := evs[0].At - 3*time.Second; lat < 0 || lat > 100*time.Millisecond {
				t.Errorf("caller over the echo: onset %v after the caller began", lat)
			}
		})
	}
}

// TestTones: DTMF keys, dial and busy tones and single tones, in-band and
// loud, do not become utterances: at most an Onset that the tone check
// cancels, never a Start.
func TestTones(t *testing.T) {
	type tone struct {
		name string
		pcm  []int16
	}
	var tones []tone
	for _, k := range "0123456789*#ABCD" {
		tones = append(tones, tone{fmt.Sprintf("dtmf-%c", k), dtmf.Tone(k, time.Second, 16000)})
	}
	tones = append(tones,
		tone{"dtmf-5-quiet", dtmf.Tone('5', time.Second, 2000)},
		tone{"dtmf-1-twist", dtmf.TonePair(697, 1209, 4000, 10000, time.Second)},
		tone{"dial-us", dtmf.TonePair(350, 440, 4000, 4000, 3*time.Second)},
		tone{"busy-us", dtmf.TonePair(480, 620, 4000, 4000, 3*time.Second)},
		tone{"dial-eu", sine(samples(3*time.Second), 425, -15)},
		tone{"fax-cng", sine(samples(3*time.Second), 1100, -15)},
		tone{"answer-2100", sine(samples(3*time.Second), 2100, -15)},
		tone{"sine-3400", sine(samples(3*time.Second), 3400, -15)},
	)
	for _, tn := range tones {
		for _, law := range laws {
			t.Run(tn.name+"/"+law.name, func(t *testing.T) {
				pcm := law.fn(line(concat(time.Second, tn.pcm, samples(time.Second)+77, tn.pcm, time.Second)))
				evs := run(Config{}, pcm)
				for _, e := range evs {
					if e.Kind == Start || e.Kind == End || (e.Kind == Cancel && e.Reason != "tone") {
						t.Fatalf("events %v, want at most onset, cancel:tone", kinds(evs))
					}
				}
			})
		}
	}
}

// TestEspeakVoices renders speech with the installed espeak-ng in several
// English and Mandarin voices and pitches: every phrase is found, and
// speech is never taken for a tone.
func TestEspeakVoices(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	en := []string{"I would like to talk to a person.", "Where is my order?", "No.", "Yes, please.",
		"Mmm, I am not sure. Could you repeat that?", "Oooh, okay, one two three four five."}
	zh := []string{"nin2 hao3, wo3 xiang3 zhao3 ren2 gong1 ke4 fu2.", "wo3 de5 ding4 dan1 zai4 na3 li3?", "bu2 yong4 le5, xie4 xie4."}
	for _, v := range []struct {
		voice string
		texts []string
	}{{"en-us", en}, {"en-gb", en}, {"en-us+f3", en}, {"en-us+m3", en}, {"cmn-latn-pinyin", zh}, {"cmn-latn-pinyin+f3", zh}} {
		for _, pitch := range []string{"20", "50", "90"} {
			// One espeak-ng run per voice and pitch: the phrases 1.5 s apart.
			ssml := "<speak>" + strings.Join(v.texts, `<break time="1500ms"/>`) + "</speak>"
			pcm := ulaw(line(concat(time.Second, trim(espeak(t, v.voice, pitch, ssml)), 2*time.Second)))
			evs := run(Config{}, pcm)
			got := kinds(evs)
			if count(evs, Start) != len(v.texts) || count(evs, End) != len(v.texts) || slices.Contains(got, "cancel:tone") {
				t.Errorf("%s pitch %s: events %v, want %d utterances", v.voice, pitch, got, len(v.texts))
			}
		}
	}
}

// TestReset: Reset forgets the utterance in progress (no End for it) and
// keeps the noise floor, so steady noise stays non-speech after it.
func TestReset(t *testing.T) {
	long := concat(trim(load(t, "long")), 2*time.Second)
	speech := ulaw(mix(long, pink(52, len(long), -40), 0))
	// prepare: 5 s of -40 dBFS noise, then speech until Start, then Reset.
	prepare := func() (d *Detector, floor float64, next int) {
		d = New(Config{})
		runOn(d, ulaw(pink(51, samples(5*time.Second), -40)))
		floor = d.NoiseFloor()
		if floor < -48 || floor > -44 { // -44.3 dBFS above 120 Hz
			t.Fatalf("floor %.1f dBFS in -40 dBFS noise", floor)
		}
		var evs []Event
		i := 0
		for ; i+frame <= len(speech) && !d.Speaking(); i += frame {
			if e := d.Push(speech[i : i+frame]); e.Kind != None {
				evs = append(evs, e)
			}
		}
		if got := kinds(evs); !slices.Equal(got, []string{"onset", "start"}) {
			t.Fatalf("events %v before Reset, want onset, start", got)
		}
		d.Reset()
		if d.Speaking() {
			t.Error("Speaking after Reset")
		}
		if f := d.NoiseFloor(); f < floor-3 || f > floor+3 {
			t.Errorf("floor %.1f after Reset, %.1f before", f, floor)
		}
		return d, floor, i
	}

	// Noise alone after Reset: nothing (the floor was kept), no End for the
	// forgotten utterance.
	d, _, _ := prepare()
	if evs := runOn(d, ulaw(pink(53, samples(5*time.Second), -40))); len(evs) > 0 {
		t.Errorf("noise after Reset: events %v", kinds(evs))
	}

	// The speech that goes on after Reset is a new utterance.
	d, _, i := prepare()
	evs := runOn(d, speech[i:])
	if got := kinds(evs); len(got) < 3 || got[0] != "onset" || got[1] != "start" || got[len(got)-1] != "end:silence" {
		t.Errorf("after Reset: events %v, want a new onset, start, …, end", got)
	} else if evs[0].Begin < dur(samples(5*time.Second)+i) {
		t.Errorf("after Reset: new utterance begins at %v, before the Reset", evs[0].Begin)
	}
}

// TestConfig: defaults, rounding to frames, and the guard rails.
func TestConfig(t *testing.T) {
	d := New(Config{})
	if d.FrameSize() != 160 || d.FrameDuration() != 20*time.Millisecond {
		t.Errorf("defaults: frame %d %v", d.FrameSize(), d.FrameDuration())
	}
	if d.onsetN != 2 || d.minN != 10 || d.endN != 30 || d.maxN != 750 || d.preN != 15 {
		t.Errorf("default frames: onset %d min %d end %d max %d pre %d", d.onsetN, d.minN, d.endN, d.maxN, d.preN)
	}
	d = New(Config{Onset: 50 * time.Millisecond, MinSpeech: 10 * time.Millisecond, PreRoll: -1})
	if d.onsetN != 3 || d.minN != 4 || d.preN != 0 {
		t.Errorf("rounding: onset %d min %d pre %d", d.onsetN, d.minN, d.preN)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "159 samples") {
				t.Errorf("short frame: recovered %v", r)
			}
		}()
		New(Config{}).Push(make([]int16, 159))
	}()
	if f := New(Config{}).NoiseFloor(); f != -75 {
		t.Errorf("initial floor %v", f)
	}
	d = New(Config{})
	d.SetEchoGuard(-5)
	e0, s0 := d.Thresholds()
	d.SetEchoGuard(20)
	e1, s1 := d.Thresholds()
	if e1-e0 != 20 || s1-s0 != 20 || e0 <= s0 {
		t.Errorf("thresholds %v/%v, with 20 dB guard %v/%v", e0, s0, e1, s1)
	}
	for _, k := range []Kind{None, Onset, Start, Cancel, End, 9} {
		if k.String() == "" {
			t.Errorf("Kind(%d) has no name", k)
		}
	}
}

// TestFramer: chunks of any size come out as the same stream in whole
// frames, without allocating.
func TestFramer(t *testing.T) {
	in := white(61, 10000, -20)
	for _, chunk := range []int{1, 7, 159, 160, 161, 240, 480, 1600, 10000} {
		f := NewFramer(160)
		var out []int16
		for i := 0; i < len(in); i += chunk {
			f.Write(in[i:min(len(in), i+chunk)], func(fr []int16) {
				if len(fr) != 160 {
					t.Fatalf("chunk %d: frame of %d", chunk, len(fr))
				}
				out = append(out, fr...)
			})
		}
		if n := len(in) / 160 * 160; !slices.Equal(out, in[:n]) || f.Buffered() != len(in)-n {
			t.Errorf("chunk %d: %d samples out, %d buffered", chunk, len(out), f.Buffered())
		}
		f.Reset()
		if f.Buffered() != 0 {
			t.Error("Buffered after Reset")
		}
	}
	f := NewFramer(160)
	var n int
	fn := func(fr []int16) { n += len(fr) }
	if a := testing.AllocsPerRun(100, func() { f.Write(in[:240], fn) }); a != 0 {
		t.Errorf("Write: %v allocs", a)
	}
}

// TestNoAllocs: Push does not allocate, in any state.
func TestNoAllocs(t *testing.T) {
	pcm := ulaw(line(concat(time.Second, trim(load(t, "hello")), time.Second, dtmf.Tone('5', time.Second, 16000), time.Second)))
	d := New(Config{})
	i := 0
	allocs := testing.AllocsPerRun(len(pcm)/frame-1, func() {
		d.Push(pcm[i : i+frame])
		i += frame
	})
	if allocs != 0 {
		t.Errorf("%v allocs per Push", allocs)
	}
}

func BenchmarkPush(b *testing.B) {
	for _, c := range []struct {
		name string
		pcm  []int16
	}{
		{"zeros", make([]int16, samples(10*time.Second))},
		{"silence", ulaw(line(make([]int16, samples(10*time.Second))))},
		{"noise", ulaw(pink(71, samples(10*time.Second), -45))},
		{"speech", ulaw(line(trim(load(b, "long"))))},
		{"dtmf", ulaw(dtmf.Tone('5', 10*time.Second, 16000))},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := New(Config{})
			n := len(c.pcm) / frame
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.Push(c.pcm[i*frame : (i+1)*frame])
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}

// TestNoAudio: a detector that keeps no audio reports the same events at
// the same times, with no Audio at Start.
func TestNoAudio(t *testing.T) {
	pcm := line(concat(time.Second, trim(load(t, "hello")), time.Second, trim(load(t, "second")), 2*time.Second))
	want := run(Config{}, pcm)
	got := run(Config{NoAudio: true}, pcm)
	if len(got) != len(want) || count(want, Start) != 2 {
		t.Fatalf("events %v, want %v (two starts)", kinds(got), kinds(want))
	}
	for i, ev := range got {
		w := want[i]
		if ev.Kind != w.Kind || ev.At != w.At || ev.Begin != w.Begin || ev.SpeechEnd != w.SpeechEnd || ev.Reason != w.Reason {
			t.Errorf("event %d: %+v, want %+v", i, ev, w)
		}
		if ev.Audio != nil {
			t.Errorf("event %d (%v) has %d samples of audio", i, ev.Kind, len(ev.Audio))
		}
	}
	d := New(Config{NoAudio: true})
	if allocs := testing.AllocsPerRun(100, func() { d.Push(pcm[:160]) }); allocs != 0 {
		t.Errorf("%v allocations a frame", allocs)
	}
}
