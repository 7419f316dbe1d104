package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/text/width"
	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

func init() { moreCommands = append(moreCommands, newUnansweredCmd) }

// unansweredOpts are the flags every `hotline unanswered` command shares.
type unansweredOpts struct {
	data, db, config, script, lang, by string
}

func newUnansweredCmd() *cobra.Command {
	o := &unansweredOpts{}
	cmd := &cobra.Command{
		Use:     "unanswered",
		Aliases: []string{"inbox"},
		Short:   "The questions the bot could not answer: list, show, and teach the bot",
		Long: `Unanswered is the inbox of questions the bot could not answer. hotline serve
groups similar questions as they come in; each group is handled once:

  assign   the question becomes an example (or a keyword) of an existing intent
  answer   the question becomes a new entry of the answer library
  ignore   not a question for the bot (noise, a wrong number)

What staff teach goes into the script's learned file (script.learned.yaml,
beside the script), written only if the whole script loads with the change. A
running hotline serve watches that file and reloads the script by itself.

The records are read from the SQLite database in --data (default ./data, as
hotline serve), or from PostgreSQL with --db URL. --config reads data, db and
script from hotline serve's configuration file. Flags win over HOTLINE_DATA,
HOTLINE_DB, HOTLINE_SCRIPT and HOTLINE_CONFIG, which win over the file.

Exit status: 0 on success, 1 when the change failed (rejected by the script,
the group is already assigned, no such group, database errors), 2 for usage
errors (also: no database in --data).`,
		Example: `  hotline unanswered list
  hotline unanswered show 12
  hotline unanswered assign 12 --intent opening_hours --script examples/en-utility/script.yaml
  hotline unanswered answer 15 --name parking --say "There is free parking behind the building." --keyword parking
  hotline unanswered ignore 17 --reason "wrong number"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.data, "data", "", "data directory of hotline serve, with the SQLite database (default ./data; HOTLINE_DATA)")
	pf.StringVar(&o.db, "db", "", "PostgreSQL URL (postgres://…) instead of the SQLite database in --data (HOTLINE_DB)")
	pf.StringVar(&o.config, "config", "", "hotline serve's configuration file: its data, db and script (HOTLINE_CONFIG)")
	pf.StringVar(&o.lang, "lang", "", "language of messages: en or zh (default from HOTLINE_LANG or the locale)")
	cmd.AddCommand(newUnansweredListCmd(o), newUnansweredShowCmd(o), newUnansweredAssignCmd(o),
		newUnansweredAnswerCmd(o), newUnansweredIgnoreCmd(o))
	return cmd
}

// settings are the effective data directory, database and script.
type unansweredSettings struct {
	data, db, script string
}

// resolve applies flags > HOTLINE_* environment > config file > defaults.
func (o *unansweredOpts) resolve(cmd *cobra.Command) (unansweredSettings, error) {
	s := unansweredSettings{data: "./data"}
	file := o.config
	if !cmd.Flags().Changed("config") {
		file = os.Getenv("HOTLINE_CONFIG")
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return s, usageError("--config: %v", err)
		}
		// The keys hotline serve's configuration has for these; the rest is
		// serve's business.
		var c struct {
			Data   string `yaml:"data"`
			DB     string `yaml:"db"`
			Script string `yaml:"script"`
		}
		if err := yaml.Unmarshal(data, &c); err != nil {
			return s, usageError("--config %s: %v", file, err)
		}
		if c.Data != "" {
			s.data = c.Data
		}
		s.db, s.script = c.DB, c.Script
	}
	for env, dst := range map[string]*string{"HOTLINE_DATA": &s.data, "HOTLINE_DB": &s.db, "HOTLINE_SCRIPT": &s.script} {
		if v, ok := os.LookupEnv(env); ok && v != "" {
			*dst = v
		}
	}
	for name, v := range map[string]struct{ flag, dst *string }{"data": {&o.data, &s.data}, "db": {&o.db, &s.db},
		"script": {&o.script, &s.script}} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			*v.dst = *v.flag
		}
	}
	return s, nil
}

// open opens the store and the inbox. Without --db it refuses a data
// directory that has no database rather than making an empty one.
func (o *unansweredOpts) open(cmd *cobra.Command) (*learn.Inbox, func(), error) {
	s, err := o.resolve(cmd)
	if err != nil {
		return nil, nil, err
	}
	lang := messageLanguage(o.lang)
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	dsn, where := s.db, s.data
	if dsn == "" {
		dsn = filepath.Join(s.data, "hotline.db")
	}
	lower := strings.ToLower(dsn)
	if !strings.HasPrefix(lower, "postgres://") && !strings.HasPrefix(lower, "postgresql://") {
		path := dsn
		if strings.HasPrefix(lower, "sqlite:") {
			path = strings.TrimPrefix(dsn[len("sqlite:"):], "//")
			where = path
		} else if s.db != "" {
			where = path
		}
		if _, err := os.Stat(path); err != nil {
			// A usage error, as for hotline calls: opening would make an empty
			// database, and a mistyped --data would look like an empty inbox.
			return nil, nil, usageError("%s", uaMsg(lang,
				fmt.Sprintf("no hotline database in %s (hotline serve creates it there; give --data DIR, --db URL or --config FILE)", where),
				fmt.Sprintf("%s 里没有 hotline 数据库(由 hotline serve 创建;请用 --data 目录、--db URL 或 --config 文件指定)", where)))
		}
	}
	st, err := store.Open(ctx, dsn, store.Options{Instance: "cli"})
	if err != nil {
		return nil, nil, failed("hotline unanswered: %v", err)
	}
	by := o.by
	if by == "" {
		by = uaCurrentUser()
	}
	ib := &learn.Inbox{Store: st, ScriptPath: s.script, By: by, DataDir: s.data}
	return ib, func() { st.Close() }, nil
}

func uaCurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

// msg picks the Chinese or English text.
func uaMsg(lang, en, zh string) string {
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return zh
	}
	return en
}

func uaCheckFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usageError("--format must be %s", strings.Join(allowed, ", "))
}

// groupID parses the ID argument.
func uaGroupID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("%q is not a group ID (a number from hotline unanswered list)", arg)
	}
	return id, nil
}

// parseSince reads 7d, 36h, 2026-11-01 or an RFC 3339 time.
func uaParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.AddDate(0, 0, -d), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("--since %q: want an age (7d, 12h) or a date (2026-11-01)", s)
}

// inboxError turns the inbox's errors into exit codes and messages in lang.
func uaError(err error, id int64, lang string) error {
	var rej *learn.RejectedError
	var res *learn.ResolvedError
	switch {
	case errors.As(err, &rej):
		return failed("hotline unanswered: %s", rej.Message(lang))
	case errors.As(err, &res):
		return failed("hotline unanswered: %s", res.Message(lang))
	case errors.Is(err, store.ErrNotFound):
		return failed("hotline unanswered: %s", uaMsg(lang, fmt.Sprintf("no group %d (see hotline unanswered list --status all)", id),
			fmt.Sprintf("没有第 %d 组问题(见 hotline unanswered list --status all)", id)))
	case errors.Is(err, learn.ErrNoScript):
		return usageError("%s", uaMsg(lang,
			"teaching the bot needs the script file on disk: give --script PATH (or script: in --config, or HOTLINE_SCRIPT); "+
				"the built-in demo hotline that hotline serve runs without --script is inside the binary and cannot be changed",
			"教机器人需要磁盘上的脚本文件:请用 --script 路径(或 --config 里的 script:、或 HOTLINE_SCRIPT)指定;"+
				"hotline serve 不带 --script 时运行的内置演示脚本在程序内部,无法修改"))
	}
	return failed("hotline unanswered: %v", err)
}

func uaLocalTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func uaISOTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// clip shortens s to n characters for a table.
func uaClip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// uaTable prints rows in columns two spaces apart, measuring Chinese
// characters as two columns (tabwriter counts them as one); the last column
// is not padded.
func uaTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], uaWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-uaWidth(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// uaWidth is the number of terminal columns s takes.
func uaWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func uaWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var uaStatusNames = map[string]string{store.GroupOpen: "待处理", store.GroupAssigned: "已归入", store.GroupIgnored: "已忽略"}

func uaStatusText(status, lang string) string { return uaMsg(lang, status, uaStatusNames[status]) }

func newUnansweredListCmd(o *unansweredOpts) *cobra.Command {
	var status, since, format, language string
	var limit, offset int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List groups of unanswered questions, most asked first",
		Long: `List shows groups of similar unanswered questions, most asked first: how many
times each was asked, when first and last, its question and another wording
or two. Open groups by default; --status all lists every group.`,
		Example: `  hotline unanswered list
  hotline unanswered list --since 7d --limit 20
  hotline unanswered list --status assigned --format csv > assigned.csv
  hotline unanswered list --format json | jq '.groups[] | {id, count, text}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lang := messageLanguage(o.lang)
			if err := uaCheckFormat(format, "table", "json", "csv"); err != nil {
				return err
			}
			switch status {
			case store.GroupOpen, store.GroupAssigned, store.GroupIgnored, learn.StatusAll:
			default:
				return usageError("--status must be open, assigned, ignored or all")
			}
			if limit < 1 || limit > 1000 || offset < 0 {
				return usageError("--limit must be 1 to 1000 and --offset not negative")
			}
			from, err := uaParseSince(since, time.Now())
			if err != nil {
				return err
			}
			ib, closeStore, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			page, err := ib.List(cmd.Context(), learn.ListFilter{Status: status, Language: language, Since: from, Limit: limit, Offset: offset})
			if err != nil {
				return uaError(err, 0, lang)
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				return uaWriteJSON(out, page)
			case "csv":
				w := csv.NewWriter(out)
				w.Write([]string{"id", "count", "status", "language", "first_at", "last_at", "text", "samples",
					"intent", "resolution", "resolved_by", "resolved_at"})
				for _, g := range page.Groups {
					w.Write([]string{strconv.FormatInt(g.ID, 10), strconv.Itoa(g.Count), g.Status, g.Language,
						uaISOTime(g.FirstAt), uaISOTime(g.LastAt), g.Text, strings.Join(g.Samples, " | "),
						g.Intent, g.Resolution, g.ResolvedBy, uaISOTime(g.ResolvedAt)})
				}
				w.Flush()
				return w.Error()
			}
			if len(page.Groups) == 0 {
				en, zh := "no unanswered questions", "没有未回答的问题"
				if status != learn.StatusAll {
					en, zh = fmt.Sprintf("no %s groups of unanswered questions", status), "没有"+uaStatusNames[status]+"的未回答问题"
				}
				if !from.IsZero() {
					en += " since " + uaLocalTime(from)
					zh = uaLocalTime(from) + " 以来" + zh
				}
				fmt.Fprintln(out, uaMsg(lang, en, zh))
				return nil
			}
			resolved := status != store.GroupOpen
			head := []string{uaMsg(lang, "ID", "编号"), uaMsg(lang, "COUNT", "次数"), uaMsg(lang, "STATUS", "状态"),
				uaMsg(lang, "FIRST ASKED", "首次"), uaMsg(lang, "LAST ASKED", "最近")}
			if resolved {
				head = append(head, uaMsg(lang, "INTENT", "意图"))
			}
			rows := [][]string{append(head, uaMsg(lang, "QUESTION (AND OTHER WORDINGS)", "问题(及其他说法)"))}
			for _, g := range page.Groups {
				row := []string{strconv.FormatInt(g.ID, 10), strconv.Itoa(g.Count), uaStatusText(g.Status, lang),
					uaLocalTime(g.FirstAt), uaLocalTime(g.LastAt)}
				if resolved {
					row = append(row, uaOrDash(g.Intent))
				}
				text := uaClip(g.Text, 60)
				for _, s := range g.Samples {
					text += " / " + uaClip(s, 40)
				}
				rows = append(rows, append(row, text))
			}
			uaTable(out, rows)
			if page.Total > len(page.Groups) {
				fmt.Fprintln(out, uaMsg(lang, fmt.Sprintf("%d of %d groups (--offset %d for the next page)", len(page.Groups), page.Total, offset+len(page.Groups)),
					fmt.Sprintf("共 %d 组,显示 %d 组(下一页用 --offset %d)", page.Total, len(page.Groups), offset+len(page.Groups))))
			}
			fmt.Fprintln(out, uaMsg(lang, "A group's questions: hotline unanswered show ID", "查看一组问题:hotline unanswered show 编号"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", store.GroupOpen, "open, assigned, ignored or all")
	f.StringVar(&since, "since", "", "only groups asked since: an age (7d, 12h) or a date (2026-11-01)")
	f.StringVar(&language, "language", "", "only questions in this language (e.g. zh-CN)")
	f.IntVar(&limit, "limit", 50, "groups to list, at most 1000")
	f.IntVar(&offset, "offset", 0, "skip this many groups (paging)")
	f.StringVar(&format, "format", "table", "output format: table, json or csv")
	return cmd
}

func uaOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newUnansweredShowCmd(o *unansweredOpts) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a group's questions: when, in which call and node, with their audio",
		Long: `Show prints a group of unanswered questions and each of its questions: when it
was asked, the call (its ID in the call records) and node, the intent that came closest
with its score, and the audio snippet of what the caller said, when recorded.`,
		Example: `  hotline unanswered show 12
  hotline unanswered show 12 --format json
  hotline unanswered show 12 --format csv > group-12.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := messageLanguage(o.lang)
			if err := uaCheckFormat(format, "table", "json", "csv"); err != nil {
				return err
			}
			id, err := uaGroupID(args[0])
			if err != nil {
				return err
			}
			ib, closeStore, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			d, err := ib.Show(cmd.Context(), id)
			if err != nil {
				return uaError(err, id, lang)
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				return uaWriteJSON(out, d)
			case "csv":
				w := csv.NewWriter(out)
				w.Write([]string{"group_id", "question_id", "at", "call_id", "node", "text", "language", "intent", "score", "audio"})
				for _, q := range d.Questions {
					w.Write([]string{strconv.FormatInt(q.GroupID, 10), strconv.FormatInt(q.ID, 10), uaISOTime(q.At), q.CallID,
						q.Node, q.Text, q.Language, q.Intent, strconv.FormatFloat(q.Score, 'f', 2, 64), q.AudioFile})
				}
				w.Flush()
				return w.Error()
			}
			g := d.Group
			fmt.Fprintf(out, uaMsg(lang, "Group %d: %q\n", "第 %d 组:%q\n"), g.ID, g.Text)
			fmt.Fprintf(out, uaMsg(lang, "  status %s, asked %d times, first %s, last %s, language %s\n",
				"  状态 %s,问过 %d 次,首次 %s,最近 %s,语言 %s\n"),
				uaStatusText(g.Status, lang), g.Count, uaLocalTime(g.FirstAt), uaLocalTime(g.LastAt), uaOrDash(g.Language))
			if g.Status != store.GroupOpen {
				fmt.Fprintf(out, uaMsg(lang, "  resolved by %s on %s: %s %s\n", "  由 %s 于 %s 处理:%s %s\n"),
					uaOrDash(g.ResolvedBy), uaLocalTime(g.ResolvedAt), g.Intent, g.Resolution)
			}
			fmt.Fprintln(out)
			rows := [][]string{{uaMsg(lang, "ASKED", "时间"), uaMsg(lang, "CALL", "通话"), uaMsg(lang, "NODE", "节点"),
				uaMsg(lang, "CLOSEST", "最接近"), uaMsg(lang, "AUDIO", "录音"), uaMsg(lang, "QUESTION", "问题")}}
			for _, q := range d.Questions {
				closest := "-"
				if q.Intent != "" {
					closest = fmt.Sprintf("%s %.2f", q.Intent, q.Score)
				}
				rows = append(rows, []string{uaLocalTime(q.At), uaOrDash(q.CallID), uaOrDash(q.Node), closest,
					uaOrDash(q.AudioFile), q.Text})
			}
			uaTable(out, rows)
			if g.Status == store.GroupOpen {
				fmt.Fprintln(out)
				fmt.Fprintf(out, uaMsg(lang, "Teach the bot: hotline unanswered assign %d --intent NAME, answer %d --name NAME --say TEXT, or ignore %d\n",
					"教机器人:hotline unanswered assign %d --intent 意图,answer %d --name 名称 --say 回答,或 ignore %d\n"), g.ID, g.ID, g.ID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, json or csv")
	return cmd
}

// teachingFlags adds --script and --by.
func uaTeachingFlags(cmd *cobra.Command, o *unansweredOpts, script bool) {
	if script {
		cmd.Flags().StringVar(&o.script, "script", "", "the script to teach, on disk (default: hotline serve's: script: in --config, or HOTLINE_SCRIPT)")
	}
	cmd.Flags().StringVar(&o.by, "by", "", "who resolves the group, for the record (default: your user name)")
}

// printResult prints what a resolution did.
func uaPrintResult(cmd *cobra.Command, res learn.Result, format, lang string) error {
	if format == "json" {
		return uaWriteJSON(cmd.OutOrStdout(), res)
	}
	fmt.Fprintln(cmd.OutOrStdout(), res.Message(lang))
	return nil
}

// teachable checks that the script to teach is a file on disk.
func (o *unansweredOpts) teachable(ib *learn.Inbox, lang string) error {
	if ib.ScriptPath == "" {
		return uaError(learn.ErrNoScript, 0, lang)
	}
	if fi, err := os.Stat(ib.ScriptPath); err != nil || fi.IsDir() {
		if err == nil {
			err = errors.New("a folder, not a script file")
		}
		return usageError("--script %s: %v", ib.ScriptPath, err)
	}
	return nil
}

func newUnansweredAssignCmd(o *unansweredOpts) *cobra.Command {
	var intent, as, phrase, format string
	cmd := &cobra.Command{
		Use:   "assign ID --intent NAME",
		Short: "Teach an intent with a group's question (an example or a keyword)",
		Long: `Assign teaches an existing intent with a group's question: by default the
question becomes an example sentence of the intent (--as example); --as keyword
makes a phrase of it a keyword (give the phrase with --phrase: keywords are
short). --phrase also corrects the question's wording, e.g. a recognition error.

The change goes into the script's learned file (script.learned.yaml beside
the script), written only if the whole script loads with it; otherwise the
errors are printed, nothing is written and the group stays open (exit 1). A
running hotline serve watches the learned file and reloads it by itself.`,
		Example: `  hotline unanswered assign 12 --intent opening_hours --script examples/en-utility/script.yaml
  hotline unanswered assign 12 --intent opening_hours --as keyword --phrase "shut" --config hotline.yaml
  hotline unanswered assign 7 --intent 营业时间 --phrase "你们几点关门" --lang zh`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := messageLanguage(o.lang)
			if err := uaCheckFormat(format, "text", "json"); err != nil {
				return err
			}
			id, err := uaGroupID(args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(intent) == "" {
				return usageError("%s", uaMsg(lang, "--intent is required: the intent to teach (see hotline lint or the script)",
					"需要 --intent:要教的意图"))
			}
			if as != "example" && as != "keyword" {
				return usageError("--as must be example or keyword")
			}
			ib, closeStore, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			if err := o.teachable(ib, lang); err != nil {
				return err
			}
			res, err := ib.Assign(cmd.Context(), id, learn.Assignment{Intent: intent, As: as, Phrase: phrase})
			if err != nil {
				return uaError(err, id, lang)
			}
			return uaPrintResult(cmd, res, format, lang)
		},
	}
	f := cmd.Flags()
	f.StringVar(&intent, "intent", "", "the intent the question means (required)")
	f.StringVar(&as, "as", "example", "example (the question as an example sentence) or keyword")
	f.StringVar(&phrase, "phrase", "", "the example or keyword to add (default: the group's question)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	uaTeachingFlags(cmd, o, true)
	return cmd
}

func newUnansweredAnswerCmd(o *unansweredOpts) *cobra.Command {
	var name, say, format string
	var keywords, examples []string
	cmd := &cobra.Command{
		Use:   "answer ID --name NAME --say TEXT",
		Short: "Make a group's question a new entry of the answer library",
		Long: `Answer adds a new entry to the answer library: a new intent named --name,
recognised by --keyword and --example (repeatable; with neither, the group's
question is its example), and what the bot says to it (--say, in the script's
language; {{variables}} work as in the script). After the answer the call goes
on as after any answer of the library (after_answer).

Like assign, it writes the script's learned file only if the whole script loads
with the new entry, and a running hotline serve reloads it by itself.`,
		Example: `  hotline unanswered answer 15 --name parking --say "There is free parking behind the building." \
      --keyword parking --keyword "car park" --example "where can I leave my car"
  hotline unanswered answer 9 --name 发票 --say "电子发票会在发货后发到您的邮箱。" --keyword 发票 --keyword 开票`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := messageLanguage(o.lang)
			if err := uaCheckFormat(format, "text", "json"); err != nil {
				return err
			}
			id, err := uaGroupID(args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(name) == "" || strings.TrimSpace(say) == "" {
				return usageError("%s", uaMsg(lang, "--name and --say are required: the new answer's name and what the bot says",
					"需要 --name 和 --say:新答案的名称和机器人说的话"))
			}
			ib, closeStore, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			if err := o.teachable(ib, lang); err != nil {
				return err
			}
			res, err := ib.NewAnswer(cmd.Context(), id, learn.Answer{Name: name, Say: say, Keywords: keywords, Examples: examples})
			if err != nil {
				return uaError(err, id, lang)
			}
			return uaPrintResult(cmd, res, format, lang)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name of the new intent and answer (required)")
	f.StringVar(&say, "say", "", "what the bot answers (required)")
	f.StringArrayVar(&keywords, "keyword", nil, "a keyword that recognises it (repeatable)")
	f.StringArrayVar(&examples, "example", nil, "an example question (repeatable; default: the group's question)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	uaTeachingFlags(cmd, o, true)
	return cmd
}

func newUnansweredIgnoreCmd(o *unansweredOpts) *cobra.Command {
	var reason, format string
	cmd := &cobra.Command{
		Use:   "ignore ID",
		Short: "Set a group aside: not a question for the bot",
		Long: `Ignore marks a group as not a question for the bot (noise, a wrong number, a
one-off), with a reason for the record. An ignored group may still be assigned
later; an assigned one cannot be ignored (edit the learned file instead).`,
		Example: `  hotline unanswered ignore 17 --reason "wrong number"
  hotline unanswered ignore 18 --reason 噪音 --lang zh`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := messageLanguage(o.lang)
			if err := uaCheckFormat(format, "text", "json"); err != nil {
				return err
			}
			id, err := uaGroupID(args[0])
			if err != nil {
				return err
			}
			ib, closeStore, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			res, err := ib.Ignore(cmd.Context(), id, reason)
			if err != nil {
				return uaError(err, id, lang)
			}
			return uaPrintResult(cmd, res, format, lang)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	uaTeachingFlags(cmd, o, false)
	return cmd
}
