//go:build !unix

package statefile

// noFollow is nothing here: os.OpenFile has no flag to open a link itself
// rather than what it points to on Windows, so openNoFollow relies on its
// Lstat alone, with a short window in which a link could be planted.
const noFollow = 0

func isNoFollowError(error) bool { return false }
