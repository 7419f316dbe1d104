//go:build !pocketsphinx

// Command asr measures the pocketsphinx recogniser; it needs the build tag
// pocketsphinx (see main.go).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "asr: built without pocketsphinx: go run -tags pocketsphinx ./bench/asr")
	os.Exit(2)
}
