//go:build race

package host

// raceEnabled: the race detector slows what the tests move, so the large
// transfers are smaller under it.
const raceEnabled = true
