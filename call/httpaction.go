// Package call runs one call: it executes the dialog engine's actions on
// media, speech, SIP and the store, and feeds the results back as events.
package call

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/hotline-dev/hotline/dialog"
)

// maxResponseBody bounds what a backend may send back for one request: a
// prompt needs a few fields, not a database dump.
const maxResponseBody = 1 << 20

// UserAgent identifies hotline to the hotline's own backend.
var UserAgent = "hotline"

// DoHTTP performs a script's backend request within its timeout and turns
// the answer (or the failure) into the event the engine expects.
func DoHTTP(ctx context.Context, client *http.Client, req dialog.HTTPRequest) dialog.HTTPResult {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return dialog.HTTPResult{Err: fmt.Sprintf("bad request: %v", err)}
	}
	hr.Header.Set("User-Agent", UserAgent)
	hr.Header.Set("Accept", "application/json")
	if req.Body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for _, h := range req.Headers {
		hr.Header.Set(h.Name, h.Value)
	}
	resp, err := client.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return dialog.HTTPResult{Err: fmt.Sprintf("timeout after %s", req.Timeout)}
		}
		return dialog.HTTPResult{Err: err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return dialog.HTTPResult{Status: resp.StatusCode, Err: fmt.Sprintf("reading the response: %v", err)}
	}
	if len(data) > maxResponseBody {
		return dialog.HTTPResult{Status: resp.StatusCode, Err: fmt.Sprintf("response larger than %d bytes", maxResponseBody)}
	}
	return dialog.HTTPResult{Status: resp.StatusCode, Body: data}
}
