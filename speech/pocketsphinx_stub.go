//go:build !pocketsphinx

package speech

import (
	"context"
	"fmt"
)

// PocketsphinxAvailable tells whether this binary was built with the
// pocketsphinx recogniser (build tag pocketsphinx).
const PocketsphinxAvailable = false

// errNoPocketsphinx says what this binary lacks and how to get it.
var errNoPocketsphinx = fmt.Errorf("pocketsphinx: this hotline binary was built without speech recognition "+
	"(no pocketsphinx): install the library and model (apt-get install libpocketsphinx-dev libsphinxbase-dev "+
	"pocketsphinx-en-us pkg-config) and build with -tags pocketsphinx (make build does when pkg-config finds it): %w",
	ErrUnavailable)

// Pocketsphinx is the embedded recogniser; this binary was built without
// it, so NewPocketsphinx always fails.
type Pocketsphinx struct{}

// NewPocketsphinx fails: the binary was built without the build tag
// pocketsphinx. The error wraps ErrUnavailable and says how to get it.
func NewPocketsphinx(PocketsphinxConfig) (*Pocketsphinx, error) { return nil, errNoPocketsphinx }

// Name implements Recognizer.
func (*Pocketsphinx) Name() string { return "pocketsphinx" }

// Start implements Recognizer: always ErrUnavailable.
func (*Pocketsphinx) Start(context.Context, Options) (Stream, error) { return nil, errNoPocketsphinx }

// Stats reports dropped writes and refused starts: none.
func (*Pocketsphinx) Stats() (dropped, busy int64) { return 0, 0 }

// Close does nothing.
func (*Pocketsphinx) Close() error { return nil }

// Prepare implements Preparer: always ErrUnavailable.
func (*Pocketsphinx) Prepare(context.Context, [][]string) error { return errNoPocketsphinx }
