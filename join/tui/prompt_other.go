//go:build !(linux || darwin || freebsd || openbsd || netbsd)

package tui

// NewPrompt returns ErrNoPrompt here: on Windows liner draws through the
// console API, which the output cannot follow, so lines from the room
// would be written over the line being typed (see prompt.go). Line mode is
// used instead.
func NewPrompt(cfg PromptConfig) (Terminal, error) {
	return nil, ErrNoPrompt
}
