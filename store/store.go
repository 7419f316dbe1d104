package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) when a call or group does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned (wrapped) by StartCall when a call with the same ID
// is already stored: a SIP Call-ID seen twice is a bug or an attack, and
// silently overwriting the first call's record would lose it.
var ErrExists = errors.New("already exists")

// Call outcomes. The store does not check them (it stores what it is given)
// except that EndCall needs a non-empty one.
const (
	OutcomeResolved    = "resolved"
	OutcomeTransferred = "transferred"
	OutcomeAbandoned   = "abandoned"
	OutcomeAfterHours  = "after_hours"
	OutcomeMessageLeft = "message_left"
	OutcomeError       = "error"
	OutcomeInterrupted = "interrupted"
)

// Group statuses.
const (
	GroupOpen     = "open"
	GroupAssigned = "assigned"
	GroupIgnored  = "ignored"
)

// Call is one answered call. Times are returned in UTC with microsecond
// precision (what both databases keep); zero times mean "not yet".
type Call struct {
	ID             string         `json:"id"` // SIP Call-ID
	Instance       string         `json:"instance"`
	Caller         string         `json:"caller"`      // as the privacy policy left it: full, masked or hashed
	CallerHash     string         `json:"caller_hash"` // keyed hash of the number, for Forget; may be empty
	Called         string         `json:"called"`
	Script         string         `json:"script"`
	ScriptVersion  string         `json:"script_version"`
	Language       string         `json:"language"`
	StartedAt      time.Time      `json:"started_at"`
	AnsweredAt     time.Time      `json:"answered_at,omitzero"`
	EndedAt        time.Time      `json:"ended_at,omitzero"` // zero while the call is open
	Outcome        string         `json:"outcome"`           // empty while open
	EndReason      string         `json:"end_reason"`
	Grade          string         `json:"grade"` // A, B, C or empty
	Tags           []string       `json:"tags"`
	Path           []string       `json:"path"` // nodes visited, in order
	Node           string         `json:"node"` // current or last node
	Vars           map[string]any `json:"vars"` // stored as JSON: numbers come back as float64
	TransferTarget string         `json:"transfer_target"`
	TransferMode   string         `json:"transfer_mode"`
	TransferResult string         `json:"transfer_result"`
	TransferCode   int            `json:"transfer_code"`
	Recording      string         `json:"recording"` // relative to the data directory
	Turns          int            `json:"turns"`     // the call runner's counters, stored as given
	NoMatch        int            `json:"no_match"`
	NoInput        int            `json:"no_input"`
	Keypad         bool           `json:"keypad"`
	// Talk is how long the caller spoke in the call, TalkSpurts in how many
	// stretches (call.Finish: a voice activity detector on all of the
	// caller's audio). Both are 0 while the call is open, when talk time
	// was off (hotline serve --talk-time=false) and for calls stored before
	// it existed. Talk is kept in whole milliseconds, and is talk_ms in
	// JSON (see MarshalJSON).
	Talk       time.Duration `json:"-"`
	TalkSpurts int           `json:"-"`
}

// callFields is Call without its methods, for its JSON.
type callFields Call

// callJSON is Call as JSON: the fields as tagged, then the talk time, as a
// duration named for its unit (talk_ms, integer milliseconds).
type callJSON struct {
	callFields
	TalkMS     int64 `json:"talk_ms"`
	TalkSpurts int   `json:"talk_spurts"`
}

// MarshalJSON writes the call with its talk time as talk_ms, in integer
// milliseconds, and talk_spurts.
func (c Call) MarshalJSON() ([]byte, error) {
	return json.Marshal(callJSON{callFields: callFields(c), TalkMS: talkMS(c.Talk), TalkSpurts: c.TalkSpurts})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Call) UnmarshalJSON(b []byte) error {
	j := callJSON{callFields: callFields(*c), TalkMS: talkMS(c.Talk), TalkSpurts: c.TalkSpurts}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Call(j.callFields)
	c.Talk, c.TalkSpurts = time.Duration(j.TalkMS)*time.Millisecond, j.TalkSpurts
	return nil
}

// talkMS is d in whole milliseconds, rounded: how Call.Talk is stored.
func talkMS(d time.Duration) int64 { return d.Round(time.Millisecond).Milliseconds() }

// Duration is the handling time, answer to end; 0 while the call is open.
func (c Call) Duration() time.Duration {
	if c.EndedAt.IsZero() || c.AnsweredAt.IsZero() {
		return 0
	}
	return c.EndedAt.Sub(c.AnsweredAt)
}

// Open reports whether the call has not ended yet.
func (c Call) Open() bool { return c.EndedAt.IsZero() }

// Turn is one utterance of the bot or the caller.
type Turn struct {
	CallID     string        `json:"call_id"`
	Seq        int           `json:"seq"` // 1, 2, … in the call; 0 in AddTurn means "next"
	At         time.Time     `json:"at"`
	Offset     time.Duration `json:"offset_ns"` // from answer
	Speaker    string        `json:"speaker"`   // bot | caller
	Text       string        `json:"text"`
	Input      string        `json:"input"` // speech | dtmf | ""
	Intent     string        `json:"intent"`
	Tier       string        `json:"tier"` // keyword | pinyin | example | dtmf …
	Score      float64       `json:"score"`
	Confidence float64       `json:"confidence"` // the recogniser's; -1 = none
	Outcome    string        `json:"outcome"`    // matched | no_match | low_confidence | collected | invalid | ""
	Node       string        `json:"node"`
}

// Question is an utterance the bot could not answer.
type Question struct {
	ID       int64     `json:"id"`
	GroupID  int64     `json:"group_id"`
	CallID   string    `json:"call_id"` // may be empty (e.g. typed in `hotline chat`)
	Node     string    `json:"node"`
	Text     string    `json:"text"`
	Norm     string    `json:"norm"` // normalised by the caller of AddQuestion
	Language string    `json:"language"`
	At       time.Time `json:"at"`
	Audio    string    `json:"audio"`  // WAV snippet relative to the data directory; may be empty
	Intent   string    `json:"intent"` // best candidate below the threshold; may be empty
	Score    float64   `json:"score"`
}

// Group gathers similar unanswered questions so staff handle them once.
type Group struct {
	ID         int64     `json:"id"`
	Text       string    `json:"text"` // representative: the earliest question still stored
	Norm       string    `json:"norm"`
	Language   string    `json:"language"`
	Count      int       `json:"count"` // questions in the group
	FirstAt    time.Time `json:"first_at"`
	LastAt     time.Time `json:"last_at"`
	Status     string    `json:"status"` // open | assigned | ignored
	Intent     string    `json:"intent"` // what it was assigned to
	Resolution string    `json:"resolution"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ResolvedBy string    `json:"resolved_by"`
}

// CallFilter selects calls for ListCalls. Zero fields do not filter.
type CallFilter struct {
	Since      time.Time // StartedAt >= Since
	Until      time.Time // StartedAt < Until
	Outcome    []string  // any of
	Grade      []string  // any of ("" selects ungraded calls)
	Number     string    // Caller or Called, exactly
	CallerHash string
	Open       *bool  // true: only open calls, false: only ended ones
	Limit      int    // default 50, at most 1000
	Cursor     string // CallPage.Next of the previous page
}

// CallPage is one page of ListCalls, newest first.
type CallPage struct {
	Calls []Call `json:"calls"`
	Next  string `json:"next,omitempty"` // cursor of the next page; empty on the last
	Total int    `json:"total"`          // matching calls on all pages
}

// StatsFilter selects the calls that Stats counts: StartedAt in [Since, Until).
type StatsFilter struct {
	Since time.Time
	Until time.Time
}

// Stats summarises the calls that started in a range, their turns, and the
// unanswered questions asked in it.
type Stats struct {
	Since       time.Time      `json:"since,omitzero"`
	Until       time.Time      `json:"until,omitzero"`
	Calls       int            `json:"calls"` // started in the range
	Open        int            `json:"open"`  // of those, not ended yet
	Ended       int            `json:"ended"`
	Outcomes    map[string]int `json:"outcomes"`        // ended calls per outcome
	AvgHandling time.Duration  `json:"avg_handling_ns"` // answered → ended, over ended calls
	// Utterances counts caller turns (speech or keys) that were matched against
	// intents (outcome matched, no_match or low_confidence); NoMatch the ones
	// that found nothing good enough.
	Utterances    int          `json:"utterances"`
	NoMatch       int          `json:"no_match"`
	TopUnanswered []GroupCount `json:"top_unanswered"` // open groups with most questions in the range, at most 10
}

// GroupCount is a group with the number of its questions asked in a range.
type GroupCount struct {
	Group
	InRange int `json:"in_range"`
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// ContainmentRate is the share of ended calls the bot resolved itself.
func (s Stats) ContainmentRate() float64 { return ratio(s.Outcomes[OutcomeResolved], s.Ended) }

// TransferRate is the share of ended calls handed to a person.
func (s Stats) TransferRate() float64 { return ratio(s.Outcomes[OutcomeTransferred], s.Ended) }

// AbandonRate is the share of ended calls the caller hung up on.
func (s Stats) AbandonRate() float64 { return ratio(s.Outcomes[OutcomeAbandoned], s.Ended) }

// NoMatchRate is the share of matched-against utterances that found no intent.
func (s Stats) NoMatchRate() float64 { return ratio(s.NoMatch, s.Utterances) }

// GroupFilter selects groups for Groups. Zero fields do not filter.
type GroupFilter struct {
	Status   string    // open | assigned | ignored
	Language string    //
	Since    time.Time // LastAt >= Since
	Limit    int       // default 50, at most 1000
	Offset   int
}

// GroupPage is one page of Groups, most asked first.
type GroupPage struct {
	Groups []Group `json:"groups"`
	Total  int     `json:"total"`
}

// DeleteReport says what Purge or Forget removed. Files are paths relative
// to the data directory (recordings and question snippets) that the caller
// must delete: the store never touches files.
type DeleteReport struct {
	Calls         int      `json:"calls"`
	Turns         int      `json:"turns"`
	Questions     int      `json:"questions"`
	Groups        int      `json:"groups"` // groups left empty, deleted
	GroupsChanged int      `json:"groups_changed"`
	Files         []string `json:"files"`
}

// Counts are rows per table.
type Counts struct {
	Calls      int `json:"calls"`
	OpenCalls  int `json:"open_calls"`
	Turns      int `json:"turns"`
	Questions  int `json:"questions"`
	Groups     int `json:"groups"`
	Migrations int `json:"migrations"`
}

// Store keeps call records, turns and unanswered questions. Implementations
// are safe for concurrent use.
type Store interface {
	// StartCall inserts the call when it is answered; the row stays open
	// until EndCall. A second StartCall with the same ID fails with ErrExists.
	// An empty Instance is filled from Options.Instance.
	StartCall(ctx context.Context, c Call) error
	// UpdateCall records progress: every field but ID, StartedAt, EndedAt,
	// Outcome and EndReason. ErrNotFound if the call was never started.
	UpdateCall(ctx context.Context, c Call) error
	// EndCall writes the final values; EndedAt and Outcome must be set. It
	// inserts the call if StartCall never succeeded (so a finished call is not
	// lost to an earlier database hiccup), and may be repeated.
	EndCall(ctx context.Context, c Call) error
	// AddTurn appends a turn and returns it with its Seq. Seq 0 means the
	// next one; an explicit Seq replaces that turn (retries are safe).
	AddTurn(ctx context.Context, t Turn) (Turn, error)
	Call(ctx context.Context, id string) (Call, error)
	// Turns returns the call's turns in Seq order; ErrNotFound for no call.
	Turns(ctx context.Context, callID string) ([]Turn, error)
	ListCalls(ctx context.Context, f CallFilter) (CallPage, error)
	Stats(ctx context.Context, f StatsFilter) (Stats, error)

	// AddQuestion stores an unanswered utterance. With GroupID 0 it opens a
	// new group represented by the question; otherwise it joins that group,
	// bumping its Count and LastAt in the same transaction.
	AddQuestion(ctx context.Context, q Question) (Question, error)
	// CandidateGroups returns open groups, most recently asked first, for the
	// caller to compare its question against ("" language: all languages;
	// limit 0: 200).
	CandidateGroups(ctx context.Context, language string, limit int) ([]Group, error)
	Groups(ctx context.Context, f GroupFilter) (GroupPage, error)
	// Group returns a group and its questions, oldest first.
	Group(ctx context.Context, id int64) (Group, []Question, error)
	// ResolveGroup sets the group's status (open, assigned, ignored), what it
	// was assigned to, and who did it when. Reopening clears ResolvedAt/By.
	ResolveGroup(ctx context.Context, id int64, status, intent, resolution, by string) error

	// CloseInterrupted closes the open calls of an instance after a crash:
	// Outcome and EndReason "interrupted", EndedAt its last known activity
	// (answer, last turn; `at` only when the call has no time at all). It
	// returns the closed calls so the caller can repair their recordings.
	// An empty instance means Options.Instance.
	CloseInterrupted(ctx context.Context, instance string, at time.Time) ([]Call, error)
	// Purge deletes the calls that ended before `before` with their turns and
	// questions. Open calls are never purged.
	Purge(ctx context.Context, before time.Time) (DeleteReport, error)
	// Forget deletes every call of a caller: CallerHash equal to callerHash,
	// or Caller equal to number when number is non-empty, open calls
	// included, with their turns and questions.
	Forget(ctx context.Context, callerHash, number string) (DeleteReport, error)

	CountAll(ctx context.Context) (Counts, error)
	// Size is the database's size in bytes: SQLite's pages (the file after a
	// checkpoint), PostgreSQL's tables with their indexes and TOAST.
	Size(ctx context.Context) (int64, error)
	Ping(ctx context.Context) error
	Close() error
}

// Options configure Open.
type Options struct {
	// Instance names this hotline process; calls it starts carry it, and
	// CloseInterrupted closes only its own calls on a shared database.
	Instance string
	Logger   *slog.Logger // nil: no logging
	// MaxConns bounds the PostgreSQL pool (default 16 unless the URL has
	// pool_max_conns) and the SQLite read pool (default 4). SQLite always
	// has exactly one writer connection.
	MaxConns int
}

// Open opens (creating and migrating as needed) the store at dsn: a
// postgres:// or postgresql:// URL selects PostgreSQL; anything else is a
// SQLite file path, optionally prefixed with "sqlite:".
func Open(ctx context.Context, dsn string, opt Options) (Store, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return openPostgres(ctx, dsn, opt)
	}
	path := dsn
	if strings.HasPrefix(lower, "sqlite:") {
		path = strings.TrimPrefix(dsn[len("sqlite:"):], "//")
	}
	return openSQLite(ctx, path, opt)
}

// OpenDir opens the SQLite store dataDir/hotline.db, creating dataDir.
func OpenDir(ctx context.Context, dataDir string, opt Options) (Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	return Open(ctx, filepath.Join(dataDir, "hotline.db"), opt)
}
