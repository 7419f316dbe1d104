package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// core implements Store once for both backends.
type core struct {
	b   backend
	d   dialect
	opt Options
	log *slog.Logger
}

var _ Store = (*core)(nil)

// Column lists, in the order callValues, scanCall and friends use.
var (
	callCols = []string{"id", "instance", "caller", "caller_hash", "called", "script", "script_version", "language",
		"started_at", "answered_at", "ended_at", "outcome", "end_reason", "grade", "tags", "path", "node", "vars",
		"transfer_target", "transfer_mode", "transfer_result", "transfer_code", "recording", "turns", "no_match",
		"no_input", "keypad", "talk_ms", "talk_spurts"}
	// UpdateCall changes progress only: not the identity, the start or the
	// end (its outcome and the caller's talk time).
	updateCols = without(callCols, "id", "instance", "started_at", "ended_at", "outcome", "end_reason", "talk_ms",
		"talk_spurts")
	// EndCall's upsert keeps the stored identity and start.
	endCols   = without(callCols, "id", "instance", "started_at")
	turnCols  = []string{"call_id", "seq", "at", "offset_us", "speaker", "text", "input", "intent", "tier", "score", "confidence", "outcome", "node"}
	groupCols = []string{"id", "text", "norm", "language", "count", "first_at", "last_at", "status", "intent",
		"resolution", "resolved_at", "resolved_by"}
	questionCols = []string{"id", "group_id", "COALESCE(call_id, '')", "node", "text", "norm", "language", "at", "audio", "intent", "score"}

	callColList     = strings.Join(callCols, ", ")
	turnColList     = strings.Join(turnCols, ", ")
	groupColList    = strings.Join(groupCols, ", ")
	questionColList = strings.Join(questionCols, ", ")

	sqlStartCall = "INSERT INTO calls (" + callColList + ") VALUES (" + placeholders(len(callCols)) +
		") ON CONFLICT (id) DO NOTHING"
	sqlUpdateCall = "UPDATE calls SET " + assignments(updateCols, "= ?") + " WHERE id = ?"
	sqlEndCall    = "INSERT INTO calls (" + callColList + ") VALUES (" + placeholders(len(callCols)) +
		") ON CONFLICT (id) DO UPDATE SET " + assignments(endCols, "= excluded.")
)

func without(cols []string, drop ...string) []string {
	var out []string
outer:
	for _, c := range cols {
		for _, d := range drop {
			if c == d {
				continue outer
			}
		}
		out = append(out, c)
	}
	return out
}

// assignments renders "a = ?, b = ?" (suffix "= ?") or "a = excluded.a, …"
// (suffix "= excluded.").
func assignments(cols []string, suffix string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		if strings.HasSuffix(suffix, ".") {
			parts[i] = c + " " + suffix + c
		} else {
			parts[i] = c + " " + suffix
		}
	}
	return strings.Join(parts, ", ")
}

func prefixed(p string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + c
	}
	return strings.Join(out, ", ")
}

// callValues returns the call's column values by column name.
func (s *core) callValues(c Call) (map[string]any, error) {
	vars, err := jsonVars(c.Vars)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"id": c.ID, "instance": c.Instance, "caller": c.Caller, "caller_hash": c.CallerHash, "called": c.Called,
		"script": c.Script, "script_version": c.ScriptVersion, "language": c.Language,
		"started_at": s.d.ts(c.StartedAt), "answered_at": s.d.ts(c.AnsweredAt), "ended_at": s.d.ts(c.EndedAt),
		"outcome": c.Outcome, "end_reason": c.EndReason, "grade": c.Grade,
		"tags": jsonList(c.Tags), "path": jsonList(c.Path), "node": c.Node, "vars": vars,
		"transfer_target": c.TransferTarget, "transfer_mode": c.TransferMode, "transfer_result": c.TransferResult,
		"transfer_code": c.TransferCode, "recording": c.Recording, "turns": c.Turns, "no_match": c.NoMatch,
		"no_input": c.NoInput, "keypad": c.Keypad, "talk_ms": talkMS(c.Talk), "talk_spurts": c.TalkSpurts,
	}, nil
}

func pick(m map[string]any, cols []string) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = m[c]
	}
	return out
}

func scanCall(r row) (Call, error) {
	var c Call
	var tags, path, vars jsonScan
	var talk int64
	err := r.Scan(&c.ID, &c.Instance, &c.Caller, &c.CallerHash, &c.Called, &c.Script, &c.ScriptVersion, &c.Language,
		tsDest(&c.StartedAt), tsDest(&c.AnsweredAt), tsDest(&c.EndedAt), &c.Outcome, &c.EndReason, &c.Grade,
		&tags, &path, &c.Node, &vars, &c.TransferTarget, &c.TransferMode, &c.TransferResult, &c.TransferCode,
		&c.Recording, &c.Turns, &c.NoMatch, &c.NoInput, &c.Keypad, &talk, &c.TalkSpurts)
	if err != nil {
		return c, err
	}
	c.Talk = time.Duration(talk) * time.Millisecond
	if c.Tags, err = decodeList(tags); err != nil {
		return c, fmt.Errorf("tags: %w", err)
	}
	if c.Path, err = decodeList(path); err != nil {
		return c, fmt.Errorf("path: %w", err)
	}
	if c.Vars, err = decodeVars(vars); err != nil {
		return c, fmt.Errorf("vars: %w", err)
	}
	return c, nil
}

func scanCalls(rs rows, err error) ([]Call, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []Call{}
	for rs.Next() {
		c, err := scanCall(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

func scanTurn(r row) (Turn, error) {
	var t Turn
	var off int64
	err := r.Scan(&t.CallID, &t.Seq, tsDest(&t.At), &off, &t.Speaker, &t.Text, &t.Input, &t.Intent, &t.Tier,
		&t.Score, &t.Confidence, &t.Outcome, &t.Node)
	t.Offset = time.Duration(off) * time.Microsecond
	return t, err
}

func scanGroup(r row, extra ...any) (Group, error) {
	var g Group
	dest := append([]any{&g.ID, &g.Text, &g.Norm, &g.Language, &g.Count, tsDest(&g.FirstAt), tsDest(&g.LastAt),
		&g.Status, &g.Intent, &g.Resolution, tsDest(&g.ResolvedAt), &g.ResolvedBy}, extra...)
	return g, r.Scan(dest...)
}

func scanGroups(rs rows, err error) ([]Group, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []Group{}
	for rs.Next() {
		g, err := scanGroup(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rs.Err()
}

func scanQuestion(r row) (Question, error) {
	var q Question
	err := r.Scan(&q.ID, &q.GroupID, &q.CallID, &q.Node, &q.Text, &q.Norm, &q.Language, tsDest(&q.At), &q.Audio,
		&q.Intent, &q.Score)
	return q, err
}

// StartCall implements Store.
func (s *core) StartCall(ctx context.Context, c Call) error {
	if c.ID == "" {
		return errors.New("store: start call: empty ID")
	}
	if c.StartedAt.IsZero() {
		return fmt.Errorf("store: start call %s: StartedAt is not set", c.ID)
	}
	if c.Instance == "" {
		c.Instance = s.opt.Instance
	}
	vals, err := s.callValues(c)
	if err != nil {
		return fmt.Errorf("store: start call %s: %w", c.ID, err)
	}
	n, err := s.b.writer().exec(ctx, sqlStartCall, pick(vals, callCols)...)
	if err != nil {
		return fmt.Errorf("store: start call %s: %w", c.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: start call %s: %w", c.ID, ErrExists)
	}
	return nil
}

// UpdateCall implements Store.
func (s *core) UpdateCall(ctx context.Context, c Call) error {
	vals, err := s.callValues(c)
	if err != nil {
		return fmt.Errorf("store: update call %s: %w", c.ID, err)
	}
	n, err := s.b.writer().exec(ctx, sqlUpdateCall, append(pick(vals, updateCols), c.ID)...)
	if err != nil {
		return fmt.Errorf("store: update call %s: %w", c.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: update call %s: %w", c.ID, ErrNotFound)
	}
	return nil
}

// EndCall implements Store.
func (s *core) EndCall(ctx context.Context, c Call) error {
	switch {
	case c.ID == "":
		return errors.New("store: end call: empty ID")
	case c.EndedAt.IsZero():
		return fmt.Errorf("store: end call %s: EndedAt is not set", c.ID)
	case c.Outcome == "":
		return fmt.Errorf("store: end call %s: Outcome is not set", c.ID)
	case c.StartedAt.IsZero():
		return fmt.Errorf("store: end call %s: StartedAt is not set", c.ID)
	}
	if c.Instance == "" {
		c.Instance = s.opt.Instance
	}
	vals, err := s.callValues(c)
	if err != nil {
		return fmt.Errorf("store: end call %s: %w", c.ID, err)
	}
	if _, err := s.b.writer().exec(ctx, sqlEndCall, pick(vals, callCols)...); err != nil {
		return fmt.Errorf("store: end call %s: %w", c.ID, err)
	}
	return nil
}

// AddTurn implements Store.
func (s *core) AddTurn(ctx context.Context, t Turn) (Turn, error) {
	if t.CallID == "" {
		return t, errors.New("store: add turn: empty call ID")
	}
	if t.Seq < 0 {
		return t, fmt.Errorf("store: add turn %s: negative Seq %d", t.CallID, t.Seq)
	}
	t.At = micros(t.At)
	if !t.At.IsZero() {
		t.At = t.At.UTC()
	}
	t.Offset = t.Offset.Truncate(time.Microsecond)
	var seq int
	err := s.b.writer().queryRow(ctx, s.d.addTurn, s.d.addTurnArgs(t, s.d.ts(t.At))...).Scan(&seq)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return t, fmt.Errorf("store: add turn %s: call %w", t.CallID, ErrNotFound)
		}
		return t, fmt.Errorf("store: add turn %s: %w", t.CallID, err)
	}
	t.Seq = seq
	return t, nil
}

// Call implements Store.
func (s *core) Call(ctx context.Context, id string) (Call, error) {
	c, err := scanCall(s.b.reader().queryRow(ctx, "SELECT "+callColList+" FROM calls WHERE id = ?", id))
	if err != nil {
		return Call{}, fmt.Errorf("store: call %s: %w", id, err)
	}
	return c, nil
}

// Turns implements Store.
func (s *core) Turns(ctx context.Context, callID string) ([]Turn, error) {
	rs, err := s.b.reader().query(ctx, "SELECT "+turnColList+" FROM turns WHERE call_id = ? ORDER BY seq", callID)
	if err != nil {
		return nil, fmt.Errorf("store: turns %s: %w", callID, err)
	}
	defer rs.Close()
	out := []Turn{}
	for rs.Next() {
		t, err := scanTurn(rs)
		if err != nil {
			return nil, fmt.Errorf("store: turns %s: %w", callID, err)
		}
		out = append(out, t)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: turns %s: %w", callID, err)
	}
	if len(out) == 0 {
		var one int
		if err := s.b.reader().queryRow(ctx, "SELECT 1 FROM calls WHERE id = ?", callID).Scan(&one); err != nil {
			return nil, fmt.Errorf("store: turns %s: call %w", callID, err)
		}
	}
	return out, nil
}

func limit(n, def, max int) int {
	switch {
	case n <= 0:
		return def
	case n > max:
		return max
	}
	return n
}

// ListCalls implements Store.
func (s *core) ListCalls(ctx context.Context, f CallFilter) (CallPage, error) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, s.d.ts(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "started_at < ?"), append(args, s.d.ts(f.Until))
	}
	if len(f.Outcome) > 0 {
		where, args = append(where, "outcome IN ("+placeholders(len(f.Outcome))+")"), append(args, anys(f.Outcome)...)
	}
	if len(f.Grade) > 0 {
		where, args = append(where, "grade IN ("+placeholders(len(f.Grade))+")"), append(args, anys(f.Grade)...)
	}
	if f.Number != "" {
		where, args = append(where, "(caller = ? OR called = ?)"), append(args, f.Number, f.Number)
	}
	if f.CallerHash != "" {
		where, args = append(where, "caller_hash = ?"), append(args, f.CallerHash)
	}
	if f.Open != nil {
		if *f.Open {
			where = append(where, "ended_at IS NULL")
		} else {
			where = append(where, "ended_at IS NOT NULL")
		}
	}
	cond := func(w []string) string {
		if len(w) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(w, " AND ")
	}
	page := CallPage{Calls: []Call{}}
	if err := s.b.reader().queryRow(ctx, "SELECT COUNT(*) FROM calls"+cond(where), args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("store: list calls: %w", err)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return page, fmt.Errorf("store: list calls: %w", err)
		}
		// The first term lets both planners start the index range at the
		// cursor; the second breaks ties in started_at by id.
		where = append(where, "started_at <= ? AND (started_at < ? OR id < ?)")
		args = append(args, s.d.ts(at), s.d.ts(at), id)
	}
	n := limit(f.Limit, 50, 1000)
	q := "SELECT " + callColList + " FROM calls" + cond(where) + " ORDER BY started_at DESC, id DESC LIMIT ?"
	calls, err := scanCalls(s.b.reader().query(ctx, q, append(args, n+1)...))
	if err != nil {
		return page, fmt.Errorf("store: list calls: %w", err)
	}
	if len(calls) > n {
		calls = calls[:n]
		last := calls[n-1]
		page.Next = encodeCursor(last.StartedAt, last.ID)
	}
	page.Calls = calls
	return page, nil
}

// Stats implements Store.
func (s *core) Stats(ctx context.Context, f StatsFilter) (Stats, error) {
	st := Stats{Since: f.Since, Until: f.Until, Outcomes: map[string]int{}, TopUnanswered: []GroupCount{}}
	rangeOn := func(col string) (string, []any) {
		var w []string
		var args []any
		if !f.Since.IsZero() {
			w, args = append(w, col+" >= ?"), append(args, s.d.ts(f.Since))
		}
		if !f.Until.IsZero() {
			w, args = append(w, col+" < ?"), append(args, s.d.ts(f.Until))
		}
		if len(w) == 0 {
			return "1 = 1", nil
		}
		return strings.Join(w, " AND "), args
	}
	wrap := func(err error) (Stats, error) { return Stats{}, fmt.Errorf("store: stats: %w", err) }
	r := s.b.reader()

	cw, cargs := rangeOn("started_at")
	rs, err := r.query(ctx, "SELECT outcome, ended_at IS NULL, COUNT(*) FROM calls WHERE "+cw+" GROUP BY outcome, ended_at IS NULL", cargs...)
	if err != nil {
		return wrap(err)
	}
	for rs.Next() {
		var outcome string
		var open bool
		var n int
		if err := rs.Scan(&outcome, &open, &n); err != nil {
			rs.Close()
			return wrap(err)
		}
		st.Calls += n
		if open {
			st.Open += n
		} else {
			st.Ended += n
			st.Outcomes[outcome] += n
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return wrap(err)
	}

	var avg *float64
	q := "SELECT " + s.d.avgMicros("answered_at", "ended_at") + " FROM calls WHERE " + cw +
		" AND ended_at IS NOT NULL AND answered_at IS NOT NULL"
	if err := r.queryRow(ctx, q, cargs...).Scan(&avg); err != nil {
		return wrap(err)
	}
	if avg != nil {
		st.AvgHandling = time.Duration(*avg * float64(time.Microsecond)).Round(time.Millisecond)
	}

	tw, targs := rangeOn("c.started_at")
	q = `SELECT COUNT(*), COUNT(CASE WHEN t.outcome IN ('no_match', 'low_confidence') THEN 1 END)
		FROM turns t JOIN calls c ON c.id = t.call_id
		WHERE ` + tw + ` AND t.speaker = 'caller' AND t.input IN ('speech', 'dtmf')
		AND t.outcome IN ('matched', 'no_match', 'low_confidence')`
	if err := r.queryRow(ctx, q, targs...).Scan(&st.Utterances, &st.NoMatch); err != nil {
		return wrap(err)
	}

	qw, qargs := rangeOn("q.at")
	q = "SELECT " + prefixed("g.", groupCols) + ", COUNT(*) AS n FROM questions q JOIN question_groups g ON g.id = q.group_id" +
		" WHERE g.status = 'open' AND " + qw + " GROUP BY g.id ORDER BY n DESC, g.last_at DESC, g.id DESC LIMIT 10"
	rs, err = r.query(ctx, q, qargs...)
	if err != nil {
		return wrap(err)
	}
	defer rs.Close()
	for rs.Next() {
		var gc GroupCount
		if gc.Group, err = scanGroup(rs, &gc.InRange); err != nil {
			return wrap(err)
		}
		st.TopUnanswered = append(st.TopUnanswered, gc)
	}
	if err := rs.Err(); err != nil {
		return wrap(err)
	}
	return st, nil
}

// AddQuestion implements Store.
func (s *core) AddQuestion(ctx context.Context, q Question) (Question, error) {
	q.At = micros(q.At)
	if !q.At.IsZero() {
		q.At = q.At.UTC()
	}
	at := s.d.ts(q.At)
	err := s.b.inTx(ctx, func(tx querier) error {
		if q.CallID != "" {
			var one int
			if err := tx.queryRow(ctx, "SELECT 1 FROM calls WHERE id = ?", q.CallID).Scan(&one); err != nil {
				return fmt.Errorf("call %s: %w", q.CallID, err)
			}
		}
		if q.GroupID == 0 {
			err := tx.queryRow(ctx, `INSERT INTO question_groups (text, norm, language, count, first_at, last_at, status,
				intent, resolution, resolved_by) VALUES (?, ?, ?, 1, ?, ?, 'open', '', '', '') RETURNING id`,
				q.Text, q.Norm, q.Language, at, at).Scan(&q.GroupID)
			if err != nil {
				return fmt.Errorf("new group: %w", err)
			}
		} else {
			n, err := tx.exec(ctx, `UPDATE question_groups SET count = count + 1,
				first_at = CASE WHEN first_at IS NULL OR first_at > ? THEN ? ELSE first_at END,
				last_at = CASE WHEN last_at IS NULL OR last_at < ? THEN ? ELSE last_at END
				WHERE id = ?`, at, at, at, at, q.GroupID)
			if err != nil {
				return fmt.Errorf("group %d: %w", q.GroupID, err)
			}
			if n == 0 {
				return fmt.Errorf("group %d: %w", q.GroupID, ErrNotFound)
			}
		}
		var callID any
		if q.CallID != "" {
			callID = q.CallID
		}
		return tx.queryRow(ctx, `INSERT INTO questions (group_id, call_id, node, text, norm, language, at, audio, intent, score)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			q.GroupID, callID, q.Node, q.Text, q.Norm, q.Language, at, q.Audio, q.Intent, q.Score).Scan(&q.ID)
	})
	if err != nil {
		return q, fmt.Errorf("store: add question: %w", err)
	}
	return q, nil
}

// CandidateGroups implements Store.
func (s *core) CandidateGroups(ctx context.Context, language string, n int) ([]Group, error) {
	q := "SELECT " + groupColList + " FROM question_groups WHERE status = 'open'"
	var args []any
	if language != "" {
		q, args = q+" AND language = ?", append(args, language)
	}
	q += " ORDER BY last_at DESC NULLS LAST, id DESC LIMIT ?"
	gs, err := scanGroups(s.b.reader().query(ctx, q, append(args, limit(n, 200, 10000))...))
	if err != nil {
		return nil, fmt.Errorf("store: candidate groups: %w", err)
	}
	return gs, nil
}

// Groups implements Store.
func (s *core) Groups(ctx context.Context, f GroupFilter) (GroupPage, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Language != "" {
		where, args = append(where, "language = ?"), append(args, f.Language)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "last_at >= ?"), append(args, s.d.ts(f.Since))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := GroupPage{Groups: []Group{}}
	if err := s.b.reader().queryRow(ctx, "SELECT COUNT(*) FROM question_groups"+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("store: groups: %w", err)
	}
	q := "SELECT " + groupColList + " FROM question_groups" + cond +
		" ORDER BY count DESC, last_at DESC NULLS LAST, id DESC LIMIT ? OFFSET ?"
	gs, err := scanGroups(s.b.reader().query(ctx, q, append(args, limit(f.Limit, 50, 1000), max(f.Offset, 0))...))
	if err != nil {
		return page, fmt.Errorf("store: groups: %w", err)
	}
	page.Groups = gs
	return page, nil
}

// Group implements Store.
func (s *core) Group(ctx context.Context, id int64) (Group, []Question, error) {
	g, err := scanGroup(s.b.reader().queryRow(ctx, "SELECT "+groupColList+" FROM question_groups WHERE id = ?", id))
	if err != nil {
		return Group{}, nil, fmt.Errorf("store: group %d: %w", id, err)
	}
	rs, err := s.b.reader().query(ctx, "SELECT "+questionColList+" FROM questions WHERE group_id = ? ORDER BY at, id", id)
	if err != nil {
		return Group{}, nil, fmt.Errorf("store: group %d: %w", id, err)
	}
	defer rs.Close()
	qs := []Question{}
	for rs.Next() {
		q, err := scanQuestion(rs)
		if err != nil {
			return Group{}, nil, fmt.Errorf("store: group %d: %w", id, err)
		}
		qs = append(qs, q)
	}
	if err := rs.Err(); err != nil {
		return Group{}, nil, fmt.Errorf("store: group %d: %w", id, err)
	}
	return g, qs, nil
}

// ResolveGroup implements Store.
func (s *core) ResolveGroup(ctx context.Context, id int64, status, intent, resolution, by string) error {
	var at any
	switch status {
	case GroupOpen:
		at, by = s.d.ts(time.Time{}), ""
	case GroupAssigned, GroupIgnored:
		at = s.d.ts(micros(time.Now()))
	default:
		return fmt.Errorf("store: resolve group %d: status %q is not open, assigned or ignored", id, status)
	}
	n, err := s.b.writer().exec(ctx, `UPDATE question_groups SET status = ?, intent = ?, resolution = ?,
		resolved_at = ?, resolved_by = ? WHERE id = ?`, status, intent, resolution, at, by, id)
	if err != nil {
		return fmt.Errorf("store: resolve group %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: resolve group %d: %w", id, ErrNotFound)
	}
	return nil
}

// CloseInterrupted implements Store.
func (s *core) CloseInterrupted(ctx context.Context, instance string, at time.Time) ([]Call, error) {
	if instance == "" {
		instance = s.opt.Instance
	}
	var closed []Call
	err := s.b.inTx(ctx, func(tx querier) error {
		rs, err := tx.query(ctx, `SELECT c.id, c.started_at, c.answered_at,
			(SELECT MAX(t.at) FROM turns t WHERE t.call_id = c.id)
			FROM calls c WHERE c.instance = ? AND c.ended_at IS NULL`, instance)
		if err != nil {
			return err
		}
		type open struct {
			id   string
			last time.Time
		}
		var opens []open
		for rs.Next() {
			var o open
			var started, answered, turn time.Time
			if err := rs.Scan(&o.id, tsDest(&started), tsDest(&answered), tsDest(&turn)); err != nil {
				rs.Close()
				return err
			}
			// The last moment the call is known to have been alive: its last
			// turn, else its answer, else its start; `at` (now) would
			// overstate its length by the whole outage.
			for _, t := range []time.Time{started, answered, turn} {
				if t.After(o.last) {
					o.last = t
				}
			}
			if o.last.IsZero() {
				o.last = at
			}
			opens = append(opens, o)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for _, o := range opens {
			_, err := tx.exec(ctx, `UPDATE calls SET ended_at = ?, outcome = ?, end_reason = ?
				WHERE id = ? AND ended_at IS NULL`, s.d.ts(o.last), OutcomeInterrupted, OutcomeInterrupted, o.id)
			if err != nil {
				return err
			}
		}
		for i := 0; i < len(opens); i += 500 {
			batch := opens[i:min(i+500, len(opens))]
			ids := make([]any, len(batch))
			for j, o := range batch {
				ids[j] = o.id
			}
			cs, err := scanCalls(tx.query(ctx, "SELECT "+callColList+" FROM calls WHERE id IN ("+placeholders(len(ids))+
				") ORDER BY started_at, id", ids...))
			if err != nil {
				return err
			}
			closed = append(closed, cs...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: close interrupted calls of %q: %w", instance, err)
	}
	if len(closed) > 0 {
		s.log.Info("store: closed interrupted calls", "instance", instance, "calls", len(closed))
	}
	if closed == nil {
		closed = []Call{}
	}
	return closed, nil
}

// Purge implements Store.
func (s *core) Purge(ctx context.Context, before time.Time) (DeleteReport, error) {
	rep, err := s.deleteCalls(ctx, "SELECT id FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?", s.d.ts(before))
	if err != nil {
		return rep, fmt.Errorf("store: purge before %s: %w", before.Format(time.RFC3339), err)
	}
	return rep, nil
}

// Forget implements Store.
func (s *core) Forget(ctx context.Context, callerHash, number string) (DeleteReport, error) {
	var w []string
	var args []any
	if callerHash != "" {
		w, args = append(w, "caller_hash = ?"), append(args, callerHash)
	}
	if number != "" {
		w, args = append(w, "caller = ?"), append(args, number)
	}
	if len(w) == 0 {
		// An empty hash would otherwise match every call stored without one.
		return DeleteReport{Files: []string{}}, errors.New("store: forget: neither a caller hash nor a number")
	}
	rep, err := s.deleteCalls(ctx, "SELECT id FROM calls WHERE "+strings.Join(w, " OR "), args...)
	if err != nil {
		return rep, fmt.Errorf("store: forget: %w", err)
	}
	return rep, nil
}

// purgeBatch bounds one delete transaction, so that a large purge does not
// hold SQLite's single writer (and so every live call's writes) for long.
const purgeBatch = 500

// deleteCalls deletes the calls that sel selects, batch by batch, with their
// turns and questions, and repairs the groups that lost questions.
func (s *core) deleteCalls(ctx context.Context, sel string, args ...any) (DeleteReport, error) {
	rep := DeleteReport{Files: []string{}}
	files := map[string]bool{}
	changed := map[int64]bool{}
	for {
		var done bool
		err := s.b.inTx(ctx, func(tx querier) error {
			var b DeleteReport
			ids, err := strs(tx.query(ctx, sel+fmt.Sprintf(" LIMIT %d", purgeBatch), args...))
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				done = true
				return nil
			}
			in := "(" + placeholders(len(ids)) + ")"
			idArgs := anys(ids)
			recs, err := strs(tx.query(ctx, "SELECT recording FROM calls WHERE recording <> '' AND id IN "+in, idArgs...))
			if err != nil {
				return err
			}
			audio, err := strs(tx.query(ctx, "SELECT audio FROM questions WHERE audio <> '' AND call_id IN "+in, idArgs...))
			if err != nil {
				return err
			}
			groups, err := int64s(tx.query(ctx, "SELECT DISTINCT group_id FROM questions WHERE call_id IN "+in+" ORDER BY group_id", idArgs...))
			if err != nil {
				return err
			}
			n, err := tx.exec(ctx, "DELETE FROM questions WHERE call_id IN "+in, idArgs...)
			if err != nil {
				return err
			}
			b.Questions = int(n)
			if n, err = tx.exec(ctx, "DELETE FROM turns WHERE call_id IN "+in, idArgs...); err != nil {
				return err
			}
			b.Turns = int(n)
			if n, err = tx.exec(ctx, "DELETE FROM calls WHERE id IN "+in, idArgs...); err != nil {
				return err
			}
			b.Calls = int(n)
			for _, g := range groups {
				gone, err := s.repairGroup(ctx, tx, g)
				if err != nil {
					return err
				}
				if gone {
					b.Groups++
					delete(changed, g)
				} else {
					changed[g] = true
				}
			}
			rep.Calls += b.Calls
			rep.Turns += b.Turns
			rep.Questions += b.Questions
			rep.Groups += b.Groups
			for _, f := range append(recs, audio...) {
				files[f] = true
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
		if done {
			break
		}
	}
	rep.GroupsChanged = len(changed)
	for f := range files {
		rep.Files = append(rep.Files, f)
	}
	sort.Strings(rep.Files)
	if rep.Calls > 0 {
		s.log.Info("store: deleted calls", "calls", rep.Calls, "turns", rep.Turns, "questions", rep.Questions,
			"groups", rep.Groups, "files", len(rep.Files))
	}
	return rep, nil
}

// repairGroup fixes a group after some of its questions were deleted: it
// goes when it has none left; otherwise its count and times are recounted
// and, if the question that represented it is gone, the earliest remaining
// question represents it (a forgotten caller's words must not live on as a
// group's title).
func (s *core) repairGroup(ctx context.Context, tx querier, id int64) (gone bool, err error) {
	n, err := tx.exec(ctx, "DELETE FROM question_groups WHERE id = ? AND NOT EXISTS (SELECT 1 FROM questions WHERE group_id = ?)", id, id)
	if err != nil || n > 0 {
		return n > 0, err
	}
	_, err = tx.exec(ctx, `UPDATE question_groups SET
		count = (SELECT COUNT(*) FROM questions WHERE group_id = ?),
		first_at = (SELECT MIN(at) FROM questions WHERE group_id = ?),
		last_at = (SELECT MAX(at) FROM questions WHERE group_id = ?),
		norm = CASE WHEN EXISTS (SELECT 1 FROM questions q WHERE q.group_id = ? AND q.text = question_groups.text)
			THEN norm ELSE (SELECT q.norm FROM questions q WHERE q.group_id = ? ORDER BY q.at, q.id LIMIT 1) END,
		text = CASE WHEN EXISTS (SELECT 1 FROM questions q WHERE q.group_id = ? AND q.text = question_groups.text)
			THEN text ELSE (SELECT q.text FROM questions q WHERE q.group_id = ? ORDER BY q.at, q.id LIMIT 1) END
		WHERE id = ?`, id, id, id, id, id, id, id, id)
	return false, err
}

func strs(rs rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var v string
		if err := rs.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

func int64s(rs rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var v int64
		if err := rs.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

// CountAll implements Store.
func (s *core) CountAll(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.b.reader().queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM calls), (SELECT COUNT(*) FROM calls WHERE ended_at IS NULL),
		(SELECT COUNT(*) FROM turns), (SELECT COUNT(*) FROM questions),
		(SELECT COUNT(*) FROM question_groups), (SELECT COUNT(*) FROM schema_migrations)`).
		Scan(&c.Calls, &c.OpenCalls, &c.Turns, &c.Questions, &c.Groups, &c.Migrations)
	if err != nil {
		return c, fmt.Errorf("store: count: %w", err)
	}
	return c, nil
}

// Size implements Store.
func (s *core) Size(ctx context.Context) (int64, error) {
	n, err := s.b.size(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return n, nil
}

// Ping implements Store.
func (s *core) Ping(ctx context.Context) error {
	if err := s.b.ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *core) Close() error { return s.b.close() }
