package speech

import "log/slog"

// The configuration of the pocketsphinx backend is defined in every build,
// so that a binary without the library still compiles the code that makes
// one (NewPocketsphinx then says what the binary lacks).

// Search modes of the pocketsphinx backend (PocketsphinxConfig.Search).
const (
	// SearchLM decodes with the general English language model and ignores
	// the hints.
	SearchLM = "lm"
	// SearchKWS spots the hint phrases (keyword spotting), one threshold per
	// phrase from its length; the text is the phrases spotted.
	SearchKWS = "kws"
	// SearchJSGF decodes with a closed grammar of the hint phrases: the
	// text is always one of them (or empty), so out-of-script speech comes
	// out as the closest hint; the dialog's matcher and no-match handling
	// must expect that.
	SearchJSGF = "jsgf"
)

// PocketsphinxConfig configures the embedded pocketsphinx recogniser. Zero
// values mean the Debian package pocketsphinx-en-us and defaults.
type PocketsphinxConfig struct {
	// ModelDir is the acoustic model; default
	// /usr/share/pocketsphinx/model/en-us/en-us.
	ModelDir string
	// Dict is the pronunciation dictionary; default cmudict-en-us.dict
	// beside ModelDir.
	Dict string
	// LM is the general language model; default en-us.lm.bin beside
	// ModelDir.
	LM string
	// Workers is the number of decoders, i.e. utterances recognised at
	// once; default runtime.NumCPU(). Each takes about 30 MB.
	Workers int
	// Search is how hints are used: SearchJSGF (default), SearchKWS or
	// SearchLM (see bench/asr/README.md for what each scores). Streams
	// without hints always use the language model.
	Search string
	// DisableNoise leaves out the -58 dBFS 4–7.8 kHz noise that the
	// front end adds to the upsampled telephone audio (for measurements:
	// recognition is much worse without it).
	DisableNoise bool
	// Logger gets pocketsphinx's warnings and errors and the backend's own
	// lines; default slog.Default().
	Logger *slog.Logger
}
