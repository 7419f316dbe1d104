package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine describes this computer in one line.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	kernel := ""
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = ", " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s (%d cores%s%s), %s %s/%s, GOMAXPROCS=%d", cpu, runtime.NumCPU(), mem, kernel,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
}

// writeBlock replaces the text between <!-- begin NAME --> and
// <!-- end NAME --> in the results file.
func writeBlock(path, name, block string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin, end := []byte("<!-- begin "+name+" -->\n"), []byte("<!-- end "+name+" -->")
	i, j := bytes.Index(data, begin), bytes.Index(data, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q … %q block", path, begin, end)
	}
	var b bytes.Buffer
	b.Write(data[:i+len(begin)])
	b.WriteString(block)
	b.Write(data[j:])
	return os.WriteFile(path, b.Bytes(), 0o644)
}
