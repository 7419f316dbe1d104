package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/examples"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/metrics"
	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/records"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/speech"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/web"
)

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Answer SIP calls with a script",
		Long: `Serve answers SIP calls and runs a hotline script on them: prompts spoken by
text-to-speech (espeak-ng) or played from WAV files, keypad digits (RFC 4733,
SIP INFO or in-band tones), backend requests, transfers, messages, and a
stereo recording of every call.

Without flags it runs the built-in English demo hotline on loopback:
SIP on udp:127.0.0.1:5060, health on http://127.0.0.1:8080/healthz, data in
./data. Configuration: flags > HOTLINE_* environment > --config file >
defaults.

Signals: SIGTERM or SIGINT drains (new calls get 503, calls in progress go on
for --drain-timeout, then hear a goodbye and get a BYE); a second one stops at
once. SIGHUP reloads the script: a broken script is rejected with its errors
logged and the old one keeps serving; calls in progress keep their version.`,
		Example: `  hotline serve
  hotline serve --script examples/zh-shop/script.yaml --listen udp:0.0.0.0:5060 --advertise 203.0.113.7
  HOTLINE_MAX_CALLS=200 hotline serve --config /etc/hotline.yaml
  hotline serve --print-config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve(cmd.Flags())
			if err != nil {
				return usageError("%v", err)
			}
			if f.printConfig {
				fmt.Fprint(cmd.OutOrStdout(), cfg.masked())
				return nil
			}
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f.bind(cmd.Flags())
	return cmd
}

func newLogger(cfg serveConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			format = "text"
		}
	}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	if cfg.Privacy.Redact {
		// What callers say (the heard and understood lines, backend
		// requests, errors quoting them) is redacted like the records.
		h = &keepHandler{red: privacy.NewLogHandler(&rejoinHandler{next: h}, privacy.New(privacy.WithNow(time.Now)))}
	}
	return slog.New(h)
}

// logKeep are the log attributes that name the hotline's side of a call —
// the Call-ID every line of a call carries, the address dialled, the PBX's
// and the agents' addresses — and pass around the redaction: to the
// redactor sip:8000@pbx.example.com is an e-mail address, and a redacted
// Call-ID would make a call's lines impossible to find. The caller's side
// (from, caller, what was heard) is redacted.
var logKeep = map[string]bool{"call_id": true, "to": true, "aor": true, "registrar": true, "target": true,
	"transfer_to": true, "agent": true}

type keptAttrs struct{}

// keepHandler takes the logKeep attributes out of a record, hands the rest
// to the redacting handler, and the rejoinHandler under it puts them back.
// Once a group is open, everything is redacted.
type keepHandler struct {
	red   slog.Handler // privacy.NewLogHandler over a rejoinHandler
	keep  []slog.Attr  // kept attributes given to WithAttrs
	group bool
}

func (h *keepHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.red.Enabled(ctx, l) }

func (h *keepHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.group {
		return h.red.Handle(ctx, r)
	}
	kept := h.keep
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = logKeep[a.Key]
		return !found
	})
	if found {
		kept = append([]slog.Attr(nil), h.keep...)
		rest := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if logKeep[a.Key] {
				kept = append(kept, a)
			} else {
				rest.AddAttrs(a)
			}
			return true
		})
		r = rest
	}
	if len(kept) > 0 {
		ctx = context.WithValue(ctx, keptAttrs{}, kept)
	}
	return h.red.Handle(ctx, r)
}

func (h *keepHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h.group {
		return &keepHandler{red: h.red.WithAttrs(attrs), group: true}
	}
	keep := append([]slog.Attr(nil), h.keep...)
	var rest []slog.Attr
	for _, a := range attrs {
		if logKeep[a.Key] {
			keep = append(keep, a)
		} else {
			rest = append(rest, a)
		}
	}
	return &keepHandler{red: h.red.WithAttrs(rest), keep: keep}
}

func (h *keepHandler) WithGroup(name string) slog.Handler {
	// Attributes kept so far belong outside the group: they go through the
	// redaction now, in their place.
	red := h.red
	if len(h.keep) > 0 {
		red = red.WithAttrs(h.keep)
	}
	return &keepHandler{red: red.WithGroup(name), group: true}
}

// rejoinHandler puts the attributes keepHandler kept back into the record.
type rejoinHandler struct{ next slog.Handler }

func (h *rejoinHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *rejoinHandler) Handle(ctx context.Context, r slog.Record) error {
	if kept, ok := ctx.Value(keptAttrs{}).([]slog.Attr); ok {
		r = r.Clone()
		r.AddAttrs(kept...)
	}
	return h.next.Handle(ctx, r)
}

func (h *rejoinHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &rejoinHandler{next: h.next.WithAttrs(attrs)}
}

func (h *rejoinHandler) WithGroup(name string) slog.Handler {
	return &rejoinHandler{next: h.next.WithGroup(name)}
}

// loadedScript is a script with what the server needs to play its audio.
type loadedScript struct {
	script *dialog.Script
	files  fs.FS // its folder, for recorded prompts
	at     time.Time
}

func loadScript(path string) (loadedScript, error) {
	if path == "" {
		s, err := dialog.Load(dialog.FSSource{FS: examples.FS}, examples.Demo)
		if err != nil {
			return loadedScript{}, err
		}
		sub, err := fs.Sub(examples.FS, filepath.Dir(examples.Demo))
		return loadedScript{script: s, files: sub, at: time.Now()}, err
	}
	s, err := dialog.LoadFile(path)
	if err != nil {
		return loadedScript{}, err
	}
	return loadedScript{script: s, files: os.DirFS(s.Dir), at: time.Now()}, nil
}

func serve(ctx context.Context, cfg serveConfig, logOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	log := newLogger(cfg, logOut)
	slog.SetDefault(log)
	setGCPercent()
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return failed("hotline serve: data directory: %v", err)
	}
	numbers, err := cfg.numberPolicy()
	if err != nil {
		return failed("hotline serve: %v", err)
	}
	ls, err := loadScript(cfg.Script)
	if err != nil {
		return failed("%s", formatErr(err, messageLanguage("")))
	}
	var current atomic.Pointer[loadedScript]
	current.Store(&ls)

	// The call records: the store is opened and the calls a crash left
	// open are closed (their recordings repaired) before any call is taken.
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return failed("hotline serve: call records: %v", err)
	}
	defer st.Close()
	if _, err := records.Recover(ctx, st, cfg.Data, cfg.Instance, time.Now(), log); err != nil {
		return failed("hotline serve: closing interrupted calls: %v", err)
	}
	if n := call.RecoverRecordings(cfg.Data, 2, log); n > 0 {
		log.Info("recordings checked after start-up", "files", n)
	}
	var redactor *privacy.Redactor
	if cfg.Privacy.Redact {
		redactor = privacy.New(privacy.WithNow(time.Now))
	}
	// Metrics: its sources read what is made below; /metrics is served only
	// once all of it exists.
	var (
		runner       *call.Runner
		dialer       atomic.Pointer[sip.Server] // set once the server exists: bridge transfers dial from it
		pacer        *media.Pacer
		recorder     *records.Recorder
		caches       []*speech.Cache
		drainingFlag atomic.Bool
	)
	m := metrics.New(metrics.Sources{
		Version: version, MaxCalls: cfg.MaxCalls,
		ActiveCalls: func() int {
			if s := dialer.Load(); s != nil {
				return s.ActiveCalls()
			}
			return 0
		},
		Draining: drainingFlag.Load,
		SIP: func() sip.Counters {
			if s := dialer.Load(); s != nil {
				return s.Counters()
			}
			return sip.Counters{}
		},
		Media:             func() media.Totals { return pacer.Totals() },
		Lateness:          func(b []time.Duration) media.Lateness { return pacer.Lateness(b) },
		RecordingsDropped: func() uint64 { return runner.RecordingsDropped() },
		Speech: func() metrics.Speech {
			st := runner.SpeechStats()
			return metrics.Speech{BargeIns: st.BargeIns, FallbackBusy: st.FallbackBusy, FallbackUnavailable: st.FallbackUnavailable,
				FallbackTimeout: st.FallbackTimeout, FallbackError: st.FallbackError, NoRecognizer: st.NoRecognizer, FramesDropped: st.FramesDropped}
		},
		PromptCache: func() speech.Stats {
			var sum speech.Stats
			for _, c := range caches {
				st := c.Stats()
				sum.Hits, sum.Renders, sum.Errors = sum.Hits+st.Hits, sum.Renders+st.Renders, sum.Errors+st.Errors
			}
			return sum
		},
		StoreQueue: func() int { return int(recorder.Stats().QueueDepth) },
	})
	recorder = records.New(records.Options{
		OnWrite: m.StoreWrite, OnDrop: m.StoreDropped,
		Store: st, Backend: cfg.dbBackend(), DataDir: cfg.Data, Redactor: redactor, Numbers: numbers,
		Grades: cfg.Records.Grades, Grouper: learn.NewGrouper(learn.GrouperOptions{}),
		Workers: cfg.Records.Workers, Queue: cfg.Records.Queue, Wait: cfg.Records.Wait, Logger: log,
	})
	// The queue drains once the SIP server has returned (every call over),
	// bounded; then the background jobs stop and the store closes (defer above).
	var bg sync.WaitGroup
	bgCtx, bgStop := context.WithCancel(context.Background())
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := recorder.Close(dctx); err != nil {
			log.Warn("call records: the write queue did not drain in time", "err", err, "dropped", recorder.Stats().Dropped)
		}
		cancel()
		bgStop()
		bg.Wait()
	}()
	if cfg.Retention.Days > 0 {
		log.Info("retention: records of calls that ended more than this many days ago are deleted hourly", "days", cfg.Retention.Days)
		bg.Add(1)
		go func() {
			defer bg.Done()
			records.RunRetention(bgCtx, st, cfg.Data, cfg.Retention.Days, log)
		}()
	}

	synth, ttsStats, err := newSynthesizer(cfg, log)
	if err != nil {
		return failed("hotline serve: text to speech: %v", err)
	}
	tts := speech.NewCache(cfg.Data, m.Synthesizer(synth)) // it keeps its files under DATA/prompts
	caches = append(caches, tts)
	// A speech server can fail: espeak-ng speaks what it could not, so that
	// callers hear another voice rather than silence.
	var fallback *speech.Cache
	var fallbackSynth speech.Synthesizer
	if _, isEspeak := synth.(*speech.Espeak); !isEspeak {
		if es, err := speech.NewEspeak(speech.EspeakOptions{}); err != nil {
			log.Warn("text to speech: no espeak-ng to fall back on when the speech server fails", "err", err)
		} else {
			fallback, fallbackSynth = speech.NewCache(cfg.Data, m.Synthesizer(es)), es
			caches = append(caches, fallback)
		}
	}
	prerender := func(l *loadedScript) {
		start := time.Now()
		rendered, cached, err := tts.Prerender(ctx, l.script, scriptVoice(synth, l.script))
		if err != nil {
			log.Warn("rendering the script's prompts failed; they will be rendered on first use", "err", err)
		}
		log.Info("prompts ready", "rendered", rendered, "cached", cached, "took", time.Since(start).Round(time.Millisecond))
	}
	prerender(&ls)

	lis := make([]listener, 0, len(cfg.Listen))
	for _, l := range cfg.Listen {
		p, _ := parseListen(l) // validated
		lis = append(lis, p)
	}
	rtpIP := net.IPv4zero
	if host, _, _ := net.SplitHostPort(lis[0].Addr); host != "" {
		rtpIP = net.ParseIP(host)
	}
	minPort, maxPort, _ := parsePortRange(cfg.RTPPorts)
	ports, err := media.NewPorts(rtpIP, minPort, maxPort)
	if err != nil {
		return failed("hotline serve: rtp ports: %v", err)
	}
	pacer = media.NewPacer(0)
	defer pacer.Close()

	// One prompt set per script version, so recorded prompts are decoded once.
	var promptsMu sync.Mutex
	prompts := map[*dialog.Script]*call.ScriptPrompts{}
	rec, asrStats, err := newRecognizer(cfg, log)
	if err != nil {
		return failed("hotline serve: speech recognition: %v", err)
	}
	go prepareRecognizer(ctx, rec, ls.script, log)
	callCfg := call.Config{
		Dial: func(ctx context.Context, dc sip.DialConfig, target string) (*sip.Call, error) {
			s := dialer.Load()
			if s == nil {
				return nil, errors.New("the SIP server is not running")
			}
			return s.Dial(ctx, dc, target)
		},
		PublicURL:  cfg.PublicURL,
		Recognizer: rec, RecognizeTimeout: cfg.ASR.Timeout,
		Script: func() *dialog.Script { return current.Load().script },
		Prompts: func(s *dialog.Script) call.Prompts {
			promptsMu.Lock()
			defer promptsMu.Unlock()
			if p, ok := prompts[s]; ok {
				return p
			}
			files := current.Load().files
			if current.Load().script != s {
				files = os.DirFS(s.Dir)
			}
			p := &call.ScriptPrompts{TTS: tts, Voice: scriptVoice(synth, s), Files: files}
			if fallback != nil {
				p.Fallback, p.FallbackVoice = fallback, fallbackSynth.Voice(s.Language)
			}
			prompts[s] = p
			return p
		},
		Pacer:      pacer,
		RTPTimeout: cfg.RTPTimeout,
		DataDir:    cfg.Data,
		Record:     cfg.Record,
		TalkTime:   cfg.TalkTime,
		HTTPClient: &http.Client{},
		Vars:       stringVars(cfg.Vars),
		Logger:     log,
	}
	live := newLiveCalls()
	live.install(&callCfg, numbers)
	installMetrics(&callCfg, m)
	recorder.Install(&callCfg)
	runner = call.New(callCfg)

	var tlsConf *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return failed("hotline serve: tls: %v", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	security, _ := cfg.sipSecurity() // validated
	srv, err := sip.NewServer(sip.Config{
		Listen: cfg.Listen, TLS: tlsConf, Advertise: cfg.Advertise, MaxCalls: cfg.MaxCalls, Ring: cfg.Ring,
		Ports: ports, Handler: runner, UserAgent: "hotline/" + version, Logger: log,
		Register: cfg.sipRegistrations(), Security: security,
	})
	if err != nil {
		return failed("hotline serve: %v", err)
	}
	dialer.Store(srv)

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ctx) }()

	var httpSrv *http.Server
	reloads := &reloadLog{}
	reloadReqs := make(chan reloadRequest)
	if cfg.HTTP != "" {
		report := healthReport(cfg, srv, runner, &current, &drainingFlag, ttsStats, asrStats, recorder)
		admin, err := adminHandler(cfg, st, numbers, current.Load,
			liveSource{calls: live, health: func() any { return report() }}, reloads,
			func() error { return askReload(ctx, reloadReqs) }, log)
		if err != nil {
			stop()
			return failed("hotline serve: admin pages: %v", err)
		}
		if admin == nil {
			log.Info("admin pages off: no admin.users or admin.tokens in the configuration (hotline passwd NAME makes one)")
		}
		httpSrv = &http.Server{Addr: cfg.HTTP, Handler: httpHandler(report, m.Handler(), admin), ReadHeaderTimeout: 5 * time.Second}
		ln, err := net.Listen("tcp", cfg.HTTP)
		if err != nil {
			stop()
			return failed("hotline serve: http %s: %v", cfg.HTTP, err)
		}
		go func() {
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
	}
	if cfg.Pprof != "" {
		pl, err := net.Listen("tcp", cfg.Pprof)
		if err != nil {
			stop()
			return failed("hotline serve: pprof %s: %v", cfg.Pprof, err)
		}
		ps := &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = ps.Serve(pl) }()
		defer ps.Close()
		log.Info("profiler on", "addr", cfg.Pprof)
	}
	log.Info("hotline serving", "listen", cfg.Listen, "http", cfg.HTTP, "script", ls.script.Name,
		"script_version", ls.script.Version, "data", cfg.Data, "max_calls", cfg.MaxCalls, "version", version,
		"records", cfg.dbBackend(), "instance", cfg.Instance)

	// reload loads the script again (SIGHUP, or a change of its files): a
	// broken script is rejected and the old one keeps serving; calls in
	// progress keep the version they started with.
	reload := func(why string) *loadedScript {
		l, err := loadScript(cfg.Script)
		if err != nil {
			log.Error("reload rejected: the old script keeps serving", "errors", formatErr(err, "en"), "trigger", why)
			reloads.add(web.Reload{At: time.Now(), Trigger: why, Version: current.Load().script.Version, Errors: strings.Split(formatErr(err, "en"), "\n")})
			m.ScriptReload(false)
			return nil
		}
		old := current.Load()
		if why != "SIGHUP" && why != "admin" && old.script.Version == l.script.Version {
			log.Debug("script files touched, the script is the same", "script_version", l.script.Version)
			return nil
		}
		reloads.add(web.Reload{At: time.Now(), Trigger: why, Version: l.script.Version, OK: true})
		m.ScriptReload(true)
		current.Store(&l)
		promptsMu.Lock()
		for s := range prompts { // running calls hold theirs; new calls take the new version's
			if s != l.script {
				delete(prompts, s)
			}
		}
		promptsMu.Unlock()
		log.Info("script reloaded", "script", l.script.Name, "script_version", l.script.Version,
			"previous_version", old.script.Version, "trigger", why)
		go prerender(&l)
		go prepareRecognizer(ctx, rec, l.script, log)
		return &l
	}
	// Live learning: the script's files are watched, so that an answer staff
	// teach (hotline unanswered assign writes the learned file) or an edit
	// serves new calls without a restart.
	var changed <-chan struct{}
	var watcher *scriptWatcher
	if cfg.Script != "" {
		w, err := newScriptWatcher(log)
		if err != nil {
			log.Warn("script files are not watched: reload with SIGHUP", "err", err)
		} else {
			watcher = w
			defer watcher.close()
			watcher.watch(scriptFiles(cfg.Script, ls.script))
			changed = watcher.changed
		}
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var drainTimer, forceTimer <-chan time.Time
	draining := false
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			stop()
			if err != nil && !errors.Is(err, context.Canceled) {
				return failed("hotline serve: %v", err)
			}
			return nil
		case sig := <-sigs:
			switch {
			case sig == syscall.SIGHUP:
				if l := reload("SIGHUP"); l != nil && watcher != nil {
					watcher.watch(scriptFiles(cfg.Script, l.script))
				}
			case draining:
				log.Warn("second signal: stopping now", "active_calls", runner.Active())
				runner.EndAll()
				stop()
			default:
				draining = true
				drainingFlag.Store(true)
				srv.Drain()
				log.Info("draining: new calls get 503", "active_calls", runner.Active(), "grace", cfg.DrainTimeout)
				drainTimer = time.After(cfg.DrainTimeout)
			}
		case <-changed:
			if l := reload("files changed"); l != nil {
				watcher.watch(scriptFiles(cfg.Script, l.script))
			}
		case req := <-reloadReqs:
			// The admin pages after teaching: the file watcher may have
			// reloaded already; then this finds the same version.
			before := current.Load().script.Version
			l := reload("admin")
			switch {
			case l != nil && watcher != nil:
				watcher.watch(scriptFiles(cfg.Script, l.script))
				req <- nil
			case l != nil || current.Load().script.Version != before:
				req <- nil
			default:
				req <- errors.New("the script did not load: the old one keeps serving (see the server's log)")
			}
		case <-drainTimer:
			log.Info("grace period over: ending the remaining calls politely", "active_calls", runner.Active())
			runner.EndAll()
			forceTimer = time.After(20 * time.Second)
		case <-forceTimer:
			log.Warn("calls did not end in time: stopping", "active_calls", runner.Active())
			stop()
		case <-tick.C:
			if draining && runner.Active() == 0 && srv.ActiveCalls() == 0 {
				log.Info("drained: no call left")
				stop()
			}
		}
		if ctx.Err() != nil {
			if httpSrv != nil {
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_ = httpSrv.Shutdown(sctx)
				cancel()
			}
			if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
				return failed("hotline serve: %v", err)
			}
			log.Info("hotline stopped")
			return nil
		}
	}
}

func stringVars(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// healthReport is what /healthz (and the admin pages' health page) shows.
func healthReport(cfg serveConfig, srv *sip.Server, r *call.Runner, current *atomic.Pointer[loadedScript], draining *atomic.Bool, ttsStats, asrStats func() any, rec *records.Recorder) func() map[string]any {
	return func() map[string]any {
		l := current.Load()
		status := "ok"
		if draining.Load() {
			status = "draining"
		}
		return map[string]any{
			"status": status, "version": version, "active_calls": srv.ActiveCalls(), "running_calls": r.Active(),
			"max_calls": cfg.MaxCalls, "listen": cfg.Listen, "script": l.script.Name,
			"script_version": l.script.Version, "script_loaded": l.at.UTC().Format(time.RFC3339),
			"languages":  strings.ToLower(l.script.Language),
			"goroutines": runtime.NumGoroutine(), "open_fds": openFDs(), "sip": srv.Stats(),
			"registrations": srv.Registrations(), "tts": ttsStats(), "asr": asrStats(), "speech": r.SpeechStats(),
			"recordings_dropped": r.RecordingsDropped(),
			"store":              rec.Stats(), "instance": cfg.Instance,
		}
	}
}

// httpHandler serves /healthz (200 while serving, 503 while draining, so a
// load balancer stops sending calls; no login), /metrics (Prometheus; no
// login) and, when configured, the admin pages and API at every other path.
func httpHandler(report func() map[string]any, metrics, admin http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("/metrics", metrics) // no login, like /healthz: scrapers are configured by operators
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := report()
		code := http.StatusOK
		if h["status"] == "draining" {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(h)
	})
	if admin != nil {
		mux.Handle("/", admin)
	}
	return mux
}

// serveGCPercent is the garbage collector's target while serving, unless
// GOGC is set. Nearly all of hotline's heap is the calls' own buffers, which
// live as long as the calls, and the media paths allocate nothing per
// packet, so garbage comes slowly (about 100 KiB per call set up). Go's
// default target (100%: the heap may grow to twice what is live) then
// mostly costs memory: at 500 calls, 25% keeps about 30 MiB less resident,
// for a GC cycle every few seconds (bench/results/load.md).
const serveGCPercent = 25

func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}

// pprofHandler serves net/http/pprof's pages on their usual paths.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// openFDs counts the process's open file descriptors (Linux), -1 elsewhere:
// a leak of sockets or files shows here long before it becomes an outage.
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// scriptVoice is the voice a script's prompts are spoken in: its own
// `voice:`, else the synthesiser's voice for its language.
func scriptVoice(synth speech.Synthesizer, s *dialog.Script) string {
	if s.Voice != "" {
		return s.Voice
	}
	return synth.Voice(s.Language)
}

// newSynthesizer builds the configured text-to-speech engine, and what
// /healthz shows of it.
func newSynthesizer(cfg serveConfig, log *slog.Logger) (speech.Synthesizer, func() any, error) {
	if cfg.TTS.Backend == "openai" {
		s, err := speech.NewOpenAISynthesizer(speech.OpenAISynthesizerConfig{
			OpenAIConfig: speech.OpenAIConfig{BaseURL: cfg.TTS.URL, APIKey: cfg.TTS.APIKey, Model: cfg.TTS.Model, Logger: log},
			Voice:        cfg.TTS.Voice, Voices: cfg.TTS.Voices,
		})
		if err != nil {
			return nil, nil, err
		}
		return s, func() any { return s.Stats() }, nil
	}
	s, err := speech.NewEspeak(speech.EspeakOptions{})
	if err != nil {
		return nil, nil, err
	}
	return s, func() any { return map[string]string{"backend": s.Name()} }, nil
}

// newRecognizer builds the configured speech recogniser (nil for none: the
// calls take keys only), and what /healthz shows of it. It says at start-up
// which one runs, and why there is none.
func newRecognizer(cfg serveConfig, log *slog.Logger) (speech.Recognizer, func() any, error) {
	switch cfg.ASR.Backend {
	case "openai":
		t, err := speech.NewOpenAITranscriber(speech.OpenAIConfig{
			BaseURL: cfg.ASR.URL, APIKey: cfg.ASR.APIKey, Model: cfg.ASR.Model, Timeout: cfg.ASR.Timeout,
			MaxInFlight: cfg.ASR.MaxInFlight, Logger: log,
		})
		if err != nil {
			return nil, nil, err
		}
		log.Info("speech recognition: OpenAI-compatible server", "url", t.Stats().URL, "model", t.Name())
		return t, func() any { return t.Stats() }, nil
	case "none":
		log.Info("speech recognition: off (asr none): questions take keys only")
		return nil, func() any { return map[string]string{"backend": "none"} }, nil
	}
	p, err := speech.NewPocketsphinx(speech.PocketsphinxConfig{Workers: cfg.ASR.MaxInFlight, Search: psSearches[cfg.ASR.Search], Logger: log})
	if err != nil {
		if cfg.ASR.Backend == "pocketsphinx" {
			return nil, nil, err
		}
		// The default: say plainly what is missing, and go on with keys.
		log.Warn("speech recognition: none: this hotline binary has no pocketsphinx; questions take keys only "+
			"(or use --asr openai --asr-url URL)", "error", err)
		return nil, func() any { return map[string]string{"backend": "none", "why": err.Error()} }, nil
	}
	log.Info("speech recognition: pocketsphinx (embedded, English)", "search", cmp.Or(cfg.ASR.Search, "hybrid"))
	return p, func() any {
		dropped, busy := p.Stats()
		return map[string]any{"backend": p.Name(), "dropped_frames": dropped, "busy": busy}
	}, nil
}

// openStore opens the call records' database: --db, else DATA/hotline.db.
func openStore(ctx context.Context, cfg serveConfig, log *slog.Logger) (store.Store, error) {
	opt := store.Options{Instance: cfg.Instance, Logger: log}
	if cfg.DB == "" {
		return store.OpenDir(ctx, cfg.Data, opt)
	}
	return store.Open(ctx, cfg.DB, opt)
}

// scriptFiles are the files a script was loaded from, its learned file
// included (whether it exists yet or not).
func scriptFiles(path string, s *dialog.Script) []string {
	files := append([]string{path, dialog.LearnedPath(path)}, s.Files...)
	return files
}

// watchDebounce gathers the events of one change (an editor's or Learn's
// write, rename, chmod) into one reload.
const watchDebounce = 200 * time.Millisecond

// scriptWatcher reports changes of a script's files on changed (at most one
// pending), debounced. It watches the files' folders rather than the files,
// so that a file replaced by a rename (an editor's save, dialog.Learn) or
// created (the first learned file) is seen.
type scriptWatcher struct {
	w       *fsnotify.Watcher
	log     *slog.Logger
	changed chan struct{}
	done    chan struct{}

	mu    sync.Mutex
	files map[string]bool // absolute paths
	dirs  map[string]bool
}

func newScriptWatcher(log *slog.Logger) (*scriptWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	sw := &scriptWatcher{w: w, log: log, changed: make(chan struct{}, 1), done: make(chan struct{}),
		files: map[string]bool{}, dirs: map[string]bool{}}
	go sw.run()
	return sw, nil
}

// watch sets the files to watch (after every load: includes may change).
func (sw *scriptWatcher) watch(files []string) {
	want := map[string]bool{}
	dirs := map[string]bool{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			continue
		}
		want[abs] = true
		dirs[filepath.Dir(abs)] = true
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.files = want
	for d := range dirs {
		if !sw.dirs[d] {
			if err := sw.w.Add(d); err != nil {
				sw.log.Warn("script folder not watched", "dir", d, "err", err)
				continue
			}
			sw.dirs[d] = true
		}
	}
	for d := range sw.dirs {
		if !dirs[d] {
			_ = sw.w.Remove(d)
			delete(sw.dirs, d)
		}
	}
}

func (sw *scriptWatcher) run() {
	defer close(sw.done)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case ev, ok := <-sw.w.Events:
			if !ok {
				if timer != nil {
					timer.Stop()
				}
				return
			}
			sw.mu.Lock()
			mine := sw.files[filepath.Clean(ev.Name)]
			sw.mu.Unlock()
			if !mine || ev.Op == fsnotify.Chmod {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(watchDebounce)
			} else {
				timer.Reset(watchDebounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			select {
			case sw.changed <- struct{}{}:
			default: // a reload is pending already
			}
		case err, ok := <-sw.w.Errors:
			if !ok {
				return
			}
			sw.log.Warn("watching the script's files", "err", err)
		}
	}
}

func (sw *scriptWatcher) close() {
	sw.w.Close()
	<-sw.done
}

// prepareRecognizer has the recogniser get ready for every listening node's
// phrases of the script (pocketsphinx builds a language model and a grammar
// per node: 150–400 ms per decoder, which the first caller at each node
// would otherwise wait for), in the background of calls.
func prepareRecognizer(ctx context.Context, rec speech.Recognizer, s *dialog.Script, log *slog.Logger) {
	p, ok := rec.(speech.Preparer)
	if !ok {
		return
	}
	if lc, ok := rec.(speech.LanguageChecker); ok && !lc.Understands(s.Language) {
		return
	}
	names := make([]string, 0, len(s.Nodes))
	for name := range s.Nodes {
		names = append(names, name)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	var sets [][]string
	for _, name := range names {
		h := s.NodeHints(name)
		key := strings.Join(h, "\x00")
		if len(h) == 0 || seen[key] {
			continue
		}
		seen[key] = true
		sets = append(sets, h)
	}
	if err := p.Prepare(ctx, sets); err != nil && ctx.Err() == nil {
		log.Warn("speech recognition: preparing the script's searches failed; they are made on first use", "err", err)
	}
}
