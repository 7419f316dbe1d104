package call

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/dialog"
)

func TestDoHTTP(t *testing.T) {
	// The slow request's handler may still run while the next one arrives.
	var mu sync.Mutex
	var gotBody, gotHeader, gotType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/orders" {
			mu.Lock()
			gotBody, gotHeader, gotType = string(b), r.Header.Get("X-Order"), r.Header.Get("Content-Type")
			mu.Unlock()
		}
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "/big":
			w.Write([]byte(strings.Repeat("x", maxResponseBody+10)))
		case "/missing":
			http.NotFound(w, r)
		default:
			w.Write([]byte(`{"status":"shipped"}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()

	res := DoHTTP(ctx, c, dialog.HTTPRequest{Method: "POST", URL: srv.URL + "/orders", Body: []byte(`{"a":1}`),
		Headers: []dialog.HeaderValue{{Name: "X-Order", Value: "42"}}, Timeout: time.Second})
	if res.Err != "" || res.Status != 200 || string(res.Body) != `{"status":"shipped"}` {
		t.Errorf("ok: %+v", res)
	}
	mu.Lock()
	if gotBody != `{"a":1}` || gotHeader != "42" || gotType != "application/json" {
		t.Errorf("request: body %q header %q type %q", gotBody, gotHeader, gotType)
	}
	mu.Unlock()
	start := time.Now()
	if res := DoHTTP(ctx, c, dialog.HTTPRequest{Method: "GET", URL: srv.URL + "/slow", Timeout: 100 * time.Millisecond}); !strings.Contains(res.Err, "timeout") {
		t.Errorf("slow: %+v", res)
	}
	if time.Since(start) > time.Second {
		t.Errorf("the timeout was not honoured")
	}
	if res := DoHTTP(ctx, c, dialog.HTTPRequest{Method: "GET", URL: srv.URL + "/big", Timeout: time.Second}); !strings.Contains(res.Err, "larger") {
		t.Errorf("big: %+v", res)
	}
	if res := DoHTTP(ctx, c, dialog.HTTPRequest{Method: "GET", URL: srv.URL + "/missing", Timeout: time.Second}); res.Status != 404 || res.Err != "" {
		t.Errorf("404: %+v", res)
	}
	if res := DoHTTP(ctx, c, dialog.HTTPRequest{Method: "GET", URL: "http://127.0.0.1:1/", Timeout: time.Second}); res.Err == "" {
		t.Errorf("refused: %+v", res)
	}
	if res := DoHTTP(ctx, c, dialog.HTTPRequest{Method: "BAD METHOD", URL: "::", Timeout: time.Second}); res.Err == "" {
		t.Errorf("bad request: %+v", res)
	}
}
