package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/dialog/match"
)

func newChatCmd() *cobra.Command {
	var opts chatOptions
	cmd := &cobra.Command{
		Use:   "chat SCRIPT",
		Short: "Talk to a script by typing, as a caller would speak",
		Long: `Chat runs a script in the terminal: type what a caller would say and read
what the bot answers and does. The same engine answers real calls.

  text        the caller says it
  (empty)     the caller says nothing (no-input time-out)
  #123#       the caller presses keys: everything after the first #
  /ok         the pending transfer succeeds (a transfer ends the chat unless /fail)
  /fail 486   the pending transfer fails with that SIP code
  /state      print the session's state as JSON
  /quit       the caller hangs up (so does end of input)

Requests to the hotline's backend (http nodes) are really made, unless
--no-http. It works from a pipe, for scripted use.`,
		Example: `  hotline chat examples/en-utility/script.yaml
  hotline chat --explain examples/zh-shop/script.yaml
  printf 'opening hours\n#0\n' | hotline chat examples/en-utility/script.yaml
  hotline chat --time "2026-10-02 10:00" examples/zh-shop/script.yaml   # a holiday`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := dialog.LoadFile(args[0])
			if err != nil {
				return failed("%s", formatErr(err, messageLanguage(opts.lang)))
			}
			return chat(cmd.Context(), s, cmd.InOrStdin(), cmd.OutOrStdout(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.explain, "explain", false, "show how each input was matched (tier, keyword or example, score, candidates, and the words that weighed most)")
	f.StringVar(&opts.caller, "caller", "10000000000", "the caller's number")
	f.StringVar(&opts.at, "time", "", `the time of the call, "2006-01-02 15:04" in the script's time zone (default now)`)
	f.BoolVar(&opts.noHTTP, "no-http", false, "do not make backend requests; they fail as if the backend were down")
	f.StringVar(&opts.lang, "lang", "", "language of messages about scripts: en or zh")
	return cmd
}

type chatOptions struct {
	explain bool
	caller  string
	at      string
	noHTTP  bool
	lang    string
}

func chat(ctx context.Context, s *dialog.Script, in io.Reader, out io.Writer, opts chatOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	now := time.Now()
	if opts.at != "" {
		loc := time.Local
		if s.Hours != nil {
			loc = s.Hours.Location
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", opts.at, loc)
		if err != nil {
			return usageError(`--time: want "2006-01-02 15:04": %v`, err)
		}
		now = t
	}
	se := dialog.NewSession(s, dialog.CallInfo{ID: "chat", Caller: opts.caller, Channel: "chat", Time: now})
	client := &http.Client{}
	interactive := false
	if f, ok := in.(*os.File); ok {
		interactive = isTerminal(f)
	}
	print := func(acts []dialog.Action) {
		for _, a := range acts {
			if u, ok := a.(dialog.Understood); ok && !opts.explain {
				if u.Outcome != "matched" && u.Outcome != "collected" {
					fmt.Fprintf(out, "[%s]\n", strings.ReplaceAll(u.Outcome, "_", " "))
				}
				continue
			}
			fmt.Fprintln(out, dialog.FormatAction(a))
			if u, ok := a.(dialog.Understood); ok && opts.explain {
				explainEvidence(out, u.Result)
			}
		}
	}
	// step prints actions and performs backend requests until the session waits for the caller.
	step := func(acts []dialog.Action) {
		for {
			print(acts)
			if se.Waiting() != dialog.WaitHTTP {
				return
			}
			var req dialog.HTTPRequest
			for _, a := range acts {
				if r, ok := a.(dialog.HTTPRequest); ok {
					req = r
				}
			}
			var res dialog.HTTPResult
			if opts.noHTTP {
				res = dialog.HTTPResult{Err: "backend requests are off (--no-http)"}
			} else {
				res = call.DoHTTP(ctx, client, req)
			}
			fmt.Fprintf(out, "[backend answered %d %s]\n", res.Status, res.Err)
			acts = se.Handle(res)
		}
	}
	step(se.Start())
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for !se.Ended() {
		if interactive {
			fmt.Fprint(out, "you> ")
		}
		if !sc.Scan() {
			if interactive {
				fmt.Fprintln(out)
			}
			step(se.Handle(dialog.HungUp{}))
			break
		}
		line := strings.TrimSpace(sc.Text())
		if !interactive {
			fmt.Fprintln(out, "caller: "+line)
		}
		var ev dialog.Event
		switch {
		case line == "/quit" || line == "/hangup":
			ev = dialog.HungUp{}
		case line == "/state":
			b, _ := json.MarshalIndent(se.State(), "", "  ")
			fmt.Fprintln(out, string(b))
			continue
		case line == "/ok":
			ev = dialog.Transferred{}
		case strings.HasPrefix(line, "/fail"):
			code := 486
			if f := strings.Fields(line); len(f) > 1 {
				if c, err := strconv.Atoi(f[1]); err == nil {
					code = c
				}
			}
			ev = dialog.TransferFailed{Code: code}
		case strings.HasPrefix(line, "/"):
			fmt.Fprintln(out, "[commands: /ok /fail CODE /state /quit; #keys for keypad digits]")
			continue
		case se.Waiting() == dialog.WaitRecord:
			d := time.Duration(len([]rune(line))) * 200 * time.Millisecond
			ev = dialog.RecordDone{Duration: d, File: "(chat)"}
		case se.Waiting() == dialog.WaitTransfer:
			// Anything else while a transfer is pending: the transfer went through.
			ev = dialog.Transferred{}
		case strings.HasPrefix(line, "#"):
			ev = dialog.Digits{Keys: line[1:]}
		case line == "":
			ev = dialog.NoInput{}
		default:
			ev = dialog.Utterance{Text: line}
		}
		step(se.Handle(ev))
		if se.Waiting() == dialog.WaitTransfer {
			fmt.Fprintln(out, "[transfer pending: /ok if it succeeds, /fail 486 if the agent is busy]")
		}
	}
	st := se.State()
	fmt.Fprintf(out, "[call ended: %s, outcome %s; path %s]\n", st.EndReason, st.Outcome, strings.Join(st.Path, " → "))
	return nil
}

// explainEvidence prints, under an [understood …] line, what the example tier
// weighed: for the best and the runner-up example match, the features of the
// input that added most to its score (a feature's value in the input × its
// learned weight), and how much of the input the examples know.
func explainEvidence(out io.Writer, r match.Result) {
	shown := 0
	for _, c := range r.Candidates {
		if c.Tier != match.Example || len(c.Features) == 0 || shown == 2 {
			continue
		}
		shown++
		what := "evidence"
		if strings.HasPrefix(c.Evidence, "like ") {
			what = "shares with its example " + strings.TrimPrefix(c.Evidence, "like ")
		}
		var fs []string
		for _, f := range c.Features {
			fs = append(fs, fmt.Sprintf("%q (%s) %+.2f", f.Text, f.Kind, f.Weight))
		}
		fmt.Fprintf(out, "  %s %.2f, %s: %s\n", c.Intent, c.Score, what, strings.Join(fs, ", "))
	}
	if shown > 0 && r.Coverage < 0.995 {
		fmt.Fprintf(out, "  the examples know %.0f%% of this input (unknown words lower the example scores)\n", 100*r.Coverage)
	}
}
