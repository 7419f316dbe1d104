package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hotline-dev/hotline/dialog"
)

func newLintCmd() *cobra.Command {
	var format, lang string
	var strict bool
	cmd := &cobra.Command{
		Use:   "lint SCRIPT...",
		Short: "Check scripts: every load error with file:line:column, and warnings",
		Long: `Lint loads each script (with its included files) and lists every error that
would stop it from loading, then warnings about things that load but are
probably mistakes: unreachable nodes, dead ends, a keyword in two intents,
intents never used, {{variables}} never set, missing audio files, no way to
reach a person.

Exit status: 0 when no script has errors (warnings allowed unless --strict),
1 when one has, 2 for usage errors.`,
		Example: `  hotline lint examples/zh-shop/script.yaml
  hotline lint --lang zh --strict examples/*/script.yaml
  hotline lint --format json script.yaml | jq '.[] | select(.severity=="error")'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageError("--format must be text or json")
			}
			lang = messageLanguage(lang)
			out := cmd.OutOrStdout()
			type jsonDiag struct {
				File     string `json:"file"`
				Line     int    `json:"line"`
				Column   int    `json:"column"`
				Severity string `json:"severity"`
				Code     string `json:"code"`
				Message  string `json:"message"`
			}
			var all []jsonDiag
			bad := false
			for _, path := range args {
				var diags dialog.Diags
				s, err := dialog.LoadFile(path)
				var le *dialog.LoadError
				switch {
				case errors.As(err, &le):
					diags = le.Diags
				case err != nil:
					return failed("hotline lint: %v", err)
				default:
					diags = dialog.Lint(s)
				}
				if diags.HasErrors() || (strict && len(diags) > 0) {
					bad = true
				}
				for _, d := range diags {
					if format == "json" {
						all = append(all, jsonDiag{d.Pos.File, d.Pos.Line, d.Pos.Col, d.Severity.String(), d.Code, d.Message(lang)})
					} else {
						fmt.Fprintln(out, d.Format(lang))
					}
				}
				if format == "text" {
					fmt.Fprintln(out, lintSummary(path, diags, lang))
				}
			}
			if format == "json" {
				if all == nil {
					all = []jsonDiag{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(all); err != nil {
					return err
				}
			}
			if bad {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&lang, "lang", "", "language of messages: en or zh (default from HOTLINE_LANG or the locale)")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as failures")
	return cmd
}

func lintSummary(path string, diags dialog.Diags, lang string) string {
	e, w := len(diags.Errors()), len(diags.Warnings())
	if lang != "" && (lang[0] == 'z') {
		if e+w == 0 {
			return fmt.Sprintf("%s: 没有问题", path)
		}
		return fmt.Sprintf("%s: %d 个错误,%d 个警告", path, e, w)
	}
	if e+w == 0 {
		return fmt.Sprintf("%s: ok", path)
	}
	return fmt.Sprintf("%s: %d error(s), %d warning(s)", path, e, w)
}
