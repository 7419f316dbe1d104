package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var pgDialect = dialect{
	name: "postgres",
	ts: func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return micros(t).UTC()
	},
	avgMicros: func(a, b string) string {
		return "AVG(EXTRACT(EPOCH FROM (" + b + " - " + a + ")) * 1000000)::float8"
	},
	// Several connections may append to one call at once: updating the
	// call's turn_seq takes its row lock, and READ COMMITTED re-reads the
	// row after the lock is granted, so each append gets the next number.
	// A missing call updates nothing, inserts nothing (ErrNotFound).
	addTurn: `WITH s AS (
		UPDATE calls SET turn_seq = CASE WHEN ?::int > 0 THEN GREATEST(turn_seq, ?::int) ELSE turn_seq + 1 END
		WHERE id = ? RETURNING id, turn_seq)
		INSERT INTO turns (` + turnColList + `)
		SELECT s.id, CASE WHEN ?::int > 0 THEN ?::int ELSE s.turn_seq END, ?::timestamptz, ?::bigint, ?::text,
		?::text, ?::text, ?::text, ?::text, ?::float8, ?::float8, ?::text, ?::text
		FROM s
		ON CONFLICT (call_id, seq) DO UPDATE SET ` + assignments(turnCols[2:], "= excluded.") + `
		RETURNING seq`,
	addTurnArgs: func(t Turn, at any) []any {
		return []any{t.Seq, t.Seq, t.CallID, t.Seq, t.Seq, at, t.Offset.Microseconds(), t.Speaker, t.Text, t.Input,
			t.Intent, t.Tier, t.Score, t.Confidence, t.Outcome, t.Node}
	},
}

type pgBackend struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, dsn string, opt Options) (Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres URL: %w", err)
	}
	switch {
	case opt.MaxConns > 0:
		cfg.MaxConns = int32(opt.MaxConns)
	case !strings.Contains(dsn, "pool_max_conns"):
		// pgxpool's default (max(4, cores)) queues 100 concurrent calls
		// behind 4 connections; beyond ~16 a 2-core server only thrashes.
		cfg.MaxConns = 16
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hotline"
	}
	// As SQLite's synchronous=NORMAL: a commit does not wait for its WAL
	// flush, so a crash of the server (not of hotline) can lose the last
	// fraction of a second of writes, never consistency. Waiting for the
	// flush made every event of every call wait for the disk. The URL can
	// ask for synchronous_commit=on.
	if _, ok := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; !ok {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := migratePostgres(ctx, pool, opt); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: migrate postgres: %w", err)
	}
	opt.Logger.Debug("store: opened PostgreSQL", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database)
	return &core{b: &pgBackend{pool: pool}, d: pgDialect, opt: opt, log: opt.Logger}, nil
}

// migratePostgres applies the migrations under a session advisory lock, so
// that hotline instances starting together on one database (or schema)
// migrate one after another instead of racing on CREATE TABLE.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, opt Options) (err error) {
	ms, err := loadMigrations("postgres")
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const key = "hashtext('hotline.store.migrate:' || COALESCE(current_schema(), ''))"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		return err
	}
	defer func() {
		// Unlock even when ctx is done; a connection that cannot unlock is
		// closed, which releases its session locks.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock("+key+")"); uerr != nil {
			conn.Conn().Close(uctx)
			err = errors.Join(err, uerr)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var applied int
	if err := conn.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&applied); err != nil {
		return err
	}
	if err := checkNewer(applied, ms); err != nil {
		return err
	}
	for _, m := range ms {
		var n int
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return err
		}
		opt.Logger.Info("store: applied migration", "dialect", "postgres", "migration", m.name)
	}
	return nil
}

// pgRunner is what *pgxpool.Pool and pgx.Tx have in common.
type pgRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgQuerier struct{ r pgRunner }

// rebinds caches the ?→$n translation of the (few, constant) query texts.
var rebinds sync.Map

// rebind turns the ? placeholders that core writes into PostgreSQL's $1, $2…
// (no query of ours has a ? inside a literal).
func rebind(q string) string {
	if v, ok := rebinds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	out := b.String()
	if !strings.Contains(q, " IN (") {
		// IN lists vary in length; caching each shape would grow without bound.
		rebinds.Store(q, out)
	}
	return out
}

func (q pgQuerier) exec(ctx context.Context, s string, args ...any) (int64, error) {
	tag, err := q.r.Exec(ctx, rebind(s), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q pgQuerier) query(ctx context.Context, s string, args ...any) (rows, error) {
	rs, err := q.r.Query(ctx, rebind(s), args...)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (q pgQuerier) queryRow(ctx context.Context, s string, args ...any) row {
	return pgRow{q.r.QueryRow(ctx, rebind(s), args...)}
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func (b *pgBackend) reader() querier { return pgQuerier{b.pool} }
func (b *pgBackend) writer() querier { return pgQuerier{b.pool} }

// inTx retries a transaction that PostgreSQL aborted to break a deadlock
// (two instances purging overlapping calls, say): it did nothing, and the
// retry will most likely pass.
func (b *pgBackend) inTx(ctx context.Context, fn func(querier) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") {
			return err
		}
	}
	return err
}

func (b *pgBackend) size(ctx context.Context) (int64, error) {
	var n int64
	err := b.pool.QueryRow(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = current_schema() AND c.relkind = 'r'
		AND c.relname IN ('calls', 'turns', 'questions', 'question_groups', 'schema_migrations')`).Scan(&n)
	return n, err
}

func (b *pgBackend) ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *pgBackend) close() error {
	b.pool.Close()
	return nil
}
