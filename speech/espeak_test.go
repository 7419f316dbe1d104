package speech

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
)

func TestEspeakEnglish(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	v := e.Voice("en-US")
	if v != "en-us" {
		t.Errorf("voice for en-US: %q", v)
	}
	start := time.Now()
	pcm, err := e.Synthesize(context.Background(), "Thank you for calling Northwind Energy. Goodbye.", v)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	d, level, voiced := speechStats(pcm)
	t.Logf("English: %v of audio at %.1f dBFS, %.0f%% voiced frames, rendered in %v", d, level, voiced*100, took)
	if d < 1500*time.Millisecond || d > 5*time.Second || level < -35 || voiced < 0.5 {
		t.Errorf("does not look like a spoken sentence: %v, %.1f dBFS, %.0f%% voiced", d, level, voiced*100)
	}
}

// The Mandarin voice reads hanzi as Mandarin syllables, not as pinyin spelt
// out by the English voice ("nin two"), which is what espeak-ng's plain
// "cmn" voice does with most of them.
func TestEspeakMandarin(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	v := e.Voice("zh-CN")
	if v != "cmn-latn-pinyin" {
		t.Fatalf("voice for zh-CN: %q", v)
	}
	text := "您好,这里是优选商城的自动语音助手。"
	out, err := exec.Command(e.bin, "-q", "-x", "-v", v, "-b", "1", prepareText(text, v, false)).Output()
	if err != nil {
		t.Fatal(err)
	}
	phonemes := string(out)
	if strings.Contains(phonemes, "(en)") {
		t.Errorf("hanzi read with the English voice: %s", phonemes)
	}
	// Sixteen hanzi, sixteen syllables, each with a tone contour.
	if n := strings.Count(phonemes, "_|"); n != 16 {
		t.Errorf("%d syllables, want 16: %s", n, phonemes)
	}
	start := time.Now()
	pcm, err := e.Synthesize(context.Background(), text, v)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	d, level, voiced := speechStats(pcm)
	t.Logf("Mandarin: %v of audio at %.1f dBFS, %.0f%% voiced frames, rendered in %v", d, level, voiced*100, took)
	// A person says these 16 syllables in about 3.5 s.
	if d < 2500*time.Millisecond || d > 7*time.Second || level < -35 || voiced < 0.5 {
		t.Errorf("does not look like a spoken sentence: %v, %.1f dBFS, %.0f%% voiced", d, level, voiced*100)
	}
	// Cantonese is there too.
	if v := e.Voice("zh-HK"); v != "yue" {
		t.Errorf("voice for zh-HK: %q", v)
	}
}

// Text is data: it never becomes an option, a phoneme string or markup, and
// odd bytes do not break the engine.
func TestEspeakHostileText(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	ctx := context.Background()
	plain := func(text string) time.Duration {
		t.Helper()
		pcm, err := e.Synthesize(ctx, text, "en-us")
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		d, _, _ := speechStats(pcm)
		return d
	}
	hello := plain("hello")
	for _, text := range []string{"-v xx", "--stdout", "-w /tmp/owned.wav", "--path=/nonexistent hello"} {
		if d := plain(text); d < 300*time.Millisecond {
			t.Errorf("%q: only %v of audio: was it taken as an option?", text, d)
		}
	}
	if _, err := os.Stat("/tmp/owned.wav"); err == nil {
		t.Error("text was taken as -w")
	}
	// Markup is removed, not obeyed (a 5 s pause) and not read out.
	if d := plain(`<speak><break time="5s"/>hello</speak>`); d > hello+300*time.Millisecond {
		t.Errorf("markup changed the audio: %v against %v for hello", d, hello)
	}
	// espeak-ng's [[phoneme]] input is defused: the brackets are text.
	if d := plain("[[h@'loU]]"); d > 2*time.Second {
		t.Errorf("phoneme input: %v", d)
	}
	// Control characters, an escape sequence, NUL, invalid UTF-8.
	if d := plain("hello\x00 world\x1b[31m\r\n\x07\xff\xfe again"); d < 500*time.Millisecond {
		t.Errorf("control characters: %v", d)
	}
	// Empty text: no audio, no error, no process.
	for _, text := range []string{"", "   ", "\x00\x01", "<b></b>"} {
		pcm, err := e.Synthesize(ctx, text, "en-us")
		if err != nil || len(pcm) != 0 {
			t.Errorf("%q: %d samples, %v", text, len(pcm), err)
		}
	}
	// 10 kB of text: rendered (a long message), in bounded time.
	long := strings.Repeat("Your call is important to us. ", 340)
	start := time.Now()
	pcm, err := e.Synthesize(ctx, long, "en-us")
	if err != nil {
		t.Fatal(err)
	}
	d, _, _ := speechStats(pcm)
	t.Logf("%d bytes of text: %v of audio in %v", len(long), d, time.Since(start))
	if d < 5*time.Minute {
		t.Errorf("10 kB of text gave only %v", d)
	}
	// Over the limit: refused before any process runs.
	if _, err := e.Synthesize(ctx, strings.Repeat("x", 40<<10), "en-us"); !errors.Is(err, ErrTextTooLong) {
		t.Errorf("40 kB: %v", err)
	}
}

func TestEspeakVoices(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	for _, v := range []string{"xx", "-v", "--stdout", "en-us --stdout", "en-us+../../x", "../en-us"} {
		if _, err := e.Synthesize(context.Background(), "hello", v); !errors.Is(err, ErrUnknownVoice) {
			t.Errorf("voice %q: %v", v, err)
		}
	}
	// A variant is fine; "" is the default voice.
	for _, v := range []string{"en-us+f3", ""} {
		if pcm, err := e.Synthesize(context.Background(), "hello", v); err != nil || len(pcm) == 0 {
			t.Errorf("voice %q: %d samples, %v", v, len(pcm), err)
		}
	}
	_, err := NewEspeak(EspeakOptions{Voices: map[string]string{"fr-FR": "nosuchvoice"}})
	if err == nil || !strings.Contains(err.Error(), `no voice "nosuchvoice"`) || !strings.Contains(err.Error(), "en-us") {
		t.Errorf("missing voice: %v", err)
	}
	o, err := NewEspeak(EspeakOptions{Voices: map[string]string{"en_GB": "en-gb-scotland"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := o.Voice("en-GB"); v != "en-gb-scotland" {
		t.Errorf("override: %q", v)
	}
}

func TestEspeakMissingBinary(t *testing.T) {
	_, err := NewEspeak(EspeakOptions{Binary: filepath.Join(t.TempDir(), "espeak-ng")})
	if err == nil || !strings.Contains(err.Error(), "espeak-ng not found") || !strings.Contains(err.Error(), "Debian package espeak-ng") {
		t.Errorf("missing binary: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := NewEspeak(EspeakOptions{}); err == nil || !strings.Contains(err.Error(), "install the Debian package espeak-ng") {
		t.Errorf("not in PATH: %v", err)
	}
}

// A stuck engine is killed at the timeout; the caller's context ends a wait.
func TestEspeakTimeout(t *testing.T) {
	bin := fakeEspeak(t, "sleep 30")
	e, err := NewEspeak(EspeakOptions{Binary: bin, Timeout: 300 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Synthesize(context.Background(), "hello", "")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "took longer than 300ms") {
		t.Errorf("timeout: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("timed out after %v", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	e.opts.Timeout = time.Minute
	start = time.Now()
	if _, err := e.Synthesize(ctx, "hello", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancelled after %v", took)
	}
}

// MaxProcs bounds the processes: six requests of 200 ms through two slots
// take three rounds.
func TestEspeakConcurrencyLimit(t *testing.T) {
	ok := filepath.Join(t.TempDir(), "ok.wav")
	if err := wav.Write(ok, make([]int16, 800), 8000); err != nil {
		t.Fatal(err)
	}
	bin := fakeEspeak(t, "sleep 0.2; cat "+ok)
	e, err := NewEspeak(EspeakOptions{Binary: bin, MaxProcs: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if pcm, err := e.Synthesize(context.Background(), "hello", ""); err != nil || len(pcm) != 800 {
				t.Errorf("%d samples, %v", len(pcm), err)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Errorf("6 × 200 ms through 2 slots took %v: the limit did not hold", took)
	}
	// A queued request gives up when its context ends.
	e.sem <- struct{}{}
	e.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.Synthesize(ctx, "hello", ""); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for an espeak-ng slot") {
		t.Errorf("queued: %v", err)
	}
}

func TestEspeakBrokenOutput(t *testing.T) {
	for body, want := range map[string]string{
		"echo not a wav":                "espeak-ng output",
		"echo 'no voice' >&2; exit 1":   "no voice",
		"head -c 50000000 /dev/zero":    "more than",
		"printf 'RIFF\\0\\0\\0\\0WAVE'": "espeak-ng output",
	} {
		e, err := NewEspeak(EspeakOptions{Binary: fakeEspeak(t, body), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Synthesize(context.Background(), "hi", ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestParseVoices(t *testing.T) {
	out := `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
 5  zh              --/M      chinese-mb-cn1     mb/mb-cn1            
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)
 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)
`
	voices, aliases := parseVoices(out)
	if voices["zh"] || !voices["cmn-latn-pinyin"] || !voices["en-us"] || len(voices) != 6 {
		t.Errorf("voices %v", voices)
	}
	e := &Espeak{voices: voices, aliases: aliases, defVoice: "en-us", override: map[string]string{}}
	for lang, want := range map[string]string{
		"zh-CN": "cmn-latn-pinyin", "zh": "cmn-latn-pinyin", "zh-Hans-CN": "cmn-latn-pinyin", "zh-TW": "cmn-latn-pinyin",
		"cmn": "cmn-latn-pinyin", "zh-HK": "yue", "yue": "yue", "zh-yue": "yue",
		"en-US": "en-us", "en": "en-us", "en-GB": "en-gb", "en-AU": "en-gb", "en_us": "en-us",
		"fr-CA": "fr-fr", "fr": "fr-fr", "xx-YY": "en-us", "": "en-us",
	} {
		if got := e.Voice(lang); got != want {
			t.Errorf("Voice(%q) = %q, want %q", lang, got, want)
		}
	}
	delete(e.voices, "cmn-latn-pinyin")
	if got := e.Voice("zh-CN"); got != "cmn" {
		t.Errorf("without cmn-latn-pinyin: %q", got)
	}
	if v := parseEspeakVersion("eSpeak NG text-to-speech: 1.51  Data at: /usr/lib"); v != "1.51" {
		t.Errorf("version %q", v)
	}
}

func TestPrepareText(t *testing.T) {
	for _, c := range []struct{ in, voice, want string }{
		{"Hello,  world\n\tagain", "en-us", "Hello, world again"},
		{"ＡＢＣ１２３", "en-us", "ABC123"},
		{"a\x00b\x1b[31mc\u2028d", "en-us", "a b [31mc d"},
		{"[[h@'loU]]", "en-us", "[ [h@'loU]]"},
		{`<speak>Hi <break time="3s"/> there</speak>`, "en-us", "Hi there"},
		{"a < b and c > d", "en-us", "a < b and c > d"},
		{"订单号是１２３４５６７８９０１２。", "cmn-latn-pinyin", "订单号是幺二三四五六七八九零幺二。"},
		{"请按#号键结束,按*返回", "cmn-latn-pinyin", "请按井号键结束,按星号返回"},
		{"请拨打12315", "yue", "请拨打一二三一五"},
	} {
		if got := prepareText(c.in, c.voice, false); got != c.want {
			t.Errorf("prepareText(%q, %s) = %q, want %q", c.in, c.voice, got, c.want)
		}
	}
	if got := prepareText(`<break time="3s"/>hi`, "en-us", true); got != `<break time="3s"/>hi` {
		t.Errorf("SSML on: %q", got)
	}
}

func TestChineseNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"按1":                   "按一",
		"按0转人工":                "按零转人工",
		"12000元":               "一万二千元",
		"10005元":               "一万零五元",
		"1050":                 "一千零五十",
		"15":                   "十五",
		"115":                  "一百一十五",
		"100":                  "一百",
		"一共20件":                "一共二十件",
		"请拨打12315":             "请拨打幺二三幺五",
		"区号0571":               "区号零五七幺",
		"1 2 3 4 5 6":          "幺 二 三 四 五 六",
		"138-0013-8000":        "幺三八 零零幺三 八零零零",
		"138 0013 8000":        "幺三八 零零幺三 八零零零",
		"400-820-8820":         "四零零 八二零 八八二零",
		"2026年10月1日":           "二零二六年十月一日",
		"09:00-21:00":          "九点到二十一点",
		"周一至周五 9:30-18:00":     "周一至周五 九点三十分到十八点",
		"2:00":                 "两点",
		"8:05":                 "八点零五分",
		"3:1":                  "三比一",
		"三到5个工作日":              "三到五个工作日",
		"3-5个工作日":              "三到五个工作日",
		"3.5":                  "三点五",
		"0.25元":                "零点二五元",
		"50%":                  "百分之五十",
		"99.9%":                "百分之九十九点九",
		"100000000":            "幺零零零零零零零零",
		"100000000元":           "一亿元",
		"100010000元":           "一亿零一万元",
		"12345678901234567890": "幺二三四五六七八九零幺二三四五六七八九零",
		"没有数字":                 "没有数字",
		"5 - 6":                "五到六",
		"第1、2、3项":              "第一、二、三项",
	} {
		if got := chineseNumbers(in, true); got != want {
			t.Errorf("chineseNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}
