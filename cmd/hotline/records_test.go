package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// recFix is a store with a fixture of calls, turns and questions, and a data
// directory with some of the files they list.
type recFix struct {
	root   string // temporary directory; the data directory is root/data
	data   string
	dsn    string // --db
	config string // --config ("" for none)
	st     store.Store
	now    time.Time
	pol    privacy.NumberPolicy
	// message is the message c-old1's caller left (named in its variables,
	// in a day folder old enough for purge).
	message string
}

// recBackends runs fn on SQLite and, when HOTLINE_TEST_POSTGRES is set, on
// PostgreSQL (a fresh schema per test). Without it the PostgreSQL subtest
// skips, except in CI, which must run it.
func recBackends(t *testing.T, fn func(t *testing.T, newDSN func(t *testing.T, data string) string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T, data string) string { return filepath.Join(data, "hotline.db") })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := storetest.URL(t)
		fn(t, func(t *testing.T, _ string) string { return storetest.Schema(t, u) })
	})
}

const (
	alice = "+8613800138000"
	bob   = "+447700900123"
	carol = "+8613900139000"
	eve   = "+15550001111"
)

// newRecFix builds the fixture, keeping caller numbers with pol, and writes
// config as the --config file (default: privacy.caller_numbers pol's mode):
//
//	c-open   now-1h   in progress             alice
//	c-new    now-2d   resolved A, 5 turns      bob, recording there
//	c-after  now-3d   after_hours, ungraded    carol, called 4009999999
//	c-mid    now-10d  abandoned C, 1 turn      alice (the PBX's SIP URI as caller)
//	c-old2   now-95d  transferred B, 1 turn    bob, recording missing on disk
//	c-old1   now-100d resolved A, 2 turns      alice without a caller hash, left a message
//	c-evil   now-120d abandoned C              eve, files outside the data dir
//
// Unanswered questions: G1 {c-old1 with snippet}, G2 {c-old2, c-new},
// G3 {c-mid, c-new}, G4 {c-evil ×2, with crafted snippet paths}.
func newRecFix(t *testing.T, newDSN func(t *testing.T, data string) string, pol privacy.NumberPolicy, config string) *recFix {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	fx := &recFix{root: root, data: filepath.Join(root, "data"), now: time.Now().UTC().Truncate(time.Millisecond), pol: pol}
	if err := os.MkdirAll(filepath.Join(fx.data, "recordings"), 0o755); err != nil {
		t.Fatal(err)
	}
	fx.dsn = newDSN(t, fx.data)
	st, err := store.Open(ctx, fx.dsn, store.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx.st = st
	if config == "" {
		config = "privacy: {caller_numbers: " + pol.Mode().String() + "}\n"
	}
	fx.config = filepath.Join(root, "hotline.yaml")
	fx.write(t, "../hotline.yaml", config)
	now := fx.now
	mk := func(id string, ago time.Duration, number string, outcome, grade string, d time.Duration) store.Call {
		start := now.Add(-ago)
		c := store.Call{ID: id, Caller: pol.Keep(number), CallerHash: pol.Hash(number), Called: "4001234567",
			Script: "northwind", ScriptVersion: "v7", Language: "en-GB", StartedAt: start,
			AnsweredAt: start.Add(time.Second), Grade: grade, Tags: []string{}, Path: []string{"welcome"},
			Node: "welcome", Vars: map[string]any{}}
		if outcome != "" {
			c.Outcome, c.EndReason, c.EndedAt = outcome, "bye", c.AnsweredAt.Add(d)
		}
		return c
	}
	calls := []store.Call{
		mk("c-open", time.Hour, alice, "", "", 0),
		mk("c-new", 48*time.Hour, bob, store.OutcomeResolved, "A", 90*time.Second),
		mk("c-after", 72*time.Hour, carol, store.OutcomeAfterHours, "", 20*time.Second),
		mk("c-mid", 10*24*time.Hour, alice, store.OutcomeAbandoned, "C", 3*time.Minute),
		mk("c-old2", 95*24*time.Hour, bob, store.OutcomeTransferred, "B", time.Minute),
		mk("c-old1", 100*24*time.Hour, alice, store.OutcomeResolved, "A", 2*time.Minute),
		mk("c-evil", 120*24*time.Hour, eve, store.OutcomeAbandoned, "C", 30*time.Second),
	}
	calls[1].Recording, calls[1].Tags = "recordings/c-new.wav", []string{"outage", "vip"}
	calls[1].Path, calls[1].Node = []string{"welcome", "outage", "anything_else", "goodbye"}, "goodbye"
	calls[1].Turns, calls[1].NoMatch, calls[1].Keypad = 5, 2, true
	calls[1].Talk, calls[1].TalkSpurts = 4200*time.Millisecond, 3
	calls[2].Talk, calls[2].TalkSpurts = 1500*time.Millisecond, 1
	calls[1].Vars = map[string]any{"account": "1234#"}
	calls[2].Called = "4009999999"
	calls[4].Recording = "recordings/c-old2.wav"
	calls[4].TransferTarget, calls[4].TransferMode, calls[4].TransferResult, calls[4].TransferCode = "sip:queue@pbx.example", "blind", "answered", 200
	calls[5].Recording = "recordings/c-old1.wav"
	fx.message = "messages/" + calls[5].StartedAt.In(time.Local).Format("2006-01-02") + "/c-old1-1.wav"
	calls[5].Vars = map[string]any{"message": fx.message}
	calls[6].Recording = "../outside.wav"
	if pol.Mode() == privacy.NumbersFull {
		// In full mode: the number as a PBX wrote it (found by its hash only),
		// and an old row without a hash (found by its number only).
		calls[3].Caller = "sip:" + alice + "@pbx.example"
		calls[5].CallerHash = ""
	}
	for _, c := range calls {
		if err := st.StartCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if !c.EndedAt.IsZero() {
			if err := st.EndCall(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	turn := func(id string, off time.Duration, tr store.Turn) {
		c := calls[0]
		for _, x := range calls {
			if x.ID == id {
				c = x
			}
		}
		tr.CallID, tr.At, tr.Offset = id, c.AnsweredAt.Add(off), off
		if tr.Confidence == 0 {
			tr.Confidence = -1
		}
		if _, err := st.AddTurn(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	turn("c-new", 3200*time.Millisecond, store.Turn{Speaker: "bot", Text: "Hello, you've reached Northwind Energy.", Node: "welcome"})
	turn("c-new", 7900*time.Millisecond, store.Turn{Speaker: "caller", Text: "my power is off", Input: "speech", Intent: "outage",
		Tier: "keyword", Score: 1, Confidence: 0.91, Outcome: "matched", Node: "welcome"})
	turn("c-new", 12*time.Second, store.Turn{Speaker: "caller", Text: "the thing with the bill thing", Input: "speech", Intent: "billing",
		Score: 0.41, Confidence: 0.8, Outcome: "no_match", Node: "outage"})
	turn("c-new", 15500*time.Millisecond, store.Turn{Speaker: "caller", Text: "1234#", Input: "dtmf", Outcome: "collected", Node: "outage"})
	turn("c-new", 20100*time.Millisecond, store.Turn{Speaker: "caller", Text: "mumble", Input: "speech", Confidence: 0.32,
		Outcome: "low_confidence", Node: "anything_else"})
	turn("c-mid", 2*time.Second, store.Turn{Speaker: "caller", Text: "0", Input: "dtmf", Intent: "agent", Tier: "dtmf", Score: 1, Outcome: "matched"})
	turn("c-old2", time.Second, store.Turn{Speaker: "bot", Text: "Hello."})
	turn("c-old1", time.Second, store.Turn{Speaker: "bot", Text: "Hello."})
	turn("c-old1", 4*time.Second, store.Turn{Speaker: "caller", Text: "my number is [phone]", Input: "speech", Outcome: "no_match"})

	q := func(group int64, id string, at time.Time, text, audio string) int64 {
		got, err := st.AddQuestion(ctx, store.Question{GroupID: group, CallID: id, Text: text, Norm: strings.ToLower(text),
			Language: "en", At: at, Audio: audio})
		if err != nil {
			t.Fatal(err)
		}
		return got.GroupID
	}
	q(0, "c-old1", calls[5].AnsweredAt.Add(4*time.Second), "my number is [phone]", "snippets/q1.wav")
	g2 := q(0, "c-old2", calls[4].AnsweredAt.Add(time.Second), "do you take cheques", "")
	q(g2, "c-new", calls[1].AnsweredAt.Add(12*time.Second), "can I pay by cheque", "")
	g3 := q(0, "c-mid", calls[3].AnsweredAt.Add(time.Second), "is there a discount for pensioners", "")
	q(g3, "c-new", calls[1].AnsweredAt.Add(20*time.Second), "pensioner discount", "")
	abs := filepath.Join(root, "abs.wav")
	g4 := q(0, "c-evil", calls[6].AnsweredAt.Add(time.Second), "evil one", abs)
	q(g4, "c-evil", calls[6].AnsweredAt.Add(2*time.Second), "evil two", "recordings/link/escaped.wav")

	fx.write(t, "recordings/c-new.wav", "RIFF new")
	fx.write(t, "recordings/c-old1.wav", "RIFF old1")
	fx.write(t, "snippets/q1.wav", "RIFF q1")
	fx.write(t, fx.message, "RIFF message")
	fx.write(t, "../outside.wav", "outside")
	fx.write(t, "../abs.wav", "absolute")
	fx.write(t, "../elsewhere/escaped.wav", "escaped")
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(fx.data, "recordings", "link")); err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx *recFix) write(t *testing.T, rel, body string) {
	t.Helper()
	p := filepath.Join(fx.data, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (fx *recFix) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(fx.data, filepath.FromSlash(rel)))
	return err == nil
}

// run runs a record command on the fixture's store, in English, with no
// configuration from the environment.
func (fx *recFix) run(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	return run(t, stdin, fx.args(args)...)
}

// args adds the fixture's --data, --db and --config (unless args have one)
// and --lang en.
func (fx *recFix) args(args []string) []string {
	has := func(flag string) bool {
		for _, a := range args {
			if a == flag || strings.HasPrefix(a, flag+"=") {
				return true
			}
		}
		return false
	}
	out := append([]string(nil), args...)
	out = append(out, "--data", fx.data, "--db", fx.dsn)
	if !has("--lang") {
		out = append(out, "--lang", "en")
	}
	if !has("--config") {
		out = append(out, "--config="+fx.config)
	}
	return out
}

// runSplit runs a command with stdout and stderr apart.
func (fx *recFix) runSplit(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs(fx.args(args))
	if err := cmd.Execute(); err != nil {
		code = 2
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func recIDs(cs []store.Call) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return strings.Join(out, ",")
}

func (fx *recFix) page(t *testing.T, args ...string) store.CallPage {
	t.Helper()
	out, code := fx.run(t, "", append([]string{"calls", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("calls %v: exit %d\n%s", args, code, out)
	}
	var p store.CallPage
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("calls %v: %v\n%s", args, err, out)
	}
	return p
}

func (fx *recFix) counts(t *testing.T) store.Counts {
	t.Helper()
	c, err := fx.st.CountAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecordsCalls(t *testing.T) {
	recBackends(t, func(t *testing.T, newDSN func(*testing.T, string) string) {
		fx := newRecFix(t, newDSN, privacy.NumberPolicy{}, "")

		out, code := fx.run(t, "", "calls")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 9 || !strings.HasPrefix(lines[0], "STARTED") || lines[8] != "7 of 7" {
			t.Fatalf("table:\n%s", out)
		}
		for _, want := range []string{"TRANSFER", recLocal(fx.now.Add(-48 * time.Hour).Add(0)), "1m30s", "resolved", "4/goodbye",
			"outage,vip", "answered", "(in progress)", bob} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		// Newest first, c-new on the second line with its columns in order.
		if f := strings.Fields(lines[2]); len(f) < 8 || f[3] != bob || f[4] != "resolved" || f[5] != "A" || f[6] != "4/goodbye" {
			t.Errorf("c-new row: %q", lines[2])
		}

		p := fx.page(t)
		if recIDs(p.Calls) != "c-open,c-new,c-after,c-mid,c-old2,c-old1,c-evil" || p.Total != 7 || p.Next != "" {
			t.Fatalf("json page: %s total %d next %q", recIDs(p.Calls), p.Total, p.Next)
		}
		got, _ := fx.st.Call(context.Background(), "c-new")
		if !reflect.DeepEqual(p.Calls[1], got) {
			t.Errorf("json row differs from the store's:\n%+v\n%+v", p.Calls[1], got)
		}
		var raw struct{ Calls []map[string]any }
		json.Unmarshal([]byte(mustOut(fx.run(t, "", "calls", "--format", "json", "--limit", "1"))), &raw)
		for _, k := range []string{"id", "caller", "caller_hash", "started_at", "outcome", "grade", "tags", "path", "transfer_result", "recording"} {
			if _, ok := raw.Calls[0][k]; !ok {
				t.Errorf("json field %q missing: %v", k, raw.Calls[0])
			}
		}

		// Filters.
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--outcome", "resolved"}, "c-new,c-old1"},
			{[]string{"--outcome", "transferred, abandoned"}, "c-mid,c-old2,c-evil"},
			{[]string{"--grade", "a,B"}, "c-new,c-old2,c-old1"},
			{[]string{"--grade", "-"}, "c-open,c-after"},
			{[]string{"--open"}, "c-open"},
			{[]string{"--open=false", "--since", "30d"}, "c-new,c-after,c-mid"},
			{[]string{"--since", "7d"}, "c-open,c-new,c-after"},
			{[]string{"--until", "30d"}, "c-old2,c-old1,c-evil"},
			{[]string{"--since", fx.now.Add(-11 * 24 * time.Hour).Format(time.RFC3339), "--until", "1d"}, "c-new,c-after,c-mid"},
			{[]string{"--since", "all", "--outcome", "after_hours"}, "c-after"},
			{[]string{"--number", "4009999999"}, "c-after"},                  // the called number
			{[]string{"--number", "+86 138-0013-8000"}, "c-open,c-mid"},      // by hash only: typed differently
			{[]string{"--number", alice}, "c-open,c-mid,c-old1"},             // by hash and by number, merged
			{[]string{"--number", fx.pol.Hash(bob)}, "c-new,c-old2"},         // a stored hash
			{[]string{"--number", alice, "--outcome", "resolved"}, "c-old1"}, // with other filters
		} {
			if p := fx.page(t, tc.args...); recIDs(p.Calls) != tc.want || p.Total != len(p.Calls) {
				t.Errorf("calls %v: %s (total %d), want %s", tc.args, recIDs(p.Calls), p.Total, tc.want)
			}
		}

		// Pagination: the table's footer gives the cursor of the next page.
		var seen []string
		args := []string{"calls", "--limit", "3"}
		for i := 0; ; i++ {
			out, code := fx.run(t, "", args...)
			if code != 0 || i > 3 {
				t.Fatalf("page %d: exit %d\n%s", i, code, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, l := range lines[1 : len(lines)-1] {
				seen = append(seen, strings.Fields(l)[0]+" "+strings.Fields(l)[1])
			}
			footer := lines[len(lines)-1]
			_, next, ok := strings.Cut(footer, "next page: --cursor ")
			if !ok {
				if footer != "1 of 7" {
					t.Errorf("last footer %q", footer)
				}
				break
			}
			if !strings.HasPrefix(footer, "3 of 7; ") {
				t.Errorf("footer %q", footer)
			}
			args = []string{"calls", "--limit", "3", "--cursor", next}
		}
		if len(seen) != 7 {
			t.Errorf("pages gave %d calls: %v", len(seen), seen)
		}
		// The merged --number listing pages too, without duplicates.
		var ids []string
		cursor := ""
		for i := 0; i < 5; i++ {
			a := []string{"--number", alice, "--limit", "1"}
			if cursor != "" {
				a = append(a, "--cursor", cursor)
			}
			p := fx.page(t, a...)
			if p.Total != 3 {
				t.Errorf("merged total %d, want 3", p.Total)
			}
			ids = append(ids, recIDs(p.Calls))
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if strings.Join(ids, ",") != "c-open,c-mid,c-old1" {
			t.Errorf("merged pages: %v", ids)
		}
		if p := fx.page(t, "--number", alice, "--limit", "2", "--all"); recIDs(p.Calls) != "c-open,c-mid,c-old1" || p.Next != "" {
			t.Errorf("--all merged: %s next %q", recIDs(p.Calls), p.Next)
		}
		if p := fx.page(t, "--limit", "2", "--all"); len(p.Calls) != 7 || p.Next != "" {
			t.Errorf("--all: %s next %q", recIDs(p.Calls), p.Next)
		}

		// CSV: a header row and one row per call.
		out, code = fx.run(t, "", "calls", "--format", "csv", "--outcome", "resolved")
		if code != 0 {
			t.Fatalf("csv: exit %d\n%s", code, out)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("csv: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(rows[0], recCSVCols) || rows[1][0] != "c-new" || rows[2][0] != "c-old1" {
			t.Errorf("csv rows: %q", rows)
		}
		col := map[string]string{}
		for i, h := range rows[0] {
			col[h] = rows[1][i]
		}
		if col["caller"] != bob || col["duration_s"] != "90.000" || col["tags"] != "outage;vip" || col["grade"] != "A" ||
			col["recording"] != "recordings/c-new.wav" || col["vars"] != `{"account":"1234#"}` {
			t.Errorf("csv c-new: %v", col)
		}
		// The talk time: new columns at the end, so that scripts reading
		// columns by position keep working.
		if h := rows[0]; h[len(h)-2] != "talk_ms" || h[len(h)-1] != "talk_spurts" || col["talk_ms"] != "4200" ||
			col["talk_spurts"] != "3" || rows[2][len(h)-2] != "0" || rows[2][len(h)-1] != "0" {
			t.Errorf("csv talk time: %q", rows)
		}
		// JSON: talk_ms in integer milliseconds.
		out, code = fx.run(t, "", "calls", "--format", "json", "--outcome", "after_hours")
		if code != 0 || !strings.Contains(out, `"talk_ms": 1500,`) || !strings.Contains(out, `"talk_spurts": 1`) {
			t.Errorf("json talk time: exit %d\n%s", code, out)
		}
		if p := fx.page(t, "--outcome", "after_hours"); len(p.Calls) != 1 || p.Calls[0].Talk != 1500*time.Millisecond || p.Calls[0].TalkSpurts != 1 {
			t.Errorf("json talk time: %+v", p.Calls)
		}
	})
}

func mustOut(out string, code int) string {
	if code != 0 {
		panic(fmt.Sprintf("exit %d: %s", code, out))
	}
	return out
}

func TestRecordsShow(t *testing.T) {
	fx := newRecFix(t, func(t *testing.T, data string) string { return filepath.Join(data, "hotline.db") }, privacy.NumberPolicy{}, "")
	out, code := fx.run(t, "", "calls", "show", "c-new")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"call       c-new",
		"caller     " + bob + "  (hash " + fx.pol.Hash(bob) + ")",
		"called     4001234567",
		"script     northwind version v7 (en-GB)",
		"duration   1m30s",
		"outcome    resolved    grade A",
		"tags       outage, vip",
		"path       welcome → outage → anything_else → goodbye",
		"recording  recordings/c-new.wav  (file exists, 8 B)",
		`vars       account="1234#"`,
		"talk       caller spoke 4.2 s in 3 stretches",
		`+00:03.2  bot     "Hello, you've reached Northwind Energy."`,
		`+00:07.9  caller  "my power is off"   → outage (keyword, 1.00)`,
		`+00:12.0  caller  "the thing with the bill thing"   ✗ NO MATCH (best: billing 0.41)`,
		`+00:15.5  caller  keys 1234#   → collected`,
		`+00:20.1  caller  "mumble"   ✗ LOW CONFIDENCE (recogniser 0.32)`,
		"[outage]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, _ = fx.run(t, "", "calls", "show", "c-old2")
	for _, want := range []string{"recordings/c-old2.wav  (file missing)", "transfer   sip:queue@pbx.example (blind): answered 200",
		"talk       caller did not speak (or talk time was off)"} {
		if !strings.Contains(out, want) {
			t.Errorf("show c-old2 lacks %q:\n%s", want, out)
		}
	}
	if out, _ = fx.run(t, "", "calls", "show", "c-evil"); !strings.Contains(out, "not inside the data directory") {
		t.Errorf("show c-evil:\n%s", out)
	}
	if out, _ = fx.run(t, "", "calls", "show", "c-open"); !strings.Contains(out, "(still in progress)") || !strings.Contains(out, "(no turns recorded)") ||
		strings.Contains(out, "talk ") {
		t.Errorf("show c-open (no talk time while open):\n%s", out)
	}
	if out, _ = fx.run(t, "", "calls", "show", "c-after"); !strings.Contains(out, "talk       caller spoke 1.5 s in 1 stretch\n") {
		t.Errorf("show c-after:\n%s", out)
	}
	out, code = fx.run(t, "", "calls", "show", "--format", "json", "c-new")
	var v struct {
		Call  store.Call   `json:"call"`
		Turns []store.Turn `json:"turns"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Call.ID != "c-new" || len(v.Turns) != 5 || v.Turns[1].Intent != "outage" {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	if v.Call.Talk != 4200*time.Millisecond || v.Call.TalkSpurts != 3 || !strings.Contains(out, `"talk_ms": 4200,`) ||
		!strings.Contains(out, `"talk_spurts": 3`) {
		t.Errorf("json talk time: %s in %d\n%s", v.Call.Talk, v.Call.TalkSpurts, out)
	}
	if out, code = fx.run(t, "", "calls", "show", "nope"); code != 1 || !strings.Contains(out, `no call "nope"`) {
		t.Errorf("unknown call: exit %d %s", code, out)
	}
	if out, _ = fx.run(t, "", "calls", "show", "c-new", "--lang", "zh"); !strings.Contains(out, "来电者") || !strings.Contains(out, "未匹配") ||
		!strings.Contains(out, "来电者说话 4.2 秒,共 3 段") {
		t.Errorf("zh:\n%s", out)
	}
}

func TestRecordsStats(t *testing.T) {
	recBackends(t, func(t *testing.T, newDSN func(*testing.T, string) string) {
		fx := newRecFix(t, newDSN, privacy.NumberPolicy{}, "")
		out, code := fx.run(t, "", "stats", "--since", "30d")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		// 30 days: c-open, c-new (resolved), c-after (after_hours), c-mid
		// (abandoned). Caller turns matched against intents: c-new's matched,
		// no_match and low_confidence (its keys were collected, not matched)
		// and c-mid's key 0: 4, of which 2 found nothing.
		for _, want := range []string{
			"calls                 4  (ended 3, in progress 1)",
			"containment rate  33.3%  (1 of 3 ended calls)",
			"transfer rate      0.0%  (0 of 3 ended calls)",
			"abandon rate      33.3%  (1 of 3 ended calls)",
			"no-match rate     50.0%  (2 of 4 caller turns)",
			"avg handling      1m37s",
			`"is there a discount for pensioners"`,
			"Definitions:",
			"containment rate  calls the bot resolved without a person",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("stats lacks %q:\n%s", want, out)
			}
		}
		// The group asked twice in the range comes first.
		if i, j := strings.Index(out, "pensioners"), strings.Index(out, "cheques"); i < 0 || j < 0 || i > j {
			t.Errorf("top unanswered order:\n%s", out)
		}
		out, code = fx.run(t, "", "stats", "--since", "all", "--format", "json")
		var v map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("json: exit %d\n%s", code, out)
		}
		// All: 6 ended: resolved 2, transferred 1, abandoned 2, after_hours 1.
		near := func(k string, want float64) {
			if got, _ := v[k].(float64); got < want-0.001 || got > want+0.001 {
				t.Errorf("%s = %v, want %v", k, v[k], want)
			}
		}
		near("calls", 7)
		near("ended", 6)
		near("containment_rate", 2.0/6)
		near("transfer_rate", 1.0/6)
		near("abandon_rate", 2.0/6)
		near("no_match_rate", 3.0/5) // c-old1's no_match too
		near("avg_handling_s", (90+20+180+60+120+30)/6.0)
		if o, _ := v["outcomes"].(map[string]any); o["abandoned"] != 2.0 || o["transferred"] != 1.0 {
			t.Errorf("outcomes %v", v["outcomes"])
		}
		if top, _ := v["top_unanswered"].([]any); len(top) != 4 {
			t.Errorf("top_unanswered %v", v["top_unanswered"])
		}
		if out, _ := fx.run(t, "", "stats", "--lang", "zh", "--since", "30d"); !strings.Contains(out, "自助解决率") || !strings.Contains(out, "(已结束 3 个中的 1 个)") {
			t.Errorf("zh:\n%s", out)
		}
	})
}

func TestRecordsPurge(t *testing.T) {
	recBackends(t, func(t *testing.T, newDSN func(*testing.T, string) string) {
		fx := newRecFix(t, newDSN, privacy.NumberPolicy{}, "")
		before := fx.counts(t)

		// Dry run: counts what would go, deletes nothing; the crafted paths
		// would be refused, so the exit status is 1.
		out, code := fx.run(t, "", "purge", "--older-than", "90d", "--dry-run", "--format", "json")
		var dry recDeleteJSON
		if code != 1 || json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &dry) != nil {
			t.Fatalf("dry run: exit %d\n%s", code, out)
		}
		if fx.counts(t) != before || !fx.exists("recordings/c-old1.wav") || !fx.exists("snippets/q1.wav") {
			t.Fatal("dry run deleted something")
		}
		abs := filepath.Join(fx.root, "abs.wav")
		wantFiles := []string{"../outside.wav", abs, "recordings/c-old1.wav", "recordings/c-old2.wav", "recordings/link/escaped.wav", "snippets/q1.wav"}
		want := store.DeleteReport{Calls: 3, Turns: 3, Questions: 4, Groups: 2, GroupsChanged: 1, Files: wantFiles}
		if !reflect.DeepEqual(dry.Removed, want) {
			t.Errorf("dry run counts:\n got  %+v\n want %+v", dry.Removed, want)
		}
		if !dry.DryRun || len(dry.Files.Present) != 2 || len(dry.Files.Missing) != 1 || len(dry.Files.Refused) != 3 || dry.After != nil {
			t.Errorf("dry run files: %+v", dry.Files)
		}

		// The purge itself removes what the dry run counted, and the messages
		// of old days (which the dry run does not count).
		stdout, _, code := fx.runSplit(t, "purge", "--older-than", "90d", "--format", "json")
		var real recDeleteJSON
		if code != 1 || json.Unmarshal([]byte(stdout), &real) != nil {
			t.Fatalf("purge: exit %d (want 1: refused files)\n%s", code, stdout)
		}
		want.Files = append([]string{wantFiles[0], wantFiles[1], fx.message}, wantFiles[2:]...)
		if !reflect.DeepEqual(real.Removed, want) {
			t.Errorf("purge removed:\n got  %+v\n want %+v", real.Removed, want)
		}
		if fmt.Sprint(real.Files.Deleted) != fmt.Sprint([]string{fx.message, "recordings/c-old1.wav", "snippets/q1.wav"}) ||
			fmt.Sprint(real.Files.Missing) != "[recordings/c-old2.wav]" || len(real.Files.Refused) != 3 || len(real.Files.Failed) != 0 {
			t.Errorf("purge files: %+v", real.Files)
		}
		if real.After == nil || *real.After != fx.counts(t) {
			t.Errorf("after %+v, store has %+v", real.After, fx.counts(t))
		}
		// The same in text, on a fresh fixture.
		fx = newRecFix(t, newDSN, privacy.NumberPolicy{}, "")
		abs = filepath.Join(fx.root, "abs.wav")
		out, code = fx.run(t, "", "purge", "--older-than", "90d")
		if code != 1 {
			t.Fatalf("purge: exit %d (want 1: refused files)\n%s", code, out)
		}
		for _, w := range []string{
			fmt.Sprintf("Before:  7 calls (1 in progress), %d turns, 7 unanswered questions in 4 groups", before.Turns),
			"Removed: 3 calls (ended before",
			"3 turns, 4 unanswered questions (2 groups left empty and deleted, 1 recounted), 7 files",
			"Files:   3 deleted, 1 already missing, 3 refused",
			"REFUSED ../outside.wav", "REFUSED " + abs, "REFUSED recordings/link/escaped.wav",
			fmt.Sprintf("After:   4 calls (1 in progress), %d turns, 3 unanswered questions in 2 groups", before.Turns-3),
			"3 files were not deleted",
		} {
			if !strings.Contains(out, w) {
				t.Errorf("purge output lacks %q:\n%s", w, out)
			}
		}
		for rel, want := range map[string]bool{
			"recordings/c-old1.wav": false, "snippets/q1.wav": false, fx.message: false, // listed: deleted
			"recordings/c-new.wav": true,                                                       // a kept call's
			"../outside.wav":       true, "../abs.wav": true, "../elsewhere/escaped.wav": true, // outside: never
			"recordings/link": true,
		} {
			if fx.exists(rel) != want {
				t.Errorf("%s exists %v, want %v", rel, !want, want)
			}
		}
		if p := fx.page(t); recIDs(p.Calls) != "c-open,c-new,c-after,c-mid" {
			t.Errorf("left: %s", recIDs(p.Calls))
		}
		// Nothing left to purge: exit 0.
		out, code = fx.run(t, "", "purge", "--older-than", "90d", "--format", "json")
		var again recDeleteJSON
		if code != 0 || json.Unmarshal([]byte(out), &again) != nil || again.Removed.Calls != 0 || again.After == nil || *again.After != again.Before {
			t.Errorf("second purge: exit %d\n%s", code, out)
		}
		// A date works as well as an age; open calls never go.
		out, code = fx.run(t, "", "purge", "--older-than", fx.now.Add(24*time.Hour).Format("2006-01-02T15:04:05Z07:00"), "--verbose")
		if code != 0 || !strings.Contains(out, "Removed: 3 calls") || !strings.Contains(out, "deleted recordings/c-new.wav") {
			t.Errorf("purge by date: exit %d\n%s", code, out)
		}
		if c := fx.counts(t); c.Calls != 1 || c.OpenCalls != 1 {
			t.Errorf("after purging everything ended: %+v", c)
		}
	})
}

func TestRecordsForgetFull(t *testing.T) {
	recBackends(t, func(t *testing.T, newDSN func(*testing.T, string) string) {
		fx := newRecFix(t, newDSN, privacy.NumberPolicy{}, "")
		// Off a terminal, forget needs --yes.
		if out, code := fx.run(t, "yes\n", "forget", alice); code != 2 || !strings.Contains(out, "--yes") || fx.counts(t).Calls != 7 {
			t.Fatalf("without --yes: exit %d\n%s", code, out)
		}
		before := fx.counts(t)
		// Typed with spaces: the hash finds c-open and c-mid (stored as a SIP
		// URI), the normalised number finds c-old1 (no hash).
		stdout, stderr, code := fx.runSplit(t, "forget", "+86 138 0013 8000", "--yes", "--format", "json")
		var res recDeleteJSON
		if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "Found 3 calls of +86 138 0013 8000") || !strings.Contains(stderr, "by number and unkeyed hash") ||
			!strings.Contains(stderr, "1 of them in progress") {
			t.Errorf("summary on stderr: %s", stderr)
		}
		want := store.DeleteReport{Calls: 3, Turns: 3, Questions: 2, Groups: 1, GroupsChanged: 1,
			Files: []string{fx.message, "recordings/c-old1.wav", "snippets/q1.wav"}}
		if !reflect.DeepEqual(res.Removed, want) {
			t.Errorf("removed:\n got  %+v\n want %+v", res.Removed, want)
		}
		if !reflect.DeepEqual(res.Files.Deleted, want.Files) || res.Before != before || res.After == nil || *res.After != fx.counts(t) {
			t.Errorf("files %+v before %+v after %+v", res.Files, res.Before, res.After)
		}
		if res.After.Calls != 4 || res.After.OpenCalls != 0 || res.After.Questions != 5 {
			t.Errorf("after %+v", res.After)
		}
		if fx.exists("recordings/c-old1.wav") || fx.exists("snippets/q1.wav") || fx.exists(fx.message) || !fx.exists("recordings/c-new.wav") {
			t.Error("files: wrong ones deleted")
		}
		if p := fx.page(t); recIDs(p.Calls) != "c-new,c-after,c-old2,c-evil" {
			t.Errorf("left: %s", recIDs(p.Calls))
		}
		// The group c-mid's question titled is retitled by c-new's words.
		st, _ := fx.st.Stats(context.Background(), store.StatsFilter{})
		for _, g := range st.TopUnanswered {
			if strings.Contains(g.Text, "pensioners") {
				t.Errorf("forgotten caller's words still a group title: %+v", g)
			}
		}
		// Bob, in text.
		out, code := fx.run(t, "", "forget", bob, "--yes")
		if code != 0 {
			t.Fatalf("forget bob: exit %d\n%s", code, out)
		}
		for _, w := range []string{"Found 2 calls", "Removed: 2 calls (of this caller), 6 turns, 3 unanswered questions (2 groups left empty and deleted, 0 recounted)",
			"deleted recordings/c-new.wav", "missing recordings/c-old2.wav", "After:   2 calls (0 in progress)"} {
			if !strings.Contains(out, w) {
				t.Errorf("forget bob lacks %q:\n%s", w, out)
			}
		}
		// Nobody: nothing found, exit 0.
		if out, code := fx.run(t, "", "forget", "+8613700000000", "--yes"); code != 0 || !strings.Contains(out, "No calls of +8613700000000") ||
			!strings.Contains(out, "Removed: 0 calls") {
			t.Errorf("nobody: exit %d\n%s", code, out)
		}
	})
}

// recKeyConfig is a serve configuration keeping numbers in mode with a key.
func recKeyConfig(mode, key string) string {
	return fmt.Sprintf("listen: [\"udp:127.0.0.1:5060\"]\nprivacy:\n  caller_numbers: %s\n  hash_key: %q\n", mode, key)
}

func TestRecordsForgetMasked(t *testing.T) {
	recBackends(t, func(t *testing.T, newDSN func(*testing.T, string) string) {
		pol, err := privacy.ParseNumberPolicy("masked", []byte("s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		fx := newRecFix(t, newDSN, pol, recKeyConfig("masked", "s3cret"))
		if c, _ := fx.st.Call(context.Background(), "c-mid"); c.Caller != pol.Keep(alice) || !strings.Contains(c.Caller, "**") {
			t.Fatalf("fixture caller %q", c.Caller)
		}
		// --number finds masked calls by the keyed hash.
		if p := fx.page(t, "--number", alice); recIDs(p.Calls) != "c-open,c-mid,c-old1" {
			t.Errorf("--number masked: %s", recIDs(p.Calls))
		}
		// A masked number stands for many callers: refused.
		if out, code := fx.run(t, "", "forget", pol.Keep(alice), "--yes"); code != 2 || !strings.Contains(out, "masked") {
			t.Errorf("masked argument: exit %d\n%s", code, out)
		}
		// Without the key the hash does not match: nothing found, and a hint.
		cfg := fx.config
		fx.config = ""
		out, code := fx.run(t, "", "forget", alice, "--yes")
		if code != 0 || !strings.Contains(out, "No calls of") || !strings.Contains(out, "No hash key is configured") || fx.counts(t).Calls != 7 {
			t.Errorf("forget without the key: exit %d\n%s", code, out)
		}
		fx.config = cfg
		out, code = fx.run(t, "", "forget", alice, "--yes")
		if code != 0 || !strings.Contains(out, "Found 3 calls") || !strings.Contains(out, "by keyed hash.") ||
			!strings.Contains(out, "deleted recordings/c-old1.wav") {
			t.Fatalf("forget masked: exit %d\n%s", code, out)
		}
		if p := fx.page(t); recIDs(p.Calls) != "c-new,c-after,c-old2,c-evil" {
			t.Errorf("left: %s", recIDs(p.Calls))
		}
	})
}

func TestRecordsForgetHash(t *testing.T) {
	recBackends(t, func(t *testing.T, newDSN func(*testing.T, string) string) {
		root := t.TempDir()
		keyFile := filepath.Join(root, "hash.key")
		if err := os.WriteFile(keyFile, []byte("k3y-from-file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		pol, err := privacy.ParseNumberPolicy("hash", []byte("k3y-from-file"))
		if err != nil {
			t.Fatal(err)
		}
		fx := newRecFix(t, newDSN, pol, fmt.Sprintf("privacy: {caller_numbers: hash, hash_key_file: %q}\n", keyFile))
		if p := fx.page(t, "--number", "0044 7700 900123"); recIDs(p.Calls) != "c-new,c-old2" {
			t.Errorf("--number hashed: %s", recIDs(p.Calls))
		}
		out, code := fx.run(t, "", "calls", "--number", bob)
		if code != 0 || strings.Contains(out, bob) || !strings.Contains(out, pol.Hash(bob)) {
			t.Errorf("table shows the stored hash, not the number:\n%s", out)
		}
		stdout, _, code := fx.runSplit(t, "forget", bob, "--yes", "--format", "json")
		var res recDeleteJSON
		if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("exit %d\n%s", code, stdout)
		}
		if res.Removed.Calls != 2 || !reflect.DeepEqual(res.Files.Deleted, []string{"recordings/c-new.wav"}) ||
			!reflect.DeepEqual(res.Files.Missing, []string{"recordings/c-old2.wav"}) || res.Match == nil || !res.Match.Keyed ||
			res.Match.Mode != "hash" || res.Match.Hash != pol.Hash(bob) {
			t.Errorf("forget hashed: %+v", res)
		}
		if fx.exists("recordings/c-new.wav") || !fx.exists("recordings/c-old1.wav") {
			t.Error("wrong files deleted")
		}
		if c := fx.counts(t); c.Calls != 5 {
			t.Errorf("after %+v", c)
		}
	})
}

func TestRecordsConfigAndUsage(t *testing.T) {
	fx := newRecFix(t, func(t *testing.T, data string) string { return filepath.Join(data, "hotline.db") }, privacy.NumberPolicy{}, "")
	// The data directory alone finds the SQLite store (unless HOTLINE_DB says
	// otherwise in this environment).
	if os.Getenv("HOTLINE_DB") == "" {
		if out, code := run(t, "", "calls", "--data", fx.data, "--config=", "--lang", "en"); code != 0 || !strings.Contains(out, "7 of 7") {
			t.Errorf("--data only: exit %d\n%s", code, out)
		}
		// And so does the config file's data key.
		cfg := filepath.Join(fx.root, "serve.yaml")
		os.WriteFile(cfg, []byte("data: "+fx.data+"\nmax_calls: 10\n"), 0o600)
		if out, code := run(t, "", "stats", "--config", cfg, "--since", "all"); code != 0 || !strings.Contains(out, "(ended 6, in progress 1)") {
			t.Errorf("--config data: exit %d\n%s", code, out)
		}
		// A flag beats the file.
		if out, code := run(t, "", "stats", "--config", cfg, "--data", filepath.Join(fx.root, "nowhere")); code != 2 || !strings.Contains(out, "no call records") {
			t.Errorf("--data over config: exit %d\n%s", code, out)
		}
	}
	bad := filepath.Join(fx.root, "bad.yaml")
	os.WriteFile(bad, []byte("privacy: [oops"), 0o600)
	nokey := filepath.Join(fx.root, "nokey.yaml")
	os.WriteFile(nokey, []byte("privacy: {caller_numbers: hash}\n"), 0o600)
	cursor := fx.page(t, "--limit", "1").Next
	for _, args := range [][]string{
		{"calls", "--since", "7x"},
		{"calls", "--until", "yesterday"},
		{"calls", "--since", "1d", "--until", "2d"},
		{"calls", "--format", "xml"},
		{"calls", "--limit", "0"},
		{"calls", "--limit", "1001"},
		{"calls", "--cursor", "garbage!"},
		{"calls", "--number", alice, "--cursor", cursor}, // a plain listing's cursor for a merged one
		{"calls", "--all", "--cursor", cursor},
		{"calls", "extra"},
		{"calls", "show"},
		{"calls", "show", "c-new", "--format", "csv"},
		{"stats", "--since", "last week"},
		{"stats", "--format", "csv"},
		{"purge"},
		{"purge", "--older-than", "90"},
		{"purge", "--older-than", "-90d"},
		{"purge", "--older-than", "90d", "--format", "yaml"},
		{"forget"},
		{"forget", "anonymous", "--yes"},
		{"forget", "12", "--yes"},
		{"forget", "138****8000", "--yes"},
		{"forget", fx.pol.Hash(bob), "--yes"},
		{"forget", alice, "--yes", "--config", bad},
		{"forget", alice, "--yes", "--config", nokey},
		{"calls", "--bogus"},
	} {
		if out, code := fx.run(t, "", args...); code != 2 {
			t.Errorf("%v: want exit 2, got %d\n%s", args, code, out)
		}
	}
	// A missing store is not created.
	missing := filepath.Join(fx.root, "missing")
	if out, code := run(t, "", "calls", "--data", missing, "--db", "", "--config="); code != 2 || !strings.Contains(out, "no call records") {
		t.Errorf("missing data dir: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a missing data directory was created")
	}
}

func TestRecordsParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h":                       now.Add(-24 * time.Hour),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"2w":                        now.Add(-14 * 24 * time.Hour),
		"1d12h":                     now.Add(-36 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"1.5d":                      now.Add(-36 * time.Hour),
		"0d":                        now,
		"2026-11-01":                time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local),
		"2026-11-01T14:30":          time.Date(2026, 11, 1, 14, 30, 0, 0, time.Local),
		"2026-11-01 14:30:05":       time.Date(2026, 11, 1, 14, 30, 5, 0, time.Local),
		"2026-11-01T14:30:00+08:00": time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC),
		"2026-11-01T06:30:00Z":      time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC),
	} {
		got, err := recParseWhen("since", in, now, "en")
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7", "d", "7x", "-7d", "7d ago", "2026-13-01", "2026-11-01T25:00", "9999999d", "1h-2m"} {
		if _, err := recParseWhen("since", in, now, "en"); err == nil {
			t.Errorf("%q: no error", in)
		} else if ee, ok := err.(*exitError); !ok || ee.code != 2 || !strings.Contains(ee.msg, "--since") {
			t.Errorf("%q: %v", in, err)
		}
	}
	if _, err := recParseWhen("until", "x", now, "zh"); err == nil || !strings.Contains(err.Error(), "应为") {
		t.Errorf("zh message: %v", err)
	}
}

func TestRecordsHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"+8613800138000": "+8613800138000", "+861******8000": "+861******8000", "-12.5": "-12.5", "+44 (0)20 7946 0958": "+44 (0)20 7946 0958",
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
		"@SUM(A1)": "'@SUM(A1)", "-2+3+cmd": "'-2+3+cmd", "plain": "plain", "": "",
	} {
		if got := recCSVSafe(in); got != want {
			t.Errorf("recCSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
	if got := recClean("a\x1b[31mb\u202ec"); got != "a?[31mb?c" {
		t.Errorf("recClean: %q", got)
	}
	if recWidth("来电者") != 6 || recWidth("abc") != 3 || recTrunc("outage,vip,billing", 10) != "outage,vi…" {
		t.Error("widths")
	}
	for d, want := range map[time.Duration]string{3200 * time.Millisecond: "+00:03.2", 62*time.Second + 340*time.Millisecond: "+01:02.3",
		time.Hour + 2*time.Minute + 3*time.Second: "+1:02:03.0", -time.Second: "-00:01.0"} {
		if got := recOffset(d); got != want {
			t.Errorf("recOffset(%v) = %q, want %q", d, got, want)
		}
	}
	for in, want := range map[string]bool{"yes\n": true, "是\n": true, "y\n": false, "no\n": false, "": false, "YES": true} {
		var out bytes.Buffer
		if got, err := recConfirm(strings.NewReader(in), &out, "sure? "); got != want || err != nil || out.String()[:6] != "sure? " {
			t.Errorf("recConfirm(%q) = %v %v", in, got, err)
		}
	}
	if got := recRedactURL("postgres://hotline:secret@db:5432/x?sslmode=disable"); got != "postgres://hotline:********@db:5432/x?sslmode=disable" {
		t.Errorf("recRedactURL: %s", got)
	}
	// Files: a data directory that does not exist has nothing in it; paths
	// outside it are refused without being looked at.
	st := recCheckFiles(filepath.Join(t.TempDir(), "none"), []string{"a.wav", "/etc/passwd", "../x", "a/../b"}, nil)
	if st["a.wav"] != recMissing || st["/etc/passwd"] != recRefused || st["../x"] != recRefused || st["a/../b"] != recRefused {
		t.Errorf("no data dir: %v", st)
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "recordings"), 0o755)
	os.WriteFile(filepath.Join(dir, "recordings", "a.wav"), nil, 0o600)
	st = recCheckFiles(dir, []string{"recordings", "recordings/a.wav", "recordings/b.wav"}, nil)
	if st["recordings"] != recRefused || st["recordings/a.wav"] != recPresent || st["recordings/b.wav"] != recMissing {
		t.Errorf("check: %v", st)
	}
	before := map[string]string{"a": recPresent, "b": recMissing, "c": recRefused, "d": recPresent}
	after := map[string]string{"a": recMissing, "b": recMissing, "c": recPresent, "d": recPresent, "e": recMissing}
	got := recFilesReport([]string{"a", "b", "c", "d", "e", "a"}, before, after)
	if fmt.Sprint(got.Deleted, got.Missing, got.Refused, got.Failed) != "[a e] [b] [c] [{d not deleted}]" || got.problems() != 2 {
		t.Errorf("report: %+v", got)
	}
	got = recFilesReport([]string{"a", "b", "c"}, before, nil)
	if fmt.Sprint(got.Present, got.Missing, got.Refused) != "[a] [b] [c]" || len(got.Deleted) != 0 {
		t.Errorf("dry report: %+v", got)
	}
}

// HOTLINE_HASH_KEY and HOTLINE_CALLER_NUMBERS win over the file, as for
// hotline serve.
func TestRecordsEnvKey(t *testing.T) {
	pol, err := privacy.ParseNumberPolicy("hash", []byte("from-env"))
	if err != nil {
		t.Fatal(err)
	}
	fx := newRecFix(t, func(t *testing.T, data string) string { return filepath.Join(data, "hotline.db") }, pol,
		"privacy: {caller_numbers: masked, hash_key: not-this-one}\n")
	if p := fx.page(t, "--number", alice); recIDs(p.Calls) != "" {
		t.Errorf("with the file's key: %s", recIDs(p.Calls))
	}
	t.Setenv("HOTLINE_HASH_KEY", "from-env")
	t.Setenv("HOTLINE_CALLER_NUMBERS", "hash")
	if p := fx.page(t, "--number", alice); recIDs(p.Calls) != "c-open,c-mid,c-old1" {
		t.Errorf("with HOTLINE_HASH_KEY: %s", recIDs(p.Calls))
	}
	stdout, _, code := fx.runSplit(t, "forget", alice, "--yes", "--format", "json")
	var res recDeleteJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Removed.Calls != 3 || res.Match.Mode != "hash" || !res.Match.Keyed {
		t.Errorf("forget with HOTLINE_HASH_KEY: exit %d\n%s", code, stdout)
	}
	t.Setenv("HOTLINE_CALLER_NUMBERS", "sometimes")
	if out, code := fx.run(t, "", "calls"); code != 2 || !strings.Contains(out, "caller_numbers") {
		t.Errorf("bad HOTLINE_CALLER_NUMBERS: exit %d\n%s", code, out)
	}
}
