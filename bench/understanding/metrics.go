package main

import (
	"fmt"
	"sort"
	"time"
)

// Scores are the quality figures of one run. Predictions of "" are "no
// match" (the bot's "I don't know").
type Scores struct {
	N           int     // utterances scored
	Accuracy    float64 // in-scope utterances given their own label
	MacroF1     float64 // mean F1 over the in-scope labels
	OOS         bool    // the split has out-of-scope utterances
	OOSRecall   float64 // out-of-scope utterances answered with no match
	OOSPrec     float64 // no-match answers that were out of scope
	FalseReject float64 // in-scope utterances answered with no match
	NoMatch     float64 // all utterances answered with no match
}

func score(gold []Utterance, pred []string) Scores {
	var s Scores
	s.N = len(gold)
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	labels := map[string]bool{}
	var in, inOK, oos, oosNM, nm, inNM int
	for i, g := range gold {
		p := pred[i]
		if p == "" {
			nm++
		}
		if g.Label == oosLabel {
			oos++
			if p == "" {
				oosNM++
			} else {
				fp[p]++
			}
			continue
		}
		labels[g.Label] = true
		in++
		switch {
		case p == g.Label:
			inOK++
			tp[p]++
		case p == "":
			inNM++
			fn[g.Label]++
		default:
			fn[g.Label]++
			fp[p]++
		}
	}
	var f1 float64
	for l := range labels {
		if d := 2*tp[l] + fp[l] + fn[l]; d > 0 {
			f1 += float64(2*tp[l]) / float64(d)
		}
	}
	s.Accuracy = ratio(inOK, in)
	if len(labels) > 0 {
		s.MacroF1 = f1 / float64(len(labels))
	}
	s.OOS = oos > 0
	s.OOSRecall = ratio(oosNM, oos)
	s.OOSPrec = ratio(oosNM, nm)
	s.FalseReject = ratio(inNM, in)
	s.NoMatch = ratio(nm, len(gold))
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Row is one line of the results table.
type Row struct {
	Dataset  string
	System   string
	Scores   Scores
	Learn    time.Duration
	LearnCPU time.Duration // CPU time of the process while learning (0: not measured)
	P50      time.Duration
	P99      time.Duration
	Heap     uint64 // bytes
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q * float64(len(s)-1))
	return s[i]
}

func pct(x float64) string { return fmt.Sprintf("%.1f", 100*x) }

const tableHeader = "| dataset | system | accuracy % | macro-F1 % | OOS recall % | OOS precision % | in-scope false reject % | no match % | n | time to learn | per utterance p50 / p99 | heap after learning |\n" +
	"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"

func (r Row) markdown() string {
	s := r.Scores
	oosR, oosP := "–", "–"
	if s.OOS {
		oosR, oosP = pct(s.OOSRecall), pct(s.OOSPrec)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s / %s | %.1f MiB |\n",
		r.Dataset, r.System, pct(s.Accuracy), pct(s.MacroF1), oosR, oosP, pct(s.FalseReject), pct(s.NoMatch), s.N,
		learnTime(r.Learn, r.LearnCPU), us(r.P50), us(r.P99), float64(r.Heap)/(1<<20))
}

// learnTime is the wall-clock time, and the CPU time when measured (it is
// the steadier figure on a busy machine).
func learnTime(wall, cpu time.Duration) string {
	if cpu <= 0 {
		return round(wall)
	}
	return round(wall) + " (CPU " + round(cpu) + ")"
}

func round(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
