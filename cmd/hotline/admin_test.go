package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/web"
)

// TestAdminMount: /healthz needs no login; without admin users the other
// paths are not served; with one, they ask for a login.
func TestAdminMount(t *testing.T) {
	report := func() map[string]any { return map[string]any{"status": "ok"} }
	off := httpHandler(report, nil, nil)
	for path, want := range map[string]int{"/healthz": 200, "/": 404, "/api/calls": 404} {
		rec := httptest.NewRecorder()
		off.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("no admin users: GET %s = %d, want %d", path, rec.Code, want)
		}
	}

	dir := t.TempDir()
	st, err := store.OpenDir(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hash, err := web.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultServeConfig()
	cfg.Data = dir
	cfg.Script = filepath.Join("..", "..", "examples", "en-utility", "script.yaml")
	cfg.Admin.Users = map[string]string{"alice": hash}
	ls, err := loadScript(cfg.Script)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := adminHandler(cfg, st, privacy.NumberPolicy{}, func() *loadedScript { return &ls },
		liveSource{calls: newLiveCalls(), health: func() any { return report() }}, &reloadLog{},
		func() error { return nil }, discardLogger())
	if err != nil || admin == nil {
		t.Fatalf("admin handler: %v %v", admin, err)
	}
	on := httpHandler(report, nil, admin)
	rec := httptest.NewRecorder()
	on.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("/healthz = %d with the admin pages on", rec.Code)
	}
	rec = httptest.NewRecorder()
	on.ServeHTTP(rec, httptest.NewRequest("GET", "/api/calls", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/calls without a login = %d, want 401", rec.Code)
	}
	rec = httptest.NewRecorder()
	on.ServeHTTP(rec, httptest.NewRequest("GET", "/calls", nil))
	if rec.Code/100 != 3 || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Errorf("GET /calls without a login = %d → %q, want a redirect to /login", rec.Code, rec.Header().Get("Location"))
	}
}

func TestReloadLogKeepsTheLatest(t *testing.T) {
	var l reloadLog
	for i := range 60 {
		l.add(web.Reload{At: time.Unix(int64(i), 0), OK: true})
	}
	got := l.recent()
	if len(got) != 50 || got[0].At.Unix() != 59 || got[49].At.Unix() != 10 {
		t.Errorf("%d reloads, newest %v, oldest %v", len(got), got[0].At.Unix(), got[len(got)-1].At.Unix())
	}
}

func TestPasswdCommand(t *testing.T) {
	var out bytes.Buffer
	cmd := newPasswdCmd()
	cmd.SetArgs([]string{"alice"})
	cmd.SetIn(strings.NewReader("correct horse battery\n"))
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice: \"$argon2id$") {
		t.Errorf("output:\n%s", out.String())
	}
	cmd = newPasswdCmd()
	cmd.SetArgs([]string{"bob"})
	cmd.SetIn(strings.NewReader("short\n"))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil {
		t.Error("a 5-character password was hashed")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
