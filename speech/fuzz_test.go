package speech

import (
	"context"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Whatever a template puts into a prompt, the text for espeak-ng is valid
// UTF-8 without control characters or phoneme brackets, and preparing it
// never panics.
func FuzzPrepareText(f *testing.F) {
	for _, s := range []string{"您好,这里是优选商城。", "按1，转人工请按0", "9:00-21:00 3.5 50% 138-0013-8000 2026年",
		"[[h@'loU]] <break time='1s'/>", "-v xx --stdout", "不是一个银行地址", "一一一不不了", "\x00\xff\x1b"} {
		f.Add(s, "cmn-latn-pinyin")
		f.Add(s, "en-us")
	}
	f.Fuzz(func(t *testing.T, text, voice string) {
		for _, ssml := range []bool{false, true} {
			out := prepareText(text, voice, ssml)
			if !utf8.ValidString(out) || strings.Contains(out, "[[") {
				t.Fatalf("prepareText(%q, %q) = %q", text, voice, out)
			}
			for _, r := range out {
				if unicode.IsControl(r) {
					t.Fatalf("control character %U in %q", r, out)
				}
			}
		}
	})
}

// BenchmarkEspeak: one prompt through espeak-ng, process start to 8 kHz PCM.
func BenchmarkEspeak(b *testing.B) {
	e := needEspeak(b, EspeakOptions{})
	for _, c := range []struct{ name, text, voice string }{
		{"en", "Thank you for calling Northwind Energy. How can I help you today?", "en-us"},
		{"zh", "您好，欢迎致电优选商城。我是自动语音助手，本次通话将被录音。", "cmn-latn-pinyin"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Synthesize(context.Background(), c.text, c.voice); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCacheGet: a prompt already rendered, from memory and from disk.
func BenchmarkCacheGet(b *testing.B) {
	text := strings.Repeat("x", 500) // 5 s of audio from the tone synthesiser
	for _, where := range []string{"memory", "disk"} {
		b.Run(where, func(b *testing.B) {
			c := NewCache(b.TempDir(), tones{})
			if where == "disk" {
				c.SetMemoryLimit(0)
			}
			if _, err := c.Get(context.Background(), text, ""); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Get(context.Background(), text, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
