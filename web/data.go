package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/dialog/graph"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

// The data functions below are shared by the pages and the JSON API: a
// page renders what the API returns.

// badRequest is an error in what the client sent (400).
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// errUnavailable is a part of the server the UI was not given (503).
type errUnavailable struct{ what string }

func (e *errUnavailable) Error() string { return e.what + " is not available in this server" }

var durationRE = regexp.MustCompile(`^(\d+(\.\d+)?[mhdw])+$`)
var durationPartRE = regexp.MustCompile(`(\d+(?:\.\d+)?)([mhdw])`)

// parseTimeArg reads since/until as `hotline calls` does: a time back from
// now (30m, 24h, 7d, 2w, 1d12h, 1.5d), "today" (local midnight), a date or
// a local date and time (2026-11-01, 2026-11-01T14:30, 2026-11-01 14:30:05),
// RFC 3339, or "" / "all" for no bound.
func parseTimeArg(v string, now time.Time, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "", "all":
		return time.Time{}, nil
	case "today":
		return midnight(now, loc), nil
	}
	if durationRE.MatchString(strings.ToLower(v)) {
		var d float64
		for _, m := range durationPartRE.FindAllStringSubmatch(strings.ToLower(v), -1) {
			n, _ := strconv.ParseFloat(m[1], 64)
			d += n * map[string]float64{"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[m[2]]
		}
		if d > 100*365*86400 {
			return time.Time{}, badf("%q is too far back", v)
		}
		return now.Add(-time.Duration(d * float64(time.Second))), nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, badf("%q is not a time: give a time back from now (30m, 24h, 7d, 2w), today, "+
		"a date (2026-11-01), a local time (2026-11-01T14:30) or RFC 3339", v)
}

func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// listParams splits repeated and comma-separated values.
func listParams(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)

// callQuery is the calls list's filter as the page and the API take it.
type callQuery struct {
	Since, Until, Number, Open, Cursor string
	Outcome, Grade                     []string
	Limit                              int
	filter                             store.CallFilter
}

// parseCallQuery reads since, until, outcome, grade, number, open, cursor
// and limit.
func (s *server) parseCallQuery(q url.Values, defLimit int) (callQuery, error) {
	cq := callQuery{Since: q.Get("since"), Until: q.Get("until"), Number: strings.TrimSpace(q.Get("number")),
		Open: q.Get("open"), Cursor: q.Get("cursor"), Outcome: listParams(q, "outcome"), Grade: listParams(q, "grade")}
	now := s.now()
	var err error
	f := &cq.filter
	if f.Since, err = parseTimeArg(cq.Since, now, s.loc); err != nil {
		return cq, badf("since: %v", err)
	}
	if f.Until, err = parseTimeArg(cq.Until, now, s.loc); err != nil {
		return cq, badf("until: %v", err)
	}
	for _, o := range cq.Outcome {
		if !tokenRE.MatchString(o) {
			return cq, badf("outcome %q: want e.g. resolved, transferred, abandoned", o)
		}
		f.Outcome = append(f.Outcome, o)
	}
	for _, g := range cq.Grade {
		switch g {
		case "-", "none":
			f.Grade = append(f.Grade, "")
		default:
			if !tokenRE.MatchString(g) {
				return cq, badf("grade %q: want A, B, C or - (no grade)", g)
			}
			f.Grade = append(f.Grade, strings.ToUpper(g))
		}
	}
	switch strings.ToLower(cq.Open) {
	case "", "any", "all":
	case "true", "1", "yes", "open":
		t := true
		f.Open = &t
	case "false", "0", "no", "ended":
		t := false
		f.Open = &t
	default:
		return cq, badf("open %q: want true or false", cq.Open)
	}
	if len(cq.Number) > 64 {
		return cq, badf("number: too long")
	}
	cq.Limit = defLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return cq, badf("limit %q: want 1 to 1000", v)
		}
		cq.Limit = n
	}
	f.Limit = cq.Limit
	f.Cursor = cq.Cursor
	return cq, nil
}

// values is the query without the cursor, for links to other pages.
func (cq callQuery) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("since", cq.Since)
	set("until", cq.Until)
	set("number", cq.Number)
	set("open", cq.Open)
	if len(cq.Outcome) > 0 {
		v.Set("outcome", strings.Join(cq.Outcome, ","))
	}
	if len(cq.Grade) > 0 {
		v.Set("grade", strings.Join(cq.Grade, ","))
	}
	return v
}

// listCalls is ListCalls with the number filter of `hotline calls
// --number`: a stored hash h:… matches the caller hash; otherwise the
// stored caller or called number, or (with Config.NumberHash) the keyed
// hash of the number, which every call carries whatever the privacy policy
// kept of the number.
func (s *server) listCalls(ctx context.Context, cq callQuery) (store.CallPage, error) {
	f := cq.filter
	var page store.CallPage
	var err error
	switch {
	case cq.Number == "":
		page, err = s.cfg.Store.ListCalls(ctx, f)
	case isStoredHash(cq.Number):
		f.CallerHash = strings.ToLower(cq.Number)
		page, err = s.cfg.Store.ListCalls(ctx, f)
	case s.cfg.NumberHash == nil:
		f.Number = cq.Number
		page, err = s.cfg.Store.ListCalls(ctx, f)
	default:
		page, err = store.ListCallsByNumber(ctx, s.cfg.Store, f, cq.Number, s.cfg.NumberHash(cq.Number))
	}
	if err != nil && isBadCursor(err) {
		return page, badf("cursor: not a cursor of this listing (use the next value of the previous page)")
	}
	return page, err
}

var storedHashRE = regexp.MustCompile(`^[hH]:[0-9a-fA-F]{16}$`)

func isStoredHash(s string) bool { return storedHashRE.MatchString(s) }

// isBadCursor recognises the store's error for a cursor it did not make.
func isBadCursor(err error) bool { return strings.Contains(err.Error(), "bad cursor") }

// callDetail is a call with its turns (GET /api/calls/{id}).
type callDetail struct {
	Call  store.Call   `json:"call"`
	Turns []store.Turn `json:"turns"`
}

func (s *server) callDetail(ctx context.Context, id string) (callDetail, error) {
	c, err := s.cfg.Store.Call(ctx, id)
	if err != nil {
		return callDetail{}, err
	}
	turns, err := s.cfg.Store.Turns(ctx, id)
	if err != nil {
		return callDetail{}, err
	}
	if turns == nil {
		turns = []store.Turn{}
	}
	return callDetail{Call: c, Turns: turns}, nil
}

// statsView is store.Stats with its rates (GET /api/stats), as `hotline
// stats --format json` prints it.
type statsView struct {
	store.Stats
	ContainmentRate float64 `json:"containment_rate"`
	TransferRate    float64 `json:"transfer_rate"`
	AbandonRate     float64 `json:"abandon_rate"`
	NoMatchRate     float64 `json:"no_match_rate"`
	AvgHandlingS    float64 `json:"avg_handling_s"`
}

func (s *server) stats(ctx context.Context, since, until time.Time) (statsView, error) {
	st, err := s.cfg.Store.Stats(ctx, store.StatsFilter{Since: since, Until: until})
	if err != nil {
		return statsView{}, err
	}
	return statsView{Stats: st, ContainmentRate: st.ContainmentRate(), TransferRate: st.TransferRate(),
		AbandonRate: st.AbandonRate(), NoMatchRate: st.NoMatchRate(), AvgHandlingS: st.AvgHandling.Seconds()}, nil
}

// liveView is a call in progress with its duration (GET /api/live).
type liveView struct {
	LiveCall
	DurationS float64 `json:"duration_s"`
}

func (s *server) live() []liveView {
	out := []liveView{}
	if s.cfg.Live == nil {
		return out
	}
	now := s.now()
	for _, c := range s.cfg.Live.Calls() {
		d := now.Sub(c.Started)
		if d < 0 || c.Started.IsZero() {
			d = 0
		}
		out = append(out, liveView{LiveCall: c, DurationS: d.Round(time.Second).Seconds()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

func (s *server) health() any {
	if s.cfg.Live == nil {
		return map[string]any{"status": "unknown", "version": s.cfg.Version}
	}
	return s.cfg.Live.Health()
}

// hourChart is the calls per hour of a day, as SVG bars.
type hourChart struct {
	Day            time.Time
	Bars           []hourBar
	Max, Total     int
	Width, Height  float64
	PlotTop, PlotB float64 // top and bottom of the bars' area
	Grid           []gridLine
}

type hourBar struct {
	Hour       int
	Count      int
	X, Y, W, H float64
	LabelX     float64
	Future     bool
}

type gridLine struct {
	Y     float64
	Value int
}

// Chart geometry (SVG user units).
const (
	chartW, chartH   = 720.0, 200.0
	chartLeft        = 34.0
	chartTop         = 12.0
	chartBottom      = 172.0
	chartRight       = 8.0
	maxChartQueries  = 24
	chartQueryBudget = 5 * time.Second
)

// hourly counts the calls that started in each hour of the day of `day`
// (in s.loc) with one bounded ListCalls per hour (its Total; one row read),
// so it costs 24 index range counts however many calls there were.
func (s *server) hourly(ctx context.Context, day time.Time) (hourChart, error) {
	ctx, cancel := context.WithTimeout(ctx, chartQueryBudget)
	defer cancel()
	start := midnight(day, s.loc)
	now := s.now()
	ch := hourChart{Day: start, Width: chartW, Height: chartH, PlotTop: chartTop, PlotB: chartBottom}
	counts := make([]int, maxChartQueries)
	future := make([]bool, maxChartQueries)
	for h := range maxChartQueries {
		from := time.Date(start.Year(), start.Month(), start.Day(), h, 0, 0, 0, s.loc)
		to := from.Add(time.Hour)
		if from.After(now) {
			future[h] = true
			continue
		}
		p, err := s.cfg.Store.ListCalls(ctx, store.CallFilter{Since: from, Until: to, Limit: 1})
		if err != nil {
			return ch, err
		}
		counts[h] = p.Total
		ch.Total += p.Total
		ch.Max = max(ch.Max, p.Total)
	}
	top := niceCeil(ch.Max)
	plotW := chartW - chartLeft - chartRight
	slot := plotW / float64(len(counts))
	for h, n := range counts {
		hgt := 0.0
		if top > 0 {
			hgt = float64(n) / float64(top) * (chartBottom - chartTop)
		}
		if n > 0 && hgt < 1.5 {
			hgt = 1.5
		}
		x := chartLeft + float64(h)*slot
		ch.Bars = append(ch.Bars, hourBar{Hour: h, Count: n, X: round1(x + slot*0.15), W: round1(slot * 0.7),
			Y: round1(chartBottom - hgt), H: round1(hgt), LabelX: round1(x + slot/2), Future: future[h]})
	}
	if top > 0 {
		for _, v := range []int{0, top / 2, top} { // the baseline is labelled too
			ch.Grid = append(ch.Grid, gridLine{Y: round1(chartBottom - float64(v)/float64(top)*(chartBottom-chartTop)), Value: v})
		}
	}
	return ch, nil
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 2).
func niceCeil(n int) int {
	if n <= 0 {
		return 0
	}
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= n {
			return max(m*p, 2)
		}
	}
	return 10 * p
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// groupDetail is a group with its questions and their audio's URLs (GET
// /api/unanswered/{id}); no paths on the server's disk.
type groupDetail struct {
	Group     store.Group    `json:"group"`
	Questions []questionView `json:"questions"`
}

type questionView struct {
	store.Question
	AudioURL string `json:"audio_url,omitempty"`
}

func (s *server) groupDetail(ctx context.Context, id int64, api bool) (groupDetail, error) {
	g, qs, err := s.cfg.Store.Group(ctx, id)
	if err != nil {
		return groupDetail{}, err
	}
	d := groupDetail{Group: g, Questions: make([]questionView, 0, len(qs))}
	prefix := "/unanswered/"
	if api {
		prefix = "/api/unanswered/"
	}
	for _, q := range qs {
		v := questionView{Question: q}
		if q.Audio != "" {
			v.AudioURL = fmt.Sprintf("%s%d/questions/%d/audio", prefix, g.ID, q.ID)
		}
		d.Questions = append(d.Questions, v)
	}
	return d, nil
}

func (s *server) listGroups(ctx context.Context, q url.Values) (learn.Page, learn.ListFilter, error) {
	f := learn.ListFilter{Status: q.Get("status"), Language: q.Get("language"), Limit: 50}
	switch f.Status {
	case "", store.GroupOpen, store.GroupAssigned, store.GroupIgnored, learn.StatusAll:
	default:
		return learn.Page{}, f, badf("status %q: want open, assigned, ignored or all", f.Status)
	}
	var err error
	if f.Since, err = parseTimeArg(q.Get("since"), s.now(), s.loc); err != nil {
		return learn.Page{}, f, badf("since: %v", err)
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 1000 {
			return learn.Page{}, f, badf("limit %q: want 1 to 1000", v)
		}
	}
	if v := q.Get("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			return learn.Page{}, f, badf("offset %q: want 0 or more", v)
		}
	}
	ib := s.inbox("")
	if ib == nil {
		ib = &learn.Inbox{Store: s.cfg.Store}
	}
	p, err := ib.List(ctx, f)
	if p.Groups == nil {
		p.Groups = []learn.Summary{}
	}
	return p, f, err
}

// inbox is Config.Inbox for one user (nil without an inbox).
func (s *server) inbox(user string) *learn.Inbox {
	if s.cfg.Inbox == nil {
		return nil
	}
	ib := *s.cfg.Inbox
	if ib.Store == nil {
		ib.Store = s.cfg.Store
	}
	if ib.ScriptPath == "" {
		ib.ScriptPath = s.cfg.ScriptPath
	}
	ib.DataDir = "" // paths on disk are not shown; audio goes through the routes
	if user != "" {
		ib.By = user
	}
	return &ib
}

// actionInput is what staff send to resolve a group: assign {intent, as,
// phrase}, answer {name, say, keywords, examples}, ignore {reason}.
type actionInput struct {
	Intent   string   `json:"intent"`
	As       string   `json:"as"`
	Phrase   string   `json:"phrase"`
	Name     string   `json:"name"`
	Say      string   `json:"say"`
	Keywords []string `json:"keywords"`
	Examples []string `json:"examples"`
	Reason   string   `json:"reason"`
}

// actionResult is what a resolution did, and whether the server took the
// changed script.
type actionResult struct {
	Result  learn.Result `json:"result"`
	Message string       `json:"message"`
	// Reloaded says the server loaded the script again with the change
	// (Config.Reload); ReloadError why it did not.
	Reloaded    bool   `json:"reloaded"`
	ReloadError string `json:"reload_error,omitempty"`
}

const maxTextField = 2000

func (in actionInput) check(action string) error {
	long := func(name, v string) error {
		if len(v) > maxTextField {
			return badf("%s: longer than %d bytes", name, maxTextField)
		}
		return nil
	}
	for name, v := range map[string]string{"intent": in.Intent, "phrase": in.Phrase, "name": in.Name, "say": in.Say, "reason": in.Reason} {
		if err := long(name, v); err != nil {
			return err
		}
	}
	if len(in.Keywords) > 100 || len(in.Examples) > 100 {
		return badf("at most 100 keywords and 100 examples")
	}
	for _, v := range append(slices.Clone(in.Keywords), in.Examples...) {
		if err := long("keyword/example", v); err != nil {
			return err
		}
	}
	switch action {
	case "assign":
		if strings.TrimSpace(in.Intent) == "" {
			return badf("intent: required")
		}
		switch strings.ToLower(strings.TrimSpace(in.As)) {
		case "", "example", "keyword":
		default:
			return badf("as %q: want example or keyword", in.As)
		}
	case "answer":
		if strings.TrimSpace(in.Name) == "" || strings.TrimSpace(in.Say) == "" {
			return badf("name and say: required")
		}
	}
	return nil
}

// resolve assigns, answers or ignores group id for user, then asks the
// server to reload the script when the learned file changed.
func (s *server) resolve(ctx context.Context, user, action string, id int64, in actionInput, lang string) (actionResult, error) {
	if err := in.check(action); err != nil {
		return actionResult{}, err
	}
	ib := s.inbox(user)
	if ib == nil {
		return actionResult{}, &errUnavailable{"the unanswered-question inbox"}
	}
	var res learn.Result
	var err error
	switch action {
	case "assign":
		res, err = ib.Assign(ctx, id, learn.Assignment{Intent: in.Intent, As: in.As, Phrase: in.Phrase})
	case "answer":
		res, err = ib.NewAnswer(ctx, id, learn.Answer{Name: in.Name, Say: in.Say,
			Keywords: cleanList(in.Keywords), Examples: cleanList(in.Examples)})
	case "ignore":
		res, err = ib.Ignore(ctx, id, in.Reason)
	default:
		return actionResult{}, badf("unknown action %q", action)
	}
	if err != nil {
		return actionResult{Result: res}, err
	}
	out := actionResult{Result: res, Message: res.Message(lang)}
	s.log.Info("web: unanswered group resolved", "group", id, "action", action, "by", ib.By,
		"intent", res.Intent, "changed", res.Changed)
	if res.Changed && s.cfg.Reload != nil {
		if rerr := s.cfg.Reload(); rerr != nil {
			out.ReloadError = rerr.Error()
			s.log.Warn("web: reload after teaching failed", "group", id, "err", rerr)
		} else {
			out.Reloaded = true
		}
	}
	return out, nil
}

func cleanList(in []string) []string {
	var out []string
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// scriptInfo is the script serving now (GET /api/script).
type scriptInfo struct {
	Name     string       `json:"name"`
	Version  string       `json:"version"`
	Language string       `json:"language"`
	Path     string       `json:"path,omitempty"` // "" for the built-in demo
	Files    []string     `json:"files"`
	Learned  string       `json:"learned_file,omitempty"`
	Nodes    int          `json:"nodes"`
	Intents  []intentInfo `json:"intents"`
	Lint     []diagView   `json:"lint"`
	Reloads  []Reload     `json:"reloads"`
}

type intentInfo struct {
	Name     string   `json:"name"`
	Keywords []string `json:"keywords"`
	Examples []string `json:"examples"`
	DTMF     []string `json:"dtmf"`
	Answer   bool     `json:"answer"`  // in the answer library
	Handoff  bool     `json:"handoff"` // asks for a person
}

type diagView struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

func diagViews(ds dialog.Diags, lang string) []diagView {
	out := []diagView{}
	for _, d := range ds {
		out = append(out, diagView{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col, Severity: d.Severity.String(),
			Code: d.Code, Message: d.Message(lang)})
	}
	return out
}

func (s *server) script() *dialog.Script {
	if s.cfg.Script == nil {
		return nil
	}
	return s.cfg.Script()
}

func (s *server) scriptInfo(lang string) (scriptInfo, error) {
	sc := s.script()
	if sc == nil {
		return scriptInfo{}, &errUnavailable{"the script"}
	}
	info := scriptInfo{Name: sc.Name, Version: sc.Version, Language: sc.Language, Path: s.cfg.ScriptPath,
		Files: slices.Clone(sc.Files), Nodes: len(sc.Nodes), Intents: []intentInfo{}, Reloads: s.reloads()}
	if info.Files == nil {
		info.Files = []string{}
	}
	if s.cfg.ScriptPath != "" {
		info.Learned = dialog.LearnedPath(s.cfg.ScriptPath)
	}
	for _, in := range sc.Intents {
		_, ans := sc.Answers[in.Name]
		info.Intents = append(info.Intents, intentInfo{Name: in.Name, Keywords: orEmpty(in.Keywords),
			Examples: orEmpty(in.Examples), DTMF: orEmpty(in.DTMF), Answer: ans, Handoff: in.Handoff})
	}
	g := s.graphFor(sc)
	info.Lint = diagViews(g.lint, lang)
	return info, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *server) reloads() []Reload {
	out := []Reload{}
	if s.cfg.Reloads != nil {
		out = append(out, s.cfg.Reloads()...)
	}
	return out
}

// graphCache keeps the flow picture and the lint of one script version:
// both are the same for the same script.
type graphCache struct {
	version   string
	svg       []byte // without the XML declaration, for inline use
	styleHash string // CSP source of its <style> element: 'sha256-…'
	err       error
	lint      dialog.Diags
}

func (s *server) graphFor(sc *dialog.Script) graphCache {
	s.graphMu.Lock()
	defer s.graphMu.Unlock()
	if s.graph.version == sc.Version && s.graph.version != "" {
		return s.graph
	}
	gc := graphCache{version: sc.Version, lint: dialog.Lint(sc)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svg, err := graph.Build(sc).SVG(ctx)
	if err != nil {
		gc.err = err
	} else {
		if bytes.HasPrefix(svg, []byte("<?xml")) {
			if i := bytes.IndexByte(svg, '\n'); i >= 0 {
				svg = svg[i+1:]
			}
		}
		gc.svg = svg
		gc.styleHash = styleHash(svg)
	}
	s.graph = gc
	return gc
}

// styleHash is the CSP hash source of the first <style> element of an SVG
// document: the picture's style sheet, allowed by its hash rather than by
// allowing inline styles everywhere.
func styleHash(svg []byte) string {
	_, rest, ok := bytes.Cut(svg, []byte("<style>"))
	if !ok {
		return ""
	}
	css, _, ok := bytes.Cut(rest, []byte("</style>"))
	if !ok {
		return ""
	}
	sum := sha256.Sum256(css)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
