//go:build !unix

package host

// raiseFileLimit has no limit to raise here; 0 means unknown.
func raiseFileLimit(n uint64) uint64 { return 0 }
