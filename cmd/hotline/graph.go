package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/dialog/graph"
)

func newGraphCmd() *cobra.Command {
	var format, output, lang string
	cmd := &cobra.Command{
		Use:   "graph SCRIPT",
		Short: "Draw the call flow as Mermaid, Graphviz DOT or SVG",
		Long: `Graph draws a script's call flow: its nodes (shaped by what they do), the
routes between them (labelled with intents and keys), the global intents and
the answer library (drawn once, from "any node" and "answers"), failures,
escalations and the after-hours start.

Formats: mermaid (paste into Markdown that renders Mermaid), dot (for
Graphviz), svg (a self-contained picture). Without --format, the extension of
--output decides, else mermaid.`,
		Example: `  hotline graph examples/zh-shop/script.yaml
  hotline graph -o flow.svg examples/en-utility/script.yaml
  hotline graph --format dot examples/zh-shop/script.yaml | dot -Tpng > flow.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				switch strings.ToLower(filepath.Ext(output)) {
				case ".svg":
					format = "svg"
				case ".dot", ".gv":
					format = "dot"
				default:
					format = "mermaid"
				}
			}
			if format != "mermaid" && format != "dot" && format != "svg" {
				return usageError("--format must be mermaid, dot or svg")
			}
			s, err := dialog.LoadFile(args[0])
			if err != nil {
				return failed("%s", formatErr(err, messageLanguage(lang)))
			}
			g := graph.Build(s)
			var out []byte
			switch format {
			case "mermaid":
				out = []byte(g.Mermaid())
			case "dot":
				out = []byte(g.DOT())
			case "svg":
				if out, err = g.SVG(cmd.Context()); err != nil {
					return failed("hotline graph: %v", err)
				}
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			if err := os.WriteFile(output, out, 0o644); err != nil {
				return failed("hotline graph: %v", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d nodes, %d edges)\n", output, len(g.Nodes), len(g.Edges))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "mermaid, dot or svg")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&lang, "lang", "", "language of messages about scripts: en or zh")
	return cmd
}
