package records

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/store"
)

// OutcomeUnresolved is the outcome of a call whose retries ran out with
// nowhere to escalate (the engine's "unresolved"): the bot hung up without
// helping. The store keeps it as it is; it counts as neither resolved nor
// abandoned.
const OutcomeUnresolved = dialog.OutcomeUnresolved

// Outcomes are the outcomes a call record can end with.
var Outcomes = []string{
	store.OutcomeResolved, store.OutcomeTransferred, store.OutcomeAbandoned, store.OutcomeAfterHours,
	store.OutcomeMessageLeft, OutcomeUnresolved, store.OutcomeError, store.OutcomeInterrupted,
}

// Outcome maps the end of a call to the outcome and end reason its record
// keeps:
//
//   - a panic or a set-up failure: error;
//   - the engine's outcome when it ended the dialog: resolved, transferred,
//     message_left, after_hours, abandoned (the caller hung up before
//     anything was answered), unresolved, error;
//   - a dialog the engine never ended: transferred if a person took the
//     call, interrupted when the server ended it (shutdown), else resolved
//     when the caller had been answered and abandoned when not.
//
// The end reason is the engine's (e.g. "caller hung up", "end of flow",
// "retries exhausted (no_match)"), else the runner's ("shutdown", "error",
// "rtp timeout").
func Outcome(f call.Finish) (outcome, reason string) {
	st := f.State
	reason = st.EndReason
	if reason == "" {
		reason = f.Reason
	}
	if f.Failed || !f.Started {
		if reason == "" {
			reason = "error"
		}
		return store.OutcomeError, reason
	}
	switch st.Outcome {
	case dialog.OutcomeResolved, dialog.OutcomeTransferred, dialog.OutcomeAbandoned, dialog.OutcomeAfterHours,
		dialog.OutcomeMessageLeft, dialog.OutcomeUnresolved, dialog.OutcomeError:
		return st.Outcome, reason
	}
	switch {
	case st.Transferred:
		return store.OutcomeTransferred, reason
	case f.Reason == "shutdown":
		return store.OutcomeInterrupted, reason
	case st.Answered:
		return store.OutcomeResolved, reason
	}
	return store.OutcomeAbandoned, reason
}

// GradeRule grades the calls it fits: the first rule of a list that fits a
// call gives its grade.
type GradeRule struct {
	Grade string `yaml:"grade" json:"grade"`
	// Outcomes: the call's outcome is one of these; empty: any outcome.
	Outcomes []string `yaml:"outcomes,omitempty" json:"outcomes,omitempty"`
	// MaxNoMatch: at most this many inputs of the call matched nothing
	// (no_match or low_confidence); nil: any number.
	MaxNoMatch *int `yaml:"max_no_match,omitempty" json:"max_no_match,omitempty"`
	// MaxNoInput: at most this many questions went unanswered (no input); nil: any number.
	MaxNoInput *int `yaml:"max_no_input,omitempty" json:"max_no_input,omitempty"`
}

func intp(n int) *int { return &n }

// DefaultGrades: A, the bot resolved the call (or told the caller the
// opening hours, or took a message) with at most one no-match; B, it did so
// after more, or a person took the call; C, anything else (abandoned,
// unresolved, error, interrupted).
var DefaultGrades = []GradeRule{
	{Grade: "A", Outcomes: []string{store.OutcomeResolved, store.OutcomeAfterHours, store.OutcomeMessageLeft}, MaxNoMatch: intp(1)},
	{Grade: "B", Outcomes: []string{store.OutcomeResolved, store.OutcomeAfterHours, store.OutcomeMessageLeft, store.OutcomeTransferred}},
	{Grade: "C"},
}

// ValidateGrades checks a list of rules: each has a grade, known outcomes
// and no negative limits.
func ValidateGrades(rules []GradeRule) error {
	var errs []string
	for i, r := range rules {
		if strings.TrimSpace(r.Grade) == "" {
			errs = append(errs, fmt.Sprintf("grades[%d]: grade is needed", i))
		}
		for _, o := range r.Outcomes {
			if !slices.Contains(Outcomes, o) {
				errs = append(errs, fmt.Sprintf("grades[%d]: outcome %q: want one of %s", i, o, strings.Join(Outcomes, ", ")))
			}
		}
		if (r.MaxNoMatch != nil && *r.MaxNoMatch < 0) || (r.MaxNoInput != nil && *r.MaxNoInput < 0) {
			errs = append(errs, fmt.Sprintf("grades[%d]: max_no_match and max_no_input cannot be negative", i))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Grade is the call's grade: the script's when it set one, else the first
// rule that fits the outcome and the call's counters ("" when none fits).
func Grade(rules []GradeRule, outcome string, st dialog.State) string {
	if st.Grade != "" {
		return st.Grade
	}
	for _, r := range rules {
		if len(r.Outcomes) > 0 && !slices.Contains(r.Outcomes, outcome) {
			continue
		}
		if r.MaxNoMatch != nil && st.InputNoMatch > *r.MaxNoMatch {
			continue
		}
		if r.MaxNoInput != nil && st.InputNoInputs > *r.MaxNoInput {
			continue
		}
		return r.Grade
	}
	return ""
}
