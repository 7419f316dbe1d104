// Command store measures hotline's call-record store: many concurrent
// simulated calls, each writing StartCall, 10 AddTurn, 3 UpdateCall and
// EndCall, and prints a Markdown table of per-event latency, throughput and
// database growth. The same simulation runs as BenchmarkWriteEvents_* in
// store.
//
//	go run ./bench/store                                   # SQLite in a temporary directory
//	go run ./bench/store -db /var/lib/hotline/bench.db -calls 1000 -concurrency 100
//	go run ./bench/store -db "$(.ci/postgres)" -think 20ms # PostgreSQL, in a scratch schema
//
// -db may be given more than once: one row each. A PostgreSQL URL is
// measured in a scratch schema that is dropped afterwards (-keep keeps it);
// a SQLite path must not exist yet unless -keep is given, so that the
// bytes per call are those of this run.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storebench"
)

type dbList []string

func (d *dbList) String() string     { return strings.Join(*d, ",") }
func (d *dbList) Set(v string) error { *d = append(*d, v); return nil }

func main() {
	var dbs dbList
	flag.Var(&dbs, "db", "SQLite path or postgres:// URL (repeatable; default: SQLite in a temporary directory)")
	calls := flag.Int("calls", 1000, "simulated calls")
	conc := flag.Int("concurrency", 100, "calls in progress at once")
	think := flag.Duration("think", 0, "pause before each event of a call (0: as fast as the store takes them)")
	keep := flag.Bool("keep", false, "keep the data written (PostgreSQL: no scratch schema)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench/store [-db DSN]... [-calls N] [-concurrency N] [-think D] [-keep]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || *calls <= 0 || *conc <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if len(dbs) == 0 {
		dir, err := os.MkdirTemp("", "hotline-bench-store-")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
		dbs = append(dbs, filepath.Join(dir, "hotline.db"))
	}
	fmt.Println("| backend | calls | concurrency | think | events | events/s | p50 per event | p99 per event | max | bytes / 1,000 calls |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, dsn := range dbs {
		r, name, err := run(dsn, *calls, *conc, *think, *keep)
		if err != nil {
			fatal(err)
		}
		fmt.Printf("| %s | %d | %d | %v | %d | %.0f | %s | %s | %s | %.0f |\n", name, r.Calls, *conc, *think, r.Events,
			r.EventsPerSecond(), us(r.P50), us(r.P99), us(r.Max), r.BytesPer1000Calls())
	}
}

func run(dsn string, calls, conc int, think time.Duration, keep bool) (storebench.Result, string, error) {
	ctx := context.Background()
	name := "SQLite"
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		name = "PostgreSQL"
		if !keep {
			scratch, drop, err := scratchSchema(ctx, dsn)
			if err != nil {
				return storebench.Result{}, name, err
			}
			defer drop()
			dsn = scratch
		}
	} else if _, err := os.Stat(strings.TrimPrefix(dsn, "sqlite:")); err == nil && !keep {
		return storebench.Result{}, name, fmt.Errorf("%s exists: give a new path, or -keep to add to it", dsn)
	}
	s, err := store.Open(ctx, dsn, store.Options{Instance: "bench"})
	if err != nil {
		return storebench.Result{}, name, err
	}
	defer s.Close()
	r, err := storebench.Run(ctx, s, storebench.Config{Calls: calls, Concurrency: conc, Think: think,
		Prefix: fmt.Sprintf("bench-%d-", time.Now().UnixNano())})
	return r, name, err
}

// scratchSchema creates an empty schema and returns the URL that uses it.
func scratchSchema(ctx context.Context, dsn string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("hotline_bench_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintln(os.Stderr, "bench/store: dropping", schema+":", err)
		}
		conn.Close(context.Background())
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

func us(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/store:", err)
	os.Exit(1)
}
