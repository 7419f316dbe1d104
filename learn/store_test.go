package learn

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotline-dev/hotline/store"
)

// backends runs fn against a fresh SQLite store and, when
// HOTLINE_TEST_POSTGRES is set, a fresh PostgreSQL schema (required when
// CI=true, as in the store's own tests).
func backends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := store.OpenDir(context.Background(), filepath.Join(t.TempDir(), "data"), store.Options{Instance: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := os.Getenv("HOTLINE_TEST_POSTGRES")
		if u == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("HOTLINE_TEST_POSTGRES is not set and CI=true: CI must run the PostgreSQL tests " +
					"(`export HOTLINE_TEST_POSTGRES=$(./.ci/postgres)` starts a local server and prints its URL)")
			}
			t.Skip("HOTLINE_TEST_POSTGRES is not set: skipping the PostgreSQL tests " +
				"(`export HOTLINE_TEST_POSTGRES=$(./.ci/postgres)` starts a local server and prints its URL)")
		}
		st, err := store.Open(context.Background(), postgresSchema(t, u), store.Options{Instance: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

var schemaSeq atomic.Int64

// postgresSchema creates an empty schema for one test, dropped after it, and
// returns the server URL with search_path set to it.
func postgresSchema(t *testing.T, base string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("HOTLINE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("hotline_learn_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// countingStore is a real store that counts the grouper's reads of the open groups.
type countingStore struct {
	store.Store
	candidates atomic.Int64
}

func (c *countingStore) CandidateGroups(ctx context.Context, language string, limit int) ([]store.Group, error) {
	c.candidates.Add(1)
	return c.Store.CandidateGroups(ctx, language, limit)
}
