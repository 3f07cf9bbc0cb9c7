package host

import (
	"os"
	"testing"
)

// TestMain runs the tests, or, in a copy of this test binary that a test
// or benchmark started, a host (startHostProcess) or BenchmarkIdleMemory's
// clients, and nothing else.
func TestMain(m *testing.M) {
	if kind := os.Getenv(hostProcessEnv); kind != "" {
		runHostProcess(kind, os.Getenv(hostProcessDirEnv))
		return
	}
	if os.Getenv(helperEnv) == "clients" {
		runBenchClients()
		return
	}
	os.Exit(m.Run())
}
