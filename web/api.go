package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The JSON API: docs/api.md shows every endpoint with examples.

func (s *server) apiCalls(w http.ResponseWriter, r *http.Request) {
	cq, err := s.parseCallQuery(r.URL.Query(), 50)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	page, err := s.listCalls(r.Context(), cq)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *server) apiCall(w http.ResponseWriter, r *http.Request) {
	d, err := s.callDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *server) apiStats(w http.ResponseWriter, r *http.Request) {
	since, until, err := s.statsRange(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	st, err := s.stats(r.Context(), since, until)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// statsRange reads since (default 7d, as `hotline stats`) and until.
func (s *server) statsRange(r *http.Request) (since, until time.Time, err error) {
	q := r.URL.Query()
	v := q.Get("since")
	if !q.Has("since") {
		v = "7d"
	}
	if since, err = parseTimeArg(v, s.now(), s.loc); err != nil {
		return since, until, badf("since: %v", err)
	}
	if until, err = parseTimeArg(q.Get("until"), s.now(), s.loc); err != nil {
		return since, until, badf("until: %v", err)
	}
	return since, until, nil
}

func (s *server) apiLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"calls": s.live()})
}

func (s *server) apiHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.health())
}

func (s *server) apiUnanswered(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.listGroups(r.Context(), r.URL.Query())
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func groupID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badf("group ID %q: want a number", r.PathValue("id"))
	}
	return id, nil
}

func (s *server) apiGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	d, err := s.groupDetail(r.Context(), id, true)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// apiGroupAction handles POST /api/unanswered/{id}/assign|answer|ignore
// with a JSON body.
func (s *server) apiGroupAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := groupID(r)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		in, err := decodeJSON[actionInput](w, r)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		res, err := s.resolve(r.Context(), who(r).user, action, id, in, apiLang(r))
		if err != nil {
			status, body := s.classify(r, err, apiLang(r))
			writeJSON(w, status, body)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// apiLang is the language of messages in API answers: ?lang=zh, else
// English.
func apiLang(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(r.URL.Query().Get("lang")), "zh") {
		return "zh"
	}
	return "en"
}

// decodeJSON reads a JSON object of at most 1 MiB with no unknown fields.
func decodeJSON[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return v, badf("Content-Type %q: send application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return v, badf("empty body: send a JSON object")
		}
		return v, badf("body: %v", err)
	}
	if dec.More() {
		return v, badf("body: one JSON object only")
	}
	return v, nil
}

func (s *server) apiScript(w http.ResponseWriter, r *http.Request) {
	info, err := s.scriptInfo(apiLang(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *server) apiGraph(w http.ResponseWriter, r *http.Request) {
	sc := s.script()
	if sc == nil {
		s.apiFail(w, r, &errUnavailable{"the script"})
		return
	}
	g := s.graphFor(sc)
	if g.err != nil {
		s.apiFail(w, r, g.err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+g.styleHash+"; frame-ancestors 'none'")
	h.Set("Content-Disposition", `inline; filename="flow.svg"`)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	w.Write(g.svg)
}

func (s *server) apiReload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Reload == nil {
		s.apiFail(w, r, &errUnavailable{"reloading the script"})
		return
	}
	if err := s.cfg.Reload(); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error(), Code: "reload_failed"})
		return
	}
	s.log.Info("web: script reloaded on request", "by", who(r).user)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "reloads": s.reloads()})
}
