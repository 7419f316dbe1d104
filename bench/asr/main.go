//go:build pocketsphinx

// Command asr measures the pocketsphinx recogniser on the spoken test set
// (speech/testdata/asr): for each search mode, the word error rate, the
// keyword and intent accuracy (intents from the English example hotline's
// matcher), the CPU per second of audio of one stream, and the latency of
// Close (end of audio → final result).
//
//	go run -tags pocketsphinx ./bench/asr                 # every mode, Markdown on stdout
//	go run -tags pocketsphinx ./bench/asr -modes jsgf -v  # one mode, with each hypothesis
//
// Audio is written in 20 ms frames paced at -speed times real time, so the
// decoder keeps up as in a call and Close measures the end of the utterance,
// not a backlog.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/speech"
)

type phrase struct {
	name, intent, keyword, text string
	pcm                         []int16
}

type mode struct {
	name    string
	search  string
	noNoise bool
}

var allModes = map[string]mode{
	"lm":           {"lm", speech.SearchLM, false},
	"kws":          {"kws", speech.SearchKWS, false},
	"jsgf":         {"jsgf", speech.SearchJSGF, false},
	"ngram":        {"ngram", speech.SearchNgram, false},
	"hybrid":       {"hybrid", speech.SearchHybrid, false},
	"lm-nonoise":   {"lm-nonoise", speech.SearchLM, true},
	"jsgf-nonoise": {"jsgf-nonoise", speech.SearchJSGF, true},
}

func main() {
	dir := flag.String("set", "speech/testdata/asr", "folder with phrases.txt and the WAVs")
	script := flag.String("script", "examples/en-utility/script.yaml", "hotline script: hints and intents")
	modes := flag.String("modes", "hybrid,ngram,jsgf,lm,kws,lm-nonoise,jsgf-nonoise", "search modes to measure")
	speed := flag.Float64("speed", 4, "write audio at this many times real time")
	whole := flag.Bool("whole", false, "decode each utterance whole at Close (batch CMN) instead of while the audio arrives")
	beam := flag.Float64("grammar-beam", 0, "beams of the grammar search (default speech.PSGrammarBeam)")
	extra := flag.String("args", "", "extra pocketsphinx arguments, space-separated (\"-lw 8 -wip 0.5\")")
	node := flag.String("node", "", "hints of this node of the script, as a call there passes them (default: every intent's keywords and examples)")
	verbose := flag.Bool("v", false, "print every hypothesis")
	writeHints := flag.String("write-hints", "", "write the script's hints to this file (speech/testdata/asr/hints.txt) and exit")
	flag.Parse()
	if *writeHints != "" {
		if err := saveHints(*script, *writeHints); err != nil {
			fmt.Fprintln(os.Stderr, "asr:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dir, *script, *node, strings.Split(*modes, ","), *speed, *verbose, *whole, *beam, strings.Fields(*extra)); err != nil {
		fmt.Fprintln(os.Stderr, "asr:", err)
		os.Exit(1)
	}
}

func run(dir, scriptPath, node string, modes []string, speed float64, verbose, whole bool, beam float64, extra []string) error {
	phrases, err := loadPhrases(dir)
	if err != nil {
		return err
	}
	s, err := dialog.LoadFile(scriptPath)
	if err != nil {
		return fmt.Errorf("script: %w", err)
	}
	hints, from := scriptHints(s), "keywords and examples of every intent of "+scriptPath
	if node != "" {
		if s.Nodes[node] == nil {
			return fmt.Errorf("script: no node %q", node)
		}
		hints, from = s.NodeHints(node), "what a call passes in node "+node+" of "+scriptPath
	}
	m := s.Matcher()
	var audio float64
	for _, p := range phrases {
		audio += float64(len(p.pcm)) / 8000
	}
	fmt.Printf("%d phrases, %.1f s of audio, %d hints (%s)\n\n", len(phrases), audio, len(hints), from)
	fmt.Println("| mode | WER | keyword found | intent right | CPU s per audio s | Close p50 | Close p99 |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var seps []separation
	for _, name := range modes {
		md, ok := allModes[name]
		if !ok {
			return fmt.Errorf("unknown mode %q", name)
		}
		r, err := speech.NewPocketsphinx(speech.PocketsphinxConfig{Workers: 1, Search: md.search, DisableNoise: md.noNoise, WholeUtterance: whole, GrammarBeam: beam, Args: extra,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			return err
		}
		// One utterance first: it builds the hint search, cached after.
		if _, err := recognise(r, phrases[0], hints, 1000); err != nil {
			r.Close()
			return err
		}
		var errs, words, kwOK, intentOK int
		sep := separation{mode: name}
		var lat []time.Duration
		cpu0 := cpuTime()
		for _, p := range phrases {
			res, err := recognise(r, p, hints, speed)
			if err != nil {
				r.Close()
				return fmt.Errorf("%s: %s: %w", name, p.name, err)
			}
			lat = append(lat, res.latency)
			e, n := speech.WordErrors(p.text, res.text)
			errs += e
			words += n
			kw := speech.ContainsPhrase(res.text, p.keyword)
			if kw {
				kwOK++
			}
			// As the dialog does: the text, then each alternative in
			// order until one matches.
			got := m.Match(res.text, m.All()).Intent
			for _, a := range res.alts {
				if got != "" {
					break
				}
				got = m.Match(a, m.All()).Intent
			}
			if got == p.intent {
				intentOK++
			}
			if res.text != "" && got != "" {
				if got == p.intent {
					sep.right = append(sep.right, res.conf)
				} else {
					sep.wrong = append(sep.wrong, res.conf)
				}
			}
			if verbose {
				fmt.Fprintf(os.Stderr, "%-13s %-11s %-14s kw=%-5v conf=%.2f %q alts=%q\n", name, p.name, got, kw, res.conf, res.text, res.alts)
			}
		}
		cpu := cpuTime() - cpu0
		r.Close()
		slices.Sort(lat)
		fmt.Printf("| %s | %.1f%% | %d/%d | %d/%d | %.3f | %v | %v |\n", name, 100*float64(errs)/float64(words),
			kwOK, len(phrases), intentOK, len(phrases), cpu.Seconds()/audio,
			lat[len(lat)/2].Round(10*time.Microsecond), lat[min(len(lat)-1, len(lat)*99/100)].Round(10*time.Microsecond))
		if md.search == speech.SearchJSGF {
			seps = append(seps, sep)
		}
	}
	for _, sep := range seps {
		sep.print()
	}
	return nil
}

// separation is how well a mode's confidence tells right intents from
// wrong ones (hypotheses the matcher gives some intent).
type separation struct {
	mode         string
	right, wrong []float64
}

// print writes, for thresholds t as a script's match.min_confidence, how
// many right intents are kept (confidence ≥ t) and wrong ones rejected.
func (s separation) print() {
	fmt.Printf("\n%s confidence, %d right intents, %d wrong (matched to another intent): at min_confidence t\n\n", s.mode, len(s.right), len(s.wrong))
	fmt.Println("| t | right kept | wrong rejected |")
	fmt.Println("|---|---|---|")
	for _, t := range []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9} {
		kept, rejected := 0, 0
		for _, c := range s.right {
			if c >= t {
				kept++
			}
		}
		for _, c := range s.wrong {
			if c < t {
				rejected++
			}
		}
		fmt.Printf("| %.1f | %d/%d | %d/%d |\n", t, kept, len(s.right), rejected, len(s.wrong))
	}
	var auc float64
	for _, r := range s.right {
		for _, w := range s.wrong {
			switch {
			case r > w:
				auc++
			case r == w:
				auc += 0.5
			}
		}
	}
	if n := len(s.right) * len(s.wrong); n > 0 {
		fmt.Printf("\nP(a right intent's confidence > a wrong one's) = %.2f\n", auc/float64(n))
	}
}

type outcome struct {
	text    string
	conf    float64
	alts    []string
	latency time.Duration
}

func recognise(r *speech.Pocketsphinx, p phrase, hints []string, speed float64) (outcome, error) {
	ctx := context.Background()
	st, err := r.Start(ctx, speech.Options{Language: "en-GB", Hints: hints, CallID: p.name})
	if err != nil {
		return outcome{}, err
	}
	frame := time.Duration(float64(20*time.Millisecond) / speed)
	next := time.Now()
	for off := 0; off < len(p.pcm); off += 160 {
		if err := st.Write(p.pcm[off:min(off+160, len(p.pcm))]); err != nil {
			st.Abort()
			return outcome{}, err
		}
		next = next.Add(frame)
		time.Sleep(time.Until(next))
	}
	t0 := time.Now()
	res, err := st.Close(ctx)
	if err != nil {
		return outcome{}, err
	}
	lat := time.Since(t0)
	alts := make([]string, len(res.Alternatives))
	for i, a := range res.Alternatives {
		alts[i] = a.Text
	}
	return outcome{res.Text, res.Confidence, alts, lat}, nil
}

func loadPhrases(dir string) ([]phrase, error) {
	f, err := os.Open(filepath.Join(dir, "phrases.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []phrase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "|")
		if len(fs) != 4 {
			return nil, fmt.Errorf("phrases.txt: bad line %q", line)
		}
		p := phrase{name: fs[0], intent: fs[1], keyword: fs[2], text: fs[3]}
		pcm, info, err := wav.ReadFile(filepath.Join(dir, p.name+".wav"))
		if err != nil {
			return nil, err
		}
		if info.SampleRate != 8000 {
			return nil, fmt.Errorf("%s.wav: %d Hz, want 8000", p.name, info.SampleRate)
		}
		p.pcm = pcm
		out = append(out, p)
	}
	return out, sc.Err()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scriptHints are every intent's keywords and examples (a call passes
// those of the intents active in its node: -node).
func scriptHints(s *dialog.Script) []string {
	var hints []string
	for _, in := range s.Intents {
		hints = append(hints, in.Keywords...)
		hints = append(hints, in.Examples...)
	}
	return hints
}

func saveHints(scriptPath, out string) error {
	s, err := dialog.LoadFile(scriptPath)
	if err != nil {
		return fmt.Errorf("script: %w", err)
	}
	text := "# Options.Hints for the spoken test set: the keywords and examples of every intent of\n# " +
		scriptPath + " (go run -tags pocketsphinx ./bench/asr -write-hints " + out + ")\n" +
		strings.Join(scriptHints(s), "\n") + "\n"
	return os.WriteFile(out, []byte(text), 0o644)
}
