package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
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

type callOptions struct {
	from, listen, play, say, lang, dtmfSpec, dtmfMode, record, codec, auth string
	duration                                                               time.Duration
	expect                                                                 string
}

func newCallCmd() *cobra.Command {
	var o callOptions
	cmd := &cobra.Command{
		Use:   "call URI",
		Short: "Place a test call: play or speak as the caller, press keys, record what the bot says",
		Long: `Call is a test caller for staff and tests. It calls URI (sip:ivr@127.0.0.1:5060,
or host:port), plays a WAV file or speaks text (espeak-ng) as the caller, sends
digits at given offsets from the answer (RFC 4733 by default, or SIP INFO, or
in-band tones), saves what it hears to a WAV file, and prints the SIP and call
events. It hangs up after --duration unless the far end hangs up first.

Exit status: 0 when the far end ended the call with an outcome of resolved,
transferred, message_left or after_hours (hotline puts it in an
X-Hotline-Outcome header on its BYE), or with --expect's outcome; 1 when the
call was refused or failed, or ended with another outcome; 2 for usage errors.`,
		Example: `  hotline call sip:ivr@127.0.0.1:5060 --dtmf 1@6s,1@9s,2@10s,3@11s --record heard.wav
  hotline call 127.0.0.1:5060 --say "I want to speak to an agent" --duration 20s
  hotline call sip:ivr@127.0.0.1:5060 --dtmf 0@3s --dtmf-mode inband --expect transferred
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
			if o.play != "" && o.say != "" {
				return usageError("give --play or --say, not both")
			}
			return placeCall(cmd.Context(), args[0], o, keys, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "our SIP URI (default sip:caller@<our address>)")
	f.StringVar(&o.listen, "listen", "", "our SIP address, e.g. udp:127.0.0.1:0 (default: any port)")
	f.StringVar(&o.play, "play", "", "a WAV file to play as the caller's voice")
	f.StringVar(&o.say, "say", "", "text the caller says (spoken by espeak-ng)")
	f.StringVar(&o.lang, "lang", "en-US", "language of --say")
	f.StringVar(&o.dtmfSpec, "dtmf", "", "keys to press: KEY@OFFSET,… from the answer, e.g. 1@3s,0@8s")
	f.StringVar(&o.dtmfMode, "dtmf-mode", "rfc4733", "rfc4733, info or inband")
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

func placeCall(ctx context.Context, target string, o callOptions, keys []keyPress, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := time.Now()
	say := func(format string, args ...any) {
		fmt.Fprintf(out, "%8.3fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	var voice []int16
	switch {
	case o.play != "":
		pcm, _, err := wav.ReadFile(o.play)
		if err != nil {
			return failed("hotline call: %v", err)
		}
		voice = pcm
	case o.say != "":
		synth, err := speech.NewEspeak(speech.EspeakOptions{})
		if err != nil {
			return failed("hotline call: %v", err)
		}
		pcm, err := synth.Synthesize(ctx, o.say, synth.Voice(o.lang))
		if err != nil {
			return failed("hotline call: %v", err)
		}
		voice = pcm
	}
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
	if voice != nil {
		ms.Play(media.NewPCMSource(voice))
		say("speaking (%s)", time.Duration(len(voice))*time.Second/8000)
	}
	answered := time.Now()
	deadline := time.NewTimer(o.duration)
	defer deadline.Stop()
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	schedule := func() {
		if len(keys) > 0 {
			next.Reset(time.Until(answered.Add(keys[0].At)))
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
			case media.EventTimeout:
				say("no RTP from the far end")
			}
		case <-next.C:
			k := keys[0]
			keys = keys[1:]
			var err error
			switch o.dtmfMode {
			case "rfc4733":
				err = ms.SendDigit(k.Key, 160*time.Millisecond)
			case "info":
				err = c.SendDigit(ctx, sip.Digit{Key: k.Key, Duration: 160 * time.Millisecond})
			case "inband":
				ms.Play(media.NewPCMSource(dtmf.Tone(k.Key, 160*time.Millisecond, 16000)))
			}
			if err != nil {
				say("sending %c failed: %v", k.Key, err)
			} else {
				say("-> digit %c (%s)", k.Key, o.dtmfMode)
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
