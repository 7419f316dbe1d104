package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleResults() *Results {
	lvl := func(n, attempted, failed int, cpu float64) Level {
		return Level{Concurrent: n, Attempted: attempted, Successful: attempted - failed, Failed: failed,
			Invite: Dist{N: attempted, P50: 1, P99: 4, Max: 9},
			Window: Window{Reached: failed == 0, Seconds: 60, CPU: cpu * 0.6, Sys: cpu * 0.2, CPUPct: cpu,
				MsPerCallSecond: cpu * 10 / float64(n), SIPpCPUPct: 25, CallSeconds: float64(60 * n), MeanActive: float64(n)},
			Before:  Snapshot{Goroutines: 20, FDs: 21, RSSKB: 40_000},
			Peak:    Snapshot{Goroutines: 20 + 2*n, FDs: 21 + 2*n, RSSKB: 40_000 + 80*n, Active: n},
			After:   Snapshot{Goroutines: 20, FDs: 21, RSSKB: 41_000},
			RSSMean: float64(40_000 + 70*n), PerCall: 70,
			Capture: capture{Pacing: Pacing{Gaps: 1000, DevP99: 0.4, DevMax: 3.1, Within2Pct: 99.9},
				DTMF: Dist{N: n / 8, P50: 21, P99: 38, Max: 40}},
		}
	}
	full := VariantResult{Name: "full", Description: "recording on, talk time on",
		Levels: []Level{lvl(100, 610, 0, 12), lvl(200, 1220, 0, 22), lvl(300, 1830, 12, 35)}}
	full.Levels[2].SIPp.FailedBy = map[string]int{"TimeoutOnRecv": 12}
	full.Levels[2].After.Goroutines = 23
	bare := VariantResult{Name: "bare", Description: "recording off, talk time off", Levels: []Level{lvl(100, 610, 0, 8)}}
	return &Results{Date: "2026-11-27T09:00:00Z", Complete: true,
		Machine: Machine{CPU: "AMD EPYC <test>", Cores: 2, MemGiB: 23.5, Kernel: "Linux 6.1.0"},
		Commit:  "0123456789ab", Go: "go1.26.8", SIPp: "v3.6.1", Command: "sudo go run ./bench/load",
		Config:   Config{Levels: []int{100, 200, 300}, HoldS: 60, RampS: 15, CallSeconds: 12.3, Sample: 8, StopAfterFail: 1},
		Variants: []VariantResult{full, bare}}
}

func TestMarkdown(t *testing.T) {
	md := markdown(sampleResults())
	for _, want := range []string{
		"# Load: hotline under SIPp callers, 100 to 300 concurrent calls",
		"AMD EPYC <test>, 2 cores", "```sh\nsudo go run ./bench/load\n```", "(load.svg)",
		"| concurrent calls | attempted | failed | hotline CPU (% of one core) |",
		"| 100 | 610 | **0** | 12.0 (33 % sys) | 1.20 | 25 | 45.9 (70) | 20 / 220 / 20 | 21 / 221 / 21 | 1 / 4 | 21 / 38 (n=12) | 0.40 / 3.10, 99.90 |",
		"| 300 † | 1830 | 12 (0.7 %) |", "20 / 620 / 23 ⚠",
		"Largest level with no failed call: **200**", "300 calls: SIPp failures: TimeoutOnRecv 12.",
		"| 275 | 12.7 % | 117 | 57 |", "| ≥ 500 concurrent calls, 0 failed | up to 200 ✗ | up to 100 ✗ |",
		"| ≤ 1.5 ms CPU per call-second | 1.10 (at 200) ✓ | 0.80 (at 100) ✓ |",
		"not at 300: 20→23 goroutines", "[load-100.md](load-100.md)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestChartIsXML(t *testing.T) {
	svg := chart(sampleResults())
	d := xml.NewDecoder(strings.NewReader(svg))
	polylines, texts := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				polylines++
			case "text":
				texts++
			}
		}
	}
	if polylines != 6 { // CPU and failed for full, bare and Asterisk
		t.Errorf("%d polylines", polylines)
	}
	if !strings.Contains(svg, "2026-11-27") || !strings.Contains(svg, "Asterisk 20") || !strings.Contains(svg, `width="720"`) {
		t.Error("title, legend or size missing")
	}
}

func TestWriteResults(t *testing.T) {
	dir := t.TempDir()
	if err := writeResults(dir, sampleResults()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "load.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil || len(r.Variants) != 2 || r.Variants[0].Levels[1].Attempted != 1220 {
		t.Errorf("load.json: %v", err)
	}
	for _, f := range []string{"load.md", "load.svg"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !bytes.Contains(b, []byte("Asterisk")) {
			t.Errorf("%s: %v", f, err)
		}
	}
}
