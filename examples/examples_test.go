package examples_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/examples"
)

// The example hotlines hand off with a blind transfer and show bridge mode
// in a commented node. These tests keep that node ready to uncomment: with
// its comment marks removed and the two nodes' names swapped (as the
// comment above it says), the script loads, lints clean, and every way to a
// person ends in the bridge.

var scripts = []string{"en-utility/script.yaml", "zh-shop/script.yaml"}

var bridgeBlock = regexp.MustCompile(`(?s)\n  # --- bridge node \(uncomment\) ---\n(.*?)\n  # --- end of bridge node ---\n`)

// withBridge is fsys with the script's bridge node uncommented and swapped in.
func withBridge(t *testing.T, name string) fs.FS {
	t.Helper()
	src, err := fs.ReadFile(examples.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	m := bridgeBlock.FindStringSubmatchIndex(text)
	if m == nil {
		t.Fatalf("%s: no commented bridge node between the markers", name)
	}
	var block []string
	for _, line := range strings.Split(text[m[2]:m[3]], "\n") {
		if !strings.HasPrefix(line, "  # ") {
			t.Fatalf("%s: a line of the bridge node is not commented as \"  # \": %q", name, line)
		}
		block = append(block, "  "+strings.TrimPrefix(line, "  # "))
	}
	uncommented := "\n" + strings.Join(block, "\n") + "\n"
	text = text[:m[0]] + uncommented + text[m[1]:]
	// Swap the names: the blind node steps aside, the bridge takes its place.
	i := strings.Index(text, "\nnodes:\n")
	if i < 0 {
		t.Fatalf("%s: no nodes", name)
	}
	nodes := strings.Replace(text[i:], "\n  agent:\n", "\n  agent_blind:\n", 1)
	text = text[:i] + strings.Replace(nodes, "\n  agent_bridge:\n", "\n  agent:\n", 1)
	fsys := fstest.MapFS{}
	err = fs.WalkDir(examples.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(examples.FS, p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fsys[name] = &fstest.MapFile{Data: []byte(text)}
	return fsys
}

func TestExamplesHandOffBlind(t *testing.T) {
	for _, name := range scripts {
		s, err := dialog.Load(dialog.FSSource{FS: examples.FS}, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tr := s.Nodes["agent"].Transfer
		if tr == nil || tr.Mode != "blind" || tr.OnFail == "" || len(tr.Headers) == 0 {
			t.Errorf("%s: the agent node must hand off by blind transfer with headers and on_fail: %+v", name, tr)
		}
		if d := dialog.Lint(s); len(d) > 0 {
			t.Errorf("%s: lint: %v", name, d)
		}
	}
}

func TestExamplesBridgeNodeUncomments(t *testing.T) {
	for _, name := range scripts {
		s, err := dialog.Load(dialog.FSSource{FS: withBridge(t, name)}, name)
		if err != nil {
			t.Fatalf("%s with the bridge node uncommented: %v", name, err)
		}
		tr := s.Nodes["agent"].Transfer
		if tr == nil || tr.Mode != "bridge" || tr.Whisper == nil || tr.Timeout == 0 || tr.OnFail == "" {
			t.Errorf("%s: the uncommented node must be a bridge with whisper, timeout and on_fail: %+v", name, tr)
		}
		// Lint: only the blind node that stepped aside is unreachable now.
		for _, d := range dialog.Lint(s) {
			if d.Code != "unreachable" || len(d.Args) == 0 || d.Args[0] != "agent_blind" {
				t.Errorf("%s with the bridge node: lint %s %v", name, d.Code, d.Args)
			}
		}
	}
}
