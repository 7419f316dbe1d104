package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

func (f *fixture) api(method, path, body string) (int, []byte) {
	f.t.Helper()
	hdr := bearer(testToken)
	if body != "" {
		hdr["Content-Type"] = "application/json"
	}
	w := f.request(method, path, strings.NewReader(body), hdr, nil)
	return w.Code, w.Body.Bytes()
}

func apiGet[T any](t *testing.T, f *fixture, path string, wantStatus int) T {
	t.Helper()
	w := f.request("GET", path, nil, bearer(testToken), nil)
	if w.Code != wantStatus {
		t.Fatalf("GET %s: %d, want %d\n%s", path, w.Code, wantStatus, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	return decode[T](t, w)
}

func TestAPICallsPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// 40 ordinary calls, the detailed one, 7 crafted ones.
	const all = 48
	seen := map[string]bool{}
	next := ""
	pages := 0
	var last store.Call
	for {
		q := "/api/calls?limit=10"
		if next != "" {
			q += "&cursor=" + url.QueryEscape(next)
		}
		p := apiGet[store.CallPage](t, f, q, 200)
		pages++
		if p.Total != all {
			t.Fatalf("total %d, want %d", p.Total, all)
		}
		for _, c := range p.Calls {
			if seen[c.ID] {
				t.Fatalf("call %s on two pages", c.ID)
			}
			seen[c.ID] = true
			if !last.StartedAt.IsZero() && c.StartedAt.After(last.StartedAt) {
				t.Fatalf("not newest first: %s after %s", c.ID, last.ID)
			}
			last = c
		}
		if p.Next == "" {
			break
		}
		next = p.Next
	}
	if len(seen) != all || pages != 5 {
		t.Fatalf("%d calls on %d pages", len(seen), pages)
	}

	count := func(q string) (int, []store.Call) {
		p := apiGet[store.CallPage](t, f, "/api/calls?limit=1000&"+q, 200)
		if len(p.Calls) != p.Total {
			t.Fatalf("%s: %d calls, total %d", q, len(p.Calls), p.Total)
		}
		return p.Total, p.Calls
	}
	// Outcomes cycle resolved, transferred, abandoned, resolved over 40
	// calls; the detailed call is transferred, the crafted ones resolved.
	for q, want := range map[string]int{
		"outcome=transferred":                    11,
		"outcome=abandoned":                      10,
		"outcome=abandoned,transferred":          21,
		"outcome=abandoned&outcome=resolved":     10 + 20 + 7,
		"grade=A":                                10,
		"grade=B":                                11,
		"grade=-":                                10 + 7,
		"grade=A,C":                              20,
		"outcome=transferred&grade=B":            11,
		"number=%2B447700900123":                 20,
		"number=h:bbbbbbbbbbbbbbbb":              20,
		"number=%2B442079460000":                 41, // the called number
		"open=true":                              0,
		"open=false":                             all,
		"since=2026-11-27T10:00":                 1, // call-00, at 10:30
		"since=all&outcome=resolved&grade=A":     10,
		"number=%2B10000000000&outcome=resolved": 7,
	} {
		n, calls := count(q)
		// Check each result against the filter instead of trusting the
		// arithmetic above for the time filters.
		for _, c := range calls {
			if strings.Contains(q, "outcome=transferred") && !strings.Contains(q, "abandoned") && c.Outcome != "transferred" {
				t.Errorf("%s: %s is %s", q, c.ID, c.Outcome)
			}
		}
		if n != want {
			t.Errorf("%s: %d calls, want %d", q, n, want)
		}
	}
	// Time filters against the seeded times: starts are t0 − i·37 min, the
	// detailed call 09:00, the crafted ones 07:30.
	n, calls := count("since=1h")
	if n != 2 || calls[0].ID != "call-00@10.0.0.5" || calls[1].ID != "call-01@10.0.0.5" {
		t.Errorf("since=1h: %d %v", n, ids(calls))
	}
	n, calls = count("since=2h&until=1h") // [08:30, 09:30)
	if n != 3 {
		t.Errorf("since=2h&until=1h: %d %v", n, ids(calls))
	}
	if a, _ := count("since=2026-11-27T00:00:00%2B00:00"); a != func() int { n, _ := count("since=today"); return n }() {
		t.Errorf("RFC 3339 midnight and today differ")
	}
	n, _ = count("since=today")
	wantToday := 0
	for i := range 40 {
		if i*37 <= 10*60+30 {
			wantToday++
		}
	}
	wantToday += 1 + 7 // the detailed call (09:00) and the crafted ones (07:30)
	if n != wantToday {
		t.Errorf("since=today: %d, want %d", n, wantToday)
	}
	// Filters and pages together.
	p1 := apiGet[store.CallPage](t, f, "/api/calls?outcome=resolved&limit=7", 200)
	p2 := apiGet[store.CallPage](t, f, "/api/calls?outcome=resolved&limit=7&cursor="+url.QueryEscape(p1.Next), 200)
	if p1.Total != 27 || len(p1.Calls) != 7 || len(p2.Calls) != 7 || p1.Calls[6].ID == p2.Calls[0].ID {
		t.Errorf("filtered pages: %d %d %d", p1.Total, len(p1.Calls), len(p2.Calls))
	}
	// Errors.
	for _, q := range []string{"cursor=garbage!", "limit=0", "limit=5000", "since=yesterday-ish", "open=maybe", "grade=%3Cx%3E"} {
		e := apiGet[apiError](t, f, "/api/calls?"+q, 400)
		if e.Code != "bad_request" || e.Error == "" {
			t.Errorf("%s: %+v", q, e)
		}
	}
}

func ids(cs []store.Call) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestAPINumberByHash(t *testing.T) {
	t.Parallel()
	// With the server's keyed hash, a number finds calls however it was
	// stored (here: masked caller, hash h:aaaa… for +447700900123).
	f := newFixture(t, func(c *Config) {
		c.NumberHash = func(n string) string {
			if strings.ReplaceAll(n, " ", "") == "+447700900123" {
				return "h:aaaaaaaaaaaaaaaa"
			}
			return "h:0000000000000000"
		}
	})
	seen := map[string]bool{}
	next := ""
	for {
		q := "/api/calls?limit=7&number=" + url.QueryEscape("+44 7700 900123")
		if next != "" {
			q += "&cursor=" + url.QueryEscape(next)
		}
		p := apiGet[store.CallPage](t, f, q, 200)
		if p.Total != 20 {
			t.Fatalf("total %d", p.Total)
		}
		for _, c := range p.Calls {
			if seen[c.ID] || c.CallerHash != "h:aaaaaaaaaaaaaaaa" {
				t.Fatalf("%s", c.ID)
			}
			seen[c.ID] = true
		}
		if next = p.Next; next == "" {
			break
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d calls", len(seen))
	}
	// The called number still matches by itself.
	if p := apiGet[store.CallPage](t, f, "/api/calls?number=%2B442079460000", 200); p.Total != 41 {
		t.Errorf("called number: %d", p.Total)
	}
}

func TestAPICallAndStats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := apiGet[callDetail](t, f, "/api/calls/detail@10.0.0.5", 200)
	if d.Call.Outcome != "transferred" || len(d.Turns) != 5 || d.Turns[3].Text != xss || d.Turns[3].Outcome != "no_match" {
		t.Errorf("call detail %+v", d)
	}
	if e := apiGet[apiError](t, f, "/api/calls/nope", 404); e.Code != "not_found" {
		t.Errorf("%+v", e)
	}
	// A Call-ID with / ? # in it, escaped in the path.
	if d := apiGet[callDetail](t, f, "/api/calls/"+url.PathEscape("slash/id?x#y@host"), 200); d.Call.ID != "slash/id?x#y@host" {
		t.Errorf("escaped ID: %q", d.Call.ID)
	}
	st := apiGet[map[string]any](t, f, "/api/stats?since=all", 200)
	if st["calls"].(float64) != 48 || st["ended"].(float64) != 48 {
		t.Errorf("stats %v", st)
	}
	for _, k := range []string{"containment_rate", "transfer_rate", "abandon_rate", "no_match_rate", "avg_handling_s", "outcomes", "top_unanswered"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stats lacks %s", k)
		}
	}
	if st["transfer_rate"].(float64) != 11.0/48 {
		t.Errorf("transfer rate %v", st["transfer_rate"])
	}
	apiGet[apiError](t, f, "/api/stats?since=nonsense", 400)
	live := apiGet[map[string][]liveView](t, f, "/api/live", 200)
	if len(live["calls"]) != 1 || live["calls"][0].DurationS != 95 || live["calls"][0].Node != "billing" {
		t.Errorf("live %+v", live)
	}
	h := apiGet[map[string]any](t, f, "/api/health", 200)
	if h["status"] != "ok" {
		t.Errorf("health %v", h)
	}
}

func TestAPIUnanswered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := apiGet[learn.Page](t, f, "/api/unanswered", 200)
	if p.Total != 4 { // "when do you shut" and "what time do you shut" are one group
		t.Fatalf("%d groups: %+v", p.Total, p.Groups)
	}
	if p.Groups[0].Count != 2 || p.Groups[0].Text != "when do you shut" {
		t.Errorf("first group %+v", p.Groups[0])
	}
	apiGet[apiError](t, f, "/api/unanswered?status=bogus", 400)
	id := f.groups["when do you shut"]
	d := apiGet[groupDetail](t, f, fmt.Sprint("/api/unanswered/", id), 200)
	if len(d.Questions) != 2 || d.Questions[0].AudioURL != fmt.Sprintf("/api/unanswered/%d/questions/%d/audio", id, d.Questions[0].ID) {
		t.Errorf("detail %+v", d)
	}
	if strings.Contains(fmt.Sprint(d), f.data) {
		t.Error("the detail shows the data directory")
	}
	// The snippet, by group and question ID.
	w := f.request("GET", d.Questions[0].AudioURL, nil, bearer(testToken), nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), recordingBytes[:2000]) || w.Header().Get("Content-Type") != "audio/wav" {
		t.Errorf("snippet: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	// A question of another group is not found through this one.
	other := f.groups["do you install solar panels"]
	if w := f.request("GET", fmt.Sprintf("/api/unanswered/%d/questions/%d/audio", other, d.Questions[0].ID), nil, bearer(testToken), nil); w.Code != 404 {
		t.Errorf("question of another group: %d", w.Code)
	}
	apiGet[apiError](t, f, "/api/unanswered/999", 404)
	apiGet[apiError](t, f, "/api/unanswered/abc", 400)
}

func TestAPIAssignWritesLearnedFileAndReloads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.groups["when do you shut"]
	before := f.cur.Load().Version
	code, body := f.api("POST", fmt.Sprintf("/api/unanswered/%d/assign", id), `{"intent": "opening_hours", "as": "keyword", "phrase": "shut"}`)
	if code != 200 {
		t.Fatalf("assign: %d %s", code, body)
	}
	var res actionResult
	mustJSON(t, body, &res)
	if !res.Result.Changed || res.Result.Intent != "opening_hours" || res.Result.Kind != dialog.LearnKeyword || !res.Reloaded ||
		res.Result.Group.Status != "assigned" || res.Result.Group.ResolvedBy != "token:ci" || res.Message == "" {
		t.Errorf("result %+v", res)
	}
	learned, err := os.ReadFile(dialog.LearnedPath(f.script))
	if err != nil || !strings.Contains(string(learned), "opening_hours") || !strings.Contains(string(learned), "shut") {
		t.Fatalf("learned file: %v\n%s", err, learned)
	}
	if f.reloads.Load() != 1 {
		t.Errorf("Reload called %d times", f.reloads.Load())
	}
	if f.cur.Load().Version == before {
		t.Error("the script serving did not change")
	}
	m := f.cur.Load().Matcher()
	if got := m.Match("when do you shut", m.All()).Intent; got != "opening_hours" {
		t.Errorf("the reloaded script matches %q", got)
	}
	// Assigning it again: 409 with who did it.
	code, body = f.api("POST", fmt.Sprintf("/api/unanswered/%d/assign", id), `{"intent": "opening_hours"}`)
	var e apiError
	mustJSON(t, body, &e)
	if code != http.StatusConflict || e.Code != "already_resolved" || !strings.Contains(e.Error, "token:ci") {
		t.Errorf("again: %d %+v", code, e)
	}
	// A change the script rejects: 422 with its diagnostics, nothing written.
	other := f.groups["do you install solar panels"]
	code, body = f.api("POST", fmt.Sprintf("/api/unanswered/%d/assign", other), `{"intent": "solar_panels"}`)
	e = apiError{}
	mustJSON(t, body, &e)
	if code != http.StatusUnprocessableEntity || e.Code != "rejected" || len(e.Diagnostics) == 0 || e.Diagnostics[0].Code != "unknown-intent" {
		t.Errorf("rejected: %d %s", code, body)
	}
	after, _ := os.ReadFile(dialog.LearnedPath(f.script))
	if !bytes.Equal(after, learned) || f.reloads.Load() != 1 {
		t.Error("a rejected change wrote the file or reloaded")
	}
	// ?lang=zh: the messages in Chinese.
	code, body = f.api("POST", fmt.Sprintf("/api/unanswered/%d/assign?lang=zh", other), `{"intent": "solar_panels"}`)
	if code != 422 || !strings.Contains(string(body), "修改被拒绝") {
		t.Errorf("zh: %d %s", code, body)
	}
	// Bad requests.
	for _, b := range []string{``, `{}`, `{"intent": "x", "as": "poem"}`, `{"intent": "x", "colour": "red"}`, `[1]`, `{"intent":"x"} {"intent":"y"}`} {
		code, body := f.api("POST", fmt.Sprintf("/api/unanswered/%d/assign", other), b)
		if code != 400 {
			t.Errorf("body %q: %d %s", b, code, body)
		}
	}
	if code, _ := f.api("POST", "/api/unanswered/999/assign", `{"intent":"opening_hours"}`); code != 404 {
		t.Errorf("no group: %d", code)
	}
	// A new answer.
	code, body = f.api("POST", fmt.Sprintf("/api/unanswered/%d/answer", f.groups["is there parking at your office"]),
		`{"name": "parking", "say": "There is free parking behind the building.", "keywords": ["parking", "car park"]}`)
	if code != 200 || f.reloads.Load() != 2 {
		t.Fatalf("answer: %d %s", code, body)
	}
	if in := f.cur.Load().IntentByName("parking"); in == nil {
		t.Error("the new answer is not in the script serving")
	}
	// Ignore: no reload needed.
	code, body = f.api("POST", fmt.Sprintf("/api/unanswered/%d/ignore", other), `{"reason": "not a question for the bot"}`)
	if code != 200 || f.reloads.Load() != 2 || !strings.Contains(string(body), `"status": "ignored"`) {
		t.Errorf("ignore: %d %s", code, body)
	}
}

func TestAPIAssignWithoutScript(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.ScriptPath = "" })
	code, body := f.api("POST", fmt.Sprintf("/api/unanswered/%d/assign", f.groups["when do you shut"]), `{"intent":"opening_hours"}`)
	if code != http.StatusConflict || !strings.Contains(string(body), `"no_script"`) {
		t.Errorf("%d %s", code, body)
	}
	b := f.browser()
	if body := f.get(fmt.Sprint("/unanswered/", f.groups["when do you shut"]), b).Body.String(); !strings.Contains(body, `data-test="no-script"`) ||
		strings.Contains(body, `data-test="assign-form"`) {
		t.Error("the page offers teaching without a script file")
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
}

func TestAPIScript(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	info := apiGet[scriptInfo](t, f, "/api/script", 200)
	if info.Name != "northwind-energy" || info.Version == "" || len(info.Intents) < 10 || info.Lint == nil || info.Reloads == nil {
		t.Errorf("script %+v", info)
	}
	var oh *intentInfo
	for i := range info.Intents {
		if info.Intents[i].Name == "opening_hours" {
			oh = &info.Intents[i]
		}
	}
	if oh == nil || !oh.Answer || len(oh.Keywords) == 0 {
		t.Errorf("opening_hours: %+v", oh)
	}
	w := f.request("GET", "/api/script/graph.svg", nil, bearer(testToken), nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "image/svg+xml") ||
		!strings.Contains(w.Body.String(), "<svg") || !strings.Contains(w.Header().Get("Content-Security-Policy"), "'sha256-") {
		t.Errorf("graph.svg: %d %q", w.Code, w.Header())
	}
	code, body := f.api("POST", "/api/script/reload", "")
	if code != 200 || f.reloads.Load() != 1 || !strings.Contains(string(body), `"ok": true`) {
		t.Errorf("reload: %d %s", code, body)
	}
	if info := apiGet[scriptInfo](t, f, "/api/script", 200); len(info.Reloads) != 1 || !info.Reloads[0].OK {
		t.Errorf("reloads %+v", info.Reloads)
	}
}

func TestRecordingRange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	for _, p := range []string{"/calls/detail@10.0.0.5/recording", "/api/calls/detail@10.0.0.5/recording"} {
		w := f.get(p, b)
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), recordingBytes) {
			t.Fatalf("%s: %d, %d bytes", p, w.Code, w.Body.Len())
		}
		h := w.Header()
		if h.Get("Content-Type") != "audio/wav" || h.Get("Accept-Ranges") != "bytes" || h.Get("Content-Length") != "10000" ||
			!strings.Contains(h.Get("Cache-Control"), "no-store") || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") {
			t.Errorf("%s: headers %v", p, h)
		}
		w = f.request("GET", p, nil, map[string]string{"Range": "bytes=100-199"}, b.cookie)
		if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), recordingBytes[100:200]) ||
			w.Header().Get("Content-Range") != "bytes 100-199/10000" {
			t.Errorf("%s: range: %d %q", p, w.Code, w.Header().Get("Content-Range"))
		}
		w = f.request("GET", p, nil, map[string]string{"Range": "bytes=-16"}, b.cookie)
		if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), recordingBytes[10000-16:]) {
			t.Errorf("%s: suffix range: %d", p, w.Code)
		}
		w = f.request("GET", p, nil, map[string]string{"Range": "bytes=20000-"}, b.cookie)
		if w.Code != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("%s: range past the end: %d", p, w.Code)
		}
	}
	// The Call-ID with / ? # in it.
	if w := f.get("/calls/"+url.PathEscape("slash/id?x#y@host")+"/recording", b); w.Code != 200 || w.Body.Len() != 10000 {
		t.Errorf("escaped ID: %d", w.Code)
	}
	if w := f.get("/calls/norec/recording", b); w.Code != 404 {
		t.Errorf("no recording: %d", w.Code)
	}
	if w := f.get("/calls/nope/recording", b); w.Code != 404 {
		t.Errorf("no call: %d", w.Code)
	}
}

func TestRecordingPathTraversal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	for _, id := range []string{"evil-dotdot", "evil-abs", "evil-outside", "evil-link", "evil-dir"} {
		for _, p := range []string{"/calls/" + id + "/recording", "/api/calls/" + id + "/recording"} {
			w := f.get(p, b)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", p, w.Code)
			}
			if strings.Contains(w.Body.String(), "root:") || strings.Contains(w.Body.String(), "secret") {
				t.Fatalf("%s: served a file outside the data directory", p)
			}
		}
	}
	// Paths in the request are never files: only IDs.
	for _, p := range []string{"/calls/..%2F..%2Fetc%2Fpasswd/recording", "/calls/%2Fetc%2Fpasswd/recording",
		"/assets/..%2Fweb.go", "/assets/../web.go"} {
		w := f.get(p, b)
		if w.Code == 200 || strings.Contains(w.Body.String(), "root:") || strings.Contains(w.Body.String(), "package web") {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
	// A question whose snippet path points outside.
	id := f.groups[xss]
	d := apiGet[groupDetail](t, f, fmt.Sprint("/api/unanswered/", id), 200)
	if w := f.get(d.Questions[0].AudioURL, b); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "root:") {
		t.Errorf("snippet outside: %d", w.Code)
	}
}

func TestAPIMethodsAndUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/calls", "GET"},
		{"POST", "/api/calls/detail@10.0.0.5", "GET"},
		{"GET", "/api/unanswered/1/assign", "POST"},
		{"PUT", "/api/script/reload", "POST"},
	} {
		w := f.request(c.method, c.path, strings.NewReader("{}"), merge(bearer(testToken), map[string]string{"Content-Type": "application/json"}), nil)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != c.allow || decode[apiError](t, w).Code != "method_not_allowed" {
			t.Errorf("%s %s: %d Allow %q", c.method, c.path, w.Code, w.Header().Get("Allow"))
		}
	}
	if e := apiGet[apiError](t, f, "/api/nothing/here", 404); e.Code != "not_found" {
		t.Errorf("%+v", e)
	}
}

func TestClientIPFromConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) {
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") }
	})
	for i := range maxFailures {
		f.request("POST", "/login", form("user", fmt.Sprint("u", i), "password", "x"), merge(formHdr, map[string]string{"X-Forwarded-For": "203.0.113.9"}), nil)
	}
	// 203.0.113.9 is locked; another client behind the same proxy is not.
	if w := f.request("POST", "/login", form("user", "alice", "password", alicePassword), merge(formHdr, map[string]string{"X-Forwarded-For": "203.0.113.9"}), nil); w.Code != http.StatusTooManyRequests {
		t.Errorf("locked client: %d", w.Code)
	}
	if w := f.request("POST", "/login", form("user", "alice", "password", alicePassword), merge(formHdr, map[string]string{"X-Forwarded-For": "203.0.113.10"}), nil); w.Code != http.StatusSeeOther {
		t.Errorf("other client: %d", w.Code)
	}
}
