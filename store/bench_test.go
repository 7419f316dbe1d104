package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storebench"
	"github.com/hotline-dev/hotline/store/storetest"
)

// BenchmarkWriteEvents_*: b.N simulated calls, 100 at a time, each writing
// StartCall, 10 AddTurn, 3 UpdateCall and EndCall. ns/op is wall time per
// call; the metrics are per event.
func BenchmarkWriteEvents_SQLite(b *testing.B) {
	benchWrites(b, func(b *testing.B) string { return filepath.Join(b.TempDir(), "hotline.db") })
}

func BenchmarkWriteEvents_Postgres(b *testing.B) {
	u := storetest.URL(b)
	benchWrites(b, func(b *testing.B) string { return storetest.Schema(b, u) })
}

func benchWrites(b *testing.B, newDSN func(b *testing.B) string) {
	ctx := context.Background()
	s, err := store.Open(ctx, newDSN(b), store.Options{Instance: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	r, err := storebench.Run(ctx, s, storebench.Config{Calls: b.N, Concurrency: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
	b.ReportMetric(r.EventsPerSecond(), "events/s")
	if b.N >= 1000 { // below that, page granularity dominates
		b.ReportMetric(r.BytesPer1000Calls(), "bytes/1000calls")
	}
}

// BenchmarkListCalls_*: ListCalls (with its Total) over 100,000 calls.
func BenchmarkListCalls_SQLite(b *testing.B) {
	benchList(b, filepath.Join(b.TempDir(), "hotline.db"))
}

func BenchmarkListCalls_Postgres(b *testing.B) {
	benchList(b, storetest.New(b))
}

const seedCalls = 100000

// seed inserts seedCalls ended calls in one statement (StartCall one by one
// would take minutes): two per second of start time, so pages have ties;
// outcomes cycle through five; 5,000 distinct callers.
func seed(b *testing.B, s store.Store) {
	ctx := context.Background()
	var q string
	if store.DialectName(s) == "sqlite" {
		q = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO calls (id, instance, caller, caller_hash, called, script, language, started_at, answered_at, ended_at,
			outcome, grade, tags, path, node, vars, turns)
		SELECT printf('seed-%06d@pbx', i), 'bench', printf('+86138%08d', i % 5000), printf('h%d', i % 5000), '4008001234',
			'zh-shop', 'zh-CN', ? + (i / 2) * 1000000, ? + (i / 2) * 1000000 + 300000, ? + (i / 2) * 1000000 + 95000000,
			CASE i % 5 WHEN 0 THEN 'resolved' WHEN 1 THEN 'transferred' WHEN 2 THEN 'abandoned' WHEN 3 THEN 'resolved' ELSE 'message_left' END,
			CASE i % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'C' END,
			'["order"]', '["welcome","order_status","anything_else"]', 'anything_else', '{"order":"2026030112345"}', 10
		FROM n`
		start := base.UnixMicro()
		if _, err := store.ExecRaw(ctx, s, q, seedCalls, start, start, start); err != nil {
			b.Fatal(err)
		}
	} else {
		q = `INSERT INTO calls (id, instance, caller, caller_hash, called, script, language, started_at, answered_at, ended_at,
			outcome, grade, tags, path, node, vars, turns)
		SELECT format('seed-%s@pbx', lpad(i::text, 6, '0')), 'bench', format('+86138%s', lpad((i % 5000)::text, 8, '0')),
			format('h%s', i % 5000), '4008001234', 'zh-shop', 'zh-CN',
			?::timestamptz + (i / 2) * interval '1 second', ?::timestamptz + (i / 2) * interval '1 second' + interval '300 ms',
			?::timestamptz + (i / 2) * interval '1 second' + interval '95 s',
			CASE i % 5 WHEN 0 THEN 'resolved' WHEN 1 THEN 'transferred' WHEN 2 THEN 'abandoned' WHEN 3 THEN 'resolved' ELSE 'message_left' END,
			CASE i % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'C' END,
			'["order"]', '["welcome","order_status","anything_else"]', 'anything_else', '{"order":"2026030112345"}', 10
		FROM generate_series(1, ?::int) i`
		if _, err := store.ExecRaw(ctx, s, q, base, base, base, seedCalls); err != nil {
			b.Fatal(err)
		}
		// As autovacuum would soon after such a load.
		if _, err := store.ExecRaw(ctx, s, "VACUUM ANALYZE calls"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchList(b *testing.B, dsn string) {
	ctx := context.Background()
	s, err := store.Open(ctx, dsn, store.Options{Instance: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Now()
	seed(b, s)
	b.Logf("seeded %d calls in %v", seedCalls, time.Since(t0).Round(time.Millisecond))
	// The call at position 90,000 of 100,000, newest first.
	i := seedCalls - 90000
	deep := store.EncodeCursor(base.Add(time.Duration(i/2)*time.Second), fmt.Sprintf("seed-%06d@pbx", i))
	for _, bc := range []struct {
		name string
		f    store.CallFilter
		n    int // calls expected on the page
	}{
		{"page1", store.CallFilter{}, 50},
		{"deep", store.CallFilter{Cursor: deep}, 50},
		{"outcome", store.CallFilter{Outcome: []string{"transferred"}}, 50},
		{"outcome-deep", store.CallFilter{Outcome: []string{"transferred"}, Cursor: deep}, 50},
		{"number", store.CallFilter{Number: "+8613800001234"}, 20},
		{"since-day", store.CallFilter{Since: base.Add(12 * time.Hour), Until: base.Add(13 * time.Hour), Limit: 100}, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				p, err := s.ListCalls(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Calls) != bc.n {
					b.Fatalf("%d calls on the page, want %d", len(p.Calls), bc.n)
				}
			}
		})
	}
}
