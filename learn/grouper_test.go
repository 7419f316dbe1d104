package learn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func add(t *testing.T, g *Grouper, st store.Store, lang, text string) store.Question {
	t.Helper()
	q, err := g.Add(context.Background(), st, store.Question{Text: text, Language: lang, At: t0})
	if err != nil {
		t.Fatalf("Add(%q): %v", text, err)
	}
	if q.ID == 0 || q.GroupID == 0 {
		t.Fatalf("Add(%q) = %+v: no ID or group", text, q)
	}
	return q
}

func TestGrouperGroups(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		g := NewGrouper(GrouperOptions{})
		// Each row is one question in other words; rows are different questions.
		classes := []struct {
			lang  string
			texts []string
		}{
			{"en-GB", []string{"what time do you open on saturday", "are you open on saturdays", "Are you OPEN on Saturday?"}},
			{"en-GB", []string{"how do I change my address"}},
			{"en-GB", []string{"do you install solar panels", "can you fit solar panels on my roof", "solar panels do you do them"}},
			{"zh-CN", []string{"你们周末上班吗", "周末你们上不上班", "週末你們上班嗎"}},
			{"zh-CN", []string{"怎么修改手机号"}},
			{"zh-CN", []string{"are you open on saturdays"}}, // another language: its own group
		}
		ids := map[int64]int{}
		for i, c := range classes {
			var first int64
			for _, text := range c.texts {
				q := add(t, g, st, c.lang, text)
				if first == 0 {
					first = q.GroupID
					if j, ok := ids[first]; ok {
						t.Errorf("%q joined the group of %q", text, classes[j].texts[0])
					}
					ids[first] = i
				} else if q.GroupID != first {
					t.Errorf("%q: group %d, want %d (that of %q)", text, q.GroupID, first, c.texts[0])
				}
			}
			gr, qs, err := st.Group(context.Background(), first)
			if err != nil {
				t.Fatal(err)
			}
			if gr.Count != len(c.texts) || len(qs) != len(c.texts) || gr.Text != c.texts[0] || gr.Language != c.lang {
				t.Errorf("group of %q: count %d, %d questions, text %q, language %q", c.texts[0], gr.Count, len(qs), gr.Text, gr.Language)
			}
		}
		page, err := st.Groups(context.Background(), store.GroupFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != len(classes) {
			t.Errorf("%d groups, want %d", page.Total, len(classes))
		}
		// Norm is the matcher's normalisation.
		_, qs, _ := st.Group(context.Background(), page.Groups[0].ID)
		for _, q := range qs {
			if q.Norm == "" || q.Norm != Normalize(q.Text) {
				t.Errorf("%q: norm %q", q.Text, q.Norm)
			}
		}
	})
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Are you OPEN on Saturdays?": "are you open on saturday",
		"週末你們上班嗎":                    "周 末 你 们 上 班 吗",
		"ＡＢＣ，twenty one":             "abc 21",
		"???":                        "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGrouperEdges(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		g := NewGrouper(GrouperOptions{})
		if _, err := g.Add(ctx, st, store.Question{Text: "  ", Language: "en"}); err == nil {
			t.Error("empty question: no error")
		}
		a := add(t, g, st, "en", "where can I park")
		// A group chosen by the caller is kept.
		b, err := g.Add(ctx, st, store.Question{Text: "something else entirely", Language: "en", GroupID: a.GroupID})
		if err != nil || b.GroupID != a.GroupID || b.Norm != "someth els entir" {
			t.Errorf("explicit group: %+v %v", b, err)
		}
		// Questions without letters or digits open groups of their own, or join an identical one.
		c := add(t, g, st, "en", "??")
		d := add(t, g, st, "en", "!")
		if c.GroupID == a.GroupID || d.GroupID == c.GroupID {
			t.Errorf("empty norms grouped: %d %d %d", a.GroupID, c.GroupID, d.GroupID)
		}
		// A zero time is now.
		if c.At.IsZero() {
			t.Error("At not set")
		}
		m, err := g.Suggest(ctx, st, "en", "is there any parking")
		if err != nil || m.GroupID != a.GroupID || m.Similarity < g.Threshold() {
			t.Errorf("Suggest: %+v %v", m, err)
		}
		// A cancelled context while another question is being grouped.
		lc := g.lang("en")
		lc.sem <- struct{}{}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := g.Add(cctx, st, store.Question{Text: "where can I park", Language: "en"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiting past the context: %v", err)
		}
		<-lc.sem
	})
}

func TestGrouperCache(t *testing.T) {
	backends(t, func(t *testing.T, real store.Store) {
		ctx := context.Background()
		st := &countingStore{Store: real}
		now := t0
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		g := NewGrouper(GrouperOptions{CacheTTL: time.Minute, Now: clock})
		a := add(t, g, st, "en", "where can I park")
		add(t, g, st, "en", "how do I change my address")
		b := add(t, g, st, "en", "is there any parking")
		if b.GroupID != a.GroupID {
			t.Fatalf("paraphrase not grouped: %d %d", a.GroupID, b.GroupID)
		}
		if n := st.candidates.Load(); n != 1 {
			t.Errorf("open groups read %d times within the TTL, want 1", n)
		}
		// Resolved by someone else: the grouper sees it when the cache expires.
		if err := st.ResolveGroup(ctx, a.GroupID, store.GroupIgnored, "", "test", "bob"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		c := add(t, g, st, "en", "where can I park")
		if c.GroupID == a.GroupID {
			t.Error("joined an ignored group after the cache expired")
		}
		if n := st.candidates.Load(); n != 2 {
			t.Errorf("open groups read %d times, want 2", n)
		}
		// Resolved through an Inbox that knows the grouper: seen at once.
		ib := &Inbox{Store: st, Grouper: g, By: "alice"}
		if _, err := ib.Ignore(ctx, c.GroupID, "test"); err != nil {
			t.Fatal(err)
		}
		d := add(t, g, st, "en", "where can I park")
		if d.GroupID == c.GroupID || st.candidates.Load() != 3 {
			t.Errorf("Invalidate: group %d (ignored %d), %d reads", d.GroupID, c.GroupID, st.candidates.Load())
		}
		// Without a cache the store is asked every time.
		nc := NewGrouper(GrouperOptions{CacheTTL: -1})
		before := st.candidates.Load()
		add(t, nc, st, "en", "where can I park")
		add(t, nc, st, "en", "where can I park")
		if n := st.candidates.Load() - before; n != 2 {
			t.Errorf("no cache: %d reads, want 2", n)
		}
	})
}

func TestGrouperConcurrent(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		g := NewGrouper(GrouperOptions{})
		texts := [][]string{
			{"what time do you open on saturday", "are you open on saturdays", "are you open on a saturday"},
			{"你们周末上班吗", "周末你们上不上班", "週末你們上班嗎"},
		}
		langs := []string{"en-GB", "zh-CN"}
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := i % 2
				_, err := g.Add(ctx, st, store.Question{Text: texts[k][i%3], Language: langs[k], At: t0.Add(time.Duration(i) * time.Second)})
				if err != nil {
					errs <- fmt.Errorf("goroutine %d: %w", i, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		page, err := st.Groups(ctx, store.GroupFilter{Status: store.GroupOpen})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 {
			t.Fatalf("%d groups, want 2: %+v", page.Total, page.Groups)
		}
		for _, gr := range page.Groups {
			_, qs, err := st.Group(ctx, gr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if gr.Count != n/2 || len(qs) != n/2 {
				t.Errorf("group %q: count %d, %d questions, want %d", gr.Text, gr.Count, len(qs), n/2)
			}
			if !gr.LastAt.Equal(t0.Add(48*time.Second)) && !gr.LastAt.Equal(t0.Add(49*time.Second)) {
				t.Errorf("group %q: last asked %v", gr.Text, gr.LastAt)
			}
		}
	})
}
