// Package records keeps the record of every answered call in the store: the
// call's row from its answer to its end, its turns (what the bot said, what
// the caller said or keyed, with what the engine made of it), and the
// questions the bot could not answer, with an audio snippet of each. It also
// holds what the files of those records need: crash recovery (Recover),
// retention (Purge, RunRetention) and a caller's right to be forgotten
// (Forget), which delete the recordings and snippets with the rows.
//
// It sits between call (which runs calls and reports through the hooks of
// call.Config) and store (which keeps rows and knows nothing of calls,
// scripts, privacy or files); the privacy policy (redaction, caller numbers)
// is applied here, before anything is stored. A separate package rather
// than more of call: call is the handler of one call and knows nothing of
// databases, and `hotline purge` and `hotline calls` need Purge and Forget
// without a call runner.
//
// # Writing off the call's goroutine
//
// A Recorder's hooks run on each call's goroutine, so they only copy what
// they need and queue a job: a bounded queue per server, in shards served by
// a few workers (Options.Workers), one shard per call, so a call's writes
// reach the store in order (its row before its turns, its end last) while
// calls are written in parallel. When a shard is full, a hook waits at most
// Options.Wait for room, then drops the job, counts it and logs it: a slow
// or stalled database costs records, never audio. The end of a call waits
// longer (Options.EndWait), since it carries the outcome and runs after the
// call's media is closed; EndCall inserts the row if its start was lost.
// Texts are redacted, snippets written and questions grouped by the
// workers, not the calls. Close drains the queue, bounded by its context.
//
// # Outcomes and grades
//
// Outcome maps the end of a call to a store outcome: a panic or a set-up
// failure is error; otherwise the engine's outcome (resolved, transferred,
// message_left, after_hours, abandoned — the caller hung up before anything
// was answered —, unresolved — retries ran out with nowhere to escalate —,
// error); a call the engine never ended (the server shut it down) is
// interrupted, like the calls a crash left open, which Recover closes at the
// next start. The grade is the script's (a `tag: {grade: …}`), else the
// first of the GradeRules that fits (DefaultGrades: A resolved — or after
// hours, or a message left — with at most one no-match; B resolved after
// more, or transferred; C anything else).
package records
