package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Lang is the language of a page, with the formatting helpers its
// templates call ({{.L.T "key"}}).
type Lang struct {
	zh  bool
	loc *time.Location
}

const langCookie = "hotline_lang"

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// lang picks the page language: the hotline_lang cookie (set by the
// switch), else the browser's Accept-Language.
func (s *server) lang(r *http.Request) Lang {
	l := Lang{loc: s.loc}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "zh" || c.Value == "en") {
		l.zh = c.Value == "zh"
		return l
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := langMatcher.Match(tags...)
			l.zh = i == 1 && conf != language.No
		}
	}
	return l
}

// Code is "zh" or "en".
func (l Lang) Code() string {
	if l.zh {
		return "zh"
	}
	return "en"
}

// Zh reports whether the page is in Chinese.
func (l Lang) Zh() bool { return l.zh }

// HTMLLang is the lang attribute of the page.
func (l Lang) HTMLLang() string {
	if l.zh {
		return "zh-CN"
	}
	return "en"
}

// T is the text of key; a key missing from the catalogue is an error, so
// rendering fails in the tests rather than showing a key to staff.
func (l Lang) T(key string) (string, error) {
	m, ok := catalogue[key]
	if !ok {
		return "", fmt.Errorf("web: no text %q in the catalogue", key)
	}
	if l.zh {
		return m[1], nil
	}
	return m[0], nil
}

// t is T for Go code: the key itself when missing.
func (l Lang) t(key string) string {
	s, err := l.T(key)
	if err != nil {
		return key
	}
	return s
}

// F formats the text of key with args.
func (l Lang) F(key string, args ...any) (string, error) {
	f, err := l.T(key)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(f, args...), nil
}

// Time is a time to the second, in the server's zone; "" for zero.
func (l Lang) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l.loc).Format("2006-01-02 15:04:05")
}

// TimeFull is a time to the tenth of a second with the zone offset.
func (l Lang) TimeFull(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(l.loc).Format("2006-01-02 15:04:05.0 -07:00")
}

// Date is a day.
func (l Lang) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l.loc).Format("2006-01-02")
}

// Clock is a time of day.
func (l Lang) Clock(t time.Time) string { return t.In(l.loc).Format("15:04:05") }

// Dur is a duration as `hotline calls` shows it: 9s, 35.5s, 1m42s, 1h02m.
func (l Lang) Dur(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d < 10*time.Second-50*time.Millisecond {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	if d < time.Hour-500*time.Millisecond {
		d = d.Round(time.Second)
		if d < time.Minute {
			return strconv.Itoa(int(d.Seconds())) + "s"
		}
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Secs is a number of seconds as a duration.
func (l Lang) Secs(s float64) string {
	if s < 1 {
		return "0s"
	}
	return l.Dur(time.Duration(s * float64(time.Second)))
}

// Pct is a rate as a percentage, or – when there is nothing to divide by.
func (l Lang) Pct(rate float64, of int) string {
	if of == 0 {
		return "–"
	}
	return strconv.FormatFloat(math.Round(rate*1000)/10, 'f', 1, 64) + "%"
}

// Num writes a count with thousands separators.
func (l Lang) Num(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Offset is a turn's time from the answer: +01:05.3.
func (l Lang) Offset(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	t := d.Round(100 * time.Millisecond)
	m := int(t / time.Minute)
	sec := (t % time.Minute).Seconds()
	return fmt.Sprintf("+%02d:%04.1f", m, sec)
}

// Outcome is a call outcome's name.
func (l Lang) Outcome(o string) string {
	if s, err := l.T("outcome." + o); err == nil {
		return s
	}
	return o
}

// Status is a question group's status.
func (l Lang) Status(s string) string {
	if t, err := l.T("status." + s); err == nil {
		return t
	}
	return s
}

// Speaker is bot or caller.
func (l Lang) Speaker(s string) string {
	if t, err := l.T("speaker." + s); err == nil {
		return t
	}
	return s
}

// Severity is error or warning.
func (l Lang) Severity(s string) string {
	if t, err := l.T("severity." + s); err == nil {
		return t
	}
	return s
}

// setLang is GET /lang?set=zh&next=/calls: the language switch. It sets a
// cookie (a preference, not a credential) and goes back.
func (s *server) setLang(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("set")
	if v != "zh" && v != "en" {
		v = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: v, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
}

// localPath returns next when it is a path on this site, else def: no
// open redirects (//evil.example, /\evil.example, https://…).
func localPath(next, def string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return def
	}
	u, err := parseURL(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return def
	}
	return next
}
