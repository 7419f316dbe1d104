package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "hotline",
		Short: "An inbound voice bot for customer-service hotlines",
		Long: `hotline answers the phone for a customer-service hotline: it runs a script
written by the hotline's staff, answers routine questions, and hands the caller
to a person when asked or when it cannot help.

Try a script without a phone:
  hotline chat examples/en-utility/script.yaml
  hotline test examples/...
  hotline lint examples/zh-shop/script.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd(), newChatCmd(), newTestCmd(), newLintCmd(), newGraphCmd(), newServeCmd(), newCallCmd())
	for _, c := range moreCommands {
		root.AddCommand(c())
	}
	return root
}

// moreCommands are the commands that files of their own add in init (the
// records and the unanswered inbox), so each is one file with its tests.
var moreCommands []func() *cobra.Command
