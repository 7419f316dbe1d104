package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "hotline.db") })
}

func TestPostgres(t *testing.T) {
	u := storetest.URL(t)
	runSuite(t, func(t *testing.T) string { return storetest.Schema(t, u) })
}

func TestSQLiteFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "sub")
	s, err := store.OpenDir(ctx, dir, store.Options{Instance: "x"})
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, s, newCall("c1", base))
	path := filepath.Join(dir, "hotline.db")
	// Call records hold phone numbers: the database and its WAL are private.
	for _, f := range []string{path, path + "-wal"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatalf("%v (WAL mode should keep a -wal file while open)", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v %v", fi.Mode().Perm(), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The same file through the "sqlite:" prefix.
	s2 := open(t, "sqlite:"+path)
	mustCall(t, s2, "c1")

	for _, bad := range []string{"", ":memory:", filepath.Join(t.TempDir(), "a?b.db")} {
		if s, err := store.Open(ctx, bad, store.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", bad)
		}
	}
}

func TestOpenPostgresURLIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, dsn := range []string{"postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"} {
		s, err := store.Open(ctx, dsn, store.Options{})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) with no server: no error", dsn)
		}
		if !strings.Contains(err.Error(), "postgres") {
			t.Errorf("Open(%q): %v", dsn, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a postgres URL created files: %v", entries)
	}
}
