package textnorm

import "testing"

const (
	benchZH = "我想查一下我的订单到哪里了,订单号是一二三四五六"
	benchEN = "hi I'd like to check the status of my order number one two three four five six please"
	benchTW = "我們的營業時間是幾點到幾點"
)

func BenchmarkAnalyzeZH(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Analyze(benchZH)
	}
}

func BenchmarkAnalyzeEN(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Analyze(benchEN)
	}
}

// BenchmarkAnalyzeTraditional is the slow path: opencc runs.
func BenchmarkAnalyzeTraditional(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Analyze(benchTW)
	}
}

func BenchmarkFoldZH(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Fold(benchZH)
	}
}

func BenchmarkFoldEN(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Fold(benchEN)
	}
}

func BenchmarkPinyin(b *testing.B) {
	rs := []rune(benchZH)
	Pinyin(rs[0]) // build the table outside the timing
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, r := range rs {
			n += len(Pinyin(r))
		}
	}
	if n == 0 {
		b.Fatal("no readings")
	}
}

func BenchmarkDigits(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Digits(benchZH)
	}
}

// BenchmarkAnalyzeENUncommon has words outside the stem table: each costs a
// Snowball run.
func BenchmarkAnalyzeENUncommon(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Analyze("the thermostat readings fluctuated dramatically overnight")
	}
}
