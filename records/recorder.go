package records

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/store"
)

// Defaults of Options.
const (
	DefaultWorkers = 4
	DefaultQueue   = 4096
	DefaultWait    = 20 * time.Millisecond
	DefaultEndWait = 2 * time.Second
	DefaultTimeout = 10 * time.Second
)

// Options configure a Recorder.
type Options struct {
	Store   store.Store
	Backend string // what Stats calls the store: sqlite or postgres
	DataDir string // recordings and snippets are stored relative to it
	// Redactor redacts turn texts, question texts and the string values of
	// the call's variables before they are stored; nil stores them as they are.
	Redactor *privacy.Redactor
	// Numbers decides what is kept of the caller's number (Caller); the
	// keyed hash (CallerHash) is always stored, for Forget.
	Numbers privacy.NumberPolicy
	// Grades grade the calls the script did not grade; nil: DefaultGrades.
	Grades []GradeRule
	// Grouper files unanswered questions into groups; nil: a new
	// learn.Grouper with its defaults.
	Grouper *learn.Grouper
	// Workers write to the store in parallel (default 4); Queue bounds the
	// jobs waiting, all shards together (default 4096).
	Workers int
	Queue   int
	// Wait is how long a call waits for room in a full queue before the
	// write is dropped (default 20 ms); EndWait the same for the end of a
	// call, which carries its outcome (default 2 s; the call's media is
	// closed by then). Timeout bounds one store write (default 10 s).
	Wait    time.Duration
	EndWait time.Duration
	Timeout time.Duration
	Logger  *slog.Logger
	// OnWrite, optional, gets every store write's kind ("start", "turn",
	// "end", …), duration and error; OnDrop every write dropped (metrics).
	// They run on the writer's goroutines and must not block.
	OnWrite func(op string, took time.Duration, err error)
	OnDrop  func()
}

// Recorder writes the records of a server's calls. Install its hooks in a
// call.Config; Close it when the server has stopped taking calls.
type Recorder struct {
	o       Options
	w       *writer
	log     *slog.Logger
	dataDir string // absolute
	cwd     string // for relative paths the runner reports

	mu    sync.Mutex
	calls map[*sip.Call]*callRec

	questions atomic.Uint64
	snippets  atomic.Uint64
}

// callRec is one call's record in progress. Only its call's goroutine
// touches it (the hooks of one call are called in order on that goroutine).
type callRec struct {
	id        string
	callerRaw string // for the caller variable
	row       store.Call
	seq       int // turns numbered here, so a retried AddTurn replaces rather than duplicates
	questions int // snippets numbered per call
}

// New returns a Recorder writing to o.Store.
func New(o Options) *Recorder {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Grades == nil {
		o.Grades = DefaultGrades
	}
	if o.Grouper == nil {
		o.Grouper = learn.NewGrouper(learn.GrouperOptions{})
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.EndWait == 0 {
		o.EndWait = DefaultEndWait
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	r := &Recorder{o: o, w: newWriter(o.Workers, o.Queue, o.Timeout, o.Logger), log: o.Logger, calls: map[*sip.Call]*callRec{}}
	r.w.onWrite, r.w.onDrop = o.OnWrite, o.OnDrop
	r.cwd, _ = os.Getwd()
	if o.DataDir != "" {
		r.dataDir = o.DataDir
		if !filepath.IsAbs(r.dataDir) {
			r.dataDir = filepath.Join(r.cwd, r.dataDir)
		}
		r.dataDir = filepath.Clean(r.dataDir)
	}
	return r
}

// Install adds the record hooks to cfg (OnAnswer, OnPrompt, OnInput,
// OnHandoff, OnFinish) beside any already set, which run first.
func (r *Recorder) Install(cfg *call.Config) {
	cfg.Observe(call.Observer{OnAnswer: r.answer, OnPrompt: r.prompt, OnInput: r.input, OnHandoff: r.handoff, OnFinish: r.finish})
}

// Close waits for the queued writes (bounded by ctx; what is left then is
// dropped and counted) and stops the workers. Calls must be over: a write
// queued after Close is dropped. The store is not closed.
func (r *Recorder) Close(ctx context.Context) error {
	err := r.w.close(ctx)
	if n := r.w.dropped.Load(); n > 0 {
		r.log.Warn("call record writes were dropped", "dropped", n)
	}
	return err
}

// Stats is what /healthz shows of the records.
type Stats struct {
	Backend     string    `json:"backend"`
	OK          bool      `json:"ok"`          // the last write succeeded (or none failed yet)
	QueueDepth  int64     `json:"queue_depth"` // writes waiting
	Written     uint64    `json:"written"`     // writes done
	Failed      uint64    `json:"failed"`      // writes the store refused
	Dropped     uint64    `json:"dropped"`     // writes dropped: the queue was full, or closed
	Questions   uint64    `json:"questions"`   // unanswered questions recorded
	Snippets    uint64    `json:"snippets"`    // … with an audio snippet
	AvgWriteMS  float64   `json:"avg_write_ms"`
	MaxWriteMS  float64   `json:"max_write_ms"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	w := r.w
	done, failed := w.done.Load(), w.failed.Load()
	s := Stats{
		Backend: r.o.Backend, QueueDepth: max(w.depth.Load(), 0), Written: done, Failed: failed,
		Dropped: w.dropped.Load(), Questions: r.questions.Load(), Snippets: r.snippets.Load(),
		MaxWriteMS: float64(w.maxNS.Load()) / 1e6,
	}
	if n := done + failed; n > 0 {
		s.AvgWriteMS = float64(w.busyNS.Load()) / float64(n) / 1e6
	}
	w.errMu.Lock()
	s.LastError, s.LastErrorAt = w.lastErr, w.lastErrAt
	s.OK = w.lastErrAt.IsZero() || w.lastOKAt.After(w.lastErrAt)
	w.errMu.Unlock()
	return s
}

func (r *Recorder) rec(c *sip.Call) *callRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[c]
}

// answer writes the call's row.
func (r *Recorder) answer(c *sip.Call, a call.Answer) {
	caller := c.Caller()
	cr := &callRec{id: c.ID, callerRaw: caller, row: store.Call{
		ID: c.ID, Caller: r.o.Numbers.Keep(caller), CallerHash: r.o.Numbers.Hash(caller), Called: c.Called(),
		StartedAt: a.At, AnsweredAt: a.At, Recording: r.rel(a.Recording),
	}}
	if s := a.Script; s != nil {
		cr.row.Script, cr.row.ScriptVersion, cr.row.Language = s.Name, s.Version, s.Language
	}
	r.mu.Lock()
	r.calls[c] = cr
	r.mu.Unlock()
	row := cr.row
	r.w.put(job{call: cr.id, what: "start", do: func(ctx context.Context) error {
		return r.o.Store.StartCall(ctx, row)
	}}, r.o.Wait)
}

// prompt records what the bot said or played.
func (r *Recorder) prompt(c *sip.Call, p call.Prompt) {
	cr := r.rec(c)
	if cr == nil {
		return
	}
	cr.seq++
	text := p.Text
	if p.File != "" {
		if text == "" {
			text = p.File
		} else {
			text = text + " (" + p.File + ")"
		}
	}
	t := store.Turn{CallID: cr.id, Seq: cr.seq, At: p.At, Offset: p.At.Sub(cr.row.AnsweredAt), Speaker: "bot",
		Text: text, Confidence: -1, Node: p.Node}
	r.w.put(job{call: cr.id, what: "turn", do: func(ctx context.Context) error {
		t.Text = r.redact(t.Text)
		_, err := r.o.Store.AddTurn(ctx, t)
		return err
	}}, r.o.Wait)
}

// input records what the caller said or keyed, updates the call's row with
// the dialog's progress, and files an input that matched nothing as an
// unanswered question.
func (r *Recorder) input(c *sip.Call, in call.Input) {
	cr := r.rec(c)
	if cr == nil {
		return
	}
	cr.seq++
	res := in.Result
	t := store.Turn{CallID: cr.id, Seq: cr.seq, At: in.At, Offset: in.At.Sub(cr.row.AnsweredAt), Speaker: "caller",
		Text: in.Text, Input: in.Input, Intent: res.Intent, Score: res.Score, Confidence: in.Confidence,
		Outcome: in.Outcome, Node: in.Node}
	if res.Matched() {
		t.Tier = res.Tier.String()
	}
	cr.progress(in.State)
	row := cr.row
	var q *store.Question
	var audio []int16
	if (in.Outcome == "no_match" || in.Outcome == "low_confidence") && strings.TrimSpace(in.Text) != "" {
		cr.questions++
		q = &store.Question{CallID: cr.id, Node: in.Node, Text: in.Text, Language: row.Language, At: in.At}
		if len(res.Candidates) > 0 {
			q.Intent, q.Score = res.Candidates[0].Intent, res.Candidates[0].Score
		}
		if len(in.Audio) > 0 {
			q.Audio = r.snippetPath(cr.id, cr.questions, in.At)
			audio = in.Audio
		}
	}
	r.w.put(job{call: cr.id, what: "turn", do: func(ctx context.Context) error {
		t.Text = r.redact(t.Text)
		if _, err := r.o.Store.AddTurn(ctx, t); err != nil {
			return err
		}
		row.Vars = r.vars(row.Vars, cr.callerRaw, row.Caller)
		if err := r.o.Store.UpdateCall(ctx, row); err != nil {
			return err
		}
		if q == nil {
			return nil
		}
		return r.question(ctx, *q, audio)
	}}, r.o.Wait)
}

// question writes the snippet and files the question.
func (r *Recorder) question(ctx context.Context, q store.Question, audio []int16) error {
	if q.Audio != "" {
		if err := writeSnippet(r.o.DataDir, q.Audio, audio); err != nil {
			r.log.Warn("the question's audio snippet could not be saved", "call_id", q.CallID, "err", err)
			q.Audio = ""
		} else {
			r.snippets.Add(1)
		}
	}
	q.Text = r.redact(q.Text) // the norm is made from the redacted text
	if _, err := r.o.Grouper.Add(ctx, r.o.Store, q); err != nil {
		return fmt.Errorf("unanswered question: %w", err)
	}
	r.questions.Add(1)
	return nil
}

// handoff notes a transfer attempt on the call's row (the last one wins).
func (r *Recorder) handoff(c *sip.Call, h call.Handoff) {
	cr := r.rec(c)
	if cr == nil {
		return
	}
	cr.row.TransferTarget, cr.row.TransferMode, cr.row.TransferCode = h.To, h.Mode, h.Code
	switch {
	case h.Code != 0 || h.Reason != "":
		cr.row.TransferResult = "failed"
	case h.Mode == "blind":
		cr.row.TransferResult = "accepted" // the PBX took the REFER; who answered is its business
	default:
		cr.row.TransferResult = "answered"
	}
}

// finish ends the call's row with its outcome and grade.
func (r *Recorder) finish(c *sip.Call, f call.Finish) {
	r.mu.Lock()
	cr := r.calls[c]
	delete(r.calls, c)
	r.mu.Unlock()
	if cr == nil {
		return
	}
	if f.Started {
		cr.progress(f.State)
	}
	row := cr.row
	row.EndedAt = f.At
	row.Outcome, row.EndReason = Outcome(f)
	row.Grade = Grade(r.o.Grades, row.Outcome, f.State)
	row.Recording = r.rel(f.Recording)
	row.Talk, row.TalkSpurts = f.Talk, f.TalkSpurts // zeros when talk time is off
	r.w.put(job{call: cr.id, what: "end", do: func(ctx context.Context) error {
		row.Vars = r.vars(row.Vars, cr.callerRaw, row.Caller)
		if err := r.o.Store.EndCall(ctx, row); err != nil {
			return err
		}
		r.log.Debug("call record saved", "call_id", row.ID, "outcome", row.Outcome, "grade", row.Grade, "turns", cr.seq)
		return nil
	}}, r.o.EndWait)
}

// progress copies the dialog's state into the row.
func (cr *callRec) progress(st dialog.State) {
	cr.row.Node, cr.row.Path, cr.row.Tags, cr.row.Grade = st.Node, st.Path, st.Tags, st.Grade
	cr.row.Vars = st.Vars // a copy: State() copies
	cr.row.Turns, cr.row.NoMatch, cr.row.NoInput, cr.row.Keypad = st.Turns, st.InputNoMatch, st.InputNoInputs, st.Keypad
}

func (r *Recorder) redact(s string) string {
	if r.o.Redactor == nil || s == "" {
		return s
	}
	return r.o.Redactor.Redact(s)
}

// vars is what is stored of the call's variables: the caller's number as
// the number policy keeps it, file paths in the data directory made
// relative to it (messages), and every other string redacted.
func (r *Recorder) vars(v map[string]any, callerRaw, callerKept string) map[string]any {
	if v == nil {
		return nil
	}
	out := make(map[string]any, len(v))
	for k, x := range v {
		if s, ok := x.(string); ok {
			if k == "caller" && s == callerRaw {
				out[k] = callerKept
				continue
			}
			if rel := r.rel(s); rel != s && rel != "" {
				out[k] = rel
				continue
			}
		}
		out[k] = r.redactValue(x)
	}
	return out
}

func (r *Recorder) redactValue(x any) any {
	switch x := x.(type) {
	case string:
		return r.redact(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = r.redactValue(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = r.redactValue(v)
		}
		return out
	}
	return x
}

// rel makes a path inside the data directory relative to it (with
// forward slashes); other strings come back unchanged.
func (r *Recorder) rel(path string) string {
	return relTo(r.dataDir, r.cwd, path)
}

func relTo(dataDir, cwd, path string) string {
	if path == "" || dataDir == "" || !strings.ContainsAny(path, `/\`) {
		return path
	}
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(cwd, abs)
	}
	rel, err := filepath.Rel(dataDir, filepath.Clean(abs))
	if err != nil || !filepath.IsLocal(rel) {
		return path
	}
	return filepath.ToSlash(rel)
}

// snippetPath is where a question's audio goes, relative to the data
// directory: snippets/YYYY-MM-DD/<call>-<n>.wav.
func (r *Recorder) snippetPath(callID string, n int, at time.Time) string {
	return fmt.Sprintf("snippets/%s/%s-%d.wav", at.Format("2006-01-02"), fileName(callID), n)
}
