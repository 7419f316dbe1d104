// Command load is the load benchmark (issue 8): it ramps concurrent SIPp
// callers (uac_ivr.xml, the scenario Asterisk 20 was measured with) against
// one `hotline serve` running ivr.yaml per variant, and writes
// bench/results/load.md, load.svg and load.json.
//
//	sudo go run ./bench/load                  # the full ramp, both variants (about 35 min)
//	sudo go run ./bench/load -quick           # 20 and 40 calls, results in the work dir
//	sudo go run ./bench/load -levels 100,300 -hold 30s -variants full -out /tmp/x
//
// Needs root (SIPp plays the caller audio from a pcap through a raw
// socket), sipp and dumpcap (Debian: sip-tester, tshark). Everything runs on
// 127.0.0.1; each level measures hotline's CPU and memory in its steady
// window, goroutines and open files before and after, SIPp's failed calls
// and INVITE→200 times, and, from a capture of one call in -sample, RTP
// pacing and the time from the caller's key to hotline's reply.
// docs/benchmarks.md describes the columns.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// callSeconds is how long a call lasts against hotline: the key at 11 s,
	// then the 1 s prompt. SIPp places LEVEL/callSeconds calls a second.
	callSeconds = 12.3
	// ramp is added to -hold: the time SIPp places calls before the level
	// is up.
	ramp = 15 * time.Second
	// drainWait bounds the wait for the last calls to end after SIPp exits.
	drainWait = 40 * time.Second
	// settle is the pause between the last call's end and the "after" reading.
	settle = 3 * time.Second
	// warmUpCalls is the concurrency of the warm-up before the idle reading.
	warmUpCalls = 20
)

type options struct {
	levels        []int
	hold          time.Duration
	variants      []string
	out, work     string
	stopAfterFail int
	sample        int
	profile       bool
	quick         bool
}

func main() {
	levels := flag.String("levels", "100,200,300,400,500,600,700,800,1000,1200", "concurrent calls of each level, in order")
	hold := flag.Duration("hold", 60*time.Second, "steady time of each level (SIPp places calls for 15 s of ramp + this)")
	variants := flag.String("variants", "full,bare", "hotline configurations: full (recording and talk time on), bare (both off)")
	out := flag.String("out", "bench/results", "where load.md, load.svg and load.json go (relative to the repository)")
	work := flag.String("work", "", "directory for logs, captures and profiles (default: a new one in $TMPDIR)")
	stopAfterFail := flag.Int("stop-after-fail", 1, "levels to run after the first level with failed calls (0: stop there)")
	sample := flag.Int("sample", 8, "capture one call in N for pacing and DTMF→reply")
	profile := flag.Bool("profile", false, "save a 20 s CPU profile and a heap profile of hotline at each level (in the work dir)")
	quick := flag.Bool("quick", false, "smoke run: levels 20,40, hold 15s, results in the work dir")
	render := flag.String("render", "", "no run: rebuild load.md and load.svg next to this load.json (after changing the report)")
	flag.Parse()
	if *render != "" {
		if err := rerender(*render); err != nil {
			fail("-render: %v", err)
		}
		return
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })

	o := options{hold: *hold, out: *out, work: *work, stopAfterFail: *stopAfterFail, sample: max(1, *sample),
		profile: *profile, quick: *quick}
	if *quick {
		if !set["levels"] {
			*levels = "20,40"
		}
		if !set["hold"] {
			o.hold = 15 * time.Second
		}
	}
	for f := range strings.SplitSeq(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fail("-levels: %q is not a number of calls", f)
		}
		o.levels = append(o.levels, n)
	}
	for v := range strings.SplitSeq(*variants, ",") {
		v = strings.TrimSpace(v)
		if _, ok := variantSpecs[v]; !ok {
			fail("-variants: %q: want full or bare", v)
		}
		o.variants = append(o.variants, v)
	}
	if o.hold < 5*time.Second {
		fail("-hold: at least 5s")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, set); err != nil {
		fail("%v", err)
	}
}

// rerender rebuilds a run's load.md and load.svg from its load.json.
func rerender(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeResults(filepath.Dir(path), &r)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", a...)
	os.Exit(1)
}

func logf(format string, a ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

// bench is one run of the benchmark.
type bench struct {
	o                 options
	root, work        string
	bin, script       string
	sippDir           string // the scenario and the caller pcap, SIPp's working directory
	rtpLo, rtpHi      int
	sippPort, sippRTP int
	talkTimeSupported bool
	res               *Results
}

func run(ctx context.Context, o options, set map[string]bool) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: SIPp plays the caller audio through a raw socket (sudo go run ./bench/load)")
	}
	for _, tool := range []string{"sipp", "dumpcap"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("needs %s: sudo apt-get install -y sip-tester tshark", tool)
		}
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	b := &bench{o: o, root: root}
	if o.work == "" {
		if b.work, err = os.MkdirTemp("", "hotline-load-"); err != nil {
			return err
		}
	} else {
		b.work, _ = filepath.Abs(o.work)
		if err := os.MkdirAll(b.work, 0o755); err != nil {
			return err
		}
	}
	out := o.out
	if o.quick && !set["out"] {
		out = b.work
	} else if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	logf("work dir %s; results to %s", b.work, out)

	// SIPp and hotline may hold thousands of sockets and files: children
	// inherit this process's limit once it is set explicitly.
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}

	maxLevel := 0
	for _, l := range o.levels {
		maxLevel = max(maxLevel, l)
	}
	logf("building hotline")
	b.bin = filepath.Join(b.work, "hotline")
	tags, commit, err := buildHotline(ctx, root, b.bin)
	if err != nil {
		return err
	}
	b.talkTimeSupported = hotlineHasFlag(b.bin, talkTimeFlag)
	if err := b.prepare(); err != nil {
		return err
	}
	// One block of free ports: hotline's RTP range (4 per call + 200), then
	// SIPp's SIP port and its media port.
	size := 4*maxLevel + 200
	base, err := portBlock(size + 64)
	if err != nil {
		return err
	}
	b.rtpLo, b.rtpHi = base, base+size-1
	b.sippPort, b.sippRTP = base+size+16, base+size+32

	command := "sudo go run ./bench/load"
	flag.Visit(func(f *flag.Flag) {
		switch {
		case f.Name == "work", f.Name == "out" && filepath.Clean(f.Value.String()) == filepath.Join(root, "bench", "results"):
		case f.Value.String() == "true" && f.DefValue == "false":
			command += " -" + f.Name
		default:
			command += fmt.Sprintf(" -%s %s", f.Name, f.Value)
		}
	})
	b.res = &Results{
		Date: time.Now().Format(time.RFC3339), Machine: machine(), Commit: commit, Go: runtime.Version(),
		SIPp: sippVersion(), Tags: tags, Command: command,
		Config: Config{Levels: o.levels, HoldS: o.hold.Seconds(), RampS: ramp.Seconds(), CallSeconds: callSeconds,
			Sample: o.sample, StopAfterFail: o.stopAfterFail, Variants: o.variants, Profile: o.profile, Quick: o.quick,
			RTPPorts: fmt.Sprintf("%d-%d", b.rtpLo, b.rtpHi)},
	}
	if !b.talkTimeSupported {
		logf("hotline serve has no %s flag yet: both variants run with talk time on", talkTimeFlag)
	}
	for _, name := range o.variants {
		if ctx.Err() != nil {
			break
		}
		b.res.Variants = append(b.res.Variants, VariantResult{})
		v := &b.res.Variants[len(b.res.Variants)-1]
		if err := b.runVariant(ctx, variantSpecs[name], v); err != nil {
			v.Error = err.Error()
			logf("variant %s: %v", name, err)
		}
	}
	b.res.Finished = time.Now().Format(time.RFC3339)
	b.res.Complete = ctx.Err() == nil
	if err := writeResults(b.work, b.res); err != nil {
		return err
	}
	if !b.res.Complete {
		return fmt.Errorf("interrupted: partial results in %s", b.work)
	}
	if out != b.work {
		if err := writeResults(out, b.res); err != nil {
			return err
		}
	}
	logf("wrote %s", filepath.Join(out, "load.md"))
	return nil
}

// prepare writes the script with its prompts and SIPp's directory.
func (b *bench) prepare() error {
	b.script = filepath.Join(b.work, "script", "ivr.yaml")
	b.sippDir = filepath.Join(b.work, "sipp")
	for _, d := range []string{filepath.Dir(b.script), b.sippDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	copyFile := func(from, to string) error {
		data, err := os.ReadFile(filepath.Join(b.root, "bench", "load", from))
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	}
	if err := copyFile("ivr.yaml", b.script); err != nil {
		return err
	}
	for _, f := range []string{"uac_ivr.xml", "caller_dtmf1.pcap"} {
		if err := copyFile(f, filepath.Join(b.sippDir, f)); err != nil {
			return err
		}
	}
	return writePrompts(filepath.Dir(b.script))
}

// runVariant starts one hotline and runs the levels against it.
func (b *bench) runVariant(ctx context.Context, spec variantSpec, v *VariantResult) error {
	v.Name, v.Record = spec.name, spec.record
	v.Args = []string{fmt.Sprintf("--record=%t", spec.record)}
	switch {
	case b.talkTimeSupported:
		v.Args = append(v.Args, fmt.Sprintf("%s=%t", talkTimeFlag, spec.talkTime))
		v.TalkTime = map[bool]string{true: "on", false: "off"}[spec.talkTime]
	case spec.talkTime:
		v.TalkTime = "on"
	default:
		v.TalkTime = "on (hotline has no " + talkTimeFlag + " flag yet)"
	}
	v.Description = fmt.Sprintf("recording %s, talk time %s", map[bool]string{true: "on", false: "off"}[spec.record], v.TalkTime)

	dir := filepath.Join(b.work, spec.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	maxLevel := 0
	for _, l := range b.o.levels {
		maxLevel = max(maxLevel, l)
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.RemoveAll(dataDir); err != nil { // fresh, also when -work is reused
		return err
	}
	sipPort, err := freePort("udp")
	if err != nil {
		return err
	}
	httpPort, err := freePort("tcp")
	if err != nil {
		return err
	}
	args := []string{"serve", "--script", b.script,
		"--listen", fmt.Sprintf("udp:127.0.0.1:%d", sipPort), "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--rtp-ports", fmt.Sprintf("%d-%d", b.rtpLo, b.rtpHi), "--data", dataDir,
		"--max-calls", fmt.Sprint(2 * maxLevel), "--drain-timeout", "5s", "--log-level", "warn", "--log-format", "json"}
	args = append(args, v.Args...)
	pprofAddr := ""
	if b.o.profile {
		p, err := freePort("tcp")
		if err != nil {
			return err
		}
		pprofAddr = fmt.Sprintf("127.0.0.1:%d", p)
		args = append(args, "--pprof", pprofAddr)
	}
	logf("== %s: hotline %s", spec.name, strings.Join(args, " "))
	srv, err := startServer(ctx, b.bin, args, filepath.Join(dir, "hotline.log"), fmt.Sprintf("127.0.0.1:%d", httpPort), pprofAddr)
	if err != nil {
		return err
	}
	defer srv.stop()
	time.Sleep(2 * time.Second) // let start-up settle
	// A short warm-up, so that what hotline does once (decoding the prompts,
	// the records database's first writes, its pools and caches growing) is
	// in the idle reading rather than charged to the first level's calls.
	hold := b.o.hold
	b.o.hold = 5 * time.Second
	w := b.runLevel(ctx, srv, warmUpCalls, filepath.Join(dir, "warm-up"), Snapshot{})
	b.o.hold = hold
	sweepRecordings(filepath.Join(dataDir, "recordings"))
	logf("%s warm-up: %d calls, %d failed", spec.name, w.Attempted, w.Failed)
	if !waitIdle(ctx, srv, 60*time.Second) {
		logf("%s: warm-up calls still up", spec.name)
	}
	v.Idle = b.snapshot(srv)

	failedAt := -1
	for i, level := range b.o.levels {
		if ctx.Err() != nil {
			return nil
		}
		if failedAt >= 0 && i-failedAt > b.o.stopAfterFail {
			v.Stopped = fmt.Sprintf("The ramp stopped after %d: %d level(s) after the first with failed calls.",
				v.Levels[len(v.Levels)-1].Concurrent, b.o.stopAfterFail)
			break
		}
		if !srv.alive() {
			return fmt.Errorf("hotline exited (log %s)", srv.log)
		}
		l := b.runLevel(ctx, srv, level, filepath.Join(dir, fmt.Sprintf("level-%04d", level)), v.Idle)
		// The level's recordings: counted, then deleted (a full ramp records
		// about 14 GB).
		l.Recordings, l.RecordingBytes = sweepRecordings(filepath.Join(dataDir, "recordings"))
		v.Levels = append(v.Levels, l)
		logf("%s %d: %d attempted, %d failed; CPU %.1f %% of a core, %.2f ms per call-second; RSS %.1f MiB; "+
			"INVITE→200 p99 %.0f ms; DTMF→reply p99 %.0f ms (n=%d); |gap−20| p99 %.2f ms",
			spec.name, level, l.Attempted, l.Failed, l.Window.CPUPct, l.Window.MsPerCallSecond, l.RSSMean/1024,
			l.Invite.P99, l.Capture.DTMF.P99, l.Capture.DTMF.N, l.Capture.Pacing.DevP99)
		if l.Failed > 0 && failedAt < 0 {
			failedAt = i
		}
		if l.Attempted == 0 && ctx.Err() == nil {
			out, _ := os.ReadFile(filepath.Join(l.Dir, "sipp.out"))
			return fmt.Errorf("SIPp placed no call at %d (exit %d): %s", level, l.SIPpExit, tail(strings.TrimSpace(string(out)), 500))
		}
		if err := writeResults(b.work, b.res); err != nil { // the run so far, in case it is cut short
			logf("writing partial results: %v", err)
		}
	}
	return nil
}

// snapshot reads hotline's state: the fewest goroutines and fds of three
// readings half a second apart, so that a goroutine or connection that is
// just ending (the previous /healthz request's among them) does not count.
func (b *bench) snapshot(srv *server) Snapshot {
	var s Snapshot
	read := false
	for range 3 {
		time.Sleep(500 * time.Millisecond)
		h, err := srv.health()
		if err != nil {
			continue
		}
		if !read {
			s.Goroutines, s.FDs, read = h.Goroutines, h.FDs, true
		}
		s.Active, s.Goroutines, s.FDs = h.Active, min(s.Goroutines, h.Goroutines), min(s.FDs, h.FDs)
	}
	s.RSSKB, _ = procRSSKB(srv.pid)
	return s
}

// waitIdle waits until hotline has no call up, at most timeout.
func waitIdle(ctx context.Context, srv *server, timeout time.Duration) bool {
	return waitFor(ctx, timeout, time.Second, func() bool {
		h, err := srv.health()
		return err == nil && h.Active == 0
	})
}

// runLevel runs one level: baseline, capture, SIPp with a sample a second,
// the drain, then the analysis.
func (b *bench) runLevel(ctx context.Context, srv *server, level int, dir string, idle Snapshot) Level {
	l := Level{Concurrent: level, Dir: dir}
	note := func(format string, a ...any) { l.Notes = append(l.Notes, fmt.Sprintf(format, a...)) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		note("%v", err)
		return l
	}
	if !waitIdle(ctx, srv, 60*time.Second) {
		note("calls of the previous level still up at the start")
	}
	rate := float64(level) / callSeconds
	l.Rate = math.Round(rate*1000) / 1000
	l.Calls = int(math.Round(l.Rate * (ramp + b.o.hold).Seconds()))
	placeEnd := float64(l.Calls) / l.Rate
	timeout := int(ramp.Seconds()+b.o.hold.Seconds()) + 90
	logf("%d calls: %d calls at %.3f/s", level, l.Calls, l.Rate)

	l.Before = b.snapshot(srv)
	logOffset := fileSize(srv.log)

	// The capture of one call in -sample.
	pcapPath := filepath.Join(dir, "rtp.pcap")
	dcLog, err := os.Create(filepath.Join(dir, "dumpcap.log"))
	if err != nil {
		note("%v", err)
		return l
	}
	dc := exec.Command("dumpcap", "-i", "lo", "-P", "-s", "96", "-q", "-w", pcapPath,
		"-f", captureFilter(b.rtpLo, b.rtpHi, b.o.sample))
	dc.Stdout, dc.Stderr = dcLog, dcLog
	dcDone := make(chan struct{})
	dcPid := 0
	if err := dc.Start(); err != nil {
		note("dumpcap: %v", err)
		close(dcDone)
	} else {
		dcPid = dc.Process.Pid
		go func() { dc.Wait(); close(dcDone) }()
		waitFor(ctx, 5*time.Second, 100*time.Millisecond, func() bool {
			data, _ := os.ReadFile(dcLog.Name())
			return strings.Contains(string(data), "Capturing on")
		})
	}
	stopCapture := func() {
		if dcPid == 0 {
			return
		}
		dc.Process.Signal(syscall.SIGINT)
		select {
		case <-dcDone:
		case <-time.After(10 * time.Second):
			dc.Process.Kill()
			<-dcDone
		}
		dcLog.Close()
		dcPid = 0
	}
	defer stopCapture()

	// SIPp.
	statPath := filepath.Join(dir, "sipp_stat.csv")
	sippArgs := []string{"-sf", "uac_ivr.xml", "-s", "ivr", "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", fmt.Sprint(b.sippPort), "-mp", fmt.Sprint(b.sippRTP),
		"-r", strconv.FormatFloat(l.Rate, 'f', 3, 64), "-l", fmt.Sprint(level), "-m", fmt.Sprint(l.Calls),
		"-nostdin", "-timeout", fmt.Sprint(timeout),
		"-trace_stat", "-stf", statPath, "-trace_err", "-error_file", filepath.Join(dir, "sipp_errors.log"),
		"-trace_screen", "-screen_file", filepath.Join(dir, "sipp_screen.log"), "-trace_rtt", "-rtt_freq", "1",
		srv.sipAddr()}
	sippOut, _ := os.Create(filepath.Join(dir, "sipp.out"))
	defer sippOut.Close()
	sipp := exec.Command("sipp", sippArgs...)
	sipp.Dir = b.sippDir
	sipp.Stdout, sipp.Stderr = sippOut, sippOut
	t0 := time.Now()
	if err := sipp.Start(); err != nil {
		note("sipp: %v", err)
		return l
	}
	sippPid := sipp.Process.Pid
	sippDone := make(chan struct{})
	go func() { sipp.Wait(); close(sippDone) }()

	need := int(math.Ceil(0.95 * float64(level)))
	var profDone chan struct{}
	var prev Sample
	take := func() Sample {
		s := Sample{T: time.Since(t0).Seconds()}
		if u, sy, err := procCPU(srv.pid); err == nil {
			s.CPU, s.Sys = u+sy, sy
		}
		s.RSSKB, _ = procRSSKB(srv.pid)
		s.SIPpCPU, s.DumpcapCPU = procTotalCPU(sippPid), procTotalCPU(dcPid)
		s.Busy = machineBusy()
		if h, err := srv.health(); err == nil {
			s.Active, s.Goroutines, s.FDs, s.HealthOK = h.Active, h.Goroutines, h.FDs, true
		} else {
			s.Active, s.Goroutines, s.FDs = prev.Active, prev.Goroutines, prev.FDs
		}
		prev = s
		l.Samples = append(l.Samples, s)
		if b.o.profile && profDone == nil && s.Active >= need {
			profDone = make(chan struct{})
			go func() {
				defer close(profDone)
				cpu, heap := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "heap.pprof")
				if err := srv.saveProfile("/debug/pprof/profile?seconds=20", cpu, 40*time.Second); err != nil {
					logf("cpu profile: %v", err)
				} else {
					l.Profiles = append(l.Profiles, cpu)
				}
				if err := srv.saveProfile("/debug/pprof/heap", heap, 20*time.Second); err != nil {
					logf("heap profile: %v", err)
				} else {
					l.Profiles = append(l.Profiles, heap)
				}
			}()
		}
		return s
	}
	take()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	hardStop := time.Duration(timeout+30) * time.Second
	killed := false
wait:
	for {
		select {
		case <-sippDone:
			break wait
		case <-ctx.Done():
			sipp.Process.Kill()
			<-sippDone
			note("interrupted")
			break wait
		case <-tick.C:
			take()
			if time.Since(t0) > hardStop && !killed {
				note("SIPp still running %s after its -timeout: killed", hardStop)
				sipp.Process.Kill()
				killed = true
			}
		}
	}
	if sipp.ProcessState != nil {
		l.SIPpExit = sipp.ProcessState.ExitCode()
	}
	l.LoadAvg = loadAverage()
	logf("%d calls: SIPp done after %.0f s (exit %d)", level, time.Since(t0).Seconds(), l.SIPpExit)

	// The drain: every call ends, then settle, then the "after" reading.
	drainEnd := time.Now().Add(drainWait)
	for ctx.Err() == nil && time.Now().Before(drainEnd) {
		if s := take(); s.HealthOK && s.Active == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	l.IdleOK = prev.HealthOK && prev.Active == 0
	if !l.IdleOK {
		note("calls still up %s after SIPp ended", drainWait)
	}
	select {
	case <-ctx.Done():
	case <-time.After(settle):
	}
	take()
	l.After = b.snapshot(srv)
	stopCapture()
	if profDone != nil {
		<-profDone
	}

	// SIPp's numbers.
	if f, err := os.Open(statPath); err == nil {
		st, err := parseSippStat(f)
		f.Close()
		if err != nil {
			note("%v", err)
		}
		l.SIPp = st
		l.Attempted, l.Successful, l.Failed = st.Created, st.Successful, st.Failed
	} else {
		note("no SIPp statistics: %v", err)
	}
	if p := findRTT(b.sippDir, sippPid); p != "" {
		dst := filepath.Join(dir, "sipp_rtt.csv")
		if os.Rename(p, dst) == nil {
			p = dst
		}
		if f, err := os.Open(p); err == nil {
			rtt, _ := parseRTT(f)
			f.Close()
			l.Invite = dist(rtt)
		}
	}
	l.SIPpErrors, l.SIPpTop = sippErrors(filepath.Join(dir, "sipp_errors.log"))

	// hotline's numbers.
	l.Window = steadyWindow(l.Samples, level, ramp.Seconds(), placeEnd)
	for _, s := range l.Samples {
		l.Peak.Active = max(l.Peak.Active, s.Active)
		l.Peak.Goroutines = max(l.Peak.Goroutines, s.Goroutines)
		l.Peak.FDs = max(l.Peak.FDs, s.FDs)
		l.Peak.RSSKB = max(l.Peak.RSSKB, s.RSSKB)
	}
	l.RSSMean = l.Window.RSSKB
	if l.Window.MeanActive > 0 {
		l.PerCall = (l.RSSMean - float64(idle.RSSKB)) / l.Window.MeanActive
		l.PerCallLevel = (l.RSSMean - float64(l.Before.RSSKB)) / l.Window.MeanActive
	}
	l.LogErrors, l.LogWarnings, l.LogFirst = logCounts(srv.log, logOffset)

	// The sampled calls.
	if f, err := os.Open(pcapPath); err == nil {
		c, err := analyzeCapture(f, b.rtpLo, b.rtpHi, 20)
		f.Close()
		l.Capture = c
		if err != nil {
			l.CaptureError = err.Error()
		}
	} else {
		l.CaptureError = err.Error()
	}
	if data, err := os.ReadFile(filepath.Join(dir, "dumpcap.log")); err == nil {
		if m := dumpcapStats.FindStringSubmatch(string(data)); m != nil {
			l.CaptureReceived, _ = strconv.Atoi(m[1])
			l.CaptureDropped, _ = strconv.Atoi(m[2])
			if l.CaptureDropped > 0 {
				note("the capture dropped %d of %d packets", l.CaptureDropped, l.CaptureReceived)
			}
		}
	}
	return l
}

// dumpcapStats is dumpcap's last line: "Packets received/dropped on
// interface 'Loopback: lo': 165833/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)".
var dumpcapStats = regexp.MustCompile(`received/dropped on interface '[^']*': (\d+)/(\d+)`)

// sweepRecordings deletes the WAV files under dir and returns how many
// there were and their size.
func sweepRecordings(dir string) (n int, size int64) {
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".wav") {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
			if os.Remove(path) == nil {
				n++
			}
		}
		return nil
	})
	return n, size
}

func (s *server) sipAddr() string {
	for i, a := range s.cmd.Args {
		if a == "--listen" && i+1 < len(s.cmd.Args) {
			return strings.TrimPrefix(s.cmd.Args[i+1], "udp:")
		}
	}
	return ""
}
