package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// sippStats is the last row of SIPp's -trace_stat file: the cumulative
// counts of the run.
type sippStats struct {
	Created         int            `json:"created"`
	Successful      int            `json:"successful"`
	Failed          int            `json:"failed"`
	FailedBy        map[string]int `json:"failed_by,omitempty"` // the non-zero Failed*(C) columns
	Retransmissions int            `json:"retransmissions"`
	DeadCallMsgs    int            `json:"dead_call_msgs"`
	Warnings        int            `json:"warnings"`
	FatalErrors     int            `json:"fatal_errors"`
}

// parseSippStat reads a SIPp statistics file (';'-separated, a header row,
// one row per dump; the last row is cumulative at the end of the run).
func parseSippStat(r io.Reader) (sippStats, error) {
	var st sippStats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var header, last []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ";")
		if header == nil {
			header = f
			continue
		}
		last = f
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	if header == nil || last == nil {
		return st, errors.New("SIPp statistics: no data row")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	get := func(name string) (int, bool) {
		i, ok := col[name]
		if !ok || i >= len(last) {
			return 0, false
		}
		v, err := strconv.Atoi(strings.TrimSpace(last[i]))
		return v, err == nil
	}
	var ok bool
	if st.Successful, ok = get("SuccessfulCall(C)"); !ok {
		return st, errors.New("SIPp statistics: no SuccessfulCall(C) column")
	}
	if st.Failed, ok = get("FailedCall(C)"); !ok {
		return st, errors.New("SIPp statistics: no FailedCall(C) column")
	}
	if st.Created, ok = get("TotalCallCreated"); !ok {
		st.Created, _ = get("OutgoingCall(C)")
	}
	st.Retransmissions, _ = get("Retransmissions(C)")
	st.DeadCallMsgs, _ = get("DeadCallMsgs(C)")
	st.Warnings, _ = get("Warnings(C)")
	st.FatalErrors, _ = get("FatalErrors(C)")
	for name := range col {
		if strings.HasPrefix(name, "Failed") && strings.HasSuffix(name, "(C)") && name != "FailedCall(C)" {
			if v, ok := get(name); ok && v != 0 {
				if st.FailedBy == nil {
					st.FailedBy = map[string]int{}
				}
				st.FailedBy[strings.TrimSuffix(strings.TrimPrefix(name, "Failed"), "(C)")] = v
			}
		}
	}
	return st, nil
}

// parseRTT reads SIPp's -trace_rtt file ("Date_ms;response_time_ms;rtd_no",
// one row per call with -rtt_freq 1) and returns the response times in ms.
func parseRTT(r io.Reader) ([]float64, error) {
	var out []float64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ";")
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err != nil {
			continue // the header
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// sippErrors returns how many lines SIPp's error file has and its most
// frequent messages (call IDs and times cut), for the JSON.
func sippErrors(path string) (int, []string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	count := map[string]int{}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n++
		// "2026-11-27\t08:33:25.700356\t1795768405.700356: Aborting call on …"
		if i := strings.Index(line, ": "); i >= 0 && i < 60 {
			line = line[i+2:]
		}
		if i := strings.Index(line, "Call-Id '"); i >= 0 {
			if j := strings.Index(line[i+9:], "'"); j >= 0 {
				line = line[:i+9] + "…" + line[i+9+j:]
			}
		}
		if len(line) > 200 {
			line = line[:200]
		}
		count[line]++
	}
	msgs := make([]string, 0, len(count))
	for m := range count {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool {
		if count[msgs[i]] != count[msgs[j]] {
			return count[msgs[i]] > count[msgs[j]]
		}
		return msgs[i] < msgs[j]
	})
	var top []string
	for _, m := range msgs[:min(len(msgs), 5)] {
		top = append(top, fmt.Sprintf("%d× %s", count[m], m))
	}
	return n, top
}

// findRTT returns the rtt file SIPp (pid) wrote in dir.
func findRTT(dir string, pid int) string {
	m, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("*_%d_rtt.csv", pid)))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}
