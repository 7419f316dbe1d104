// Package store keeps hotline's records: calls, their turns, and the
// questions the bot could not answer, grouped for staff. One interface,
// Store, has two implementations that pass the same test suite: SQLite (the
// default, one file in the data directory, nothing to run) and PostgreSQL
// (for several hotline instances sharing one database). It imports no other
// hotline package: it stores what it is given, and knows nothing of scripts,
// privacy policies or files.
//
// # Model
//
// A Call row is written when a call is answered (StartCall), updated as the
// dialog moves (UpdateCall) and completed when it ends (EndCall): the record
// exists from the first second, so a crash leaves an open row rather than
// nothing, and CloseInterrupted closes such rows at the next start. Turns
// are the utterances of the bot and the caller, numbered per call. A
// Question is an utterance no intent matched well enough; similar questions
// share a Group that staff resolve once (assign to an intent, or ignore).
// The caller of AddQuestion decides which group a question joins
// (CandidateGroups lists the open ones): similarity is the matcher's
// business, not the database's.
//
// Purge (retention) and Forget (a caller's right to be forgotten) delete
// calls with their turns and questions, keep the groups' counts true, and
// return the files (recordings, snippets) that the caller must delete.
//
// Times are stored to the microsecond, the precision both databases share,
// and come back in UTC.
//
// # SQLite
//
// modernc.org/sqlite, pure Go: no cgo, so hotline stays one static binary.
// The database runs in WAL mode so that readers (the admin UI, stats) never
// wait for the writer nor it for them. All writes go through one connection
// (database/sql with MaxOpenConns 1): SQLite allows one writer at a time, and
// queueing writers in Go, under each call's context, is what keeps them from
// ever failing with SQLITE_BUSY. synchronous=NORMAL means a commit is in
// the WAL, not yet fsynced: a commit survives a crash (kill -9) of hotline,
// and only a power loss can take back the last moments. Checkpoints (copying
// the WAL into the database, with its fsyncs) run in a background goroutine
// on their own connection, so a slow disk does not stall every call's next
// write. The file is created mode 0600: it holds phone numbers.
//
// # PostgreSQL
//
// jackc/pgx with a pgxpool. Migrations run under a session advisory lock so
// that instances starting together migrate one at a time. Sessions use
// synchronous_commit=off by default, the same durability as SQLite's
// NORMAL (a crash of the server can lose the last fraction of a second,
// never consistency); put synchronous_commit=on in the URL to wait for the
// disk on every commit. AddTurn numbers turns through a counter in the
// call's row, whose row lock orders concurrent appends. Call-IDs use the "C"
// collation so that they sort byte-wise, as in SQLite, and pages come out
// the same on both.
//
// # Migrations
//
// Embedded SQL files, one folder per dialect (migrations/sqlite,
// migrations/postgres), numbered, applied in order at Open, each in its own
// transaction, recorded in schema_migrations. Open refuses a database that
// a newer hotline has migrated.
package store
