package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", for reading every value

	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// The call records of `hotline serve` (records/, docs/operations.md "Call
// records"), from the outside: calls placed with `hotline call`, the
// database opened by the test afterwards (SQLite beside serve, which a
// second reader may open; PostgreSQL when HOTLINE_TEST_POSTGRES is set),
// and the files the records name checked on disk.

// recordsScript is the records tests' hotline: speech and keys.
const recordsScript = "testdata/records/script.yaml"

// fixedTranscriber is an OpenAI-compatible transcription server that
// answers every request with the same text (settable), whatever was said.
type fixedTranscriber struct {
	*httptest.Server
	text     atomic.Value // string
	requests atomic.Int32
}

func newFixedTranscriber(t *testing.T, text string) *fixedTranscriber {
	ft := &fixedTranscriber{}
	ft.text.Store(text)
	ft.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft.requests.Add(1)
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/audio/transcriptions") {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		_ = r.ParseMultipartForm(16 << 20)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"text": ft.text.Load().(string)})
	}))
	t.Cleanup(ft.Close)
	return ft
}

// asrConfig writes a serve configuration that recognises speech with ft.
func asrConfig(t *testing.T, ft *fixedTranscriber, more string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	conf := fmt.Sprintf("asr: {backend: openai, url: %q, model: whisper-e2e, timeout: 4s, max_in_flight: 4}\n%s", ft.URL+"/v1", more)
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// openRecords opens serve's SQLite store in its data directory (serve
// keeps it open: WAL mode lets a second process read and write).
func openRecords(t *testing.T, dataDir string) store.Store {
	t.Helper()
	st, err := store.OpenDir(context.Background(), dataDir, store.Options{})
	if err != nil {
		t.Fatalf("opening serve's records: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitRecord waits until the call's row is ended in the store.
func waitRecord(t *testing.T, st store.Store, id string, within time.Duration) store.Call {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := st.Call(context.Background(), id)
		if err == nil && !c.Open() {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the record of call %s is not ended after %s: %+v %v", id, within, c, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storeHealth is /healthz's store entry.
type storeHealth struct {
	Backend    string  `json:"backend"`
	OK         bool    `json:"ok"`
	QueueDepth int     `json:"queue_depth"`
	Written    int     `json:"written"`
	Failed     int     `json:"failed"`
	Dropped    int     `json:"dropped"`
	Questions  int     `json:"questions"`
	Snippets   int     `json:"snippets"`
	AvgWriteMS float64 `json:"avg_write_ms"`
	MaxWriteMS float64 `json:"max_write_ms"`
	LastError  string  `json:"last_error"`
}

func (s *server) storeHealth() (storeHealth, error) {
	var h struct {
		Store storeHealth `json:"store"`
	}
	res, err := httpClient.Get("http://" + s.HTTP + "/healthz")
	if err != nil {
		return h.Store, err
	}
	defer res.Body.Close()
	err = json.NewDecoder(res.Body).Decode(&h)
	return h.Store, err
}

// waitStoreIdle waits until serve's record writes are all done.
func (s *server) waitStoreIdle(t *testing.T, within time.Duration) storeHealth {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		h, err := s.storeHealth()
		if err == nil && h.QueueDepth == 0 {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve's record writes are not done after %s: %+v %v", within, h, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// turnsOf describes a call's turns for messages: speaker:input:outcome:intent:text.
func turnsOf(ts []store.Turn) string {
	var b strings.Builder
	for _, tu := range ts {
		fmt.Fprintf(&b, "  %d %s %s:%s:%s:%s %q (offset %s, confidence %.2f)\n", tu.Seq, tu.Node, tu.Speaker, tu.Input,
			tu.Outcome, tu.Intent, tu.Text, tu.Offset.Round(time.Millisecond), tu.Confidence)
	}
	return b.String()
}

// TestCallRecords: a live call with speech and keys leaves its record: the
// row (outcome, path, caller as the number policy keeps it), the turns of
// both sides, the recording on disk; the utterance that matched nothing is
// an unanswered question with its audio snippet, a WAV file that exists.
func TestCallRecords(t *testing.T) {
	t.Parallel()
	const heard = "what colour is the sky"
	ft := newFixedTranscriber(t, heard)
	s := startServe(t, serveOptions{Script: recordsScript, Args: []string{"--config", asrConfig(t, ft, "")}})
	c := startCaller(t, s, "records-a", "--say", "What colour is the sky?@1s")
	id := c.callID(s, 20*time.Second)
	if id == "" {
		t.Fatalf("no call answered:\n%s", c.out.text())
	}
	s.waitLog(30*time.Second, "the utterance not understood", msg("understood", "call_id", id, "input", "speech", "outcome", "no_match"))
	time.Sleep(300 * time.Millisecond)
	c.send("1") // barge-in: the key stops the prompt
	end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
	if code := c.wait(15 * time.Second); code != 0 || end.Str("outcome") != "resolved" {
		t.Errorf("the call ended %q (hotline call exit %d); its log:\n%s", end.Str("outcome"), code, s.callLog(id))
	}
	s.waitStoreIdle(t, 10*time.Second)
	st := openRecords(t, s.Data)
	call := waitRecord(t, st, id, 10*time.Second)
	turns, err := st.Turns(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("call %s: %s, grade %s, path %v, %s; turns:\n%s", id, call.Outcome, call.Grade, call.Path, call.Duration(), turnsOf(turns))
	var problems []string
	if call.Outcome != "resolved" || call.Grade != "A" || strings.Join(call.Path, ">") != "welcome>sales" ||
		call.Script != "e2e-records" || call.NoMatch != 1 || call.Caller != "records-a" && !strings.Contains(call.Caller, "*") {
		problems = append(problems, fmt.Sprintf("call row %+v", call))
	}
	if call.CallerHash == "" || call.Instance == "" || call.AnsweredAt.IsZero() || call.Duration() < time.Second {
		problems = append(problems, fmt.Sprintf("caller hash %q, instance %q, answered %s, duration %s", call.CallerHash, call.Instance, call.AnsweredAt, call.Duration()))
	}
	if call.Recording == "" {
		problems = append(problems, "no recording in the row")
	} else if _, info, err := wav.ReadFile(filepath.Join(s.Data, call.Recording)); err != nil || info.Channels != 2 || info.Duration < time.Second {
		problems = append(problems, fmt.Sprintf("recording %s: %v %+v", call.Recording, err, info))
	}
	has := func(what string, f func(store.Turn) bool) {
		if !slices.ContainsFunc(turns, f) {
			problems = append(problems, "no turn: "+what)
		}
	}
	has("the bot's welcome", func(tu store.Turn) bool {
		return tu.Speaker == "bot" && tu.Node == "welcome" && strings.HasPrefix(tu.Text, "Records test.")
	})
	has("the caller's utterance, no match", func(tu store.Turn) bool {
		return tu.Speaker == "caller" && tu.Input == "speech" && tu.Text == heard && tu.Outcome == "no_match" && tu.Offset > 0
	})
	has("the caller's key 1 for sales", func(tu store.Turn) bool {
		return tu.Speaker == "caller" && tu.Input == "dtmf" && tu.Text == "1" && tu.Intent == "sales" && tu.Tier == "dtmf"
	})
	has("the goodbye", func(tu store.Turn) bool {
		return tu.Speaker == "bot" && tu.Text == "Sales. Goodbye." && tu.Node == "sales"
	})
	for i := 1; i < len(turns); i++ {
		if turns[i].Offset < turns[i-1].Offset {
			problems = append(problems, fmt.Sprintf("turn %d's offset %s is before turn %d's %s", turns[i].Seq, turns[i].Offset, turns[i-1].Seq, turns[i-1].Offset))
		}
	}
	// The unanswered question, with its snippet.
	groups, err := st.Groups(context.Background(), store.GroupFilter{})
	if err != nil || len(groups.Groups) != 1 {
		t.Fatalf("groups: %+v %v\n%s", groups, err, strings.Join(problems, "\n"))
	}
	_, qs, err := st.Group(context.Background(), groups.Groups[0].ID)
	if err != nil || len(qs) != 1 {
		t.Fatalf("questions: %+v %v", qs, err)
	}
	q := qs[0]
	if q.Text != heard || q.CallID != id || q.Node != "welcome" || q.Norm == "" || q.Language != "en-GB" {
		problems = append(problems, fmt.Sprintf("question %+v", q))
	}
	if q.Audio == "" {
		problems = append(problems, "the question has no audio snippet")
	} else {
		pcm, info, err := wav.ReadFile(filepath.Join(s.Data, filepath.FromSlash(q.Audio)))
		t.Logf("snippet %s: %+v, %s of sound", q.Audio, info, activeTime(pcm))
		if err != nil || info.SampleRate != 8000 || info.Channels != 1 || info.Duration < 500*time.Millisecond || activeTime(pcm) < 300*time.Millisecond {
			problems = append(problems, fmt.Sprintf("snippet %s: %v %+v", q.Audio, err, info))
		}
	}
	if h, err := s.storeHealth(); err != nil || !h.OK || h.Failed != 0 || h.Dropped != 0 || h.Questions != 1 || h.Snippets != 1 || h.Backend != "sqlite" {
		problems = append(problems, fmt.Sprintf("/healthz store: %+v %v", h, err))
	} else {
		t.Logf("/healthz store: %+v", h)
	}
	if len(problems) > 0 {
		t.Errorf("%s\nturns:\n%s\nthe call's log:\n%s", strings.Join(problems, "\n"), turnsOf(turns), s.callLog(id))
	}

	// The same call in the Prometheus metrics (no login needed).
	res, err := httpClient.Get("http://" + s.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`hotline_calls_total{outcome="resolved"} 1`,
		`hotline_turns_total{outcome="no_match"} 1`,
		`hotline_rtp_packets_total{direction="in"}`,
		`hotline_sip_requests_total{method="INVITE"} 1`,
		`hotline_store_write_duration_seconds_count{op="end"} 1`,
	} {
		if res.StatusCode != 200 || !strings.Contains(string(scrape), want) {
			t.Errorf("/metrics (%d) has no %s", res.StatusCode, want)
		}
	}
}

// TestRecordsRedacted: a caller gives a Chinese mobile number, a resident
// ID with a valid checksum, a bank card number and an e-mail address (as
// the recogniser writes them down). None of them may be anywhere in the
// database — every text column of every table — nor in serve's log.
func TestRecordsRedacted(t *testing.T) {
	t.Parallel()
	const said = "my mobile is 13812345678 my id is 11010519491231002X card 6222021234567890128 email john.smith@example.com"
	secrets := []string{"13812345678", "11010519491231002", "6222021234567890128", "john.smith", "example.com"}
	ft := newFixedTranscriber(t, said)
	s := startServe(t, serveOptions{Script: recordsScript, Args: []string{"--config", asrConfig(t, ft, "")}})
	c := startCaller(t, s, "records-d", "--say", "My number is one three eight, and so on.@1s")
	id := c.callID(s, 20*time.Second)
	if id == "" {
		t.Fatalf("no call answered:\n%s", c.out.text())
	}
	s.waitLog(30*time.Second, "the utterance", msg("understood", "call_id", id, "input", "speech"))
	time.Sleep(300 * time.Millisecond)
	c.send("1")
	s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
	c.wait(15 * time.Second)
	s.waitStoreIdle(t, 10*time.Second)
	st := openRecords(t, s.Data)
	waitRecord(t, st, id, 10*time.Second)
	turns, _ := st.Turns(context.Background(), id)
	if !slices.ContainsFunc(turns, func(tu store.Turn) bool {
		return tu.Input == "speech" && strings.Contains(tu.Text, "[phone]") && strings.Contains(tu.Text, "[id]") &&
			strings.Contains(tu.Text, "[card]") && strings.Contains(tu.Text, "[email]")
	}) {
		t.Errorf("no redacted utterance among the turns:\n%s", turnsOf(turns))
	}

	// Every text value of every table, read as the database has it.
	db, err := sqlDB(filepath.Join(s.Data, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	cells, err := db.allText()
	if err != nil {
		t.Fatal(err)
	}
	if cells < 20 {
		t.Errorf("only %d text values in the database: was anything stored?", cells)
	}
	for _, v := range db.values {
		for _, sec := range secrets {
			if strings.Contains(strings.ToLower(v.text), sec) {
				t.Errorf("%s.%s holds %q: %q", v.table, v.column, sec, v.text)
			}
		}
	}
	t.Logf("%d text values in %d tables, none with the caller's personal data", cells, len(db.tables))
	s.logs.wait(100 * time.Millisecond)
	log := s.logs.text()
	if !strings.Contains(log, "[phone]") {
		t.Errorf("serve's log does not show the redacted utterance:\n%s", s.callLog(id))
	}
	for _, sec := range secrets {
		if i := strings.Index(strings.ToLower(log), sec); i >= 0 {
			t.Errorf("serve's log holds %q: …%s…", sec, log[max(0, i-200):min(len(log), i+100)])
		}
	}
}

// TestCrashRecords: kill -9 under calls. Twenty calls: ten short ones that
// end before the kill, ten that are on hold when serve is killed. Restarted
// on the same data directory (and instance), serve closes the open rows as
// interrupted before it takes calls; every call that ended before the kill
// is intact (ended, its outcome, its turns); every recording is a valid WAV
// whose header matches its size.
//
// Not parallel: twenty calls, each with its own `hotline call` process,
// load a 2-core machine enough to make the timing measurements of the other
// tests (a late RTP frame, a cut syllable) fail; alone it takes a few
// seconds, before the parallel tests start.
func TestCrashRecords(t *testing.T) {
	const n = 10
	s := startServe(t, serveOptions{Script: recordsScript, MaxCalls: 50, Args: []string{"--instance", "crash-e2e", "--asr", "none"}})
	var callers []*bgCall
	for i := range n {
		callers = append(callers, startHotlineCall(t, s.URI, "--from", fmt.Sprintf("sip:short%d@127.0.0.1", i), "--dtmf", "1@1500ms", "--duration", "20s"))
		callers = append(callers, startHotlineCall(t, s.URI, "--from", fmt.Sprintf("sip:long%d@127.0.0.1", i), "--dtmf", "9@1500ms", "--duration", "50s"))
		time.Sleep(50 * time.Millisecond)
	}
	ids := map[string]string{} // caller name → Call-ID
	for i := range n {
		for _, name := range []string{fmt.Sprintf("short%d", i), fmt.Sprintf("long%d", i)} {
			l := s.waitLog(30*time.Second, "call answered for "+name, msg("call answered", "caller", name))
			ids[name] = l.Str("call_id")
		}
	}
	// The short calls end; the long ones are on hold.
	for i := range n {
		s.waitLog(30*time.Second, "short call ended", msg("call ended", "call_id", ids[fmt.Sprintf("short%d", i)]))
		s.waitLog(30*time.Second, "long call on hold", msg("understood", "call_id", ids[fmt.Sprintf("long%d", i)], "intent", "hold"))
	}
	for _, c := range callers {
		if strings.Contains(strings.Join(c.args, " "), "sip:short") {
			if code := c.wait(20 * time.Second); code != 0 {
				t.Errorf("a short call exited %d:\n%s", code, c.output())
			}
		}
	}
	h := s.waitStoreIdle(t, 10*time.Second)
	t.Logf("before the kill: /healthz store %+v", h)
	if h.Dropped != 0 || h.Failed != 0 {
		t.Errorf("record writes dropped or failed before the kill: %+v", h)
	}
	health, _ := s.health()
	if health.ActiveCalls != n {
		t.Errorf("%d calls in progress at the kill, want %d", health.ActiveCalls, n)
	}

	s.stopped = true
	if err := s.cmd.Process.Kill(); err != nil { // SIGKILL, this PID only
		t.Fatal(err)
	}
	<-s.done
	for _, c := range callers {
		c.stop() // the long callers would wait for their RTP time-out
	}

	// The same data directory and instance, new ports.
	s2 := startServe(t, serveOptions{Script: recordsScript, Args: []string{"--instance", "crash-e2e", "--asr", "none", "--data", s.Data}})
	closed := s2.waitLog(5*time.Second, "interrupted calls closed", msg("interrupted calls closed"))
	if closed.Str("calls") != fmt.Sprint(n) {
		t.Errorf("serve closed %s interrupted calls at start-up, want %d: %s", closed.Str("calls"), n, closed.Raw)
	}
	st := openRecords(t, s.Data)
	ctx := context.Background()
	for name, id := range ids {
		c, err := st.Call(ctx, id)
		if err != nil {
			t.Errorf("%s (%s): %v", name, id, err)
			continue
		}
		turns, _ := st.Turns(ctx, id)
		switch {
		case strings.HasPrefix(name, "short"):
			if c.Open() || c.Outcome != "resolved" || strings.Join(c.Path, ">") != "welcome>sales" || len(turns) < 3 ||
				!slices.ContainsFunc(turns, func(tu store.Turn) bool { return tu.Text == "Sales. Goodbye." }) {
				t.Errorf("%s, ended before the kill, is not intact: %+v\n%s", name, c, turnsOf(turns))
			}
		default:
			if c.Open() || c.Outcome != store.OutcomeInterrupted || c.EndedAt.Before(c.AnsweredAt) || len(turns) < 2 ||
				!slices.ContainsFunc(turns, func(tu store.Turn) bool { return tu.Intent == "hold" }) {
				t.Errorf("%s, in progress at the kill: %+v\n%s", name, c, turnsOf(turns))
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(s.Data, "recordings", "*", "*.wav"))
	if len(files) != 2*n {
		t.Errorf("%d recordings, want %d", len(files), 2*n)
	}
	for _, f := range files {
		if err := checkWAVSizes(f); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		} else if _, info, err := wav.ReadFile(f); err != nil || info.Duration < time.Second {
			t.Errorf("%s: %v %+v", filepath.Base(f), err, info)
		}
	}
	counts, _ := st.CountAll(ctx)
	t.Logf("after the restart: %+v", counts)
	if counts.OpenCalls != 0 || counts.Calls != 2*n {
		t.Errorf("counts after the restart: %+v", counts)
	}
}

// checkWAVSizes checks that a WAV file's RIFF and data sizes match the
// file's length (what a crash leaves wrong, and Repair fixes).
func checkWAVSizes(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return errors.New("not a RIFF/WAVE file")
	}
	if riff := int(binary.LittleEndian.Uint32(b[4:])); riff != len(b)-8 {
		return fmt.Errorf("RIFF size %d, file %d bytes (want %d)", riff, len(b), len(b)-8)
	}
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if id == "data" {
			if size != len(b)-off-8 {
				return fmt.Errorf("data size %d, %d bytes of data in the file", size, len(b)-off-8)
			}
			return nil
		}
		off += 8 + size + size&1
	}
	return errors.New("no data chunk")
}

// TestLearnedFileReload is the learning loop with a live server: a caller's
// question matches nothing and lands in the unanswered inbox; staff list the
// inbox and assign the question to an intent with `hotline unanswered`
// (which writes the learned file beside the script); serve sees the file,
// reloads without a restart, and the next call with the same question takes
// the new route. The records go to PostgreSQL when HOTLINE_TEST_POSTGRES is
// set.
func TestLearnedFileReload(t *testing.T) {
	t.Parallel()
	const phrase = "I would like a new contract"
	dir := t.TempDir()
	src, err := os.ReadFile(recordsScript)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	db := postgresSchemaURL(t)
	ft := newFixedTranscriber(t, phrase)
	s := startServe(t, serveOptions{Script: script, Args: []string{"--config", asrConfig(t, ft, ""), "--db", db}})
	h0, _ := s.health()

	// The first caller asks what the script does not know: no match, and the
	// question goes to the unanswered inbox.
	first := startCaller(t, s, "records-e0", "--say", phrase+"@1s", "--duration", "6s")
	id0 := first.callID(s, 20*time.Second)
	if id0 == "" {
		t.Fatalf("no call answered:\n%s", first.out.text())
	}
	if u := s.waitLog(30*time.Second, "the phrase not understood", spokenUnderstood(id0)); u.Str("outcome") != "no_match" {
		t.Fatalf("before teaching, the phrase was %s (%s); the call's log:\n%s", u.Str("outcome"), u.Str("intent"), s.callLog(id0))
	}
	first.wait(15 * time.Second)
	s.waitStoreIdle(t, 10*time.Second)

	// Staff find it in the inbox and assign it to an intent, with the
	// command line, against the same database; the serve is not restarted.
	out, code := runHotline(t, 30*time.Second, "unanswered", "list", "--db", db, "--format", "json")
	var page struct {
		Groups []struct {
			ID    int64  `json:"id"`
			Text  string `json:"text"`
			Count int    `json:"count"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil {
		t.Fatalf("hotline unanswered list: exit %d, %v:\n%s", code, err, out)
	}
	var group int64
	for _, g := range page.Groups {
		if strings.EqualFold(g.Text, phrase) {
			group = g.ID
		}
	}
	if group == 0 {
		t.Fatalf("the question is not in the inbox:\n%s", out)
	}
	out, code = runHotline(t, 30*time.Second, "unanswered", "assign", strconv.FormatInt(group, 10),
		"--intent", "sales", "--script", script, "--db", db, "--format", "json")
	var res struct {
		Changed bool   `json:"changed"`
		Version string `json:"script_version"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || !res.Changed || res.Version == "" {
		t.Fatalf("hotline unanswered assign: exit %d, %v:\n%s", code, err, out)
	}
	taught := time.Now()
	l := s.waitLog(5*time.Second, "script reloaded", msg("script reloaded", "trigger", "files changed"))
	t.Logf("reloaded %s after the assignment: %s", l.Time.Sub(taught).Round(time.Millisecond), l.Raw)
	if l.Str("script_version") != res.Version || l.Str("script_version") == h0.Version {
		t.Errorf("reloaded version %s, want the learned script's %s (was %s)", l.Str("script_version"), res.Version, h0.Version)
	}
	if h, _ := s.health(); h.Version != res.Version {
		t.Errorf("/healthz version %s after the reload, want %s", h.Version, res.Version)
	}

	c := startCaller(t, s, "records-e", "--say", phrase+"@1s")
	id := c.callID(s, 20*time.Second)
	if id == "" {
		t.Fatalf("no call answered:\n%s", c.out.text())
	}
	u := s.waitLog(30*time.Second, "the phrase understood", spokenUnderstood(id))
	end := s.waitLog(20*time.Second, "call ended", msg("call ended", "call_id", id))
	if u.Str("intent") != "sales" || end.Str("outcome") != "resolved" || end.Str("path") != "welcome>sales" {
		t.Errorf("the taught phrase was understood as %q (%s), the call ended %q at %q; its log:\n%s",
			u.Str("intent"), u.Str("tier"), end.Str("outcome"), end.Str("path"), s.callLog(id))
	}
	c.wait(15 * time.Second)
	s.waitStoreIdle(t, 10*time.Second)
	if h, _ := s.storeHealth(); h.Backend != "postgres" {
		t.Errorf("/healthz store backend %q, want postgres", h.Backend)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	call := waitRecord(t, st, id, 10*time.Second)
	turns, _ := st.Turns(context.Background(), id)
	if call.ScriptVersion != res.Version || call.Outcome != "resolved" ||
		!slices.ContainsFunc(turns, func(tu store.Turn) bool {
			return tu.Input == "speech" && tu.Intent == "sales" && tu.Tier == "example" && tu.Text == phrase
		}) {
		t.Errorf("the record: version %s (want %s), outcome %s; turns:\n%s", call.ScriptVersion, res.Version, call.Outcome, turnsOf(turns))
	}
}

// postgresSchemaURL is a fresh schema on HOTLINE_TEST_POSTGRES for one test
// (dropped after it), as a URL with its search_path. Without the variable
// the test skips, or fails under CI=true, as the store's tests do.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	return storetest.New(t)
}

// ---------------------------------------------------------------------------
// Background `hotline call`s

// bgCall is a `hotline call` running in the background, bounded by its
// --duration and a hard limit that kills its PID.
type bgCall struct {
	args   []string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	mu     sync.Mutex
	out    strings.Builder
	done   chan struct{}
	code   int
}

func startHotlineCall(t *testing.T, args ...string) *bgCall {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	// A port the kernel picks (outside the tests' range, which the servers'
	// blocks of RTP ports need unfragmented).
	args = append(args, "--listen", "udp:127.0.0.1:0")
	c := &bgCall{args: args, cancel: cancel, done: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, hotlineBin, append([]string{"call"}, args...)...)
	c.cmd.Stdout, c.cmd.Stderr = (*lockedWriter)(c), (*lockedWriter)(c)
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("hotline call: %v", err)
	}
	go func() {
		err := c.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			c.code = ee.ExitCode()
		case err != nil:
			c.code = -1
		}
		cancel()
		close(c.done)
	}()
	t.Cleanup(c.stop)
	return c
}

type lockedWriter bgCall

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

func (c *bgCall) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// wait waits for the exit and returns its code (-1: still running).
func (c *bgCall) wait(timeout time.Duration) int {
	select {
	case <-c.done:
		return c.code
	case <-time.After(timeout):
		return -1
	}
}

// stop kills the process (its PID) if it still runs, and waits for it.
func (c *bgCall) stop() {
	c.cancel()
	<-c.done
}

// ---------------------------------------------------------------------------
// Reading every text value of a SQLite database

type textValue struct{ table, column, text string }

type dbScan struct {
	db     *sql.DB
	tables []string
	values []textValue
}

// sqlDB opens a SQLite database read-only, beside its writer.
func sqlDB(path string) (*dbScan, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	return &dbScan{db: db}, nil
}

// allText reads every text (and blob) value of every table; it returns how many.
func (d *dbScan) allText() (int, error) {
	defer d.db.Close()
	rows, err := d.db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return 0, err
		}
		d.tables = append(d.tables, name)
	}
	rows.Close()
	for _, table := range d.tables {
		rs, err := d.db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			return 0, err
		}
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				rs.Close()
				return 0, err
			}
			for i, v := range vals {
				switch v := v.(type) {
				case string:
					d.values = append(d.values, textValue{table, cols[i], v})
				case []byte:
					d.values = append(d.values, textValue{table, cols[i], string(v)})
				}
			}
		}
		rs.Close()
	}
	return len(d.values), nil
}

// runHotline runs `hotline ARGS…` to its end; it returns the standard output
// and the exit status (standard error goes into the test log).
func runHotline(t *testing.T, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, hotlineBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if stderr.Len() > 0 {
		t.Logf("hotline %s: %s", strings.Join(args, " "), stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ctx.Err() != nil {
			t.Fatalf("hotline %v did not end within %s:\n%s", args, timeout, out)
		}
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("hotline %v: %v", args, err)
	}
	return string(out), 0
}
