package main

import (
	"os"
	"strings"
)

// messageLanguage picks the language of messages about scripts: the --lang
// flag, else HOTLINE_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG).
func messageLanguage(flag string) string {
	if flag != "" {
		return flag
	}
	for _, env := range []string{"HOTLINE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(env); v != "" && v != "C" && v != "POSIX" {
			return strings.ToLower(v)
		}
	}
	return "en"
}

// isTerminal reports whether f is an interactive terminal.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
