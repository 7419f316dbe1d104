package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the CLI with args and stdin, returning its output and exit code.
func run(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	code := 0
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			out.WriteString(ee.msg)
		} else {
			code = 2
			out.WriteString(err.Error())
		}
	}
	return out.String(), code
}

const miniScript = `name: mini
language: en-US
start: welcome
intents:
  agent: {keywords: [agent, operator], dtmf: "0", handoff: true}
  balance: {keywords: [balance]}
  "no": {keywords: ["no", nothing]}
global: [agent]
answers:
  balance: "Your balance is {{lookup.amount | default:\"unknown\"}}."
nodes:
  welcome:
    say: "Hello, this is an automated assistant."
    listen: {}
    routes: {"no": goodbye}
  lookup:
    http: {get: "%s/balance", into: lookup, on_error: goodbye}
    say: "Balance {{lookup.amount}}."
    next: goodbye
  agent:
    say: "Transferring."
    transfer: {to: "sip:queue@pbx.example", on_fail: goodbye}
  goodbye:
    say: "Goodbye."
    hangup: true
`

func writeScript(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersion(t *testing.T) {
	out, code := run(t, "", "version", "--format", "json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["version"] == "" {
		t.Fatalf("version json: %d %q", code, out)
	}
	if _, code := run(t, "", "version", "--format", "xml"); code != 2 {
		t.Errorf("bad format: want exit 2, got %d", code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"chat"}, {"lint"}, {"test"}, {"nope"}, {"lint", "--bogus", "x"}} {
		if _, code := run(t, "", args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d", args, code)
		}
	}
}

func TestChatFromPipe(t *testing.T) {
	path := writeScript(t, strings.Replace(miniScript, "%s", "http://127.0.0.1:1", 1))
	out, code := run(t, "what is my balance\n#0\n/fail 486\n", "chat", "--explain", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"bot: Hello, this is an automated assistant.", "caller: what is my balance",
		"balance (keyword", "Your balance is unknown.", "[transfer sip:queue@pbx.example (blind)]", "bot: Goodbye.",
		"outcome unresolved"} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
}

func TestChatMakesBackendRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"amount": "12.50"}`))
	}))
	defer srv.Close()
	script := strings.Replace(miniScript, "%s", srv.URL, 1)
	script = strings.Replace(script, `routes: {"no": goodbye}`, `routes: {"no": goodbye, balance: lookup}`, 1)
	path := writeScript(t, script)
	out, code := run(t, "balance\n", "chat", path)
	if code != 0 || !strings.Contains(out, "Balance 12.50.") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, _ = run(t, "balance\n", "chat", "--no-http", path)
	if !strings.Contains(out, "backend requests are off") || !strings.Contains(out, "Goodbye.") {
		t.Errorf("--no-http:\n%s", out)
	}
}

func TestLint(t *testing.T) {
	good := writeScript(t, strings.Replace(miniScript, "%s", "http://127.0.0.1:1", 1))
	out, code := run(t, "", "lint", good)
	if code != 0 {
		t.Fatalf("clean script: exit %d\n%s", code, out)
	}
	// lookup is unreachable: a warning, which --strict turns into a failure.
	if !strings.Contains(out, "unreachable") {
		t.Errorf("want an unreachable warning:\n%s", out)
	}
	if _, code := run(t, "", "lint", "--strict", good); code != 1 {
		t.Errorf("--strict with warnings: want exit 1, got %d", code)
	}
	bad := writeScript(t, "name: x\nlanguage: en\nstart: a\nnodes:\n  a: {say: hi, next: b, listen: {timeout: 6}}\n")
	out, code = run(t, "", "lint", "--format", "json", bad)
	if code != 1 {
		t.Fatalf("broken script: want exit 1, got %d\n%s", code, out)
	}
	var diags []map[string]any
	if err := json.Unmarshal([]byte(out), &diags); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	codes := map[string]bool{}
	for _, d := range diags {
		codes[d["code"].(string)] = true
		if d["line"].(float64) == 0 {
			t.Errorf("diagnostic without a line: %v", d)
		}
	}
	for _, c := range []string{"duration-unit", "unknown-node-suggest", "next-conflict"} {
		if !codes[c] {
			t.Errorf("want %s among %v", c, codes)
		}
	}
	out, _ = run(t, "", "lint", "--lang", "zh", bad)
	if !strings.Contains(out, "错误") {
		t.Errorf("--lang zh: %s", out)
	}
}

func TestTestCommand(t *testing.T) {
	path := writeScript(t, strings.Replace(miniScript, "%s", "http://127.0.0.1:1", 1))
	dir := filepath.Join(filepath.Dir(path), "tests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	suite := `tests:
  - name: passes
    steps:
      - bot: automated assistant
      - say: balance
        intent: balance
  - name: fails
    steps:
      - say: operator
        bot: nothing like this
`
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "", "test", filepath.Dir(path)+"/...")
	if code != 1 || !strings.Contains(out, "--- FAIL: fails") || !strings.Contains(out, "1 passed, 1 failed") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, `want the bot to say "nothing like this"`) || !strings.Contains(out, "transcript:") {
		t.Errorf("failure should explain itself:\n%s", out)
	}
	out, code = run(t, "", "test", "--run", "^passes$", dir)
	if code != 0 || !strings.Contains(out, "PASS: 1 passed") {
		t.Errorf("--run: exit %d\n%s", code, out)
	}
	out, code = run(t, "", "test", "--format", "json", dir)
	var res []map[string]any
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 2 {
		t.Errorf("json: exit %d\n%s", code, out)
	}
	if _, code := run(t, "", "test", filepath.Join(dir, "missing")); code != 2 {
		t.Errorf("missing path: want exit 2, got %d", code)
	}
}

func TestGraph(t *testing.T) {
	path := writeScript(t, strings.Replace(miniScript, "%s", "http://127.0.0.1:1", 1))
	out, code := run(t, "", "graph", path)
	if code != 0 || !strings.HasPrefix(out, "flowchart TD") {
		t.Fatalf("mermaid: exit %d\n%s", code, out)
	}
	out, code = run(t, "", "graph", "--format", "dot", path)
	if code != 0 || !strings.HasPrefix(out, "digraph") {
		t.Fatalf("dot: exit %d\n%s", code, out)
	}
	svg := filepath.Join(t.TempDir(), "flow.svg")
	if out, code := run(t, "", "graph", "-o", svg, path); code != 0 {
		t.Fatalf("svg: exit %d\n%s", code, out)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "<svg") {
		t.Fatalf("svg file: %v %.100s", err, b)
	}
	if _, code := run(t, "", "graph", "--format", "png", path); code != 2 {
		t.Errorf("bad format: want exit 2, got %d", code)
	}
}

// docs/script.md promises the time zone database is built in: hosts without
// /usr/share/zoneinfo still know Asia/Shanghai.
func TestTimeZoneDatabaseBuiltIn(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if imp.Path.Value == `"time/tzdata"` {
			return
		}
	}
	t.Error("cmd/hotline must import time/tzdata")
}
