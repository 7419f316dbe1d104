package learn

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
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
		st, err := store.Open(context.Background(), storetest.New(t), store.Options{Instance: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
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
