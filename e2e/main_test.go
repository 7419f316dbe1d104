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
	"slices"
	"strings"
	"testing"
	"time"
)

// hotlineBin is the binary under test, built once by TestMain.
var hotlineBin string

// buildTags are the build tags hotlineBin was built with: the environment
// variable HOTLINE_TAGS (comma- or space-separated, empty for none), else
// "pocketsphinx" when pkg-config finds libpocketsphinx. buildNote says why a
// wanted tag is missing (see hasTag).
var (
	buildTags []string
	buildNote string
)

// hasTag reports whether hotlineBin was built with a tag.
func hasTag(tag string) bool { return slices.Contains(buildTags, tag) }

// defaultTags chooses the build tags (see buildTags); explicit is true when
// HOTLINE_TAGS chose them.
func defaultTags() (tags []string, explicit bool) {
	if v, ok := os.LookupEnv("HOTLINE_TAGS"); ok {
		return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }), true
	}
	if exec.Command("pkg-config", "--exists", "pocketsphinx").Run() == nil {
		return []string{"pocketsphinx"}, false
	}
	return nil, false
}

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
	build := func(tags []string) ([]string, []byte, error) {
		args := []string{"build"}
		if raceEnabled {
			// The tests run under the race detector: so does the server they drive.
			args = append(args, "-race")
		}
		if len(tags) > 0 {
			args = append(args, "-tags", strings.Join(tags, ","))
		}
		args = append(args, "-o", hotlineBin, "./cmd/hotline")
		cmd := exec.Command(goBin, args...)
		cmd.Dir = ".." // the module root: the test binary runs in the package folder
		out, err := cmd.CombinedOutput()
		return args, out, err
	}
	start := time.Now()
	tags, explicit := defaultTags()
	args, out, err := build(tags)
	if err != nil && len(tags) > 0 && !explicit && os.Getenv("CI") == "" {
		// The tags were only a guess from pkg-config: build without them, and
		// the tests that need them skip saying why (CI fails instead).
		buildNote = fmt.Sprintf("go build -tags %s failed (%v), so hotline was built without tags:\n%s",
			strings.Join(tags, ","), err, tail(string(out), 1500))
		fmt.Fprintln(os.Stderr, "e2e:", buildNote)
		tags = nil
		args, out, err = build(nil)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %s %v: %v\n%s", goBin, args, err, out)
		return 1
	}
	buildTags = tags
	if testing.Verbose() {
		fmt.Printf("e2e: built %s (race=%t, tags=%q) in %s\n", hotlineBin, raceEnabled, tags, time.Since(start).Round(time.Millisecond))
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
