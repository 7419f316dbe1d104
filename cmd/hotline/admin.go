package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/metrics"
	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/records"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/web"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// adminConfig is who may use the admin pages and API (`admin:` in the
// configuration). Without users and tokens the pages are off and the HTTP
// address serves /healthz only.
type adminConfig struct {
	// Users: name → password hash (`hotline passwd` prints one); never a
	// plain password.
	Users map[string]string `yaml:"users,omitempty"`
	// Tokens: name → token hash ("sha256:…", `hotline passwd --token`), for
	// the JSON API with Authorization: Bearer.
	Tokens map[string]string `yaml:"tokens,omitempty"`
	// SecureCookies marks the session cookie Secure: set it when people
	// reach the pages over HTTPS (a proxy in front of hotline).
	SecureCookies bool `yaml:"secure_cookies,omitempty"`
}

// liveCalls are the calls in progress, for the dashboard.
type liveCalls struct {
	mu    sync.Mutex
	calls map[string]*web.LiveCall
}

func newLiveCalls() *liveCalls { return &liveCalls{calls: map[string]*web.LiveCall{}} }

// install adds the tracker's hooks to cfg.
func (l *liveCalls) install(cfg *call.Config, numbers privacy.NumberPolicy) {
	cfg.Observe(call.Observer{
		OnAnswer: func(c *sip.Call, a call.Answer) {
			l.mu.Lock()
			l.calls[c.ID] = &web.LiveCall{ID: c.ID, Caller: numbers.Keep(c.Caller()), Called: c.Called(), Started: a.At}
			l.mu.Unlock()
		},
		OnPrompt: func(c *sip.Call, p call.Prompt) { l.setNode(c.ID, p.Node) },
		OnInput:  func(c *sip.Call, in call.Input) { l.setNode(c.ID, in.State.Node) },
		OnFinish: func(c *sip.Call, _ call.Finish) {
			l.mu.Lock()
			delete(l.calls, c.ID)
			l.mu.Unlock()
		},
	})
}

func (l *liveCalls) setNode(id, node string) {
	if node == "" {
		return
	}
	l.mu.Lock()
	if c := l.calls[id]; c != nil {
		c.Node = node
	}
	l.mu.Unlock()
}

// list is a copy, oldest call first.
func (l *liveCalls) list() []web.LiveCall {
	l.mu.Lock()
	out := make([]web.LiveCall, 0, len(l.calls))
	for _, c := range l.calls {
		out = append(out, *c)
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b web.LiveCall) int { return a.Started.Compare(b.Started) })
	return out
}

// liveSource is web.LiveSource over the tracker and /healthz's report.
type liveSource struct {
	calls  *liveCalls
	health func() any
}

func (s liveSource) Calls() []web.LiveCall { return s.calls.list() }
func (s liveSource) Health() any           { return s.health() }

// reloadLog keeps the latest script reloads for the script page.
type reloadLog struct {
	mu   sync.Mutex
	list []web.Reload
}

func (r *reloadLog) add(e web.Reload) {
	r.mu.Lock()
	r.list = append(r.list, e)
	if len(r.list) > 50 {
		r.list = slices.Delete(r.list, 0, len(r.list)-50)
	}
	r.mu.Unlock()
}

// recent is newest first.
func (r *reloadLog) recent() []web.Reload {
	r.mu.Lock()
	out := slices.Clone(r.list)
	r.mu.Unlock()
	slices.Reverse(out)
	return out
}

// adminHandler is the admin pages and API, or nil when no user or token is
// configured.
func adminHandler(cfg serveConfig, st store.Store, numbers privacy.NumberPolicy, scriptNow func() *loadedScript,
	live web.LiveSource, reloads *reloadLog, reload func() error, log *slog.Logger) (http.Handler, error) {
	if len(cfg.Admin.Users) == 0 && len(cfg.Admin.Tokens) == 0 {
		return nil, nil
	}
	inbox := &learn.Inbox{Store: st, ScriptPath: cfg.Script, By: "admin", DataDir: cfg.Data, Grouper: learn.NewGrouper(learn.GrouperOptions{})}
	return web.New(web.Config{
		Store:      st,
		Inbox:      inbox,
		Script:     func() *dialog.Script { return scriptNow().script },
		ScriptPath: cfg.Script,
		Live:       live,
		Reloads:    reloads.recent,
		Reload:     reload,
		Users:      cfg.Admin.Users,
		Tokens:     cfg.Admin.Tokens,
		DataDir:    cfg.Data,
		Version:    version,
		Secure:     cfg.Admin.SecureCookies,
		Logger:     log.With("component", "web"),
		NumberHash: numbers.Hash,
	})
}

// reloadRequest asks the serve loop to reload the script now (the admin
// pages after teaching); the loop answers with the outcome.
type reloadRequest chan error

// newPasswdCmd prints the hash of a password (or a new API token and its
// hash) for the admin section of the configuration.
func newPasswdCmd() *cobra.Command {
	var token bool
	cmd := &cobra.Command{
		Use:   "passwd [NAME]",
		Short: "Hash a password (or make an API token) for the admin pages' configuration",
		Long: `passwd reads a password (twice on a terminal, once from standard input
otherwise) and prints the configuration line that lets NAME log in to the
admin pages. Only the hash goes into the configuration.

  hotline passwd alice
      admin:
        users:
          alice: "$argon2id$v=19$m=65536,t=3,p=2$…"

With --token it makes a random API token instead, prints the token once (give
it to the script that calls the API) and the hash for the configuration:

  hotline passwd --token reports`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "admin"
			if len(args) == 1 {
				name = args[0]
			}
			out := cmd.OutOrStdout()
			if token {
				tok, hash, err := web.NewToken()
				if err != nil {
					return failed("hotline passwd: %v", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "token (shown once): %s\n", tok)
				fmt.Fprintf(out, "admin:\n  tokens:\n    %s: %q\n", name, hash)
				return nil
			}
			pw, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return failed("hotline passwd: %v", err)
			}
			hash, err := web.HashPassword(pw)
			if err != nil {
				return failed("hotline passwd: %v", err)
			}
			fmt.Fprintf(out, "admin:\n  users:\n    %s: %q\n", name, hash)
			return nil
		},
	}
	cmd.Flags().BoolVar(&token, "token", false, "make an API token instead of hashing a password")
	return cmd
}

func init() { moreCommands = append(moreCommands, newPasswdCmd) }

// readPassword reads a password: without echo, twice, on a terminal; the
// first line otherwise.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return checkPassword(string(a))
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return checkPassword(strings.TrimRight(line, "\r\n"))
}

func checkPassword(pw string) (string, error) {
	if len(pw) < 10 {
		return "", errors.New("a password needs at least 10 characters")
	}
	return pw, nil
}

// askReload sends a reload request to the serve loop and waits for its
// answer, within ctx.
func askReload(ctx context.Context, ch chan<- reloadRequest) error {
	req := make(reloadRequest, 1)
	select {
	case ch <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return errors.New("the server did not reload in time")
	}
}

// installMetrics counts each call's end (outcome, duration), each understood
// input and each recognition.
func installMetrics(cfg *call.Config, m *metrics.Metrics) {
	var answered sync.Map // *sip.Call → time.Time
	cfg.Observe(call.Observer{
		OnAnswer: func(c *sip.Call, a call.Answer) { answered.Store(c, a.At) },
		OnFinish: func(c *sip.Call, f call.Finish) {
			var d time.Duration
			if at, ok := answered.LoadAndDelete(c); ok {
				d = f.At.Sub(at.(time.Time))
			}
			outcome, _ := records.Outcome(f)
			m.CallEnded(outcome, d)
		},
		OnTurn:   func(_ *sip.Call, u dialog.Understood) { m.Turn(u.Outcome) },
		OnSpeech: func(_ *sip.Call, r call.SpeechReport) { m.Recognition(r.Backend, r.Recognition(), r.Outcome) },
	})
}
