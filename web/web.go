package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

// Config is what the admin UI needs from the server that mounts it.
type Config struct {
	Store store.Store
	// Inbox resolves unanswered questions (its ScriptPath set by the serve:
	// empty when the built-in demo hotline runs, which cannot be taught).
	// Each request uses a copy with By set to the logged-in user.
	Inbox *learn.Inbox
	// Script returns the script serving now; ScriptPath is its file ("" for
	// the built-in demo).
	Script     func() *dialog.Script
	ScriptPath string
	// Live reports the calls in progress and the server's health; nil shows
	// none.
	Live LiveSource
	// Reloads returns the history of script reloads, oldest first (nil:
	// none); Reload asks the server to load the script again now (nil:
	// teaching relies on the server watching the learned file).
	Reloads func() []Reload
	Reload  func() error
	// Users maps user names to password hashes (HashPassword; bcrypt hashes
	// are accepted too). Never the passwords themselves.
	Users map[string]string
	// Tokens maps API token names to token hashes (HashToken), for
	// `Authorization: Bearer TOKEN` on /api/.
	Tokens map[string]string
	// DataDir is where recordings and snippets are: a call's stored relative
	// path is opened inside it (never a path from a request).
	DataDir string
	Version string
	// Secure marks cookies Secure (with the __Host- prefix): set it when the
	// UI is reached over HTTPS, directly or through a proxy.
	Secure bool
	Logger *slog.Logger
	Now    func() time.Time
	// Location is the time zone of the pages' times and of "today"
	// (default time.Local).
	Location *time.Location
	// NumberHash, when set, is the keyed hash of a phone number as the
	// server's privacy policy makes it (privacy.NumberPolicy.Hash): the
	// number filter then also finds calls whose numbers are masked or hashed,
	// as `hotline calls --number` does.
	NumberHash func(number string) string
	// ClientIP, when set, says which address a request comes from, for
	// login throttling (e.g. from X-Forwarded-For set by a trusted proxy);
	// default the connection's address. Behind a proxy without it, every
	// user shares the proxy's address and its lock.
	ClientIP func(*http.Request) string
}

// LiveSource is the running server as the admin UI sees it.
type LiveSource interface {
	// Calls returns the calls in progress.
	Calls() []LiveCall
	// Health returns what /healthz shows (marshalled as JSON).
	Health() any
}

// LiveCall is a call in progress.
type LiveCall struct {
	ID      string    `json:"id"`
	Caller  string    `json:"caller"` // as the privacy policy keeps it
	Called  string    `json:"called,omitempty"`
	Node    string    `json:"node"` // where the script is now
	Started time.Time `json:"started"`
}

// Reload is one attempt to load the script again.
type Reload struct {
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger,omitempty"` // SIGHUP, files changed, admin…
	Version string    `json:"version,omitempty"` // the version loaded (OK) or tried
	OK      bool      `json:"ok"`
	Errors  []string  `json:"errors,omitempty"` // why it was rejected
}

// server is the handler New returns.
type server struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location
	users  map[string]passwordHash
	dummy  passwordHash // verified for unknown users, so they take as long
	tokens []apiToken
	sess   *sessions
	thr    *throttle
	hashes chan struct{} // bounds concurrent password hashing
	pages  map[string]*template.Template
	assets map[string]asset
	mux    *http.ServeMux

	graphMu sync.Mutex
	graph   graphCache
}

type apiToken struct {
	name string
	hash [32]byte
}

const maxHashing = 2

// New returns the admin UI and its JSON API. Every route but /login,
// /lang and /assets/ needs a logged-in user (or, for /api/, an API token).
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: Config.Store is nil")
	}
	s := &server{cfg: cfg, log: cfg.Logger, now: cfg.Now, loc: cfg.Location, users: map[string]passwordHash{},
		sess: newSessions(maxSessions), thr: newThrottle(), hashes: make(chan struct{}, maxHashing)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.Local
	}
	names := make([]string, 0, len(cfg.Users))
	for u := range cfg.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		if u == "" || strings.ContainsAny(u, "\x00\r\n") {
			return nil, fmt.Errorf("web: user name %q is not allowed", u)
		}
		h, err := parsePasswordHash(cfg.Users[u])
		if err != nil {
			return nil, fmt.Errorf("web: password of user %q: %w", u, err)
		}
		s.users[u] = h
	}
	// The dummy costs what a real user's hash costs.
	dummyParams := defaultArgon
	for _, u := range names {
		if h := s.users[u]; h.argon {
			dummyParams = h.params
			break
		}
	}
	dh, err := hashPassword(randomID(16), dummyParams)
	if err != nil {
		return nil, err
	}
	if s.dummy, err = parsePasswordHash(dh); err != nil {
		return nil, err
	}
	tnames := make([]string, 0, len(cfg.Tokens))
	for n := range cfg.Tokens {
		tnames = append(tnames, n)
	}
	sort.Strings(tnames)
	for _, n := range tnames {
		h, err := parseTokenHash(cfg.Tokens[n])
		if err != nil {
			return nil, fmt.Errorf("web: API token %q: %w", n, err)
		}
		s.tokens = append(s.tokens, apiToken{name: n, hash: h})
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parsePages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /assets/{name}", s.serveAsset)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginSubmit)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("GET /lang", s.setLang)

	m.HandleFunc("GET /{$}", s.dashboardPage)
	m.HandleFunc("GET /dashboard/live", s.livePartial)
	m.HandleFunc("GET /calls", s.callsPage)
	m.HandleFunc("GET /calls/{id}", s.callPage)
	m.HandleFunc("GET /calls/{id}/recording", s.callRecording)
	m.HandleFunc("GET /unanswered", s.unansweredPage)
	m.HandleFunc("GET /unanswered/{id}", s.groupPage)
	m.HandleFunc("POST /unanswered/{id}/assign", s.groupAction("assign"))
	m.HandleFunc("POST /unanswered/{id}/answer", s.groupAction("answer"))
	m.HandleFunc("POST /unanswered/{id}/ignore", s.groupAction("ignore"))
	m.HandleFunc("GET /unanswered/{id}/questions/{qid}/audio", s.questionAudio)
	m.HandleFunc("GET /script", s.scriptPage)
	m.HandleFunc("POST /script/reload", s.scriptReload)
	m.HandleFunc("GET /health", s.healthPage)

	m.HandleFunc("GET /api/calls", s.apiCalls)
	m.HandleFunc("GET /api/calls/{id}", s.apiCall)
	m.HandleFunc("GET /api/calls/{id}/recording", s.callRecording)
	m.HandleFunc("GET /api/stats", s.apiStats)
	m.HandleFunc("GET /api/live", s.apiLive)
	m.HandleFunc("GET /api/unanswered", s.apiUnanswered)
	m.HandleFunc("GET /api/unanswered/{id}", s.apiGroup)
	m.HandleFunc("GET /api/unanswered/{id}/questions/{qid}/audio", s.questionAudio)
	m.HandleFunc("POST /api/unanswered/{id}/assign", s.apiGroupAction("assign"))
	m.HandleFunc("POST /api/unanswered/{id}/answer", s.apiGroupAction("answer"))
	m.HandleFunc("POST /api/unanswered/{id}/ignore", s.apiGroupAction("ignore"))
	m.HandleFunc("GET /api/script", s.apiScript)
	m.HandleFunc("GET /api/script/graph.svg", s.apiGraph)
	m.HandleFunc("POST /api/script/reload", s.apiReload)
	m.HandleFunc("GET /api/health", s.apiHealth)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		// A known endpoint asked with another method: 405 with Allow.
		var allow []string
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "" {
				allow = append(allow, method)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" "+r.URL.Path+": use "+strings.Join(allow, " or "))
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, s.lang(r).t("err.notfound"))
	})
	s.mux = m
}

// public reports whether a path is served without logging in.
func public(r *http.Request) bool {
	p := r.URL.Path
	return p == "/login" || p == "/lang" || strings.HasPrefix(p, "/assets/")
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// principal is who makes a request.
type principal struct {
	user  string // the user, or "token:NAME"
	token bool   // authenticated by an API token (no cookies: no CSRF)
	sid   string // session ID (cookie)
	csrf  string
}

type ctxKey struct{}

func who(r *http.Request) principal {
	p, _ := r.Context().Value(ctxKey{}).(principal)
	return p
}

// ServeHTTP sets the security headers, authenticates, checks CSRF on
// state-changing requests, and routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp(""))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/assets/") {
		h.Set("Cache-Control", "no-store")
	}
	if public(r) {
		s.mux.ServeHTTP(w, r)
		return
	}
	p, ok, why := s.authenticate(r)
	if !ok {
		s.unauthorized(w, r, why)
		return
	}
	if unsafeMethod(r.Method) && !p.token {
		if !s.sameOrigin(r) {
			s.forbidden(w, r, "cross_origin", "cross-origin request refused (Origin/Referer is not this site)")
			return
		}
		if !validCSRF(w, r, p.csrf) {
			s.forbidden(w, r, "csrf", "missing or wrong CSRF token")
			return
		}
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
}

// authenticate finds the request's user: an API token on /api/ (when the
// request has an Authorization header, only that counts), else the session
// cookie.
func (s *server) authenticate(r *http.Request) (principal, bool, string) {
	if auth := r.Header.Get("Authorization"); auth != "" && isAPI(r) {
		name, ok := s.bearer(auth)
		if !ok {
			return principal{}, false, "bad_token"
		}
		return principal{user: "token:" + name, token: true}, true, ""
	}
	c, err := r.Cookie(s.sessionCookie())
	if err != nil {
		return principal{}, false, "login"
	}
	// The live panel polls: that is not someone using the UI.
	touch := r.URL.Path != "/dashboard/live"
	ss, ok := s.sess.get(c.Value, s.now(), touch)
	if !ok {
		return principal{}, false, "expired"
	}
	return principal{user: ss.user, sid: c.Value, csrf: ss.csrf}, true, ""
}

// bearer checks an Authorization header against every configured token's
// hash, in constant time and without stopping at a match.
func (s *server) bearer(auth string) (string, bool) {
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", false
	}
	got := sha256Of(tok)
	name, found := "", false
	for _, t := range s.tokens {
		if constantEqual(got[:], t.hash[:]) {
			name, found = t.name, true
		}
	}
	return name, found
}

func (s *server) unauthorized(w http.ResponseWriter, r *http.Request, why string) {
	if isAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hotline"`)
		msg := "authentication required: log in, or send Authorization: Bearer TOKEN"
		if why == "bad_token" {
			msg = "invalid API token"
		}
		writeError(w, http.StatusUnauthorized, "unauthorized", msg)
		return
	}
	target := "/login"
	if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
		target += "?next=" + urlQueryEscape(r.URL.RequestURI())
	}
	if why == "expired" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "expired=1"
	}
	if r.Header.Get("HX-Request") != "" {
		// htmx: make the whole page go to the login form.
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *server) forbidden(w http.ResponseWriter, r *http.Request, code, msg string) {
	s.log.Warn("web: request refused", "code", code, "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
	if isAPI(r) {
		writeError(w, http.StatusForbidden, code, msg)
		return
	}
	s.errorPage(w, r, http.StatusForbidden, s.lang(r).t("err.csrf"))
}

// sameOrigin checks that a state-changing request comes from a page of
// this site: Sec-Fetch-Site when the browser sends it, then Origin, else
// Referer; a request with none of them is refused (every browser sends
// Origin on a POST).
func (s *server) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin":
	default:
		return false
	}
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return false
	}
	u, err := parseURL(src)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return !s.cfg.Secure && r.TLS == nil
	}
	return false
}

func validCSRF(w http.ResponseWriter, r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") ||
			strings.HasPrefix(ct, "multipart/form-data") {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			got = r.PostFormValue("csrf")
		}
	}
	return want != "" && got != "" && constantEqual([]byte(got), []byte(want))
}

const maxFormBytes = 1 << 20

// sessionCookie is the session cookie's name: __Host- prefixed when
// Secure, so that it is bound to this host and path / over HTTPS.
func (s *server) sessionCookie() string {
	if s.cfg.Secure {
		return "__Host-hotline_session"
	}
	return "hotline_session"
}

// csp is the Content-Security-Policy: everything from this site only, no
// inline scripts or styles; extraStyle allows one inline style element by
// its hash (the flow picture's).
func csp(extraStyle string) string {
	style := "'self'"
	if extraStyle != "" {
		style += " " + extraStyle
	}
	return "default-src 'self'; script-src 'self'; style-src " + style + "; img-src 'self' data:; media-src 'self'; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
