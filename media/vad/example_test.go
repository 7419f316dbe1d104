package vad_test

import (
	"fmt"
	"math"
	"time"

	"github.com/hotline-dev/hotline/media/vad"
)

// A call feeds the caller's audio, in packets of any size, through a Framer
// into the Detector, and acts on its events.
func Example() {
	d := vad.New(vad.Config{})
	framer := vad.NewFramer(d.FrameSize())
	onFrame := func(frame []int16) {
		ev := d.Push(frame)
		switch ev.Kind {
		case vad.Onset:
			fmt.Printf("%v onset: pause the prompt\n", ev.At)
		case vad.Start:
			fmt.Printf("%v start: recognise %v of audio, then every frame\n", ev.At, time.Duration(len(ev.Audio))*time.Second/vad.SampleRate)
		case vad.Cancel:
			fmt.Printf("%v cancel (%s): resume the prompt\n", ev.At, ev.Reason)
		case vad.End:
			fmt.Printf("%v end (%s): speech %v..%v\n", ev.At, ev.Reason, ev.Begin, ev.SpeechEnd)
		}
	}
	// One second of silence, a 100 ms bump, one second of silence, a 1 s
	// "vowel", two seconds of silence, in 30 ms packets.
	var audio []int16
	audio = append(audio, make([]int16, 8000)...)
	audio = append(audio, vowel(800)...)
	audio = append(audio, make([]int16, 8000)...)
	audio = append(audio, vowel(8000)...)
	audio = append(audio, make([]int16, 16000)...)
	for i := 0; i < len(audio); i += 240 {
		framer.Write(audio[i:min(len(audio), i+240)], onFrame) // media.Config.CallerAudio
	}
	// Output:
	// 1.04s onset: pause the prompt
	// 1.2s cancel (short): resume the prompt
	// 2.14s onset: pause the prompt
	// 2.3s start: recognise 500ms of audio, then every frame
	// 3.72s end (silence): speech 2.1s..3.12s
}

// vowel is n samples of a crude vowel: a 120 Hz pulse train through two
// resonances, at about -20 dBFS.
func vowel(n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / vad.SampleRate
		v := 0.0
		for h := 1; h <= 25; h++ {
			f := 120 * float64(h)
			g := 1/(1+math.Pow((f-700)/150, 2)) + 0.5/(1+math.Pow((f-1200)/200, 2))
			v += g * math.Sin(2*math.Pi*f*t)
		}
		out[i] = int16(v * 2500)
	}
	return out
}
