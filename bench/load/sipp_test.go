package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSippStat(t *testing.T) {
	f, err := os.Open("testdata/sipp_stat.csv") // SIPp 3.6.1's columns, the last row edited
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := parseSippStat(f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Created != 120 || st.Successful != 110 || st.Failed != 10 || st.Retransmissions != 5 {
		t.Errorf("%+v", st)
	}
	if len(st.FailedBy) != 2 || st.FailedBy["TimeoutOnRecv"] != 7 || st.FailedBy["UnexpectedMessage"] != 3 {
		t.Errorf("failed by %v", st.FailedBy)
	}
	if _, err := parseSippStat(strings.NewReader("StartTime;SuccessfulCall(C)\n")); err == nil {
		t.Error("no data row accepted")
	}
}

func TestParseRTT(t *testing.T) {
	rtt, err := parseRTT(strings.NewReader("Date_ms;response_time_ms;rtd_no\n1004;0;1\n2004;3;1\n3004;12.5;1\n\n"))
	if err != nil || len(rtt) != 3 || rtt[2] != 12.5 {
		t.Fatalf("%v %v", rtt, err)
	}
}

func TestSippErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "e.log")
	os.WriteFile(p, []byte("2026-11-27\t08:33:25.700356\t1795768405.700356: Aborting call on unexpected message for Call-Id '1-2@127.0.0.1': while expecting 'BYE' (index 5), received 'SIP/2.0 503'\n"+
		"2026-11-27\t08:33:26.700356\t1795768406.700356: Aborting call on unexpected message for Call-Id '7-2@127.0.0.1': while expecting 'BYE' (index 5), received 'SIP/2.0 503'\n"), 0o644)
	n, top := sippErrors(p)
	if n != 2 || len(top) != 1 || !strings.HasPrefix(top[0], "2× Aborting call") || strings.Contains(top[0], "7-2@") {
		t.Errorf("%d %q", n, top)
	}
}

func TestParseProcStat(t *testing.T) {
	line := "4242 (hot line) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 12 0 100 0 0\n"
	u, s, err := parseProcStat([]byte(line))
	if err != nil || u != 250/clockTicks || s != 130/clockTicks {
		t.Errorf("%v %v %v", u, s, err)
	}
}

func TestHeadCommit(t *testing.T) {
	root := t.TempDir()
	git := filepath.Join(root, ".git")
	os.MkdirAll(filepath.Join(git, "refs", "heads"), 0o755)
	os.WriteFile(filepath.Join(git, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(git, "packed-refs"), []byte("# pack-refs with: peeled\nabcdef0123456789abcdef0123456789abcdef01 refs/heads/main\n"), 0o644)
	if got := headCommit(root); got != "abcdef0123456789abcdef0123456789abcdef01" {
		t.Errorf("packed: %q", got)
	}
	os.WriteFile(filepath.Join(git, "refs", "heads", "main"), []byte("1111111111111111111111111111111111111111\n"), 0o644)
	if got := headCommit(root); got != "1111111111111111111111111111111111111111" {
		t.Errorf("loose: %q", got)
	}
	if got := commitOf(root, filepath.Join(root, "no-such-binary")); got != "111111111111 (from .git/HEAD; uncommitted changes not checked)" {
		t.Errorf("commitOf: %q", got)
	}
}

func TestDumpcapStats(t *testing.T) {
	m := dumpcapStats.FindStringSubmatch("Capturing on 'Loopback: lo'\nFile: /tmp/x.pcap\nPackets captured: 165833\n" +
		"Packets received/dropped on interface 'Loopback: lo': 165833/12 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)\n")
	if m == nil || m[1] != "165833" || m[2] != "12" {
		t.Errorf("%q", m)
	}
}
