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
	// out as the closest hint, with a low confidence (its path score per
	// frame, bench/asr/README.md) that match.min_confidence can reject.
	SearchJSGF = "jsgf"
	// SearchNgram decodes with a trigram language model made from the hint
	// phrases (BuildARPA): any sentence of the script's words, the
	// script's own phrasings most likely.
	SearchNgram = "ngram"
	// SearchHybrid decodes each utterance twice at once, with the hints'
	// n-gram model (the text) and with the grammar (the closest hint, given
	// as the first alternative, which the dialog tries when the text
	// matches no intent). Twice the decoders and CPU of one search.
	SearchHybrid = "hybrid"
)

// PocketsphinxConfig configures the embedded pocketsphinx recogniser. Zero
// values mean the Debian package pocketsphinx-en-us and defaults.
// PSGrammarBeam is the default PocketsphinxConfig.GrammarBeam: wider
// (1e-200, 1e-300) found no more on the spoken set and costs more CPU.
const PSGrammarBeam = 1e-150

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
	// Search is how hints are used: SearchHybrid (default), SearchNgram,
	// SearchJSGF, SearchKWS or SearchLM. On voices made from recordings of
	// people (flite) the hints' n-gram model routes 32–37 of 37 phrases
	// and the grammar 19–21; on espeak-ng's formant voice the grammar does
	// better (24 against 20), and hybrid keeps most of both
	// (bench/asr/README.md). Streams without hints always use the general
	// language model.
	Search string
	// DisableNoise leaves out the -58 dBFS 4–7.8 kHz noise that the
	// front end adds to the upsampled telephone audio, and the -72 dBFS
	// floor it adds to the 8 kHz input (for measurements: recognition is
	// much worse without them).
	DisableNoise bool
	// GrammarBeam is the -beam, -pbeam and -wbeam of grammar searches;
	// default PSGrammarBeam. pocketsphinx's defaults (1e-48, 7e-29) prune
	// the right hint of synthetic telephone speech early: widening them
	// took the spoken set from 13 to 24 intents right of 37
	// (bench/asr/README.md). The language model and keyword searches keep
	// pocketsphinx's defaults.
	GrammarBeam float64
	// WholeUtterance buffers the utterance and decodes it at Close in one
	// piece, normalised with its own cepstral mean (batch CMN), instead of
	// decoding while the audio arrives with pocketsphinx's running mean.
	// Measured no better (bench/asr/README.md), with no partial results
	// and the whole decoding in the Close latency; for measurements.
	WholeUtterance bool
	// Args are extra pocketsphinx command-line arguments ("-lw", "8", …),
	// after the backend's own; for measurements (bench/asr -args).
	Args []string
	// Logger gets pocketsphinx's warnings and errors and the backend's own
	// lines; default slog.Default().
	Logger *slog.Logger
}
