// Command understanding measures how well hotline's matcher routes callers'
// questions: BANKING77, CLINC150 (with out-of-scope queries) and SMP2017-ECDT
// (Chinese, also with simulated recognition errors), each training split
// taught to a script as examples and each test split scored through the
// product's matcher ((*dialog.Script).Matcher().Match).
//
//	go run ./bench/understanding [-datasets ../shared/datasets] [-only banking77,clinc150,smp2017,smp2017-asr] [-limit N]
//
// The datasets are not part of the repository; one that is absent is skipped
// with a message. A full run (no -only, no -limit) rewrites its block of
// bench/results/understanding.md; bench/understanding/baseline.py writes the
// scikit-learn baseline's block of the same file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

var allDatasets = []string{"banking77", "clinc150", "smp2017", "smp2017-asr"}

func main() {
	datasets := flag.String("datasets", "../shared/datasets", "folder holding banking77/, clinc150/ and smp2017_ecdt_task1/")
	only := flag.String("only", "", "comma-separated subset of "+strings.Join(allDatasets, ","))
	limit := flag.Int("limit", 0, "score at most N utterances per evaluation split (0: all)")
	out := flag.String("out", "bench/results/understanding.md", "results file to update after a full run (\"\": none)")
	dumpASR := flag.String("dump-asr", "", "also write the noisy SMP2017 test split here (text<TAB>label) for baseline.py; keep it outside the repository")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench/understanding [flags]\n\nexample: go run ./bench/understanding -only banking77 -limit 500\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	for n := range want {
		if !contains(allDatasets, n) {
			fmt.Fprintf(os.Stderr, "unknown dataset %q (have %s)\n", n, strings.Join(allDatasets, ", "))
			os.Exit(2)
		}
	}
	cfg := Config{Datasets: *datasets, Limit: *limit, Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
	var reps []Report
	ran := 0
	for _, name := range allDatasets {
		if len(want) > 0 && !want[name] {
			continue
		}
		rep, err := cfg.runDataset(name, *dumpASR)
		if errors.Is(err, errMissing) {
			fmt.Fprintf(os.Stderr, "skipping %s: %v\n", name, err)
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		ran++
		reps = append(reps, rep)
	}
	table := tableHeader
	var notes []string
	for _, r := range reps {
		for _, row := range r.Rows {
			table += row.markdown()
		}
		notes = append(notes, r.Notes...)
	}
	fmt.Print(table)
	for _, n := range notes {
		fmt.Println("- " + n)
	}
	if *out == "" || len(want) > 0 || *limit > 0 || ran < len(allDatasets) {
		if *out != "" {
			fmt.Fprintf(os.Stderr, "not writing %s: only a full run with every dataset present does\n", *out)
		}
		return
	}
	block := fmt.Sprintf("Measured %s on %s.\n\n```sh\nnice -n 19 env GOMAXPROCS=1 go run ./bench/understanding\n```\n\n%s\n",
		time.Now().Format("2006-01-02 15:04 MST"), machine(), table)
	for _, n := range notes {
		block += "- " + n + "\n"
	}
	if err := writeBlock(*out, "hotline", block); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runDataset runs one benchmark.
func (c Config) runDataset(name, dumpASR string) (Report, error) {
	var d *Dataset
	var err error
	switch name {
	case "banking77":
		d, err = loadBanking77(c.Datasets)
	case "clinc150":
		d, err = loadCLINC150(c.Datasets)
	default:
		d, err = loadSMP2017(c.Datasets)
	}
	if err != nil {
		return Report{}, err
	}
	d.keepLabels(c.Labels)
	switch name {
	case "clinc150":
		return c.runOOS(d)
	case "smp2017-asr":
		rep, noisy, err := c.runASR(d)
		if err == nil && dumpASR != "" {
			var b strings.Builder
			for _, u := range noisy {
				fmt.Fprintf(&b, "%s\t%s\n", u.Text, u.Label)
			}
			err = os.WriteFile(dumpASR, []byte(b.String()), 0o644)
		}
		return rep, err
	}
	return c.runClosed(d)
}
