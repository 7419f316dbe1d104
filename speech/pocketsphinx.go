//go:build pocketsphinx

package speech

// #cgo pkg-config: pocketsphinx sphinxbase
// #include <stdlib.h>
// #include <pocketsphinx.h>
// #include <sphinxbase/err.h>
// void hotline_ps_set_log(void);
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// PocketsphinxAvailable tells whether this binary was built with the
// pocketsphinx recogniser (build tag pocketsphinx).
const PocketsphinxAvailable = true

const (
	psDefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	// psQueue is how many writes (20 ms frames, usually) a stream buffers
	// for its decoder: 10 s of audio at 50 writes a second. A decoder
	// further behind than that drops audio (counted) rather than blocking
	// the call's media goroutine.
	psQueue = 500
	// psPartialSamples is how much 16 kHz audio passes between partial
	// results: 200 ms.
	psPartialSamples = 3200
	// psMaxSearches bounds the hint searches cached on one decoder.
	psMaxSearches = 16
	// psMaxAlternatives and psNbestSteps bound the N-best walk: the list
	// repeats hypotheses that differ only in silences and fillers.
)

// psBackgroundWeight is the share of everyday English words (outside the
// script) in a hint language model's unigrams. Having them in the
// vocabulary at all is what counts (bench/asr/README.md: the same results
// from 0 to 0.05; 0.3 loses a phrase).
const psBackgroundWeight = 0.05

// psMaxAlternatives bounds the alternatives of a result.
var psMaxAlternatives = 3

const (
	psNbestSteps = 30
)

// Pocketsphinx recognises English speech with the CMU pocketsphinx
// library, embedded through cgo. It keeps a fixed pool of decoders (a
// pocketsphinx decoder is not safe for concurrent use); each stream takes
// one for the length of its utterance, or fails with ErrBusy.
type Pocketsphinx struct {
	cfg    PocketsphinxConfig
	log    *slog.Logger
	free   chan *psDecoder
	all    []*psDecoder
	mu     sync.Mutex
	closed bool
	active map[*psStream]struct{}
	// lastStart is when a stream last started (Prepare leaves a single
	// decoder alone while calls use it).
	lastStart time.Time
	dropped   atomic.Int64 // audio writes dropped because a decoder fell behind
	busy      atomic.Int64 // Starts refused with ErrBusy
}

// psLogger receives pocketsphinx's own messages; the library's log is
// global, so the last recogniser made decides where they go.
var psLogger atomic.Pointer[slog.Logger]

//export hotlinePSLog
func hotlinePSLog(level C.int, msg *C.char) {
	l := psLogger.Load()
	if l == nil {
		return
	}
	text := strings.TrimSpace(C.GoString(msg))
	switch {
	case strings.Contains(text, "does not match the grammar"):
		// A grammar search that reached no final state: the utterance is
		// none of the hints, an ordinary outcome (empty text).
		l.Debug("pocketsphinx: " + text)
	case level >= C.ERR_ERROR:
		l.Warn("pocketsphinx: " + text)
	default: // warnings: pocketsphinx warns about many harmless things
		l.Debug("pocketsphinx: " + text)
	}
}

// NewPocketsphinx loads cfg.Workers decoders (about a second each on one
// core: the dictionary and language model are parsed per decoder).
func NewPocketsphinx(cfg PocketsphinxConfig) (*Pocketsphinx, error) {
	if cfg.ModelDir == "" {
		cfg.ModelDir = psDefaultModelDir
	}
	parent := cfg.ModelDir[:max(0, strings.LastIndexByte(cfg.ModelDir, '/'))]
	if cfg.Dict == "" {
		cfg.Dict = parent + "/cmudict-en-us.dict"
	}
	if cfg.LM == "" {
		cfg.LM = parent + "/en-us.lm.bin"
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.GrammarBeam <= 0 {
		cfg.GrammarBeam = PSGrammarBeam
	}
	switch cfg.Search {
	case "":
		cfg.Search = SearchHybrid
	case SearchLM, SearchKWS, SearchJSGF, SearchNgram, SearchHybrid:
	default:
		return nil, fmt.Errorf("pocketsphinx: unknown search %q (want %s, %s, %s, %s or %s)", cfg.Search, SearchHybrid, SearchNgram, SearchJSGF, SearchKWS, SearchLM)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for _, f := range []string{cfg.ModelDir + "/mdef", cfg.Dict, cfg.LM} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("pocketsphinx: model file: %w (apt-get install pocketsphinx-en-us, or set the model paths)", err)
		}
	}
	log := cfg.Logger.With("backend", "pocketsphinx")
	psLogger.Store(log)
	C.hotline_ps_set_log()

	p := &Pocketsphinx{cfg: cfg, log: log, free: make(chan *psDecoder, cfg.Workers), active: map[*psStream]struct{}{}}
	for i := range cfg.Workers {
		d, err := newPSDecoder(cfg, i, log)
		if err != nil {
			p.freeDecoders()
			return nil, err
		}
		p.all = append(p.all, d)
		if cfg.Search == SearchHybrid {
			if d.twin, err = newPSDecoder(cfg, i, log); err != nil {
				p.freeDecoders()
				return nil, err
			}
		}
		p.free <- d
	}
	log.Info("pocketsphinx ready", "workers", cfg.Workers, "search", cfg.Search, "model", cfg.ModelDir)
	return p, nil
}

// Name implements Recognizer.
func (p *Pocketsphinx) Name() string { return "pocketsphinx" }

// Stats reports the audio writes dropped because a decoder fell behind and
// the Starts refused because every decoder was busy.
func (p *Pocketsphinx) Stats() (dropped, busy int64) { return p.dropped.Load(), p.busy.Load() }

// Start implements Recognizer: it takes a free decoder or fails at once
// with ErrBusy.
func (p *Pocketsphinx) Start(ctx context.Context, opts Options) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("pocketsphinx: closed: %w", ErrUnavailable)
	}
	p.lastStart = time.Now()
	var d *psDecoder
	select {
	case d = <-p.free:
	default:
		p.mu.Unlock()
		p.busy.Add(1)
		return nil, fmt.Errorf("pocketsphinx: all %d decoders in use: %w", p.cfg.Workers, ErrBusy)
	}
	s := &psStream{
		p:        p,
		d:        d,
		log:      p.log.With("call_id", opts.CallID),
		audio:    make(chan []int16, psQueue),
		partials: make(chan Result, 4),
		end:      make(chan struct{}),
		abort:    make(chan struct{}),
		done:     make(chan struct{}),
	}
	p.active[s] = struct{}{}
	p.mu.Unlock()

	s.mode = p.cfg.Search
	if len(opts.Hints) == 0 {
		s.mode = SearchLM
	}
	s.hints = opts.Hints
	// The utterance begins on the stream's goroutine: making a node's
	// searches the first time takes a decoder 150–400 ms (the n-gram
	// search), which must not hold up the call; the audio waits in the
	// queue meanwhile, and decoding catches up at several times real time.
	go s.run()
	return s, nil
}

// begin starts the stream's utterance on its decoder (and the twin).
func (s *psStream) begin() error {
	d := s.d
	err := d.begin(s.mode, s.hints, s.log)
	if err == nil && d.mode == SearchHybrid {
		if err = d.twin.begin(SearchJSGF, s.hints, s.log); err != nil {
			C.ps_end_utt(d.ps)
			d.mode = SearchLM // nothing of the twin to end
		}
	}
	if err != nil {
		return fmt.Errorf("pocketsphinx: start utterance: %w", err)
	}
	return nil
}

// Prepare implements Preparer: it makes the searches of every hint set
// (up to the per-decoder cache of 16) on every decoder, in the background
// of calls: it borrows a free decoder for one set at a time (150–400 ms),
// and only while another decoder stays free for a caller (with a single
// decoder, only while no stream has started for 1 s). A decoder in use is
// prepared when it comes back. It returns when every decoder has every set,
// or ctx ends; a stream that needs a search not made yet makes it itself,
// on its own goroutine.
func (p *Pocketsphinx) Prepare(ctx context.Context, hintSets [][]string) error {
	mode := p.cfg.Search
	if mode == SearchLM {
		return nil
	}
	var sets [][]string
	for _, h := range hintSets {
		if len(h) > 0 && len(sets) < psMaxSearches {
			sets = append(sets, h)
		}
	}
	if len(sets) == 0 {
		return nil
	}
	own := mode
	if mode == SearchHybrid {
		own = SearchNgram
	}
	start := time.Now()
	done := map[*psDecoder]bool{}
	made := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(done) < p.cfg.Workers {
		d, closed := p.borrow()
		if closed {
			return fmt.Errorf("pocketsphinx: closed: %w", ErrUnavailable)
		}
		if d == nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				continue
			}
		}
		// One set this decoder lacks, then the decoder goes back.
		missing := false
		for _, hints := range sets {
			if _, ok := d.searches[searchKey(own, hints)]; ok {
				continue
			}
			missing = true
			if mode == SearchHybrid {
				if _, err := d.twin.search(SearchJSGF, hints, p.log); err != nil {
					p.log.Warn("pocketsphinx: preparing a grammar failed", "err", err)
				}
			}
			if _, err := d.search(own, hints, p.log); err != nil {
				p.log.Warn("pocketsphinx: preparing a search failed", "err", err)
			}
			made++
			break
		}
		if !missing {
			done[d] = true
		}
		p.free <- d
	}
	p.log.Info("pocketsphinx searches prepared", "sets", len(sets), "decoders", p.cfg.Workers, "made", made,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// borrow takes a free decoder for preparing, or nil: only while another
// stays free (one decoder: while no stream started in the last second).
func (p *Pocketsphinx) borrow() (d *psDecoder, closed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, true
	}
	spare := 1
	if p.cfg.Workers == 1 {
		spare = 0
		if time.Since(p.lastStart) < time.Second {
			return nil, false
		}
	}
	if len(p.free) <= spare {
		return nil, false
	}
	select {
	case d := <-p.free:
		return d, false
	default:
		return nil, false
	}
}

// release returns a stream's decoder to the pool.
func (p *Pocketsphinx) release(s *psStream) {
	p.mu.Lock()
	delete(p.active, s)
	p.mu.Unlock()
	p.free <- s.d
}

// Close aborts the streams still open, waits for their decoders and frees
// every decoder. Start fails with ErrUnavailable afterwards.
func (p *Pocketsphinx) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for s := range p.active {
		s.Abort()
	}
	p.mu.Unlock()
	for range p.all { // every decoder comes back: aborted streams end within one write
		<-p.free
	}
	p.freeDecoders()
	return nil
}

func (p *Pocketsphinx) freeDecoders() {
	for _, d := range p.all {
		d.close()
		if d.twin != nil {
			d.twin.close()
		}
	}
	p.all = nil
}

// psDecoder is one pocketsphinx decoder with the searches made for it.
type psDecoder struct {
	ps          *C.ps_decoder_t
	lmath       *C.logmath_t
	lmSearch    string            // the language model search, made by ps_init
	searches    map[string]string // searchKey → search name (the key itself)
	order       []string          // searches, oldest first, for eviction
	mode        string            // the current utterance's search mode
	fe          *frontend
	live        bool // decode while audio arrives (else whole at finish)
	grammarBeam float64
	buf         []int16        // the utterance's 16 kHz audio when not live
	phones      map[string]int // dictionary look-ups, cached
	samples     int            // 16 kHz samples given in this utterance
	// twin is the second decoder of a hybrid search: it decodes the same
	// audio with the grammar while this one uses the hints' n-gram model.
	// It runs only when this decoder's mode is SearchHybrid.
	twin *psDecoder
}

func newPSDecoder(cfg PocketsphinxConfig, i int, log *slog.Logger) (*psDecoder, error) {
	args := []string{"pocketsphinx",
		"-hmm", cfg.ModelDir,
		"-dict", cfg.Dict,
		"-lm", cfg.LM,
	}
	args = append(args, cfg.Args...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, a := range argv {
			C.free(unsafe.Pointer(a))
		}
	}()
	config := C.cmd_ln_parse_r(nil, C.ps_args(), C.int32(len(argv)), &argv[0], 0)
	if config == nil {
		return nil, fmt.Errorf("pocketsphinx: decoder %d: bad configuration %q", i, args[1:])
	}
	ps := C.ps_init(config)
	C.cmd_ln_free_r(config) // ps_init keeps its own reference
	if ps == nil {
		return nil, fmt.Errorf("pocketsphinx: decoder %d: cannot load the model from %s, %s, %s: %w", i, cfg.ModelDir, cfg.Dict, cfg.LM, ErrUnavailable)
	}
	d := &psDecoder{
		ps:          ps,
		lmath:       C.ps_get_logmath(ps),
		lmSearch:    C.GoString(C.ps_get_search(ps)),
		searches:    map[string]string{},
		fe:          newFrontend(!cfg.DisableNoise),
		live:        !cfg.WholeUtterance,
		grammarBeam: cfg.GrammarBeam,
		phones:      map[string]int{},
	}
	log.Debug("pocketsphinx decoder loaded", "decoder", i, "search", d.lmSearch)
	return d, nil
}

func (d *psDecoder) close() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// wordPhones is the number of phones of a word's first pronunciation, 0
// when the dictionary lacks it.
func (d *psDecoder) wordPhones(w string) int {
	if n, ok := d.phones[w]; ok {
		return n
	}
	cw := C.CString(w)
	defer C.free(unsafe.Pointer(cw))
	n := 0
	if pron := C.ps_lookup_word(d.ps, cw); pron != nil {
		n = len(strings.Fields(C.GoString(pron)))
		C.free(unsafe.Pointer(pron)) // ckd_salloc'd: ckd_free is free
	}
	d.phones[w] = n
	return n
}

// search returns the name of the search for mode and hints, making and
// caching it on first use.
func (d *psDecoder) search(mode string, hints []string, log *slog.Logger) (string, error) {
	if mode == SearchLM {
		return d.lmSearch, nil
	}
	key := searchKey(mode, hints)
	if name, ok := d.searches[key]; ok {
		return name, nil
	}
	made := time.Now()
	usable, skipped := usableHints(hints, d.wordPhones)
	if len(skipped) > 0 {
		log.Debug("pocketsphinx: hints with words not in the dictionary skipped", "hints", skipped)
	}
	if len(usable) == 0 {
		return d.lmSearch, nil
	}
	if len(d.order) >= psMaxSearches {
		old := d.order[0]
		d.order = d.order[1:]
		delete(d.searches, old)
		cold := C.CString(old)
		C.ps_unset_search(d.ps, cold)
		C.free(unsafe.Pointer(cold))
	}
	cname := C.CString(key)
	defer C.free(unsafe.Pointer(cname))
	switch mode {
	case SearchKWS:
		f, err := os.CreateTemp("", "hotline-kws-*.txt")
		if err != nil {
			return "", fmt.Errorf("key phrase file: %w", err)
		}
		defer os.Remove(f.Name())
		_, err = f.WriteString(kwsList(usable))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("key phrase file: %w", err)
		}
		cpath := C.CString(f.Name())
		defer C.free(unsafe.Pointer(cpath))
		if C.ps_set_kws(d.ps, cname, cpath) != 0 {
			return "", fmt.Errorf("keyword search for %d hints rejected by pocketsphinx", len(usable))
		}
	case SearchNgram:
		sentences := make([][]string, len(usable))
		for i, h := range usable {
			sentences[i] = h.words
		}
		bg := map[string]float64{}
		for w, c := range backgroundEnglish() {
			if d.wordPhones(w) > 0 {
				bg[w] = c
			}
		}
		lm, err := BuildARPA(sentences, LMOptions{Order: 3, Background: bg, BackgroundWeight: psBackgroundWeight})
		if err != nil {
			return "", err
		}
		f, err := os.CreateTemp("", "hotline-lm-*.lm")
		if err != nil {
			return "", fmt.Errorf("language model file: %w", err)
		}
		defer os.Remove(f.Name())
		_, err = f.WriteString(lm)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("language model file: %w", err)
		}
		cpath := C.CString(f.Name())
		defer C.free(unsafe.Pointer(cpath))
		// The same wide beams as the grammar: pocketsphinx's own prune
		// the right words of telephone audio as early (bench/asr).
		restore := d.setBeams(d.grammarBeam, false)
		rc := C.ps_set_lm_file(d.ps, cname, cpath)
		restore()
		if rc != 0 {
			return "", fmt.Errorf("language model of %d hints rejected by pocketsphinx", len(usable))
		}
	case SearchJSGF:
		g := jsgfGrammar(usable)
		cg := C.CString(g)
		defer C.free(unsafe.Pointer(cg))
		// A search reads its beams from the decoder's configuration when
		// it is made: the grammar gets wide ones, the others keep theirs.
		restore := d.setBeams(d.grammarBeam, false)
		rc := C.ps_set_jsgf_string(d.ps, cname, cg)
		restore()
		if rc != 0 {
			return "", fmt.Errorf("grammar for %d hints rejected by pocketsphinx", len(usable))
		}
	}
	d.searches[key] = key
	d.order = append(d.order, key)
	log.Debug("pocketsphinx: search made", "search", key, "hints", len(usable), "took", time.Since(made).Round(time.Millisecond))
	return key, nil
}

// psBeams are the beam options a grammar search takes from GrammarBeam.
var psBeams = []string{"-beam", "-pbeam", "-wbeam"}

// setBeams sets every beam of the decoder's configuration to beam (and
// -bestpath off: the grammar's best path is its Viterbi path) for the
// searches made next, and returns what puts the previous values back.
func (d *psDecoder) setBeams(beam float64, bestpath bool) (restore func()) {
	config := C.ps_get_config(d.ps)
	old := make([]C.double, len(psBeams))
	names := make([]*C.char, len(psBeams))
	for i, b := range psBeams {
		names[i] = C.CString(b)
		old[i] = C.cmd_ln_float_r(config, names[i])
		C.cmd_ln_set_float_r(config, names[i], C.double(beam))
	}
	cbest := C.CString("-bestpath")
	oldBest := C.cmd_ln_int_r(config, cbest)
	if !bestpath {
		C.cmd_ln_set_int_r(config, cbest, 0)
	}
	return func() {
		for i := range psBeams {
			C.cmd_ln_set_float_r(config, names[i], old[i])
			C.free(unsafe.Pointer(names[i]))
		}
		C.cmd_ln_set_int_r(config, cbest, oldBest)
		C.free(unsafe.Pointer(cbest))
	}
}

// begin starts an utterance with the search for mode and hints; a hint
// search that cannot be made falls back to the language model.
func (d *psDecoder) begin(mode string, hints []string, log *slog.Logger) error {
	own := mode
	if mode == SearchHybrid {
		own = SearchNgram // and the twin the grammar
	}
	name, err := d.search(own, hints, log)
	if err != nil {
		log.Warn("pocketsphinx: hint search failed, using the language model", "err", err)
		name = d.lmSearch
	}
	d.mode = mode
	if name == d.lmSearch {
		d.mode = SearchLM
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if C.ps_set_search(d.ps, cname) != 0 {
		return fmt.Errorf("search %q cannot be selected", name)
	}
	d.fe.reset()
	d.samples = 0
	d.buf = d.buf[:0]
	if C.ps_start_utt(d.ps) != 0 {
		return errors.New("ps_start_utt failed")
	}
	return nil
}

// feed decodes 8 kHz audio (with the twin too in a hybrid utterance).
func (d *psDecoder) feed(pcm []int16) error {
	if d.mode == SearchHybrid {
		if err := d.twin.feed(pcm); err != nil {
			return err
		}
	}
	out := d.fe.process(pcm)
	if len(out) == 0 {
		return nil
	}
	if !d.live {
		d.buf = append(d.buf, out...)
		return nil
	}
	if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&out[0])), C.size_t(len(out)), 0, 0) < 0 {
		return errors.New("ps_process_raw failed")
	}
	d.samples += len(out)
	return nil
}

// hyp is the current best hypothesis.
func (d *psDecoder) hyp() string {
	if !d.live {
		return ""
	}
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return C.GoString(h)
}

// finish ends the utterance and reads the result.
//
// Confidence is the posterior probability of the best hypothesis in the
// word lattice (ps_get_prob, a log probability, through logmath_exp): 0..1.
// A grammar's lattice gives every path a posterior of 1, so a grammar
// result's confidence is its Viterbi path score (ps_get_hyp) per frame
// through a logistic (grammarConfidence): a hint that fits the audio
// badly scores low.
// Keyword spotting has no lattice: its confidence is 1 when a phrase was
// spotted (it passed its threshold) and 0 otherwise. Grammar results have
// no alternatives: they would be other hints, and the A* walk
// of the lattice the wide grammar beams leave took up to seconds
// (bench/asr/README.md). Other alternatives come from the lattice's N-best list; each one's confidence
// is the best one's scaled by their likelihood ratio (so at most the best
// one's).
func (d *psDecoder) finish() (Result, error) {
	if d.mode != SearchHybrid {
		return d.finishOne()
	}
	lm, err := d.finishOne()
	if err != nil {
		d.twin.cancel()
		return Result{}, err
	}
	g, err := d.twin.finishOne()
	if err != nil {
		return Result{}, err
	}
	return mergeHybrid(lm, g), nil
}

// finishOne ends this decoder's utterance and reads its result.
func (d *psDecoder) finishOne() (Result, error) {
	if !d.live && len(d.buf) > 0 {
		// The whole utterance at once (full_utt): the feature code
		// normalises it with its own cepstral mean.
		if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&d.buf[0])), C.size_t(len(d.buf)), 0, 1) < 0 {
			C.ps_end_utt(d.ps)
			return Result{}, errors.New("ps_process_raw failed")
		}
	}
	if C.ps_end_utt(d.ps) < 0 {
		return Result{}, errors.New("ps_end_utt failed")
	}
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	res := Result{Final: true, Confidence: 0}
	if h == nil {
		return res, nil
	}
	res.Text = strings.TrimSpace(C.GoString(h))
	if res.Text == "" {
		return res, nil
	}
	if d.mode == SearchKWS {
		res.Confidence = 1
		return res, nil
	}
	// A grammar's lattice gives every hypothesis a posterior of 1: no
	// information. The confidence is the path score per frame instead.
	if d.mode == SearchJSGF {
		if n := int(C.ps_get_n_frames(d.ps)); n > 0 {
			res.Confidence = grammarConfidence(float64(score) / float64(n))
		}
		return res, nil
	}
	res.Confidence = clamp01(float64(C.logmath_exp(d.lmath, C.ps_get_prob(d.ps))))
	if d.mode == SearchNgram || d.mode == SearchHybrid {
		// Without the best-path search the posterior is always 1, and with
		// it, at these beams, near 0 for right and wrong text alike
		// (bench/asr): no confidence rather than a made-up one.
		res.Confidence = -1
	}
	best := score
	seen := map[string]bool{res.Text: true}
	nb := C.ps_nbest(d.ps)
	for i := 0; nb != nil && i < psNbestSteps && len(res.Alternatives) < psMaxAlternatives; i++ {
		var s C.int32
		if ah := C.ps_nbest_hyp(nb, &s); ah != nil {
			t := strings.TrimSpace(C.GoString(ah))
			if t != "" && !seen[t] {
				seen[t] = true
				ratio := float64(C.logmath_exp(d.lmath, C.int(min(0, s-best))))
				conf := -1.0
				if res.Confidence >= 0 {
					conf = clamp01(res.Confidence * ratio)
				}
				res.Alternatives = append(res.Alternatives, Alternative{Text: t, Confidence: conf})
			}
		}
		nb = C.ps_nbest_next(nb) // frees the iterator when it ends
	}
	if nb != nil {
		C.ps_nbest_free(nb)
	}
	return res, nil
}

// cancel ends an utterance whose result nobody wants.
func (d *psDecoder) cancel() {
	C.ps_end_utt(d.ps)
	if d.mode == SearchHybrid {
		d.twin.cancel()
	}
}

func clamp01(v float64) float64 { return min(1, max(0, v)) }

// psStream is one utterance on a decoder. Its goroutine (run) owns the
// decoder until the utterance ends.
type psStream struct {
	p        *Pocketsphinx
	d        *psDecoder
	log      *slog.Logger
	audio    chan []int16
	partials chan Result
	end      chan struct{} // closed by Close: no more audio
	abort    chan struct{} // closed by Abort
	done     chan struct{} // closed when run has returned the decoder
	endOnce  sync.Once
	abOnce   sync.Once
	ended    atomic.Bool
	dropped  atomic.Int64
	res      Result
	err      error
	mode     string   // the search of the utterance
	hints    []string // its hints
}

// Write implements Stream: it copies the audio to the decoder's queue and
// returns at once; when the queue is full the audio is dropped and counted.
func (s *psStream) Write(pcm []int16) error {
	if s.ended.Load() {
		return errors.New("pocketsphinx: write after the stream ended")
	}
	if len(pcm) == 0 {
		return nil
	}
	select {
	case s.audio <- append([]int16(nil), pcm...):
	default:
		if s.dropped.Add(1) == 1 {
			s.log.Warn("pocketsphinx: decoder behind, dropping audio")
		}
		s.p.dropped.Add(1)
	}
	return nil
}

// Partials implements Stream.
func (s *psStream) Partials() <-chan Result { return s.partials }

// Close implements Stream.
func (s *psStream) Close(ctx context.Context) (Result, error) {
	s.ended.Store(true)
	s.endOnce.Do(func() { close(s.end) })
	select {
	case <-s.done:
		return s.res, s.err
	case <-ctx.Done():
		s.Abort()
		return Result{}, fmt.Errorf("pocketsphinx: waiting for the result: %w", ctx.Err())
	}
}

// Abort implements Stream.
func (s *psStream) Abort() {
	s.ended.Store(true)
	s.abOnce.Do(func() { close(s.abort) })
}

// run decodes the stream's audio on its decoder, then gives the decoder
// back. It is the only goroutine that touches the decoder meanwhile.
func (s *psStream) run() {
	defer close(s.done)
	defer s.p.release(s)
	defer close(s.partials)
	d := s.d
	if err := s.begin(); err != nil {
		s.err = err // the audio is drained and dropped; Close returns it
	}
	last, lastPartial := "", 0
	feed := func(pcm []int16) bool {
		if s.err != nil {
			return true
		}
		if err := d.feed(pcm); err != nil {
			s.err = fmt.Errorf("pocketsphinx: %w", err)
			return false
		}
		if d.samples-lastPartial >= psPartialSamples {
			lastPartial = d.samples
			if h := d.hyp(); h != "" && h != last {
				last = h
				s.partial(Result{Text: h, Confidence: -1})
			}
		}
		return true
	}
	for {
		select {
		case <-s.abort:
			d.cancel()
			return
		default:
		}
		select {
		case <-s.abort:
			d.cancel()
			return
		case pcm := <-s.audio:
			feed(pcm)
		case <-s.end:
			// Every Write happened before Close: what is queued is all.
			for drained := false; !drained; {
				select {
				case <-s.abort:
					d.cancel()
					return
				case pcm := <-s.audio:
					feed(pcm)
				default:
					drained = true
				}
			}
			if s.err != nil {
				d.cancel()
				return
			}
			res, err := d.finish()
			if err != nil {
				s.err = fmt.Errorf("pocketsphinx: %w", err)
				return
			}
			s.res = res
			if n := s.dropped.Load(); n > 0 {
				s.log.Warn("pocketsphinx: audio dropped in utterance", "writes", n)
			}
			return
		}
	}
}

// partial delivers an interim result, replacing one not yet read.
func (s *psStream) partial(r Result) {
	select {
	case s.partials <- r:
	default:
		select {
		case <-s.partials:
		default:
		}
		select {
		case s.partials <- r:
		default:
		}
	}
}
