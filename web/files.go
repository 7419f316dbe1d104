package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// callRecording serves a call's recording (GET /calls/{id}/recording and
// /api/calls/{id}/recording): the path is the one the store has for the
// call, opened inside the data directory; Range requests work.
func (s *server) callRecording(w http.ResponseWriter, r *http.Request) {
	c, err := s.cfg.Store.Call(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fileFail(w, r, err)
		return
	}
	s.serveDataFile(w, r, c.Recording, "call-"+c.ID)
}

// questionAudio serves an unanswered question's snippet.
func (s *server) questionAudio(w http.ResponseWriter, r *http.Request) {
	gid, err := groupID(r)
	if err != nil {
		s.fileFail(w, r, err)
		return
	}
	qid, err := strconv.ParseInt(r.PathValue("qid"), 10, 64)
	if err != nil {
		s.fileFail(w, r, badf("question ID %q: want a number", r.PathValue("qid")))
		return
	}
	_, qs, err := s.cfg.Store.Group(r.Context(), gid)
	if err != nil {
		s.fileFail(w, r, err)
		return
	}
	for _, q := range qs {
		if q.ID == qid {
			s.serveDataFile(w, r, q.Audio, "question-"+strconv.FormatInt(qid, 10))
			return
		}
	}
	s.fileFail(w, r, errNoFile)
}

var (
	errNoFile  = errors.New("no such file")
	errRefused = errors.New("refused: the stored path is outside the data directory")
)

// serveDataFile serves rel, a path relative to the data directory as the
// store keeps it. It is opened through an os.Root on the data directory:
// absolute paths, "..", and symbolic links that lead out are refused.
func (s *server) serveDataFile(w http.ResponseWriter, r *http.Request, rel, name string) {
	if rel == "" || s.cfg.DataDir == "" {
		s.fileFail(w, r, errNoFile)
		return
	}
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		s.log.Warn("web: stored file path refused: not inside the data directory", "path", rel)
		s.fileFail(w, r, errRefused)
		return
	}
	root, err := os.OpenRoot(s.cfg.DataDir)
	if err != nil {
		s.fileFail(w, r, err)
		return
	}
	defer root.Close()
	f, err := root.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("web: stored file refused", "path", rel, "err", err)
			err = errRefused
		} else {
			err = errNoFile
		}
		s.fileFail(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.fileFail(w, r, errRefused)
		return
	}
	ext := strings.ToLower(filepath.Ext(p))
	ctype := "application/octet-stream"
	switch ext {
	case ".wav":
		ctype = "audio/wav"
	case ".mp3":
		ctype = "audio/mpeg"
	case ".ogg", ".opus":
		ctype = "audio/ogg"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": safeFileName(name) + ext}))
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// safeFileName keeps letters, digits and - _ . of a call ID for a download name.
func safeFileName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	return b.String()
}

func (s *server) fileFail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.classify(r, err, "en")
	switch {
	case errors.Is(err, errNoFile):
		status, body = http.StatusNotFound, apiError{Error: "no recording", Code: "no_file"}
	case errors.Is(err, errRefused):
		status, body = http.StatusForbidden, apiError{Error: errRefused.Error(), Code: "refused"}
	}
	if isAPI(r) {
		writeJSON(w, status, body)
		return
	}
	http.Error(w, body.Error, status)
}

//go:embed assets templates
var embedded embed.FS

// asset is a static file with its ETag.
type asset struct {
	data  []byte
	ctype string
	etag  string
	ver   string // short hash for cache-busting URLs
}

func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	entries, err := fs.ReadDir(embedded, "assets")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := fs.ReadFile(embedded, "assets/"+e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		switch path.Ext(e.Name()) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		case "", ".txt":
			ctype = "text/plain; charset=utf-8"
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[e.Name()] = asset{data: data, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
			ver: hex.EncodeToString(sum[:4])}
	}
	return out, nil
}

var assetTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// serveAsset serves the embedded CSS, JavaScript (htmx) and its licence,
// cached by the browser: their URLs carry a hash of the content (?v=).
func (s *server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	if r.URL.Query().Get("v") == a.ver {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", assetTime, bytes.NewReader(a.data))
}

// assetURL is the cache-busting URL of an asset.
func (s *server) assetURL(name string) string {
	return "/assets/" + name + "?v=" + s.assets[name].ver
}
