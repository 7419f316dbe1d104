package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The two backends differ in drivers (database/sql vs pgx), placeholders,
// time columns and a few statements; everything else (the queries, the
// transactions, the bookkeeping of groups) is written once in core.go
// against these small interfaces.

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface {
	Scan(dest ...any) error // ErrNotFound when there is no row
}

type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
}

type backend interface {
	reader() querier // reads outside transactions
	writer() querier // single-statement writes
	// inTx runs fn in one write transaction, committing if it returns nil.
	inTx(ctx context.Context, fn func(q querier) error) error
	size(ctx context.Context) (int64, error)
	ping(ctx context.Context) error
	close() error
}

// dialect holds what differs in the SQL text and values.
type dialect struct {
	name string
	// ts converts a time for a parameter: NULL for the zero time.
	ts func(t time.Time) any
	// avgMicros is an SQL expression: the average of b−a in microseconds.
	avgMicros func(a, b string) string
	// addTurn appends or replaces a turn; args built by addTurnArgs.
	addTurn     string
	addTurnArgs func(t Turn, at any) []any
}

// timeScan scans a nullable time column of either backend: SQLite's
// microseconds since the epoch, PostgreSQL's timestamptz.
type timeScan time.Time

func (t *timeScan) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = timeScan{}
	case int64:
		*t = timeScan(time.UnixMicro(x).UTC())
	case float64:
		*t = timeScan(time.UnixMicro(int64(x)).UTC())
	case time.Time:
		*t = timeScan(x.UTC())
	default:
		return fmt.Errorf("store: cannot scan %T into a time", v)
	}
	return nil
}

func tsDest(p *time.Time) sql.Scanner { return (*timeScan)(p) }

// micros truncates to what both databases keep, so what a caller reads back
// equals what it wrote (to the microsecond).
func micros(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// jsonScan scans a JSON column (SQLite TEXT, PostgreSQL jsonb) as text.
type jsonScan []byte

func (j *jsonScan) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*j = nil
	case string:
		*j = append((*j)[:0], x...)
	case []byte:
		*j = append((*j)[:0], x...)
	default:
		return fmt.Errorf("store: cannot scan %T as JSON", v)
	}
	return nil
}

func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // []string always marshals
	return string(b)
}

func jsonVars(v map[string]any) (string, error) {
	if len(v) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("vars: %w", err)
	}
	return string(b), nil
}

func decodeList(b []byte) ([]string, error) {
	out := []string{}
	if len(b) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func decodeVars(b []byte) (map[string]any, error) {
	out := map[string]any{}
	if len(b) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// A cursor is the (started_at, id) of the last call on a page, in base64 so
// that it is opaque to API clients and safe in a URL.
func encodeCursor(started time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(started.UnixMicro(), 10) + "|" + id))
}

var errBadCursor = errors.New("bad cursor")

func decodeCursor(s string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", errBadCursor
	}
	us, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, "", errBadCursor
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return time.Time{}, "", errBadCursor
	}
	return time.UnixMicro(n).UTC(), id, nil
}

// placeholders returns "?, ?, ?" for n parameters.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func anys[T any](v []T) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}
