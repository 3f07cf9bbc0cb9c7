//go:build !unix

package join

// openNoFollow is none where the system has no O_NOFOLLOW; the part's
// Lstat check stands alone there.
const openNoFollow = 0
