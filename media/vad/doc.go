// Package vad finds the caller's speech in a call's audio: voice activity
// detection and endpointing on 8 kHz mono frames (20 ms by default).
//
// A Detector is pure, like the dialog engine: no goroutines, no clock (stream
// time is frames pushed × frame duration), no allocation after New. It runs
// on the media receive goroutine of its call, about 0.5 µs per quiet frame
// and 0.75 µs per speech frame on one core (BenchmarkPush): under 0.04 ms of
// CPU per call-second.
//
// # Events
//
// Push takes one frame and returns an Event, nearly always None:
//
//	quiet ──Onset──▶ possible ──Start──▶ speaking ──End──▶ quiet
//	                    └──Cancel──▶ quiet
//
// The events:
//
//   - Onset: Config.Onset (40 ms) of frames above the speech threshold.
//     Barge-in pauses the prompt here. Begin is the first of those frames.
//   - Start: MinSpeech (200 ms) of speech frames since Begin, where dips of
//     up to 60 ms between them do not reset the count. Event.Audio holds
//     PreRoll (300 ms) from before Begin plus everything from Begin to this
//     frame, so the recogniser hears the first syllable whole; from the next
//     frame on, the caller forwards every frame to the recogniser itself.
//   - Cancel: the possible speech had a dip longer than 60 ms, or lasted
//     twice MinSpeech without enough speech frames, before Start (Reason
//     "short": a cough, a bump, a door), or turned out to be a steady tone
//     (Reason "tone"). The prompt resumes.
//   - End: EndSilence (600 ms) below the lower threshold (Reason "silence";
//     SpeechEnd is where the last speech frame ended), or MaxSpeech (15 s)
//     after Begin (Reason "max"). A pause shorter than EndSilence inside a
//     phrase keeps it one utterance. Speech that goes on after a "max" End
//     starts a new utterance with a new Onset.
//
// With 20 ms frames and the defaults the timing is exact: Onset comes 40 ms
// after the first loud frame begins (40–60 ms after speech starts mid-frame;
// up to 120 ms for a quiet talker whose first sound is soft), Start 160 ms
// after Onset, End 600 ms after the last speech frame ends (600–620 ms after
// the last audible sample, in the tests). A single loud frame (a click) in
// the trailing silence does not restart it; two in a row do.
//
// # Levels
//
// Levels are the RMS of each frame in dBFS (a full-scale sine is -3 dBFS),
// measured after a 120 Hz high-pass filter, so DC offset, mains hum and
// rumble neither count as speech nor raise the floor.
//
// The noise floor is the minimum of the frame level, smoothed over three
// frames, over the last 2.5–3 s (minimum statistics in 0.5 s sub-windows). It
// falls at once when the line gets quieter and rises to a new steady noise
// within 3 s; speech does not raise it, because speech has gaps between
// words within any 2.5 s. It never goes below -75 dBFS, and frames of
// digital silence (below -90 dBFS: zeros, which the media layer puts in
// place of lost packets, or ±1 dither) are left out, so a few lost packets do
// not make steady noise look like speech; digital silence that lasts longer
// than 200 ms counts as -75 dBFS.
//
// A new detector assumes the line was quiet (-75 dBFS) for the last second.
// A caller who talks from the first frame is heard (TestStartup); noise that
// is there from the start is taken for one utterance that ends about 1.6 s
// into the stream, and is learnt from then on. (Taking the first frames for
// the floor instead would miss a caller who speaks first.) In a call the
// greeting plays over that second with the echo guard on, which keeps
// moderate noise out anyway.
//
// A frame starts possible speech when it is 10 dB above the floor and above
// -55 dBFS, and stays in speech when it is 6 dB above the floor and above -59
// dBFS (hysteresis). The absolute minimums keep digital silence, dither and
// G.711 idle noise (-72 dBFS at most) from ever being speech, with room for a
// quiet talker (about -40 dBFS active level). SetEchoGuard(dB) adds dB to
// both thresholds while a prompt plays. The line echo of a prompt comes back
// 20–30 dB below it; espeak-ng prompts peak at about -13 dBFS per frame, so
// a guard of 20 dB (thresholds at -35/-39 dBFS on a quiet line) keeps a
// -25 dB echo out and still lets a caller at normal level barge in
// (TestEchoGuard). In general, on a quiet line: guard = loudest prompt frame
// level - echo return loss + 58 dB (the -55 dBFS minimum and 3 dB to
// spare), at least 0.
//
// Noise that starts in a quiet call (a fan switched on) is taken for speech
// until the floor reaches it: one utterance that ends about 3.1 s after the
// noise began (TestBackgroundNoise), which the recogniser returns empty.
// Once adapted, -45 dBFS white or pink noise is never speech, and speech at
// +10 dB SNR is found within 200 ms of where it begins and ends.
//
// # Tones
//
// A steady tone is not speech. A frame is tone-like when a 4th-order linear
// predictor (covariance method) removes at least 10 dB of it — a sum of two
// sines is predicted exactly by 4 taps — and its autocorrelation and level
// have hardly changed since the previous frame; 160 ms of tone-like frames
// in a row is a tone. On 10 minutes of espeak-ng speech (seven English and
// Mandarin voices, four pitches each, through μ-law and A-law) no run was
// longer than 120 ms. An in-band DTMF key, the North American dial and busy tones, the
// European 425 Hz tone and fax and answer tones therefore give at most an
// Onset and, 140 ms later, a Cancel "tone", never an utterance (the media
// layer's DTMF detector reports the digit). The North American ringback
// (440 + 480 Hz) beats at 40 Hz, which changes its level from frame to
// frame, and is taken for speech.
//
// # Use in a call
//
// media.Config.CallerAudio delivers packets (160 or 240 samples, several
// packets of zeros for a loss): cut them into frames with a Framer. Reset
// starts a new listening period and keeps the floor, the echo guard, the
// stream clock and the pre-roll history.
//
// # Tests
//
// The tests use real speech (espeak-ng, testdata/gen.sh) through a μ-law and
// A-law round trip, deterministic white and pink noise, tones and clicks:
// short bursts are cancelled, pauses under EndSilence stay one utterance and
// longer ones split it, MaxSpeech ends a long one, the pre-roll holds the
// soft beginning the threshold missed, noise is learnt, echo is guarded,
// tones are rejected, Reset keeps the floor, and nothing allocates.
package vad
