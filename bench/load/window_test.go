package main

import "testing"

// A level of 100 calls: up by 12 s, steady until the last call is placed at
// 75 s, down by 88 s; hotline burns 1 ms of CPU per call-second (a third in
// the kernel) plus 5 ms a second of fixed cost.
func levelSamples() []Sample {
	var out []Sample
	cpu := 0.0
	for t := 0; t <= 90; t++ {
		active := 100
		switch {
		case t < 12:
			active = t * 100 / 12
		case t > 75:
			active = max(0, 100-(t-75)*8)
		}
		if t > 0 {
			cpu += 0.001*float64(active) + 0.005
		}
		out = append(out, Sample{T: float64(t), CPU: cpu, Sys: cpu / 3, RSSKB: 50_000 + 100*active, Active: active,
			SIPpCPU: 0.2 * float64(t), DumpcapCPU: -1, HealthOK: true})
	}
	return out
}

func TestSteadyWindow(t *testing.T) {
	w := steadyWindow(levelSamples(), 100, 15, 75)
	if !w.Reached || w.Start != 12 || w.End != 75 || w.Seconds != 63 {
		t.Fatalf("%+v", w)
	}
	if !near(w.CallSeconds, 6300) || !near(w.MeanActive, 100) {
		t.Errorf("call-seconds %v, mean %v", w.CallSeconds, w.MeanActive)
	}
	if !near(w.MsPerCallSecond, 1.05) || !near(w.CPUPct, 10.5) || !near(w.SysPct, 3.5) {
		t.Errorf("ms/call-s %v, cpu %v %%, sys %v %%", w.MsPerCallSecond, w.CPUPct, w.SysPct)
	}
	if !near(w.SIPpCPUPct, 20) || w.DumpcapCPUPct != 0 || !near(w.RSSKB, 60_000) {
		t.Errorf("sipp %v, dumpcap %v, rss %v", w.SIPpCPUPct, w.DumpcapCPUPct, w.RSSKB)
	}
}

func TestSteadyWindowNotReached(t *testing.T) {
	s := levelSamples()
	for i := range s {
		s[i].Active = min(s[i].Active, 80) // calls failing: never 95 of 100 up
	}
	w := steadyWindow(s, 100, 15, 75)
	if w.Reached || w.Start != 15 || w.End != 75 || !near(w.MeanActive, 80) {
		t.Errorf("%+v", w)
	}
	if w := steadyWindow(nil, 100, 15, 75); w.Seconds != 0 || w.MsPerCallSecond != 0 {
		t.Errorf("no samples: %+v", w)
	}
}
