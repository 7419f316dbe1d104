package records

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/store"
)

// fileName keeps a Call-ID usable as a file name (as call names recordings).
func fileName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	if s == "" || s[0] == '.' {
		s = "call" + s
	}
	return s
}

// localPath checks a path the store gave (relative to the data directory)
// and returns it in the OS's form: no absolute paths, no "..", nothing
// outside the data directory.
func localPath(rel string) (string, error) {
	p := filepath.FromSlash(rel)
	if rel == "" || !filepath.IsLocal(p) || strings.Contains(rel, "..") {
		return "", fmt.Errorf("%q is not a path inside the data directory", rel)
	}
	return p, nil
}

// writeSnippet writes a question's audio (8 kHz mono) at rel in the data
// directory, creating its day folder.
func writeSnippet(dataDir, rel string, pcm []int16) error {
	p, err := localPath(rel)
	if err != nil {
		return err
	}
	full := filepath.Join(dataDir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		return err
	}
	return wav.Write(full, pcm, 8000)
}

// RemoveFiles deletes files of the data directory named by paths relative
// to it (as DeleteReport.Files gives them), through an os.Root, so that no
// path — absolute, with "..", or through a symbolic link — reaches outside
// it. Folders left empty (a day of recordings) are removed too. Files
// already gone are not an error. It returns how many files it deleted and
// the first error.
func RemoveFiles(dataDir string, paths []string) (int, error) {
	if len(paths) == 0 {
		return 0, nil
	}
	root, err := os.OpenRoot(dataDir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	var first error
	n := 0
	dirs := map[string]bool{}
	for _, rel := range paths {
		p, err := localPath(rel)
		if err == nil {
			err = root.Remove(p)
			if err == nil {
				n++
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
		if d := filepath.Dir(p); err == nil && d != "." {
			dirs[d] = true
		}
	}
	// Empty folders, deepest first; a folder with files left stays.
	var ds []string
	for d := range dirs {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return len(ds[i]) > len(ds[j]) })
	for _, d := range ds {
		_ = root.Remove(d)
	}
	return n, first
}

// Purge deletes the calls that ended before `before` with their turns and
// questions (store.Purge), then their recordings and question snippets,
// and the callers' messages of days long enough before `before`
// (messages/YYYY-MM-DD folders whose day ended at least a day before it:
// the store does not index messages, and no call lasts a day). It logs what
// it deleted. `hotline serve`'s retention and `hotline purge` both use it.
func Purge(ctx context.Context, st store.Store, dataDir string, before time.Time, log *slog.Logger) (store.DeleteReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep, err := st.Purge(ctx, before)
	if err != nil {
		return rep, err
	}
	msgs := oldMessages(dataDir, before)
	rep.Files = append(rep.Files, msgs...)
	n, ferr := RemoveFiles(dataDir, rep.Files)
	if rep.Calls > 0 || len(msgs) > 0 {
		log.Info("records purged", "before", before.UTC().Format(time.RFC3339), "calls", rep.Calls, "turns", rep.Turns,
			"questions", rep.Questions, "groups", rep.Groups, "files", n)
	}
	if ferr != nil {
		log.Warn("purge: some files could not be deleted", "err", ferr)
		return rep, fmt.Errorf("purge: files: %w", ferr)
	}
	return rep, nil
}

// oldMessages lists the message files of days that ended a day or more
// before `before`, relative to the data directory.
func oldMessages(dataDir string, before time.Time) []string {
	days, err := os.ReadDir(filepath.Join(dataDir, "messages"))
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range days {
		day, err := time.ParseInLocation("2006-01-02", d.Name(), time.Local)
		// The day ends at day+1; a day more for calls that went on past midnight.
		if err != nil || !d.IsDir() || day.AddDate(0, 0, 2).After(before) {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dataDir, "messages", d.Name()))
		for _, f := range files {
			if !f.IsDir() {
				out = append(out, path.Join("messages", d.Name(), f.Name()))
			}
		}
	}
	return out
}

// Forget deletes every record of a caller (store.Forget by the keyed hash
// of the number, and by the number itself when numbers are kept in full),
// open calls included, with their recordings, question snippets and the
// messages they left. number is the caller's number in any form the PBX
// sends it (it is normalised for the hash).
func Forget(ctx context.Context, st store.Store, dataDir string, policy privacy.NumberPolicy, number string) (store.DeleteReport, error) {
	hash := policy.Hash(number)
	full := ""
	if policy.Mode() == privacy.NumbersFull {
		full = number
	}
	if hash == "" && full == "" {
		return store.DeleteReport{Files: []string{}}, errors.New("forget: no number")
	}
	// The messages are named in the calls' variables only.
	var msgs []string
	for _, f := range []store.CallFilter{{CallerHash: hash}, {Number: full}} {
		if f.CallerHash == "" && f.Number == "" {
			continue
		}
		f.Limit = 1000
		for {
			page, err := st.ListCalls(ctx, f)
			if err != nil {
				return store.DeleteReport{Files: []string{}}, err
			}
			for _, c := range page.Calls {
				if f.Number != "" && c.Caller != full {
					continue // ListCalls' Number matches the called number too
				}
				msgs = append(msgs, messageFiles(c.Vars)...)
			}
			if page.Next == "" {
				break
			}
			f.Cursor = page.Next
		}
	}
	rep, err := st.Forget(ctx, hash, full)
	if err != nil {
		return rep, err
	}
	rep.Files = append(rep.Files, msgs...)
	if _, err := RemoveFiles(dataDir, rep.Files); err != nil {
		return rep, fmt.Errorf("forget: files: %w", err)
	}
	return rep, nil
}

// messageFiles are the variables' values that name a message file (stored
// relative to the data directory: messages/…).
func messageFiles(vars map[string]any) []string {
	var out []string
	for _, v := range vars {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "messages/") && strings.HasSuffix(s, ".wav") {
			if _, err := localPath(s); err == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// Recover closes the calls a crash left open (store.CloseInterrupted:
// outcome interrupted) and repairs their recordings' WAV headers, so each
// plays with its full length. Run it at start-up, before taking calls. It
// returns the calls it closed.
func Recover(ctx context.Context, st store.Store, dataDir, instance string, now time.Time, log *slog.Logger) ([]store.Call, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	closed, err := st.CloseInterrupted(ctx, instance, now)
	if err != nil {
		return nil, err
	}
	repaired := 0
	for _, c := range closed {
		if c.Recording == "" {
			continue
		}
		p, err := localPath(c.Recording)
		if err != nil {
			log.Warn("an interrupted call's recording path is not in the data directory", "call_id", c.ID, "recording", c.Recording)
			continue
		}
		if err := wav.Repair(filepath.Join(dataDir, p)); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				log.Warn("an interrupted call's recording could not be repaired", "call_id", c.ID, "file", c.Recording, "err", err)
			}
			continue
		}
		repaired++
	}
	log.Info("interrupted calls closed", "instance", instance, "calls", len(closed), "recordings", repaired)
	return closed, nil
}

// RetentionInterval is how often RunRetention purges.
const RetentionInterval = time.Hour

// RunRetention purges the records of calls that ended more than `days`
// days ago, at once and then every hour, until ctx is done. days <= 0 keeps
// everything: it returns at once.
func RunRetention(ctx context.Context, st store.Store, dataDir string, days int, log *slog.Logger) {
	if days <= 0 {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(RetentionInterval)
	defer t.Stop()
	for {
		before := time.Now().AddDate(0, 0, -days)
		if _, err := Purge(ctx, st, dataDir, before, log); err != nil && ctx.Err() == nil {
			log.Error("retention: purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
