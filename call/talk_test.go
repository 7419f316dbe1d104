package call

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/vad"
	"github.com/hotline-dev/hotline/media/wav"
)

// The caller's talk time (Config.TalkTime): a detector on all of the
// caller's audio, whether or not a question listens.

// testSpeech reads media/vad's test speech (espeak-ng, en-us, 8 kHz) and
// cuts the near-silence around it, so that its length is the speech's.
func testSpeech(t testing.TB, name string) []int16 {
	t.Helper()
	pcm, _, err := wav.ReadFile(filepath.Join("..", "media", "vad", "testdata", name+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	quiet := func(s int16) bool { return s >= -64 && s <= 64 }
	i, j := 0, len(pcm)
	for i < j && quiet(pcm[i]) {
		i++
	}
	for j > i && quiet(pcm[j-1]) {
		j--
	}
	return pcm[i:j]
}

func samplesDur(n int) time.Duration { return time.Duration(n) * time.Second / 8000 }

// talkScript waits for a key for long enough that the caller can speak
// first (no recogniser: speech is not recognised, but it is measured).
const talkScript = `name: t
language: en-US
start: welcome
intents:
  done: {keywords: [done], dtmf: "1"}
nodes:
  welcome:
    say: "Hi."
    listen: {timeout: 20s}
    routes: {done: bye}
  bye:
    say: "Bye."
    hangup: true
`

// A caller who says two phrases a second apart, over RTP on loopback
// (G.711 both ways), then presses a key: two stretches, and the talk time
// is the two phrases' length within 150 ms. With TalkTime off: zeros.
func TestTalkTime(t *testing.T) {
	t.Parallel()
	one, two := testSpeech(t, "hello"), testSpeech(t, "second")
	truth := samplesDur(len(one) + len(two))
	said := concat(one, silence(time.Second), two, silence(time.Second))
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[on]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHookLog()
			w := newWorld(t, talkScript, h.install, func(c *Config) { c.TalkTime = on })
			c := w.dial()
			time.Sleep(300 * time.Millisecond) // the greeting (60 ms of tone) is over
			c.ms.Play(media.NewPCMSource(said))
			time.Sleep(samplesDur(len(said)) + 200*time.Millisecond)
			c.press("1")
			c.waitEnd(10 * time.Second)
			h.wait(t)
			h.mu.Lock()
			f := *h.finish
			h.mu.Unlock()
			if !f.Started || f.State.Outcome != "resolved" {
				t.Fatalf("finish %+v", f)
			}
			if !on {
				if f.Talk != 0 || f.TalkSpurts != 0 {
					t.Errorf("TalkTime off: talk %s in %d stretches, want zeros", f.Talk, f.TalkSpurts)
				}
				return
			}
			t.Logf("talk %s in %d stretches; the speech is %s (%s + %s)", f.Talk, f.TalkSpurts, truth,
				samplesDur(len(one)), samplesDur(len(two)))
			if f.TalkSpurts != 2 {
				t.Errorf("%d stretches, want 2", f.TalkSpurts)
			}
			if d := f.Talk - truth; d < -150*time.Millisecond || d > 150*time.Millisecond {
				t.Errorf("talk %s, want %s ± 150 ms", f.Talk, truth)
			}
		})
	}
}

// feed pushes pcm through a meter in packets of n samples.
func feed(m *talkMeter, pcm []int16, n int) {
	for len(pcm) > 0 {
		k := min(n, len(pcm))
		m.framer.Write(pcm[:k], m.push)
		pcm = pcm[k:]
	}
}

// The meter's accounting, without the network: packets of 30 ms (the
// framer cuts them into 20 ms frames), an utterance cut by MaxSpeech that
// goes on is one stretch, and one still going at the end counts to the
// last frame.
func TestTalkMeter(t *testing.T) {
	t.Parallel()
	long := testSpeech(t, "long") // about 7 s, with pauses shorter than EndSilence
	one := testSpeech(t, "first")
	d := func(pcm []int16) time.Duration { return samplesDur(len(pcm)) }
	near := func(got, want time.Duration) bool {
		return math.Abs(float64(got-want)) <= float64(150*time.Millisecond)
	}

	m := newTalkMeter()
	if talk, n := m.totals(); talk != 0 || n != 0 {
		t.Errorf("new meter: %s %d", talk, n)
	}
	feed(m, concat(silence(time.Second), one, silence(time.Second), one, silence(time.Second)), 240)
	if talk, n := m.totals(); n != 2 || !near(talk, 2*d(one)) {
		t.Errorf("two phrases in 30 ms packets: %s in %d stretches, want %s in 2", talk, n, 2*d(one))
	}

	// About 21 s of talking without a pause of EndSilence: MaxSpeech (15 s)
	// cuts it, the caller goes on: one stretch.
	m = newTalkMeter()
	var monologue []int16
	for samplesDur(len(monologue)) < 17*time.Second {
		monologue = concat(monologue, long, silence(200*time.Millisecond))
	}
	monologue = monologue[:len(monologue)-1600] // ends with speech
	in := concat(silence(time.Second), monologue, silence(time.Second))
	cuts, det := 0, vad.New(vad.Config{})
	vad.NewFramer(det.FrameSize()).Write(in, func(f []int16) {
		if ev := det.Push(f); ev.Kind == vad.End && ev.Reason == "max" {
			cuts++
		}
	})
	if cuts == 0 {
		t.Fatal("MaxSpeech never cut the monologue: this part tests nothing")
	}
	feed(m, in, 160)
	talk, n := m.totals()
	t.Logf("a monologue of %s: %s in %d stretches", d(monologue), talk, n)
	if n != 1 || !near(talk, d(monologue)) {
		t.Errorf("a monologue cut by MaxSpeech: %s in %d stretches, want %s in 1", talk, n, d(monologue))
	}

	// The call ends while the caller talks: up to the last frame.
	m = newTalkMeter()
	feed(m, concat(silence(time.Second), one), 160)
	if talk, n := m.totals(); n != 1 || !near(talk, d(one)) || !m.speaking {
		t.Errorf("cut off mid-phrase: %s in %d stretches (speaking %v), want %s in 1", talk, n, m.speaking, d(one))
	}

	if talk, n := (*talkMeter)(nil).totals(); talk != 0 || n != 0 {
		t.Errorf("no meter: %s %d", talk, n)
	}
}

// talkRun is a run as far as callerAudio needs one: no bridge, the ear
// closed, the talk meter on.
func talkRun() *run { return &run{r: New(Config{TalkTime: true})} }

// The talk meter allocates nothing per packet, once the first packet has
// created it.
func TestTalkMeterNoAlloc(t *testing.T) {
	speech := concat(silence(time.Second), testSpeech(t, "hello"), silence(time.Second))
	cr := talkRun()
	i := 0
	next := func() []int16 {
		if i+160 > len(speech) {
			i = 0
		}
		i += 160
		return speech[i-160 : i]
	}
	cr.callerAudio(next(), 0)
	if a := testing.AllocsPerRun(len(speech)/160*2, func() { cr.callerAudio(next(), 0) }); a != 0 {
		t.Errorf("%v allocations per packet, want 0", a)
	}
	if _, n := cr.talkTotals(); n == 0 {
		t.Error("the meter heard no speech")
	}
}

// BenchmarkTalkDetect is the talk meter's cost per 20 ms packet of caller
// audio (speech and silence, as a call has), in callerAudio as the media
// receive goroutine calls it with the ear closed.
func BenchmarkTalkDetect(b *testing.B) {
	speech := concat(silence(time.Second), testSpeech(b, "hello"), silence(time.Second), testSpeech(b, "long"),
		silence(2*time.Second))
	packets := len(speech) / 160
	cr := talkRun()
	cr.callerAudio(speech[:160], 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % packets
		cr.callerAudio(speech[k*160:(k+1)*160], 0)
	}
}
