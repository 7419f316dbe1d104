package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/store"
)

// The admin pages in a real browser: headless Chromium (Debian's chromium),
// driven by playwright-core from Node (browser/admin.mjs), against a live
// `hotline serve` that has taken real calls. See browser/admin.mjs for what
// the browser checks, and docs/screenshots/README.md for the screenshots it
// takes.

const (
	browserScript = "testdata/browser/script.yaml"
	browserDir    = "browser" // package.json, package-lock.json, admin.mjs; node_modules (npm ci)

	browserUser     = "staff"
	browserPassword = "e2e-staff-password"
	// The question no intent matches, which staff teach in the browser.
	teachPhrase = "I would like a new contract"
	teachIntent = "sales"
	// What the recogniser "heard" from the third caller: it must show as
	// text on the pages, never as markup.
	xssText = `I said <script>alert(1)</script> and "quotes" & <img src=x onerror=alert(2)> <b>bold</b>`
)

// browserTools finds Chromium and Node (>= 20, for playwright-core) and
// makes sure browser/node_modules matches browser/package-lock.json
// (npm ci --ignore-scripts: playwright-core only, no browser download).
// Missing tools skip the test, or fail it under CI.
func browserTools(t *testing.T) (chromium, node string) {
	t.Helper()
	chromium = os.Getenv("HOTLINE_CHROMIUM")
	if chromium == "" {
		chromium = need(t, "chromium", "chromium")
	} else if _, err := os.Stat(chromium); err != nil {
		missing(t, "HOTLINE_CHROMIUM=%s: %v", chromium, err)
	}
	node = need(t, "node", "nodejs (Node.js >= 20)")
	npm := need(t, "npm", "npm")
	out, err := exec.Command(node, "--version").Output()
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0])
	if err != nil || major < 20 {
		missing(t, "playwright-core needs Node.js >= 20; %s --version says %q (%v)", node, strings.TrimSpace(string(out)), err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	b, err := os.ReadFile(filepath.Join(browserDir, "package-lock.json"))
	if err == nil {
		err = json.Unmarshal(b, &lock)
	}
	if err != nil {
		t.Fatalf("%s/package-lock.json: %v", browserDir, err)
	}
	want := lock.Packages["node_modules/playwright-core"].Version
	var have struct {
		Version string `json:"version"`
	}
	b, err = os.ReadFile(filepath.Join(browserDir, "node_modules", "playwright-core", "package.json"))
	if err == nil {
		_ = json.Unmarshal(b, &have)
	}
	if have.Version != want {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
		cmd.Dir = browserDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci --ignore-scripts in e2e/%s: %v\n%s", browserDir, err, out)
		}
		t.Logf("npm ci --ignore-scripts in e2e/%s (playwright-core %s, had %q): %s", browserDir, want, have.Version, time.Since(start).Round(time.Millisecond))
	}
	return chromium, node
}

// passwdHash runs `hotline passwd NAME` with the password on standard input
// and returns the configuration it prints (admin: users: NAME: hash).
func passwdHash(t *testing.T, name, password string) string {
	t.Helper()
	cmd := exec.Command(hotlineBin, "passwd", name)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("hotline passwd %s: %v\n%s", name, err, ee.Stderr)
		}
		t.Fatalf("hotline passwd %s: %v", name, err)
	}
	if !strings.Contains(string(out), "$argon2id$") {
		t.Fatalf("hotline passwd %s printed no argon2id hash:\n%s", name, out)
	}
	return string(out)
}

// pageWeight is one page's entry of admin.mjs's weights.json.
type pageWeight struct {
	Page          string `json:"page"`
	Path          string `json:"path"`
	Status        int    `json:"status"`
	Requests      int    `json:"requests"`
	TransferBytes int    `json:"transferBytes"`
	EncodedBytes  int    `json:"encodedBytes"`
	DecodedBytes  int    `json:"decodedBytes"`
	LoadMS        int    `json:"loadMs"`
}

// TestAdminInBrowser: staff use the admin pages in a browser after real
// calls, and what they teach there serves the next call without a restart.
//
// `hotline serve` runs a copy of testdata/browser/script.yaml (so teaching
// can write the learned file beside it), recognises speech with a fake
// OpenAI-compatible server that "hears" an exact text, and has one admin
// user whose hash `hotline passwd` made. Three calls: SIPp keys 1 by SIP
// INFO (sales, resolved); `hotline call` says a question no intent matches
// (the unanswered inbox gets it, with an audio snippet); `hotline call` is
// heard saying a transcript with <script>, an <img onerror> and "quotes",
// then keys 1. Then browser/admin.mjs (playwright-core, headless Chromium)
// logs in, checks the dashboard, the calls list and two calls (the escaped
// transcript, the recording: a WAV file the player reads), assigns the
// question to an intent in the inbox, checks the script and health pages,
// takes a full-page screenshot of each page and measures what each page
// loads. Last, a fourth call says the question again and takes the new
// route, from the same serve process.
//
// Not parallel: Chromium keeps both cores of a small machine busy, which
// the timing measurements of the parallel tests must not see.
func TestAdminInBrowser(t *testing.T) {
	start := time.Now()
	chromium, node := browserTools(t)
	need(t, "sipp", "sip-tester")

	dir := t.TempDir()
	src, err := os.ReadFile(browserScript)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	ft := newFixedTranscriber(t, teachPhrase)
	conf := asrConfig(t, ft, passwdHash(t, browserUser, browserPassword))
	s := startServe(t, serveOptions{Script: script, Args: []string{"--config", conf}})
	h0, _ := s.health()

	// 1. SIPp: key 1 by SIP INFO during the welcome, the bot's BYE says resolved.
	keyRun := startSIPp(t, sippOptions{Scenario: "uac_info.xml", Target: s.SIPAddr, Vars: map[string]string{
		"WAIT_MS": "1500", "DIGIT": "1", "OUTCOME": "resolved", "BYE_TIMEOUT_MS": "15000",
	}})

	// 2. A question the script does not know: no match, into the inbox.
	nomatch := startCaller(t, s, "browser-nomatch", "--say", teachPhrase+"@1s")
	nomatchID := nomatch.callID(s, 20*time.Second)
	if nomatchID == "" {
		t.Fatalf("no call answered:\n%s", nomatch.out.text())
	}
	if u := s.waitLog(30*time.Second, "the question", spokenUnderstood(nomatchID)); u.Str("outcome") != "no_match" {
		t.Fatalf("the question was %s (%s), want no_match; the call's log:\n%s", u.Str("outcome"), u.Str("intent"), s.callLog(nomatchID))
	}
	nomatch.bye()
	s.waitLog(15*time.Second, "call ended", msg("call ended", "call_id", nomatchID))
	nomatch.wait(10 * time.Second)

	r := keyRun.wait()
	if r.Code != 0 {
		t.Fatalf("SIPp: the key call failed (answer, INFO 1, or the BYE with X-Hotline-Outcome: resolved)\n%s\nhotline:\n%s", r.report(), s.logs.tail(40))
	}
	keyID := r.callID()
	if end := s.waitLog(5*time.Second, "call ended", msg("call ended", "call_id", keyID)); end.Str("outcome") != "resolved" || end.Str("path") != "welcome>sales" {
		t.Fatalf("the key call ended %q at %q; its log:\n%s", end.Str("outcome"), end.Str("path"), s.callLog(keyID))
	}

	// 3. A transcript with markup in it; then key 1.
	ft.text.Store(xssText)
	xss := startCaller(t, s, "browser-markup", "--say", "I said something strange@1s")
	xssID := xss.callID(s, 20*time.Second)
	if xssID == "" {
		t.Fatalf("no call answered:\n%s", xss.out.text())
	}
	if u := s.waitLog(30*time.Second, "the markup", spokenUnderstood(xssID)); u.Str("outcome") != "no_match" {
		t.Fatalf("the markup was %s (%s), want no_match; the call's log:\n%s", u.Str("outcome"), u.Str("intent"), s.callLog(xssID))
	}
	time.Sleep(300 * time.Millisecond)
	xss.send("1")
	if end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", xssID)); end.Str("outcome") != "resolved" {
		t.Fatalf("the markup call ended %q; its log:\n%s", end.Str("outcome"), s.callLog(xssID))
	}
	xss.wait(10 * time.Second)
	if h := s.waitStoreIdle(t, 10*time.Second); h.Questions != 2 || h.Snippets != 2 || h.Failed != 0 || h.Dropped != 0 {
		t.Fatalf("/healthz store after the calls: %+v; want 2 questions with 2 snippets", h)
	}
	callsDone := time.Now()
	t.Logf("calls placed in %s: key %s, no match %s, markup %s", callsDone.Sub(start).Round(time.Millisecond), keyID, nomatchID, xssID)

	// The browser.
	out := filepath.Join(dir, "screenshots")
	res := runAdminScript(t, node, map[string]string{
		"HOTLINE_URL":          "http://" + s.HTTP,
		"HOTLINE_USER":         browserUser,
		"HOTLINE_PASSWORD":     browserPassword,
		"HOTLINE_OUT":          out,
		"HOTLINE_CALLS":        strings.Join([]string{keyID, nomatchID, xssID}, ","),
		"HOTLINE_KEY_CALL":     keyID,
		"HOTLINE_KEY_INTENT":   "sales",
		"HOTLINE_XSS_CALL":     xssID,
		"HOTLINE_XSS_TEXT":     xssText,
		"HOTLINE_TEACH_TEXT":   teachPhrase,
		"HOTLINE_TEACH_INTENT": teachIntent,
		"HOTLINE_CHROMIUM":     chromium,
	})
	browserDone := time.Now()
	t.Logf("admin.mjs (%s):\n%s", browserDone.Sub(callsDone).Round(time.Millisecond), res)
	logWeights(t, filepath.Join(out, "weights.json"))
	shots := checkScreenshots(t, out)
	if dest := os.Getenv("HOTLINE_SCREENSHOTS"); dest != "" {
		copyScreenshots(t, shots, filepath.Join(out, "weights.json"), dest)
	} else {
		t.Logf("screenshots (set HOTLINE_SCREENSHOTS=DIR to keep them):\n  %s", strings.Join(shots, "\n  "))
	}
	if t.Failed() {
		t.FailNow()
	}

	// What the browser taught serves the next call: the learned file beside
	// the script, the reload the admin pages asked for, and the same process.
	l := s.waitLog(5*time.Second, "script reloaded by the admin pages", msg("script reloaded", "trigger", "admin"))
	version := l.Str("script_version")
	if version == "" || version == h0.Version {
		t.Errorf("reloaded version %q, was %q", version, h0.Version)
	}
	if b, err := os.ReadFile(dialog.LearnedPath(script)); err != nil || !strings.Contains(string(b), teachPhrase) {
		t.Errorf("the learned file %s: %v\n%s", dialog.LearnedPath(script), err, b)
	}
	ft.text.Store(teachPhrase)
	c := startCaller(t, s, "browser-taught", "--say", teachPhrase+"@1s")
	id := c.callID(s, 20*time.Second)
	if id == "" {
		t.Fatalf("no call answered:\n%s", c.out.text())
	}
	u := s.waitLog(30*time.Second, "the taught question", spokenUnderstood(id))
	end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
	if u.Str("intent") != teachIntent || u.Str("tier") != "example" || end.Str("outcome") != "resolved" || end.Str("path") != "welcome>"+teachIntent {
		t.Errorf("after teaching, the question was understood as %q (tier %s), the call ended %q at %q; its log:\n%s",
			u.Str("intent"), u.Str("tier"), end.Str("outcome"), end.Str("path"), s.callLog(id))
	}
	c.wait(10 * time.Second)
	s.waitStoreIdle(t, 10*time.Second)
	select {
	case <-s.done:
		t.Fatalf("serve exited: %v", s.exitErr)
	default:
	}
	if n := len(s.logs.find(msg("hotline serving"))); n != 1 {
		t.Errorf("serve logged %d starts: it must not restart", n)
	}
	st := openRecords(t, s.Data)
	call := waitRecord(t, st, id, 10*time.Second)
	if call.ScriptVersion != version || call.Outcome != "resolved" {
		t.Errorf("the taught call's record: version %s (want %s), outcome %s", call.ScriptVersion, version, call.Outcome)
	}
	groups, err := st.Groups(context.Background(), store.GroupFilter{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(groups.Groups, func(g store.Group) bool { return g.Text == teachPhrase })
	if i < 0 || groups.Groups[i].Status != "assigned" || groups.Groups[i].Intent != teachIntent || groups.Groups[i].ResolvedBy != browserUser {
		t.Errorf("the taught group in the store: %+v", groups.Groups)
	}
	t.Logf("the taught call %s: %s (tier %s), %s at %s, script version %s", id, u.Str("intent"), u.Str("tier"),
		end.Str("outcome"), end.Str("path"), version)
	t.Logf("times: calls %s, browser %s, taught call and checks %s; in all %s",
		callsDone.Sub(start).Round(time.Millisecond), browserDone.Sub(callsDone).Round(time.Millisecond),
		time.Since(browserDone).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// runAdminScript runs browser/admin.mjs with env and returns its output; a
// non-zero exit fails the test with the output. Node and the browser it
// starts run in a process group of their own, killed (that group, by its
// ID) if they outlive the time limit.
func runAdminScript(t *testing.T, node string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "admin.mjs")
	cmd.Dir = browserDir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	out := string(b)
	// Nothing of the group may be left (admin.mjs closes the browser).
	if cmd.Process != nil {
		if syscall.Kill(-cmd.Process.Pid, 0) == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("processes of admin.mjs's group (the browser?) were left running: killed")
		}
	}
	if ctx.Err() != nil || err != nil {
		// Its screenshots (FAILED-STEP.png: the page as it was) are in a
		// temporary folder that goes with the test.
		shots, _ := filepath.Glob(filepath.Join(env["HOTLINE_OUT"], "*.png"))
		if dest := os.Getenv("HOTLINE_SCREENSHOTS"); dest != "" && len(shots) > 0 {
			copyScreenshots(t, shots, filepath.Join(env["HOTLINE_OUT"], "weights.json"), dest)
		} else {
			out += "\n(set HOTLINE_SCREENSHOTS=DIR to keep the screenshots, FAILED-*.png among them)"
		}
		if ctx.Err() != nil {
			t.Fatalf("admin.mjs did not end within 90 s: killed\n%s", out)
		}
		t.Fatalf("admin.mjs: %v\n%s", err, out)
	}
	return out
}

// logWeights logs what admin.mjs measured of each page.
func logWeights(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("admin.mjs's page weights: %v", err)
		return
	}
	var w struct {
		Pages []pageWeight `json:"pages"`
	}
	if err := json.Unmarshal(b, &w); err != nil || len(w.Pages) == 0 {
		t.Errorf("%s: %v\n%s", file, err, b)
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-11s %-40s %6s %9s %9s %9s %7s\n", "page", "path", "status", "requests", "transfer", "bodies", "load")
	for _, p := range w.Pages {
		path := p.Path
		if len(path) > 40 {
			path = path[:39] + "…"
		}
		fmt.Fprintf(&sb, "%-11s %-40s %6d %9d %9d %9d %5dms\n", p.Page, path, p.Status, p.Requests, p.TransferBytes, p.EncodedBytes, p.LoadMS)
	}
	t.Logf("what each page loaded (transfer: over the wire with the browser's cache, as staff go from page to page; bodies: the same without a cache):\n%s", sb.String())
}

var shotName = regexp.MustCompile(`^\d\d-[a-z-]+\.png$`)

// checkScreenshots checks admin.mjs's screenshots (PNG, 1280 pixels wide)
// and returns their paths.
func checkScreenshots(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("screenshots: %v", err)
		return nil
	}
	var shots []string
	for _, e := range entries {
		if !shotName.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		w, h, err := pngSize(p)
		if err != nil || w != 1280 || h < 400 {
			t.Errorf("screenshot %s: %dx%d %v; want a PNG 1280 pixels wide", p, w, h, err)
		}
		shots = append(shots, p)
	}
	have := map[string]bool{} // 03-call.png → call
	for _, p := range shots {
		have[strings.TrimSuffix(filepath.Base(p)[3:], ".png")] = true
	}
	for _, page := range []string{"login", "dashboard", "calls", "call", "unanswered", "group", "group-assigned", "script", "health", "dashboard-zh"} {
		if !have[page] {
			t.Errorf("no screenshot of the %s page in %s", page, dir)
		}
	}
	return shots
}

// pngSize reads a PNG's width and height from its IHDR chunk.
func pngSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var hdr [24]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0, 0, err
	}
	if string(hdr[:8]) != "\x89PNG\r\n\x1a\n" || string(hdr[12:16]) != "IHDR" {
		return 0, 0, errors.New("not a PNG file")
	}
	return int(binary.BigEndian.Uint32(hdr[16:])), int(binary.BigEndian.Uint32(hdr[20:])), nil
}

// copyScreenshots copies the screenshots and the page weights to dest (a
// relative path is taken from the module root, where `go test ./e2e/` is
// run, not from e2e/), replacing the screenshots a previous run left.
func copyScreenshots(t *testing.T, shots []string, weights, dest string) {
	t.Helper()
	if !filepath.IsAbs(dest) {
		dest = filepath.Join("..", dest)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Error(err)
		return
	}
	old, _ := os.ReadDir(dest)
	for _, e := range old {
		if shotName.MatchString(e.Name()) || strings.HasPrefix(e.Name(), "FAILED-") {
			_ = os.Remove(filepath.Join(dest, e.Name()))
		}
	}
	var copied []string
	for _, p := range append(slices.Clone(shots), weights) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			continue
		}
		to := filepath.Join(dest, filepath.Base(p))
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Error(err)
			continue
		}
		abs, _ := filepath.Abs(to)
		copied = append(copied, abs)
	}
	t.Logf("copied to HOTLINE_SCREENSHOTS:\n  %s", strings.Join(copied, "\n  "))
}
