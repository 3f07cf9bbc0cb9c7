//go:build !linux

package host

import "runtime"

// goBackground runs f on a goroutine of its own. Only Linux gives a
// thread a priority apart from its process's (see background_linux.go);
// elsewhere a transfer's work runs beside the room's as any goroutine.
func goBackground(f func()) { go f() }

// yieldToRoom lets the other goroutines (the room's, the members') have
// their turn between two pieces of a transfer, not only when the scheduler
// preempts it: with no priorities, that is how chat does not wait behind
// a file for long.
func yieldToRoom() { runtime.Gosched() }

// backgroundAdded is the number of processors added now: none here.
func backgroundAdded() int { return 0 }
