// Package storetest gives a test a PostgreSQL database of its own: a fresh
// schema on the server named by HOTLINE_TEST_POSTGRES, dropped after the
// test, so tests run in parallel on one server. Without the variable the
// test skips, except when CI=true: CI must run the PostgreSQL tests
// (`export HOTLINE_TEST_POSTGRES=$(./.ci/postgres)` starts a local server
// and prints its URL).
package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URL is the test server's URL from HOTLINE_TEST_POSTGRES; without it the
// test skips, or fails under CI=true.
func URL(tb testing.TB) string {
	tb.Helper()
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

var seq atomic.Int64

// Schema creates an empty schema on base for one test, dropped after it,
// and returns base with search_path set to it.
func Schema(tb testing.TB, base string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("HOTLINE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("hotline_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
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

// New is URL then Schema: a fresh database for this test, or a skip.
func New(tb testing.TB) string {
	tb.Helper()
	return Schema(tb, URL(tb))
}
