package call

import (
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hotline-dev/hotline/media/wav"
)

// RecoverRecordings fixes the headers of call recordings a crash left open,
// so every recording plays with its full length. A recording is written as the
// call goes and its header fixed up every few seconds; after a crash the last
// seconds are on disk but not yet in the header. Only the most recent days
// are checked (a crash leaves at most the calls that were in progress), and a
// file whose header is right is left as it is. It returns how many files it
// checked.
func RecoverRecordings(dataDir string, days int, log *slog.Logger) int {
	root := filepath.Join(dataDir, "recordings")
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs) // YYYY-MM-DD
	if len(dirs) > days {
		dirs = dirs[len(dirs)-days:]
	}
	checked := 0
	for _, d := range dirs {
		files, _ := os.ReadDir(filepath.Join(root, d))
		for _, f := range files {
			if f.IsDir() || !strings.HasSuffix(f.Name(), ".wav") {
				continue
			}
			path := filepath.Join(root, d, f.Name())
			checked++
			if err := wav.Repair(path); err != nil {
				log.Warn("a recording could not be repaired", "file", path, "err", err)
			}
		}
	}
	return checked
}
