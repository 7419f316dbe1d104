package media

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// run pushes the sequence numbers and returns the release order ("x" for a
// lost packet) and the push results.
func run(seqs ...uint16) (string, []pushResult) {
	var r reorder
	var out []string
	var res []pushResult
	rel := func(p []byte, _ time.Duration, lost int) {
		for range lost {
			out = append(out, "x")
		}
		out = append(out, string(p))
	}
	for _, s := range seqs {
		res = append(res, r.push(s, []byte(fmt.Sprint(s)), 0, rel))
	}
	r.flush(rel)
	return strings.Join(out, " "), res
}

func TestReorder(t *testing.T) {
	for _, c := range []struct {
		in   []uint16
		want string
	}{
		{[]uint16{1, 2, 3}, "1 2 3"},
		{[]uint16{1, 3, 2, 4}, "1 2 3 4"},
		{[]uint16{1, 5, 4, 3, 2, 6}, "1 2 3 4 5 6"},
		{[]uint16{1, 3, 4, 5, 6, 7}, "1 x 3 4 5 6 7"},     // 2 never comes: lost after 4 wait
		{[]uint16{1, 3, 4, 5, 6, 7, 2}, "1 x 3 4 5 6 7"},  // ...and is late when it does
		{[]uint16{1, 3, 4, 5, 6, 2, 7}, "1 2 3 4 5 6 7"},  // 4 waiting: still in time
		{[]uint16{1, 3}, "1 x 3"},                         // flush: the hole is lost
		{[]uint16{65534, 0, 65535, 1}, "65534 65535 0 1"}, // wrap-around
		{[]uint16{1, 2, 2, 3, 3}, "1 2 3"},
		{[]uint16{1, 3, 3, 2}, "1 2 3"},
		{[]uint16{10, 500, 501}, "10 500 501"},                                      // a restarted stream
		{[]uint16{10, 12, 40, 41}, "10 x 12" + strings.Repeat(" x", 27) + " 40 41"}, // a burst lost
		{[]uint16{100, 90, 101}, "100 101"},
	} {
		if got, _ := run(c.in...); got != c.want {
			t.Errorf("%v: got %q, want %q", c.in, got, c.want)
		}
	}
	_, res := run(1, 3, 2, 3, 4, 1, 0)
	want := []pushResult{pushInOrder, pushInOrder, pushReordered, pushLate, pushInOrder, pushLate, pushLate}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("results %v, want %v", res, want)
	}
	_, res = run(1, 3, 3)
	if res[2] != pushDuplicate {
		t.Errorf("duplicate of a waiting packet: %v", res[2])
	}
}

func TestSampleQueue(t *testing.T) {
	q := newSampleQueue(10)
	q.push([]int16{1, 2, 3}, 10)
	q.push([]int16{4, 5}, 20)
	if q.readyBy(5) != 0 || q.readyBy(10) != 3 || q.readyBy(30) != 5 {
		t.Fatal("readyBy")
	}
	dst := make([]int16, 4)
	q.pop(dst, 15)
	if fmt.Sprint(dst) != "[1 2 3 0]" {
		t.Fatalf("pop by 15: %v", dst)
	}
	if d := q.push([]int16{6, 7, 8, 9, 10, 11, 12, 13, 14}, 30); d != 1 {
		t.Fatalf("overflow dropped %d", d)
	}
	q.pop(dst, 30)
	if fmt.Sprint(dst) != "[5 6 7 8]" {
		t.Fatalf("after overflow: %v", dst)
	}
	q.discard(100)
	if q.readyBy(100) != 0 {
		t.Fatal("discard")
	}
	// Many small chunks: the chunk ring merges, nothing is lost.
	for i := range 100 {
		q.push([]int16{int16(i)}, time.Duration(i))
	}
	if q.readyBy(1000) != 10 {
		t.Fatalf("after 100 chunks: %d", q.readyBy(1000))
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := range 1000 {
		h.add(time.Duration(i) * time.Microsecond) // 0-999 µs
	}
	h.add(-3 * time.Millisecond)
	h.add(5 * time.Second)
	if q := h.quantile(0.5); q < 490*time.Microsecond || q > 510*time.Microsecond {
		t.Errorf("p50 %v", q)
	}
	if q := h.quantile(0.99); q < 980*time.Microsecond || q > 1000*time.Microsecond {
		t.Errorf("p99 %v", q)
	}
	if q := h.quantile(1); q != time.Hour {
		t.Errorf("max bucket %v", q)
	}
	for _, d := range []time.Duration{3 * time.Millisecond, 50 * time.Millisecond} {
		var h histogram
		h.add(d)
		if q := h.quantile(0.5); q < d || q > d+d/10 {
			t.Errorf("%v lands in bucket up to %v", d, q)
		}
	}
}

func TestReorderSkipsEventNumbers(t *testing.T) {
	var r reorder
	var got []byte
	lostTotal := 0
	rel := func(p []byte, _ time.Duration, lost int) { got = append(got, p[0]); lostTotal += lost }
	r.push(1, []byte{1}, 0, rel)
	r.push(2, []byte{2}, 0, rel)
	r.skip(3, 0, rel) // an event packet in the audio stream
	r.skip(4, 0, rel)
	r.push(5, []byte{5}, 0, rel)
	r.push(7, []byte{7}, 0, rel) // 6 is an event that arrives late
	r.skip(6, 0, rel)
	r.push(8, []byte{8}, 0, rel)
	if string(got) != "\x01\x02\x05\x07\x08" || lostTotal != 0 {
		t.Errorf("released %v with %d lost; want 1 2 5 7 8 and nothing lost", got, lostTotal)
	}
}
