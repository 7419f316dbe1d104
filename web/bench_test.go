package web

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchCalls is how many calls the benchmarks' store holds.
const benchCalls = 100000

// seedCalls inserts n ended calls in one statement, straight into the
// SQLite file (StartCall and EndCall one by one would take minutes): one
// every 26 s going back from t0 (a month for 100,000), outcomes cycling
// through five, grades through three, 5,000 callers.
func seedCalls(b *testing.B, f *fixture, n int) {
	db, err := sql.Open("sqlite", filepath.Join(f.data, "hotline.db")+"?_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := t0.Add(-time.Duration(n) * 26 * time.Second).UnixMicro()
	_, err = db.ExecContext(context.Background(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO calls (id, instance, caller, caller_hash, called, script, language, started_at, answered_at, ended_at,
			outcome, grade, tags, path, node, vars, turns)
		SELECT printf('seed-%06d@pbx', i), 'bench', printf('+86138%08d', i % 5000), printf('h:%016x', i % 5000), '4008001234',
			'zh-shop', 'zh-CN', ? + i * 26000000, ? + i * 26000000 + 300000, ? + i * 26000000 + 95000000,
			CASE i % 5 WHEN 0 THEN 'resolved' WHEN 1 THEN 'transferred' WHEN 2 THEN 'abandoned' WHEN 3 THEN 'resolved' ELSE 'message_left' END,
			CASE i % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'C' END,
			'["order"]', '["welcome","order_status","anything_else"]', 'anything_else', '{"order":"2026030112345"}', 10
		FROM n`, n, start, start, start)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAPICalls100k: GET /api/calls (with its total) and the pages
// that list calls, over 100,000 calls in SQLite, through the whole handler
// (bearer token or session, JSON or HTML).
func BenchmarkAPICalls100k(b *testing.B) {
	f := newFixture(b)
	seedCalls(b, f, benchCalls)
	br := f.browser()
	for _, bc := range []struct{ name, path string }{
		{"page1", "/api/calls"},
		{"page1_limit1000", "/api/calls?limit=1000"},
		{"filtered_outcome_grade_7d", "/api/calls?outcome=transferred&grade=B&since=7d"},
		{"filtered_number", "/api/calls?number=%2B8613800001234"},
		{"html_calls_page1", "/calls"},
		{"html_dashboard", "/"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var hdr map[string]string
			var c *http.Cookie
			if strings.HasPrefix(bc.path, "/api/") {
				hdr = bearer(testToken)
			} else {
				c = br.cookie
			}
			for b.Loop() {
				w := f.request("GET", bc.path, nil, hdr, c)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
