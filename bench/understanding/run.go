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
	e.preds = preds
	got := make([]string, len(preds))
	took := make([]time.Duration, len(preds))
	for i, p := range preds {
		got[i], took[i] = p.Intent, p.Took
	}
	heap := uint64(0)
	if after.HeapAlloc > before.HeapAlloc {
		heap = after.HeapAlloc - before.HeapAlloc
	}
	row := Row{Dataset: d.Name, System: system, Scores: score(test, got), Learn: e.Learn, LearnCPU: e.LearnCPU,
		P50: percentile(took, 0.5), P99: percentile(took, 0.99), Heap: heap}
	c.logf("%s: %s: accuracy %s%%, learned in %s", d.Name, system, pct(row.Scores.Accuracy), round(e.Learn))
	return row, e, nil
}

// closed is the setting closest to a classifier's arg-max: the lowest
// threshold the script allows, no margin (example scores under 0.05 still
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
		row, e, err := c.measured(d, "hotline ("+mc.String()+")", mc, test)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
		if mc == closed {
			rep.Notes = append(rep.Notes, calibrationNote(d.Name, test, e))
		}
	}
	return rep, nil
}

// calibrationNote compares the score of the answers (at the arg-max-like
// setting) with how often they were right: a calibrated score is right as
// often as it says.
func calibrationNote(name string, test []Utterance, e *Engine) string {
	bins := []float64{0, 0.5, 0.7, 0.9, 1.01}
	n, right := make([]int, len(bins)-1), make([]int, len(bins)-1)
	var sum float64
	total, ok := 0, 0
	for i, p := range e.preds {
		if test[i].Label == oosLabel || len(p.Candidates) == 0 {
			continue
		}
		sc := p.Candidates[0].Score
		total++
		sum += sc
		good := e.Taught.labelOf[p.Candidates[0].Intent] == test[i].Label
		if good {
			ok++
		}
		for b := range n {
			if sc >= bins[b] && sc < bins[b+1] {
				n[b]++
				if good {
					right[b]++
				}
			}
		}
	}
	var parts []string
	for b := len(n) - 1; b >= 0; b-- {
		if n[b] > 0 {
			parts = append(parts, fmt.Sprintf("%g–%g: %d answers, %s%% right", bins[b], min(bins[b+1], 1), n[b], pct(ratio(right[b], n[b]))))
		}
	}
	return fmt.Sprintf("%s: calibration (in-scope questions, arg-max-like setting): mean score of the answer %.2f, share right %.2f; by score: %s.",
		name, sum/float64(max(1, total)), ratio(ok, total), strings.Join(parts, "; "))
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
	gridThresholds = func() []float64 {
		var out []float64
		for i := 1; i <= 99; i++ {
			out = append(out, float64(i)/100)
		}
		return out
	}()
	gridMargins = []float64{0, 0.05, 0.1, 0.2, 0.3}
)

// A rule for choosing the no-match setting on val + oos_val.
type rule struct {
	name string // for the table
	note string // how it chooses
	// better reports whether s is better than best; closed is the score of
	// the arg-max-like setting on the same split.
	better func(s, best, closed Scores) bool
}

// maxFalseReject: the second rule turns away at most this share of the
// in-scope questions of val.
const maxFalseReject = 0.02

var rules = []rule{
	{
		name: "mean",
		note: "maximising (in-scope accuracy + OOS recall) / 2",
		better: func(s, best, _ Scores) bool {
			return objective(s) > objective(best)+1e-12
		},
	},
	{
		name: "2% false rejects",
		note: fmt.Sprintf("maximising OOS recall while at most %.0f%% of the in-scope questions are answered with no match", 100*maxFalseReject),
		better: func(s, best, _ Scores) bool {
			if s.FalseReject > maxFalseReject+1e-12 {
				return false
			}
			if best.N == 0 || best.FalseReject > maxFalseReject+1e-12 {
				return true
			}
			return s.OOSRecall > best.OOSRecall+1e-12 || (s.OOSRecall >= best.OOSRecall-1e-12 && s.Accuracy > best.Accuracy+1e-12)
		},
	},
}

// objective is what the first rule maximises on val + oos_val: the mean of
// in-scope accuracy and out-of-scope recall (both matter; neither split's
// size decides). The baseline uses the same.
func objective(s Scores) float64 { return (s.Accuracy + s.OOSRecall) / 2 }

// runOOS: CLINC150. The threshold and margin are chosen on val + oos_val
// only (by each rule), then a script with them is measured on test + oos_test.
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
	scoreOf := func(th, mg float64) Scores {
		got := make([]string, len(preds))
		for i, p := range preds {
			got[i] = e.Taught.labelOf[decide(p, th, mg)]
		}
		return score(val, got)
	}
	closedScores := scoreOf(closed.Threshold, closed.Margin)
	type choice struct {
		name string
		mc   MatchConfig
	}
	var chosen []choice
	for _, r := range rules {
		var best MatchConfig
		var bestScores Scores
		for _, th := range gridThresholds {
			for _, mg := range gridMargins {
				if s := scoreOf(th, mg); r.better(s, bestScores, closedScores) {
					best, bestScores = MatchConfig{Threshold: th, Margin: mg, Pinyin: true}, s
				}
			}
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: rule %s: chosen on val + oos_val (%d utterances; grid: threshold %g–%g step 0.01 × margin %v; "+
			"%s): %s, where val in-scope accuracy was %s%% (arg-max-like %s%%), in-scope false rejects %s%% and oos_val recall %s%%.",
			d.Name, r.name, len(val), gridThresholds[0], gridThresholds[len(gridThresholds)-1], gridMargins, r.note, best,
			pct(bestScores.Accuracy), pct(closedScores.Accuracy), pct(bestScores.FalseReject), pct(bestScores.OOSRecall)))
		chosen = append(chosen, choice{"chosen on val, rule " + r.name + ": " + best.String(), best})
	}
	chosen = append(chosen, choice{"defaults: " + defaultMatch.String(), defaultMatch},
		choice{"in-scope only: " + closed.String(), closed})
	for _, mc := range chosen {
		row, e, err := c.measured(d, "hotline ("+mc.name+")", mc.mc, test)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
		if mc.mc == closed {
			rep.Notes = append(rep.Notes, calibrationNote(d.Name, test, e))
		}
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
		row, e, err := c.measured(&asr, "hotline ("+mc.String()+")", mc, noisy)
		if err != nil {
			return rep, nil, err
		}
		rep.Rows = append(rep.Rows, row)
		if mc == closed {
			rep.Notes = append(rep.Notes, calibrationNote(asr.Name, noisy, e))
		}
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
