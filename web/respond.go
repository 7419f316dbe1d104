package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/hotline-dev/hotline/learn"
	"github.com/hotline-dev/hotline/store"
)

// apiError is the body of every JSON error: {"error": "…", "code": "…"},
// and for a rejected teaching the script's diagnostics.
type apiError struct {
	Error       string     `json:"error"`
	Code        string     `json:"code"`
	Diagnostics []diagView `json:"diagnostics,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Error: msg, Code: code})
}

// classify maps an error of the data functions to an HTTP status, an error
// code and a message that is safe to show (internal errors are logged, not
// shown).
func (s *server) classify(r *http.Request, err error, lang string) (int, apiError) {
	var bad *badRequest
	var resolved *learn.ResolvedError
	var rejected *learn.RejectedError
	var unavail *errUnavailable
	switch {
	case errors.As(err, &bad):
		return http.StatusBadRequest, apiError{Error: bad.msg, Code: "bad_request"}
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, apiError{Error: "not found", Code: "not_found"}
	case errors.As(err, &resolved):
		return http.StatusConflict, apiError{Error: resolved.Message(lang), Code: "already_resolved"}
	case errors.As(err, &rejected):
		return http.StatusUnprocessableEntity, apiError{Error: rejected.Message(lang), Code: "rejected",
			Diagnostics: diagViews(rejected.Diags.Errors(), lang)}
	case errors.Is(err, learn.ErrNoScript):
		return http.StatusConflict, apiError{Error: err.Error(), Code: "no_script"}
	case errors.As(err, &unavail):
		return http.StatusServiceUnavailable, apiError{Error: unavail.Error(), Code: "unavailable"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, apiError{Error: "the request took too long or was cancelled", Code: "timeout"}
	}
	s.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, apiError{Error: "internal error (see the server's log)", Code: "internal"}
}

func (s *server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.classify(r, err, "en")
	writeJSON(w, status, body)
}

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func constantEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
