package main

import "math"

// Sample is one reading, taken every second while a level runs.
type Sample struct {
	T          float64 `json:"t"`         // seconds since SIPp started
	CPU        float64 `json:"cpu_s"`     // hotline user+system CPU, seconds since it started
	Sys        float64 `json:"sys_s"`     // of which system (kernel) time
	RSSKB      int     `json:"rss_kb"`    // hotline VmRSS
	Active     int     `json:"active"`    // /healthz active_calls
	Goroutines int     `json:"gor"`       // /healthz goroutines
	FDs        int     `json:"fds"`       // /healthz open_fds
	SIPpCPU    float64 `json:"sipp_s"`    // SIPp user+system CPU; -1: not readable (SIPp gone)
	DumpcapCPU float64 `json:"dumpcap_s"` // likewise for dumpcap
	HealthOK   bool    `json:"health_ok"` // false: /healthz did not answer, the health fields are the previous sample's
	// Busy is the CPU time every process of the machine has used since boot
	// (/proc/stat), seconds: what is left after hotline, SIPp and dumpcap
	// is other processes' load on the same cores.
	Busy float64 `json:"busy_s"`
}

// Window is the steady part of a level: from the first sample with at least
// 95 % of the level's calls up until SIPp has placed its last call.
type Window struct {
	Reached     bool    `json:"reached"` // false: 95 % was never reached; the window is then ramp..last call placed
	Start       float64 `json:"start_s"`
	End         float64 `json:"end_s"`
	Seconds     float64 `json:"seconds"`
	CPU         float64 `json:"cpu_s"`
	Sys         float64 `json:"sys_s"`
	CallSeconds float64 `json:"call_seconds"`
	MeanActive  float64 `json:"mean_active"`
	// CPUPct is hotline's CPU in % of one core; SysPct the part of it spent in the kernel.
	CPUPct          float64 `json:"cpu_pct"`
	SysPct          float64 `json:"sys_pct"`
	MsPerCallSecond float64 `json:"ms_per_call_second"`
	SIPpCPUPct      float64 `json:"sipp_cpu_pct"`
	DumpcapCPUPct   float64 `json:"dumpcap_cpu_pct"`
	RSSKB           float64 `json:"rss_kb"` // mean over the window
	// OthersCPUPct is the CPU other processes used during the window, in %
	// of one core: a busy machine makes the timings pessimistic.
	OthersCPUPct float64 `json:"others_cpu_pct"`
}

// steadyWindow finds the steady window of samples (sorted by T) for a level
// of `level` calls whose last call was placed at placeEnd seconds; when 95 %
// of the level is never reached it falls back to [ramp, placeEnd].
func steadyWindow(samples []Sample, level int, ramp, placeEnd float64) Window {
	var w Window
	need := int(math.Ceil(0.95 * float64(level)))
	i0, i1 := -1, -1
	for i, s := range samples {
		if s.T > placeEnd+0.5 {
			break
		}
		if i0 < 0 && s.Active >= need {
			i0 = i
		}
		i1 = i
	}
	w.Reached = i0 >= 0 && i1 > i0
	if !w.Reached {
		i0 = -1
		for i, s := range samples {
			if s.T >= ramp && s.T <= placeEnd+0.5 {
				i0 = i
				break
			}
		}
	}
	if i0 < 0 || i1 <= i0 {
		return w
	}
	a, b := samples[i0], samples[i1]
	w.Start, w.End, w.Seconds = a.T, b.T, b.T-a.T
	w.CPU, w.Sys = b.CPU-a.CPU, b.Sys-a.Sys
	rss := 0.0
	for i := i0 + 1; i <= i1; i++ {
		p, s := samples[i-1], samples[i]
		w.CallSeconds += float64(p.Active+s.Active) / 2 * (s.T - p.T)
		rss += float64(p.RSSKB+s.RSSKB) / 2 * (s.T - p.T)
	}
	if w.Seconds > 0 {
		w.MeanActive = w.CallSeconds / w.Seconds
		w.RSSKB = rss / w.Seconds
		w.CPUPct = 100 * w.CPU / w.Seconds
		w.SysPct = 100 * w.Sys / w.Seconds
		if a.SIPpCPU >= 0 && b.SIPpCPU >= a.SIPpCPU {
			w.SIPpCPUPct = 100 * (b.SIPpCPU - a.SIPpCPU) / w.Seconds
		}
		if a.DumpcapCPU >= 0 && b.DumpcapCPU >= a.DumpcapCPU {
			w.DumpcapCPUPct = 100 * (b.DumpcapCPU - a.DumpcapCPU) / w.Seconds
		}
		if a.Busy > 0 && b.Busy >= a.Busy {
			w.OthersCPUPct = max(0, 100*(b.Busy-a.Busy)/w.Seconds-w.CPUPct-w.SIPpCPUPct-w.DumpcapCPUPct)
		}
	}
	if w.CallSeconds > 0 {
		w.MsPerCallSecond = 1000 * w.CPU / w.CallSeconds
	}
	return w
}
