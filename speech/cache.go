package speech

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

// Cache renders each prompt once and keeps it on disk, across restarts:
// DIR/prompts/<2 hex>/<sha256>.wav, keyed by engine, engine version and
// options, voice and text. Files are written atomically (temporary file and
// rename), so a reader never sees half a prompt; a file that is damaged
// anyway is rendered again. Concurrent requests for the same prompt render it
// once. The most used prompts are also kept in memory (MemoryLimit).
//
// The []int16 that Get returns is shared with other callers and the memory
// cache: read it, never modify it.
type Cache struct {
	dir string
	s   Synthesizer
	log *slog.Logger

	mu       sync.Mutex
	inflight map[string]*flight
	mem      map[string]*list.Element // key → element of lru holding *memEntry
	lru      *list.List               // front: most recently used
	memBytes int64
	memLimit int64

	hits, renders, errs atomic.Int64
}

type flight struct {
	done chan struct{}
	pcm  []int16
	hit  bool
	err  error
}

type memEntry struct {
	key string
	pcm []int16
}

// maxRender bounds one rendering, whatever the synthesiser's own limits.
const maxRender = 2 * time.Minute

// DefaultMemoryLimit is how much audio the cache keeps in memory: 64 MiB is
// about 70 minutes of 8 kHz prompts, far more than a script's static prompts.
const DefaultMemoryLimit = 64 << 20

// NewCache returns a cache under dir (created when needed) in front of s.
func NewCache(dir string, s Synthesizer) *Cache {
	return &Cache{
		dir: dir, s: s, log: slog.Default(),
		inflight: map[string]*flight{}, mem: map[string]*list.Element{}, lru: list.New(),
		memLimit: DefaultMemoryLimit,
	}
}

// SetLogger sets the logger for cache events (a damaged file, a failed write).
func (c *Cache) SetLogger(l *slog.Logger) { c.log = l }

// SetMemoryLimit sets how many bytes of audio are kept in memory; 0 keeps none.
func (c *Cache) SetMemoryLimit(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.memLimit = n
	c.evict()
}

// Stats are the cache's counters since it was made.
type Stats struct {
	Hits    int64 // served from memory or disk
	Renders int64 // synthesised
	Errors  int64 // synthesis failures
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Renders: c.renders.Load(), Errors: c.errs.Load()}
}

// Key is the cache key of a prompt: hex SHA-256 of engine, version, voice and text.
func (c *Cache) Key(text, voice string) string {
	ver := ""
	if v, ok := c.s.(Versioned); ok {
		ver = v.Version()
	}
	h := sha256.New()
	// Length-prefixed fields: no choice of text can collide with another
	// voice's key.
	for _, f := range []string{"hotline-prompt-1", c.s.Name(), ver, voice, text} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Path is where the prompt with key lives.
func (c *Cache) Path(key string) string {
	return filepath.Join(c.dir, "prompts", key[:2], key+".wav")
}

// Get returns the prompt's audio, rendering it if it is not cached. voice ""
// is the synthesiser's default voice. If the caller's ctx ends first, Get
// returns; the rendering goes on (bounded by the synthesiser's own timeout)
// and is cached for the next call.
func (c *Cache) Get(ctx context.Context, text, voice string) ([]int16, error) {
	pcm, _, err := c.get(ctx, text, voice)
	return pcm, err
}

func (c *Cache) get(ctx context.Context, text, voice string) ([]int16, bool, error) {
	if strings.TrimSpace(text) == "" {
		return nil, true, nil
	}
	if voice == "" {
		voice = c.s.Voice("")
	}
	key := c.Key(text, voice)
	c.mu.Lock()
	if el, ok := c.mem[key]; ok {
		c.lru.MoveToFront(el)
		pcm := el.Value.(*memEntry).pcm
		c.mu.Unlock()
		c.hits.Add(1)
		return pcm, true, nil
	}
	f, ok := c.inflight[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		c.inflight[key] = f
		// The work is detached from this caller: other callers may be waiting
		// for it, and a finished rendering is worth keeping. It still has a
		// deadline, in case a synthesiser has none of its own.
		go func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxRender)
			defer cancel()
			c.fill(fctx, f, key, text, voice)
		}()
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.pcm, f.hit, f.err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// fill loads the prompt from disk or renders and stores it.
func (c *Cache) fill(ctx context.Context, f *flight, key, text, voice string) {
	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if f.err == nil {
			c.remember(key, f.pcm)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	path := c.Path(key)
	pcm, err := readPrompt(path)
	switch {
	case err == nil:
		f.pcm, f.hit = pcm, true
		c.hits.Add(1)
		return
	case errors.Is(err, errDamaged):
		c.log.Warn("prompt cache: damaged file, rendering again", "path", path, "err", err)
	case !errors.Is(err, fs.ErrNotExist):
		c.log.Warn("prompt cache: cannot read, rendering again", "path", path, "err", err)
	}
	pcm, err = c.s.Synthesize(ctx, text, voice)
	if err != nil {
		c.errs.Add(1)
		f.err = err
		return
	}
	c.renders.Add(1)
	f.pcm = pcm
	// A full or read-only disk costs a re-render later, not this prompt.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		c.log.Warn("prompt cache: cannot store", "path", path, "err", err)
		return
	}
	if err := wav.Write(path, pcm, wav.Rate); err != nil {
		c.log.Warn("prompt cache: cannot store", "path", path, "err", err)
	}
}

// readPrompt reads a cached prompt, strictly: exactly the header wav.Write
// makes (8 kHz mono 16-bit) and a data size that matches the file, so a
// truncated or foreign file counts as damaged rather than as a short prompt.
func readPrompt(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" ||
		le.Uint16(b[20:22]) != 1 || le.Uint16(b[22:24]) != 1 || le.Uint32(b[24:28]) != wav.Rate || le.Uint16(b[34:36]) != 16 ||
		int64(le.Uint32(b[40:44])) != int64(len(b)-44) || int64(le.Uint32(b[4:8])) != int64(len(b)-8) {
		return nil, fmt.Errorf("%w: not a whole 8 kHz mono prompt (%d bytes)", errDamaged, len(b))
	}
	pcm, _, err := wav.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDamaged, err)
	}
	return pcm, nil
}

var errDamaged = errors.New("damaged prompt file")

// remember keeps pcm in memory, evicting the least recently used; c.mu is held.
func (c *Cache) remember(key string, pcm []int16) {
	size := int64(len(pcm)) * 2
	if size > c.memLimit/4 || c.mem[key] != nil {
		return // one huge prompt must not flush all the others
	}
	c.mem[key] = c.lru.PushFront(&memEntry{key: key, pcm: pcm})
	c.memBytes += size
	c.evict()
}

func (c *Cache) evict() {
	for c.memBytes > c.memLimit && c.lru.Len() > 0 {
		e := c.lru.Remove(c.lru.Back()).(*memEntry)
		delete(c.mem, e.key)
		c.memBytes -= int64(len(e.pcm)) * 2
	}
}
