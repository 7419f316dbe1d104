package dialog

import (
	"regexp"
	"time"

	"github.com/hotline-dev/hotline/dialog/match"
)

// Script is a loaded, validated hotline script. It is immutable once loaded and
// safe to share between calls; a reload builds a new Script.
type Script struct {
	Name     string
	Language string // BCP 47, e.g. zh-CN, en-US
	Start    string
	Defaults Defaults
	Hours    *Hours
	Match    MatchOptions
	// Recording says whether calls are recorded (when the server records at
	// all): a hotline may choose not to keep its callers' voices.
	Recording bool
	// Voice picks the text-to-speech voice for this script's prompts (an
	// engine's voice name, e.g. "en-us+f3" for espeak-ng or "alloy" for an
	// OpenAI-compatible one); "" for the engine's voice for Language.
	Voice string
	// KeypadFallback is said when speech recognition becomes unavailable
	// during a call: from then on the call takes keys only ("" for the
	// built-in text in the script's language).
	KeypadFallback Prompt
	// RecordingNotice names the node whose prompt tells callers the call is
	// recorded, for wording (or audio) the recording-notice lint cannot read;
	// "" to let the lint look for the words itself.
	RecordingNotice string

	Intents     []*Intent // in file order
	Global      []Route   // intents active in every node, and where they go
	Answers     map[string]*Answer
	AfterAnswer string
	Synonyms    [][]string
	Nodes       map[string]*Node
	NodeOrder   []string // file order, for stable output

	Files   []string // every file read, the main script first, its learned file (if any) last (paths as given to Load)
	Version string   // sha256 of the files' names and contents (the learned file's too), short hex
	Dir     string   // folder of the main script; audio paths are relative to it

	intentIndex map[string]int
	matcher     *match.Matcher
	hints       []string             // every keyword, for recogniser hints
	info        map[string]*nodeInfo // per node, computed once at load
}

// nodeInfo is what the engine needs per node at run time, computed at load
// so a call does no work for it.
type nodeInfo struct {
	active    match.Set // intents that can match here
	hints     []string  // their keywords, then their examples, for the recogniser
	maxDigits int       // longest key sequence bound to them
}

// Defaults apply to every node that does not say otherwise.
type Defaults struct {
	Listen   ListenSpec
	Retries  Retries
	Escalate string   // node for exhausted retries; "" hangs up politely
	NoInput  []Prompt // said after a no-input, one per attempt, the last repeats
	NoMatch  []Prompt // said after a no-match
	Collect  DigitsSpec
}

// Retries is how many misses a node tolerates before escalation.
type Retries struct {
	NoInput int
	NoMatch int
}

// MatchOptions tune the matcher for the whole script.
type MatchOptions struct {
	Threshold     float64 // minimum score for a match; below it is "no match"
	Margin        float64 // example-tier matches closer than this to a different intent are ambiguous
	Pinyin        bool    // homophone-tolerant tier for Chinese
	Examples      bool    // example-based tier
	MinConfidence float64 // recogniser confidence below this is treated as no match
}

// Hours are the hotline's business hours.
type Hours struct {
	Location *time.Location
	Zone     string
	Open     []WeeklyRange
	Holidays []DateRange // closed all day
	Special  []SpecialDay
	Closed   string // node calls go to when closed
	Pos      Pos
}

// WeeklyRange is a time range on a set of weekdays. End may be before Start,
// for ranges that run past midnight.
type WeeklyRange struct {
	Days  [7]bool // indexed by time.Weekday
	Start int     // minutes since midnight
	End   int     // minutes since midnight, up to 24*60
	Text  string
}

// DateRange is a range of calendar days, both ends included.
type DateRange struct {
	From, To civilDate
	Text     string
}

// SpecialDay replaces the weekly hours on one date (e.g. a working Saturday, or a short day).
type SpecialDay struct {
	Date   civilDate
	Ranges []WeeklyRange // Days ignored; empty means closed
	Text   string
}

type civilDate struct {
	Year  int
	Month time.Month
	Day   int
}

func (d civilDate) before(o civilDate) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// Intent is something a caller may want, recognised by keywords, keys or examples.
type Intent struct {
	Name     string
	Keywords []string
	Exclude  []string
	DTMF     []string
	Examples []string
	Priority int
	Handoff  bool // "ask for a person": wins over every other match, in every node
	Negation bool // a negated keyword ("不要人工") does not count
	Pos      Pos
}

// Answer is an entry of the answer library: what to say when a routine question is asked.
type Answer struct {
	Intent string
	Say    Prompt
	Tag    *TagSpec
	Next   string // overrides the script's after_answer
	Pos    Pos
}

// Route sends an intent to a target: a node name or the built-in $repeat.
type Route struct {
	Intent string
	Target string
	Pos    Pos
}

// TargetRepeat says the current node's prompt again and listens again.
const TargetRepeat = "$repeat"

// Prompt is what the bot says: text for TTS and/or a recorded audio file.
type Prompt []Segment

// Segment is one piece of a prompt.
type Segment struct {
	Text  *Template // may be nil when only audio is given
	Audio string    // path relative to the script folder
	Pos   Pos
}

// Node is one step of the flow.
type Node struct {
	Name     string
	Pos      Pos
	Say      Prompt
	Reprompt Prompt // short re-prompt after a miss; the full Say when empty

	Listen   *ListenSpec // set for nodes that wait for the caller
	Routes   []Route
	Answers  bool // the answer library is active in this listen node
	Collect  *CollectSpec
	HTTP     *HTTPSpec
	Transfer *TransferSpec
	Record   *RecordSpec
	Branch   *Branch
	Hangup   bool
	Next     string
	Closed   string // entered outside business hours: go here instead
	Set      []Assign
	Tag      *TagSpec
	Resolves bool // reaching this node means the caller got what they called for

	Retries  Retries
	Escalate string
	NoInput  []Prompt
	NoMatch  []Prompt
}

// ListenSpec is how a node waits for the caller.
type ListenSpec struct {
	Timeout      time.Duration // no-input after this much silence
	MaxSpeech    time.Duration // longest utterance
	EndSilence   time.Duration // silence that ends an utterance
	DigitTimeout time.Duration // between keys of a multi-key choice
	BargeIn      bool
	Speech       bool
	DTMF         bool
}

// DigitsSpec is how keypad digits are collected.
type DigitsSpec struct {
	Min        int
	Max        int
	End        string // terminator key, "" for none
	InterDigit time.Duration
	Timeout    time.Duration // wait for the first key
}

// CollectSpec gathers a number from the caller into a variable.
type CollectSpec struct {
	Into    string
	Digits  DigitsSpec
	Speech  bool // spoken numbers accepted too
	DTMF    bool
	Pattern *regexp.Regexp
	Invalid Prompt // said when the input fails validation
	BargeIn bool
	Pos     Pos
}

// HTTPSpec is a request to the hotline's own backend.
type HTTPSpec struct {
	Method   string
	URL      *Template
	Headers  []Header
	Body     *BodyTemplate
	Timeout  time.Duration
	Into     string
	OnError  string
	OnStatus map[int]string
	Pos      Pos
}

// Header is a header name with a templated value.
type Header struct {
	Name  string
	Value *Template
}

// TransferSpec hands the caller to a person.
type TransferSpec struct {
	To      *Template
	Mode    string // blind (REFER) or bridge
	Headers []Header
	Timeout time.Duration
	Whisper *Template
	OnFail  string
	Pos     Pos
}

// RecordSpec takes a message from the caller.
type RecordSpec struct {
	Max     time.Duration
	Silence time.Duration // this much silence ends the message
	End     string        // key that ends the message
	Beep    bool
	Into    string
	Pos     Pos
}

// Branch chooses the next node by the value of a template.
type Branch struct {
	On      *Template
	Cases   []BranchCase
	Default string
	Pos     Pos
}

// BranchCase is one value (or pattern) and its node.
type BranchCase struct {
	Value   string
	Pattern *regexp.Regexp // set when the case is written /regex/
	Target  string
	Pos     Pos
}

// Assign sets a variable from a template.
type Assign struct {
	Var   string
	Value *Template
	Pos   Pos
}

// TagSpec grades the call and labels it.
type TagSpec struct {
	Grade string
	Tags  []string
	Pos   Pos
}

// IntentByName returns the intent called name, or nil.
func (s *Script) IntentByName(name string) *Intent {
	if i, ok := s.intentIndex[name]; ok {
		return s.Intents[i]
	}
	return nil
}

// Hints are the script's keywords, for recognisers that take phrase hints.
func (s *Script) Hints() []string { return s.hints }

// NodeHints are the phrases a listening node passes to the recogniser
// (Listen.Hints): the keywords, then the examples, of the intents active
// there. Nil for an unknown node.
func (s *Script) NodeHints(node string) []string {
	if info := s.info[node]; info != nil {
		return info.hints
	}
	return nil
}

// Matcher is the compiled intent matcher of the script.
func (s *Script) Matcher() *match.Matcher { return s.matcher }
