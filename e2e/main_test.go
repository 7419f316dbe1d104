// Package e2e tests the hotline binary from the outside: `hotline serve` is
// started as a subprocess on ports chosen at run time, real SIP peers written
// by other people (SIPp, baresip) and `hotline call` place calls to it, and
// each test checks what happened from three sides: the peer's own result,
// hotline's JSON log lines, and the files it wrote (the stereo recording).
// tshark captures the RTP on the loopback interface where pacing matters.
//
// The tools are Debian packages: sip-tester (sipp and its pcaps), baresip,
// tshark, sox, espeak-ng. When one is missing the test is skipped with a
// message, or fails when the environment variable CI is set. pcap replay
// (SIPp's play_pcap_audio) and capturing need root.
//
// See README.md in this folder for what each test checks and how to run it.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// hotlineBin is the binary under test, built once by TestMain.
var hotlineBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse() // for testing.Verbose
	dir, err := os.MkdirTemp("", "hotline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	goBin, err := findGo()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	hotlineBin = filepath.Join(dir, "hotline")
	args := []string{"build"}
	if raceEnabled {
		// The tests run under the race detector: so does the server they drive.
		args = append(args, "-race")
	}
	args = append(args, "-o", hotlineBin, "./cmd/hotline")
	start := time.Now()
	cmd := exec.Command(goBin, args...)
	cmd.Dir = ".." // the module root: the test binary runs in the package folder
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %s %v: %v\n%s", goBin, args, err, out)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("e2e: built %s (race=%t) in %s\n", hotlineBin, raceEnabled, time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

// findGo finds the go tool: on PATH, else in $GOROOT/bin.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the go tool is neither on PATH nor in $GOROOT/bin")
}
