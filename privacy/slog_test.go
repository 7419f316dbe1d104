package privacy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value { return slog.StringValue(v.s) }

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil), nil))
	log = log.With("caller", "13800138000", slog.Group("who", "mail", "li.lei@example.cn"))
	log = log.WithGroup("call").With("note", "ID 11010519491231002X")
	log.Info("caller said 幺三八零零一三八零零零",
		"text", "my card is 4111 1111 1111 1111",
		slog.Group("asr", "best", "call me on 415-555-0132", "n", 3),
		"err", errors.New("lookup 13900139000: not found"),
		"who", stringer{"john dot smith at example dot com"},
		"lazy", valuer{"+44 20 7946 0958"},
		"number", int64(13800138000),
		"count", 12345678901234,
		"order", "20261127001",
		"plain_err", errors.New("timeout"),
	)
	out := buf.String()
	for _, leak := range []string{
		"13800138000", "li.lei", "11010519491231002X", "幺三八", "4111", "415-555", "13900139000",
		"john dot", "7946",
	} {
		if strings.Contains(out, leak) {
			t.Errorf("log line leaks %q:\n%s", leak, out)
		}
	}
	for _, keep := range []string{
		`"msg":"caller said [phone]"`, `"caller":"[phone]"`, `"who":{"mail":"[email]"}`,
		`"call":{"note":"ID [id]"`, `"text":"my card is [card]"`, `"asr":{"best":"call me on [phone]","n":3}`,
		`"err":"lookup [phone]: not found"`, `"who":"[email]"`, `"lazy":"[phone]"`, `"number":"[phone]"`,
		`"count":12345678901234`, `"order":"20261127001"`, `"plain_err":"timeout"`,
	} {
		if !strings.Contains(out, keep) {
			t.Errorf("log line lacks %s:\n%s", keep, out)
		}
	}
}

// nopHandler counts records and keeps nothing.
type nopHandler struct{ n int }

func (h *nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h *nopHandler) Handle(context.Context, slog.Record) error { h.n++; return nil }
func (h *nopHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h *nopHandler) WithGroup(string) slog.Handler             { return h }

func plainRecord() slog.Record {
	r := slog.NewRecord(today, slog.LevelInfo, "caller asked about opening hours", 0)
	r.AddAttrs(slog.String("call", "c-abcdef"), slog.String("intent", "hours"),
		slog.Group("asr", slog.String("text", "你们周末上班吗"), slog.Float64("confidence", 0.91)))
	return r
}

func TestLogHandlerNoAllocation(t *testing.T) {
	next := &nopHandler{}
	h := NewLogHandler(next, New())
	rec := plainRecord()
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() { _ = h.Handle(ctx, rec) }); n != 0 {
		t.Errorf("Handle of a record with nothing to redact allocates %v times", n)
	}
}

func BenchmarkLogHandler(b *testing.B) {
	ctx := context.Background()
	h := NewLogHandler(&nopHandler{}, New())
	b.Run("plain", func(b *testing.B) {
		rec := plainRecord()
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Handle(ctx, rec)
		}
	})
	b.Run("phone", func(b *testing.B) {
		rec := slog.NewRecord(today, slog.LevelInfo, "utterance", 0)
		rec.AddAttrs(slog.String("call", "c-abcdef"), slog.String("text", "我的手机号是13800138000"))
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Handle(ctx, rec)
		}
	})
}
