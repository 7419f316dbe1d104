package dialog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IsOpen reports whether the hotline is open at t. A nil Hours is always open.
func (h *Hours) IsOpen(t time.Time) bool {
	if h == nil {
		return true
	}
	lt := t.In(h.Location)
	today := civilDate{lt.Year(), lt.Month(), lt.Day()}
	mins := lt.Hour()*60 + lt.Minute()
	for _, s := range h.Special {
		if s.Date == today {
			for _, r := range s.Ranges {
				if inRange(r, mins) {
					return true
				}
			}
			return false
		}
	}
	for _, d := range h.Holidays {
		if !today.before(d.From) && !d.To.before(today) {
			return false
		}
	}
	wd := lt.Weekday()
	yesterday := (wd + 6) % 7
	for _, r := range h.Open {
		if r.End > r.Start {
			if r.Days[wd] && mins >= r.Start && mins < r.End {
				return true
			}
			continue
		}
		// Past midnight: the evening part today, the early part belongs to yesterday's range.
		if (r.Days[wd] && mins >= r.Start) || (r.Days[yesterday] && mins < r.End) {
			return true
		}
	}
	return false
}

func inRange(r WeeklyRange, mins int) bool {
	if r.End > r.Start {
		return mins >= r.Start && mins < r.End
	}
	return mins >= r.Start || mins < r.End
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday, "mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday, "sat": time.Saturday, "saturday": time.Saturday,
	"周日": time.Sunday, "周天": time.Sunday, "周一": time.Monday, "周二": time.Tuesday, "周三": time.Wednesday,
	"周四": time.Thursday, "周五": time.Friday, "周六": time.Saturday,
	"星期日": time.Sunday, "星期天": time.Sunday, "星期一": time.Monday, "星期二": time.Tuesday,
	"星期三": time.Wednesday, "星期四": time.Thursday, "星期五": time.Friday, "星期六": time.Saturday,
}

// parseWeekly parses "Mon-Fri 09:00-18:00", "Sat,Sun 10:00-16:00",
// "周一至周五 09:00-12:00,13:00-18:00", "daily 08:00-20:00", "每天 00:00-24:00".
func parseWeekly(s string) ([]WeeklyRange, error) {
	s = strings.TrimSpace(s)
	daysPart, timesPart, ok := strings.Cut(s, " ")
	if !ok {
		return nil, fmt.Errorf("%q: want days then times, e.g. \"Mon-Fri 09:00-18:00\"", s)
	}
	days, err := parseDays(daysPart)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	ranges, err := parseTimeRanges(timesPart)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	for i := range ranges {
		ranges[i].Days = days
		ranges[i].Text = s
	}
	return ranges, nil
}

func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	l := strings.ToLower(s)
	if l == "daily" || l == "everyday" || l == "每天" || l == "每日" {
		for i := range days {
			days[i] = true
		}
		return days, nil
	}
	for _, item := range strings.FieldsFunc(l, func(r rune) bool { return r == ',' || r == '、' || r == '\uff0c' }) {
		from, to, isRange := cutAny(item, "-", "至", "到", "~")
		a, ok := dayNames[from]
		if !ok {
			return days, fmt.Errorf("unknown day %q (use Mon…Sun or 周一…周日)", from)
		}
		if !isRange {
			days[a] = true
			continue
		}
		b, ok := dayNames[to]
		if !ok {
			return days, fmt.Errorf("unknown day %q (use Mon…Sun or 周一…周日)", to)
		}
		for d := a; ; d = (d + 1) % 7 {
			days[d] = true
			if d == b {
				break
			}
		}
	}
	return days, nil
}

func cutAny(s string, seps ...string) (before, after string, found bool) {
	for _, sep := range seps {
		if b, a, ok := strings.Cut(s, sep); ok {
			return strings.TrimSpace(b), strings.TrimSpace(a), true
		}
	}
	return strings.TrimSpace(s), "", false
}

func parseTimeRanges(s string) ([]WeeklyRange, error) {
	var out []WeeklyRange
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\uff0c' }) {
		from, to, ok := cutAny(item, "-", "~", "至", "到")
		if !ok {
			return nil, fmt.Errorf("time range %q: want HH:MM-HH:MM", item)
		}
		a, err := parseClock(from, false)
		if err != nil {
			return nil, err
		}
		b, err := parseClock(to, true)
		if err != nil {
			return nil, err
		}
		if a == b {
			return nil, fmt.Errorf("time range %q is empty", item)
		}
		out = append(out, WeeklyRange{Start: a, End: b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no time range in %q", s)
	}
	return out, nil
}

func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("bad time %q: want HH:MM", s)
	}
	if hh > 24 || (hh == 24 && (mm != 0 || !end)) {
		return 0, fmt.Errorf("bad time %q: hours go from 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

func parseDate(s string) (civilDate, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return civilDate{}, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	return civilDate{t.Year(), t.Month(), t.Day()}, nil
}

// parseDateRange parses "2026-10-01" or "2026-10-01..2026-10-07".
func parseDateRange(s string) (DateRange, error) {
	from, to, isRange := strings.Cut(s, "..")
	a, err := parseDate(from)
	if err != nil {
		return DateRange{}, err
	}
	b := a
	if isRange {
		if b, err = parseDate(to); err != nil {
			return DateRange{}, err
		}
		if b.before(a) {
			return DateRange{}, fmt.Errorf("date range %q ends before it starts", s)
		}
	}
	return DateRange{From: a, To: b, Text: s}, nil
}
