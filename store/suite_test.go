package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// The one suite both backends pass. newDSN returns the address of a fresh,
// empty database (a SQLite file, a PostgreSQL schema) for each test.
func runSuite(t *testing.T, newDSN func(t *testing.T) string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newDSN func(t *testing.T) string)
	}{
		{"CallLifecycle", testCallLifecycle},
		{"VarsUnicode", testVarsUnicode},
		{"Turns", testTurns},
		{"ListCallsFilters", testListCallsFilters},
		{"Pagination", testPagination},
		{"Stats", testStats},
		{"Questions", testQuestions},
		{"CloseInterrupted", testCloseInterrupted},
		{"Purge", testPurge},
		{"Forget", testForget},
		{"Concurrency", testConcurrency},
		{"Migrations", testMigrations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newDSN)
		})
	}
}

// base is a Monday morning; every time in the fixtures is whole
// microseconds, which is what both databases keep.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fresh(t *testing.T, newDSN func(t *testing.T) string) store.Store {
	t.Helper()
	return open(t, newDSN(t))
}

// newCall is an open call with every field set.
func newCall(id string, start time.Time) store.Call {
	return store.Call{
		ID: id, Instance: "test", Caller: "+8613800138000", CallerHash: "hash-" + id, Called: "10086",
		Script: "acme-support", ScriptVersion: "v3", Language: "zh-CN",
		StartedAt: start, AnsweredAt: start.Add(500 * time.Millisecond),
		Tags: []string{}, Path: []string{"welcome"}, Node: "welcome", Vars: map[string]any{},
	}
}

func ended(c store.Call, outcome string, d time.Duration) store.Call {
	c.Outcome = outcome
	c.EndReason = "bye"
	c.EndedAt = c.AnsweredAt.Add(d)
	return c
}

func mustStart(t *testing.T, s store.Store, cs ...store.Call) {
	t.Helper()
	for _, c := range cs {
		if err := s.StartCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if !c.EndedAt.IsZero() {
			if err := s.EndCall(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func mustTurn(t *testing.T, s store.Store, tr store.Turn) store.Turn {
	t.Helper()
	got, err := s.AddTurn(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustQuestion(t *testing.T, s store.Store, q store.Question) store.Question {
	t.Helper()
	got, err := s.AddQuestion(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustCall(t *testing.T, s store.Store, id string) store.Call {
	t.Helper()
	c, err := s.Call(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func counts(t *testing.T, s store.Store) store.Counts {
	t.Helper()
	c, err := s.CountAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sameCall(t *testing.T, got, want store.Call) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("call %s:\n got  %s\n want %s", want.ID, g, w)
	}
}

func ids(cs []store.Call) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return strings.Join(out, ",")
}

func testCallLifecycle(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	c := newCall("call-1", base)
	if err := s.StartCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.StartCall(ctx, c); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second StartCall: %v, want ErrExists", err)
	}
	sameCall(t, mustCall(t, s, "call-1"), c)
	if got := mustCall(t, s, "call-1"); !got.Open() || got.Duration() != 0 {
		t.Fatalf("open call: Open %v Duration %v", got.Open(), got.Duration())
	}
	if ts, err := s.Turns(ctx, "call-1"); err != nil || len(ts) != 0 {
		t.Fatalf("Turns of a call without turns: %v %v", ts, err)
	}

	// Progress: UpdateCall writes everything but the identity, start and end.
	c.Node, c.Path, c.Grade = "agent", []string{"welcome", "menu", "agent"}, "B"
	c.Tags = []string{"refund", "vip"}
	c.Vars = map[string]any{"order": "123456", "amount": 12.5}
	c.TransferTarget, c.TransferMode, c.TransferResult, c.TransferCode = "sip:queue@pbx", "blind", "failed", 486
	c.Recording, c.Turns, c.NoMatch, c.NoInput, c.Keypad = "recordings/2026/03/02/call-1.wav", 7, 2, 1, true
	sneaky := c
	sneaky.Outcome, sneaky.EndReason, sneaky.EndedAt = "resolved", "x", base.Add(time.Hour)
	sneaky.StartedAt, sneaky.Instance = base.Add(time.Hour), "other"
	sneaky.Talk, sneaky.TalkSpurts = time.Minute, 9 // the talk time is the end's
	if err := s.UpdateCall(ctx, sneaky); err != nil {
		t.Fatal(err)
	}
	sameCall(t, mustCall(t, s, "call-1"), c)

	// Ending needs an end and an outcome.
	e := c
	e.Outcome = "transferred"
	if err := s.EndCall(ctx, e); err == nil {
		t.Fatal("EndCall without EndedAt: no error")
	}
	e.Outcome, e.EndedAt = "", base.Add(95*time.Second)
	if err := s.EndCall(ctx, e); err == nil {
		t.Fatal("EndCall without Outcome: no error")
	}
	e.Outcome, e.EndReason = "transferred", "blind transfer accepted"
	e.Talk, e.TalkSpurts = 4200*time.Millisecond+400*time.Microsecond, 3 // kept in whole milliseconds
	if err := s.EndCall(ctx, e); err != nil {
		t.Fatal(err)
	}
	got := mustCall(t, s, "call-1")
	e.Talk = 4200 * time.Millisecond
	sameCall(t, got, e)
	// In JSON the talk time is integer milliseconds, and reads back.
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), `"keypad":true,"talk_ms":4200,"talk_spurts":3}`) {
		t.Errorf("JSON of the talk time: %s", b)
	}
	var back store.Call
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	sameCall(t, back, e)
	var small store.Call
	if err := json.Unmarshal([]byte(`{"id":"x","talk_ms":1500,"talk_spurts":2}`), &small); err != nil ||
		small.ID != "x" || small.Talk != 1500*time.Millisecond || small.TalkSpurts != 2 || small.Outcome != "" {
		t.Errorf("JSON with talk_ms 1500: %+v %v", small, err)
	}
	if got.Duration() != 94500*time.Millisecond || got.Open() {
		t.Fatalf("Duration %v Open %v", got.Duration(), got.Open())
	}
	// Repeating EndCall is allowed and wins.
	e.EndReason = "caller hung up"
	if err := s.EndCall(ctx, e); err != nil {
		t.Fatal(err)
	}
	sameCall(t, mustCall(t, s, "call-1"), e)

	// EndCall of a call whose StartCall was lost still leaves a record; an
	// empty Instance is this instance.
	lost := ended(newCall("call-lost", base), "abandoned", time.Second)
	lost.Instance = ""
	if err := s.EndCall(ctx, lost); err != nil {
		t.Fatal(err)
	}
	lost.Instance = "test"
	sameCall(t, mustCall(t, s, "call-lost"), lost)

	if err := s.UpdateCall(ctx, newCall("nope", base)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateCall of a missing call: %v", err)
	}
	if _, err := s.Call(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Call of a missing call: %v", err)
	}
	if _, err := s.Turns(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Turns of a missing call: %v", err)
	}
	if err := s.StartCall(ctx, store.Call{ID: "no-start"}); err == nil {
		t.Fatal("StartCall without StartedAt: no error")
	}

	// Times are kept to the microsecond and come back in UTC.
	shanghai := time.FixedZone("CST", 8*3600)
	n := newCall("call-ns", time.Date(2026, 3, 2, 17, 0, 0, 123456789, shanghai))
	mustStart(t, s, n)
	if got := mustCall(t, s, "call-ns"); !got.StartedAt.Equal(n.StartedAt.Truncate(time.Microsecond)) || got.StartedAt.Location() != time.UTC {
		t.Fatalf("StartedAt %v, want %v in UTC", got.StartedAt, n.StartedAt)
	}

	// The web API serialises calls: snake_case, no zero end on an open call.
	b, _ = json.Marshal(mustCall(t, s, "call-ns"))
	for _, k := range []string{`"caller_hash"`, `"started_at"`, `"transfer_code"`, `"no_match"`, `"talk_ms":0`, `"talk_spurts":0`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
	if strings.Contains(string(b), "ended_at") {
		t.Errorf("JSON of an open call has ended_at: %s", b)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Size(ctx); err != nil || n <= 0 {
		t.Fatalf("Size %d %v", n, err)
	}
}

func testVarsUnicode(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	c := newCall("呼叫-1@pbx.example", base)
	c.Caller = "138****8000"
	c.Tags = []string{"退款", "vip", "☎️"}
	c.Path = []string{"欢迎", "订单查询"}
	c.Node = "订单查询"
	c.Vars = map[string]any{
		"name":   "张三",
		"order":  "订单 12345",
		"amount": 12.5,
		"count":  float64(3),
		"ok":     true,
		"none":   nil,
		"quote":  `他说:"你好" <b>&</b>`,
		"nested": map[string]any{"城市": "上海", "list": []any{float64(1), "二", false}},
	}
	mustStart(t, s, c)
	sameCall(t, mustCall(t, s, c.ID), c)
	tr := mustTurn(t, s, store.Turn{CallID: c.ID, At: base.Add(time.Second), Speaker: "caller", Text: "我要退款,谢谢!",
		Input: "speech", Intent: "refund", Tier: "pinyin", Score: 0.9, Confidence: 0.71, Outcome: "matched", Node: "欢迎"})
	ts, err := s.Turns(ctx, c.ID)
	if err != nil || len(ts) != 1 || !reflect.DeepEqual(ts[0], tr) {
		t.Fatalf("Turns %+v %v, want %+v", ts, err, tr)
	}
	// Empty and nil collections come back empty, not nil (JSON [] and {}).
	e := newCall("empty", base)
	e.Tags, e.Path, e.Vars = nil, nil, nil
	mustStart(t, s, e)
	got := mustCall(t, s, "empty")
	if got.Tags == nil || got.Path == nil || got.Vars == nil || len(got.Tags)+len(got.Path)+len(got.Vars) != 0 {
		t.Fatalf("empty collections: %#v %#v %#v", got.Tags, got.Path, got.Vars)
	}
	bad := newCall("bad-vars", base)
	bad.Vars = map[string]any{"f": func() {}}
	if err := s.StartCall(ctx, bad); err == nil {
		t.Fatal("StartCall with unmarshalable Vars: no error")
	}
}

func testTurns(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	mustStart(t, s, newCall("c", base))
	var want []store.Turn
	for i := 0; i < 3; i++ {
		tr := store.Turn{CallID: "c", At: base.Add(time.Duration(i+1) * time.Second), Offset: time.Duration(i)*time.Second + 500*time.Millisecond,
			Speaker: "bot", Text: fmt.Sprintf("prompt %d", i), Confidence: -1, Node: "welcome"}
		got := mustTurn(t, s, tr)
		if got.Seq != i+1 {
			t.Fatalf("turn %d got seq %d", i, got.Seq)
		}
		tr.Seq = i + 1
		want = append(want, tr)
	}
	// An explicit Seq is kept, and the next automatic one follows it.
	five := mustTurn(t, s, store.Turn{CallID: "c", Seq: 5, At: base.Add(5 * time.Second), Speaker: "caller", Text: "0",
		Input: "dtmf", Intent: "agent", Tier: "dtmf", Score: 1, Confidence: -1, Outcome: "matched", Node: "welcome"})
	six := mustTurn(t, s, store.Turn{CallID: "c", At: base.Add(6 * time.Second), Speaker: "bot", Text: "transferring", Confidence: -1})
	if five.Seq != 5 || six.Seq != 6 {
		t.Fatalf("seqs %d %d, want 5 6", five.Seq, six.Seq)
	}
	// Repeating an explicit Seq replaces that turn (a retried write).
	two := store.Turn{CallID: "c", Seq: 2, At: base.Add(2 * time.Second), Offset: 1234567 * time.Microsecond, Speaker: "caller",
		Text: "billing please", Input: "speech", Intent: "billing", Tier: "keyword", Score: 0.82, Confidence: 0.64,
		Outcome: "low_confidence", Node: "menu"}
	mustTurn(t, s, two)
	want[1] = two
	want = append(want, five, six)
	got, err := s.Turns(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("turns:\n got  %+v\n want %+v", got, want)
	}
	if _, err := s.AddTurn(ctx, store.Turn{CallID: "nope", Text: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddTurn to a missing call: %v", err)
	}
	if _, err := s.AddTurn(ctx, store.Turn{CallID: "c", Seq: -1}); err == nil {
		t.Fatal("negative Seq: no error")
	}
	if n := counts(t, s).Turns; n != 5 {
		t.Fatalf("%d turns stored, want 5", n)
	}
}

func testListCallsFilters(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	mk := func(id string, h int, outcome, grade, caller, called, hash string) store.Call {
		c := newCall(id, base.Add(time.Duration(h)*time.Hour))
		c.Grade, c.Caller, c.Called, c.CallerHash = grade, caller, called, hash
		if outcome != "" {
			c = ended(c, outcome, time.Minute)
		}
		return c
	}
	mustStart(t, s,
		mk("a", 0, "resolved", "A", "+111", "800", "h1"),
		mk("b", 1, "transferred", "B", "+222", "800", "h2"),
		mk("c", 2, "resolved", "", "+111", "900", "h1"),
		mk("d", 3, "abandoned", "C", "+333", "800", ""),
		mk("e", 4, "", "", "+222", "+111", "h2"), // open; called +111
		mk("f", 25, "after_hours", "", "+444", "800", "h4"),
	)
	yes, no := true, false
	for _, tc := range []struct {
		name string
		f    store.CallFilter
		want string
	}{
		{"all", store.CallFilter{}, "f,e,d,c,b,a"},
		{"since", store.CallFilter{Since: base.Add(2 * time.Hour)}, "f,e,d,c"},
		{"until", store.CallFilter{Until: base.Add(2 * time.Hour)}, "b,a"},
		{"day", store.CallFilter{Since: base, Until: base.Add(24 * time.Hour)}, "e,d,c,b,a"},
		{"outcome", store.CallFilter{Outcome: []string{"resolved"}}, "c,a"},
		{"outcomes", store.CallFilter{Outcome: []string{"resolved", "abandoned"}}, "d,c,a"},
		{"grade", store.CallFilter{Grade: []string{"A", "C"}}, "d,a"},
		{"ungraded", store.CallFilter{Grade: []string{""}}, "f,e,c"},
		{"number caller or called", store.CallFilter{Number: "+111"}, "e,c,a"},
		{"hash", store.CallFilter{CallerHash: "h2"}, "e,b"},
		{"open", store.CallFilter{Open: &yes}, "e"},
		{"ended", store.CallFilter{Open: &no, Grade: []string{""}}, "f,c"},
		{"combined", store.CallFilter{Number: "+111", Outcome: []string{"resolved"}, Since: base.Add(time.Hour)}, "c"},
		{"none", store.CallFilter{Number: "+999"}, ""},
	} {
		p, err := s.ListCalls(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(p.Calls); got != tc.want || p.Total != len(p.Calls) || p.Next != "" {
			t.Errorf("%s: got %q (total %d, next %q), want %q", tc.name, got, p.Total, p.Next, tc.want)
		}
	}
	p, _ := s.ListCalls(ctx, store.CallFilter{Limit: 2})
	if ids(p.Calls) != "f,e" || p.Total != 6 || p.Next == "" {
		t.Fatalf("limit 2: %q total %d next %q", ids(p.Calls), p.Total, p.Next)
	}
	sameCall(t, p.Calls[0], mk("f", 25, "after_hours", "", "+444", "800", "h4"))
	if _, err := s.ListCalls(ctx, store.CallFilter{Cursor: "not a cursor!"}); err == nil {
		t.Fatal("bad cursor: no error")
	}
}

func testPagination(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	// 23 calls in 6 distinct start times: ties must be broken by ID, and no
	// call may be skipped or repeated across pages.
	var all []store.Call
	for i := 0; i < 23; i++ {
		c := newCall(fmt.Sprintf("call-%02d", (i*7)%23), base.Add(time.Duration(i/4)*time.Minute))
		if i%3 == 0 {
			c = ended(c, "resolved", time.Minute)
		}
		all = append(all, c)
	}
	mustStart(t, s, all...)
	sort.Slice(all, func(i, j int) bool {
		if !all[i].StartedAt.Equal(all[j].StartedAt) {
			return all[i].StartedAt.After(all[j].StartedAt)
		}
		return all[i].ID > all[j].ID
	})
	for _, tc := range []struct {
		limit int
		f     store.CallFilter
		want  []store.Call
	}{
		{5, store.CallFilter{}, all},
		{1, store.CallFilter{}, all},
		{4, store.CallFilter{Outcome: []string{"resolved"}}, filter(all, func(c store.Call) bool { return c.Outcome == "resolved" })},
		{100, store.CallFilter{}, all},
	} {
		f := tc.f
		f.Limit = tc.limit
		var got []store.Call
		pages := 0
		for {
			p, err := s.ListCalls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if p.Total != len(tc.want) {
				t.Fatalf("limit %d page %d: total %d, want %d", tc.limit, pages, p.Total, len(tc.want))
			}
			if len(p.Calls) > tc.limit || (p.Next != "" && len(p.Calls) != tc.limit) {
				t.Fatalf("limit %d page %d: %d calls, next %q", tc.limit, pages, len(p.Calls), p.Next)
			}
			got = append(got, p.Calls...)
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if ids(got) != ids(tc.want) {
			t.Fatalf("limit %d:\n got  %s\n want %s", tc.limit, ids(got), ids(tc.want))
		}
		if wantPages := (len(tc.want) + tc.limit - 1) / tc.limit; pages != wantPages {
			t.Fatalf("limit %d: %d pages, want %d", tc.limit, pages, wantPages)
		}
	}
}

func filter(cs []store.Call, keep func(store.Call) bool) []store.Call {
	var out []store.Call
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func testStats(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	mustStart(t, s,
		ended(newCall("s1", at(1)), "resolved", 60*time.Second),
		ended(newCall("s2", at(2)), "transferred", 120*time.Second),
		ended(newCall("s3", at(3)), "abandoned", 30*time.Second),
		ended(newCall("s4", at(4)), "resolved", 90*time.Second),
		newCall("s5", at(5)),
		ended(newCall("s6", at(-1)), "resolved", 10*time.Hour), // before the range
	)
	turn := func(call, speaker, input, outcome string) {
		mustTurn(t, s, store.Turn{CallID: call, At: base, Speaker: speaker, Input: input, Outcome: outcome, Confidence: -1})
	}
	turn("s1", "bot", "", "")
	turn("s1", "caller", "speech", "matched")
	turn("s1", "caller", "speech", "no_match")
	turn("s1", "caller", "dtmf", "matched")
	turn("s1", "caller", "dtmf", "collected") // digit collection, not intent matching
	turn("s1", "caller", "speech", "low_confidence")
	turn("s2", "caller", "dtmf", "invalid")
	turn("s5", "caller", "speech", "matched")
	turn("s6", "caller", "speech", "no_match") // call before the range

	q := func(group int64, text string, h int, call string) store.Question {
		return mustQuestion(t, s, store.Question{GroupID: group, CallID: call, Text: text, Norm: text, Language: "zh-CN", At: at(h)})
	}
	a := q(0, "能开发票吗", 1, "s1")
	q(a.GroupID, "可以开发票吗", 2, "s2")
	q(a.GroupID, "发票怎么开", 3, "")
	b := q(0, "你们在哪", -2, "") // two of B's questions are before the range
	q(b.GroupID, "地址在哪", -1, "s6")
	q(b.GroupID, "你们在哪里", 4, "s4")
	c := q(0, "停车方便吗", 2, "")
	q(c.GroupID, "能停车吗", 3, "")
	if err := s.ResolveGroup(ctx, c.GroupID, store.GroupAssigned, "parking", "new answer parking", "alice"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		q(0, fmt.Sprintf("其他问题 %d", i), 6, "")
	}

	st, err := s.Stats(ctx, store.StatsFilter{Since: base, Until: base.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes := map[string]int{"resolved": 2, "transferred": 1, "abandoned": 1}
	if st.Calls != 5 || st.Open != 1 || st.Ended != 4 || !reflect.DeepEqual(st.Outcomes, wantOutcomes) {
		t.Fatalf("calls %d open %d ended %d outcomes %v", st.Calls, st.Open, st.Ended, st.Outcomes)
	}
	if st.AvgHandling != 75*time.Second {
		t.Fatalf("AvgHandling %v, want 75s", st.AvgHandling)
	}
	if st.Utterances != 5 || st.NoMatch != 2 {
		t.Fatalf("utterances %d no-match %d, want 5 2", st.Utterances, st.NoMatch)
	}
	if st.ContainmentRate() != 0.5 || st.TransferRate() != 0.25 || st.AbandonRate() != 0.25 || st.NoMatchRate() != 0.4 {
		t.Fatalf("rates %v %v %v %v", st.ContainmentRate(), st.TransferRate(), st.AbandonRate(), st.NoMatchRate())
	}
	if len(st.TopUnanswered) != 10 {
		t.Fatalf("%d top unanswered, want 10", len(st.TopUnanswered))
	}
	top := st.TopUnanswered[0]
	if top.ID != a.GroupID || top.InRange != 3 || top.Count != 3 || top.Text != "能开发票吗" {
		t.Fatalf("top unanswered %+v", top)
	}
	for _, g := range st.TopUnanswered {
		if g.ID == c.GroupID {
			t.Fatal("an assigned group is among the top unanswered")
		}
	}
	st, err = s.Stats(ctx, store.StatsFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Without a range: everything; B's 3 questions tie with A's, and B was
	// asked last.
	if st.Calls != 6 || st.Utterances != 6 || st.NoMatch != 3 || st.TopUnanswered[0].ID != b.GroupID ||
		st.TopUnanswered[0].InRange != 3 || st.TopUnanswered[1].ID != a.GroupID {
		t.Fatalf("unbounded: calls %d utterances %d no-match %d top %+v", st.Calls, st.Utterances, st.NoMatch, st.TopUnanswered[:2])
	}
	// An empty range divides by nothing.
	st, err = s.Stats(ctx, store.StatsFilter{Since: at(100), Until: at(101)})
	if err != nil || st.Calls != 0 || st.ContainmentRate() != 0 || st.NoMatchRate() != 0 || st.AvgHandling != 0 {
		t.Fatalf("empty range: %+v %v", st, err)
	}
}

func testQuestions(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	mustStart(t, s, newCall("c1", base))
	t1, t2, t0 := base.Add(time.Minute), base.Add(2*time.Minute), base.Add(30*time.Second)
	q1 := mustQuestion(t, s, store.Question{CallID: "c1", Node: "welcome", Text: "你们几点关门", Norm: "你们几点关门",
		Language: "zh-CN", At: t1, Audio: "snippets/c1-1.wav", Intent: "hours", Score: 0.41})
	if q1.ID == 0 || q1.GroupID == 0 {
		t.Fatalf("AddQuestion: %+v", q1)
	}
	g1 := q1.GroupID
	q2 := mustQuestion(t, s, store.Question{GroupID: g1, CallID: "c1", Text: "几点关门啊", Norm: "几点关门啊", Language: "zh-CN", At: t2})
	q3 := mustQuestion(t, s, store.Question{GroupID: g1, Text: "关门时间", Norm: "关门时间", Language: "zh-CN", At: t0})
	q4 := mustQuestion(t, s, store.Question{Text: "Can I pay by card?", Norm: "can i pay by card", Language: "en-US", At: t0})
	g2 := q4.GroupID
	if g2 == g1 || q2.GroupID != g1 {
		t.Fatalf("groups %d %d %d", g1, q2.GroupID, g2)
	}
	g, qs, err := s.Group(ctx, g1)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Group{ID: g1, Text: "你们几点关门", Norm: "你们几点关门", Language: "zh-CN", Count: 3, FirstAt: t0, LastAt: t2, Status: "open"}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("group:\n got  %+v\n want %+v", g, want)
	}
	if !reflect.DeepEqual(qs, []store.Question{q3, q1, q2}) {
		t.Fatalf("questions of the group:\n got  %+v\n want %+v", qs, []store.Question{q3, q1, q2})
	}

	cands, err := s.CandidateGroups(ctx, "zh-CN", 0)
	if err != nil || len(cands) != 1 || cands[0].ID != g1 {
		t.Fatalf("candidates zh-CN: %+v %v", cands, err)
	}
	cands, _ = s.CandidateGroups(ctx, "", 0)
	if len(cands) != 2 || cands[0].ID != g1 || cands[1].ID != g2 {
		t.Fatalf("candidates, most recent first: %+v", cands)
	}
	if cands, _ = s.CandidateGroups(ctx, "", 1); len(cands) != 1 {
		t.Fatalf("candidates limit 1: %d", len(cands))
	}

	p, err := s.Groups(ctx, store.GroupFilter{})
	if err != nil || p.Total != 2 || len(p.Groups) != 2 || p.Groups[0].ID != g1 || p.Groups[1].ID != g2 {
		t.Fatalf("groups by count: %+v %v", p, err)
	}
	if p, _ = s.Groups(ctx, store.GroupFilter{Language: "en-US"}); p.Total != 1 || p.Groups[0].ID != g2 {
		t.Fatalf("groups en-US: %+v", p)
	}
	if p, _ = s.Groups(ctx, store.GroupFilter{Limit: 1, Offset: 1}); p.Total != 2 || len(p.Groups) != 1 || p.Groups[0].ID != g2 {
		t.Fatalf("groups page 2: %+v", p)
	}
	if p, _ = s.Groups(ctx, store.GroupFilter{Since: t1}); p.Total != 1 || p.Groups[0].ID != g1 {
		t.Fatalf("groups since: %+v", p)
	}

	// Mistakes change nothing: no orphan group, no count bump.
	before := counts(t, s)
	if _, err := s.AddQuestion(ctx, store.Question{GroupID: 99999, Text: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddQuestion to a missing group: %v", err)
	}
	if _, err := s.AddQuestion(ctx, store.Question{CallID: "nope", Text: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddQuestion of a missing call: %v", err)
	}
	if after := counts(t, s); after != before {
		t.Fatalf("failed AddQuestion changed counts: %+v → %+v", before, after)
	}

	start := time.Now().Add(-time.Second)
	if err := s.ResolveGroup(ctx, g2, store.GroupAssigned, "payment", "example of payment", "alice"); err != nil {
		t.Fatal(err)
	}
	g, _, _ = s.Group(ctx, g2)
	if g.Status != "assigned" || g.Intent != "payment" || g.Resolution != "example of payment" || g.ResolvedBy != "alice" ||
		g.ResolvedAt.Before(start) || g.ResolvedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("resolved group: %+v", g)
	}
	if cands, _ = s.CandidateGroups(ctx, "", 0); len(cands) != 1 || cands[0].ID != g1 {
		t.Fatalf("candidates after assigning g2: %+v", cands)
	}
	if p, _ = s.Groups(ctx, store.GroupFilter{Status: "assigned"}); p.Total != 1 || p.Groups[0].ID != g2 {
		t.Fatalf("assigned groups: %+v", p)
	}
	if err := s.ResolveGroup(ctx, g2, store.GroupOpen, "", "", "bob"); err != nil {
		t.Fatal(err)
	}
	if g, _, _ = s.Group(ctx, g2); g.Status != "open" || !g.ResolvedAt.IsZero() || g.ResolvedBy != "" {
		t.Fatalf("reopened group: %+v", g)
	}
	if err := s.ResolveGroup(ctx, g2, "done", "", "", ""); err == nil {
		t.Fatal("bad status: no error")
	}
	if err := s.ResolveGroup(ctx, 99999, store.GroupIgnored, "", "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ResolveGroup of a missing group: %v", err)
	}
	if _, _, err := s.Group(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Group of a missing group: %v", err)
	}
}

func testCloseInterrupted(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	onA := func(c store.Call) store.Call { c.Instance = "a"; return c }
	o1 := onA(newCall("o1", base))
	o2 := onA(newCall("o2", base.Add(time.Hour)))
	o3 := onA(newCall("o3", base.Add(2*time.Hour)))
	o3.AnsweredAt = time.Time{} // never answered, no turns: its start is all we know
	e1 := onA(ended(newCall("e1", base), "resolved", time.Minute))
	b1 := newCall("b1", base)
	b1.Instance = "b"
	mustStart(t, s, o1, o2, o3, e1, b1)
	mustTurn(t, s, store.Turn{CallID: "o1", At: base.Add(5 * time.Second), Speaker: "bot", Confidence: -1})
	mustTurn(t, s, store.Turn{CallID: "o1", At: base.Add(9 * time.Second), Speaker: "caller", Confidence: -1})
	mustTurn(t, s, store.Turn{CallID: "b1", At: base.Add(7 * time.Second), Speaker: "bot", Confidence: -1})

	now := base.Add(48 * time.Hour)
	closed, err := s.CloseInterrupted(ctx, "a", now)
	if err != nil {
		t.Fatal(err)
	}
	if ids(closed) != "o1,o2,o3" {
		t.Fatalf("closed %q, want o1,o2,o3", ids(closed))
	}
	wantEnd := map[string]time.Time{"o1": base.Add(9 * time.Second), "o2": o2.AnsweredAt, "o3": o3.StartedAt}
	for _, c := range closed {
		if c.Outcome != "interrupted" || c.EndReason != "interrupted" || !c.EndedAt.Equal(wantEnd[c.ID]) {
			t.Errorf("%s: outcome %q reason %q ended %v, want %v", c.ID, c.Outcome, c.EndReason, c.EndedAt, wantEnd[c.ID])
		}
		sameCall(t, mustCall(t, s, c.ID), c)
	}
	sameCall(t, mustCall(t, s, "e1"), e1)
	sameCall(t, mustCall(t, s, "b1"), b1)
	if closed, err = s.CloseInterrupted(ctx, "a", now); err != nil || len(closed) != 0 {
		t.Fatalf("second run closed %q %v", ids(closed), err)
	}
	// "" is this store's instance ("test"): b1 is not its call.
	if closed, _ = s.CloseInterrupted(ctx, "", now); len(closed) != 0 {
		t.Fatalf("instance test closed %q", ids(closed))
	}
	if closed, _ = s.CloseInterrupted(ctx, "b", now); ids(closed) != "b1" || !closed[0].EndedAt.Equal(base.Add(7*time.Second)) {
		t.Fatalf("instance b: %+v", closed)
	}
}

// purgeFixture: old1 and old2 ended long ago, new1 recently, open1 started
// long ago and is still open. Group G1 has a question of old1 (its
// representative) and one of new1; G2 only old1's; G3 one with no call.
func purgeFixture(t *testing.T, s store.Store) (g1, g2, g3 int64) {
	old1 := ended(newCall("old1", base), "resolved", time.Minute)
	old1.Recording = "recordings/old1.wav"
	old2 := ended(newCall("old2", base.Add(time.Hour)), "abandoned", time.Minute)
	new1 := ended(newCall("new1", base.Add(240*time.Hour)), "resolved", time.Minute)
	new1.Recording = "recordings/new1.wav"
	open1 := newCall("open1", base.Add(-720*time.Hour))
	mustStart(t, s, old1, old2, new1, open1)
	for _, n := range []struct {
		id string
		n  int
	}{{"old1", 3}, {"old2", 2}, {"new1", 1}, {"open1", 2}} {
		for i := 0; i < n.n; i++ {
			mustTurn(t, s, store.Turn{CallID: n.id, At: base, Speaker: "bot", Confidence: -1})
		}
	}
	a := mustQuestion(t, s, store.Question{CallID: "old1", Text: "旧问题", Norm: "旧问题", At: base, Audio: "snippets/old1-1.wav"})
	mustQuestion(t, s, store.Question{GroupID: a.GroupID, CallID: "new1", Text: "新问题", Norm: "新问题", At: base.Add(240 * time.Hour), Audio: "snippets/new1-1.wav"})
	b := mustQuestion(t, s, store.Question{CallID: "old1", Text: "只有旧的", At: base, Audio: "snippets/old1-2.wav"})
	c := mustQuestion(t, s, store.Question{Text: "typed in chat", At: base})
	return a.GroupID, b.GroupID, c.GroupID
}

func sub(a, b store.Counts) store.Counts {
	return store.Counts{Calls: a.Calls - b.Calls, OpenCalls: a.OpenCalls - b.OpenCalls, Turns: a.Turns - b.Turns,
		Questions: a.Questions - b.Questions, Groups: a.Groups - b.Groups, Migrations: a.Migrations - b.Migrations}
}

func testPurge(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	g1, g2, g3 := purgeFixture(t, s)
	before := counts(t, s)
	if want := (store.Counts{Calls: 4, OpenCalls: 1, Turns: 8, Questions: 4, Groups: 3, Migrations: before.Migrations}); before != want || before.Migrations == 0 {
		t.Fatalf("fixture counts %+v, want %+v", before, want)
	}
	rep, err := s.Purge(ctx, base.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := store.DeleteReport{Calls: 2, Turns: 5, Questions: 2, Groups: 1, GroupsChanged: 1,
		Files: []string{"recordings/old1.wav", "snippets/old1-1.wav", "snippets/old1-2.wav"}}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("purge report:\n got  %+v\n want %+v", rep, want)
	}
	after := counts(t, s)
	if d := sub(before, after); d != (store.Counts{Calls: 2, Turns: 5, Questions: 2, Groups: 1}) {
		t.Fatalf("counts %+v → %+v: removed %+v, report %+v", before, after, d, rep)
	}
	for _, id := range []string{"old1", "old2"} {
		if _, err := s.Call(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s after purge: %v", id, err)
		}
	}
	mustCall(t, s, "open1") // open calls are never purged, however old
	mustCall(t, s, "new1")
	g, qs, err := s.Group(ctx, g1)
	if err != nil {
		t.Fatal(err)
	}
	// G1 lost its representative: the remaining question represents it.
	if g.Count != 1 || len(qs) != 1 || g.Text != "新问题" || g.Norm != "新问题" || !g.FirstAt.Equal(base.Add(240*time.Hour)) {
		t.Fatalf("G1 after purge: %+v %+v", g, qs)
	}
	if _, _, err := s.Group(ctx, g2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("G2 after purge: %v", err)
	}
	if g, _, _ := s.Group(ctx, g3); g.Count != 1 {
		t.Fatalf("G3 (no call) after purge: %+v", g)
	}
	rep, err = s.Purge(ctx, base.Add(48*time.Hour))
	if err != nil || rep.Calls != 0 || rep.Turns != 0 || rep.Questions != 0 || rep.Groups != 0 || len(rep.Files) != 0 {
		t.Fatalf("second purge: %+v %v", rep, err)
	}
	if counts(t, s) != after {
		t.Fatal("an empty purge changed counts")
	}
}

func testForget(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	mk := func(id, hash, caller string, open bool) store.Call {
		c := newCall(id, base)
		c.CallerHash, c.Caller, c.Recording = hash, caller, "recordings/"+id+".wav"
		if !open {
			c = ended(c, "resolved", time.Minute)
		}
		return c
	}
	mustStart(t, s,
		mk("f1", "h1", "+8613800000001", false),
		mk("f2", "h1", "138****0001", false),
		mk("f3", "", "+8613800000001", false),
		mk("f4", "h2", "+8613900000002", false),
		mk("f5", "h1", "+8613800000001", true), // in progress: forgotten too
		mk("f6", "", "", false),
	)
	for _, id := range []string{"f1", "f2", "f3", "f4", "f5", "f6"} {
		mustTurn(t, s, store.Turn{CallID: id, At: base, Speaker: "bot", Confidence: -1})
		mustTurn(t, s, store.Turn{CallID: id, At: base, Speaker: "caller", Text: "我的手机号是13800000001", Confidence: -1})
	}
	shared := mustQuestion(t, s, store.Question{CallID: "f1", Text: "我的手机号是13800000001", At: base})
	mustQuestion(t, s, store.Question{GroupID: shared.GroupID, CallID: "f4", Text: "能改手机号吗", At: base.Add(time.Second)})

	if _, err := s.Forget(ctx, "", ""); err == nil {
		t.Fatal("Forget with neither hash nor number: no error")
	}
	before := counts(t, s)
	rep, err := s.Forget(ctx, "h1", "")
	if err != nil {
		t.Fatal(err)
	}
	want := store.DeleteReport{Calls: 3, Turns: 6, Questions: 1, GroupsChanged: 1,
		Files: []string{"recordings/f1.wav", "recordings/f2.wav", "recordings/f5.wav"}}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("forget h1:\n got  %+v\n want %+v", rep, want)
	}
	after := counts(t, s)
	if d := sub(before, after); d != (store.Counts{Calls: 3, OpenCalls: 1, Turns: 6, Questions: 1}) {
		t.Fatalf("counts %+v → %+v", before, after)
	}
	// The group's title was the forgotten caller's words: no longer.
	if g, _, _ := s.Group(ctx, shared.GroupID); g.Count != 1 || strings.Contains(g.Text, "13800000001") {
		t.Fatalf("group after forget: %+v", g)
	}
	rep, err = s.Forget(ctx, "", "+8613800000001")
	if err != nil || rep.Calls != 1 || rep.Turns != 2 || !reflect.DeepEqual(rep.Files, []string{"recordings/f3.wav"}) {
		t.Fatalf("forget by number: %+v %v", rep, err)
	}
	rep, err = s.Forget(ctx, "nobody", "")
	if err != nil || rep.Calls != 0 || len(rep.Files) != 0 {
		t.Fatalf("forget nobody: %+v %v", rep, err)
	}
	left, _ := s.ListCalls(ctx, store.CallFilter{})
	if ids(left.Calls) != "f6,f4" {
		t.Fatalf("left %q, want f6,f4", ids(left.Calls))
	}
	if c := counts(t, s); c.Calls != 2 || c.Turns != 4 || c.Questions != 1 || c.Groups != 1 {
		t.Fatalf("final counts %+v", c)
	}
}

func testConcurrency(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	s := fresh(t, newDSN)
	mustStart(t, s, newCall("shared", base))
	g := mustQuestion(t, s, store.Question{CallID: "shared", Text: "同一个问题", At: base})
	const calls, turns, sharedTurns, questions = 100, 10, 40, 40
	var wg sync.WaitGroup
	errs := make(chan error, calls+sharedTurns+questions+10)
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("conc-%03d", i)
			c := newCall(id, base.Add(time.Duration(i)*time.Millisecond))
			if err := s.StartCall(ctx, c); err != nil {
				errs <- err
				return
			}
			for j := 0; j < turns; j++ {
				if _, err := s.AddTurn(ctx, store.Turn{CallID: id, At: c.StartedAt.Add(time.Duration(j) * time.Second),
					Speaker: "caller", Text: "你好", Confidence: -1}); err != nil {
					errs <- err
					return
				}
				if j == turns/2 {
					c.Node, c.Turns = "menu", j
					if err := s.UpdateCall(ctx, c); err != nil {
						errs <- err
						return
					}
				}
			}
			if err := s.EndCall(ctx, ended(c, "resolved", time.Minute)); err != nil {
				errs <- err
			}
		}()
	}
	for i := 0; i < sharedTurns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AddTurn(ctx, store.Turn{CallID: "shared", Text: fmt.Sprint(i), Confidence: -1}); err != nil {
				errs <- err
			}
		}()
	}
	for i := 0; i < questions; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AddQuestion(ctx, store.Question{GroupID: g.GroupID, CallID: "shared", Text: "还是这个问题",
				At: base.Add(time.Duration(i+1) * time.Second)}); err != nil {
				errs <- err
			}
		}()
	}
	for i := 0; i < 10; i++ { // readers while the writers write
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ListCalls(ctx, store.CallFilter{Limit: 20}); err != nil {
				errs <- err
			}
			if _, err := s.Stats(ctx, store.StatsFilter{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	c := counts(t, s)
	if c.Calls != calls+1 || c.OpenCalls != 1 || c.Turns != calls*turns+sharedTurns || c.Questions != questions+1 || c.Groups != 1 {
		t.Fatalf("counts %+v", c)
	}
	ts, err := s.Turns(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range ts {
		if tr.Seq != i+1 {
			t.Fatalf("shared call's turn %d has seq %d: concurrent appends collided", i, tr.Seq)
		}
	}
	for i := 0; i < calls; i += 9 {
		ts, err := s.Turns(ctx, fmt.Sprintf("conc-%03d", i))
		if err != nil || len(ts) != turns || ts[turns-1].Seq != turns {
			t.Fatalf("call %d: %d turns %v", i, len(ts), err)
		}
	}
	if g, _, _ := s.Group(ctx, g.GroupID); g.Count != questions+1 || !g.LastAt.Equal(base.Add(questions*time.Second)) {
		t.Fatalf("group after concurrent adds: %+v", g)
	}
}

func testMigrations(t *testing.T, newDSN func(t *testing.T) string) {
	ctx := context.Background()
	dsn := newDSN(t)
	// Several instances starting together on a new database: one migrates,
	// the others wait and find nothing to do.
	const n = 4
	stores := make([]store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = store.Open(ctx, dsn, store.Options{Instance: fmt.Sprint("i", i)})
		}()
	}
	wg.Wait()
	var migrations int
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		c := counts(t, s)
		if i == 0 {
			migrations = c.Migrations
		}
		if c.Migrations == 0 || c.Migrations != migrations {
			t.Fatalf("open %d: %d migrations recorded, open 0 saw %d", i, c.Migrations, migrations)
		}
	}
	mustStart(t, stores[0], newCall("kept", base))
	for _, s := range stores {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := stores[0].Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Opening again applies nothing and keeps the data.
	s := open(t, dsn)
	if c := counts(t, s); c.Migrations != migrations || c.Calls != 1 {
		t.Fatalf("reopened: %+v", c)
	}
	// A database of the first schema, with a call, gains the talk time
	// (0002): 0 for the calls it had.
	for _, q := range []string{"ALTER TABLE calls DROP COLUMN talk_ms", "ALTER TABLE calls DROP COLUMN talk_spurts",
		"DELETE FROM schema_migrations WHERE version >= 2"} {
		if _, err := store.ExecRaw(ctx, s, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s = open(t, dsn)
	if c := counts(t, s); c.Migrations != migrations || c.Calls != 1 {
		t.Fatalf("migrated from the first schema: %+v", c)
	}
	if c := mustCall(t, s, "kept"); c.Talk != 0 || c.TalkSpurts != 0 {
		t.Fatalf("an old call's talk time: %s %d", c.Talk, c.TalkSpurts)
	}
	tc := ended(newCall("talked", base), "resolved", time.Minute)
	tc.Talk, tc.TalkSpurts = 12*time.Second, 4
	if err := s.EndCall(ctx, tc); err != nil {
		t.Fatal(err)
	}
	sameCall(t, mustCall(t, s, "talked"), tc)

	// A database migrated by a newer hotline is refused, not misread.
	if _, err := store.ExecRaw(ctx, s, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', ?)",
		appliedAt(s)); err != nil {
		t.Fatal(err)
	}
	if s2, err := store.Open(ctx, dsn, store.Options{}); err == nil {
		s2.Close()
		t.Fatal("a newer schema opened without error")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema: %v", err)
	}
}

func appliedAt(s store.Store) any {
	if store.DialectName(s) == "sqlite" {
		return time.Now().UnixMicro()
	}
	return time.Now()
}
