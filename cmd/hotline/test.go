package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotline-dev/hotline/dialog"
)

func newTestCmd() *cobra.Command {
	var run, format, lang string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test PATH...",
		Short: "Run conversation tests against their scripts, without a phone",
		Long: `Test runs conversation test files: caller turns (speech, keys, silence,
hang-up, transfer and recording results) with expectations on what the bot
says and does, where the call goes, its tags and variables. A folder, or a
Go-style "dir/..." pattern, is searched for test files (YAML files with a
top-level tests: or phrasings: key). Each file tests the script named by its
script: key, or script.yaml beside it or in its parent folder.

See docs/testing.md for the file format. Exit status: 0 when every test
passes, 1 when one fails, 2 for usage errors.`,
		Example: `  hotline test examples/...
  hotline test examples/zh-shop/tests/orders.yaml --run 订单 -v
  hotline test --format json examples/... > results.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageError("--format must be text or json")
			}
			var filter *regexp.Regexp
			if run != "" {
				var err error
				if filter, err = regexp.Compile(run); err != nil {
					return usageError("--run: %v", err)
				}
			}
			lang = messageLanguage(lang)
			files, err := dialog.FindSuites(args)
			if err != nil {
				return usageError("%v", err)
			}
			if len(files) == 0 {
				return failed("hotline test: no test files in %s", strings.Join(args, " "))
			}
			return runTests(cmd.OutOrStdout(), files, filter, format, lang, verbose)
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run only tests whose name matches this regular expression")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every test and its transcript")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&lang, "lang", "", "language of messages about scripts: en or zh")
	return cmd
}

type testJSON struct {
	File       string   `json:"file"`
	Name       string   `json:"name"`
	Position   string   `json:"position"`
	Passed     bool     `json:"passed"`
	Checks     int      `json:"phrasings_checked,omitempty"`
	Failures   []string `json:"failures,omitempty"`
	Transcript []string `json:"transcript,omitempty"`
}

func runTests(out io.Writer, files []string, filter *regexp.Regexp, format, lang string, verbose bool) error {
	scripts := map[string]*dialog.Script{}
	scriptErr := map[string]error{}
	var results []testJSON
	passed, failedN, checks := 0, 0, 0
	for _, f := range files {
		su, err := dialog.LoadSuite(f)
		if err != nil {
			failedN++
			results = append(results, testJSON{File: f, Name: "(load)", Failures: []string{formatErr(err, lang)}})
			continue
		}
		s, ok := scripts[su.Script]
		if !ok && scriptErr[su.Script] == nil {
			s, err = dialog.LoadFile(su.Script)
			if err != nil {
				scriptErr[su.Script] = err
			} else {
				scripts[su.Script] = s
			}
		}
		if err := scriptErr[su.Script]; err != nil {
			failedN++
			results = append(results, testJSON{File: f, Name: "(script " + su.Script + ")", Failures: []string{formatErr(err, lang)}})
			continue
		}
		if filter != nil {
			kept := su.Tests[:0]
			for _, t := range su.Tests {
				if filter.MatchString(t.Name) {
					kept = append(kept, t)
				}
			}
			su.Tests = kept
			if !filter.MatchString("phrasings") {
				su.Phrasings = nil
			}
		}
		fileFailed := 0
		for _, r := range su.Run(s) {
			checks += r.Checks
			results = append(results, testJSON{File: f, Name: r.Name, Position: r.Pos.String(), Passed: r.Passed(), Checks: r.Checks, Failures: r.Failures, Transcript: r.Transcript})
			if r.Passed() {
				passed++
			} else {
				failedN++
				fileFailed++
			}
		}
		if format == "text" {
			printFile(out, f, results, fileFailed, verbose)
		}
	}
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if strings.HasPrefix(r.Name, "(") {
				fmt.Fprintf(out, "FAIL %s %s\n%s\n", r.File, r.Name, r.Failures[0])
			}
		}
		status := "PASS"
		if failedN > 0 {
			status = "FAIL"
		}
		fmt.Fprintf(out, "%s: %d passed, %d failed (%d files, %d phrasings checked)\n", status, passed, failedN, len(files), checks)
	}
	if failedN > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// printFile prints the results of one file: failures in full, passes as one line.
func printFile(out io.Writer, file string, results []testJSON, fileFailed int, verbose bool) {
	n := 0
	for i := len(results) - 1; i >= 0 && results[i].File == file; i-- {
		n++
	}
	mine := results[len(results)-n:]
	for _, r := range mine {
		if strings.HasPrefix(r.Name, "(") {
			return
		}
		if r.Passed && !verbose {
			continue
		}
		status := "--- PASS"
		if !r.Passed {
			status = "--- FAIL"
		}
		fmt.Fprintf(out, "%s: %s (%s)\n", status, r.Name, r.Position)
		for _, f := range r.Failures {
			fmt.Fprintln(out, indentLines(f, "    "))
		}
		if !r.Passed || verbose {
			if len(r.Transcript) > 0 {
				fmt.Fprintln(out, "    transcript:")
				for _, line := range r.Transcript {
					fmt.Fprintln(out, "      "+line)
				}
			}
		}
	}
	if fileFailed > 0 {
		fmt.Fprintf(out, "FAIL %s: %d of %d failed\n", file, fileFailed, len(mine))
	} else {
		fmt.Fprintf(out, "ok   %s: %d passed\n", file, len(mine))
	}
}

func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func formatErr(err error, lang string) string {
	var le *dialog.LoadError
	if errors.As(err, &le) {
		return le.Format(lang)
	}
	return err.Error()
}
