package speech

import "strings"

// Understands reports whether the recogniser has a model for a script's
// language (BCP 47): the Debian package pocketsphinx-en-us is English only.
func (p *Pocketsphinx) Understands(language string) bool {
	l := strings.ToLower(language)
	return l == "en" || strings.HasPrefix(l, "en-")
}
