package dialog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/dialog/match"
	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// Wait is what a session is waiting for.
type Wait string

const (
	WaitNone     Wait = ""
	WaitInput    Wait = "input"    // Utterance, Digits or NoInput after a Listen
	WaitCollect  Wait = "collect"  // Digits, Utterance or NoInput after a CollectDigits
	WaitHTTP     Wait = "http"     // HTTPResult
	WaitRecord   Wait = "record"   // RecordDone
	WaitTransfer Wait = "transfer" // Transferred or TransferFailed
	WaitEnded    Wait = "ended"    // nothing: the bot's part of the call is over
)

// Outcomes of a call, as the records keep them.
const (
	OutcomeResolved    = "resolved"     // the flow ended as scripted, or the caller hung up after being answered
	OutcomeTransferred = "transferred"  // a person took the call
	OutcomeAbandoned   = "abandoned"    // the caller hung up before getting anything
	OutcomeAfterHours  = "after_hours"  // called while closed
	OutcomeMessageLeft = "message_left" // the caller left a message
	OutcomeUnresolved  = "unresolved"   // retries ran out and there was nowhere to escalate
	OutcomeError       = "error"        // the script went wrong at run time
)

// State is everything a session knows; it can be saved (JSON) and restored,
// so a call can be inspected and an admin page can show where a caller is.
type State struct {
	Script        string         `json:"script"` // version of the script it runs
	Node          string         `json:"node"`
	Wait          Wait           `json:"wait"`
	Vars          map[string]any `json:"vars"`
	NoInput       int            `json:"no_input"` // misses at the current node
	NoMatch       int            `json:"no_match"`
	Path          []string       `json:"path"` // nodes visited, in order
	Tags          []string       `json:"tags,omitempty"`
	Grade         string         `json:"grade,omitempty"`
	LastIntent    string         `json:"last_intent,omitempty"`
	LastPrompt    []SaidPrompt   `json:"last_prompt,omitempty"` // for "repeat"
	Answered      bool           `json:"answered,omitempty"`
	AfterHours    bool           `json:"after_hours,omitempty"`
	MessageLeft   bool           `json:"message_left,omitempty"`
	Transferred   bool           `json:"transferred,omitempty"`
	TransferFail  bool           `json:"transfer_failed,omitempty"` // a transfer was tried and failed
	Outcome       string         `json:"outcome,omitempty"`
	EndReason     string         `json:"end_reason,omitempty"`
	Turns         int            `json:"turns"`
	InputNoInputs int            `json:"no_inputs"` // whole call, for grading
	InputNoMatch  int            `json:"no_matches"`
	// Keypad: speech recognition failed during the call; questions take
	// keys only from then on.
	Keypad bool `json:"keypad,omitempty"`
}

// SaidPrompt is one rendered prompt segment.
type SaidPrompt struct {
	Text  string `json:"text,omitempty"`
	Audio string `json:"audio,omitempty"`
}

// maxSteps bounds the nodes entered while handling one event. The loader
// rejects loops that never wait, so reaching it means a bug; the call ends
// with an apology rather than spinning.
const maxSteps = 200

// builtinVars are set by the engine and cannot be assigned by scripts.
var builtinVars = map[string]bool{
	"caller": true, "called": true, "call_id": true, "channel": true, "date": true, "time": true,
	"weekday": true, "hour": true, "time_of_day": true, "greeting": true, "open": true,
	"last_intent": true, "last_utterance": true, "node": true, "http_status": true,
	"transfer_code": true, "escalation": true, "record_seconds": true,
}

// Session is one conversation with one caller. It is not safe for concurrent
// use: a call's events arrive one at a time.
type Session struct {
	s     *Script
	st    State
	steps int
}

// NewSession prepares a session; Start begins it.
func NewSession(s *Script, info CallInfo) *Session {
	vars := map[string]any{}
	for k, v := range info.Vars {
		vars[k] = v
	}
	vars["caller"] = info.Caller
	vars["called"] = info.Called
	vars["call_id"] = info.ID
	vars["channel"] = info.Channel
	open := info.Time.IsZero() || s.Hours.IsOpen(info.Time) // no time given: treat as open
	vars["open"] = strconv.FormatBool(open)
	if !info.Time.IsZero() {
		t := info.Time
		if s.Hours != nil {
			t = t.In(s.Hours.Location)
		}
		setTimeVars(vars, t, s.Language)
	}
	// Closed when the call came in: the outcome says so, whichever node it goes to.
	afterHours := s.Hours != nil && !open && !info.Time.IsZero()
	return &Session{s: s, st: State{Script: s.Version, Vars: vars, AfterHours: afterHours}}
}

// Restore continues a session from a saved state.
func Restore(s *Script, st State) (*Session, error) {
	if st.Node != "" && s.Nodes[st.Node] == nil {
		return nil, fmt.Errorf("restore: node %q is not in script %s", st.Node, s.Name)
	}
	st = copyState(st)
	if st.Vars == nil {
		st.Vars = map[string]any{}
	}
	return &Session{s: s, st: st}, nil
}

// State returns a copy of the session's state.
func (se *Session) State() State { return copyState(se.st) }

// Script returns the script the session runs.
func (se *Session) Script() *Script { return se.s }

// Waiting returns what the session waits for.
func (se *Session) Waiting() Wait { return se.st.Wait }

// Ended reports whether the bot's part of the call is over.
func (se *Session) Ended() bool { return se.st.Wait == WaitEnded }

func setTimeVars(vars map[string]any, t time.Time, lang string) {
	vars["date"] = t.Format("2006-01-02")
	vars["time"] = t.Format("15:04")
	vars["hour"] = strconv.Itoa(t.Hour())
	zh := isChinese(lang)
	weekdaysZH := [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}
	if zh {
		vars["weekday"] = weekdaysZH[t.Weekday()]
	} else {
		vars["weekday"] = t.Weekday().String()
	}
	h := t.Hour()
	var part, en, cn string
	switch {
	case h >= 5 && h < 12:
		part, en, cn = "morning", "Good morning", "上午好"
		if h < 9 {
			cn = "早上好"
		}
	case h >= 12 && h < 18:
		part, en, cn = "afternoon", "Good afternoon", "下午好"
		if h < 13 {
			cn = "中午好"
		}
	case h >= 18 && h < 22:
		part, en, cn = "evening", "Good evening", "晚上好"
	default:
		part, en, cn = "night", "Hello", "您好"
	}
	vars["time_of_day"] = part
	if zh {
		vars["greeting"] = cn
	} else {
		vars["greeting"] = en
	}
}

// Start begins the conversation: business hours decide the first node.
func (se *Session) Start() []Action {
	var out []Action
	se.steps = 0
	first := se.s.Start
	if se.st.AfterHours && se.s.Hours.Closed != "" {
		first = se.s.Hours.Closed
	}
	se.enter(first, &out)
	return out
}

// Handle feeds one event and returns what to do next. Events the session is
// not waiting for are ignored (nil), so a late digit cannot derail a call.
func (se *Session) Handle(ev Event) []Action {
	if se.st.Wait == WaitEnded {
		return nil
	}
	var out []Action
	se.steps = 0
	nd := se.s.Nodes[se.st.Node]
	if _, hung := ev.(HungUp); hung {
		se.finish("caller hung up", callerHangup)
		return nil
	}
	if nd == nil {
		return nil
	}
	switch e := ev.(type) {
	case Utterance:
		switch se.st.Wait {
		case WaitInput:
			if nd.Listen.Speech {
				se.st.Turns++
				se.utterance(nd, e, &out)
			}
		case WaitCollect:
			se.st.Turns++
			se.collectSpeech(nd, e, &out)
		}
	case Digits:
		switch se.st.Wait {
		case WaitInput:
			if nd.Listen.DTMF || se.st.Keypad {
				se.st.Turns++
				se.menuKeys(nd, e.Keys, &out)
			}
		case WaitCollect:
			if nd.Collect.DTMF || se.st.Keypad {
				se.st.Turns++
				se.collected(nd, e.Keys, "dtmf", e.Keys, &out)
			}
		}
	case NoInput:
		if se.st.Wait == WaitInput || se.st.Wait == WaitCollect {
			se.st.Turns++
			se.miss(nd, missNoInput, &out)
		}
	case SpeechUnavailable:
		if !se.st.Keypad {
			se.st.Keypad = true
			if len(se.s.KeypadFallback) > 0 {
				se.say(se.s.KeypadFallback, false, &out)
			} else {
				out = append(out, Say{Text: builtinText(se.s.Language, "keypad")})
			}
			if se.st.Wait == WaitInput || se.st.Wait == WaitCollect {
				// The question again, for keys (its prompt is not repeated:
				// the fallback says what to do).
				se.wait(nd, &out)
			}
		}
	case HTTPResult:
		if se.st.Wait == WaitHTTP {
			se.httpResult(nd, e, &out)
		}
	case RecordDone:
		if se.st.Wait == WaitRecord {
			if nd.Record.Into != "" {
				se.st.Vars[nd.Record.Into] = e.File
			}
			se.st.Vars["record_seconds"] = strconv.Itoa(int(e.Duration.Round(time.Second) / time.Second))
			if e.Duration > 0 {
				se.st.MessageLeft = true
			}
			se.next(nd, &out)
		}
	case Transferred:
		if se.st.Wait == WaitTransfer {
			se.st.Transferred = true
			se.finish("transferred", botHangup)
		}
	case TransferFailed:
		if se.st.Wait == WaitTransfer {
			se.st.Vars["transfer_code"] = strconv.Itoa(e.Code)
			se.st.TransferFail = true
			if nd.Transfer.OnFail != "" {
				se.enter(nd.Transfer.OnFail, &out)
			} else {
				se.giveUp(&out, "transfer failed")
			}
		}
	}
	return out
}

// enter runs a node: closed-hours check, variables and tags, the backend
// request (the prompt may use its result), the prompt, then what the node waits for.
func (se *Session) enter(name string, out *[]Action) {
	se.steps++
	if se.steps > maxSteps {
		se.fail(out, "too many steps without waiting for the caller")
		return
	}
	nd := se.s.Nodes[name]
	if nd == nil {
		se.fail(out, "no node "+name)
		return
	}
	se.st.Node = name
	se.st.Vars["node"] = name
	se.st.NoInput, se.st.NoMatch = 0, 0
	se.st.Wait = WaitNone
	se.st.Path = append(se.st.Path, name)
	if nd.Closed != "" && se.st.Vars["open"] == "false" {
		se.enter(nd.Closed, out)
		return
	}
	for _, a := range nd.Set {
		se.st.Vars[a.Var] = a.Value.Render(se.st.Vars, TextContext)
	}
	if nd.Tag != nil {
		se.tag(nd.Tag, out)
	}
	if nd.HTTP != nil {
		h := nd.HTTP
		req := HTTPRequest{
			Method: h.Method, URL: h.URL.Render(se.st.Vars, URLContext),
			Headers: se.headers(h.Headers), Body: h.Body.Render(se.st.Vars), Timeout: h.Timeout,
		}
		*out = append(*out, req)
		se.st.Wait = WaitHTTP
		return
	}
	se.proceed(nd, out)
}

// proceed says the node's prompt and does what the node does after it.
func (se *Session) proceed(nd *Node, out *[]Action) {
	if nd.Resolves { // after the backend answered, not when the request went out
		se.st.Answered = true
	}
	barge := false
	switch {
	case nd.Listen != nil:
		barge = nd.Listen.BargeIn
	case nd.Collect != nil:
		barge = nd.Collect.BargeIn
	}
	said := se.say(nd.Say, barge, out)
	if len(said) > 0 {
		se.st.LastPrompt = said
	}
	switch {
	case nd.Listen != nil, nd.Collect != nil:
		se.wait(nd, out)
	case nd.Record != nil:
		r := nd.Record
		*out = append(*out, Record{Var: r.Into, Max: r.Max, Silence: r.Silence, End: r.End, Beep: r.Beep})
		se.st.Wait = WaitRecord
	case nd.Transfer != nil:
		t := nd.Transfer
		*out = append(*out, Transfer{
			To: t.To.Render(se.st.Vars, HeaderContext), Mode: t.Mode, Headers: se.headers(t.Headers),
			Timeout: t.Timeout, Whisper: t.Whisper.Render(se.st.Vars, TextContext),
		})
		se.st.Wait = WaitTransfer
	case nd.Hangup:
		*out = append(*out, Hangup{Reason: "script"})
		se.finish("script hung up", botHangup)
	case nd.Branch != nil:
		se.enter(nd.Branch.choose(se.st.Vars), out)
	default:
		se.next(nd, out)
	}
}

// next follows the node's next, or ends the call at a dead end.
func (se *Session) next(nd *Node, out *[]Action) {
	if nd.Next != "" {
		se.enter(nd.Next, out)
		return
	}
	*out = append(*out, Hangup{Reason: "end of flow"})
	se.finish("end of flow", botHangup)
}

func (b *Branch) choose(vars map[string]any) string {
	v := b.On.Render(vars, TextContext)
	for _, c := range b.Cases {
		if c.Pattern != nil {
			if c.Pattern.MatchString(v) {
				return c.Target
			}
		} else if c.Value == v {
			return c.Target
		}
	}
	return b.Default
}

// wait issues the Listen or CollectDigits of the current node.
func (se *Session) wait(nd *Node, out *[]Action) {
	info := se.s.info[nd.Name]
	if nd.Listen != nil {
		l := nd.Listen
		*out = append(*out, Listen{
			Speech: l.Speech && !se.st.Keypad, DTMF: l.DTMF || se.st.Keypad, Timeout: l.Timeout, MaxSpeech: l.MaxSpeech,
			EndSilence: l.EndSilence, DigitTimeout: l.DigitTimeout, MaxDigits: info.maxDigits,
			BargeIn: l.BargeIn, Hints: info.hints,
		})
		se.st.Wait = WaitInput
		return
	}
	c := nd.Collect
	*out = append(*out, CollectDigits{
		Var: c.Into, Min: c.Digits.Min, Max: c.Digits.Max, End: c.Digits.End, Timeout: c.Digits.Timeout,
		InterDigit: c.Digits.InterDigit, Speech: c.Speech && !se.st.Keypad, DTMF: c.DTMF || se.st.Keypad, BargeIn: c.BargeIn,
	})
	se.st.Wait = WaitCollect
}

func (se *Session) say(p Prompt, barge bool, out *[]Action) []SaidPrompt {
	var said []SaidPrompt
	for _, seg := range p {
		text := seg.Text.Render(se.st.Vars, TextContext)
		if seg.Audio != "" {
			*out = append(*out, Play{File: seg.Audio, Text: text, BargeIn: barge})
		} else if strings.TrimSpace(text) != "" {
			*out = append(*out, Say{Text: text, BargeIn: barge})
		} else {
			continue
		}
		said = append(said, SaidPrompt{Text: text, Audio: seg.Audio})
	}
	return said
}

// headers renders header templates; a header whose value comes out empty is
// left out (no "X-Order:" when no order was asked for).
func (se *Session) headers(hs []Header) []HeaderValue {
	var out []HeaderValue
	for _, h := range hs {
		if v := h.Value.Render(se.st.Vars, HeaderContext); strings.TrimSpace(v) != "" {
			out = append(out, HeaderValue{Name: h.Name, Value: v})
		}
	}
	return out
}

func (se *Session) tag(t *TagSpec, out *[]Action) {
	if t.Grade != "" {
		se.st.Grade = t.Grade
	}
	for _, tag := range t.Tags {
		if !contains(se.st.Tags, tag) {
			se.st.Tags = append(se.st.Tags, tag)
		}
	}
	*out = append(*out, Tag{Grade: t.Grade, Tags: append([]string(nil), t.Tags...)})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// utterance matches speech against the intents active at a listening node.
func (se *Session) utterance(nd *Node, u Utterance, out *[]Action) {
	se.st.Vars["last_utterance"] = u.Text
	info := se.s.info[nd.Name]
	m := se.s.matcher
	if u.Confidence > 0 && u.Confidence < se.s.Match.MinConfidence {
		r := match.Result{Input: u.Text, Index: -1, Reason: fmt.Sprintf("recogniser confidence %.2f is below %.2f", u.Confidence, se.s.Match.MinConfidence)}
		*out = append(*out, Understood{Node: nd.Name, Input: "speech", Text: u.Text, Result: r, Outcome: "low_confidence"})
		se.miss(nd, missNoMatch, out)
		return
	}
	r := m.Match(u.Text, info.active)
	for _, alt := range u.Alternatives {
		if r.Matched() {
			break
		}
		if ar := m.Match(alt, info.active); ar.Matched() {
			r = ar
		}
	}
	if !r.Matched() && nd.Listen.DTMF {
		// "One", "按1", "option two": the key of a menu, said instead of pressed.
		if key := spokenKey(u.Text, info.maxDigits); key != "" {
			if kr := m.MatchDigits(key, info.active); kr.Matched() {
				kr.Input = r.Input
				kr.Evidence = "key " + key + ", spoken"
				r = kr
			}
		}
	}
	if !r.Matched() {
		*out = append(*out, Understood{Node: nd.Name, Input: "speech", Text: u.Text, Result: r, Outcome: "no_match"})
		se.miss(nd, missNoMatch, out)
		return
	}
	*out = append(*out, Understood{Node: nd.Name, Input: "speech", Text: u.Text, Result: r, Outcome: "matched"})
	se.dispatch(nd, r.Intent, out)
}

// spokenKeyFillers are words around a spoken menu key ("press one", "选2号"),
// as textnorm spells units (Latin words stemmed).
var spokenKeyFillers = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("press option number key the um uh please i choose pick select want 按 选 择 号 键 第 个 我 要 嗯 吧") {
		m[textnorm.Stem(w)] = true
	}
	return m
}()

// spokenKey returns the digits of an utterance that is only a menu key said
// aloud, or "".
func spokenKey(text string, maxDigits int) string {
	key := ""
	for _, u := range textnorm.Analyze(text).Units {
		switch {
		case u.Kind == textnorm.Number && key == "":
			key = u.Text
		case u.Kind == textnorm.Break, spokenKeyFillers[u.Text]:
		default:
			return ""
		}
	}
	if len(key) > maxDigits {
		return ""
	}
	return key
}

// menuKeys matches keys pressed at a listening node.
func (se *Session) menuKeys(nd *Node, keys string, out *[]Action) {
	info := se.s.info[nd.Name]
	r := se.s.matcher.MatchDigits(keys, info.active)
	if !r.Matched() && len(keys) > 1 && strings.HasSuffix(keys, "#") {
		r = se.s.matcher.MatchDigits(strings.TrimSuffix(keys, "#"), info.active)
	}
	if !r.Matched() {
		*out = append(*out, Understood{Node: nd.Name, Input: "dtmf", Text: keys, Result: r, Outcome: "no_match"})
		se.miss(nd, missNoMatch, out)
		return
	}
	*out = append(*out, Understood{Node: nd.Name, Input: "dtmf", Text: keys, Result: r, Outcome: "matched"})
	se.dispatch(nd, r.Intent, out)
}

// dispatch sends a matched intent where the node, the global routes or the
// answer library say.
func (se *Session) dispatch(nd *Node, intent string, out *[]Action) {
	se.st.LastIntent = intent
	se.st.Vars["last_intent"] = intent
	target := ""
	for _, r := range nd.Routes {
		if r.Intent == intent {
			target = r.Target
			break
		}
	}
	if target == "" {
		for _, r := range se.s.Global {
			if r.Intent == intent {
				target = r.Target
				break
			}
		}
	}
	if target == TargetRepeat {
		se.repeat(nd, out)
		return
	}
	if target != "" {
		se.enter(target, out)
		return
	}
	ans := se.s.Answers[intent]
	if ans == nil { // cannot happen: the active set holds only routable intents
		se.miss(nd, missNoMatch, out)
		return
	}
	se.st.Answered = true
	if ans.Tag != nil {
		se.tag(ans.Tag, out)
	}
	next := ans.Next
	if next == "" {
		next = se.s.AfterAnswer
	}
	listenHere := next == ""
	said := se.say(ans.Say, listenHere && nd.Listen != nil && nd.Listen.BargeIn, out)
	if len(said) > 0 {
		se.st.LastPrompt = said
	}
	if listenHere {
		se.st.NoInput, se.st.NoMatch = 0, 0
		se.wait(nd, out)
		return
	}
	se.enter(next, out)
}

// repeat says the last prompt again and waits again; it is not a miss.
func (se *Session) repeat(nd *Node, out *[]Action) {
	barge := nd.Listen != nil && nd.Listen.BargeIn || nd.Collect != nil && nd.Collect.BargeIn
	for _, p := range se.st.LastPrompt {
		if p.Audio != "" {
			*out = append(*out, Play{File: p.Audio, Text: p.Text, BargeIn: barge})
		} else {
			*out = append(*out, Say{Text: p.Text, BargeIn: barge})
		}
	}
	se.wait(nd, out)
}

// collectSpeech handles speech while collecting a number: a global intent
// (ask for a person, repeat) is honoured; otherwise the spoken digits count.
func (se *Session) collectSpeech(nd *Node, u Utterance, out *[]Action) {
	se.st.Vars["last_utterance"] = u.Text
	info := se.s.info[nd.Name]
	if r := se.s.matcher.Match(u.Text, info.active); r.Matched() && r.Tier != match.Example {
		*out = append(*out, Understood{Node: nd.Name, Input: "speech", Text: u.Text, Result: r, Outcome: "matched"})
		se.dispatch(nd, r.Intent, out)
		return
	}
	if !nd.Collect.Speech {
		r := match.Result{Input: u.Text, Index: -1, Reason: "this node collects keypad digits only"}
		*out = append(*out, Understood{Node: nd.Name, Input: "speech", Text: u.Text, Result: r, Outcome: "no_match"})
		se.miss(nd, missNoMatch, out)
		return
	}
	se.collected(nd, textnorm.Digits(u.Text), "speech", u.Text, out)
}

// collected validates a collected number and moves on, or counts a miss.
func (se *Session) collected(nd *Node, digits, input, heard string, out *[]Action) {
	c := nd.Collect
	if c.Digits.End != "" {
		if i := strings.Index(digits, c.Digits.End); i >= 0 {
			digits = digits[:i]
		}
	}
	reason := ""
	n := len(digits)
	switch {
	case n == 0:
		reason = "no digits"
	case n < c.Digits.Min:
		reason = fmt.Sprintf("%d digits, at least %d needed", n, c.Digits.Min)
	case n > c.Digits.Max:
		reason = fmt.Sprintf("%d digits, at most %d allowed", n, c.Digits.Max)
	case c.Pattern != nil && !c.Pattern.MatchString(digits):
		reason = fmt.Sprintf("%q does not match %s", digits, c.Pattern)
	}
	r := match.Result{Input: digits, Index: -1, Reason: reason}
	if reason != "" {
		*out = append(*out, Understood{Node: nd.Name, Input: input, Text: heard, Result: r, Outcome: "invalid"})
		se.miss(nd, missInvalid, out)
		return
	}
	*out = append(*out, Understood{Node: nd.Name, Input: input, Text: heard, Result: r, Outcome: "collected"})
	se.st.Vars[c.Into] = digits
	se.next(nd, out)
}

type missKind uint8

const (
	missNoInput missKind = iota + 1
	missNoMatch
	missInvalid // a collected number that failed validation: counts as a no-match
)

// miss counts a no-input or no-match at the current node: a short apology and
// re-prompt while retries last, then escalation.
func (se *Session) miss(nd *Node, kind missKind, out *[]Action) {
	noInput := kind == missNoInput
	limit, count := nd.Retries.NoMatch, 0
	if noInput {
		se.st.NoInput++
		se.st.InputNoInputs++
		limit, count = nd.Retries.NoInput, se.st.NoInput
	} else {
		se.st.NoMatch++
		se.st.InputNoMatch++
		count = se.st.NoMatch
	}
	if count > limit {
		kind := "no_match"
		if noInput {
			kind = "no_input"
		}
		se.st.Vars["escalation"] = kind
		if nd.Escalate != "" && nd.Escalate != nd.Name {
			se.enter(nd.Escalate, out)
			return
		}
		se.giveUp(out, "retries exhausted ("+kind+")")
		return
	}
	var msgs []Prompt
	switch {
	case kind == missInvalid && len(nd.Collect.Invalid) > 0:
		msgs = []Prompt{nd.Collect.Invalid}
	case noInput && len(nd.NoInput) > 0:
		msgs = nd.NoInput
	case noInput && len(se.s.Defaults.NoInput) > 0:
		msgs = se.s.Defaults.NoInput
	case !noInput && len(nd.NoMatch) > 0:
		msgs = nd.NoMatch
	case !noInput && len(se.s.Defaults.NoMatch) > 0:
		msgs = se.s.Defaults.NoMatch
	}
	barge := nd.Listen != nil && nd.Listen.BargeIn || nd.Collect != nil && nd.Collect.BargeIn
	if len(msgs) > 0 {
		se.say(msgs[min(count, len(msgs))-1], barge, out)
	} else {
		text := builtinText(se.s.Language, "no_match")
		if noInput {
			text = builtinText(se.s.Language, "no_input")
		}
		*out = append(*out, Say{Text: text, BargeIn: barge})
	}
	re := nd.Reprompt
	if len(re) == 0 {
		re = nd.Say
	}
	se.say(re, barge, out)
	se.wait(nd, out)
}

// giveUp apologises and hangs up when there is nowhere left to go.
func (se *Session) giveUp(out *[]Action, reason string) {
	*out = append(*out, Say{Text: builtinText(se.s.Language, "goodbye")}, Hangup{Reason: reason})
	se.finish(reason, unresolved)
}

// fail ends the call after a run-time error in the script.
func (se *Session) fail(out *[]Action, reason string) {
	*out = append(*out, Say{Text: builtinText(se.s.Language, "error")}, Hangup{Reason: reason})
	se.finish(reason, failed)
}

func (se *Session) httpResult(nd *Node, r HTTPResult, out *[]Action) {
	h := nd.HTTP
	se.st.Vars["http_status"] = strconv.Itoa(r.Status)
	if h.Into != "" {
		var v any
		if err := json.Unmarshal(r.Body, &v); err == nil {
			se.st.Vars[h.Into] = v
		} else {
			se.st.Vars[h.Into] = string(r.Body)
		}
	}
	if target, ok := h.OnStatus[r.Status]; ok && r.Err == "" {
		se.enter(target, out)
		return
	}
	if r.Err != "" || r.Status < 200 || r.Status > 299 {
		switch {
		case h.OnError != "":
			se.enter(h.OnError, out)
		case nd.Escalate != "":
			se.enter(nd.Escalate, out)
		default:
			se.fail(out, fmt.Sprintf("backend request failed: status %d %s", r.Status, r.Err))
		}
		return
	}
	se.proceed(nd, out)
}

type ending uint8

const (
	botHangup ending = iota + 1
	callerHangup
	unresolved
	failed
)

func (se *Session) finish(reason string, how ending) {
	if se.st.Wait == WaitEnded {
		return
	}
	se.st.Wait = WaitEnded
	se.st.EndReason = reason
	switch {
	case se.st.Transferred:
		se.st.Outcome = OutcomeTransferred
	case se.st.MessageLeft:
		se.st.Outcome = OutcomeMessageLeft
	case how == failed:
		se.st.Outcome = OutcomeError
	case se.st.AfterHours:
		se.st.Outcome = OutcomeAfterHours
	case how == unresolved, se.st.TransferFail:
		// Nobody took the call and no message was left: the caller's need is open.
		se.st.Outcome = OutcomeUnresolved
	case how == botHangup, se.st.Answered:
		se.st.Outcome = OutcomeResolved
	default:
		se.st.Outcome = OutcomeAbandoned
	}
}

func builtinText(lang, key string) string {
	zh := map[string]string{
		"no_input": "抱歉,我没有听到您的声音。",
		"no_match": "抱歉,我没有听懂。",
		"goodbye":  "抱歉,这次没能帮到您。感谢您的来电,再见。",
		"error":    "抱歉,系统出了点问题,请稍后再拨。再见。",
		"keypad":   "抱歉,现在无法识别语音,请使用电话按键回答。",
	}
	en := map[string]string{
		"no_input": "Sorry, I didn't hear anything.",
		"no_match": "Sorry, I didn't understand.",
		"goodbye":  "Sorry I couldn't help this time. Thank you for calling. Goodbye.",
		"error":    "Sorry, something went wrong on our side. Please call again later. Goodbye.",
		"keypad":   "Sorry, I can't understand speech right now. Please use your telephone keypad.",
	}
	if isChinese(lang) {
		return zh[key]
	}
	return en[key]
}

func copyState(st State) State {
	out := st
	out.Vars = copyValue(st.Vars).(map[string]any)
	out.Path = append([]string(nil), st.Path...)
	out.Tags = append([]string(nil), st.Tags...)
	out.LastPrompt = append([]SaidPrompt(nil), st.LastPrompt...)
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any{}
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = copyValue(e)
		}
		return l
	}
	return v
}

// BuiltinTexts are the engine's own prompts for a language: the no-input and
// no-match apologies, the goodbye when retries run out, and the apology for a
// run-time error, in that order (a TTS cache renders them with the script's).
func BuiltinTexts(language string) []string {
	var out []string
	for _, key := range []string{"no_input", "no_match", "goodbye", "error", "keypad"} {
		out = append(out, builtinText(language, key))
	}
	return out
}
