package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func newVersionCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of hotline",
		Example: `  hotline version
  hotline version --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rev, modified := vcsRevision()
			switch format {
			case "json":
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{
					"version": version, "revision": rev + modified, "go": runtime.Version(),
					"os": runtime.GOOS, "arch": runtime.GOARCH,
				})
			case "text":
			default:
				return usageError("--format must be text or json")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "hotline %s (%s%s, %s %s/%s)\n",
				version, rev, modified, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func vcsRevision() (rev, modified string) {
	rev = "unknown revision"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return rev, ""
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if len(s.Value) > 12 {
				rev = s.Value[:12]
			} else {
				rev = s.Value
			}
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	return rev, modified
}
