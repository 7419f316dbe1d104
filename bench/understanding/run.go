package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Config says what to run.
type Config struct {
	Datasets string // the folder with banking77/, clinc150/, smp2017_ecdt_task1/
	Limit    int    // at most this many utterances per evaluation split (0: all)
	Labels   int    // keep only the first n labels (0: all); for the smoke test
	Log      func(format string, args ...any)
}

// Report is what one dataset's run found.
type Report struct {
	Rows  []Row
	Notes []string
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

// measured loads the script for the training split with the given match
// settings, measuring the time and the heap it takes, and scores test.
func (c Config) measured(d *Dataset, system string, mc MatchConfig, test []Utterance) (Row, *Engine, error) {
	warmUp()
	// Twice: a matcher's sync.Pool is referenced by the runtime until the
	// second collection after its last use, which keeps a previous script alive.
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e, err := learn("bench-"+d.Name, d.Language, d.Train, mc)
	if err != nil {
		return Row{}, nil, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	preds := e.predict(test)
	runtime.KeepAlive(e)
	got := make([]string, len(preds))
	took := make([]time.Duration, len(preds))
	for i, p := range preds {
		got[i], took[i] = p.Intent, p.Took
	}
	heap := uint64(0)
	if after.HeapAlloc > before.HeapAlloc {
		heap = after.HeapAlloc - before.HeapAlloc
	}
	row := Row{Dataset: d.Name, System: system, Scores: score(test, got), Learn: e.Learn,
		P50: percentile(took, 0.5), P99: percentile(took, 0.99), Heap: heap}
	c.logf("%s: %s: accuracy %s%%, learned in %s", d.Name, system, pct(row.Scores.Accuracy), round(e.Learn))
	return row, e, nil
}

// closed is the setting closest to a classifier's arg-max: the lowest
// threshold the script allows, no margin (example scores under 0.15 still
// never count).
var closed = MatchConfig{Threshold: 0.01, Pinyin: true}

func (mc MatchConfig) String() string {
	s := fmt.Sprintf("threshold %g, margin %g", mc.Threshold, mc.Margin)
	if !mc.Pinyin {
		s += ", pinyin off"
	}
	return s
}

// runClosed: a dataset without out-of-scope queries. Reported at the
// arg-max-like setting and at the script defaults.
func (c Config) runClosed(d *Dataset) (Report, error) {
	var rep Report
	test := sample(d.Test, c.Limit)
	rep.Notes = append(rep.Notes, c.taughtNote(d))
	for _, mc := range []MatchConfig{closed, defaultMatch} {
		row, _, err := c.measured(d, "hotline ("+mc.String()+")", mc, test)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func (c Config) taughtNote(d *Dataset) string {
	t := teach(d.Train)
	return fmt.Sprintf("%s: %d training utterances taught as examples of %d intents; %d left out because another intent "+
		"had the same normalised text (the loader refuses such a learned file), %d repeats within an intent ignored.",
		d.Name, len(d.Train)-t.conflicts-t.dups-t.empty, len(t.labels), t.conflicts, t.dups) + renamedNote(t.renamed)
}

func renamedNote(r []string) string {
	if len(r) == 0 {
		return ""
	}
	return " Labels renamed to valid intent names: " + strings.Join(r, ", ") + "."
}

// Grid of the no-match settings tried on the validation split.
var (
	gridThresholds = []float64{0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8}
	gridMargins    = []float64{0, 0.01, 0.02, 0.05, 0.1}
)

// objective is what the threshold search maximises on val + oos_val: the mean
// of in-scope accuracy and out-of-scope recall (both matter; neither split's
// size decides). The baseline uses the same.
func objective(s Scores) float64 { return (s.Accuracy + s.OOSRecall) / 2 }

// runOOS: CLINC150. The threshold and margin are chosen on val + oos_val
// only, then a script with them is measured on test + oos_test.
func (c Config) runOOS(d *Dataset) (Report, error) {
	var rep Report
	rep.Notes = append(rep.Notes, c.taughtNote(d))
	val := append(sample(d.Val, c.Limit), sample(d.OOSVal, c.Limit)...)
	test := append(sample(d.Test, c.Limit), sample(d.OOSTest, c.Limit)...)
	e, err := learn("bench-"+d.Name, d.Language, d.Train, closed)
	if err != nil {
		return rep, err
	}
	preds := e.predict(val)
	best, bestObj := closed, -1.0
	var bestScores Scores
	for _, th := range gridThresholds {
		for _, mg := range gridMargins {
			got := make([]string, len(preds))
			for i, p := range preds {
				got[i] = e.Taught.labelOf[decide(p, th, mg)]
			}
			s := score(val, got)
			if o := objective(s); o > bestObj+1e-12 {
				best, bestObj, bestScores = MatchConfig{Threshold: th, Margin: mg, Pinyin: true}, o, s
			}
		}
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("%s: chosen on val + oos_val (%d utterances; grid: threshold %v × margin %v; "+
		"maximising (in-scope accuracy + OOS recall) / 2): %s, where val in-scope accuracy was %s%% and oos_val recall %s%%.",
		d.Name, len(val), gridThresholds, gridMargins, best, pct(bestScores.Accuracy), pct(bestScores.OOSRecall)))
	for _, mc := range []struct {
		name string
		mc   MatchConfig
	}{{"chosen on val: " + best.String(), best}, {"defaults: " + defaultMatch.String(), defaultMatch},
		{"in-scope only: " + closed.String(), closed}} {
		row, _, err := c.measured(d, "hotline ("+mc.name+")", mc.mc, test)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// runASR: SMP2017's test split with homophone substitutions, with the pinyin
// tier on and off.
func (c Config) runASR(d *Dataset) (Report, []Utterance, error) {
	var rep Report
	noisy, st := homophoneNoise(d.Test, d.Train, asrRate, asrSeed)
	noisy = sample(noisy, c.Limit)
	rep.Notes = append(rep.Notes, fmt.Sprintf("smp2017-asr: %d of %d Chinese characters of the develop split replaced "+
		"by a homophone (seed %d; %d had a homophone among the %s training characters).",
		st.Replaced, st.Han, asrSeed, st.Substitutable, d.Name))
	asr := *d
	asr.Name = "smp2017-asr"
	for _, mc := range []MatchConfig{closed, {Threshold: closed.Threshold}} {
		row, _, err := c.measured(&asr, "hotline ("+mc.String()+")", mc, noisy)
		if err != nil {
			return rep, nil, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, noisy, nil
}

const (
	asrRate = 0.10
	asrSeed = 2017
)

// warmUp loads a tiny script in both languages once, so that the tables the
// normaliser builds on first use (stemming vocabulary, pinyin, Traditional →
// Simplified) count neither in the first dataset's time to learn nor in its heap.
func warmUp() {
	warm.Do(func() {
		for _, lang := range []string{"en", "zh-CN"} {
			e, err := learn("warm-up", lang, []Utterance{{"where is my card", "a"}, {"我的卡在哪里", "b"}, {"我的卡在哪裏", "c"}}, closed)
			if err == nil {
				e.predict([]Utterance{{"my card", "a"}, {"我的卡", "b"}})
			}
		}
	})
}

var warm sync.Once
