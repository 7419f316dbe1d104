package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
)

// NewLogHandler returns a handler that redacts with r (nil: every kind) and
// passes records on to next. It redacts the message and every attribute
// value that is a string, including attributes inside groups and those given
// to WithAttrs; an error or fmt.Stringer value becomes its redacted text when
// that text has something to redact (otherwise it is passed on unchanged, for
// next to format as it likes); an integer of 8 digits or more that is
// entirely a phone or card number becomes its token. LogValuers are resolved
// first. Keys and group names are never changed.
//
// A record with nothing to redact is passed on as it is, without allocating.
func NewLogHandler(next slog.Handler, r *Redactor) slog.Handler {
	return &logHandler{next: next, r: r}
}

type logHandler struct {
	next slog.Handler
	r    *Redactor
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *logHandler) Handle(ctx context.Context, rec slog.Record) error {
	msg, changed := h.r.redact(rec.Message)
	if !changed {
		rec.Attrs(func(a slog.Attr) bool {
			_, changed = h.attr(a)
			return !changed
		})
	}
	if !changed {
		return h.next.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, msg, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		a, _ = h.attr(a)
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i], _ = h.attr(a)
	}
	return &logHandler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), r: h.r}
}

// attr returns a with its value redacted, and whether it changed (a
// LogValuer is resolved, which counts as a change).
func (h *logHandler) attr(a slog.Attr) (slog.Attr, bool) {
	resolved := false
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
		resolved = true
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		if s, ok := h.r.redact(v.String()); ok {
			return slog.String(a.Key, s), true
		}
	case slog.KindGroup:
		g := v.Group()
		for i := range g {
			if _, ok := h.attr(g[i]); ok {
				red := make([]slog.Attr, len(g))
				for k := range g {
					red[k], _ = h.attr(g[k])
				}
				return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}, true
			}
		}
	case slog.KindInt64:
		if n := v.Int64(); n >= 1e7 {
			if s, ok := h.number(strconv.FormatInt(n, 10)); ok {
				return slog.String(a.Key, s), true
			}
		}
	case slog.KindUint64:
		if n := v.Uint64(); n >= 1e7 {
			if s, ok := h.number(strconv.FormatUint(n, 10)); ok {
				return slog.String(a.Key, s), true
			}
		}
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			return a, resolved
		}
		if s, ok := h.r.redact(s); ok {
			return slog.String(a.Key, s), true
		}
	}
	return a, resolved
}

// number redacts a decimal integer when one finding covers all of it.
func (h *logHandler) number(s string) (string, bool) {
	f := h.r.find(s)
	if len(f) == 1 && f[0].start == 0 && f[0].end == len(s) {
		return f[0].kind.Token(), true
	}
	return s, false
}
