package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/hotline-dev/hotline/media/wav"
)

// textVersion changes whenever prepareText changes what espeak-ng is given,
// so cached prompts are rendered again.
const textVersion = 2

// EspeakOptions configure the espeak-ng backend. Zero values mean defaults.
type EspeakOptions struct {
	Binary string // program name or path; default "espeak-ng", looked up in PATH
	// Voices maps BCP 47 languages to voices, over the built-in choice
	// ("zh-CN": "cmn-latn-pinyin"). Every voice named must be installed.
	Voices       map[string]string
	DefaultVoice string        // for languages without a voice; default "en-us"
	Speed        int           // words per minute (-s); default espeak-ng's 175
	Pitch        int           // 1–99 (-p); default espeak-ng's 50
	Amplitude    int           // 1–200 (-a); default espeak-ng's 100
	Timeout      time.Duration // per request, queueing excluded; default 15 s
	MaxProcs     int           // espeak-ng processes at once; default the number of CPUs
	MaxText      int           // longest text in bytes; default 32 KiB (about 30 minutes of speech)
	// SSML lets espeak-ng interpret SSML markup (-m). Off, tags are removed
	// from the text rather than read out. Turn it on only for trusted text:
	// template values are not escaped for markup.
	SSML   bool
	Logger *slog.Logger
}

// Espeak is the espeak-ng backend: one process per request, text on stdin,
// WAV on stdout, decoded and resampled to 8 kHz by media/wav.
//
// espeak-ng starts in ~10 ms and renders a short prompt in a few more (see
// the package tests), so a process per request is cheap enough, and a stuck
// or crashing engine takes only its own request with it. MaxProcs bounds the
// processes so a burst of prompts cannot fork-bomb the host.
type Espeak struct {
	bin      string
	version  string
	voices   map[string]bool   // installed voices, by the names -v takes
	aliases  map[string]string // language → best voice, from --voices' "other languages"
	override map[string]string
	defVoice string
	opts     EspeakOptions
	sem      chan struct{}
	log      *slog.Logger
}

// NewEspeak finds the espeak-ng binary, reads its version and voices, and
// checks the configured voices exist.
func NewEspeak(o EspeakOptions) (*Espeak, error) {
	if o.Binary == "" {
		o.Binary = "espeak-ng"
	}
	if o.DefaultVoice == "" {
		o.DefaultVoice = "en-us"
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxProcs <= 0 {
		o.MaxProcs = runtime.NumCPU()
	}
	if o.MaxText <= 0 {
		o.MaxText = 32 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	bin, err := exec.LookPath(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("speech: %s not found (install the Debian package espeak-ng, or set the binary's path): %w", o.Binary, err)
	}
	e := &Espeak{bin: bin, opts: o, defVoice: strings.ToLower(o.DefaultVoice), sem: make(chan struct{}, o.MaxProcs), log: o.Logger,
		override: map[string]string{}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("speech: %s --version: %w", bin, err)
	}
	e.version = parseEspeakVersion(string(out))
	out, err = exec.CommandContext(ctx, bin, "--voices").Output()
	if err != nil {
		return nil, fmt.Errorf("speech: %s --voices: %w", bin, err)
	}
	e.voices, e.aliases = parseVoices(string(out))
	if len(e.voices) == 0 {
		return nil, fmt.Errorf("speech: %s lists no voices (is espeak-ng-data installed?)", bin)
	}
	if !e.voiceOK(e.defVoice) {
		return nil, fmt.Errorf("speech: espeak-ng has no default voice %q; installed: %s", o.DefaultVoice, e.voiceList())
	}
	for lang, v := range o.Voices {
		v = strings.ToLower(v)
		if !e.voiceOK(v) {
			return nil, fmt.Errorf("speech: espeak-ng has no voice %q (configured for %s); installed: %s", v, lang, e.voiceList())
		}
		e.override[normTag(lang)] = v
	}
	if v := e.Voice("zh-CN"); v != "cmn-latn-pinyin" {
		e.log.Warn("espeak-ng has no cmn-latn-pinyin voice: Chinese prompts will sound wrong", "voice", v)
	}
	e.log.Debug("espeak-ng ready", "binary", bin, "version", e.version, "voices", len(e.voices),
		"mandarin", e.Voice("zh-CN"), "english", e.Voice("en-US"))
	return e, nil
}

var espeakVersionRE = regexp.MustCompile(`text-to-speech:\s*(\S+)`)

func parseEspeakVersion(s string) string {
	if m := espeakVersionRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return strings.TrimSpace(s)
}

var otherLangRE = regexp.MustCompile(`\(([A-Za-z0-9-]+) (\d+)\)`)

// parseVoices reads `espeak-ng --voices`:
//
//	Pty Language       Age/Gender VoiceName          File                 Other Languages
//	 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
//
// The Language column is what -v takes. MBROLA voices (files under mb/) are
// left out: they need the mbrola program and data, which Debian's espeak-ng
// does not bring.
func parseVoices(s string) (voices map[string]bool, aliases map[string]string) {
	voices = map[string]bool{}
	aliases = map[string]string{}
	prio := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] == "Pty" || strings.HasPrefix(f[4], "mb/") {
			continue
		}
		lang := strings.ToLower(f[1])
		voices[lang] = true
		for _, m := range otherLangRE.FindAllStringSubmatch(strings.Join(f[5:], " "), -1) {
			other := strings.ToLower(m[1])
			p, _ := strconv.Atoi(m[2])
			if old, ok := prio[other]; !ok || p < old {
				prio[other], aliases[other] = p, lang
			}
		}
	}
	return voices, aliases
}

func (e *Espeak) voiceList() string {
	names := make([]string, 0, len(e.voices))
	for v := range e.voices {
		names = append(names, v)
	}
	slices.Sort(names)
	if len(names) > 40 {
		names = append(names[:40], fmt.Sprintf("… (%d in all; espeak-ng --voices)", len(names)))
	}
	return strings.Join(names, ", ")
}

var voiceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(\+[a-z0-9-]+)?$`)

// voiceOK tells whether v names an installed voice, optionally with a
// variant ("en-us+f3"). Only such names reach the command line.
func (e *Espeak) voiceOK(v string) bool {
	if !voiceRE.MatchString(v) {
		return false
	}
	base, _, _ := strings.Cut(v, "+")
	return e.voices[base]
}

// Name is "espeak-ng".
func (e *Espeak) Name() string { return "espeak-ng" }

// Version is the engine version and every option that changes the audio.
func (e *Espeak) Version() string {
	return fmt.Sprintf("%s s=%d p=%d a=%d ssml=%t text=%d", e.version, e.opts.Speed, e.opts.Pitch, e.opts.Amplitude, e.opts.SSML, textVersion)
}

func normTag(lang string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(lang), "_", "-"))
}

// Voice picks the voice for a BCP 47 language.
//
// Chinese gets "cmn-latn-pinyin": espeak-ng 1.51's plain "cmn" voice reads
// most hanzi as pinyin spelt out in English ("您" comes out as "nin two"),
// while cmn-latn-pinyin reads the same hanzi as Mandarin syllables with
// tones. Hong Kong and Macau Chinese, and yue, get the Cantonese voice.
func (e *Espeak) Voice(language string) string {
	tag := normTag(language)
	if v, ok := e.override[tag]; ok {
		return v
	}
	if tag == "" {
		return e.defVoice
	}
	primary, rest, _ := strings.Cut(tag, "-")
	first := func(cands ...string) string {
		for _, c := range cands {
			if e.voices[c] {
				return c
			}
		}
		return ""
	}
	var v string
	switch primary {
	case "zh", "cmn":
		if primary == "zh" && (strings.Contains(rest, "hk") || strings.Contains(rest, "mo") || strings.HasPrefix(rest, "yue")) {
			v = first("yue")
		}
		if v == "" {
			v = first("cmn-latn-pinyin", "cmn")
		}
	case "yue":
		v = first("yue")
	case "en":
		switch {
		case rest == "" || strings.HasPrefix(rest, "us"):
			v = first("en-us")
		case strings.HasPrefix(rest, "au"), strings.HasPrefix(rest, "nz"), strings.HasPrefix(rest, "ie"),
			strings.HasPrefix(rest, "in"), strings.HasPrefix(rest, "za"):
			v = first("en-gb")
		}
	}
	if v != "" {
		return v
	}
	// The tag itself, then shorter and shorter prefixes ("de-ch-1996" →
	// "de-ch" → "de"), each as a voice and as another voice's language.
	for t := tag; t != ""; {
		if e.voices[t] {
			return t
		}
		if a, ok := e.aliases[t]; ok {
			return a
		}
		i := strings.LastIndexByte(t, '-')
		if i < 0 {
			break
		}
		t = t[:i]
	}
	return e.defVoice
}

// Synthesize runs espeak-ng for text and returns 8 kHz mono PCM.
func (e *Espeak) Synthesize(ctx context.Context, text, voice string) ([]int16, error) {
	if voice == "" {
		voice = e.defVoice
	}
	voice = strings.ToLower(voice)
	if !e.voiceOK(voice) {
		return nil, fmt.Errorf("%w %q for espeak-ng", ErrUnknownVoice, voice)
	}
	if len(text) > e.opts.MaxText {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTextTooLong, len(text), e.opts.MaxText)
	}
	text = prepareText(text, voice, e.opts.SSML)
	if text == "" {
		return nil, nil
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("speech: waiting for an espeak-ng slot: %w", ctx.Err())
	}
	defer func() { <-e.sem }()

	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	// Text goes on stdin, never on the command line: it may start with "-".
	args := []string{"-v", voice, "-b", "1", "--stdin", "--stdout"}
	if e.opts.Speed > 0 {
		args = append(args, "-s", strconv.Itoa(e.opts.Speed))
	}
	if e.opts.Pitch > 0 {
		args = append(args, "-p", strconv.Itoa(e.opts.Pitch))
	}
	if e.opts.Amplitude > 0 {
		args = append(args, "-a", strconv.Itoa(e.opts.Amplitude))
	}
	if e.opts.SSML {
		args = append(args, "-m")
	}
	cmd := exec.CommandContext(pctx, e.bin, args...)
	cmd.Stdin = strings.NewReader(text)
	// espeak-ng writes 44 kB per second of speech, and a byte of text is at
	// most about 0.1 s of it (a hanzi is three bytes and a quarter second);
	// the cap allows twice that. Past it the process is killed rather than
	// left blocked on a full pipe.
	perByte := 8 << 10
	if e.opts.Speed > 0 && e.opts.Speed < 175 {
		perByte = perByte * 175 / e.opts.Speed
	}
	stdout := &capped{max: len(text)*perByte + 1<<20, onFull: cancel}
	stderr := &capped{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	ownGroup(cmd)
	err := cmd.Run()
	elapsed := time.Since(start)
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("speech: espeak-ng: %w", ctx.Err())
	case stdout.full:
		return nil, fmt.Errorf("speech: espeak-ng wrote more than %d bytes of audio", stdout.max)
	case errors.Is(pctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("speech: espeak-ng took longer than %v for %d bytes of text: %w", e.opts.Timeout, len(text), context.DeadlineExceeded)
	case err != nil:
		return nil, fmt.Errorf("speech: espeak-ng -v %s: %w: %s", voice, err, strings.TrimSpace(stderr.buf.String()))
	}
	pcm, info, err := wav.Decode(bytes.NewReader(stdout.buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("speech: espeak-ng output: %w", err)
	}
	e.log.Debug("espeak-ng", "voice", voice, "bytes", len(text), "audio", info.Duration, "took", elapsed)
	return pcm, nil
}

// capped is a buffer that refuses to grow past max and says so.
type capped struct {
	buf    bytes.Buffer
	max    int
	full   bool
	onFull func()
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		c.full = true
		if c.onFull != nil {
			c.onFull()
		}
		return 0, errors.New("output over the limit")
	}
	return c.buf.Write(p)
}

var (
	// Things that look like markup tags: <break time="1s"/>, </b>, <speak>.
	tagRE   = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9:_-]*(\s[^<>]*)?/?>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// prepareText makes text safe and readable for espeak-ng: valid UTF-8,
// compatibility forms folded (full-width digits and letters, which espeak-ng
// would read as code points), control characters and, unless SSML is on,
// markup tags gone, phoneme input ("[[…]]", which espeak-ng obeys even
// without -m) defused; for Chinese voices numbers become Chinese numerals,
// and for the Mandarin voice misread words and tone changes become pinyin.
func prepareText(text, voice string, ssml bool) string {
	text = strings.ToValidUTF8(text, " ")
	text = norm.NFKC.String(text)
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, text)
	if !ssml {
		text = tagRE.ReplaceAllString(text, " ")
	}
	if isChineseVoice(voice) {
		text = chineseNumbers(text, strings.HasPrefix(voice, "cmn"))
	}
	// Pinyin is only read as pinyin by this voice (plain cmn spells it in English).
	if base, _, _ := strings.Cut(voice, "+"); base == "cmn-latn-pinyin" {
		text = mandarinReadings(text)
	}
	for strings.Contains(text, "[[") { // "[[[" needs two passes
		text = strings.ReplaceAll(text, "[[", "[ [")
	}
	return strings.TrimSpace(spaceRE.ReplaceAllString(text, " "))
}

func isChineseVoice(v string) bool {
	base, _, _ := strings.Cut(v, "+")
	return base == "cmn" || strings.HasPrefix(base, "cmn-") || base == "yue" || strings.HasPrefix(base, "yue-") || base == "zh" || strings.HasPrefix(base, "zh-")
}
