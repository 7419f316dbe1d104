//go:build !race

package e2e

// raceEnabled: the tests run with -race, and TestMain builds hotline with it too.
const raceEnabled = false
