package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// talkTimeFlag is the `hotline serve` flag that turns off voice activity
// detection on the caller's audio for the whole call (on by default). The
// bare variant passes talkTimeFlag=false, but only when `hotline serve
// --help` lists the flag (it is being added); until then both variants run
// with talk time on and the results say so.
const talkTimeFlag = "--talk-time"

// variantSpec is one configuration of hotline the ramp runs against.
type variantSpec struct {
	name     string
	record   bool
	talkTime bool
}

var variantSpecs = map[string]variantSpec{
	"full": {name: "full", record: true, talkTime: true},   // the realistic case
	"bare": {name: "bare", record: false, talkTime: false}, // the media path alone
}

// hotlineHasFlag reports whether `hotline serve --help` lists flag.
func hotlineHasFlag(bin, flag string) bool {
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		for _, w := range f[:min(len(f), 3)] {
			if w == flag || strings.HasPrefix(w, flag+"=") {
				return true
			}
		}
	}
	return false
}

// server is one running `hotline serve`.
type server struct {
	cmd             *exec.Cmd
	pid             int
	log             string
	httpAddr, pprof string
	done            chan struct{}
	client          *http.Client
}

type health struct {
	Status     string `json:"status"`
	Active     int    `json:"active_calls"`
	Goroutines int    `json:"goroutines"`
	FDs        int    `json:"open_fds"`
}

// startServer starts hotline with args, its output in logPath, and waits
// (at most 30 s) for /healthz.
func startServer(ctx context.Context, bin string, args []string, logPath, httpAddr, pprofAddr string) (*server, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Dir = filepath.Dir(logPath)
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, log: logPath, httpAddr: httpAddr, pprof: pprofAddr,
		done: make(chan struct{}), client: noKeepAlive(3 * time.Second)}
	go func() {
		cmd.Wait()
		lf.Close()
		close(s.done)
	}()
	ok := waitFor(ctx, 30*time.Second, 100*time.Millisecond, func() bool {
		select {
		case <-s.done:
			return true
		default:
		}
		_, err := s.health()
		return err == nil
	})
	select {
	case <-s.done:
		b, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("hotline serve exited: %s\n%s", cmd.ProcessState, tail(string(b), 2000))
	default:
	}
	if !ok {
		s.stop()
		return nil, fmt.Errorf("hotline serve: no /healthz on %s within 30 s (log %s)", httpAddr, logPath)
	}
	return s, nil
}

// noKeepAlive is an HTTP client that closes each connection after its
// request: a kept-alive connection is a goroutine and an fd in hotline,
// which would blur the before/after counts.
func noKeepAlive(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func (s *server) health() (health, error) {
	var h health
	resp, err := s.client.Get("http://" + s.httpAddr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, err
	}
	return h, nil
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM (hotline drains: with no call up it exits at once),
// waits up to 20 s, then SIGKILL.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// saveProfile fetches a pprof profile (path such as
// "/debug/pprof/profile?seconds=20") into file.
func (s *server) saveProfile(path, file string, timeout time.Duration) error {
	resp, err := noKeepAlive(timeout).Get("http://" + s.pprof + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// logCounts counts the ERROR and WARN lines hotline's JSON log gained after
// offset and returns the first few distinct error messages.
func logCounts(path string, offset int64) (errs, warns int, first []string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, 0, nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, 256<<20))
	seen := map[string]bool{}
	for line := range strings.SplitSeq(string(b), "\n") {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			if strings.Contains(line, "panic") {
				errs++
				first = append(first, tail(line, 200))
			}
			continue
		}
		switch rec.Level {
		case "ERROR":
			errs++
			if !seen[rec.Msg] && len(first) < 5 {
				seen[rec.Msg] = true
				first = append(first, rec.Msg)
			}
		case "WARN":
			warns++
		}
	}
	return errs, warns, first
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
