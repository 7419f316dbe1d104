package learn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// DefaultThreshold is the similarity (see Similarity) from which a question
// joins an open group. It was chosen on the labelled pairs of
// TestSimilarityTable (English and Chinese paraphrases that should group,
// different questions that should not): see the package documentation.
const DefaultThreshold = 0.52

// Defaults of GrouperOptions.
const (
	DefaultCandidates = 500
	DefaultCacheTTL   = 30 * time.Second
)

// membersKept is how many questions of a group, besides its representative,
// the grouper compares a new question with (the latest ones it added).
const membersKept = 4

// GrouperOptions tune a Grouper. Zero values mean the defaults.
type GrouperOptions struct {
	// Threshold is the similarity in (0, 1] a question needs with a group to
	// join it; below it the question opens a group of its own.
	Threshold float64
	// Candidates is how many open groups (the most recently asked) a
	// question is compared with.
	Candidates int
	// CacheTTL is how long the open groups read from the store are trusted
	// before they are read again. Groups the grouper itself opens or adds to
	// are kept up to date in between; groups staff resolve elsewhere drop
	// out when the cache expires (or at once, with Invalidate). Negative: no
	// cache, the store is asked for every question.
	CacheTTL time.Duration
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Grouper puts each unanswered question into the most similar open group,
// or a new one. It is safe for concurrent use; questions of one language
// are grouped one at a time, so that two similar questions asked at the
// same moment do not open two groups.
type Grouper struct {
	opt GrouperOptions

	mu    sync.Mutex
	langs map[string]*langCache
}

// langCache is the open groups of one language, most recently asked first.
type langCache struct {
	sem     chan struct{} // held while a question of this language is grouped
	fetched time.Time     // zero: read the store next time
	groups  []*candidate
}

// candidate is one open group with the features it is compared by.
type candidate struct {
	group   store.Group
	rep     vector   // of the representative text
	members []vector // of questions added to it by this grouper, latest last
}

// NewGrouper returns a Grouper with the options' defaults filled in.
func NewGrouper(opt GrouperOptions) *Grouper {
	if opt.Threshold <= 0 || opt.Threshold > 1 {
		opt.Threshold = DefaultThreshold
	}
	if opt.Candidates <= 0 {
		opt.Candidates = DefaultCandidates
	}
	if opt.CacheTTL == 0 {
		opt.CacheTTL = DefaultCacheTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Grouper{opt: opt, langs: map[string]*langCache{}}
}

// Threshold is the effective similarity threshold.
func (g *Grouper) Threshold() float64 { return g.opt.Threshold }

// Invalidate makes the next question of each language read the open groups
// from the store again (call it after resolving a group in this process).
func (g *Grouper) Invalidate() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, lc := range g.langs {
		lc.fetched = time.Time{}
	}
}

func (g *Grouper) lang(language string) *langCache {
	g.mu.Lock()
	defer g.mu.Unlock()
	lc := g.langs[language]
	if lc == nil {
		lc = &langCache{sem: make(chan struct{}, 1)}
		g.langs[language] = lc
	}
	return lc
}

// Match is where Add would put a question, without storing anything.
type Match struct {
	GroupID    int64   `json:"group_id"` // 0: a new group
	Similarity float64 `json:"similarity"`
}

// Add normalises q.Text into q.Norm, picks the open group of q.Language
// whose questions are most similar to it (if at least the threshold) and
// stores q in it, or in a new group, with st.AddQuestion. A q.GroupID set
// by the caller is kept. It returns the stored question (ID and GroupID
// set). Waiting for another question of the same language being grouped is
// bounded by ctx.
func (g *Grouper) Add(ctx context.Context, st store.Store, q store.Question) (store.Question, error) {
	if strings.TrimSpace(q.Text) == "" {
		return q, errors.New("learn: the question is empty")
	}
	v := features(q.Text)
	q.Norm = v.key
	if q.At.IsZero() {
		q.At = g.opt.Now()
	}
	if q.GroupID != 0 {
		return st.AddQuestion(ctx, q)
	}
	lc := g.lang(q.Language)
	select {
	case lc.sem <- struct{}{}:
	case <-ctx.Done():
		return q, ctx.Err()
	}
	defer func() { <-lc.sem }()

	if err := g.refresh(ctx, st, lc, q.Language); err != nil {
		return q, err
	}
	best, _ := g.best(lc, v)
	if best != nil {
		q.GroupID = best.group.ID
	}
	stored, err := st.AddQuestion(ctx, q)
	if err != nil && best != nil && errors.Is(err, store.ErrNotFound) {
		// The group is gone (purged, forgotten): open a new one.
		lc.fetched = time.Time{}
		q.GroupID = 0
		best = nil
		stored, err = st.AddQuestion(ctx, q)
	}
	if err != nil {
		return stored, err
	}
	g.remember(lc, best, stored, v)
	return stored, nil
}

// Suggest says which open group Add would put text in (ID 0: a new group)
// and how similar it is, without storing anything.
func (g *Grouper) Suggest(ctx context.Context, st store.Store, language, text string) (Match, error) {
	lc := g.lang(language)
	select {
	case lc.sem <- struct{}{}:
	case <-ctx.Done():
		return Match{}, ctx.Err()
	}
	defer func() { <-lc.sem }()
	if err := g.refresh(ctx, st, lc, language); err != nil {
		return Match{}, err
	}
	best, sim := g.best(lc, features(text))
	if best == nil {
		return Match{Similarity: sim}, nil
	}
	return Match{GroupID: best.group.ID, Similarity: sim}, nil
}

// refresh reads the open groups when the cache is stale. lc.sem is held.
func (g *Grouper) refresh(ctx context.Context, st store.Store, lc *langCache, language string) error {
	now := g.opt.Now()
	if g.opt.CacheTTL > 0 && !lc.fetched.IsZero() && now.Sub(lc.fetched) < g.opt.CacheTTL {
		return nil
	}
	groups, err := st.CandidateGroups(ctx, language, g.opt.Candidates)
	if err != nil {
		return fmt.Errorf("learn: open groups: %w", err)
	}
	old := make(map[int64]*candidate, len(lc.groups))
	for _, c := range lc.groups {
		old[c.group.ID] = c
	}
	fresh := make([]*candidate, 0, len(groups))
	for _, gr := range groups {
		c := old[gr.ID]
		if c == nil || c.group.Text != gr.Text {
			c = &candidate{rep: features(gr.Text)}
		}
		c.group = gr
		fresh = append(fresh, c)
	}
	lc.groups, lc.fetched = fresh, now
	return nil
}

// best returns the candidate most similar to v, if it reaches the
// threshold, and the best similarity seen. Ties go to the most recently
// asked group. lc.sem is held.
func (g *Grouper) best(lc *langCache, v vector) (*candidate, float64) {
	var best *candidate
	bestSim := 0.0
	for _, c := range lc.groups {
		s := similarity(v, c.rep)
		for _, m := range c.members {
			if s >= 1 {
				break
			}
			s = max(s, similarity(v, m))
		}
		if s > bestSim {
			best, bestSim = c, s
		}
	}
	if bestSim < g.opt.Threshold {
		return nil, bestSim
	}
	return best, bestSim
}

// remember updates the cache with a stored question. lc.sem is held.
func (g *Grouper) remember(lc *langCache, joined *candidate, q store.Question, v vector) {
	if joined == nil {
		c := &candidate{rep: v, group: store.Group{ID: q.GroupID, Text: q.Text, Norm: q.Norm, Language: q.Language,
			Count: 1, FirstAt: q.At, LastAt: q.At, Status: store.GroupOpen}}
		lc.groups = append([]*candidate{c}, lc.groups...)
		if len(lc.groups) > g.opt.Candidates {
			lc.groups = lc.groups[:g.opt.Candidates]
		}
		return
	}
	joined.group.Count++
	if q.At.After(joined.group.LastAt) {
		joined.group.LastAt = q.At
	}
	if v.key != joined.rep.key {
		joined.members = append(joined.members, v)
		if len(joined.members) > membersKept {
			joined.members = joined.members[len(joined.members)-membersKept:]
		}
	}
	// Most recently asked first.
	for i, c := range lc.groups {
		if c == joined {
			copy(lc.groups[1:i+1], lc.groups[:i])
			lc.groups[0] = joined
			break
		}
	}
}
