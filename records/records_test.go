package records

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/dialog/match"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/store"
)

const menu = `name: menu
language: en-GB
start: welcome
defaults:
  listen: {timeout: 5s, digit_timeout: 500ms, input: [dtmf]}
  retries: 2
intents:
  sales: {dtmf: "1"}
  agent: {dtmf: "0"}
nodes:
  welcome:
    say: "Welcome. For sales press 1."
    routes: {sales: sales}
  sales:
    say: "Sales. Goodbye."
    hangup: true
`

func TestOutcome(t *testing.T) {
	st := func(outcome string, f func(*dialog.State)) dialog.State {
		s := dialog.State{Outcome: outcome, EndReason: "engine says"}
		if f != nil {
			f(&s)
		}
		return s
	}
	for _, c := range []struct {
		name   string
		f      call.Finish
		want   string
		reason string
	}{
		{"resolved", call.Finish{Started: true, State: st("resolved", nil)}, store.OutcomeResolved, "engine says"},
		{"transferred", call.Finish{Started: true, State: st("transferred", nil)}, store.OutcomeTransferred, "engine says"},
		{"message", call.Finish{Started: true, State: st("message_left", nil)}, store.OutcomeMessageLeft, "engine says"},
		{"after hours", call.Finish{Started: true, State: st("after_hours", nil)}, store.OutcomeAfterHours, "engine says"},
		{"abandoned", call.Finish{Started: true, State: st("abandoned", nil)}, store.OutcomeAbandoned, "engine says"},
		{"unresolved", call.Finish{Started: true, State: st("unresolved", nil)}, OutcomeUnresolved, "engine says"},
		{"script error", call.Finish{Started: true, State: st("error", nil)}, store.OutcomeError, "engine says"},
		{"panic", call.Finish{Started: true, Failed: true, Reason: "error", State: st("", func(s *dialog.State) { s.EndReason = "" })}, store.OutcomeError, "error"},
		{"panic after the end", call.Finish{Started: true, Failed: true, State: st("resolved", nil)}, store.OutcomeError, "engine says"},
		{"set-up failed", call.Finish{Reason: "error", Failed: true}, store.OutcomeError, "error"},
		{"shutdown", call.Finish{Started: true, Reason: "shutdown", State: dialog.State{Answered: true}}, store.OutcomeInterrupted, "shutdown"},
		{"transferred, engine not told", call.Finish{Started: true, Reason: "x", State: dialog.State{Transferred: true}}, store.OutcomeTransferred, "x"},
		{"never ended, answered", call.Finish{Started: true, Reason: "x", State: dialog.State{Answered: true}}, store.OutcomeResolved, "x"},
		{"never ended", call.Finish{Started: true, Reason: "x"}, store.OutcomeAbandoned, "x"},
	} {
		got, reason := Outcome(c.f)
		if got != c.want || reason != c.reason {
			t.Errorf("%s: %q (%q), want %q (%q)", c.name, got, reason, c.want, c.reason)
		}
	}
}

func TestGrade(t *testing.T) {
	for _, c := range []struct {
		outcome string
		st      dialog.State
		want    string
	}{
		{"resolved", dialog.State{}, "A"},
		{"resolved", dialog.State{InputNoMatch: 1}, "A"},
		{"resolved", dialog.State{InputNoMatch: 2}, "B"},
		{"after_hours", dialog.State{}, "A"},
		{"message_left", dialog.State{InputNoMatch: 3}, "B"},
		{"transferred", dialog.State{}, "B"},
		{"abandoned", dialog.State{}, "C"},
		{"unresolved", dialog.State{}, "C"},
		{"error", dialog.State{}, "C"},
		{"interrupted", dialog.State{}, "C"},
		{"abandoned", dialog.State{Grade: "A"}, "A"}, // the script's own grade wins
	} {
		if got := Grade(DefaultGrades, c.outcome, c.st); got != c.want {
			t.Errorf("%s %+v: grade %q, want %q", c.outcome, c.st, got, c.want)
		}
	}
	custom := []GradeRule{{Grade: "good", Outcomes: []string{"resolved"}, MaxNoInput: intp(0)}, {Grade: "bad", Outcomes: []string{"abandoned"}}}
	if err := ValidateGrades(custom); err != nil {
		t.Fatal(err)
	}
	if g := Grade(custom, "resolved", dialog.State{InputNoInputs: 1}); g != "" {
		t.Errorf("no rule fits, got %q", g)
	}
	if g := Grade(custom, "resolved", dialog.State{}); g != "good" {
		t.Errorf("got %q", g)
	}
	if err := ValidateGrades([]GradeRule{{Outcomes: []string{"solved"}, MaxNoMatch: intp(-1)}}); err == nil ||
		!strings.Contains(err.Error(), "grade is needed") || !strings.Contains(err.Error(), `"solved"`) || !strings.Contains(err.Error(), "negative") {
		t.Errorf("bad rules: %v", err)
	}
}

// A live call on loopback, keys only: the row from the answer to the end,
// the caller's number masked with its keyed hash, the turns of both sides
// in order with their offsets, the key that matched nothing as a question
// (no audio), the recording, the outcome and the default grade.
func TestCallRecord(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var st store.Store
			if backend == "sqlite" {
				st = sqliteStore(t)
			} else {
				st = postgresStore(t)
			}
			policy := maskedPolicy(t)
			b := newBench(t, st, menu, Options{Numbers: policy, Redactor: privacy.New()})
			id := b.dial("+8613800138000", "7@1500ms", "1@1500ms")
			c := b.ended(id)
			if c.Caller != "+861******8000" || c.CallerHash != policy.Hash("+8613800138000") || c.Called != "ivr" {
				t.Errorf("caller %q hash %q called %q", c.Caller, c.CallerHash, c.Called)
			}
			if c.Outcome != store.OutcomeResolved || c.Grade != "A" || strings.Join(c.Path, ">") != "welcome>sales" ||
				c.Node != "sales" || c.NoMatch != 1 || c.Script != "menu" || c.Language != "en-GB" || c.Instance != "test" {
				t.Errorf("call row %+v", c)
			}
			if c.Duration() <= 0 || c.EndReason == "" {
				t.Errorf("duration %s end reason %q", c.Duration(), c.EndReason)
			}
			if c.Talk != 0 || c.TalkSpurts != 0 { // keys only (RFC 4733): the caller said nothing
				t.Errorf("talk %s in %d stretches from a caller who only pressed keys", c.Talk, c.TalkSpurts)
			}
			if c.Vars["caller"] != "+861******8000" {
				t.Errorf("the caller variable is stored as %v, want the masked number", c.Vars["caller"])
			}
			if !strings.HasPrefix(c.Recording, "recordings/") {
				t.Errorf("recording %q, want a path relative to the data directory", c.Recording)
			} else if _, info, err := wav.ReadFile(filepath.Join(b.data, c.Recording)); err != nil || info.Duration < 2*time.Second {
				t.Errorf("recording %s: %v %+v", c.Recording, err, info)
			}
			turns, err := st.Turns(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, tu := range turns {
				got = append(got, tu.Speaker+":"+tu.Text+":"+tu.Outcome)
				if tu.Seq != i+1 || (i > 0 && tu.Offset < turns[i-1].Offset) {
					t.Errorf("turn %d: seq %d offset %s after %s", i, tu.Seq, tu.Offset, turns[max(i-1, 0)].Offset)
				}
			}
			want := []string{"bot:Welcome. For sales press 1.:", "caller:7:no_match", "bot:Sorry, I didn't understand.:",
				"bot:Welcome. For sales press 1.:", "caller:1:matched", "bot:Sales. Goodbye.:"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("turns\n got %q\nwant %q", got, want)
			}
			if len(turns) == len(want) {
				k := turns[4]
				if k.Input != "dtmf" || k.Intent != "sales" || k.Tier != "dtmf" || k.Score != 1 || k.Confidence != -1 || k.Node != "welcome" {
					t.Errorf("key turn %+v", k)
				}
				if turns[1].Tier != "" || turns[1].Intent != "" {
					t.Errorf("no-match turn %+v", turns[1])
				}
			}
			groups, err := st.Groups(context.Background(), store.GroupFilter{})
			if err != nil || len(groups.Groups) != 1 {
				t.Fatalf("groups %+v %v", groups, err)
			}
			_, qs, err := st.Group(context.Background(), groups.Groups[0].ID)
			if err != nil || len(qs) != 1 || qs[0].Text != "7" || qs[0].CallID != id || qs[0].Audio != "" || qs[0].Node != "welcome" {
				t.Errorf("questions %+v %v", qs, err)
			}
			if s := b.rec.Stats(); !s.OK || s.Failed != 0 || s.Dropped != 0 || s.Questions != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// fakeCall is a call as the hooks see it, for driving them directly.
func fakeCall(id string) *sip.Call { return &sip.Call{ID: id} }

// Speech that matched nothing, driven through the hooks: the turn, the
// question and the variables are redacted; the question keeps its audio
// snippet (a WAV in the data directory); a message file is stored relative
// to the data directory.
func TestSpokenQuestionRedacted(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t)
	data := t.TempDir()
	rec := New(Options{Store: st, DataDir: data, Redactor: privacy.New(), Logger: testLogger()})
	c := fakeCall("q1@example")
	s, err := dialog.Parse("t.yaml", []byte(menu))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	rec.answer(c, call.Answer{At: at, Script: s, Recording: filepath.Join(data, "recordings", "2026-03-04", "q1.wav")})
	rec.prompt(c, call.Prompt{At: at.Add(10 * time.Millisecond), Node: "welcome", Text: "Your number is 13800138000?"})
	rec.prompt(c, call.Prompt{At: at.Add(20 * time.Millisecond), Node: "welcome", File: "audio/hello.wav", Text: "Hello"})
	said := "my id is 11010519491231002X card 6222021234567890128 mail john@example.com phone 13800138000"
	audio := make([]int16, 8000)
	for i := range audio {
		audio[i] = int16(i % 3000)
	}
	vars := map[string]any{"note": "call 13800138000", "message": filepath.Join(data, "messages", "2026-03-04", "q1-5.wav"),
		"result": map[string]any{"email": "john@example.com", "n": 3.0}}
	rec.input(c, call.Input{
		Understood: dialog.Understood{Node: "welcome", Input: "speech", Text: said, Outcome: "no_match",
			Result: match.Result{Index: -1, Candidates: []match.Candidate{{Intent: "sales", Score: 0.3}}}},
		At: at.Add(3 * time.Second), Confidence: 0.8, Audio: audio,
		State: dialog.State{Node: "welcome", Path: []string{"welcome"}, Vars: vars, InputNoMatch: 1, Turns: 1},
	})
	rec.finish(c, call.Finish{At: at.Add(5 * time.Second), Started: true, Reason: "caller hung up",
		State: dialog.State{Outcome: "abandoned", EndReason: "caller hung up", Vars: vars, InputNoMatch: 1}})
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	row, err := st.Call(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Outcome != "abandoned" || row.Grade != "C" || row.Recording != "" {
		t.Errorf("row %+v (no recording was made: Finish.Recording is empty)", row)
	}
	if row.Vars["note"] != "call [phone]" || row.Vars["message"] != "messages/2026-03-04/q1-5.wav" ||
		row.Vars["result"].(map[string]any)["email"] != "[email]" || row.Vars["result"].(map[string]any)["n"] != 3.0 {
		t.Errorf("vars %v", row.Vars)
	}
	turns, _ := st.Turns(context.Background(), c.ID)
	if len(turns) != 3 || turns[0].Text != "Your number is [phone]?" || turns[1].Text != "Hello (audio/hello.wav)" {
		t.Fatalf("turns %+v", turns)
	}
	tu := turns[2]
	if tu.Text != "my id is [id] card [card] mail [email] phone [phone]" || tu.Confidence != 0.8 || tu.Offset != 3*time.Second || tu.Input != "speech" {
		t.Errorf("caller turn %+v", tu)
	}
	groups, _ := st.Groups(context.Background(), store.GroupFilter{})
	if len(groups.Groups) != 1 {
		t.Fatalf("groups %+v", groups)
	}
	g, qs, _ := st.Group(context.Background(), groups.Groups[0].ID)
	if len(qs) != 1 {
		t.Fatalf("questions %+v", qs)
	}
	q := qs[0]
	for _, text := range []string{q.Text, q.Norm, g.Text, g.Norm} {
		for _, pii := range []string{"13800138000", "6222021234567890128", "11010519491231002", "john"} {
			if strings.Contains(strings.ToLower(text), pii) {
				t.Errorf("%q is stored: %q", pii, text)
			}
		}
	}
	if q.Intent != "sales" || q.Score != 0.3 || q.Language != "en-GB" {
		t.Errorf("question %+v", q)
	}
	if q.Audio != "snippets/2026-03-04/q1_example-1.wav" {
		t.Errorf("snippet path %q", q.Audio)
	}
	pcm, info, err := wav.ReadFile(filepath.Join(data, q.Audio))
	if err != nil || info.SampleRate != 8000 || info.Channels != 1 || len(pcm) != len(audio) {
		t.Errorf("snippet: %v %+v %d samples", err, info, len(pcm))
	}
}

// The caller's talk time (call.Finish) goes into the call's row at the end,
// and only there: zeros for a call measured with talk time off.
func TestTalkTimeRecorded(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t)
	rec := New(Options{Store: st, DataDir: t.TempDir(), Logger: testLogger()})
	s, err := dialog.Parse("t.yaml", []byte(menu))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	talked, off := fakeCall("talk1@example"), fakeCall("talk2@example")
	for _, c := range []*sip.Call{talked, off} {
		rec.answer(c, call.Answer{At: at, Script: s})
	}
	rec.finish(talked, call.Finish{At: at.Add(time.Minute), Started: true, Reason: "caller hung up",
		State: dialog.State{Outcome: "abandoned", Turns: 2}, Talk: 4200 * time.Millisecond, TalkSpurts: 3})
	rec.finish(off, call.Finish{At: at.Add(time.Minute), Started: true, Reason: "caller hung up",
		State: dialog.State{Outcome: "abandoned"}})
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		id     string
		talk   time.Duration
		spurts int
	}{{talked.ID, 4200 * time.Millisecond, 3}, {off.ID, 0, 0}} {
		row, err := st.Call(context.Background(), want.id)
		if err != nil {
			t.Fatal(err)
		}
		if row.Open() || row.Talk != want.talk || row.TalkSpurts != want.spurts {
			t.Errorf("%s: talk %s in %d stretches (open %v), want %s in %d", want.id, row.Talk, row.TalkSpurts,
				row.Open(), want.talk, want.spurts)
		}
	}
}

// slowStore holds StartCall until released: the database has stalled.
type slowStore struct {
	store.Store
	release chan struct{}
	once    sync.Once
}

func (s *slowStore) StartCall(ctx context.Context, c store.Call) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.StartCall(ctx, c)
}

func (s *slowStore) unblock() { s.once.Do(func() { close(s.release) }) }

// A stalled database never holds a call up for more than the wait: writes
// beyond the queue are dropped and counted, the rest are written once it
// recovers, and Close drains them.
func TestQueueFullDrops(t *testing.T) {
	t.Parallel()
	slow := &slowStore{Store: sqliteStore(t), release: make(chan struct{})}
	defer slow.unblock()
	rec := New(Options{Store: slow, Workers: 1, Queue: 4, Wait: 5 * time.Millisecond, EndWait: 5 * time.Millisecond, Logger: testLogger()})
	s, _ := dialog.Parse("t.yaml", []byte(menu))
	now := time.Now()
	var longest time.Duration
	for i := range 20 {
		c := fakeCall("slow-" + string(rune('a'+i)))
		start := time.Now()
		rec.answer(c, call.Answer{At: now, Script: s})
		rec.prompt(c, call.Prompt{At: now, Text: "hello"})
		rec.finish(c, call.Finish{At: now, Started: true, State: dialog.State{Outcome: "resolved"}})
		longest = max(longest, time.Since(start))
	}
	if longest > 200*time.Millisecond {
		t.Errorf("a call's hooks took %s with the database stalled", longest)
	}
	stats := rec.Stats()
	if stats.Dropped == 0 || stats.QueueDepth == 0 {
		t.Errorf("stats with the database stalled: %+v", stats)
	}
	slow.unblock()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	stats = rec.Stats()
	if stats.QueueDepth != 0 || stats.Written == 0 || stats.Written+stats.Failed+stats.Dropped != 60 {
		t.Errorf("after the drain: %+v", stats)
	}
	// Drops after Close are counted, not a panic.
	rec.answer(fakeCall("late"), call.Answer{At: now, Script: s})
	if rec.Stats().Dropped != stats.Dropped+1 {
		t.Errorf("a write after Close: %+v", rec.Stats())
	}
}

// Close gives up at its deadline on a database that never answers, and
// stops its workers.
func TestCloseBounded(t *testing.T) {
	t.Parallel()
	slow := &slowStore{Store: sqliteStore(t), release: make(chan struct{})}
	rec := New(Options{Store: slow, Logger: testLogger()})
	s, _ := dialog.Parse("t.yaml", []byte(menu))
	rec.answer(fakeCall("stuck"), call.Answer{At: time.Now(), Script: s})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := rec.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Close: %v after %s", err, time.Since(start))
	}
}

// writeFile creates a file in dir with some bytes.
func writeFile(t *testing.T, dir, rel string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("RIFF"), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// Purge and Forget delete the rows and the files they name, and nothing
// outside the data directory, whatever the store says.
func TestPurgeAndForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqliteStore(t)
	data := t.TempDir()
	outside := writeFile(t, t.TempDir(), "precious.wav")
	// A link inside the data directory to a folder outside it.
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(data, "link")); err != nil {
		t.Fatal(err)
	}
	policy := maskedPolicy(t)
	old := time.Now().AddDate(0, 0, -40)
	mk := func(id, number, rec string, ended time.Time, vars map[string]any) {
		c := store.Call{ID: id, Caller: policy.Keep(number), CallerHash: policy.Hash(number), StartedAt: ended.Add(-time.Minute),
			AnsweredAt: ended.Add(-time.Minute), EndedAt: ended, Outcome: "resolved", Recording: rec, Vars: vars}
		if err := st.EndCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	oldDay := old.Format("2006-01-02")
	rec1 := "recordings/" + oldDay + "/old.wav"
	writeFile(t, data, rec1)
	mk("old", "+8613800138000", rec1, old, nil)
	snip := "snippets/" + oldDay + "/old-1.wav"
	writeFile(t, data, snip)
	if _, err := st.AddQuestion(ctx, store.Question{CallID: "old", Text: "huh", Norm: "huh", At: old, Audio: snip}); err != nil {
		t.Fatal(err)
	}
	msgOld := writeFile(t, data, "messages/"+oldDay+"/old-1.wav")
	mk("evil1", "+441234", "../"+filepath.Base(filepath.Dir(outside))+"/precious.wav", old, nil)
	mk("evil2", "+441235", outside, old, nil)
	mk("evil3", "+441236", "link/precious.wav", old, nil)
	newRec := "recordings/" + time.Now().Format("2006-01-02") + "/new.wav"
	writeFile(t, data, newRec)
	msgNew := "messages/" + time.Now().Format("2006-01-02") + "/new-1.wav"
	writeFile(t, data, msgNew)
	mk("new", "+8613800138000", newRec, time.Now().Add(-time.Hour), map[string]any{"message": msgNew})

	rep, err := Purge(ctx, st, data, time.Now().AddDate(0, 0, -30), testLogger())
	if err == nil {
		t.Error("Purge: no error for the paths outside the data directory")
	}
	if rep.Calls != 4 || rep.Questions != 1 {
		t.Errorf("purge report %+v", rep)
	}
	for _, p := range []string{rec1, snip} {
		if exists(filepath.Join(data, p)) {
			t.Errorf("%s is still there after the purge", p)
		}
	}
	if exists(msgOld) || exists(filepath.Join(data, "recordings", oldDay)) {
		t.Error("the old message or the empty day folder is still there")
	}
	if !exists(outside) {
		t.Fatal("Purge deleted a file outside the data directory")
	}
	if !exists(filepath.Join(data, newRec)) {
		t.Fatal("Purge deleted a recording of a call within the retention")
	}

	// Forget the caller: the newer call goes, with its recording and message.
	rep, err = Forget(ctx, st, data, policy, "008613800138000")
	if err != nil || rep.Calls != 1 {
		t.Fatalf("forget: %+v %v", rep, err)
	}
	if exists(filepath.Join(data, newRec)) || exists(filepath.Join(data, msgNew)) {
		t.Error("Forget left the caller's recording or message")
	}
	if n, _ := st.CountAll(ctx); n.Calls != 0 {
		t.Errorf("%d calls left", n.Calls)
	}
}

// Recover closes what a crash left open and fixes its recording's header.
func TestRecover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqliteStore(t)
	data := t.TempDir()
	rel := "recordings/2026-03-04/open.wav"
	p := filepath.Join(data, filepath.FromSlash(rel))
	os.MkdirAll(filepath.Dir(p), 0o750)
	w, err := wav.Create(p, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = 1000
	}
	for range 100 { // 2 s
		w.WriteFrame(frame, frame)
	}
	// The header is fixed every few seconds: a crash now leaves it short.
	w.Flush()
	f, _ := os.OpenFile(p, os.O_RDWR, 0)
	f.WriteAt([]byte{0, 0, 0, 0}, 40) // the data chunk's size, as a crash before the first fix-up leaves it
	f.Close()
	at := time.Now().Add(-time.Minute)
	if err := st.StartCall(ctx, store.Call{ID: "open", StartedAt: at, AnsweredAt: at, Recording: rel}); err != nil {
		t.Fatal(err)
	}
	if err := st.EndCall(ctx, store.Call{ID: "done", StartedAt: at, EndedAt: at.Add(time.Second), Outcome: "resolved"}); err != nil {
		t.Fatal(err)
	}
	closed, err := Recover(ctx, st, data, "test", time.Now(), testLogger())
	if err != nil || len(closed) != 1 || closed[0].ID != "open" {
		t.Fatalf("recover: %+v %v", closed, err)
	}
	c, _ := st.Call(ctx, "open")
	if c.Outcome != store.OutcomeInterrupted || c.Open() {
		t.Errorf("the open call after Recover: %+v", c)
	}
	if d, _ := st.Call(ctx, "done"); d.Outcome != "resolved" {
		t.Errorf("an ended call was changed: %+v", d)
	}
	_, info, err := wav.ReadFile(p)
	if err != nil || info.Duration < 1900*time.Millisecond {
		t.Errorf("the recording after Recover: %v %+v", err, info)
	}
	w.Close()
}
