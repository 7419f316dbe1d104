package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// routes are every route of New but the public ones, with a request that
// would succeed when logged in.
var routes = []struct{ method, path, body string }{
	{"GET", "/", ""},
	{"GET", "/dashboard/live", ""},
	{"GET", "/calls", ""},
	{"GET", "/calls?since=7d&outcome=resolved", ""},
	{"GET", "/calls/detail@10.0.0.5", ""},
	{"GET", "/calls/detail@10.0.0.5/recording", ""},
	{"GET", "/unanswered", ""},
	{"GET", "/unanswered/1", ""},
	{"POST", "/unanswered/1/assign", "intent=opening_hours"},
	{"POST", "/unanswered/1/answer", "name=x&say=y"},
	{"POST", "/unanswered/1/ignore", "reason=noise"},
	{"GET", "/unanswered/1/questions/1/audio", ""},
	{"GET", "/script", ""},
	{"POST", "/script/reload", ""},
	{"GET", "/health", ""},
	{"POST", "/logout", ""},
	{"GET", "/no-such-page", ""},
	{"GET", "/api/calls", ""},
	{"GET", "/api/calls/detail@10.0.0.5", ""},
	{"GET", "/api/calls/detail@10.0.0.5/recording", ""},
	{"GET", "/api/stats?since=7d", ""},
	{"GET", "/api/live", ""},
	{"GET", "/api/unanswered?status=all", ""},
	{"GET", "/api/unanswered/1", ""},
	{"GET", "/api/unanswered/1/questions/1/audio", ""},
	{"POST", "/api/unanswered/1/assign", `{"intent":"opening_hours"}`},
	{"POST", "/api/unanswered/1/answer", `{"name":"x","say":"y"}`},
	{"POST", "/api/unanswered/1/ignore", `{"reason":"noise"}`},
	{"GET", "/api/script", ""},
	{"GET", "/api/script/graph.svg", ""},
	{"POST", "/api/script/reload", ""},
	{"GET", "/api/health", ""},
	{"GET", "/api/nothing", ""},
}

func TestAuthRequiredEverywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stale := &http.Cookie{Name: "hotline_session", Value: strings.Repeat("A", base64Len(sessionIDBytes))}
	for _, rt := range routes {
		for _, how := range []string{"nothing", "stale cookie", "bad token"} {
			t.Run(rt.method+" "+rt.path+" "+how, func(t *testing.T) {
				var c *http.Cookie
				hdr := map[string]string{}
				if rt.method == "POST" {
					hdr["Content-Type"] = "application/x-www-form-urlencoded"
					if strings.HasPrefix(rt.path, "/api/") {
						hdr["Content-Type"] = "application/json"
					}
				}
				switch how {
				case "stale cookie":
					c = stale
				case "bad token":
					hdr["Authorization"] = "Bearer not-the-token"
				}
				w := f.request(rt.method, rt.path, strings.NewReader(rt.body), hdr, c)
				if strings.HasPrefix(rt.path, "/api/") {
					if w.Code != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401\n%s", w.Code, w.Body)
					}
					e := decode[apiError](t, w)
					if e.Code != "unauthorized" || e.Error == "" {
						t.Errorf("error body %+v", e)
					}
					if w.Header().Get("WWW-Authenticate") == "" {
						t.Error("no WWW-Authenticate")
					}
					return
				}
				if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
					t.Fatalf("status %d Location %q, want 303 to /login", w.Code, w.Header().Get("Location"))
				}
				if strings.Contains(w.Body.String(), "detail@") || strings.Contains(w.Body.String(), "RIFF") {
					t.Error("the body leaks data")
				}
			})
		}
	}
	// Nothing was changed by the refused requests.
	if n := f.reloads.Load(); n != 0 {
		t.Errorf("Reload called %d times", n)
	}
	g, _, err := f.st.Group(t.Context(), 1)
	if err != nil || g.Status != "open" {
		t.Errorf("group 1: %+v %v", g, err)
	}
	// And every route works when logged in (the same table), as a check
	// that the table is right.
	b := f.browser()
	for _, rt := range routes {
		if rt.method != "GET" || rt.path == "/no-such-page" || rt.path == "/api/nothing" {
			continue
		}
		if w := f.get(rt.path, b); w.Code != http.StatusOK {
			t.Errorf("logged in: GET %s: %d", rt.path, w.Code)
		}
	}
}

func TestPublicRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, p := range []string{"/login", "/assets/app.css", "/assets/htmx.min.js", "/assets/htmx.LICENSE.txt"} {
		if w := f.request("GET", p, nil, nil, nil); w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	w := f.request("GET", "/lang?set=zh&next=/calls", nil, nil, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/calls" {
		t.Errorf("lang switch: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Wrong password and unknown user: the same answer.
	var bodies []string
	for _, up := range [][2]string{{"alice", "wrong"}, {"mallory", alicePassword}, {"", ""}} {
		w := f.login(up[0], up[1])
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("login %q: %d", up[0], w.Code)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("login %q set a cookie", up[0])
		}
		if !strings.Contains(w.Body.String(), "Wrong user name or password.") {
			t.Errorf("login %q: no generic message", up[0])
		}
		bodies = append(bodies, strings.ReplaceAll(w.Body.String(), `value="`+up[0]+`"`, ""))
	}
	if bodies[0] != bodies[1] {
		t.Error("a wrong password and an unknown user answer differently")
	}

	w := f.login("alice", alicePassword)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/calls" {
		t.Fatalf("login: %d %q", w.Code, w.Header().Get("Location"))
	}
	c := w.Result().Cookies()[0]
	if c.Name != "hotline_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
		t.Errorf("cookie %+v", c)
	}
	if len(c.Value) != 43 {
		t.Errorf("session ID %q: want 32 random bytes in base64", c.Value)
	}
	b := f.browser()
	if w := f.get("/calls", b); w.Code != 200 {
		t.Fatalf("calls: %d", w.Code)
	}
	// Logout needs the CSRF token like every POST.
	if w := f.request("POST", "/logout", form(), formHdr, b.cookie); w.Code != http.StatusForbidden {
		t.Errorf("logout without token: %d", w.Code)
	}
	w = f.request("POST", "/logout", form("csrf", b.csrf), formHdr, b.cookie)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d", w.Code)
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 || c[0].Value != "" {
		t.Errorf("logout cookie %+v: want it cleared", c)
	}
	if w := f.get("/calls", b); w.Code != http.StatusSeeOther {
		t.Errorf("after logout the old cookie still works: %d", w.Code)
	}
	if w := f.request("GET", "/api/calls", nil, nil, b.cookie); w.Code != http.StatusUnauthorized {
		t.Errorf("after logout the API still works: %d", w.Code)
	}
}

func TestLoginNextIsLocal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for next, want := range map[string]string{"/calls?since=7d": "/calls?since=7d", "//evil.example/x": "/",
		"https://evil.example": "/", "/\\evil.example": "/", "javascript:alert(1)": "/"} {
		w := f.request("POST", "/login", form("user", "alice", "password", alicePassword, "next", next), formHdr, nil)
		if got := w.Header().Get("Location"); got != want {
			t.Errorf("next %q: went to %q, want %q", next, got, want)
		}
		if w := f.request("GET", "/lang?set=en&next="+urlQueryEscape(next), nil, nil, nil); w.Header().Get("Location") != want {
			t.Errorf("lang next %q: went to %q", next, w.Header().Get("Location"))
		}
	}
	// The login page is reached with where to go after.
	w := f.request("GET", "/calls?since=7d", nil, nil, nil)
	if got := w.Header().Get("Location"); got != "/login?next=%2Fcalls%3Fsince%3D7d" {
		t.Errorf("redirect to %q", got)
	}
}

func TestLoginCrossOrigin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.request("POST", "/login", form("user", "alice", "password", alicePassword), merge(formHdr, map[string]string{"Origin": "https://evil.example"}), nil)
	if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Errorf("cross-origin login: %d", w.Code)
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range maxFailures {
		if w := f.login("alice", fmt.Sprint("wrong", i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	// Locked: even the right password is refused, for a minute.
	w := f.login("alice", alicePassword)
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "Too many failed attempts") {
		t.Fatalf("6th attempt: %d", w.Code)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// From another address, alice is still locked (per user).
	other := merge(formHdr, map[string]string{"RemoteAddr": "198.51.100.7:4444"})
	if w := f.request("POST", "/login", form("user", "alice", "password", alicePassword), other, nil); w.Code != http.StatusTooManyRequests {
		t.Fatalf("from another address: %d", w.Code)
	}
	// Another user from that address is not locked.
	if th := f.srv.thr; th.locked("ip:198.51.100.7", f.clock.now()) != 0 {
		t.Error("an unrelated address is locked")
	}
	f.clock.advance(30 * time.Second)
	if w := f.login("alice", alicePassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("after 30 s: %d", w.Code)
	}
	f.clock.advance(31 * time.Second)
	if w := f.login("alice", alicePassword); w.Code != http.StatusSeeOther {
		t.Fatalf("after the minute: %d", w.Code)
	}

	// Per address: five failures with different user names lock the address.
	f2 := newFixture(t)
	for i := range maxFailures {
		f2.login(fmt.Sprint("user", i), "x")
	}
	if w := f2.login("alice", alicePassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("address not locked: %d", w.Code)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	f.clock.advance(11 * time.Hour)
	if w := f.get("/calls", b); w.Code != 200 {
		t.Fatalf("after 11 h idle: %d", w.Code)
	}
	f.clock.advance(11 * time.Hour) // 11 h since the last use: still there
	if w := f.get("/calls", b); w.Code != 200 {
		t.Fatalf("22 h after login, 11 h idle: %d", w.Code)
	}
	// Polling does not count as use.
	for range 4 {
		f.clock.advance(3 * time.Hour)
		if w := f.get("/dashboard/live", b); w.Code != 200 && f.clock.now().Sub(t0) < 33*time.Hour {
			t.Fatalf("live panel: %d", w.Code)
		}
	}
	// Over 12 h since the last real use.
	f.clock.advance(time.Minute)
	w := f.get("/calls", b)
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "expired=1") {
		t.Fatalf("after 12 h idle: %d %q", w.Code, w.Header().Get("Location"))
	}
	if n := f.srv.sess.len(); n != 0 {
		t.Errorf("%d sessions left", n)
	}
	// htmx requests are told to go to the login page.
	b = f.browser()
	f.clock.advance(13 * time.Hour)
	w = f.request("GET", "/dashboard/live", nil, map[string]string{"HX-Request": "true"}, b.cookie)
	if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("HX-Redirect"), "/login") {
		t.Errorf("htmx after expiry: %d %q", w.Code, w.Header().Get("HX-Redirect"))
	}
	// The absolute limit.
	b = f.browser()
	for range 16 { // 176 h
		f.clock.advance(11 * time.Hour)
		f.get("/calls", b)
	}
	if w := f.get("/calls", b); w.Code != http.StatusSeeOther {
		t.Errorf("a session used every 11 h lives past 7 days: %d", w.Code)
	}
}

func TestSessionTableBounded(t *testing.T) {
	t.Parallel()
	ss := newSessions(3)
	var ids []string
	for i := range 5 {
		id, _ := ss.create("u", t0.Add(time.Duration(i)*time.Second))
		ids = append(ids, id)
	}
	if ss.len() != 3 {
		t.Fatalf("%d sessions, want 3", ss.len())
	}
	if _, ok := ss.get(ids[0], t0.Add(time.Minute), true); ok {
		t.Error("the least recently used session was kept")
	}
	if _, ok := ss.get(ids[4], t0.Add(time.Minute), true); !ok {
		t.Error("the newest session was dropped")
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	id := fmt.Sprint(f.groups["do you install solar panels"])
	path := "/unanswered/" + id + "/ignore"
	cases := []struct {
		name string
		body string
		hdr  map[string]string
		want int
	}{
		{"no token", "reason=x", formHdr, http.StatusForbidden},
		{"wrong token", "reason=x&csrf=AAAA" + b.csrf[4:], formHdr, http.StatusForbidden},
		{"token of another session", "reason=x&csrf=" + f.browser().csrf, formHdr, http.StatusForbidden},
		{"other origin", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Origin": "https://evil.example"}), http.StatusForbidden},
		{"other port", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Origin": "http://example.com:8081"}), http.StatusForbidden},
		{"null origin", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Origin": "null"}), http.StatusForbidden},
		{"no origin, no referer", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Origin": ""}), http.StatusForbidden},
		{"other referer", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Origin": "", "Referer": "https://evil.example/x"}), http.StatusForbidden},
		{"cross-site fetch", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Sec-Fetch-Site": "cross-site"}), http.StatusForbidden},
		{"same-origin referer", "reason=x&csrf=" + b.csrf, merge(formHdr, map[string]string{"Origin": "", "Referer": "http://example.com/unanswered/" + id}), http.StatusOK},
		{"token in a header (htmx)", "reason=y", merge(formHdr, map[string]string{"X-CSRF-Token": b.csrf, "HX-Request": "true"}), http.StatusOK},
	}
	for _, c := range cases {
		w := f.request("POST", path, strings.NewReader(c.body), c.hdr, b.cookie)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
		}
		if c.want == http.StatusForbidden {
			g, _, _ := f.st.Group(t.Context(), f.groups["do you install solar panels"])
			if g.Status != "open" {
				t.Fatalf("%s: the refused request changed the group (%s)", c.name, g.Status)
			}
		}
	}
	// The API from a browser session: the same rules, JSON errors.
	api := "/api/unanswered/" + id + "/ignore"
	jh := map[string]string{"Content-Type": "application/json"}
	w := f.request("POST", api, strings.NewReader(`{"reason":"z"}`), jh, b.cookie)
	if w.Code != http.StatusForbidden || decode[apiError](t, w).Code != "csrf" {
		t.Errorf("API without token: %d %s", w.Code, w.Body)
	}
	w = f.request("POST", api, strings.NewReader(`{"reason":"z"}`), merge(jh, map[string]string{"X-CSRF-Token": b.csrf, "Origin": "https://evil.example"}), b.cookie)
	if w.Code != http.StatusForbidden || decode[apiError](t, w).Code != "cross_origin" {
		t.Errorf("API from another origin: %d %s", w.Code, w.Body)
	}
	w = f.request("POST", api, strings.NewReader(`{"reason":"z"}`), merge(jh, map[string]string{"X-CSRF-Token": b.csrf}), b.cookie)
	if w.Code != http.StatusOK {
		t.Errorf("API with token: %d %s", w.Code, w.Body)
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Secure = true })
	https := merge(formHdr, map[string]string{"Origin": "https://example.com"})
	w := f.request("POST", "/login", form("user", "alice", "password", alicePassword), https, nil)
	c := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(c) != 1 || c[0].Name != "__Host-hotline_session" || !c[0].Secure || c[0].Path != "/" || c[0].Domain != "" {
		t.Fatalf("%d, cookie %+v", w.Code, c)
	}
	// Secure: a page of http://… is not this site's origin.
	w = f.request("POST", "/login", form("user", "alice", "password", alicePassword), formHdr, nil)
	if w.Code != http.StatusForbidden {
		t.Errorf("http origin with Secure: %d", w.Code)
	}
	// The plain cookie name is not read when Secure.
	r := f.request("GET", "/calls", nil, nil, &http.Cookie{Name: "hotline_session", Value: c[0].Value})
	if r.Code != http.StatusSeeOther {
		t.Errorf("plain cookie name accepted: %d", r.Code)
	}
	if r := f.request("GET", "/calls", nil, nil, c[0]); r.Code != 200 {
		t.Errorf("secure cookie: %d", r.Code)
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.request("GET", "/api/calls?limit=5", nil, bearer(testToken), nil)
	if w.Code != 200 {
		t.Fatalf("GET with token: %d %s", w.Code, w.Body)
	}
	// No CSRF token or Origin needed: no cookies are involved.
	id := f.groups["is there parking at your office"]
	w = f.request("POST", fmt.Sprintf("/api/unanswered/%d/ignore", id), strings.NewReader(`{"reason":"not ours"}`),
		merge(bearer(testToken), map[string]string{"Origin": "", "Content-Type": "application/json"}), nil)
	if w.Code != 200 {
		t.Fatalf("POST with token: %d %s", w.Code, w.Body)
	}
	g, _, _ := f.st.Group(t.Context(), id)
	if g.Status != "ignored" || g.ResolvedBy != "token:ci" || g.Resolution != "not ours" {
		t.Errorf("group %+v", g)
	}
	for _, auth := range []string{"Bearer " + testToken + "x", "Bearer", "Basic " + testToken, "bearer  " + strings.ToUpper(testToken)} {
		if w := f.request("GET", "/api/calls", nil, map[string]string{"Authorization": auth}, nil); w.Code != 401 {
			t.Errorf("%q: %d", auth, w.Code)
		}
	}
	// A bad token is not rescued by a good cookie.
	b := f.browser()
	if w := f.request("GET", "/api/calls", nil, bearer("wrong"), b.cookie); w.Code != 401 {
		t.Errorf("bad token with a cookie: %d", w.Code)
	}
	// Tokens are for the API, not the pages.
	if w := f.request("GET", "/calls", nil, bearer(testToken), nil); w.Code != http.StatusSeeOther {
		t.Errorf("page with a token: %d", w.Code)
	}
}

func TestConfigRejectsPlainPasswords(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, cfg := range []func(*Config){
		func(c *Config) { c.Users = map[string]string{"bob": "hunter2"} },
		func(c *Config) {
			c.Users = map[string]string{"bob": "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}
		},
		func(c *Config) {
			c.Users = map[string]string{"": "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}
		},
		func(c *Config) { c.Tokens = map[string]string{"ci": "plain-token"} },
		func(c *Config) { c.Store = nil },
	} {
		c := Config{Store: f.st}
		cfg(&c)
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted it", c)
		}
	}
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q", h)
	}
	ph, err := parsePasswordHash(h)
	if err != nil {
		t.Fatal(err)
	}
	// The default parameters cost 64 MiB and 3 passes: one verification.
	if !ph.verify("s3cret pass") {
		t.Error("verify")
	}
	h2, _ := hashPassword("s3cret pass", cheapArgon)
	if strings.Split(h, "$")[4] == strings.Split(h2, "$")[4] {
		t.Error("no salt")
	}
	if p2, _ := parsePasswordHash(h2); p2.verify("s3cret pas") || !p2.verify("s3cret pass") {
		t.Error("verify (cheap)")
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password accepted")
	}
	// bcrypt hashes (htpasswd -B) are accepted.
	bh, err := bcrypt.GenerateFromPassword([]byte("password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := parsePasswordHash(string(bh))
	if err != nil {
		t.Fatal(err)
	}
	if pb.verify("wrong") || !pb.verify("password") {
		t.Error("bcrypt verify")
	}
	tok, th, err := NewToken()
	if err != nil || !strings.HasPrefix(tok, "hl_") || th != HashToken(tok) {
		t.Errorf("NewToken %q %q %v", tok, th, err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	for _, p := range []string{"/", "/calls", "/calls/detail@10.0.0.5", "/unanswered", "/script", "/health", "/api/calls", "/login", "/assets/app.css", "/calls/detail@10.0.0.5/recording"} {
		w := f.get(p, b)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code: %q", p, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q", p, k, h.Get(k))
			}
		}
		if !strings.HasPrefix(p, "/assets/") && h.Get("Cache-Control") != "no-store" && !strings.Contains(h.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: Cache-Control %q", p, h.Get("Cache-Control"))
		}
	}
	// No inline scripts or styles in any page (the CSP would block them).
	for _, p := range []string{"/", "/calls", "/calls/detail@10.0.0.5", "/unanswered", "/unanswered/1", "/health", "/login"} {
		body := f.get(p, b).Body.String()
		if strings.Contains(body, "<script>") || strings.Contains(body, "<style") || strings.Contains(body, " style=") ||
			strings.Contains(body, " onclick=") || strings.Contains(body, "hx-on") {
			t.Errorf("%s has inline script or style", p)
		}
	}
}
