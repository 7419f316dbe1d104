package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

// pageData is what every page template gets: the layout's fields and the
// page's own data in D.
type pageData struct {
	L           Lang
	Page        string
	User        string
	CSRF        string
	CSRFHeaders string // {"X-CSRF-Token": "…"} for htmx (hx-headers)
	Version     string
	CSS, JS     string
	Icon        string
	Here        string // this page's URL, for the language switch
	D           any
}

// LangURL is the language switch's link to lang.
func (p pageData) LangURL(lang string) string {
	return "/lang?set=" + lang + "&next=" + url.QueryEscape(p.Here)
}

var classRE = regexp.MustCompile(`[^a-z0-9-]+`)

var funcs = template.FuncMap{
	// pathesc escapes a call ID for one path segment (Call-IDs may hold / ? #).
	"pathesc": url.PathEscape,
	// cls makes a value safe as part of a class name.
	"cls":   func(s string) string { return classRE.ReplaceAllString(strings.ToLower(s), "-") },
	"ismap": func(v any) bool { _, ok := v.(map[string]any); return ok },
	"islist": func(v any) bool {
		_, ok := v.([]any)
		return ok
	},
	"isnull": func(v any) bool { return v == nil },
}

// pageNames are the page templates; each is parsed with the layout.
var pageNames = []string{"login", "error", "dashboard", "calls", "call", "unanswered", "group", "script", "health"}

func (s *server) parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(embedded, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(embedded, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	if _, err := fs.Stat(embedded, "assets/app.css"); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *server) pageData(r *http.Request, page string, d any) pageData {
	p := who(r)
	pd := pageData{L: s.lang(r), Page: page, User: p.user, CSRF: p.csrf, Version: s.cfg.Version,
		CSS: s.assetURL("app.css"), JS: s.assetURL("htmx.min.js"), Icon: s.assetURL("favicon.svg"), Here: r.URL.RequestURI(), D: d}
	if r.Method != http.MethodGet {
		// After a form's POST, the language switch goes to the page of the
		// form, not to the action.
		pd.Here = r.URL.Path
		for _, action := range []string{"/assign", "/answer", "/ignore", "/reload"} {
			pd.Here = strings.TrimSuffix(pd.Here, action)
		}
	}
	if p.csrf != "" {
		b, _ := json.Marshal(map[string]string{"X-CSRF-Token": p.csrf})
		pd.CSRFHeaders = string(b)
	}
	return pd
}

// render executes a page (tmpl "layout") or one of its fragments into a
// buffer first, so a failing template gives a clean 500, not half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page, tmpl string, data any) {
	t, ok := s.pages[page]
	if !ok {
		panic("web: no page " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		s.log.Error("web: rendering failed", "page", page, "template", tmpl, "err", err)
		http.Error(w, "internal error (see the server's log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *server) page(w http.ResponseWriter, r *http.Request, status int, page string, d any) {
	s.render(w, r, status, page, "layout", s.pageData(r, page, d))
}

type errorData struct {
	Status  int
	Message string
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.page(w, r, status, "error", errorData{Status: status, Message: msg})
}

// fail shows an error of the data functions as a page.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	l := s.lang(r)
	status, body := s.classify(r, err, l.Code())
	msg := body.Error
	switch status {
	case http.StatusNotFound:
		msg = l.t("err.notfound")
	case http.StatusInternalServerError:
		msg = l.t("err.internal")
	}
	s.errorPage(w, r, status, msg)
}

// ---- login

type loginData struct {
	Next, User, Error string
	Expired           bool
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.page(w, r, http.StatusOK, "login", loginData{Next: localPath(q.Get("next"), "/"), Expired: q.Get("expired") != ""})
}

func (s *server) clientIP(r *http.Request) string {
	if s.cfg.ClientIP != nil {
		if ip := s.cfg.ClientIP(r); ip != "" {
			return ip
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginSubmit checks a user name and password. Every failure gives the
// same message; 5 failures of one user or one address lock it for a
// minute; unknown users cost a hash like known ones.
func (s *server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	if !s.sameOrigin(r) {
		s.forbidden(w, r, "cross_origin", "cross-origin login refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, l.t("err.badform"))
		return
	}
	user := strings.TrimSpace(r.PostFormValue("user"))
	pw := r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"), "/")
	d := loginData{Next: next, User: user}
	if len(user) > 200 || len(pw) > 1024 {
		d.Error = l.t("login.failed")
		s.page(w, r, http.StatusUnauthorized, "login", d)
		return
	}
	now := s.now()
	ipKey, userKey := "ip:"+s.clientIP(r), "user:"+strings.ToLower(user)
	if s.thr.locked(ipKey, now) > 0 || s.thr.locked(userKey, now) > 0 {
		s.log.Warn("web: login refused: too many failures", "user", user, "remote", s.clientIP(r))
		d.Error = l.t("login.locked")
		w.Header().Set("Retry-After", strconv.Itoa(int(lockFor.Seconds())))
		s.page(w, r, http.StatusTooManyRequests, "login", d)
		return
	}
	ok, err := s.checkPassword(r.Context(), user, pw)
	if err != nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, l.t("err.busy"))
		return
	}
	if !ok {
		s.thr.fail(ipKey, now)
		s.thr.fail(userKey, now)
		s.log.Warn("web: login failed", "user", user, "remote", s.clientIP(r))
		d.Error = l.t("login.failed")
		s.page(w, r, http.StatusUnauthorized, "login", d)
		return
	}
	s.thr.reset(userKey)
	s.thr.reset(ipKey)
	// A new session ID at every login: no session fixation.
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		s.sess.delete(c.Value)
	}
	id, _ := s.sess.create(user, now)
	http.SetCookie(w, s.cookie(id, int(sessionMaxAge.Seconds())))
	s.log.Info("web: login", "user", user, "remote", s.clientIP(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.sessionCookie(), Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode}
}

// checkPassword verifies pw for user, at most maxHashing at a time.
func (s *server) checkPassword(ctx context.Context, user, pw string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case s.hashes <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashes }()
	h, known := s.users[user]
	if !known {
		s.dummy.verify(pw)
		return false, nil
	}
	return h.verify(pw), nil
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if p.sid != "" {
		s.sess.delete(p.sid)
	}
	http.SetCookie(w, s.cookie("", -1))
	s.log.Info("web: logout", "user", p.user)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// ---- dashboard

type liveData struct {
	L    Lang
	Live []liveView
	Now  time.Time
}

type tableData struct {
	L     Lang
	Calls []store.Call
}

type dashData struct {
	Live   liveData
	Today  statsView
	Week   statsView
	Chart  hourChart
	Latest tableData
}

func (s *server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.lang(r)
	now := s.now()
	today := midnight(now, s.loc)
	d := dashData{Live: liveData{L: l, Live: s.live(), Now: now}}
	var err error
	if d.Today, err = s.stats(ctx, today, time.Time{}); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Week, err = s.stats(ctx, now.Add(-7*24*time.Hour), time.Time{}); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(d.Week.TopUnanswered) > 5 {
		d.Week.TopUnanswered = d.Week.TopUnanswered[:5]
	}
	if d.Chart, err = s.hourly(ctx, now); err != nil {
		s.fail(w, r, err)
		return
	}
	latest, err := s.cfg.Store.ListCalls(ctx, store.CallFilter{Since: today, Limit: 10})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Latest = tableData{L: l, Calls: latest.Calls}
	s.page(w, r, http.StatusOK, "dashboard", d)
}

// livePartial is the calls-in-progress table the dashboard polls.
func (s *server) livePartial(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "dashboard", "live", liveData{L: s.lang(r), Live: s.live(), Now: s.now()})
}

// ---- calls

type callsData struct {
	Q                 callQuery
	Outcome, Grade    string
	Outcomes, Grades  []string
	Page              store.CallPage
	Table             tableData
	FirstURL, NextURL string
	Error             string
}

var pageOutcomes = []string{store.OutcomeResolved, store.OutcomeTransferred, store.OutcomeAbandoned, store.OutcomeAfterHours,
	store.OutcomeMessageLeft, "unresolved", store.OutcomeError, store.OutcomeInterrupted}

func (s *server) callsPage(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	d := callsData{Outcomes: pageOutcomes, Grades: []string{"A", "B", "C", "-"}}
	cq, err := s.parseCallQuery(r.URL.Query(), 50)
	d.Q = cq
	if len(cq.Outcome) > 0 {
		d.Outcome = cq.Outcome[0]
	}
	if len(cq.Grade) > 0 {
		d.Grade = cq.Grade[0]
	}
	status := http.StatusOK
	if err == nil {
		d.Page, err = s.listCalls(r.Context(), cq)
	}
	if err != nil {
		var bad *badRequest
		if !errors.As(err, &bad) {
			s.fail(w, r, err)
			return
		}
		d.Error, status = bad.msg, http.StatusBadRequest
	}
	if d.Page.Calls == nil {
		d.Page.Calls = []store.Call{}
	}
	d.Table = tableData{L: l, Calls: d.Page.Calls}
	v := cq.values()
	d.FirstURL = "/calls?" + v.Encode()
	if d.Page.Next != "" {
		v.Set("cursor", d.Page.Next)
		d.NextURL = "/calls?" + v.Encode()
	}
	s.page(w, r, status, "calls", d)
}

// turnRow is a turn as the call page shows it.
type turnRow struct {
	store.Turn
	NodeMark     bool
	SpeakerClass string
	Digits       bool
	Silent       bool
	Miss         bool
	Note         *turnNote
}

type turnNote struct{ Kind, Text string }

type kv struct{ K, V string }

type callData struct {
	Call store.Call
	Talk string // how long the caller spoke, for an ended call
	Rows []turnRow
	Vars []kv
}

// talkText says how long the caller spoke (the talk time of
// docs/records.md), as `hotline calls show` does.
func talkText(c store.Call, l Lang) string {
	switch {
	case c.Talk == 0 && c.TalkSpurts == 0:
		return l.t("call.talknone")
	case c.TalkSpurts == 1:
		return fmt.Sprintf(l.t("call.talkone"), c.Talk.Seconds())
	}
	return fmt.Sprintf(l.t("call.talkfmt"), c.Talk.Seconds(), c.TalkSpurts)
}

func (s *server) callPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.callDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := s.lang(r)
	cd := callData{Call: d.Call}
	if !d.Call.Open() {
		cd.Talk = talkText(d.Call, l)
	}
	node := ""
	for _, t := range d.Turns {
		row := turnRow{Turn: t, SpeakerClass: "other"}
		if t.Node != "" && t.Node != node {
			row.NodeMark, node = true, t.Node
		}
		switch t.Speaker {
		case "bot", "caller":
			row.SpeakerClass = t.Speaker
		}
		row.Digits = t.Input == "dtmf"
		row.Silent = t.Text == "" && t.Speaker == "caller" && !row.Digits
		row.Note = noteFor(t, l)
		row.Miss = row.Note != nil && row.Note.Kind == "miss"
		cd.Rows = append(cd.Rows, row)
	}
	keys := make([]string, 0, len(d.Call.Vars))
	for k := range d.Call.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Written as JSON for people: the template escapes it for HTML.
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(d.Call.Vars[k])
		cd.Vars = append(cd.Vars, kv{k, strings.TrimSpace(b.String())})
	}
	s.page(w, r, http.StatusOK, "call", cd)
}

// noteFor says what the bot made of a caller's turn, as `hotline calls
// show` does.
func noteFor(t store.Turn, l Lang) *turnNote {
	best := ""
	if t.Intent != "" {
		best = fmt.Sprintf(" (%s %s %.2f)", l.t("turn.best"), t.Intent, t.Score)
	}
	switch t.Outcome {
	case "matched":
		how := fmt.Sprintf("%.2f", t.Score)
		if t.Tier != "" {
			how = t.Tier + ", " + how
		}
		return &turnNote{"match", fmt.Sprintf("→ %s (%s)", t.Intent, how)}
	case "no_match":
		return &turnNote{"miss", "✗ " + l.t("turn.nomatch") + best}
	case "low_confidence":
		n := "✗ " + l.t("turn.lowconf")
		if t.Confidence >= 0 {
			n += fmt.Sprintf(" (%s %.2f)", l.t("turn.recogniser"), t.Confidence)
		}
		return &turnNote{"miss", n + best}
	case "collected":
		return &turnNote{"collected", "→ " + l.t("turn.collected")}
	case "invalid":
		return &turnNote{"miss", "✗ " + l.t("turn.invalid")}
	case "":
		return nil
	}
	return &turnNote{"other", "[" + t.Outcome + "]"}
}

// ---- unanswered

type inboxData struct {
	Page             learn.Page
	Status           string
	Statuses         []string
	PrevURL, NextURL string
	Error            string
}

func (s *server) unansweredPage(w http.ResponseWriter, r *http.Request) {
	d := inboxData{Statuses: []string{store.GroupOpen, store.GroupAssigned, store.GroupIgnored, learn.StatusAll}}
	p, f, err := s.listGroups(r.Context(), r.URL.Query())
	status := http.StatusOK
	if err != nil {
		var bad *badRequest
		if !errors.As(err, &bad) {
			s.fail(w, r, err)
			return
		}
		d.Error, status = bad.msg, http.StatusBadRequest
	}
	d.Page = p
	if d.Page.Groups == nil {
		d.Page.Groups = []learn.Summary{}
	}
	d.Status = f.Status
	if d.Status == "" {
		d.Status = store.GroupOpen
	}
	link := func(offset int) string {
		v := url.Values{"status": {d.Status}}
		if f.Language != "" {
			v.Set("language", f.Language)
		}
		if q := r.URL.Query().Get("since"); q != "" {
			v.Set("since", q)
		}
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		return "/unanswered?" + v.Encode()
	}
	if f.Offset > 0 {
		d.PrevURL = link(max(0, f.Offset-f.Limit))
	}
	if f.Offset+len(p.Groups) < p.Total {
		d.NextURL = link(f.Offset + f.Limit)
	}
	s.page(w, r, status, "unanswered", d)
}

type groupData struct {
	groupDetail
	Intents   []string
	Suggested string
	CanTeach  bool
	Result    *actionResult
	Error     *apiError
	// Form is what was sent when it failed, so staff can correct it.
	Form                       actionInput
	FormKeywords, FormExamples string
}

func (s *server) groupData(ctx context.Context, id int64) (groupData, error) {
	gd, err := s.groupDetail(ctx, id, false)
	if err != nil {
		return groupData{}, err
	}
	d := groupData{groupDetail: gd, CanTeach: s.cfg.Inbox != nil && (s.cfg.ScriptPath != "" || s.cfg.Inbox.ScriptPath != "")}
	if sc := s.script(); sc != nil {
		for _, in := range sc.Intents {
			d.Intents = append(d.Intents, in.Name)
		}
	}
	// The intent that came closest most often is the likely one.
	votes := map[string]int{}
	for _, q := range gd.Questions {
		if q.Intent != "" && slices.Contains(d.Intents, q.Intent) {
			votes[q.Intent]++
			if votes[q.Intent] > votes[d.Suggested] || d.Suggested == "" {
				d.Suggested = q.Intent
			}
		}
	}
	return d, nil
}

func (s *server) groupPage(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	d, err := s.groupData(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, http.StatusOK, "group", d)
}

// groupAction handles the forms of a group's page: htmx gets the group's
// part of the page again (with the result), a plain form post the whole
// page.
func (s *server) groupAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := groupID(r)
		if err != nil {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		l := s.lang(r)
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, l.t("err.badform"))
			return
		}
		f := r.PostForm
		in := actionInput{Intent: f.Get("intent"), As: f.Get("as"), Phrase: f.Get("phrase"), Name: f.Get("name"),
			Say: f.Get("say"), Reason: f.Get("reason"), Keywords: splitKeywords(f.Get("keywords")),
			Examples: splitLines(f.Get("examples"))}
		res, rerr := s.resolve(r.Context(), who(r).user, action, id, in, l.Code())
		d, err := s.groupData(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		status := http.StatusOK
		if rerr != nil {
			st, body := s.classify(r, rerr, l.Code())
			if st == http.StatusNotFound {
				body.Error = l.t("err.notfound")
			}
			status, d.Error = st, &body
			d.Form, d.FormKeywords, d.FormExamples = in, f.Get("keywords"), f.Get("examples")
			if action == "assign" && slices.Contains(d.Intents, in.Intent) {
				d.Suggested = in.Intent
			}
		} else {
			d.Result = &res
		}
		if r.Header.Get("HX-Request") != "" {
			// htmx swaps only 2xx answers by default: the result (or why it
			// failed) is always shown, with its status in a header.
			w.Header().Set("X-Hotline-Status", strconv.Itoa(status))
			s.render(w, r, http.StatusOK, "group", "groupMain", s.pageData(r, "group", d))
			return
		}
		s.page(w, r, status, "group", d)
	}
}

// splitKeywords splits a keywords field at commas (, ，、) and new lines.
func splitKeywords(s string) []string {
	return cleanList(strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == '\n' || r == ';' || r == '；'
	}))
}

func splitLines(s string) []string { return cleanList(strings.Split(s, "\n")) }

// ---- script

type scriptData struct {
	Info          scriptInfo
	ReloadsNewest []Reload
	SVG           template.HTML
	GraphError    string
	CanReload     bool
	Flash         string
	FlashOK       bool
}

func (s *server) scriptData(r *http.Request) (scriptData, string, error) {
	l := s.lang(r)
	info, err := s.scriptInfo(l.Code())
	if err != nil {
		return scriptData{}, "", err
	}
	d := scriptData{Info: info, CanReload: s.cfg.Reload != nil}
	for i := len(info.Reloads) - 1; i >= 0; i-- {
		d.ReloadsNewest = append(d.ReloadsNewest, info.Reloads[i])
	}
	g := s.graphFor(s.script())
	if g.err != nil {
		d.GraphError = g.err.Error()
	} else {
		// The picture is made by dialog/graph, which escapes every text
		// of the script for XML; nothing of a caller's is in it.
		d.SVG = template.HTML(g.svg)
	}
	return d, g.styleHash, nil
}

func (s *server) scriptPage(w http.ResponseWriter, r *http.Request) {
	d, hash, err := s.scriptData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", csp(hash))
	s.page(w, r, http.StatusOK, "script", d)
}

func (s *server) scriptReload(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	var flash string
	ok := false
	if s.cfg.Reload == nil {
		flash = l.t("script.cannotreload")
	} else if err := s.cfg.Reload(); err != nil {
		flash = l.t("script.reloadfailed") + " " + err.Error()
	} else {
		flash, ok = l.t("script.reloaded"), true
		s.log.Info("web: script reloaded on request", "by", who(r).user)
	}
	d, hash, err := s.scriptData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Flash, d.FlashOK = flash, ok
	w.Header().Set("Content-Security-Policy", csp(hash))
	s.page(w, r, http.StatusOK, "script", d)
}

// ---- health

type healthData struct {
	Status, Version string
	Value           any
	JSON            string
}

func (s *server) healthPage(w http.ResponseWriter, r *http.Request) {
	raw, err := json.MarshalIndent(s.health(), "", "  ")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers as they were written, not 1.6e+06
	if err := dec.Decode(&v); err != nil {
		s.fail(w, r, err)
		return
	}
	d := healthData{Value: v, JSON: string(raw), Status: "unknown", Version: s.cfg.Version}
	if m, ok := v.(map[string]any); ok {
		if st, ok := m["status"].(string); ok {
			d.Status = st
		}
		if ver, ok := m["version"].(string); ok && ver != "" {
			d.Version = ver
		}
	}
	s.page(w, r, http.StatusOK, "health", d)
}
