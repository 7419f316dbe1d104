// Command hotline is an inbound voice bot for customer-service hotlines.
//
// Run `hotline --help` for the commands; docs/ has the script reference.
package main

import (
	"errors"
	"fmt"
	"os"
	_ "time/tzdata" // business hours work on hosts without a zoneinfo database
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "hotline:", err)
		// Cobra's own errors are about flags and arguments: usage errors.
		os.Exit(2)
	}
}

// exitError carries an exit code out of a command: 1 when the thing checked
// failed (a test, a lint), 2 for usage errors.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func failed(format string, args ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, args...)}
}

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: "hotline: " + fmt.Sprintf(format, args...)}
}
