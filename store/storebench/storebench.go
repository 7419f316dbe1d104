// Package storebench simulates the store writes of many concurrent calls
// and measures them; `go test -bench` in store and the bench/store program
// share it so that their numbers mean the same thing.
package storebench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// Config says how much to simulate.
type Config struct {
	Calls       int           // calls in all
	Concurrency int           // calls in progress at once
	Think       time.Duration // pause between a call's events (0: as fast as the store takes them)
	Prefix      string        // call-ID prefix, so runs into one database do not collide
}

// Each simulated call writes these events: StartCall, Turns × AddTurn with
// an UpdateCall after every few turns (Updates in all), EndCall.
const (
	Turns   = 10
	Updates = 3
	// EventsPerCall is what one simulated call writes.
	EventsPerCall = 1 + Turns + Updates + 1
)

// Result is what Run measured.
type Result struct {
	Calls, Events int
	Elapsed       time.Duration
	P50, P99, Max time.Duration // per event
	// Bytes is how much the database grew (Store.Size after − before).
	Bytes int64
}

// EventsPerSecond is the throughput.
func (r Result) EventsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Events) / r.Elapsed.Seconds()
}

// BytesPer1000Calls is the database growth per thousand calls.
func (r Result) BytesPer1000Calls() float64 {
	if r.Calls == 0 {
		return 0
	}
	return float64(r.Bytes) * 1000 / float64(r.Calls)
}

// Run simulates cfg.Calls calls, cfg.Concurrency at a time, against s.
func Run(ctx context.Context, s store.Store, cfg Config) (Result, error) {
	if cfg.Calls <= 0 || cfg.Concurrency <= 0 {
		return Result{}, fmt.Errorf("storebench: calls %d, concurrency %d", cfg.Calls, cfg.Concurrency)
	}
	sizeBefore, err := s.Size(ctx)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, EventsPerCall*(cfg.Calls/cfg.Concurrency+1))
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.Calls || ctx.Err() != nil {
					break
				}
				if err := oneCall(ctx, s, cfg, i, &lat); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					break
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return Result{}, firstErr
	}
	sizeAfter, err := s.Size(context.Background())
	if err != nil {
		return Result{}, err
	}
	slices.Sort(all)
	q := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	return Result{Calls: cfg.Calls, Events: len(all), Elapsed: elapsed, P50: q(0.50), P99: q(0.99), Max: all[len(all)-1],
		Bytes: sizeAfter - sizeBefore}, nil
}

// oneCall writes what a call of a typical Chinese support hotline writes.
func oneCall(ctx context.Context, s store.Store, cfg Config, i int, lat *[]time.Duration) error {
	timed := func(f func() error) error {
		if cfg.Think > 0 {
			select {
			case <-time.After(cfg.Think):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		t0 := time.Now()
		err := f()
		*lat = append(*lat, time.Since(t0))
		return err
	}
	now := time.Now().UTC()
	c := store.Call{
		ID: fmt.Sprintf("%s%08d@10.0.0.1", cfg.Prefix, i), Instance: "bench",
		Caller: fmt.Sprintf("+86138%08d", i%100000), CallerHash: fmt.Sprintf("%064x", i%100000), Called: "4008001234",
		Script: "zh-shop", ScriptVersion: "2026-03-01", Language: "zh-CN",
		StartedAt: now, AnsweredAt: now.Add(300 * time.Millisecond),
		Path: []string{"welcome"}, Node: "welcome", Vars: map[string]any{},
	}
	if err := timed(func() error { return s.StartCall(ctx, c) }); err != nil {
		return err
	}
	nodes := []string{"welcome", "order_status", "order_lookup", "anything_else"}
	for j := 0; j < Turns; j++ {
		tr := store.Turn{CallID: c.ID, At: time.Now().UTC(), Offset: time.Duration(j) * 4 * time.Second,
			Node: nodes[j*len(nodes)/Turns], Confidence: -1}
		if j%2 == 0 {
			tr.Speaker, tr.Text = "bot", "您好,这里是某某客服的自动语音助手。本次通话将被录音。请问有什么可以帮您?按0转人工。"
		} else {
			tr.Speaker, tr.Text, tr.Input = "caller", "我想查一下我的订单到哪了", "speech"
			tr.Intent, tr.Tier, tr.Score, tr.Confidence, tr.Outcome = "order", "pinyin", 0.86, 0.72, "matched"
		}
		if err := timed(func() error { _, err := s.AddTurn(ctx, tr); return err }); err != nil {
			return err
		}
		if j%3 == 2 && j/3 < Updates {
			c.Node = nodes[(j/3+1)%len(nodes)]
			c.Path = append(c.Path, c.Node)
			c.Turns, c.Vars["order"], c.Vars["last_intent"] = j+1, "2026030112345", "order"
			if err := timed(func() error { return s.UpdateCall(ctx, c) }); err != nil {
				return err
			}
		}
	}
	c.EndedAt, c.Outcome, c.EndReason, c.Grade = time.Now().UTC(), store.OutcomeResolved, "caller hung up", "A"
	c.Tags, c.Recording = []string{"order"}, "recordings/"+c.ID+".wav"
	return timed(func() error { return s.EndCall(ctx, c) })
}
