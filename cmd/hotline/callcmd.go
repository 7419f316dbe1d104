package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/speech"
)

// keyPress is one digit to send at an offset from the answer.
type keyPress struct {
	Key rune
	At  time.Duration
}

// parseKeyPresses reads "1@3s,0@8s" (digits with their offsets from the answer).
func parseKeyPresses(s string) ([]keyPress, error) {
	var out []keyPress
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, at, ok := strings.Cut(item, "@")
		d, err := time.ParseDuration(at)
		if !ok || len(k) != 1 || !dtmf.ValidKey(rune(k[0])) || err != nil || d < 0 {
			return nil, fmt.Errorf("--dtmf %q: want KEY@OFFSET, e.g. 1@3s,0@8.5s", item)
		}
		out = append(out, keyPress{Key: rune(k[0]), At: d})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, nil
}

// splitOffset splits "TEXT@2.5s" into the text and its offset from the
// answer. Without a valid "@DURATION" at the end the whole string is the
// text (so "mail me at bob@example" stays as it is) and ok is false.
func splitOffset(s string) (body string, at time.Duration, ok bool) {
	i := strings.LastIndex(s, "@")
	if i < 0 {
		return s, 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s[i+1:]))
	if err != nil || d < 0 {
		return s, 0, false
	}
	return strings.TrimSpace(s[:i]), d, true
}

// cue is something the caller does at an offset from the answer: press a
// key, or start saying something (text spoken by espeak-ng, or a WAV file).
type cue struct {
	At    time.Duration
	Key   rune    // a key press, or 0
	Voice []int16 // what to say (8 kHz), when Key is 0
	What  string  // for the log: the text or the file
}

type callOptions struct {
	from, listen, lang, dtmfSpec, dtmfMode, record, codec, auth string
	say, play                                                   []string
	sayAt                                                       time.Duration
	stdin                                                       bool
	duration                                                    time.Duration
	expect                                                      string
}

func newCallCmd() *cobra.Command {
	var o callOptions
	cmd := &cobra.Command{
		Use:   "call URI",
		Short: "Place a test call: play or speak as the caller, press keys, record what the bot says",
		Long: `Call is a test caller for staff and tests. It calls URI (sip:ivr@127.0.0.1:5060,
or host:port), speaks text (espeak-ng) or plays WAV files as the caller, sends
digits at given offsets from the answer (RFC 4733 by default, or SIP INFO, or
in-band tones), saves what it hears to a WAV file, and prints the SIP and call
events with their time since the INVITE. It hangs up after --duration unless
the far end hangs up first; Ctrl-C hangs up too.

--say and --play take an offset from the answer after an @: --say "power
cut@2s" starts speaking 2 s after the answer (a caller who talks over the
welcome prompt, to try barge-in). Give them several times for a conversation;
without an offset a phrase starts at --say-at (default: at once). A new
phrase or key cuts off what the caller was still saying.

With --stdin the caller also takes commands from standard input, one a line,
as they come: keys (1, 4321#), "say TEXT", "play FILE", or "bye" to hang up.
A program driving a call (a test) can so react to what the bot does.

Exit status: 0 when the far end ended the call with an outcome of resolved,
transferred, message_left or after_hours (hotline puts it in an
X-Hotline-Outcome header on its BYE), or with --expect's outcome; 1 when the
call was refused or failed, or ended with another outcome; 2 for usage errors.`,
		Example: `  hotline call sip:ivr@127.0.0.1:5060 --dtmf 1@6s,1@9s,2@10s,3@11s --record heard.wav
  hotline call 127.0.0.1:5060 --say "I want to speak to an agent" --duration 20s
  # talk over the welcome 1 s after the answer, then answer the next question
  hotline call 127.0.0.1:5060 --say "I'd like to check my balance@1s" --say "one two three four five six seven eight@9s"
  hotline call 127.0.0.1:5060 --play caller.wav --say-at 1.5s --record heard.wav
  hotline call sip:ivr@127.0.0.1:5060 --dtmf 0@3s --dtmf-mode inband --expect transferred
  # type keys, "say …" or "bye" as the call goes
  hotline call 127.0.0.1:5060 --stdin
  HOTLINE_CALL_PASSWORD=… hotline call sip:ivr@hotline.example.com --auth branch-pbx --listen udp:192.0.2.5:0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := parseKeyPresses(o.dtmfSpec)
			if err != nil {
				return usageError("%v", err)
			}
			switch o.dtmfMode {
			case "rfc4733", "info", "inband":
			default:
				return usageError("--dtmf-mode must be rfc4733, info or inband")
			}
			if o.sayAt < 0 {
				return usageError("--say-at cannot be negative")
			}
			var in io.Reader
			if o.stdin {
				in = cmd.InOrStdin()
			}
			return placeCall(cmd.Context(), args[0], o, keys, in, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "our SIP URI (default sip:caller@<our address>)")
	f.StringVar(&o.listen, "listen", "", "our SIP address, e.g. udp:127.0.0.1:0 (default: any port)")
	f.StringArrayVar(&o.play, "play", nil, "a WAV file to play as the caller's voice, FILE or FILE@OFFSET; repeatable")
	f.StringArrayVar(&o.say, "say", nil, `text the caller says (espeak-ng), TEXT or "TEXT@OFFSET"; repeatable`)
	f.DurationVar(&o.sayAt, "say-at", 0, "when --say and --play without an @OFFSET start, from the answer")
	f.StringVar(&o.lang, "lang", "en-US", "language of --say")
	f.StringVar(&o.dtmfSpec, "dtmf", "", "keys to press: KEY@OFFSET,… from the answer, e.g. 1@3s,0@8s")
	f.StringVar(&o.dtmfMode, "dtmf-mode", "rfc4733", "rfc4733, info or inband")
	f.BoolVar(&o.stdin, "stdin", false, `take commands from standard input: keys ("1", "4321#"), "say TEXT", "play FILE", "bye"`)
	f.StringVar(&o.record, "record", "", "save what the caller hears to this WAV file")
	f.StringVar(&o.codec, "codec", "", "offer only this codec: PCMU or PCMA (default both)")
	f.DurationVar(&o.duration, "duration", 60*time.Second, "hang up after this long")
	f.StringVar(&o.expect, "expect", "", "the outcome that counts as success (resolved, transferred, …)")
	f.StringVar(&o.auth, "auth", "", "digest credentials for a hotline that challenges: USER:PASSWORD, or USER with the password in HOTLINE_CALL_PASSWORD")
	return cmd
}

// heardRecorder keeps what the far end (the bot) sends us.
type heardRecorder struct{ w *wav.Writer }

func (h heardRecorder) WriteFrame(far, _ []int16) error { return h.w.WriteFrame(far, nil) }

// voices turns --say and --play into cues, synthesising the texts.
func voices(ctx context.Context, o callOptions, synth func() (*speech.Espeak, error)) ([]cue, error) {
	var out []cue
	for _, s := range o.say {
		text, at, ok := splitOffset(s)
		if !ok {
			at = o.sayAt
		}
		if text == "" {
			return nil, usageError("--say %q: no text", s)
		}
		pcm, err := sayText(ctx, synth, text, o.lang)
		if err != nil {
			return nil, err
		}
		out = append(out, cue{At: at, Voice: pcm, What: fmt.Sprintf("%q", text)})
	}
	for _, s := range o.play {
		file, at, ok := splitOffset(s)
		if !ok {
			at = o.sayAt
		}
		pcm, _, err := wav.ReadFile(file)
		if err != nil {
			return nil, failed("hotline call: %v", err)
		}
		out = append(out, cue{At: at, Voice: pcm, What: file})
	}
	return out, nil
}

func sayText(ctx context.Context, synth func() (*speech.Espeak, error), text, lang string) ([]int16, error) {
	s, err := synth()
	if err != nil {
		return nil, failed("hotline call: %v", err)
	}
	pcm, err := s.Synthesize(ctx, text, s.Voice(lang))
	if err != nil {
		return nil, failed("hotline call: %v", err)
	}
	return pcm, nil
}

// stdinCommand is one line of --stdin.
type stdinCommand struct {
	Keys string // keys to press in turn
	Say  string
	Play string
	Bye  bool
	Err  error
}

func parseStdinCommand(line string) (stdinCommand, bool) {
	line = strings.TrimSpace(line)
	verb, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "":
		return stdinCommand{}, false
	case "bye", "hangup", "quit":
		return stdinCommand{Bye: true}, true
	case "say":
		if rest == "" {
			return stdinCommand{Err: errors.New(`"say" needs a text`)}, true
		}
		return stdinCommand{Say: rest}, true
	case "play":
		if rest == "" {
			return stdinCommand{Err: errors.New(`"play" needs a WAV file`)}, true
		}
		return stdinCommand{Play: rest}, true
	}
	for _, k := range line {
		if !dtmf.ValidKey(k) {
			return stdinCommand{Err: fmt.Errorf("%q: want keys (0-9 * # A-D), say TEXT, play FILE or bye", line)}, true
		}
	}
	return stdinCommand{Keys: line}, true
}

func placeCall(ctx context.Context, target string, o callOptions, keys []keyPress, in io.Reader, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// Ctrl-C (or a SIGTERM from a test harness) hangs up politely: a BYE.
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := time.Now()
	say := func(format string, args ...any) {
		fmt.Fprintf(out, "%8.3fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	var espeak *speech.Espeak
	synth := func() (*speech.Espeak, error) {
		if espeak != nil {
			return espeak, nil
		}
		s, err := speech.NewEspeak(speech.EspeakOptions{})
		if err == nil {
			espeak = s
		}
		return s, err
	}
	cues, err := voices(ctx, o, synth)
	if err != nil {
		return err
	}
	for _, k := range keys {
		cues = append(cues, cue{At: k.At, Key: k.Key})
	}
	sort.SliceStable(cues, func(i, j int) bool { return cues[i].At < cues[j].At })
	var codecs []sip.Codec
	switch strings.ToUpper(o.codec) {
	case "":
	case "PCMU":
		codecs = []sip.Codec{sip.PCMU}
	case "PCMA":
		codecs = []sip.Codec{sip.PCMA}
	default:
		return usageError("--codec must be PCMU or PCMA")
	}
	authUser, authPass, _ := strings.Cut(o.auth, ":")
	if o.auth != "" && authPass == "" {
		authPass = os.Getenv("HOTLINE_CALL_PASSWORD")
		if authPass == "" {
			return usageError("--auth %s: give USER:PASSWORD, or the password in HOTLINE_CALL_PASSWORD", authUser)
		}
	}
	start = time.Now() // timestamps count from the INVITE
	c, err := sip.Dial(ctx, sip.DialConfig{
		Listen: o.listen, From: o.from, Codecs: codecs, UserAgent: "hotline-call/" + version, Logger: log,
		AuthUser: authUser, AuthPassword: authPass,
		// In-band keys only count where the far end has no telephone-event to listen to.
		NoTelephoneEvent: o.dtmfMode == "inband",
		OnResponse:       func(code int, reason string) { say("<- %d %s", code, reason) },
	}, target)
	var de *sip.DialError
	if errors.As(err, &de) {
		say("call refused: %d %s", de.Code, de.Reason)
		return &exitError{code: 1}
	}
	if err != nil {
		return failed("hotline call: %v", err)
	}
	m := c.Media
	say("answered: %s/%d pt=%d dtmf=%d ptime=%s remote=%s", m.Codec.Name, m.Codec.ClockRate, m.Codec.PayloadType, m.DTMFPayload, m.PTime, m.Remote)
	codec, ok := media.LookupCodec(m.Codec.Name)
	if !ok {
		_ = c.Hangup(context.Background())
		return failed("hotline call: the far end chose %s, which the media engine does not speak", m.Codec.Name)
	}
	pacer := media.NewPacer(1)
	defer pacer.Close()
	var rec *wav.Writer
	cfg := media.Config{Conn: c.Conn, Remote: m.Remote, Latch: true, Codec: codec, DTMFPayload: m.DTMFPayload,
		PTime: m.PTime, Pacer: pacer, Logger: log}
	if o.record != "" {
		if rec, err = wav.Create(o.record, 8000, 1); err != nil {
			_ = c.Hangup(context.Background())
			return failed("hotline call: %v", err)
		}
		cfg.Recorder = heardRecorder{rec}
	}
	ms, err := media.NewSession(cfg)
	if err != nil {
		_ = c.Hangup(context.Background())
		return failed("hotline call: %v", err)
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ms.Start(callCtx)
	answered := time.Now()
	say("local media port %d", ms.LocalPort())

	commands := make(chan stdinCommand)
	if in != nil {
		go func() {
			sc := bufio.NewScanner(in)
			for sc.Scan() {
				if cmd, ok := parseStdinCommand(sc.Text()); ok {
					select {
					case commands <- cmd:
					case <-callCtx.Done():
						return
					}
				}
			}
			// End of input: the call goes on until --duration or the far end.
		}()
	}
	playing := map[uint64]string{}
	speak := func(pcm []int16, what string) {
		id := ms.Play(media.NewPCMSource(pcm))
		playing[id] = what
		say("-> saying %s (%s)", what, time.Duration(len(pcm))*time.Second/8000)
	}
	const keyGap = 250 * time.Millisecond
	lastKey := -keyGap // when the last key was pressed, from the answer
	press := func(k rune) {
		lastKey = time.Since(answered)
		var err error
		switch o.dtmfMode {
		case "rfc4733":
			err = ms.SendDigit(k, 160*time.Millisecond)
		case "info":
			err = c.SendDigit(ctx, sip.Digit{Key: k, Duration: 160 * time.Millisecond})
		case "inband":
			ms.Play(media.NewPCMSource(dtmf.Tone(k, 160*time.Millisecond, 16000)))
		}
		if err != nil {
			say("sending %c failed: %v", k, err)
		} else {
			say("-> digit %c (%s)", k, o.dtmfMode)
		}
	}
	deadline := time.NewTimer(o.duration)
	defer deadline.Stop()
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	schedule := func() {
		if len(cues) > 0 {
			next.Reset(time.Until(answered.Add(cues[0].At)))
		}
	}
	schedule()
	ended := ""
	for ended == "" {
		select {
		case <-c.Done():
			ended = "far end hung up"
		case <-deadline.C:
			ended = "duration reached"
		case <-ctx.Done():
			ended = "interrupted"
		case ev, ok := <-ms.Events():
			if !ok {
				continue
			}
			switch ev.Kind {
			case media.EventDigit:
				say("heard digit %c (%s)", ev.Digit.Key, ev.Digit.Source)
			case media.EventPlayDone:
				if what, ok := playing[ev.PlayID]; ok {
					say("said %s", what)
					delete(playing, ev.PlayID)
				}
			case media.EventTimeout:
				say("no RTP from the far end")
			}
		case cmd := <-commands:
			switch {
			case cmd.Err != nil:
				say("stdin: %v", cmd.Err)
			case cmd.Bye:
				ended = "hung up (stdin)"
			case cmd.Say != "":
				pcm, err := sayText(ctx, synth, cmd.Say, o.lang)
				if err != nil {
					say("stdin: %v", err)
					continue
				}
				speak(pcm, fmt.Sprintf("%q", cmd.Say))
			case cmd.Play != "":
				pcm, _, err := wav.ReadFile(cmd.Play)
				if err != nil {
					say("stdin: %v", err)
					continue
				}
				speak(pcm, cmd.Play)
			case cmd.Keys != "":
				// One key every 250 ms (160 ms tone, 90 ms gap), from now
				// or after the keys already pressed or queued.
				at := max(time.Since(answered), lastKey+keyGap)
				for _, q := range cues {
					if q.Key != 0 {
						at = max(at, q.At+keyGap)
					}
				}
				for _, k := range cmd.Keys {
					cues = append(cues, cue{At: at, Key: k})
					at += keyGap
				}
				sort.SliceStable(cues, func(i, j int) bool { return cues[i].At < cues[j].At })
				schedule()
			}
		case <-next.C:
			q := cues[0]
			cues = cues[1:]
			if q.Key != 0 {
				press(q.Key)
			} else {
				speak(q.Voice, q.What)
			}
			schedule()
		}
	}
	outcome := c.ByeHeader("X-Hotline-Outcome")
	if ended != "far end hung up" {
		hctx, hcancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = c.Hangup(hctx)
		hcancel()
	}
	cancel()
	st := ms.Stats()
	_ = ms.Close()
	if rec != nil {
		if err := rec.Close(); err != nil {
			say("saving %s failed: %v", o.record, err)
		} else {
			say("saved what was heard to %s (%s)", o.record, rec.Duration().Round(10*time.Millisecond))
		}
	}
	say("ended: %s; outcome %q; rtp in %d, out %d", ended, outcome, st.PacketsIn, st.PacketsOut)
	good := map[string]bool{"resolved": true, "transferred": true, "message_left": true, "after_hours": true}
	if o.expect != "" {
		good = map[string]bool{o.expect: true}
	}
	if !good[outcome] {
		return &exitError{code: 1}
	}
	return nil
}
