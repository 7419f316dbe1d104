package store_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotline-dev/hotline/store"
)

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "hotline.db") })
}

func TestPostgres(t *testing.T) {
	u := postgresURL(t)
	runSuite(t, func(t *testing.T) string { return postgresSchema(t, u) })
}

// postgresURL is the test server's URL from HOTLINE_TEST_POSTGRES. Without
// it the PostgreSQL tests skip, except in CI, which must run them.
func postgresURL(tb testing.TB) string {
	u := os.Getenv("HOTLINE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("HOTLINE_TEST_POSTGRES is not set and CI=true: CI must run the PostgreSQL tests " +
				"(`export HOTLINE_TEST_POSTGRES=$(./.ci/postgres)` starts a local server and prints its URL)")
		}
		tb.Skip("HOTLINE_TEST_POSTGRES is not set: skipping the PostgreSQL tests " +
			"(`export HOTLINE_TEST_POSTGRES=$(./.ci/postgres)` starts a local server and prints its URL)")
	}
	return u
}

var schemaSeq atomic.Int64

// postgresSchema creates an empty schema for one test, dropped after it,
// and returns the server URL with search_path set to it: each test sees a
// fresh database, and tests run in parallel on one server.
func postgresSchema(tb testing.TB, base string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("HOTLINE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("hotline_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
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
