//go:build !linux

// Command pacerbench needs Linux (kernel receive timestamps, rusage).
package main

import "fmt"

func main() { fmt.Println("pacerbench runs on Linux only") }
