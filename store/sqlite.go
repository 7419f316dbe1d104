package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLite: one writer connection and a pool of readers on one WAL file.
//
// SQLite allows one writer at a time. With several write connections,
// concurrent writers queue inside SQLite on busy_timeout and can still fail
// with SQLITE_BUSY (a deferred transaction upgrading to write cannot wait);
// with exactly one, they queue in database/sql, in Go, honouring each
// caller's context, and never see BUSY. WAL lets the readers read while the
// writer writes. synchronous=NORMAL in WAL mode does not fsync on every
// commit: a committed transaction survives a crash (kill -9) of the process,
// and only a power loss can take back the last few.
//
// The writer does not checkpoint by itself (wal_autocheckpoint 0): a
// checkpoint syncs the WAL and the database file, and on the writer it held
// every call's next write behind those fsyncs (bench/results/store.md). A
// goroutine checkpoints in the background instead, on its own connection,
// concurrently with the writer.
const (
	sqliteWriterParams = "_busy_timeout=10000&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate" +
		"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_pragma=analysis_limit(1000)"
	sqliteCheckpointParams = "_busy_timeout=10000&_synchronous=NORMAL"
	sqliteReaderParams     = "_busy_timeout=10000&_query_only=1"

	checkpointEvery = 200 * time.Millisecond
	// The WAL starts over from its beginning when a write finds it all
	// copied into the database, which a load that never pauses prevents.
	// Past this many frames (of a 4 KiB page) the checkpoint is finished on
	// the writer connection, between two writes; the background one has
	// already copied all but the last moments, so it is short.
	walRestartFrames = 16384
)

var sqliteDialect = dialect{
	name: "sqlite",
	ts: func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMicro()
	},
	avgMicros: func(a, b string) string { return "AVG(" + b + " - " + a + ")" },
	// The next seq is read and the row written in one statement on the one
	// writer connection, so appends to a call cannot race. Selecting from
	// calls makes a missing call insert nothing (ErrNotFound).
	addTurn: `INSERT INTO turns (` + turnColList + `)
		SELECT c.id, CASE WHEN ? > 0 THEN ? ELSE (SELECT COALESCE(MAX(t.seq), 0) + 1 FROM turns t WHERE t.call_id = c.id) END,
		?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		FROM calls c WHERE c.id = ?
		ON CONFLICT (call_id, seq) DO UPDATE SET ` + assignments(turnCols[2:], "= excluded.") + `
		RETURNING seq`,
	addTurnArgs: func(t Turn, at any) []any {
		return []any{t.Seq, t.Seq, at, t.Offset.Microseconds(), t.Speaker, t.Text, t.Input, t.Intent, t.Tier,
			t.Score, t.Confidence, t.Outcome, t.Node, t.CallID}
	},
}

type sqliteBackend struct {
	w, r, ck *sql.DB
	ws, rs   *stmtCache
	log      *slog.Logger
	stop     chan struct{}
	done     chan struct{}
}

func openSQLite(ctx context.Context, path string, opt Options) (Store, error) {
	switch {
	case path == "":
		return nil, errors.New("store: empty database path")
	case path == ":memory:" || strings.HasPrefix(path, "file::memory:"):
		// The writer and the readers are separate connections: they would
		// each see their own empty database.
		return nil, errors.New("store: in-memory SQLite is not supported; use a file in a temporary directory")
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("store: SQLite path %q: '?' and '#' are not allowed in it", path)
	}
	// Create the file ourselves so that it is private (call records hold
	// phone numbers); SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	f.Close()

	w, err := sql.Open("sqlite", path+"?"+sqliteWriterParams)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrateSQLite(ctx, w, opt); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	n := opt.MaxConns
	if n <= 0 {
		n = 4
	}
	r, err := sql.Open("sqlite", path+"?"+sqliteReaderParams)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	ck, err := sql.Open("sqlite", path+"?"+sqliteCheckpointParams)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	if err := errors.Join(r.PingContext(ctx), ck.PingContext(ctx)); err != nil {
		w.Close()
		r.Close()
		ck.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Refresh the planner's statistics where they are stale (cheap: only
	// tables that need it, sampled), as SQLite advises for long-lived
	// connections; again at close.
	if _, err := w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		opt.Logger.Warn("store: SQLite optimize", "err", err)
	}
	b := &sqliteBackend{w: w, r: r, ck: ck, ws: newStmtCache(w), rs: newStmtCache(r), log: opt.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.checkpoints()
	opt.Logger.Debug("store: opened SQLite", "path", path)
	return &core{b: b, d: sqliteDialect, opt: opt, log: opt.Logger}, nil
}

// checkpoints copies the WAL into the database file five times a second, off the
// writer's path, until close.
func (b *sqliteBackend) checkpoints() {
	defer close(b.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		var busy, frames, done int
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := b.ck.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
		if err == nil && frames > walRestartFrames {
			err = b.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
		}
		cancel()
		if err != nil {
			b.log.Warn("store: SQLite checkpoint", "err", err)
		}
	}
}

func migrateSQLite(ctx context.Context, w *sql.DB, opt Options) error {
	ms, err := loadMigrations("sqlite")
	if err != nil {
		return err
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL (is the file on a network file system?)", mode)
	}
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return err
	}
	var applied int
	if err := w.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&applied); err != nil {
		return err
	}
	if err := checkNewer(applied, ms); err != nil {
		return err
	}
	for _, m := range ms {
		// BEGIN IMMEDIATE (_txlock) takes the write lock before the check, so
		// two processes opening the same file cannot both apply m.
		err := func() error {
			tx, err := w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UnixMicro()); err != nil {
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			opt.Logger.Info("store: applied migration", "dialect", "sqlite", "migration", m.name)
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// sqlRunner is what *sql.DB and *sql.Tx have in common.
type sqlRunner interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// stmtCache keeps the prepared statements of one *sql.DB: the driver does
// not cache them, and parsing the SQL again took a third of the writer's
// time.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// cacheable: IN lists vary in length, so each shape would be a new entry.
func cacheable(q string) bool { return !strings.Contains(q, " IN (") }

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st := c.m[q]
	c.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[q]; prev != nil {
		st.Close()
		return prev, nil
	}
	c.m[q] = st
	return st, nil
}

// peek returns the statement if it is cached; in a transaction (which holds
// the only writer connection) there is no connection to prepare it on.
func (c *stmtCache) peek(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// sqlQuerier runs statements on a database (through its statement cache)
// or in a transaction.
type sqlQuerier struct {
	db    *stmtCache
	tx    *sql.Tx
	cache *stmtCache // for tx: the writer's statements
}

// runner returns what to run q on: a cached statement when there is one.
func (q sqlQuerier) runner(ctx context.Context, s string) (sqlRunner, error) {
	if !cacheable(s) {
		if q.tx != nil {
			return q.tx, nil
		}
		return q.db.db, nil
	}
	if q.tx != nil {
		if st := q.cache.peek(s); st != nil {
			return stmtRunner{q.tx.StmtContext(ctx, st)}, nil
		}
		return q.tx, nil
	}
	st, err := q.db.get(ctx, s)
	if err != nil {
		return nil, err
	}
	return stmtRunner{st}, nil
}

// stmtRunner lets a prepared statement stand in for a sqlRunner: the query
// text is already in it.
type stmtRunner struct{ st *sql.Stmt }

func (r stmtRunner) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return r.st.ExecContext(ctx, args...)
}

func (r stmtRunner) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return r.st.QueryContext(ctx, args...)
}

func (r stmtRunner) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return r.st.QueryRowContext(ctx, args...)
}

func (q sqlQuerier) exec(ctx context.Context, s string, args ...any) (int64, error) {
	r, err := q.runner(ctx, s)
	if err != nil {
		return 0, err
	}
	res, err := r.ExecContext(ctx, s, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqlQuerier) query(ctx context.Context, s string, args ...any) (rows, error) {
	r, err := q.runner(ctx, s)
	if err != nil {
		return nil, err
	}
	rs, err := r.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rs}, nil
}

func (q sqlQuerier) queryRow(ctx context.Context, s string, args ...any) row {
	r, err := q.runner(ctx, s)
	if err != nil {
		return errRow{err}
	}
	return sqlRow{r.QueryRowContext(ctx, s, args...)}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func (b *sqliteBackend) reader() querier { return sqlQuerier{db: b.rs} }
func (b *sqliteBackend) writer() querier { return sqlQuerier{db: b.ws} }

func (b *sqliteBackend) inTx(ctx context.Context, fn func(querier) error) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(sqlQuerier{tx: tx, cache: b.ws}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (b *sqliteBackend) size(ctx context.Context) (int64, error) {
	var n int64
	err := b.r.QueryRowContext(ctx, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&n)
	return n, err
}

func (b *sqliteBackend) ping(ctx context.Context) error {
	if err := b.w.PingContext(ctx); err != nil {
		return err
	}
	return b.r.PingContext(ctx)
}

func (b *sqliteBackend) close() error {
	select {
	case <-b.stop:
		return nil // closed before
	default:
	}
	close(b.stop)
	<-b.done
	b.rs.close()
	b.ws.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		b.log.Warn("store: SQLite optimize", "err", err)
	}
	// The last connection to close checkpoints the WAL into the file.
	return errors.Join(b.r.Close(), b.ck.Close(), b.w.Close())
}
