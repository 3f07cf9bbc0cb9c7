package host

import (
	"fmt"
	"testing"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// TestPendingSlotsForResumers: a room that starts again with more members
// able to resume than it has pending slots has a slot for each of them
// (they come back together, each in its handshake), as many as its
// members at most; a room with few has the usual number.
func TestPendingSlotsForResumers(t *testing.T) {
	for _, tc := range []struct {
		resumable, want int
	}{
		{0, defaultMaxPending},
		{10, defaultMaxPending},
		{3000, 3000},
		{defaultMaxMembers + 100, defaultMaxMembers},
	} {
		t.Run(fmt.Sprint(tc.resumable), func(t *testing.T) {
			dir := t.TempDir()
			h, err := Start(Config{Name: "storm", StateDir: dir, Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			h.Close()
			past := room.History{Epoch: "e1", Seq: 1}
			for i := range tc.resumable {
				past.Resumable = append(past.Resumable, room.Resumable{NameKey: fmt.Sprintf("m%d", i),
					Identity: wire.Fingerprint([]byte(fmt.Sprint(i))), Since: 1})
			}
			if err := saveHistory(dir, past); err != nil {
				t.Fatal(err)
			}
			h, err = Start(Config{Name: "storm", StateDir: dir, Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if got := h.server.maxPending; got != tc.want {
				t.Errorf("%d members may resume: %d pending slots, want %d", tc.resumable, got, tc.want)
			}
		})
	}
}
