package web

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Session limits.
const (
	sessionIdle    = 12 * time.Hour     // a session unused this long is gone
	sessionMaxAge  = 7 * 24 * time.Hour // and any session after this long
	maxSessions    = 10000              // the least recently used go first
	sessionIDBytes = 32
)

// session is one logged-in browser.
type session struct {
	user    string
	csrf    string
	created time.Time
	seen    time.Time
}

// sessions is the server-side session table. Keys are the SHA-256 of the
// cookie's ID, so neither a map lookup's timing nor a memory dump gives a
// usable session ID.
type sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]*session
	max int
}

func newSessions(max int) *sessions {
	return &sessions{m: make(map[[32]byte]*session), max: max}
}

func sessionKey(id string) [32]byte { return sha256.Sum256([]byte(id)) }

func (s *session) expired(now time.Time) bool {
	return now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionMaxAge || now.Before(s.created.Add(-time.Minute))
}

// create starts a session for user and returns its ID (for the cookie).
func (ss *sessions) create(user string, now time.Time) (string, session) {
	id := randomID(sessionIDBytes)
	s := &session{user: user, csrf: randomID(32), created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= ss.max {
		ss.sweepLocked(now)
	}
	for len(ss.m) >= ss.max { // still full: drop the least recently used
		var oldest [32]byte
		var at time.Time
		first := true
		for k, v := range ss.m {
			if first || v.seen.Before(at) {
				oldest, at, first = k, v.seen, false
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[sessionKey(id)] = s
	return id, *s
}

// get returns the session of id, if it is there and has not expired; touch
// counts the request as activity (polling does not, so an open dashboard
// does not keep a session alive forever).
func (ss *sessions) get(id string, now time.Time, touch bool) (session, bool) {
	if len(id) != base64Len(sessionIDBytes) {
		return session{}, false
	}
	k := sessionKey(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[k]
	if !ok {
		return session{}, false
	}
	if s.expired(now) {
		delete(ss.m, k)
		return session{}, false
	}
	if touch {
		s.seen = now
	}
	return *s, true
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	delete(ss.m, sessionKey(id))
	ss.mu.Unlock()
}

func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}

func (ss *sessions) sweepLocked(now time.Time) {
	for k, v := range ss.m {
		if v.expired(now) {
			delete(ss.m, k)
		}
	}
}

// base64Len is the length of n bytes in unpadded base64.
func base64Len(n int) int { return (n*8 + 5) / 6 }

// Login throttling.
const (
	maxFailures   = 5                // failures in a row before a lock
	lockFor       = time.Minute      // how long a lock lasts
	failureMemory = 15 * time.Minute // failures older than this are forgotten
	maxThrottled  = 10000            // keys remembered (users and addresses)
)

type attempts struct {
	fails int
	last  time.Time
	until time.Time // locked until
}

// throttle counts failed logins per key ("ip:…", "user:…") and locks a
// key for lockFor after maxFailures. Bounded: when full, expired entries
// go, then the oldest.
type throttle struct {
	mu sync.Mutex
	m  map[string]*attempts
}

func newThrottle() *throttle { return &throttle{m: make(map[string]*attempts)} }

// locked returns how long key stays locked (0: not locked).
func (t *throttle) locked(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[key]
	if !ok || !now.Before(a.until) {
		return 0
	}
	return a.until.Sub(now)
}

// fail counts a failure of key.
func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[key]
	if !ok {
		if len(t.m) >= maxThrottled {
			t.sweepLocked(now)
		}
		a = &attempts{}
		t.m[key] = a
	}
	if now.Sub(a.last) > failureMemory {
		a.fails = 0
	}
	a.fails++
	a.last = now
	if a.fails >= maxFailures {
		a.fails = 0
		a.until = now.Add(lockFor)
	}
}

// reset forgets key's failures (after a successful login).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}

func (t *throttle) sweepLocked(now time.Time) {
	for k, a := range t.m {
		if now.Sub(a.last) > failureMemory && !now.Before(a.until) {
			delete(t.m, k)
		}
	}
	for len(t.m) >= maxThrottled {
		var oldest string
		var at time.Time
		first := true
		for k, a := range t.m {
			if first || a.last.Before(at) {
				oldest, at, first = k, a.last, false
			}
		}
		delete(t.m, oldest)
	}
}
