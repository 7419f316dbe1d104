// Command rtpgaps measures RTP pacing as a receiver sees it: it reads
// "epoch_seconds,src_port,ssrc" lines (tshark -T fields) for the packets one
// side sent, groups them into streams (a port is reused by later calls, an
// SSRC is not), and prints the distribution of the gaps between consecutive
// packets of each stream.
//
//	tshark -r cap.pcap -o rtp.heuristic_rtp:TRUE -T fields -E separator=, \
//	  -e frame.time_epoch -e udp.srcport -e rtp.ssrc | rtpgaps
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	ptime := flag.Float64("ptime", 20, "the expected gap, ms")
	flag.Parse()
	last := map[string]float64{}
	var gaps []float64
	packets, undecoded := 0, 0
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(f) < 3 || f[2] == "" {
			undecoded++ // tshark's RTP heuristic did not recognise it: no stream to put it in
			continue
		}
		t, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		key := f[1] + ">" + f[2]
		packets++
		if prev, ok := last[key]; ok {
			gaps = append(gaps, (t-prev)*1000)
		}
		last[key] = t
	}
	if len(gaps) == 0 {
		fmt.Println("no packets")
		os.Exit(1)
	}
	sort.Float64s(gaps)
	dev := make([]float64, len(gaps))
	within1, within2 := 0, 0
	for i, g := range gaps {
		dev[i] = math.Abs(g - *ptime)
		if dev[i] <= 1 {
			within1++
		}
		if dev[i] <= 2 {
			within2++
		}
	}
	sort.Float64s(dev)
	q := func(s []float64, p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	fmt.Printf("streams %d, packets %d, gaps %d (%d packets not decoded as RTP, left out)\n", len(last), packets, len(gaps), undecoded)
	fmt.Printf("gap ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  min %.2f\n",
		q(gaps, .5), q(gaps, .9), q(gaps, .99), q(gaps, .999), gaps[len(gaps)-1], gaps[0])
	fmt.Printf("|gap-%.0f| ms: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f; within 1 ms %.2f%%, within 2 ms %.2f%%\n",
		*ptime, q(dev, .5), q(dev, .99), q(dev, .999), dev[len(dev)-1],
		100*float64(within1)/float64(len(dev)), 100*float64(within2)/float64(len(dev)))
}
