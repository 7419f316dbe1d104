package web

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
)

// pagePaths are the pages, for rendering in both languages.
func (f *fixture) pagePaths() []string {
	return []string{"/", "/calls", "/calls?outcome=transferred&grade=B&since=7d", "/calls/detail@10.0.0.5",
		"/unanswered", "/unanswered?status=all", fmt.Sprint("/unanswered/", f.groups["when do you shut"]),
		fmt.Sprint("/unanswered/", f.groups[xss]), "/script", "/health", "/login", "/no-such-page"}
}

func TestPagesInBothLanguages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	for _, lang := range []struct{ accept, cookie, htmlLang, word string }{
		{"en-GB,en;q=0.9", "", `lang="en"`, "Calls"},
		{"zh-CN,zh;q=0.9", "", `lang="zh-CN"`, "通话记录"},
		{"zh-TW", "", `lang="zh-CN"`, "通话记录"},
		{"fr-FR", "", `lang="en"`, "Calls"},
		{"zh-CN", "en", `lang="en"`, "Calls"}, // the switch wins
		{"en", "zh", `lang="zh-CN"`, "通话记录"},
	} {
		for _, p := range f.pagePaths() {
			hdr := map[string]string{"Accept-Language": lang.accept}
			if lang.cookie != "" {
				hdr["Cookie"] = langCookie + "=" + lang.cookie
			}
			r := f.request("GET", p, nil, hdr, b.cookie)
			want := 200
			if p == "/no-such-page" {
				want = 404
			}
			if r.Code != want {
				t.Fatalf("%s (%s/%s): %d\n%s", p, lang.accept, lang.cookie, r.Code, r.Body)
			}
			body := r.Body.String()
			word := lang.word
			if p == "/login" {
				word = map[string]string{"Calls": "Log in", "通话记录": "登录"}[word]
			}
			if !strings.Contains(body, lang.htmlLang) || !strings.Contains(body, word) {
				t.Errorf("%s (%s/%s): not in the right language", p, lang.accept, lang.cookie)
			}
			if !strings.Contains(body, `data-test="lang-switch"`) {
				t.Errorf("%s: no language switch", p)
			}
		}
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	for k, v := range catalogue {
		if strings.TrimSpace(v[0]) == "" || strings.TrimSpace(v[1]) == "" {
			t.Errorf("%s: %q", k, v)
		}
		if strings.Count(v[0], "%") != strings.Count(v[1], "%") {
			t.Errorf("%s: the two languages have different verbs: %q", k, v)
		}
	}
	// Every outcome, status and severity the pages show has both names.
	for _, o := range pageOutcomes {
		if _, ok := catalogue["outcome."+o]; !ok {
			t.Errorf("outcome %s", o)
		}
	}
	// Every key the templates and the Go code use exists.
	re := regexp.MustCompile(`\.(?:T|F|t) ?\(?"([a-z][a-zA-Z.]*[a-zA-Z])"`)
	for _, dir := range []string{"templates", "."} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			data, _ := os.ReadFile(dir + "/" + e.Name())
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				if _, ok := catalogue[m[1]]; !ok && strings.Contains(m[1], ".") {
					t.Errorf("%s uses %q, which is not in the catalogue", e.Name(), m[1])
				}
			}
		}
	}
}

// The call page says how long the caller spoke, in both languages, and
// the API gives it as talk_ms; a call the caller never spoke in says so.
func TestCallPageTalkTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	for accept, want := range map[string]string{
		"en": `data-test="call-talk">caller spoke 4.2 s in 3 stretches</dd>`,
		"zh": `data-test="call-talk">来电者说话 4.2 秒,共 3 段</dd>`,
	} {
		body := f.request("GET", "/calls/detail@10.0.0.5", nil, map[string]string{"Accept-Language": accept}, b.cookie).Body.String()
		if !strings.Contains(body, want) {
			t.Errorf("%s: the call page lacks %s", accept, want)
		}
	}
	if body := f.get("/calls/call-00@10.0.0.5", b).Body.String(); !strings.Contains(body,
		`data-test="call-talk">caller did not speak (or talk time was off)</dd>`) {
		t.Error("a call without talk time does not say so")
	}
	w := f.request("GET", "/api/calls/detail@10.0.0.5", nil, bearer(testToken), nil)
	if body := w.Body.String(); !strings.Contains(body, `"talk_ms": 4200,`) || !strings.Contains(body, `"talk_spurts": 3`) {
		t.Errorf("the API's call lacks talk_ms: %s", w.Body)
	}
	if d := decode[callDetail](t, w); d.Call.Talk != 4200*time.Millisecond || d.Call.TalkSpurts != 3 {
		t.Errorf("the API's talk time: %s in %d", d.Call.Talk, d.Call.TalkSpurts)
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	raw := regexp.MustCompile(`<script>alert|"quoted"|it's`)
	for _, p := range []string{"/calls/detail@10.0.0.5", "/unanswered", fmt.Sprint("/unanswered/", f.groups[xss]), "/", "/health"} {
		body := f.get(p, b).Body.String()
		if m := raw.FindString(body); m != "" {
			t.Errorf("%s: %q is not escaped", p, m)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; it&#39;s") {
			t.Errorf("%s: the escaped text is not there", p)
		}
	}
	// In the transcript, as a caller's turn.
	body := f.get("/calls/detail@10.0.0.5", b).Body.String()
	if !strings.Contains(body, `data-outcome="no_match" data-seq="4">`) || !strings.Contains(body, "✗ NO MATCH (best: billing 0.41)") {
		t.Error("the no-match turn is not marked")
	}
	// After an htmx action too (the fragment).
	id := f.groups[xss]
	w := f.request("POST", fmt.Sprintf("/unanswered/%d/ignore", id), form("reason", xss),
		merge(formHdr, map[string]string{"X-CSRF-Token": b.csrf, "HX-Request": "true"}), b.cookie)
	if w.Code != 200 || raw.MatchString(w.Body.String()) || !strings.Contains(w.Body.String(), "&lt;script&gt;") {
		t.Errorf("ignore fragment: %d", w.Code)
	}
}

func TestGroupActionsThroughThePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	id := f.groups["when do you shut"]
	page := f.get(fmt.Sprint("/unanswered/", id), b).Body.String()
	for _, want := range []string{`data-test="assign-form"`, `data-test="answer-form"`, `data-test="ignore-form"`,
		`<option value="opening_hours" selected>`, `hx-post="/unanswered/` + fmt.Sprint(id) + `/assign"`,
		`data-test="snippet-audio"`, `name="csrf" value="` + b.csrf + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("group page lacks %s", want)
		}
	}
	// A rejected change (htmx): the diagnostics, in the fragment, 200 with the status in a header.
	w := f.request("POST", fmt.Sprintf("/unanswered/%d/assign", id), form("intent", "closing_time", "as", "example", "phrase", "when do you shut"),
		merge(formHdr, map[string]string{"X-CSRF-Token": b.csrf, "HX-Request": "true"}), b.cookie)
	body := w.Body.String()
	if w.Code != 200 || w.Header().Get("X-Hotline-Status") != "422" || !strings.Contains(body, `data-test="diagnostics"`) ||
		!strings.Contains(body, "unknown-intent") || strings.Contains(body, "<html") {
		t.Fatalf("rejected: %d %q\n%s", w.Code, w.Header().Get("X-Hotline-Status"), body)
	}
	// Without htmx: the whole page, with the status.
	w = f.request("POST", fmt.Sprintf("/unanswered/%d/assign", id), form("csrf", b.csrf, "intent", "closing_time"), formHdr, b.cookie)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "<html") {
		t.Fatalf("rejected, plain: %d", w.Code)
	}
	// Assigned, in Chinese.
	w = f.request("POST", fmt.Sprintf("/unanswered/%d/assign", id), form("intent", "opening_hours", "as", "example", "phrase", "when do you shut"),
		merge(formHdr, map[string]string{"X-CSRF-Token": b.csrf, "HX-Request": "true", "Accept-Language": "zh-CN"}), b.cookie)
	body = w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `data-test="action-result" data-ok="true"`) || !strings.Contains(body, "已归入意图") ||
		!strings.Contains(body, `data-test="reload-ok"`) || strings.Contains(body, `data-test="assign-form"`) {
		t.Fatalf("assigned: %d\n%s", w.Code, body)
	}
	if f.reloads.Load() != 1 {
		t.Errorf("Reload called %d times", f.reloads.Load())
	}
	g, _, _ := f.st.Group(t.Context(), id)
	if g.Status != "assigned" || g.ResolvedBy != "alice" {
		t.Errorf("group %+v", g)
	}
	learned, _ := os.ReadFile(dialog.LearnedPath(f.script))
	if !strings.Contains(string(learned), "when do you shut") {
		t.Errorf("learned file:\n%s", learned)
	}
	// A new answer from the form: keywords split at commas, examples at lines.
	pid := f.groups["is there parking at your office"]
	w = f.request("POST", fmt.Sprintf("/unanswered/%d/answer", pid), form("csrf", b.csrf, "name", "parking",
		"say", "There is free parking behind the building.", "keywords", "parking, car park，停车", "examples", "where can I leave my car\n\n"), formHdr, b.cookie)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `data-ok="true"`) {
		t.Fatalf("answer: %d\n%s", w.Code, w.Body)
	}
	in := f.cur.Load().IntentByName("parking")
	if in == nil || len(in.Keywords) != 3 || len(in.Examples) != 1 {
		t.Errorf("parking: %+v", in)
	}
	// The reload history shows on the script page.
	if body := f.get("/script", b).Body.String(); strings.Count(body, `data-test="reload-row"`) != 2 {
		t.Error("script page: reloads not listed")
	}
}

func TestReloadFailureShown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Reload = func() error { return fmt.Errorf("script.yaml:3:1: broken") } })
	b := f.browser()
	id := f.groups["when do you shut"]
	w := f.request("POST", fmt.Sprintf("/unanswered/%d/assign", id), form("csrf", b.csrf, "intent", "opening_hours"), formHdr, b.cookie)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `data-test="reload-error"`) || !strings.Contains(w.Body.String(), "broken") {
		t.Errorf("%d\n%s", w.Code, w.Body)
	}
	w = f.request("POST", "/script/reload", form("csrf", b.csrf), formHdr, b.cookie)
	if !strings.Contains(w.Body.String(), `data-test="reload-result"`) || !strings.Contains(w.Body.String(), "broken") {
		t.Errorf("reload button: %d", w.Code)
	}
}

func TestScriptPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	w := f.get("/script", b)
	body := w.Body.String()
	for _, want := range []string{`data-test="flow-graph"`, `<svg xmlns="http://www.w3.org/2000/svg"`, `data-test="intents-table"`,
		`data-intent="opening_hours"`, `data-test="lint"`, `data-test="reload-form"`} {
		if !strings.Contains(body, want) {
			t.Errorf("script page lacks %s", want)
		}
	}
	if strings.Contains(body, "<?xml") {
		t.Error("XML declaration inside HTML")
	}
	// The picture's style sheet is allowed by its hash, and only it.
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no style element in the picture")
	}
	sum := sha256.Sum256([]byte(m[1]))
	want := "style-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q lacks %q", csp, want)
	}
	// Lint results of the script serving.
	ds := dialog.Lint(f.cur.Load())
	if n := strings.Count(body, `data-test="lint-item"`); n != len(ds) {
		t.Errorf("%d lint items, want %d", n, len(ds))
	}
	// The reload button.
	w = f.request("POST", "/script/reload", form("csrf", b.csrf), formHdr, b.cookie)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "The script was reloaded.") || f.reloads.Load() != 1 {
		t.Errorf("reload: %d", w.Code)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	body := f.get("/", b).Body.String()
	// Today (since midnight, now 10:30): call-00 … call-17 (17·37 min =
	// 10:29 back), the detailed call and the seven crafted ones.
	for _, want := range []string{`data-test="live-row" data-call-id="live-1@pbx"`, `1m35s`, `hx-get="/dashboard/live"`,
		`hx-trigger="every 3s"`, `data-test="today-calls-count">26<`, `data-test="hour-chart-svg"`, `data-test="top-unanswered-row"`,
		`data-hour="10" data-count="1"`, `data-hour="7" data-count="8"`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if n := strings.Count(body, `data-test="hour-bar"`); n != 24 {
		t.Errorf("%d hour bars", n)
	}
	sum := 0
	for _, m := range regexp.MustCompile(`data-test="hour-bar" data-hour="\d+" data-count="(\d+)"`).FindAllStringSubmatch(body, -1) {
		var n int
		fmt.Sscan(m[1], &n)
		sum += n
	}
	if sum != 26 {
		t.Errorf("the bars count %d calls, want 26", sum)
	}
	w := f.get("/dashboard/live", b)
	if w.Code != 200 || strings.Contains(w.Body.String(), "<html") || !strings.Contains(w.Body.String(), "live-1@pbx") {
		t.Errorf("live fragment: %d", w.Code)
	}
}

func TestCallsPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	body := f.get("/calls?outcome=transferred&since=all", b).Body.String()
	if n := strings.Count(body, `data-test="call-row"`); n != 11 {
		t.Errorf("%d rows", n)
	}
	if !strings.Contains(body, `<option value="transferred" selected>`) || !strings.Contains(body, `data-total="11"`) {
		t.Error("filter state not shown")
	}
	// Pages: 50 per page, a next link that keeps the filter.
	body = f.get("/calls", b).Body.String()
	m := regexp.MustCompile(`href="(/calls\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(body)
	if strings.Count(body, `data-test="call-row"`) != 48 || m != nil {
		t.Errorf("first page: %d rows, next %v", strings.Count(body, `data-test="call-row"`), m)
	}
	body = f.get("/calls?grade=A,B&since=30d", b).Body.String()
	if strings.Count(body, `data-test="call-row"`) != 21 {
		t.Errorf("grade A,B: %d rows", strings.Count(body, `data-test="call-row"`))
	}
	f2 := f.get("/calls?outcome=resolved&open=false&since=all", b).Body.String()
	if strings.Count(f2, `data-test="call-row"`) != 27 {
		t.Errorf("resolved: %d", strings.Count(f2, `data-test="call-row"`))
	}
	// A bad filter: 400 with the reason on the page.
	w := f.get("/calls?since=nonsense", b)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `data-test="filter-error"`) {
		t.Errorf("bad filter: %d", w.Code)
	}
	// A Call-ID with / ? # in it has a working link.
	body = f.get("/calls?since=all&limit=100", b).Body.String()
	link := "/calls/" + url.PathEscape("slash/id?x#y@host")
	if !strings.Contains(body, `href="`+link+`"`) {
		t.Errorf("no link %s", link)
	}
	if w := f.get(link, b); w.Code != 200 || !strings.Contains(w.Body.String(), "slash/id?x#y@host") {
		t.Errorf("%s: %d", link, w.Code)
	}
	// The next page link, with a small limit through the filter form's
	// query.
	body = f.get("/calls?outcome=resolved&limit=10", b).Body.String()
	m = regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next link")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.Contains(next, "outcome=resolved") {
		t.Errorf("next link %q drops the filter", next)
	}
}

// TestPageWeight logs the bytes each page costs a browser: its HTML and
// the CSS and JavaScript it loads (cached after the first page).
func TestPageWeight(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	css := len(f.srv.assets["app.css"].data)
	js := len(f.srv.assets["htmx.min.js"].data)
	var lines []string
	for _, p := range []string{"/login", "/", "/calls", "/calls/detail@10.0.0.5", "/unanswered",
		fmt.Sprint("/unanswered/", f.groups["when do you shut"]), "/script", "/health"} {
		var w *httptest.ResponseRecorder
		if p == "/login" {
			w = f.request("GET", p, nil, nil, nil)
		} else {
			w = f.get(p, b)
		}
		html := w.Body.Len()
		lines = append(lines, fmt.Sprintf("%-22s HTML %6d B + CSS %d B + JS %d B = %6d B", p, html, css, js, html+css+js))
		if html > 200<<10 {
			t.Errorf("%s: %d bytes of HTML", p, html)
		}
	}
	t.Logf("page weight (CSS and JS are loaded once, then cached):\n%s", strings.Join(lines, "\n"))
}

func TestHealthPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	body := f.get("/health", b).Body.String()
	for _, want := range []string{`data-test="health-status">ok<`, `<dt>sip</dt>`, `udp:127.0.0.1:5060`, `<code>test-1</code>`, `data-test="health-json"`, `>1600000<`} {
		if !strings.Contains(body, want) {
			t.Errorf("health page lacks %s", want)
		}
	}
	f2 := newFixture(t, func(c *Config) { c.Live = nil })
	if w := f2.get("/health", f2.browser()); w.Code != 200 || !strings.Contains(w.Body.String(), "unknown") {
		t.Errorf("no live source: %d", w.Code)
	}
}

func TestGroupFormKeepsInputOnError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	id := f.groups["do you install solar panels"]
	w := f.request("POST", fmt.Sprintf("/unanswered/%d/assign", id), form("intent", "billing", "as", "keyword", "phrase", "pay"),
		merge(formHdr, map[string]string{"X-CSRF-Token": b.csrf, "HX-Request": "true"}), b.cookie)
	body := w.Body.String()
	for _, want := range []string{`data-ok="false"`, "learned-conflict", `<option value="billing" selected>`,
		`value="keyword" checked`, `name="phrase" value="pay"`} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %s", want)
		}
	}
}

func TestDurations(t *testing.T) {
	t.Parallel()
	l := Lang{loc: time0Loc}
	for d, want := range map[string]string{"0s": "-", "1.25s": "1.2s", "9.96s": "10s", "59.6s": "1m00s", "102s": "1m42s",
		"59m59.6s": "1h00m", "3725s": "1h02m"} {
		dd, _ := time.ParseDuration(d)
		if got := l.Dur(dd); got != want {
			t.Errorf("Dur(%s) = %s, want %s", d, got, want)
		}
	}
	if got := l.Offset(65300 * time.Millisecond); got != "+01:05.3" {
		t.Errorf("Offset = %s", got)
	}
}

var time0Loc = time.UTC

func TestLanguageSwitchAfterAPost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	id := f.groups["do you install solar panels"]
	w := f.request("POST", fmt.Sprintf("/unanswered/%d/ignore", id), form("csrf", b.csrf, "reason", "x"), formHdr, b.cookie)
	want := "/lang?set=zh&amp;next=" + url.QueryEscape(fmt.Sprintf("/unanswered/%d", id))
	if !strings.Contains(w.Body.String(), want) {
		t.Errorf("the switch does not go back to the group's page")
	}
}
