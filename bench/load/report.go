package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Results is everything one run measured: load.json.
type Results struct {
	Date     string          `json:"date"`
	Finished string          `json:"finished,omitempty"`
	Complete bool            `json:"complete"` // false: interrupted, or still running (the work dir's copy)
	Machine  Machine         `json:"machine"`
	Commit   string          `json:"commit"` // the revision go build stamped into hotline ("-dirty": uncommitted changes)
	Go       string          `json:"go"`
	SIPp     string          `json:"sipp"`
	Tags     string          `json:"build_tags"`
	Command  string          `json:"command"`
	Config   Config          `json:"config"`
	Variants []VariantResult `json:"variants"`
}

// Config is how the run was set up.
type Config struct {
	Levels        []int    `json:"levels"`
	HoldS         float64  `json:"hold_s"`
	RampS         float64  `json:"ramp_s"`
	CallSeconds   float64  `json:"call_seconds"`
	Sample        int      `json:"sample_one_call_in"`
	StopAfterFail int      `json:"stop_after_fail"`
	Variants      []string `json:"variants"`
	Profile       bool     `json:"profile"`
	Quick         bool     `json:"quick"`
	RTPPorts      string   `json:"rtp_ports"`
}

// VariantResult is the ramp against one configuration of hotline.
type VariantResult struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Args        []string `json:"args"` // the serve flags that make the variant
	Record      bool     `json:"record"`
	TalkTime    string   `json:"talk_time"`
	Idle        Snapshot `json:"idle"` // the process after a short warm-up (20 calls), before the first level
	Levels      []Level  `json:"levels"`
	Stopped     string   `json:"stopped,omitempty"` // why the ramp ended before the last level
	Error       string   `json:"error,omitempty"`
}

// Snapshot is hotline's state at one moment.
type Snapshot struct {
	Active     int `json:"active"`
	Goroutines int `json:"goroutines"`
	FDs        int `json:"fds"`
	RSSKB      int `json:"rss_kb"`
}

// Level is one step of the ramp.
type Level struct {
	Concurrent int     `json:"concurrent"`
	Rate       float64 `json:"rate"`  // calls placed per second
	Calls      int     `json:"calls"` // SIPp -m
	Attempted  int     `json:"attempted"`
	Successful int     `json:"successful"`
	Failed     int     `json:"failed"`

	SIPp       sippStats `json:"sipp"`
	SIPpExit   int       `json:"sipp_exit"`
	SIPpErrors int       `json:"sipp_error_lines"`
	SIPpTop    []string  `json:"sipp_errors_top,omitempty"`
	Invite     Dist      `json:"invite_to_200_ms"` // every call, from SIPp's rtt trace (1 ms resolution)

	Window  Window   `json:"window"`
	Before  Snapshot `json:"before"`
	Peak    Snapshot `json:"peak"`
	After   Snapshot `json:"after"` // 3 s after the last call ended
	IdleOK  bool     `json:"idle_after"`
	RSSMean float64  `json:"rss_steady_kb"`
	// PerCall is what a call costs in RSS: (steady − the warmed-up idle process's
	// RSS) / mean calls up. PerCallLevel takes the RSS before the level
	// instead, which after a bigger level holds memory the runtime kept.
	PerCall      float64 `json:"rss_per_call_kb"`
	PerCallLevel float64 `json:"rss_per_call_kb_from_level_start"`

	Capture         capture `json:"capture"` // the sampled calls
	CaptureError    string  `json:"capture_error,omitempty"`
	CaptureReceived int     `json:"capture_received"` // dumpcap's count
	CaptureDropped  int     `json:"capture_dropped"`

	Recordings     int   `json:"recordings"` // WAV files the level left in the data dir (then deleted)
	RecordingBytes int64 `json:"recording_bytes"`

	LogErrors   int      `json:"log_errors"`
	LogWarnings int      `json:"log_warnings"`
	LogFirst    []string `json:"log_errors_first,omitempty"`
	Profiles    []string `json:"profiles,omitempty"`
	Dir         string   `json:"dir"`
	LoadAvg     float64  `json:"load_avg_1m"` // the machine's, when SIPp ended
	Notes       []string `json:"notes,omitempty"`
	Samples     []Sample `json:"samples"`
}

// asterisk is issue 8's measurement of Asterisk 20 with the same SIPp
// scenario on the same kind of machine (2-core VM): ranges as measured, and
// the midpoints the chart draws.
var asterisk = []struct {
	calls                          int
	failed, cpu, sipp, invite, rtp string
	cpuMid, failedPct              float64
}{
	{100, "0", "42–48", "24–29", "< 50 ms", "0 lost, max jitter 3.6 ms", 45, 0},
	{200, "0", "85–90", "46–47", "< 100 ms", "0 lost, max jitter 3.3 ms", 87.5, 0},
	{250, "0", "114–116", "59", "avg 17 ms, a few 200–500 ms", "0 lost, max jitter 7 ms", 115, 0},
	{275, "12.7 %", "117", "57", "avg 125 ms, retransmissions", "max jitter 6 ms", 117, 12.7},
	{400, "46 %", "136 (peak 156)", "62", "avg 1.7 s", "—", 136, 46},
}

// writeResults writes load.json, load.md and load.svg into dir.
func writeResults(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "load.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "load.md"), []byte(markdown(r)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "load.svg"), []byte(chart(r)), 0o644)
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

// failedPct is failed calls in % of attempted.
func (l *Level) failedPct() float64 {
	if l.Attempted == 0 {
		return 0
	}
	return 100 * float64(l.Failed) / float64(l.Attempted)
}

// row is the variant table's row for one level.
func (l *Level) row() []string {
	w := l.Window
	calls := fmt.Sprint(l.Concurrent)
	if !w.Reached {
		calls += " †"
	}
	failed := "**0**"
	if l.Failed > 0 {
		failed = fmt.Sprintf("%d (%.1f %%)", l.Failed, l.failedPct())
	}
	cpu, ms, sipp, rss := "—", "—", "—", "—"
	if w.Seconds > 0 {
		cpu = f1(w.CPUPct)
		if w.CPU > 0 {
			cpu += fmt.Sprintf(" (%.0f %% sys)", 100*w.Sys/w.CPU)
		}
		ms = f2(w.MsPerCallSecond)
		sipp = f0(w.SIPpCPUPct)
		rss = fmt.Sprintf("%.1f (%.0f)", l.RSSMean/1024, l.PerCall)
	}
	inv := "—"
	if l.Invite.N > 0 {
		inv = fmt.Sprintf("%s / %s", f0(l.Invite.P50), f0(l.Invite.P99))
	}
	dtmf := "—"
	if d := l.Capture.DTMF; d.N > 0 {
		dtmf = fmt.Sprintf("%s / %s (n=%d)", f0(d.P50), f0(d.P99), d.N)
	}
	pace := "—"
	if p := l.Capture.Pacing; p.Gaps > 0 {
		pace = fmt.Sprintf("%s / %s, %s", f2(p.DevP99), f2(p.DevMax), f2(p.Within2Pct))
	}
	after := func(before, peak, after int) string {
		s := fmt.Sprintf("%d / %d / %d", before, peak, after)
		if after > before {
			s += " ⚠"
		}
		return s
	}
	return []string{calls, fmt.Sprint(l.Attempted), failed, cpu, ms, sipp, rss,
		after(l.Before.Goroutines, l.Peak.Goroutines, l.After.Goroutines),
		after(l.Before.FDs, l.Peak.FDs, l.After.FDs), inv, dtmf, pace}
}

var tableHeader = []string{"concurrent calls", "attempted", "failed", "hotline CPU (% of one core)",
	"ms CPU per call-second", "SIPp CPU %", "RSS MiB (per call KB)", "goroutines before / peak / after",
	"fds before / peak / after", "INVITE→200 p50 / p99 ms", "DTMF→reply p50 / p99 ms",
	"pacing \\|gap−20\\| p99 / max ms, within 2 ms %"}

func tableRow(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// clean is the levels of a variant with no failed call.
func (v *VariantResult) clean() []*Level {
	var out []*Level
	for i := range v.Levels {
		if l := &v.Levels[i]; l.Failed == 0 && l.Attempted > 0 {
			out = append(out, l)
		}
	}
	return out
}

// othersRange is the least and most CPU other processes used in the
// windows of a variant's levels.
func (v *VariantResult) othersRange() (lo, hi float64, ok bool) {
	for _, l := range v.Levels {
		if l.Window.Seconds == 0 {
			continue
		}
		x := l.Window.OthersCPUPct
		if !ok || x < lo {
			lo = x
		}
		if !ok || x > hi {
			hi = x
		}
		ok = true
	}
	return lo, hi, ok
}

// best is the largest level with no failed call, or nil.
func (v *VariantResult) best() *Level {
	var b *Level
	for _, l := range v.clean() {
		if b == nil || l.Concurrent > b.Concurrent {
			b = l
		}
	}
	return b
}

func markdown(r *Results) string {
	var b strings.Builder
	lo, hi := 0, 0
	for _, v := range r.Variants {
		for _, l := range v.Levels {
			if lo == 0 || l.Concurrent < lo {
				lo = l.Concurrent
			}
			hi = max(hi, l.Concurrent)
		}
	}
	fmt.Fprintf(&b, "# Load: hotline under SIPp callers, %d to %d concurrent calls\n\n", lo, hi)
	if !r.Complete {
		b.WriteString("**Incomplete run** (interrupted or still running): the tables hold the levels measured so far.\n\n")
	}
	m := r.Machine
	fmt.Fprintf(&b, "Measured %s on %s, %d cores, %.0f GiB RAM, %s; %s; SIPp %s (the callers, on the same cores); hotline %s",
		dateOnly(r.Date), m.CPU, m.Cores, m.MemGiB, m.Kernel, r.Go, r.SIPp, r.Commit)
	if r.Tags != "" {
		fmt.Fprintf(&b, " built with `-tags %s`", r.Tags)
	}
	b.WriteString(". To measure again (as root: SIPp plays the caller audio through a raw socket; " +
		"[docs/benchmarks.md](../../docs/benchmarks.md) says what it needs and how long it takes):\n\n")
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", r.Command)
	b.WriteString("![hotline's CPU and failed calls against concurrent calls, beside Asterisk 20](load.svg)\n\n")

	c := r.Config
	b.WriteString("## How it is measured\n\n")
	b.WriteString("- **Callers**: SIPp runs `bench/load/uac_ivr.xml`, the scenario used to measure Asterisk 20: INVITE with " +
		"PCMU and telephone-event, 14 s of caller audio from a pcap with an RFC 2833 digit `1` at 11 s, then wait for " +
		"the IVR's BYE, which must carry `X-Hotline-Outcome: resolved` (the key was heard and the flow finished); " +
		"anything else, or no BYE within 25 s, is a failed call. hotline runs `bench/load/ivr.yaml`: a 10 s prompt " +
		"from a WAV, wait for one key, a 1 s prompt, hang up. Everything runs on 127.0.0.1.\n")
	fmt.Fprintf(&b, "- **Levels**: one `hotline serve` per variant, the levels in turn, each once the previous one has "+
		"ended (no call up). A level of N calls places N / %.1f calls per second (a call lasts about %.1f s) for "+
		"%.0f s of ramp + %.0f s of hold, so about N calls are up at once. The ramp stops %d level(s) after the "+
		"first level with a failed call.\n", c.CallSeconds, c.CallSeconds, c.RampS, c.HoldS, c.StopAfterFail)
	b.WriteString("- **Steady window**: from the first second with at least 95 % of the level's calls up (`/healthz` " +
		"active_calls, sampled every second) until SIPp has placed its last call. hotline's CPU is its user+system " +
		"time (`/proc/PID/stat`) over the window, in % of one core (and the part spent in the kernel); **ms CPU per " +
		"call-second** divides that CPU by the sum of the calls up each second. SIPp's CPU is measured the same way. " +
		"† marks a level that never reached 95 % (the window is then the end of the ramp to the last call placed).\n")
	b.WriteString("- **Memory**: VmRSS, mean over the window; per call = (that − the RSS of the idle process after a warm-up of 20 calls) / mean calls up " +
		"(load.json also has it from the RSS before the level, which holds memory the runtime kept from earlier levels). " +
		"Goroutines and open fds from `/healthz`: before the level, peak, and 3 s after its last call ended " +
		"(⚠: more than at the level's start).\n")
	b.WriteString("- **INVITE→200**: every call, from SIPp's response-time trace (1 ms resolution).\n")
	fmt.Fprintf(&b, "- **Sampled calls** (one in %d: a capture of hotline's RTP ports whose number is a multiple of %d, "+
		"both directions, first 96 bytes of each packet, read by the benchmark itself): **pacing** is the gap between "+
		"consecutive packets of each of hotline's outbound streams as the receiver sees them, |gap − 20 ms| p99 and "+
		"max and the share of gaps within 2 ms of 20 ms; **DTMF→reply** is from the caller's first telephone-event "+
		"packet to the first packet of hotline's reply that is not silence (n: calls measured). The capture's own "+
		"CPU (dumpcap) is in load.json.\n\n", c.Sample, 2*c.Sample)

	for i := range r.Variants {
		v := &r.Variants[i]
		fmt.Fprintf(&b, "## hotline, %s: %s\n\n", v.Name, v.Description)
		if v.Error != "" {
			fmt.Fprintf(&b, "Error: %s\n\n", v.Error)
		}
		if v.Idle.RSSKB > 0 {
			fmt.Fprintf(&b, "Flags `%s` (besides the addresses, ports and script). Idle after the warm-up: %.1f MiB RSS, %d goroutines, %d open fds.",
				strings.Join(v.Args, " "), float64(v.Idle.RSSKB)/1024, v.Idle.Goroutines, v.Idle.FDs)
			if lo, hi, ok := v.othersRange(); ok {
				fmt.Fprintf(&b, " Other processes on the same cores used %s–%s %% of one core during the windows "+
					"(the timings are pessimistic when that is high).", f0(lo), f0(hi))
			}
			b.WriteString("\n\n")
		}
		tableRow(&b, tableHeader)
		tableRow(&b, strings.Split(strings.Repeat("---,", len(tableHeader)-1)+"---", ","))
		for j := range v.Levels {
			tableRow(&b, v.Levels[j].row())
		}
		b.WriteString("\n")
		if best := v.best(); best != nil {
			fmt.Fprintf(&b, "Largest level with no failed call: **%d** concurrent calls, %s ms CPU per call-second, %s %% of one core.",
				best.Concurrent, f2(best.Window.MsPerCallSecond), f1(best.Window.CPUPct))
		} else if len(v.Levels) > 0 {
			b.WriteString("Every level had failed calls.")
		}
		if v.Stopped != "" {
			fmt.Fprintf(&b, " %s", v.Stopped)
		}
		b.WriteString("\n\n")
		var notes []string
		for _, l := range v.Levels {
			var parts []string
			if len(l.SIPp.FailedBy) > 0 {
				parts = append(parts, "SIPp failures: "+kv(l.SIPp.FailedBy))
			}
			if l.SIPp.Retransmissions > 0 {
				parts = append(parts, fmt.Sprintf("%d retransmissions", l.SIPp.Retransmissions))
			}
			if l.LogErrors > 0 {
				parts = append(parts, fmt.Sprintf("%d errors in hotline's log (%s)", l.LogErrors, strings.Join(l.LogFirst, "; ")))
			}
			if v.Record && l.Recordings < l.Successful {
				parts = append(parts, fmt.Sprintf("only %d recordings for %d successful calls", l.Recordings, l.Successful))
			}
			if l.Capture.NoReply > 0 {
				parts = append(parts, fmt.Sprintf("%d sampled calls with no reply after the key", l.Capture.NoReply))
			}
			parts = append(parts, l.Notes...)
			if len(parts) > 0 {
				notes = append(notes, fmt.Sprintf("- %d calls: %s.", l.Concurrent, strings.Join(parts, "; ")))
			}
		}
		if len(notes) > 0 {
			b.WriteString(strings.Join(notes, "\n") + "\n\n")
		}
	}

	b.WriteString("## Asterisk 20, the same SIPp scenario on the same kind of machine (issue 8)\n\n")
	b.WriteString("| concurrent calls | failed | Asterisk CPU (% of one core) | SIPp CPU % | INVITE→200 | RTP at the caller |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, a := range asterisk {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", a.calls, a.failed, a.cpu, a.sipp, a.invite, a.rtp)
	}
	b.WriteString("\nAsterisk spends about 4.3 ms CPU per call-second, ~60 % of it kernel time, and breaks at 275 calls.\n\n")

	b.WriteString("## Goal (issue 8)\n\n")
	b.WriteString("≥ 500 concurrent calls with 0 failed, ≤ 1.5 ms CPU per call-second, RSS ≤ 100 KB per call, pacing " +
		"p99 within 2 ms of 20 ms, DTMF→reply p99 ≤ 60 ms, INVITE→200 p99 ≤ 50 ms, goroutines and fds back to " +
		"baseline (no more after each level than before it). Every figure is read at 500 calls, the load the goals are " +
		"set at (at the largest level with no failed call if 500 had failures); the tables above show how each " +
		"one moves beyond it.\n\n")
	goalTable(&b, r)

	b.WriteString("\n## Earlier\n\nThe first, single-level measurement (100 calls for 60 s, issue 3): [load-100.md](load-100.md). " +
		"The raw numbers of this run, with a sample per second of every level: [load.json](load.json).\n")
	return b.String()
}

func kv(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func dateOnly(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// goalTable checks each variant against issue 8's goal.
// goalLevel is the load the goals are set at.
const goalLevel = 500

func goalTable(b *strings.Builder, r *Results) {
	head := []string{"goal"}
	for _, v := range r.Variants {
		head = append(head, v.Name)
	}
	tableRow(b, head)
	tableRow(b, strings.Split(strings.Repeat("---,", len(head)-1)+"---", ","))
	mark := func(ok bool) string {
		if ok {
			return " ✓"
		}
		return " ✗"
	}
	type goal struct {
		name string
		eval func(v *VariantResult) string
	}
	// The goals hold "at that load": 500 calls (or, when 500 was not run
	// clean, the largest level with no failed call).
	atGoal := func(v *VariantResult) *Level {
		for i := range v.Levels {
			if l := &v.Levels[i]; l.Concurrent == goalLevel && l.Failed == 0 {
				return l
			}
		}
		return v.best()
	}
	at := func(v *VariantResult, get func(*Level) (float64, bool), limit float64, format string) string {
		l := atGoal(v)
		if l == nil {
			return "—"
		}
		x, ok := get(l)
		if !ok {
			return "—"
		}
		return fmt.Sprintf(format+" (at %d)", x, l.Concurrent) + mark(x <= limit)
	}
	goals := []goal{
		{"≥ 500 concurrent calls, 0 failed", func(v *VariantResult) string {
			best := v.best()
			if best == nil {
				return "—" + mark(false)
			}
			return fmt.Sprintf("up to %d", best.Concurrent) + mark(best.Concurrent >= goalLevel)
		}},
		{"≤ 1.5 ms CPU per call-second", func(v *VariantResult) string {
			return at(v, func(l *Level) (float64, bool) { return l.Window.MsPerCallSecond, l.Window.CallSeconds > 0 }, 1.5, "%.2f")
		}},
		{"RSS ≤ 100 KB per call", func(v *VariantResult) string {
			return at(v, func(l *Level) (float64, bool) { return l.PerCall, l.Window.Seconds > 0 }, 100, "%.0f KB")
		}},
		{"pacing p99 within 2 ms of 20 ms", func(v *VariantResult) string {
			return at(v, func(l *Level) (float64, bool) { return l.Capture.Pacing.DevP99, l.Capture.Pacing.Gaps > 0 }, 2, "%.2f ms")
		}},
		{"DTMF→reply p99 ≤ 60 ms", func(v *VariantResult) string {
			return at(v, func(l *Level) (float64, bool) { return l.Capture.DTMF.P99, l.Capture.DTMF.N > 0 }, 60, "%.0f ms")
		}},
		{"INVITE→200 p99 ≤ 50 ms", func(v *VariantResult) string {
			return at(v, func(l *Level) (float64, bool) { return l.Invite.P99, l.Invite.N > 0 }, 50, "%.0f ms")
		}},
		{"goroutines and fds back to baseline", func(v *VariantResult) string {
			if len(v.Levels) == 0 {
				return "—"
			}
			var bad []string
			for _, l := range v.Levels {
				if l.After.Goroutines > l.Before.Goroutines || l.After.FDs > l.Before.FDs {
					bad = append(bad, fmt.Sprintf("%d: %d→%d goroutines, %d→%d fds", l.Concurrent,
						l.Before.Goroutines, l.After.Goroutines, l.Before.FDs, l.After.FDs))
				}
			}
			if len(bad) == 0 {
				return "every level" + mark(true)
			}
			return "not at " + strings.Join(bad, "; ") + mark(false)
		}},
	}
	for _, g := range goals {
		cells := []string{g.name}
		for i := range r.Variants {
			cells = append(cells, g.eval(&r.Variants[i]))
		}
		tableRow(b, cells)
	}
}

// Chart colours: hotline's variants, then Asterisk.
var variantColours = []string{"#1f6fb4", "#2a9d3a", "#8e44ad", "#b8860b"}

const asteriskColour = "#d62728"

// chart draws load.svg: x = concurrent calls, left y = CPU (% of one core),
// right y = failed calls (%).
func chart(r *Results) string {
	const (
		width, height = 720, 420
		left, right   = 70.0, 650.0
		top, bottom   = 82.0, 360.0
		failedAxisMax = 100.0
	)
	xmax, cmax := 400.0, 100.0
	for _, v := range r.Variants {
		for _, l := range v.Levels {
			xmax = math.Max(xmax, float64(l.Concurrent))
			cmax = math.Max(cmax, l.Window.CPUPct)
		}
	}
	for _, a := range asterisk {
		cmax = math.Max(cmax, a.cpuMid)
	}
	xstep := 100.0
	if xmax > 600 {
		xstep = 200
	}
	if xmax > 1400 {
		xstep = 500
	}
	xmax = math.Ceil(xmax/xstep) * xstep
	cstep := 20.0
	if cmax*1.1 > 200 {
		cstep = 50
	}
	cmax = math.Ceil(cmax*1.1/cstep) * cstep
	X := func(v float64) float64 { return left + (right-left)*v/xmax }
	Yc := func(v float64) float64 { return bottom - (bottom-top)*v/cmax }
	Yf := func(v float64) float64 { return bottom - (bottom-top)*v/failedAxisMax }

	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`+"\n", width/2,
		esc("hotline under SIPp load beside Asterisk 20, "+dateOnly(r.Date)))
	// Grid and axes.
	for v := 0.0; v <= cmax+1e-9; v += cstep {
		y := Yc(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", left, y, right, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, f0(v))
	}
	for v := 0.0; v <= failedAxisMax+1e-9; v += 20 {
		y := Yf(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"/>`+"\n", right, y, right+4, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", right+7, y+4, f0(v))
	}
	for v := 0.0; v <= xmax+1e-9; v += xstep {
		x := X(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"/>`+"\n", x, bottom, x, bottom+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, bottom+18, f0(v))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#555"/>`+"\n", left, top, right-left, bottom-top)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">concurrent calls</text>`+"\n", (left+right)/2, bottom+40)
	fmt.Fprintf(&b, `<text transform="translate(20 %.1f) rotate(-90)" text-anchor="middle">CPU (%% of one core), solid</text>`+"\n", (top+bottom)/2)
	fmt.Fprintf(&b, `<text transform="translate(%.1f %.1f) rotate(90)" text-anchor="middle">failed calls (%%), dashed</text>`+"\n", right+42, (top+bottom)/2)

	series := func(colour string, xs, cpu, failed []float64) {
		if len(xs) == 0 {
			return
		}
		var pc, pf []string
		for i := range xs {
			pc = append(pc, fmt.Sprintf("%.1f,%.1f", X(xs[i]), Yc(cpu[i])))
			pf = append(pf, fmt.Sprintf("%.1f,%.1f", X(xs[i]), Yf(failed[i])))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pc, " "), colour)
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`+"\n", strings.Join(pf, " "), colour)
		for i := range xs {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", X(xs[i]), Yc(cpu[i]), colour)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="6" height="6" fill="#fff" stroke="%s" stroke-width="1.5"/>`+"\n", X(xs[i])-3, Yf(failed[i])-3, colour)
		}
	}
	type legend struct{ name, colour string }
	var legends []legend
	for i, v := range r.Variants {
		colour := variantColours[i%len(variantColours)]
		var xs, cpu, failed []float64
		for _, l := range v.Levels {
			if l.Window.Seconds == 0 {
				continue
			}
			xs = append(xs, float64(l.Concurrent))
			cpu = append(cpu, l.Window.CPUPct)
			failed = append(failed, l.failedPct())
		}
		series(colour, xs, cpu, failed)
		legends = append(legends, legend{"hotline " + v.Name, colour})
	}
	var ax, ac, af []float64
	for _, a := range asterisk {
		ax, ac, af = append(ax, float64(a.calls)), append(ac, a.cpuMid), append(af, a.failedPct)
	}
	series(asteriskColour, ax, ac, af)
	legends = append(legends, legend{"Asterisk 20", asteriskColour})

	// Legend: a row for CPU (solid), a row for failed calls (dashed).
	for row, what := range []string{"CPU", "failed calls"} {
		y := 44.0 + 18*float64(row)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-weight="bold">%s</text>`+"\n", left, y+4, what)
		x := left + 90
		for _, l := range legends {
			dash := ""
			if row == 1 {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", x, y, x+28, y, l.colour, dash)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x+34, y+4, esc(l.name))
			x += 150
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}
