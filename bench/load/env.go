package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// clockTicks is the kernel's USER_HZ (getconf CLK_TCK), the unit of the CPU
// times in /proc/PID/stat.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && v > 0 {
			return float64(v)
		}
	}
	return 100
}()

// procCPU returns a process's user and system CPU time in seconds
// (/proc/PID/stat fields 14 and 15, all its threads, exited ones included).
func procCPU(pid int) (user, sys float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (user, sys float64, err error) {
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, 0, errors.New("/proc stat: no )")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, errors.New("/proc stat: short")
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("/proc stat: bad times")
	}
	return u / clockTicks, s / clockTicks, nil
}

// procTotalCPU is user+system, or -1 when the process is gone.
func procTotalCPU(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	u, s, err := procCPU(pid)
	if err != nil {
		return -1
	}
	return u + s
}

// machineBusy is the CPU time all cores have spent busy since boot
// (/proc/stat's cpu line: everything but idle and iowait), in seconds.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / clockTicks
}

// loadAverage is the 1-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// procRSSKB returns VmRSS from /proc/PID/status, in KiB.
func procRSSKB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmRSS")
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPU    string  `json:"cpu"`
	Cores  int     `json:"cores"`
	MemGiB float64 `json:"mem_gib"`
	Kernel string  `json:"kernel"`
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), CPU: "unknown CPU"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.Join(strings.Fields(v), " ")
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m.MemGiB = math.Round(kb/(1<<20)*10) / 10
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// sippVersion is the first line of `sipp -v`.
func sippVersion() string {
	out, _ := exec.Command("sipp", "-v").CombinedOutput()
	for line := range strings.SplitSeq(string(out), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "SIPp") {
			return strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "SIPp")), ".")
		}
	}
	return "unknown"
}

// repoRoot finds the module root (the directory with go.mod) from the
// current directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 50 {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/hotline-dev/hotline\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("run from the hotline repository (go run ./bench/load)")
}

// goTool is the go command that builds hotline: the one on PATH, else the
// usual install place (sudo's secure_path often lacks it).
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/local/go/bin/go", "/usr/lib/go/bin/go"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("go not found on PATH")
}

// buildHotline builds ./cmd/hotline into out as the Makefile does (with
// pocketsphinx when pkg-config finds it) and returns the tags used and the
// commit stamped into the binary.
func buildHotline(ctx context.Context, root, out string) (tags, commit string, err error) {
	goBin, err := goTool()
	if err != nil {
		return "", "", err
	}
	if exec.Command("pkg-config", "--exists", "pocketsphinx", "sphinxbase").Run() == nil {
		tags = "pocketsphinx"
	}
	build := func(extra ...string) ([]byte, error) {
		args := []string{"build", "-trimpath", "-ldflags", "-s -w"}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		args = append(args, extra...)
		args = append(args, "-o", out, "./cmd/hotline")
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = root
		return cmd.CombinedOutput()
	}
	if b, err := build(); err != nil {
		// Without VCS stamping when git refuses the repository (another owner under sudo).
		if !bytes.Contains(b, []byte("buildvcs")) {
			return "", "", fmt.Errorf("go build ./cmd/hotline: %v\n%s", err, b)
		}
		if b, err := build("-buildvcs=false"); err != nil {
			return "", "", fmt.Errorf("go build ./cmd/hotline: %v\n%s", err, b)
		}
	}
	return tags, commitOf(root, out), nil
}

// headCommit resolves HEAD from the repository's files: .git a directory or
// a "gitdir:" file (a worktree, whose refs live in its common dir), the ref
// loose or in packed-refs.
func headCommit(root string) string {
	gitDir := filepath.Join(root, ".git")
	if b, err := os.ReadFile(gitDir); err == nil { // a file: "gitdir: PATH"
		d, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
		if !ok {
			return ""
		}
		if gitDir = strings.TrimSpace(d); !filepath.IsAbs(gitDir) {
			gitDir = filepath.Join(root, gitDir)
		}
	}
	common := gitDir
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		if common = strings.TrimSpace(string(b)); !filepath.IsAbs(common) {
			common = filepath.Join(gitDir, common)
		}
	}
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(b))
	ref, ok := strings.CutPrefix(head, "ref:")
	if !ok {
		return head // detached
	}
	ref = strings.TrimSpace(ref)
	for _, d := range []string{gitDir, common} {
		if b, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	if b, err := os.ReadFile(filepath.Join(common, "packed-refs")); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if h, r, ok := strings.Cut(strings.TrimSpace(line), " "); ok && r == ref {
				return h
			}
		}
	}
	return ""
}

// commitOf says which commit hotline was built from: what go build stamped
// into the binary (the revision's first 12 hex digits, "-dirty" with
// uncommitted changes, the commit time), else, when stamping is off
// (GOFLAGS=-buildvcs=false), git describe, else the commit .git/HEAD
// names, read from the files (no git on the machine).
func commitOf(root, bin string) string {
	if c := stampedCommit(bin); c != "" {
		return c
	}
	if out, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	if c := headCommit(root); c != "" {
		return c[:min(12, len(c))] + " (from .git/HEAD; uncommitted changes not checked)"
	}
	return "unknown"
}

func stampedCommit(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	rev, dirty, when := "", false, ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		case "vcs.time":
			when = s.Value
		}
	}
	if rev == "" {
		return ""
	}
	rev = rev[:min(12, len(rev))]
	if dirty {
		rev += "-dirty"
	}
	if when != "" {
		rev += " (" + when + ")"
	}
	return rev
}

// writePrompts writes the script's two WAVs into dir (8 kHz, 16-bit mono):
// prompt10s.wav, a 10 s 300→900 Hz sweep at 0.3 (as sox `synth 10 sine
// 300-900 vol 0.3`), and short.wav, 1 s of 600 Hz starting at its peak
// (a cosine), so the reply's very first packet is not silence.
func writePrompts(dir string) error {
	const rate = 8000
	sweep := make([]int16, 10*rate)
	phase := 0.0
	for i := range sweep {
		f := 300 + 600*float64(i)/float64(len(sweep))
		sweep[i] = int16(math.Round(0.3 * 32767 * math.Sin(phase)))
		phase += 2 * math.Pi * f / rate
	}
	if err := wav.Write(filepath.Join(dir, "prompt10s.wav"), sweep, rate); err != nil {
		return err
	}
	short := make([]int16, rate)
	for i := range short {
		short[i] = int16(math.Round(0.3 * 32767 * math.Cos(2*math.Pi*600*float64(i)/rate)))
	}
	return wav.Write(filepath.Join(dir, "short.wav"), short, rate)
}

// freePort returns a port the system hands out for network ("tcp" or "udp")
// on 127.0.0.1.
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portBlock finds size consecutive UDP ports free on 127.0.0.1, starting at
// a multiple of 16, from 20000 up (above hotline's default RTP range), and
// outside the ephemeral range the system hands out to others.
func portBlock(size int) (int, error) {
	elo, ehi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			elo, _ = strconv.Atoi(f[0])
			ehi, _ = strconv.Atoi(f[1])
		}
	}
	for start := 20000; start+size <= 65535; start += 1024 {
		end := start + size - 1
		if start <= ehi && end >= elo {
			continue
		}
		if udpFree(start, end) {
			return start, nil
		}
	}
	return 0, fmt.Errorf("no block of %d free UDP ports outside %d-%d", size, elo, ehi)
}

func udpFree(lo, hi int) bool {
	for p := lo; p <= hi; p++ {
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// fileSize is 0 for a missing file.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// waitFor polls cond every interval until it holds or timeout passes.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(interval):
		}
	}
}
