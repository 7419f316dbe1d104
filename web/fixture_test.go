package web

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

// t0 is "now" in the tests: a Friday morning.
var t0 = time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

// cheap argon2id parameters, so that logins in the tests (with -race) take
// microseconds; the hash format and the code path are the real ones.
var cheapArgon = argonParams{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}

const (
	alicePassword = "correct horse battery staple"
	testToken     = "hl_test-token-0123456789abcdef0123456789abcdef"
	xss           = `<script>alert(1)</script> "quoted" it's`
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fakeLive struct{ calls []LiveCall }

func (l *fakeLive) Calls() []LiveCall { return l.calls }
func (l *fakeLive) Health() any {
	return map[string]any{"status": "ok", "version": "test-1", "active_calls": len(l.calls),
		"sip":           map[string]any{"listeners": []string{"udp:127.0.0.1:5060"}, "note": xss},
		"registrations": []any{}, "asr": map[string]any{"backend": "none"}, "store": map[string]any{"db_bytes": 1600000}}
}

type fixture struct {
	t       testing.TB
	st      store.Store
	srv     *server
	h       http.Handler
	data    string
	script  string // the copy of examples/en-utility/script.yaml
	clock   *clock
	reloads atomic.Int32
	cur     atomic.Pointer[dialog.Script]
	hist    []Reload
	histMu  sync.Mutex
	groups  map[string]int64 // question text → group ID
}

type fixtureOpt func(*Config)

func newFixture(t testing.TB, opts ...fixtureOpt) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, data: filepath.Join(t.TempDir(), "data"), clock: &clock{t: t0}, groups: map[string]int64{}}
	st, err := store.OpenDir(ctx, f.data, store.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.script = copyExample(t, "en-utility")
	sc, err := dialog.LoadFile(f.script)
	if err != nil {
		t.Fatal(err)
	}
	f.cur.Store(sc)
	pw, err := hashPassword(alicePassword, cheapArgon)
	if err != nil {
		t.Fatal(err)
	}
	grouper := learn.NewGrouper(learn.GrouperOptions{})
	cfg := Config{
		Store:      st,
		Inbox:      &learn.Inbox{Store: st, Grouper: grouper},
		Script:     func() *dialog.Script { return f.cur.Load() },
		ScriptPath: f.script,
		Live: &fakeLive{calls: []LiveCall{{ID: "live-1@pbx", Caller: "+861******8000", Node: "billing",
			Started: t0.Add(-95 * time.Second)}}},
		Reloads: func() []Reload {
			f.histMu.Lock()
			defer f.histMu.Unlock()
			return append([]Reload(nil), f.hist...)
		},
		Reload:   f.reload,
		Users:    map[string]string{"alice": pw},
		Tokens:   map[string]string{"ci": HashToken(testToken)},
		DataDir:  f.data,
		Version:  "v-test",
		Now:      f.clock.now,
		Location: time.UTC,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.srv = h.(*server)
	f.seed(grouper)
	return f
}

func (f *fixture) reload() error {
	f.reloads.Add(1)
	sc, err := dialog.LoadFile(f.script)
	r := Reload{At: f.clock.now(), Trigger: "admin", OK: err == nil}
	if err != nil {
		r.Errors = []string{err.Error()}
	} else {
		r.Version = sc.Version
		f.cur.Store(sc)
	}
	f.histMu.Lock()
	f.hist = append(f.hist, r)
	f.histMu.Unlock()
	return err
}

// copyExample copies examples/NAME into a temporary folder and returns its script.
func copyExample(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join("..", "examples", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "script.yaml")
}

// recordingBytes is the content of the test recording: not a real WAV,
// but bytes whose ranges can be checked.
var recordingBytes = func() []byte {
	b := make([]byte, 10000)
	for i := range b {
		b[i] = byte(i * 7)
	}
	copy(b, "RIFF")
	return b
}()

// seed fills the store through its API: 40 ordinary calls (outcomes and
// grades cycling, two callers), a detailed call with a recording and
// turns, calls with crafted recording paths, and unanswered questions.
func (f *fixture) seed(g *learn.Grouper) {
	t := f.t
	ctx := context.Background()
	outcomes := []string{store.OutcomeResolved, store.OutcomeTransferred, store.OutcomeAbandoned, store.OutcomeResolved}
	grades := []string{"A", "B", "C", ""}
	for i := range 40 {
		start := t0.Add(-time.Duration(i) * 37 * time.Minute)
		c := store.Call{ID: "call-" + twoDigits(i) + "@10.0.0.5", Caller: []string{"+447700900123", "+8613800138000"}[i%2],
			CallerHash: []string{"h:aaaaaaaaaaaaaaaa", "h:bbbbbbbbbbbbbbbb"}[i%2],
			Called:     "+442079460000", Script: "northwind-energy", StartedAt: start, AnsweredAt: start.Add(400 * time.Millisecond),
			EndedAt: start.Add(time.Minute), Outcome: outcomes[i%4], Grade: grades[i%4], Path: []string{"welcome"}, Node: "welcome"}
		if err := f.st.EndCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// The detailed call.
	start := t0.Add(-90 * time.Minute)
	rec := "recordings/2026-11-27/detail.wav"
	if err := os.MkdirAll(filepath.Join(f.data, "recordings", "2026-11-27"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.data, filepath.FromSlash(rec)), recordingBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	detail := store.Call{ID: "detail@10.0.0.5", Caller: "+861******8000", CallerHash: "h:e24c5abe614b783e", Called: "+442079460000",
		Script: "northwind-energy", ScriptVersion: "6711e0fb2e14", Language: "en-GB", StartedAt: start,
		AnsweredAt: start.Add(400 * time.Millisecond), EndedAt: start.Add(102 * time.Second), Outcome: store.OutcomeTransferred,
		EndReason: "bye", Grade: "B", Tags: []string{"outage", xss}, Path: []string{"welcome", "outage", "agent"}, Node: "agent",
		Vars: map[string]any{"account": "40118822", "note": xss}, TransferTarget: "sip:queue@pbx.example", TransferMode: "blind",
		TransferResult: "answered", TransferCode: 200, Recording: rec, Turns: 5, NoMatch: 1,
		Talk: 4200 * time.Millisecond, TalkSpurts: 3}
	if err := f.st.StartCall(ctx, detail); err != nil {
		t.Fatal(err)
	}
	turns := []store.Turn{
		{Speaker: "bot", Text: "Hello, you've reached Northwind Energy. This call is recorded.", Node: "welcome", Offset: 400 * time.Millisecond},
		{Speaker: "caller", Text: "my power is off", Input: "speech", Intent: "outage", Tier: "keyword", Score: 1, Confidence: 0.9, Outcome: "matched", Node: "welcome", Offset: 7900 * time.Millisecond},
		{Speaker: "caller", Text: "40118822#", Input: "dtmf", Outcome: "collected", Node: "outage", Confidence: -1, Offset: 15 * time.Second},
		{Speaker: "caller", Text: xss, Input: "speech", Intent: "billing", Score: 0.41, Confidence: 0.8, Outcome: "no_match", Node: "outage", Offset: 21 * time.Second},
		{Speaker: "bot", Text: "Transferring you to a colleague.", Node: "agent", Offset: 24 * time.Second},
	}
	for _, tu := range turns {
		tu.CallID = detail.ID
		tu.At = start.Add(tu.Offset)
		if _, err := f.st.AddTurn(ctx, tu); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.EndCall(ctx, detail); err != nil {
		t.Fatal(err)
	}
	// Crafted rows: recordings outside the data directory.
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("root:x:0:0:secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(f.data, "recordings", "link.wav")); err != nil {
		t.Fatal(err)
	}
	for id, path := range map[string]string{"evil-dotdot": "../../etc/passwd", "evil-abs": "/etc/passwd",
		"evil-outside": "../" + filepath.Base(filepath.Dir(outside)) + "/secret.txt", "evil-link": "recordings/link.wav",
		"evil-dir": "recordings", "norec": "", "slash/id?x#y@host": rec} {
		c := store.Call{ID: id, Caller: "+10000000000", StartedAt: t0.Add(-3 * time.Hour), EndedAt: t0.Add(-3*time.Hour + time.Minute),
			Outcome: store.OutcomeResolved, Recording: path}
		if err := f.st.EndCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Unanswered questions, grouped as the server groups them.
	snippet := "snippets/2026-11-27/detail-1.wav"
	if err := os.MkdirAll(filepath.Join(f.data, "snippets", "2026-11-27"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.data, filepath.FromSlash(snippet)), recordingBytes[:2000], 0o644); err != nil {
		t.Fatal(err)
	}
	for i, q := range []store.Question{
		{Text: "when do you shut", Intent: "opening_hours", Score: 0.4, Audio: snippet, CallID: detail.ID, Node: "welcome"},
		{Text: "what time do you shut", Intent: "opening_hours", Score: 0.42, Node: "welcome"},
		{Text: "do you install solar panels", Node: "welcome"},
		{Text: xss, Node: "outage", Audio: "../../etc/passwd"},
		{Text: "is there parking at your office", Node: "welcome"},
	} {
		q.Language = "en-GB"
		q.At = t0.Add(-time.Duration(50-i) * time.Minute)
		got, err := g.Add(ctx, f.st, q)
		if err != nil {
			t.Fatal(err)
		}
		f.groups[q.Text] = got.GroupID
	}
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

// request makes a request as a browser of this site would (Host
// example.com, same-origin Origin on POSTs unless hdr says otherwise).
func (f *fixture) request(method, target string, body io.Reader, hdr map[string]string, c *http.Cookie) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.10:5555"
	if method == http.MethodPost {
		r.Header.Set("Origin", "http://example.com")
	}
	for k, v := range hdr {
		if k == "RemoteAddr" {
			r.RemoteAddr = v
			continue
		}
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func form(kv ...string) io.Reader {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode())
}

var formHdr = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// browser is a logged-in browser.
type browser struct {
	cookie *http.Cookie
	csrf   string
}

func (f *fixture) login(user, pw string) *httptest.ResponseRecorder {
	return f.request(http.MethodPost, "/login", form("user", user, "password", pw, "next", "/calls"), formHdr, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser logs alice in and reads the CSRF token off a page.
func (f *fixture) browser() browser {
	f.t.Helper()
	w := f.login("alice", alicePassword)
	if w.Code != http.StatusSeeOther {
		f.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var c *http.Cookie
	for _, ck := range w.Result().Cookies() {
		if ck.Name == f.srv.sessionCookie() {
			c = ck
		}
	}
	if c == nil {
		f.t.Fatal("login set no session cookie")
	}
	w = f.request(http.MethodGet, "/", nil, nil, c)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if w.Code != 200 || m == nil {
		f.t.Fatalf("dashboard after login: %d, CSRF token found: %v", w.Code, m != nil)
	}
	return browser{cookie: c, csrf: m[1]}
}

func (f *fixture) get(path string, s browser) *httptest.ResponseRecorder {
	return f.request(http.MethodGet, path, nil, nil, s.cookie)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("JSON: %v\n%s", err, w.Body)
	}
	return v
}
