// Package examples embeds the example hotlines, so `hotline serve` runs the
// demo hotline with no files around it.
package examples

import "embed"

// FS holds en-utility and zh-shop with their tests.
//
//go:embed en-utility zh-shop
var FS embed.FS

// Demo is the path in FS of the script `hotline serve` runs by default.
const Demo = "en-utility/script.yaml"
