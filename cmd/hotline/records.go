package main

// The call-record commands: hotline calls, calls show, stats, purge and
// forget. They read the store that `hotline serve` writes (the SQLite file in
// the data directory, or the database --db names); purge and forget delete
// through the records package, as serve's retention does, and report on
// every file the store listed.
//
// Every top-level name in this file starts with "rec": the package is shared
// with other commands written in parallel.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/text/width"
	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/records"
	"github.com/hotline-dev/hotline/store"
)

func init() {
	moreCommands = append(moreCommands, newCallsCmd, newStatsCmd, newPurgeCmd, newForgetCmd)
}

// ---------------------------------------------------------------------------
// Where the records are: --data, --db, --config.

// recFileConfig is the part of hotline serve's YAML configuration these
// commands need. Other keys are ignored: the file is serve's.
type recFileConfig struct {
	Data    string `yaml:"data"`
	DB      string `yaml:"db"`
	Privacy struct {
		CallerNumbers string `yaml:"caller_numbers"`
		HashKey       string `yaml:"hash_key"`
		HashKeyFile   string `yaml:"hash_key_file"`
	} `yaml:"privacy"`
}

// recFlags are the flags every record command takes.
type recFlags struct {
	data, db, config, lang string
}

func (f *recFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "hotline serve's data directory: the SQLite store (hotline.db), recordings, snippets; HOTLINE_DATA")
	fs.StringVar(&f.db, "db", "", "the database instead of DATA/hotline.db: a postgres:// URL or a SQLite file; HOTLINE_DB")
	fs.StringVar(&f.config, "config", "", "hotline serve's configuration file (its data, db and privacy keys are read); HOTLINE_CONFIG")
	fs.StringVar(&f.lang, "lang", "", "language of messages: en or zh (default from HOTLINE_LANG or the locale)")
}

// recEnv is an opened store and what the commands need to go with it.
type recEnv struct {
	st        store.Store
	dataDir   string
	where     string // the database, for messages (a URL without its password)
	policy    privacy.NumberPolicy
	keyed     bool   // the policy has a hash key
	keySource string // where the key came from, for messages
	lang      string
}

func (e *recEnv) close() {
	if e != nil && e.st != nil {
		e.st.Close()
	}
}

// resolve works out data dir, database and privacy policy from flags >
// environment > config file > defaults, without opening anything.
func (f *recFlags) resolve(fl *pflag.FlagSet) (dataDir, dsn string, pol privacy.NumberPolicy, keySource string, err error) {
	lang := messageLanguage(f.lang)
	var cfg recFileConfig
	file := f.config
	if !fl.Changed("config") {
		file = os.Getenv("HOTLINE_CONFIG")
	}
	if file != "" {
		b, rerr := os.ReadFile(file)
		if rerr != nil {
			return "", "", pol, "", usageError("%s", recT(lang, "config: %v", "配置文件: %v", rerr))
		}
		if uerr := yaml.Unmarshal(b, &cfg); uerr != nil {
			return "", "", pol, "", usageError("%s", recT(lang, "config %s: %v", "配置文件 %s: %v", file, uerr))
		}
	}
	pick := func(flag, flagVal, env, fromFile, def string) string {
		if fl.Changed(flag) {
			return flagVal
		}
		if v, ok := os.LookupEnv(env); ok && v != "" {
			return v
		}
		if fromFile != "" {
			return fromFile
		}
		return def
	}
	dataDir = pick("data", f.data, "HOTLINE_DATA", cfg.Data, "./data")
	dsn = pick("db", f.db, "HOTLINE_DB", cfg.DB, "")
	if dataDir == "" {
		return "", "", pol, "", usageError("%s", recT(lang, "--data cannot be empty", "--data 不能为空"))
	}
	// The caller-number policy, read as hotline serve reads it (config.go):
	// caller_numbers defaults to masked; HOTLINE_CALLER_NUMBERS and
	// HOTLINE_HASH_KEY win over the file; hash_key wins over hash_key_file,
	// whose trailing white space is dropped. The hash must come out the same
	// as serve's, or forget and --number find nothing.
	p := cfg.Privacy
	if p.CallerNumbers == "" {
		p.CallerNumbers = "masked"
	}
	keySource = "privacy.hash_key in " + file
	if v, ok := os.LookupEnv("HOTLINE_CALLER_NUMBERS"); ok && v != "" {
		p.CallerNumbers = v
	}
	if v, ok := os.LookupEnv("HOTLINE_HASH_KEY"); ok && v != "" {
		p.HashKey, keySource = v, "HOTLINE_HASH_KEY"
	}
	var key []byte
	switch {
	case p.HashKey != "":
		key = []byte(p.HashKey)
	case p.HashKeyFile != "":
		b, rerr := os.ReadFile(p.HashKeyFile)
		if rerr != nil {
			return "", "", pol, "", usageError("%s", recT(lang, "config %s: privacy.hash_key_file: %v", "配置文件 %s: privacy.hash_key_file: %v", file, rerr))
		}
		if key = bytes.TrimRight(b, " \t\r\n"); len(key) == 0 {
			return "", "", pol, "", usageError("%s", recT(lang, "config %s: privacy.hash_key_file %s is empty", "配置文件 %s: privacy.hash_key_file %s 是空的", file, p.HashKeyFile))
		}
		keySource = p.HashKeyFile
	default:
		keySource = ""
	}
	pol, perr := privacy.ParseNumberPolicy(p.CallerNumbers, key)
	if perr != nil {
		return "", "", pol, "", usageError("%s", recT(lang, "privacy (config %s): %v", "隐私设置 (配置文件 %s): %v", file, perr))
	}
	return dataDir, dsn, pol, keySource, nil
}

// open opens the store. A SQLite database that does not exist is a usage
// error: opening would create an empty one, and a mistyped --data would
// look like a hotline without calls.
func (f *recFlags) open(cmd *cobra.Command) (*recEnv, error) {
	lang := messageLanguage(f.lang)
	dataDir, dsn, pol, keySource, err := f.resolve(cmd.Flags())
	if err != nil {
		return nil, err
	}
	env := &recEnv{dataDir: dataDir, policy: pol, keyed: keySource != "", keySource: keySource, lang: lang}
	lower := strings.ToLower(dsn)
	postgres := strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
	if !postgres {
		path := dsn
		if path == "" {
			path = filepath.Join(dataDir, "hotline.db")
		} else if strings.HasPrefix(lower, "sqlite:") {
			path = strings.TrimPrefix(dsn[len("sqlite:"):], "//")
		}
		if _, serr := os.Stat(path); serr != nil {
			return nil, usageError("%s", recT(lang,
				"no call records at %s (%v): point --data at hotline serve's data directory, or --db at its database",
				"%s 处没有通话记录 (%v): 请用 --data 指向 hotline serve 的数据目录,或用 --db 指向其数据库", path, serr))
		}
		dsn, env.where = path, path
	} else {
		env.where = recRedactURL(dsn)
	}
	st, err := store.Open(cmd.Context(), dsn, store.Options{})
	if err != nil {
		return nil, failed("hotline: %s: %v", env.where, err)
	}
	env.st = st
	return env, nil
}

// recRedactURL drops the password from a database URL for messages.
func recRedactURL(s string) string {
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		if scheme := strings.Index(s, "://"); scheme > 0 && scheme < at {
			creds := s[scheme+3 : at]
			if user, _, ok := strings.Cut(creds, ":"); ok {
				return s[:scheme+3] + user + ":********" + s[at:]
			}
		}
	}
	return s
}

// ---------------------------------------------------------------------------
// Messages in English and Chinese.

func recZH(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "zh") }

// recT formats the English or the Chinese message.
func recT(lang, en, zh string, args ...any) string {
	f := en
	if recZH(lang) {
		f = zh
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// ---------------------------------------------------------------------------
// Times: --since, --until, --older-than.

var recDurPart = regexp.MustCompile(`^(\d+(?:\.\d+)?)(w|d|h|m|s)`)

// recParseDuration parses 90d, 24h, 2w, 1d12h, 30m, 45s (no sign: these
// count back from now).
func recParseDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total float64
	for rest := s; rest != ""; {
		m := recDurPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, false
		}
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return 0, false
		}
		unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
		total += n * float64(unit)
		rest = rest[len(m[0]):]
	}
	if total > float64(200*365*24*time.Hour) {
		return 0, false
	}
	return time.Duration(total), true
}

var recDateLayouts = []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// recParseWhen parses a point in time the same way for every flag: a
// duration back from now (7d, 24h, 2w, 1d12h), a local date (2026-11-01,
// midnight) or date and time (2026-11-01 14:30, 2026-11-01T14:30:05), or
// RFC 3339 (2026-11-01T14:30:00+08:00).
func recParseWhen(flag, s string, now time.Time, lang string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, ok := recParseDuration(s); ok {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range recDateLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError("%s", recT(lang,
		"--%s %q: want a time back from now (24h, 7d, 2w, 1d12h) or a date (2026-11-01, 2026-11-01T14:30, RFC 3339)",
		"--%s %q: 应为距今的时长 (24h、7d、2w、1d12h) 或日期 (2026-11-01、2026-11-01T14:30、RFC 3339)", flag, s))
}

// recRange parses --since and --until; "all" (since only) or empty means
// no bound.
func recRange(since, until string, now time.Time, lang string) (time.Time, time.Time, error) {
	var s, u time.Time
	var err error
	if since != "" && since != "all" {
		if s, err = recParseWhen("since", since, now, lang); err != nil {
			return s, u, err
		}
	}
	if until != "" {
		if u, err = recParseWhen("until", until, now, lang); err != nil {
			return s, u, err
		}
	}
	if !s.IsZero() && !u.IsZero() && !s.Before(u) {
		return s, u, usageError("%s", recT(lang, "--since (%s) must be before --until (%s)", "--since (%s) 必须早于 --until (%s)",
			recLocal(s), recLocal(u)))
	}
	return s, u, nil
}

func recLocal(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(time.Local).Format("2006-01-02 15:04:05")
}

// recDur formats a handling time: 1m42s, 9.5s.
func recDur(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// recOffset formats a turn's offset from the answer: +00:07.9, +1:02:03.4.
func recOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	tenths := int64(d.Round(100*time.Millisecond) / (100 * time.Millisecond))
	h, m, s, t := tenths/36000, tenths/600%60, tenths/10%60, tenths%10
	if h > 0 {
		return fmt.Sprintf("%s%d:%02d:%02d.%d", sign, h, m, s, t)
	}
	return fmt.Sprintf("%s%02d:%02d.%d", sign, m, s, t)
}

// ---------------------------------------------------------------------------
// Tables for people: columns aligned by display width (a Chinese character
// takes two cells), control characters from callers' data made harmless.

// recClean replaces control and bidirectional-override characters, which a
// caller's SIP headers or a recogniser could put in a record, so that
// printing a record cannot drive the terminal.
func recClean(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '?'
		}
		return r
	}, s)
}

func recRuneWidth(r rune) int {
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

func recWidth(s string) int {
	n := 0
	for _, r := range s {
		n += recRuneWidth(r)
	}
	return n
}

// recTrunc shortens s to at most max display cells, ending in "…".
func recTrunc(s string, max int) string {
	if max <= 0 || recWidth(s) <= max {
		return s
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		rw := recRuneWidth(r)
		if w+rw > max-1 {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	return b.String() + "…"
}

func recPad(s string, w int, right bool) string {
	n := w - recWidth(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

type recTable struct {
	head  []string
	right []bool // right-aligned columns (numbers)
	max   []int  // maximum width per column, 0 for none
	rows  [][]string
}

func (t *recTable) add(cells ...string) {
	for i, c := range cells {
		c = recClean(c)
		if i < len(t.max) {
			c = recTrunc(c, t.max[i])
		}
		if c == "" {
			c = "-"
		}
		cells[i] = c
	}
	t.rows = append(t.rows, cells)
}

func (t *recTable) render(w io.Writer) {
	widths := make([]int, len(t.head))
	for i, h := range t.head {
		widths[i] = recWidth(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], recWidth(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			right := i < len(t.right) && t.right[i]
			if i == len(cells)-1 && !right {
				b.WriteString(c)
				break
			}
			b.WriteString(recPad(c, widths[i], right))
			if i < len(cells)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
}

// recProgress writes "label n/total" over itself on a terminal, at most a
// few times a second; elsewhere it writes nothing.
type recProgress struct {
	w     io.Writer
	on    bool
	label string
	total int
	last  time.Time
	shown bool
}

func recNewProgress(w io.Writer, label string, total int) *recProgress {
	f, ok := w.(*os.File)
	return &recProgress{w: w, on: ok && isTerminal(f), label: label, total: total}
}

func (p *recProgress) set(n int) {
	if p == nil || !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last, p.shown = time.Now(), true
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s %d/%d (%d%%)\x1b[K", p.label, n, p.total, n*100/p.total)
	} else {
		fmt.Fprintf(p.w, "\r%s %d\x1b[K", p.label, n)
	}
}

func (p *recProgress) done() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// ---------------------------------------------------------------------------
// hotline calls

func newCallsCmd() *cobra.Command {
	var f recFlags
	var since, until, outcomes, grades, number, cursor, format string
	var limit int
	var open, all bool
	cmd := &cobra.Command{
		Use:   "calls",
		Short: "List the calls hotline answered, newest first",
		Long: `Calls lists the call records that hotline serve wrote, newest first: when the
call started (local time), how long it was handled, the caller (as the
privacy policy stored it: full, masked or a keyed hash), the outcome, the
grade, how many script nodes it went through and where it ended, its tags,
and what became of a transfer to a person.

--since and --until take a time back from now (24h, 7d, 2w, 1d12h) or a date
(2026-11-01 is local midnight; 2026-11-01T14:30; RFC 3339). --number finds the
calls from or to a number: stored as it was written, and by the caller's keyed
hash (with the key in --config), so it works whether numbers are kept in full,
masked or hashed. You can also pass a stored hash (h:…) as it is.

Pages hold --limit calls (at most 1000); the footer gives the --cursor of the
next page. --all follows the pages to the end. --format json prints the page
as the store has it ({calls, next, total}, stable field names); --format csv
prints a header row and one row per call.

Exit status: 0 when the listing worked (even with no calls), 1 when the
database failed, 2 for usage errors.`,
		Example: `  hotline calls --since 24h
  hotline calls --since 7d --outcome transferred,abandoned --grade C
  hotline calls --number +8613800138000 --config /etc/hotline.yaml
  hotline calls --since 2026-11-01 --until 2026-12-01 --all --format csv > november.csv
  hotline calls --db postgres://hotline@db/hotline --format json | jq '.calls[].id'

  STARTED              DURATION  CALLER          OUTCOME        GRADE  NODES      TAGS    TRANSFER
  2026-11-27 04:53:02      open  +861******8000  (in progress)  -      2/billing  -       -
  2026-11-27 04:08:02     1m42s  +861******8000  transferred    B      3/agent    outage  answered
  2026-11-27 01:55:02     35.5s  +447*****0123   resolved       A      4/goodbye  -       -
  3 of 118; next page: --cursor MTc2NDIxNjA1MDIwMDAwMDB8YzNhOWMxZUAxMC4wLjAuNQ`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lang := messageLanguage(f.lang)
			switch format {
			case "table", "json", "csv":
			default:
				return usageError("%s", recT(lang, "--format must be table, json or csv", "--format 只能是 table、json 或 csv"))
			}
			if limit < 1 || limit > 1000 {
				return usageError("%s", recT(lang, "--limit must be 1 to 1000 (use --all for every page)", "--limit 须在 1 到 1000 之间 (要全部请用 --all)"))
			}
			if all && cursor != "" {
				return usageError("%s", recT(lang, "--all and --cursor do not go together", "--all 与 --cursor 不能同时使用"))
			}
			now := time.Now()
			s, u, err := recRange(since, until, now, lang)
			if err != nil {
				return err
			}
			filter := store.CallFilter{Since: s, Until: u, Outcome: splitList(outcomes), Limit: limit, Cursor: cursor}
			if cmd.Flags().Changed("grade") {
				filter.Grade = []string{}
				for _, g := range strings.Split(grades, ",") {
					g = strings.TrimSpace(g)
					if g == "-" || strings.EqualFold(g, "none") {
						g = ""
					}
					filter.Grade = append(filter.Grade, strings.ToUpper(g))
				}
			}
			if cmd.Flags().Changed("open") {
				filter.Open = &open
			}
			env, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer env.close()
			var hash string
			if number = strings.TrimSpace(number); number != "" {
				hash = recHashOf(env.policy, number)
			}
			ctx := cmd.Context()
			page, err := recList(ctx, env.st, filter, number, hash)
			if err != nil {
				return recListErr(err, lang)
			}
			if all {
				prog := recNewProgress(cmd.ErrOrStderr(), recT(lang, "reading calls", "读取通话"), page.Total)
				for page.Next != "" {
					prog.set(len(page.Calls))
					filter.Cursor = page.Next
					filter.Limit = 1000
					next, err := recList(ctx, env.st, filter, number, hash)
					if err != nil {
						prog.done()
						return recListErr(err, lang)
					}
					page.Calls = append(page.Calls, next.Calls...)
					page.Next = next.Next
				}
				prog.done()
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(page)
			case "csv":
				if err := recWriteCSV(out, page.Calls); err != nil {
					return err
				}
				// The footer is for people: on stderr, and only on a terminal, so
				// that the CSV stays a CSV.
				if f, ok := cmd.ErrOrStderr().(*os.File); ok && isTerminal(f) {
					fmt.Fprintln(f, recFooter(lang, len(page.Calls), page.Total, page.Next))
				}
				return nil
			}
			if len(page.Calls) == 0 {
				fmt.Fprintln(out, recT(lang, "No calls match (%d in all).", "没有符合条件的通话 (共 %d 个)。", page.Total))
				return nil
			}
			recCallsTable(out, page.Calls, lang)
			fmt.Fprintln(out, recFooter(lang, len(page.Calls), page.Total, page.Next))
			return nil
		},
	}
	f.bind(cmd.PersistentFlags())
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "", "calls that started at or after this: 24h, 7d, 2026-11-01, RFC 3339")
	fl.StringVar(&until, "until", "", "calls that started before this (same forms as --since)")
	fl.StringVar(&outcomes, "outcome", "", "only these outcomes, comma-separated: resolved, transferred, abandoned, after_hours, message_left, unresolved, error, interrupted")
	fl.StringVar(&grades, "grade", "", "only these grades, comma-separated: A, B, C; - for ungraded")
	fl.StringVar(&number, "number", "", "calls from or to this number (also found by the caller's keyed hash), or a stored hash h:…")
	fl.BoolVar(&open, "open", false, "only calls still in progress (--open=false: only ended ones)")
	fl.IntVar(&limit, "limit", 50, "calls per page, 1 to 1000")
	fl.StringVar(&cursor, "cursor", "", "the next page, from the footer (or .next in JSON) of the previous one")
	fl.BoolVar(&all, "all", false, "follow the pages to the end")
	fl.StringVar(&format, "format", "table", "output format: table, json or csv")
	cmd.AddCommand(newCallShowCmd(&f))
	return cmd
}

func recFooter(lang string, n, total int, next string) string {
	if next == "" {
		return recT(lang, "%d of %d", "本页 %d 个,共 %d 个", n, total)
	}
	return recT(lang, "%d of %d; next page: --cursor %s", "本页 %d 个,共 %d 个;下一页: --cursor %s", n, total, next)
}

func recListErr(err error, lang string) error {
	if strings.Contains(err.Error(), "bad cursor") {
		return usageError("%s", recT(lang, "--cursor: not a cursor this listing gave (copy it from the footer of the previous page, with the same filters)",
			"--cursor: 不是本列表给出的游标 (请从上一页的页脚复制,并使用相同的筛选条件)"))
	}
	return failed("hotline: %v", err)
}

// recHashOf is the caller hash to look a number up by: the number itself
// when it is a stored hash already, else the policy's keyed hash of it.
func recHashOf(pol privacy.NumberPolicy, number string) string {
	if recIsHash(number) {
		return strings.ToLower(number)
	}
	return pol.Hash(number)
}

var recHashRe = regexp.MustCompile(`^[hH]:[0-9a-fA-F]{16}$`)

func recIsHash(s string) bool { return recHashRe.MatchString(s) }

// recList is ListCalls with --number: the calls whose stored caller or
// called number is the number OR whose caller hash is its hash. The store
// ANDs its filters, so this merges the two listings, newest first, without
// duplicates; its cursor holds both listings' cursors.
func recList(ctx context.Context, st store.Store, f store.CallFilter, number, hash string) (store.CallPage, error) {
	switch {
	case number == "":
		return st.ListCalls(ctx, f)
	case recIsHash(number):
		// A stored hash: what every call carries as its caller hash (and hash
		// mode also keeps as the caller).
		f.CallerHash = hash
		return st.ListCalls(ctx, f)
	case hash == "":
		f.Number = number
		return st.ListCalls(ctx, f)
	}
	return store.ListCallsByNumber(ctx, st, f, number, hash)
}

func recCallsTable(w io.Writer, calls []store.Call, lang string) {
	t := &recTable{
		head: strings.Split(recT(lang, "STARTED|DURATION|CALLER|OUTCOME|GRADE|NODES|TAGS|TRANSFER",
			"开始时间|时长|主叫|结果|评级|节点|标签|转接"), "|"),
		right: []bool{false, true},
		max:   []int{0, 0, 24, 0, 0, 24, 30, 20},
	}
	for _, c := range calls {
		dur := recDur(c.Duration())
		outcome := c.Outcome
		if c.Open() {
			dur, outcome = recT(lang, "open", "进行中"), recT(lang, "(in progress)", "(进行中)")
		}
		nodes := ""
		if len(c.Path) > 0 || c.Node != "" {
			nodes = fmt.Sprintf("%d/%s", len(c.Path), c.Node)
		}
		transfer := c.TransferResult
		if transfer == "" && c.TransferTarget != "" {
			transfer = recT(lang, "attempted", "已尝试")
		}
		t.add(recLocal(c.StartedAt), dur, c.Caller, outcome, c.Grade, nodes, strings.Join(c.Tags, ","), transfer)
	}
	t.render(w)
}

// recCSVCols are the CSV columns, in order: the store's field names.
var recCSVCols = []string{"id", "started_at", "answered_at", "ended_at", "duration_s", "caller", "caller_hash", "called",
	"script", "script_version", "language", "outcome", "end_reason", "grade", "tags", "path", "node",
	"transfer_target", "transfer_mode", "transfer_result", "transfer_code", "recording", "turns", "no_match",
	"no_input", "keypad", "instance", "vars", "talk_ms", "talk_spurts"}

func recWriteCSV(w io.Writer, calls []store.Call) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(recCSVCols); err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
	for _, c := range calls {
		vars, _ := json.Marshal(c.Vars)
		dur := ""
		if !c.Open() {
			dur = strconv.FormatFloat(c.Duration().Seconds(), 'f', 3, 64)
		}
		row := []string{c.ID, ts(c.StartedAt), ts(c.AnsweredAt), ts(c.EndedAt), dur, c.Caller, c.CallerHash, c.Called,
			c.Script, c.ScriptVersion, c.Language, c.Outcome, c.EndReason, c.Grade, strings.Join(c.Tags, ";"),
			strings.Join(c.Path, ";"), c.Node, c.TransferTarget, c.TransferMode, c.TransferResult,
			strconv.Itoa(c.TransferCode), c.Recording, strconv.Itoa(c.Turns), strconv.Itoa(c.NoMatch),
			strconv.Itoa(c.NoInput), strconv.FormatBool(c.Keypad), c.Instance, string(vars),
			strconv.FormatInt(c.Talk.Milliseconds(), 10), strconv.Itoa(c.TalkSpurts)}
		for i := range row {
			row[i] = recCSVSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// recPlainNumber is a number as a phone number is written, masked or not:
// no letters, so nothing a spreadsheet could call.
var recPlainNumber = regexp.MustCompile(`^[+-]?[0-9][0-9 ().*#-]*$`)

// recCSVSafe keeps a spreadsheet from running a cell as a formula: a value
// starting with = + - @ or a tab gets a leading apostrophe, unless it is a
// plain number (a caller's +8613800138000 or +861******8000 stays as it
// is). Caller numbers come from SIP headers, which anyone can write.
func recCSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if !recPlainNumber.MatchString(s) {
			return "'" + s
		}
	}
	return s
}

// ---------------------------------------------------------------------------
// hotline calls show ID

func newCallShowCmd(f *recFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one call as a timeline: who said what, and what the bot understood",
		Long: `Show prints one call: a header (caller, called number, script and version,
start, answer and end, handling time, outcome, grade, tags, the nodes it went
through, the transfer, the recording and whether its file is there, how long
the caller spoke and in how many stretches), then
every turn at its offset from the answer. A caller's turn shows what the bot
made of it: the intent with how it matched and the score, the digits
collected, or NO MATCH / LOW CONFIDENCE when nothing matched well enough.

--format json prints {"call": …, "turns": […]} with the store's field names.

Exit status: 0 when the call was shown, 1 when there is no such call (or the
database failed), 2 for usage errors.`,
		Example: `  hotline calls show 5b21e0d4@10.0.0.5
  hotline calls show --format json 5b21e0d4@10.0.0.5 | jq '.turns[] | select(.outcome=="no_match")'

  call       5b21e0d4@10.0.0.5
  caller     +861******8000  (hash h:e24c5abe614b783e)
  outcome    transferred    grade B
  path       welcome → outage → agent
  recording  recordings/2026-11-27/5b21e0d4.wav  (file exists, 1.6 MB)
  …
            [welcome]
  +00:00.4  bot     "Hello, you've reached Northwind Energy. …"
  +00:07.9  caller  "my power is off"   → outage (keyword, 1.00)
            [outage]
  +00:15.5  caller  keys 40118822#   → collected
  +00:21.0  caller  "the thing with the bill thing"   ✗ NO MATCH (best: billing 0.41)
  +00:24.0  caller  keys 0   → agent (dtmf, 1.00)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := messageLanguage(f.lang)
			if format != "text" && format != "json" {
				return usageError("%s", recT(lang, "--format must be text or json", "--format 只能是 text 或 json"))
			}
			env, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer env.close()
			ctx := cmd.Context()
			c, err := env.st.Call(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return failed("%s", recT(lang, "hotline: no call %q in %s", "hotline: %s 中没有通话 %q", args[0], env.where))
			}
			if err != nil {
				return failed("hotline: %v", err)
			}
			turns, err := env.st.Turns(ctx, c.ID)
			if err != nil {
				return failed("hotline: %v", err)
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Call  store.Call   `json:"call"`
					Turns []store.Turn `json:"turns"`
				}{c, turns})
			}
			recShowCall(out, c, turns, env.dataDir, lang)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func recShowCall(w io.Writer, c store.Call, turns []store.Turn, dataDir, lang string) {
	const labelWidth = 10
	line := func(label, value string) {
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(w, "%s %s\n", recPad(label, labelWidth, false), recClean(value))
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(time.Local).Format("2006-01-02 15:04:05.0 -07:00")
	}
	z := recZH(lang)
	L := func(en, zh string) string {
		if z {
			return zh
		}
		return en
	}
	line(L("call", "通话"), c.ID)
	caller := c.Caller
	if caller == "" {
		caller = L("(withheld)", "(未显示号码)")
	}
	if c.CallerHash != "" && c.CallerHash != c.Caller {
		caller += "  (" + L("hash ", "哈希 ") + c.CallerHash + ")"
	}
	line(L("caller", "主叫"), caller)
	line(L("called", "被叫"), c.Called)
	script := c.Script
	if c.ScriptVersion != "" {
		script += " " + L("version ", "版本 ") + c.ScriptVersion
	}
	if c.Language != "" {
		script += " (" + c.Language + ")"
	}
	line(L("script", "脚本"), script)
	if c.Instance != "" {
		line(L("instance", "实例"), c.Instance)
	}
	line(L("started", "开始"), at(c.StartedAt))
	line(L("answered", "接听"), at(c.AnsweredAt))
	if c.Open() {
		line(L("ended", "结束"), L("(still in progress)", "(仍在进行)"))
	} else {
		ended := at(c.EndedAt)
		if c.EndReason != "" {
			ended += "  (" + c.EndReason + ")"
		}
		line(L("ended", "结束"), ended)
		line(L("duration", "时长"), recDur(c.Duration()))
	}
	outcome := c.Outcome
	if c.Grade != "" {
		outcome += "    " + L("grade ", "评级 ") + c.Grade
	}
	line(L("outcome", "结果"), outcome)
	line(L("tags", "标签"), strings.Join(c.Tags, ", "))
	line(L("path", "路径"), strings.Join(c.Path, " → "))
	if c.TransferTarget != "" {
		tr := c.TransferTarget
		if c.TransferMode != "" {
			tr += " (" + c.TransferMode + ")"
		}
		if c.TransferResult != "" {
			tr += ": " + c.TransferResult
		}
		if c.TransferCode != 0 {
			tr += fmt.Sprintf(" %d", c.TransferCode)
		}
		line(L("transfer", "转接"), tr)
	}
	if c.Recording != "" {
		line(L("recording", "录音"), c.Recording+"  "+recFileState(dataDir, c.Recording, lang))
	} else {
		line(L("recording", "录音"), L("(none)", "(无)"))
	}
	line(L("counters", "计数"), fmt.Sprintf(L("%d turns, %d no-match, %d no-input, keypad %s", "%d 轮, %d 次未匹配, %d 次无输入, 按键 %s"),
		c.Turns, c.NoMatch, c.NoInput, map[bool]string{true: L("yes", "是"), false: L("no", "否")}[c.Keypad]))
	if !c.Open() {
		line(L("talk", "说话"), recTalk(c, lang))
	}
	if len(c.Vars) > 0 {
		keys := make([]string, 0, len(c.Vars))
		for k := range c.Vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			v, _ := json.Marshal(c.Vars[k])
			parts = append(parts, k+"="+string(v))
		}
		line(L("vars", "变量"), strings.Join(parts, " "))
	}
	fmt.Fprintln(w)
	if len(turns) == 0 {
		fmt.Fprintln(w, L("(no turns recorded)", "(没有记录对话)"))
		return
	}
	bot, callerWord := L("bot", "机器人"), L("caller", "来电者")
	speakerWidth := max(recWidth(bot), recWidth(callerWord)) + 1
	node := ""
	for _, t := range turns {
		if t.Node != "" && t.Node != node {
			fmt.Fprintf(w, "%s[%s]\n", strings.Repeat(" ", 10), recClean(t.Node))
			node = t.Node
		}
		speaker := t.Speaker
		switch t.Speaker {
		case "bot":
			speaker = bot
		case "caller":
			speaker = callerWord
		}
		var text string
		switch {
		case t.Input == "dtmf":
			text = L("keys ", "按键 ") + recClean(t.Text)
		case t.Text == "" && t.Speaker == "caller":
			text = L("(nothing heard)", "(没有听到)")
		default:
			text = strconv.Quote(t.Text)
		}
		ann := recTurnNote(t, lang)
		if ann != "" {
			ann = "   " + ann
		}
		fmt.Fprintf(w, "%-9s %s %s%s\n", recOffset(t.Offset), recPad(recClean(speaker), speakerWidth, false), text, recClean(ann))
	}
}

// recTalk says how long the caller spoke (the talk time of docs/records.md):
// "caller spoke 4.2 s in 3 stretches".
func recTalk(c store.Call, lang string) string {
	if c.TalkSpurts == 0 && c.Talk == 0 {
		return recT(lang, "caller did not speak (or talk time was off)", "来电者没有说话 (或未开启说话时长统计)")
	}
	secs := c.Talk.Seconds()
	if c.TalkSpurts == 1 {
		return recT(lang, "caller spoke %.1f s in 1 stretch", "来电者说话 %.1f 秒,共 1 段", secs)
	}
	return recT(lang, "caller spoke %.1f s in %d stretches", "来电者说话 %.1f 秒,共 %d 段", secs, c.TalkSpurts)
}

// recTurnNote says what the bot made of a caller's turn.
func recTurnNote(t store.Turn, lang string) string {
	z := recZH(lang)
	L := func(en, zh string) string {
		if z {
			return zh
		}
		return en
	}
	best := ""
	if t.Intent != "" {
		best = fmt.Sprintf(" ("+L("best: %s %.2f", "最接近: %s %.2f")+")", t.Intent, t.Score)
	}
	switch t.Outcome {
	case "matched":
		how := fmt.Sprintf("%.2f", t.Score)
		if t.Tier != "" {
			how = t.Tier + ", " + how
		}
		return fmt.Sprintf("→ %s (%s)", t.Intent, how)
	case "no_match":
		return "✗ " + L("NO MATCH", "未匹配") + best
	case "low_confidence":
		note := "✗ " + L("LOW CONFIDENCE", "识别置信度低")
		if t.Confidence >= 0 {
			note += fmt.Sprintf(" ("+L("recogniser %.2f", "识别器 %.2f")+")", t.Confidence)
		}
		return note + best
	case "collected":
		return "→ " + L("collected", "已收集")
	case "invalid":
		return "✗ " + L("INVALID INPUT", "输入无效")
	case "":
		return ""
	}
	return "[" + t.Outcome + "]"
}

// recFileState says whether a file the store lists is in the data directory.
func recFileState(dataDir, rel, lang string) string {
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		return recT(lang, "(not inside the data directory: not looked at)", "(不在数据目录内: 未检查)")
	}
	root, err := os.OpenRoot(dataDir)
	if err != nil {
		return recT(lang, "(file missing)", "(文件不存在)")
	}
	defer root.Close()
	info, err := root.Stat(p)
	switch {
	case err == nil && info.Mode().IsRegular():
		return recT(lang, "(file exists, %s)", "(文件存在, %s)", recBytes(info.Size()))
	case err == nil:
		return recT(lang, "(not a regular file)", "(不是普通文件)")
	case errors.Is(err, fs.ErrNotExist):
		return recT(lang, "(file missing)", "(文件不存在)")
	}
	return "(" + err.Error() + ")"
}

func recBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ---------------------------------------------------------------------------
// hotline stats

// recStatsJSON is the store's Stats with the rates computed.
type recStatsJSON struct {
	store.Stats
	ContainmentRate    float64 `json:"containment_rate"`
	TransferRate       float64 `json:"transfer_rate"`
	AbandonRate        float64 `json:"abandon_rate"`
	NoMatchRate        float64 `json:"no_match_rate"`
	AvgHandlingSeconds float64 `json:"avg_handling_s"`
}

func newStatsCmd() *cobra.Command {
	var f recFlags
	var since, until, format string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "How the bot is doing: containment, transfers, abandoned calls, no-match rate",
		Long: `Stats summarises the calls that started in a time range (default: the last
7 days): how many, the containment rate (calls the bot resolved itself), the
transfer and abandon rates, the no-match rate of what callers said or keyed,
the average handling time, the count of every outcome, and the unanswered
questions asked most in the range (open groups only: the ones staff have not
handled yet; see hotline unanswered).

The definitions of the rates are printed under the table. Rates are over
ended calls: calls still in progress have no outcome yet.

--since and --until take a time back from now (24h, 7d, 2w) or a date
(2026-11-01; 2026-11-01T14:30; RFC 3339); --since all counts every call.

Exit status: 0 on success, 1 when the database failed, 2 for usage errors.`,
		Example: `  hotline stats
  hotline stats --since 30d --format json | jq .containment_rate
  hotline stats --since 2026-11-01 --until 2026-12-01 --lang zh

  Calls from 2026-11-20 10:00:00 to now
  calls               118   (ended 116, in progress 2)
  containment rate  61.2%   (71 of 116 ended calls)
  transfer rate     25.9%   (30 of 116 ended calls)
  abandon rate       8.6%   (10 of 116 ended calls)
  no-match rate     12.3%   (41 of 333 caller turns)
  avg handling      1m42s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lang := messageLanguage(f.lang)
			if format != "table" && format != "json" {
				return usageError("%s", recT(lang, "--format must be table or json", "--format 只能是 table 或 json"))
			}
			s, u, err := recRange(since, until, time.Now(), lang)
			if err != nil {
				return err
			}
			env, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer env.close()
			st, err := env.st.Stats(cmd.Context(), store.StatsFilter{Since: s, Until: u})
			if err != nil {
				return failed("hotline: %v", err)
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(recStatsJSON{Stats: st, ContainmentRate: st.ContainmentRate(), TransferRate: st.TransferRate(),
					AbandonRate: st.AbandonRate(), NoMatchRate: st.NoMatchRate(), AvgHandlingSeconds: st.AvgHandling.Seconds()})
			}
			recStatsTable(out, st, lang)
			return nil
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().StringVar(&since, "since", "7d", "calls that started at or after this: 24h, 7d, 2026-11-01, RFC 3339, or all")
	cmd.Flags().StringVar(&until, "until", "", "calls that started before this (same forms as --since; default now)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func recPct(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

func recStatsTable(w io.Writer, st store.Stats, lang string) {
	from, to := recLocal(st.Since), recLocal(st.Until)
	switch {
	case st.Since.IsZero() && st.Until.IsZero():
		fmt.Fprintln(w, recT(lang, "All calls", "全部通话"))
	case st.Until.IsZero():
		fmt.Fprintln(w, recT(lang, "Calls from %s to now", "%s 至今的通话", from))
	case st.Since.IsZero():
		fmt.Fprintln(w, recT(lang, "Calls before %s", "%s 之前的通话", to))
	default:
		fmt.Fprintln(w, recT(lang, "Calls from %s to %s", "%s 至 %s 的通话", from, to))
	}
	ofEnded := func(n int) string {
		return recT(lang, "(%d of %d ended calls)", "(已结束 %[2]d 个中的 %[1]d 个)", n, st.Ended)
	}
	rows := [][]string{
		{recT(lang, "calls", "通话数"), strconv.Itoa(st.Calls), recT(lang, "(ended %d, in progress %d)", "(已结束 %d, 进行中 %d)", st.Ended, st.Open)},
		{recT(lang, "containment rate", "自助解决率"), recPct(st.ContainmentRate()), ofEnded(st.Outcomes[store.OutcomeResolved])},
		{recT(lang, "transfer rate", "转人工率"), recPct(st.TransferRate()), ofEnded(st.Outcomes[store.OutcomeTransferred])},
		{recT(lang, "abandon rate", "放弃率"), recPct(st.AbandonRate()), ofEnded(st.Outcomes[store.OutcomeAbandoned])},
		{recT(lang, "no-match rate", "未匹配率"), recPct(st.NoMatchRate()),
			recT(lang, "(%d of %d caller turns)", "(来电者 %[2]d 轮中的 %[1]d 轮)", st.NoMatch, st.Utterances)},
		{recT(lang, "avg handling", "平均处理时长"), recDur(st.AvgHandling), ""},
	}
	recPlainRows(w, rows, []bool{false, true, false})

	if len(st.Outcomes) > 0 {
		fmt.Fprintln(w)
		names := make([]string, 0, len(st.Outcomes))
		for k := range st.Outcomes {
			names = append(names, k)
		}
		sort.Slice(names, func(i, j int) bool {
			if st.Outcomes[names[i]] != st.Outcomes[names[j]] {
				return st.Outcomes[names[i]] > st.Outcomes[names[j]]
			}
			return names[i] < names[j]
		})
		ot := &recTable{head: strings.Split(recT(lang, "OUTCOME|CALLS|SHARE", "结果|通话数|占比"), "|"), right: []bool{false, true, true}}
		for _, k := range names {
			name := k
			if name == "" {
				name = recT(lang, "(none)", "(无)")
			}
			ot.add(name, strconv.Itoa(st.Outcomes[k]), recPct(float64(st.Outcomes[k])/float64(max(st.Ended, 1))))
		}
		ot.render(w)
	}
	fmt.Fprintln(w)
	if len(st.TopUnanswered) == 0 {
		fmt.Fprintln(w, recT(lang, "No unanswered questions in the range.", "该时段没有未解答的问题。"))
	} else {
		ut := &recTable{head: strings.Split(recT(lang, "UNANSWERED (open groups)|ASKED|GROUP", "未解答问题 (待处理的组)|次数|组号"), "|"),
			right: []bool{false, true, true}, max: []int{60}}
		for _, g := range st.TopUnanswered {
			ut.add(strconv.Quote(g.Text), strconv.Itoa(g.InRange), strconv.FormatInt(g.ID, 10))
		}
		ut.render(w)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, recT(lang, `Definitions:
  containment rate  calls the bot resolved without a person (outcome resolved) / ended calls
  transfer rate     calls handed to a person (outcome transferred, whether or not the agent answered) / ended calls
  abandon rate      calls the caller hung up on before the end (outcome abandoned) / ended calls
  no-match rate     caller turns that matched no intent, or that the recogniser was too unsure of
                    (no_match, low_confidence) / caller turns matched against intents (speech and keys)
  avg handling      from answer to hang-up, over the ended calls
  Calls count by their start time; ended calls are the ones with an outcome. Other outcomes
  (after_hours, message_left, unresolved, error, interrupted) are in none of the three call rates.
`, `定义:
  自助解决率   机器人自己解决、无需人工的通话 (结果 resolved) / 已结束的通话
  转人工率     转给人工的通话 (结果 transferred,不论坐席是否接听) / 已结束的通话
  放弃率       来电者中途挂断的通话 (结果 abandoned) / 已结束的通话
  未匹配率     没有匹配到意图或识别置信度过低的来电者轮次 (no_match、low_confidence)
               / 参与意图匹配的来电者轮次 (语音和按键)
  平均处理时长 从接听到挂断,按已结束的通话计算
  通话按开始时间计入时段;已结束的通话即有结果的通话。其他结果
  (after_hours、message_left、unresolved、error、interrupted) 不计入以上三种通话比率。
`))
}

// recPlainRows prints rows without a header, aligned.
func recPlainRows(w io.Writer, rows [][]string, right []bool) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], recWidth(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(recPad(c, widths[i], i < len(right) && right[i]))
			b.WriteString("  ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// ---------------------------------------------------------------------------
// The files the store lists. Purge and forget delete through the records
// package (records.Purge, records.Forget: the same code as hotline serve's
// retention), which removes the files inside the data directory only, through
// an os.Root. These commands look at the files before and after, to say
// exactly what became of each.

// recFileReport says what became of the files a DeleteReport listed.
type recFileReport struct {
	Deleted []string        `json:"deleted"`           // removed now
	Present []string        `json:"present,omitempty"` // dry run: there, would be removed
	Missing []string        `json:"missing"`           // already gone
	Refused []string        `json:"refused"`           // not inside the data directory, or not a file: left alone
	Failed  []recFileFailed `json:"failed"`            // still there
}

type recFileFailed struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

func (r recFileReport) problems() int { return len(r.Refused) + len(r.Failed) }

// File states, as recCheckFiles finds them.
const (
	recPresent = "present"
	recMissing = "missing"
	recRefused = "refused"
)

// recLocalPath reports whether a path the store gave may be touched: a
// relative path, without .., inside the data directory (records' rule).
func recLocalPath(rel string) bool {
	return rel != "" && filepath.IsLocal(filepath.FromSlash(rel)) && !strings.Contains(rel, "..")
}

// recCheckFiles looks at the files (paths relative to dataDir) without
// touching them: there, missing, refused (outside the data directory — also
// through a symbolic link — or not a regular file), or an error.
func recCheckFiles(dataDir string, files []string, prog *recProgress) map[string]string {
	state := make(map[string]string, len(files))
	root, rootErr := os.OpenRoot(dataDir)
	if root != nil {
		defer root.Close()
	}
	for i, f := range files {
		prog.set(i)
		if !recLocalPath(f) {
			state[f] = recRefused
			continue
		}
		if rootErr != nil {
			if errors.Is(rootErr, fs.ErrNotExist) {
				state[f] = recMissing
			} else {
				state[f] = rootErr.Error()
			}
			continue
		}
		info, err := root.Lstat(filepath.FromSlash(f))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			state[f] = recMissing
		case err != nil && strings.Contains(err.Error(), "escapes"):
			state[f] = recRefused
		case err != nil:
			state[f] = err.Error()
		case info.IsDir() || !(info.Mode().IsRegular() || info.Mode()&fs.ModeSymlink != 0):
			state[f] = recRefused
		default:
			state[f] = recPresent
		}
	}
	prog.done()
	return state
}

// recFilesReport sorts the files into a report: with before, the states
// before deleting (after = nil: a dry run); files whose state before is not
// known count as there.
func recFilesReport(files []string, before, after map[string]string) recFileReport {
	rep := recFileReport{Deleted: []string{}, Missing: []string{}, Refused: []string{}, Failed: []recFileFailed{}}
	if after == nil {
		rep.Present = []string{}
	}
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		b, known := before[f]
		if !known {
			b = recPresent
		}
		if after == nil {
			switch b {
			case recPresent:
				rep.Present = append(rep.Present, f)
			case recMissing:
				rep.Missing = append(rep.Missing, f)
			case recRefused:
				rep.Refused = append(rep.Refused, f)
			default:
				rep.Failed = append(rep.Failed, recFileFailed{f, b})
			}
			continue
		}
		a := after[f]
		switch {
		case b == recRefused || a == recRefused:
			rep.Refused = append(rep.Refused, f)
		case a == recMissing && b == recMissing:
			rep.Missing = append(rep.Missing, f)
		case a == recMissing:
			rep.Deleted = append(rep.Deleted, f)
		case a == recPresent:
			rep.Failed = append(rep.Failed, recFileFailed{f, "not deleted"})
		default:
			rep.Failed = append(rep.Failed, recFileFailed{f, a})
		}
	}
	return rep
}

// recSnapStore is the store as records.Purge and records.Forget see it: it
// passes everything through and, right after the store's Purge or Forget
// (and before records deletes the files they list), notes the state of
// those files.
type recSnapStore struct {
	store.Store
	dataDir string
	deletes int               // the store's Purge or Forget calls that succeeded
	before  map[string]string // file → state before deleting
}

func (s *recSnapStore) note(rep store.DeleteReport) {
	s.deletes++
	for f, st := range recCheckFiles(s.dataDir, rep.Files, nil) {
		if _, ok := s.before[f]; !ok {
			s.before[f] = st
		}
	}
}

func (s *recSnapStore) Purge(ctx context.Context, before time.Time) (store.DeleteReport, error) {
	rep, err := s.Store.Purge(ctx, before)
	if err == nil {
		s.note(rep)
	}
	return rep, err
}

func (s *recSnapStore) Forget(ctx context.Context, callerHash, number string) (store.DeleteReport, error) {
	rep, err := s.Store.Forget(ctx, callerHash, number)
	if err == nil {
		s.note(rep)
	}
	return rep, err
}

// recPl is "1 call", "2 calls": English counts (Chinese has no plural).
func recPl(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// recCounts prints the store's row counts on one line.
func recCounts(c store.Counts, lang string) string {
	if recZH(lang) {
		return fmt.Sprintf("%d 个通话 (%d 个进行中), %d 轮对话, %d 个未解答问题 (%d 组)", c.Calls, c.OpenCalls, c.Turns, c.Questions, c.Groups)
	}
	return fmt.Sprintf("%s (%d in progress), %s, %s in %s", recPl(c.Calls, "call", "calls"), c.OpenCalls,
		recPl(c.Turns, "turn", "turns"), recPl(c.Questions, "unanswered question", "unanswered questions"), recPl(c.Groups, "group", "groups"))
}

// recDeleteJSON is purge's and forget's JSON output.
type recDeleteJSON struct {
	Cutoff  time.Time          `json:"cutoff,omitzero"` // purge
	Match   *recForgetMatch    `json:"match,omitempty"` // forget
	DryRun  bool               `json:"dry_run,omitempty"`
	Before  store.Counts       `json:"before"`
	Removed store.DeleteReport `json:"removed"` // dry run: what would be removed
	Files   recFileReport      `json:"files"`
	After   *store.Counts      `json:"after,omitempty"`
}

func recPrintDelete(w io.Writer, r recDeleteJSON, what string, verbose bool, lang string) {
	zh := recZH(lang)
	fmt.Fprintln(w, recT(lang, "Before:  %s", "删除前: %s", recCounts(r.Before, lang)))
	rm, fr := r.Removed, r.Files
	switch {
	case zh && r.DryRun:
		fmt.Fprintf(w, "将删除: %d 个通话 (%s), %d 轮对话, %d 个未解答问题 (%d 个组将因清空而删除, %d 个组将重新计数), %d 个文件\n",
			rm.Calls, what, rm.Turns, rm.Questions, rm.Groups, rm.GroupsChanged, len(rm.Files))
		fmt.Fprintf(w, "文件:   %d 个存在, %d 个已不存在, %d 个拒绝删除 (在数据目录外或不是文件)\n", len(fr.Present), len(fr.Missing), len(fr.Refused))
	case zh:
		fmt.Fprintf(w, "已删除: %d 个通话 (%s), %d 轮对话, %d 个未解答问题 (%d 个组因清空而删除, %d 个组重新计数), %d 个文件\n",
			rm.Calls, what, rm.Turns, rm.Questions, rm.Groups, rm.GroupsChanged, len(rm.Files))
		fmt.Fprintf(w, "文件:   %d 个已删除, %d 个原本就不存在, %d 个拒绝删除 (在数据目录外或不是文件), %d 个失败\n",
			len(fr.Deleted), len(fr.Missing), len(fr.Refused), len(fr.Failed))
	case r.DryRun:
		fmt.Fprintf(w, "Would remove: %s %s, %s, %s (%s left empty would go, %d would be recounted), %s\n",
			recPl(rm.Calls, "call", "calls"), what, recPl(rm.Turns, "turn", "turns"),
			recPl(rm.Questions, "unanswered question", "unanswered questions"), recPl(rm.Groups, "group", "groups"),
			rm.GroupsChanged, recPl(len(rm.Files), "file", "files"))
		fmt.Fprintf(w, "Files:   %d there, %d already missing, %d refused (outside the data directory or not a file)\n",
			len(fr.Present), len(fr.Missing), len(fr.Refused))
	default:
		fmt.Fprintf(w, "Removed: %s %s, %s, %s (%s left empty and deleted, %d recounted), %s\n",
			recPl(rm.Calls, "call", "calls"), what, recPl(rm.Turns, "turn", "turns"),
			recPl(rm.Questions, "unanswered question", "unanswered questions"), recPl(rm.Groups, "group", "groups"),
			rm.GroupsChanged, recPl(len(rm.Files), "file", "files"))
		fmt.Fprintf(w, "Files:   %d deleted, %d already missing, %d refused (outside the data directory or not a file), %d failed\n",
			len(fr.Deleted), len(fr.Missing), len(fr.Refused), len(fr.Failed))
	}
	list := func(label string, files []string) {
		for _, f := range files {
			fmt.Fprintf(w, "  %s %s\n", label, recClean(f))
		}
	}
	if verbose {
		list(recT(lang, "deleted", "已删除"), fr.Deleted)
		list(recT(lang, "would delete", "将删除"), fr.Present)
		list(recT(lang, "missing", "不存在"), fr.Missing)
	}
	list(recT(lang, "REFUSED", "拒绝删除"), fr.Refused)
	for _, f := range fr.Failed {
		fmt.Fprintf(w, "  %s %s: %s\n", recT(lang, "FAILED", "失败"), recClean(f.Path), recClean(f.Error))
	}
	if r.After != nil {
		fmt.Fprintln(w, recT(lang, "After:   %s", "删除后: %s", recCounts(*r.After, lang)))
	}
}

func recEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ---------------------------------------------------------------------------
// hotline purge

func newPurgeCmd() *cobra.Command {
	var f recFlags
	var olderThan, format string
	var dry, verbose bool
	cmd := &cobra.Command{
		Use:   "purge --older-than AGE",
		Short: "Delete the records of calls that ended long ago, with their recordings",
		Long: `Purge carries out a retention policy: it deletes every call that ended before
--older-than (90d: 90 days ago; or a date), with its turns, its unanswered
questions (groups left without questions go; the others are recounted) and
its files in the data directory: the recording, the questions' audio
snippets, and the messages callers left on days that ended at least a day
before the cutoff (messages/DAY/). Calls still in progress are never purged.
It prints the row counts before and after, and what was removed. The
deleting is done by the same code as hotline serve's retention.days.

Files are only ever deleted inside the data directory: a path in the database
that is absolute, climbs out with .., or leads out through a symbolic link is
refused and listed, and the exit status is 1.

--dry-run deletes nothing: it reads the calls that would go, their turns and
the unanswered questions of those calls, and checks which of their files are
there. It counts the rows and files purge would delete as of the moment it
runs (calls that end in between are not in it), except the messages of old
days, which it does not list. It is slower than the purge itself (one query
per call and per question group), and shows progress on a terminal.

Run it from cron, e.g. daily: hotline purge --older-than 90d --config /etc/hotline.yaml

Exit status: 0 when done, 1 when the database failed or a file could not be
(or was refused to be, or with --dry-run would not be) deleted, 2 for usage
errors.`,
		Example: `  hotline purge --older-than 90d --dry-run
  hotline purge --older-than 90d
  hotline purge --older-than 2026-01-01 --db postgres://hotline@db/hotline --format json

  Before:  1204 calls (2 in progress), 9876 turns, 312 unanswered questions in 88 groups
  Removed: 1000 calls (ended before 2026-08-29 10:00:00), 8100 turns, 250 unanswered questions (20 groups left empty and deleted, 31 recounted), 1004 files
  Files:   1002 deleted, 2 already missing, 0 refused (outside the data directory or not a file), 0 failed
  After:   204 calls (2 in progress), 1776 turns, 62 unanswered questions in 68 groups`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lang := messageLanguage(f.lang)
			if format != "text" && format != "json" {
				return usageError("%s", recT(lang, "--format must be text or json", "--format 只能是 text 或 json"))
			}
			if olderThan == "" {
				return usageError("%s", recT(lang, "--older-than is needed, e.g. --older-than 90d", "需要 --older-than,例如 --older-than 90d"))
			}
			cutoff, err := recParseWhen("older-than", olderThan, time.Now(), lang)
			if err != nil {
				return err
			}
			env, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer env.close()
			ctx := cmd.Context()
			res := recDeleteJSON{Cutoff: cutoff, DryRun: dry}
			if res.Before, err = env.st.CountAll(ctx); err != nil {
				return failed("hotline: %v", err)
			}
			errw := cmd.ErrOrStderr()
			if dry {
				res.Removed, err = recPurgePreview(ctx, env.st, cutoff, errw, lang)
				if err != nil {
					return failed("hotline: %v", err)
				}
				files := res.Removed.Files
				state := recCheckFiles(env.dataDir, files, recNewProgress(errw, recT(lang, "checking files", "检查文件"), len(files)))
				res.Files = recFilesReport(files, state, nil)
			} else {
				snap := &recSnapStore{Store: env.st, dataDir: env.dataDir, before: map[string]string{}}
				res.Removed, err = records.Purge(ctx, snap, env.dataDir, cutoff, nil)
				if err != nil && snap.deletes == 0 {
					return failed("hotline: %v", err)
				}
				// An error after the store's purge is about files: the report
				// below says which.
				res.Removed.Files = append([]string{}, res.Removed.Files...)
				sort.Strings(res.Removed.Files)
				res.Files = recFilesReport(res.Removed.Files, snap.before, recCheckFiles(env.dataDir, res.Removed.Files, nil))
				after, err := env.st.CountAll(ctx)
				if err != nil {
					return failed("hotline: %v", err)
				}
				res.After = &after
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				if err := recEncode(out, res); err != nil {
					return err
				}
			} else {
				if dry {
					fmt.Fprintln(out, recT(lang, "Dry run: nothing is deleted.", "试运行: 不删除任何内容。"))
				}
				recPrintDelete(out, res, recT(lang, "(ended before %s)", "%s 之前结束", recLocal(cutoff)), verbose, lang)
				if dry {
					fmt.Fprintln(out, recT(lang, "Not counted: the messages callers left on days before the cutoff (messages/DAY/), which purge deletes too.",
						"未计入: 截止日期之前各天来电者的留言 (messages/日期/), purge 也会删除它们。"))
				}
			}
			if n := res.Files.problems(); n > 0 {
				if dry {
					return &exitError{code: 1, msg: recT(lang, "hotline purge: %d files would not be deleted (listed above)", "hotline purge: %d 个文件将无法删除 (见上)", n)}
				}
				return &exitError{code: 1, msg: recT(lang, "hotline purge: %d files were not deleted (listed above)", "hotline purge: %d 个文件未删除 (见上)", n)}
			}
			return nil
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().StringVar(&olderThan, "older-than", "", "delete calls that ended before this: 90d, 12w, 2026-01-01, RFC 3339 (required)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "count what would be deleted; delete nothing")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every file")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// recPurgePreview counts what Purge(cutoff) would delete, through read-only
// queries: the ended calls that started before the cutoff, kept when they
// also ended before it; their turns; and, going through every question
// group, the questions of those calls.
func recPurgePreview(ctx context.Context, st store.Store, cutoff time.Time, progress io.Writer, lang string) (store.DeleteReport, error) {
	ended := false
	ids := map[string]bool{}
	rep := store.DeleteReport{Files: []string{}}
	files := map[string]bool{}
	f := store.CallFilter{Until: cutoff, Open: &ended, Limit: 1000}
	var prog *recProgress
	for n := 0; ; {
		page, err := st.ListCalls(ctx, f)
		if err != nil {
			prog.done()
			return rep, err
		}
		if prog == nil {
			prog = recNewProgress(progress, recT(lang, "reading calls", "读取通话"), page.Total)
		}
		for _, c := range page.Calls {
			n++
			prog.set(n)
			if !c.EndedAt.Before(cutoff) {
				continue
			}
			turns, err := st.Turns(ctx, c.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) { // purged meanwhile
				prog.done()
				return rep, err
			}
			ids[c.ID] = true
			rep.Calls++
			rep.Turns += len(turns)
			if c.Recording != "" {
				files[c.Recording] = true
			}
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	prog.done()
	if len(ids) > 0 {
		seen := map[int64]bool{}
		var groups []store.Group
		for off := 0; ; off += 1000 {
			page, err := st.Groups(ctx, store.GroupFilter{Limit: 1000, Offset: off})
			if err != nil {
				return rep, err
			}
			for _, g := range page.Groups {
				if !seen[g.ID] {
					seen[g.ID] = true
					groups = append(groups, g)
				}
			}
			if len(page.Groups) < 1000 {
				break
			}
		}
		prog = recNewProgress(progress, recT(lang, "reading unanswered questions", "读取未解答问题"), len(groups))
		for i, g := range groups {
			prog.set(i)
			// Questions come no later than their call's end, so a group first
			// asked after the cutoff holds none of the purged calls.
			if !g.FirstAt.IsZero() && !g.FirstAt.Before(cutoff) {
				continue
			}
			_, qs, err := st.Group(ctx, g.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				prog.done()
				return rep, err
			}
			gone := 0
			for _, q := range qs {
				if q.CallID != "" && ids[q.CallID] {
					gone++
					if q.Audio != "" {
						files[q.Audio] = true
					}
				}
			}
			rep.Questions += gone
			switch {
			case gone > 0 && gone == len(qs):
				rep.Groups++
			case gone > 0:
				rep.GroupsChanged++
			}
		}
		prog.done()
	}
	for f := range files {
		rep.Files = append(rep.Files, f)
	}
	sort.Strings(rep.Files)
	return rep, nil
}

// ---------------------------------------------------------------------------
// hotline forget NUMBER

// recForgetMatch says how forget finds the caller's calls.
type recForgetMatch struct {
	Number  string   `json:"number"`            // as given
	Hash    string   `json:"hash"`              // the caller hash looked for
	Keyed   bool     `json:"keyed"`             // the hash used a configured key
	Numbers []string `json:"numbers,omitempty"` // stored caller numbers looked for (caller_numbers full)
	Mode    string   `json:"caller_numbers"`    // the configured policy
}

func newForgetCmd() *cobra.Command {
	var f recFlags
	var yes bool
	var format string
	cmd := &cobra.Command{
		Use:   "forget NUMBER",
		Short: "Erase everything stored about one caller (right to erasure)",
		Long: `Forget deletes every record of one caller: their calls (calls in progress
included), the turns of those calls, the unanswered questions they asked
(groups left empty go; others are recounted, and a group titled with their
words gets a new title), and the files in the data directory: the call
recordings, the question snippets and the messages they left. It prints
exactly what was removed, every file by name, and the row counts before and
after. The deleting is done by the same code as hotline serve's retention.

A caller's calls are found by the keyed hash of their number, which hotline
serve stores with every call whatever privacy.caller_numbers says (full,
masked or hash): --config (or HOTLINE_CONFIG, HOTLINE_HASH_KEY) must give
the same privacy.hash_key or hash_key_file as hotline serve's. When numbers
are kept in full, calls are also found by the number itself, as typed and
normalised ("+86 138-0013-8000" is +8613800138000). A masked number
(138****8000) cannot be forgotten by: it stands for many callers.

On a terminal forget shows what it found and asks before deleting; elsewhere
it needs --yes. A call in progress is deleted too, but hotline serve writes
its record again when it ends: run forget again after the call.

Exit status: 0 when done (also when nothing was found), 1 when the answer to
the question was not yes, the database failed or a file could not be (or was
refused to be) deleted, 2 for usage errors (a missing, masked or malformed
number, no --yes off a terminal).`,
		Example: `  hotline forget +8613800138000 --config /etc/hotline.yaml
  hotline forget "+44 7700 900123" --yes --format json

  Found 3 calls of +8613800138000 (2026-09-02 10:00:00 … 2026-11-25 16:12:09), by keyed hash.
  Delete them, their turns, unanswered questions and files for good? Type yes: yes
  Before:  1204 calls (2 in progress), 9876 turns, 312 unanswered questions in 88 groups
  Removed: 3 calls (of this caller), 21 turns, 2 unanswered questions (1 groups left empty and deleted, 1 recounted), 4 files
  Files:   4 deleted, 0 already missing, 0 refused (outside the data directory or not a file), 0 failed
    deleted recordings/2026-09-02/a1b2c3.wav
    …
  After:   1201 calls (2 in progress), 9855 turns, 310 unanswered questions in 87 groups`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := messageLanguage(f.lang)
			if format != "text" && format != "json" {
				return usageError("%s", recT(lang, "--format must be text or json", "--format 只能是 text 或 json"))
			}
			number := strings.TrimSpace(args[0])
			if err := recForgetCheck(number, lang); err != nil {
				return err
			}
			interactive := false
			if in, ok := cmd.InOrStdin().(*os.File); ok {
				interactive = recInteractive(in)
			}
			if !yes && !interactive {
				return usageError("%s", recT(lang, "forget deletes records for good: run it on a terminal to confirm, or pass --yes",
					"forget 会永久删除记录: 请在终端中运行以确认,或加上 --yes"))
			}
			env, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer env.close()
			ctx := cmd.Context()
			match := recForgetMatch{Number: number, Hash: env.policy.Hash(number), Keyed: env.keyed, Mode: env.policy.Mode().String()}
			if env.policy.Mode() == privacy.NumbersFull {
				// records.Forget matches the number as given; a second pass
				// catches the number written the normalised way.
				match.Numbers = []string{number}
				if n := privacy.NormalizeNumber(number); n != number {
					match.Numbers = append(match.Numbers, n)
				}
			}
			calls, err := recForgetFind(ctx, env.st, match)
			if err != nil {
				return failed("hotline: %v", err)
			}
			out := cmd.OutOrStdout()
			// The summary goes to stderr with JSON so that stdout stays JSON.
			note := out
			if format == "json" {
				note = cmd.ErrOrStderr()
			}
			recForgetSummary(note, calls, match, env, lang)
			if !yes && len(calls) > 0 {
				ok, err := recConfirm(cmd.InOrStdin(), note, recT(lang,
					"Delete them, their turns, unanswered questions and files for good? Type yes: ",
					"永久删除这些通话及其对话、未解答问题和文件? 输入 yes 确认: "))
				if err != nil {
					return failed("hotline: %v", err)
				}
				if !ok {
					return &exitError{code: 1, msg: recT(lang, "hotline forget: not confirmed; nothing deleted", "hotline forget: 未确认, 未删除任何内容")}
				}
			}
			res := recDeleteJSON{Match: &match}
			if res.Before, err = env.st.CountAll(ctx); err != nil {
				return failed("hotline: %v", err)
			}
			snap := &recSnapStore{Store: env.st, dataDir: env.dataDir, before: map[string]string{}}
			// The messages the caller left are named in their calls' variables;
			// look at them now, before records deletes them.
			var msgs []string
			for _, c := range calls {
				for _, v := range c.Vars {
					if s, ok := v.(string); ok && strings.HasPrefix(s, "messages/") {
						msgs = append(msgs, s)
					}
				}
			}
			for f, st := range recCheckFiles(env.dataDir, msgs, nil) {
				snap.before[f] = st
			}
			res.Removed, err = recForgetAll(ctx, snap, env.dataDir, env.policy, match)
			if err != nil {
				return failed("hotline: %v", err)
			}
			res.Files = recFilesReport(res.Removed.Files, snap.before, recCheckFiles(env.dataDir, res.Removed.Files, nil))
			after, err := env.st.CountAll(ctx)
			if err != nil {
				return failed("hotline: %v", err)
			}
			res.After = &after
			if format == "json" {
				if err := recEncode(out, res); err != nil {
					return err
				}
			} else {
				recPrintDelete(out, res, recT(lang, "(of this caller)", "属于该来电者"), true, lang)
			}
			if n := res.Files.problems(); n > 0 {
				return &exitError{code: 1, msg: recT(lang, "hotline forget: %d files were not deleted (listed above)", "hotline forget: %d 个文件未删除 (见上)", n)}
			}
			return nil
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// recForgetCheck refuses what cannot be a caller's number: forgetting by
// a masked number, a name such as "anonymous" (every withheld caller) or a
// few digits would erase other callers' records.
func recForgetCheck(number, lang string) error {
	switch {
	case number == "":
		return usageError("%s", recT(lang, "forget needs the caller's number", "forget 需要来电者的号码"))
	case strings.Contains(number, "**"):
		return usageError("%s", recT(lang,
			"%q looks masked: a masked number stands for many callers; give the full number",
			"%q 看起来是打码后的号码, 它对应许多来电者; 请提供完整号码", number))
	}
	digits := 0
	for _, r := range privacy.NormalizeNumber(number) {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == '*' || r == '#':
		default:
			return usageError("%s", recT(lang, "%q is not a phone number", "%q 不是电话号码", number))
		}
	}
	if digits < 3 {
		return usageError("%s", recT(lang, "%q is too short for a phone number", "%q 太短, 不是电话号码", number))
	}
	return nil
}

// recForgetFind lists the calls that Forget deletes: caller hash equal to
// the hash, or caller equal to one of the numbers.
func recForgetFind(ctx context.Context, st store.Store, m recForgetMatch) ([]store.Call, error) {
	seen := map[string]bool{}
	var out []store.Call
	collect := func(f store.CallFilter, keep func(store.Call) bool) error {
		f.Limit = 1000
		for {
			page, err := st.ListCalls(ctx, f)
			if err != nil {
				return err
			}
			for _, c := range page.Calls {
				if !seen[c.ID] && keep(c) {
					seen[c.ID] = true
					out = append(out, c)
				}
			}
			if page.Next == "" {
				return nil
			}
			f.Cursor = page.Next
		}
	}
	if m.Hash != "" {
		if err := collect(store.CallFilter{CallerHash: m.Hash}, func(store.Call) bool { return true }); err != nil {
			return nil, err
		}
	}
	for _, n := range m.Numbers {
		// ListCalls's Number is caller or called; Forget's only the caller.
		if err := collect(store.CallFilter{Number: n}, func(c store.Call) bool { return c.Caller == n }); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out, nil
}

// recForgetAll runs records.Forget for the number as given and, in full
// mode, as normalised, and adds up the reports. An error after the store
// deleted the rows is about files, which the report shows one by one.
func recForgetAll(ctx context.Context, snap *recSnapStore, dataDir string, pol privacy.NumberPolicy, m recForgetMatch) (store.DeleteReport, error) {
	total := store.DeleteReport{Files: []string{}}
	numbers := m.Numbers
	if len(numbers) == 0 {
		numbers = []string{m.Number}
	}
	files := map[string]bool{}
	for _, n := range numbers {
		deletes := snap.deletes
		rep, err := records.Forget(ctx, snap, dataDir, pol, n)
		if err != nil && snap.deletes == deletes {
			return total, err
		}
		total.Calls += rep.Calls
		total.Turns += rep.Turns
		total.Questions += rep.Questions
		total.Groups += rep.Groups
		total.GroupsChanged += rep.GroupsChanged
		for _, f := range rep.Files {
			files[f] = true
		}
	}
	for f := range files {
		total.Files = append(total.Files, f)
	}
	sort.Strings(total.Files)
	return total, nil
}

func recForgetSummary(w io.Writer, calls []store.Call, m recForgetMatch, env *recEnv, lang string) {
	how := recT(lang, "by keyed hash", "按带密钥的哈希")
	switch {
	case !m.Keyed && len(m.Numbers) > 0:
		how = recT(lang, "by number and unkeyed hash", "按号码和无密钥哈希")
	case !m.Keyed:
		how = recT(lang, "by unkeyed hash", "按无密钥哈希")
	case len(m.Numbers) > 0:
		how = recT(lang, "by keyed hash and number", "按带密钥的哈希和号码")
	}
	number := recClean(m.Number)
	if len(calls) == 0 {
		fmt.Fprintln(w, recT(lang, "No calls of %s found (%s).", "没有找到 %s 的通话 (%s)。", number, how))
		if !env.keyed {
			fmt.Fprintln(w, recT(lang,
				"No hash key is configured: if hotline serve has privacy.hash_key or hash_key_file, give its --config so that the caller hash matches.",
				"未配置哈希密钥: 如果 hotline serve 设置了 privacy.hash_key 或 hash_key_file, 请指定其 --config, 以便哈希一致。"))
		}
		return
	}
	open := 0
	for _, c := range calls {
		if c.Open() {
			open++
		}
	}
	first, last := recLocal(calls[0].StartedAt), recLocal(calls[len(calls)-1].StartedAt)
	if recZH(lang) {
		fmt.Fprintf(w, "找到 %s 的 %d 个通话 (%s … %s), %s。\n", number, len(calls), first, last, how)
		if open > 0 {
			fmt.Fprintf(w, "其中 %d 个仍在进行: 结束时 hotline serve 会重新写入记录; 请在通话结束后再运行一次 forget。\n", open)
		}
		return
	}
	fmt.Fprintf(w, "Found %s of %s (%s … %s), %s.\n", recPl(len(calls), "call", "calls"), number, first, last, how)
	if open > 0 {
		fmt.Fprintf(w, "%d of them in progress: hotline serve writes its record again when it ends; run forget again afterwards.\n", open)
	}
}

// recInteractive reports whether f is a terminal a person answers at:
// isTerminal, and not /dev/null (a character device too, but no one types
// "yes" into it).
func recInteractive(f *os.File) bool {
	if !isTerminal(f) {
		return false
	}
	fi, err1 := f.Stat()
	null, err2 := os.Stat(os.DevNull)
	return err1 != nil || err2 != nil || !os.SameFile(fi, null)
}

// recConfirm asks a yes/no question and reads the answer: only "yes" (or
// 是) goes ahead.
func recConfirm(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(out)
			return false, nil
		}
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "yes", "是":
		return true, nil
	}
	return false, nil
}
