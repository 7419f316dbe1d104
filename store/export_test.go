package store

import "context"

// ExecRaw runs a statement (with ? placeholders) on the store's writer, for
// tests to make states the API cannot: a newer schema, 100,000 calls.
func ExecRaw(ctx context.Context, s Store, q string, args ...any) (int64, error) {
	return s.(*core).b.writer().exec(ctx, q, args...)
}

// DialectName is "sqlite" or "postgres".
func DialectName(s Store) string { return s.(*core).d.name }

// EncodeCursor makes the cursor of a page that ends at (started, id).
var EncodeCursor = encodeCursor
