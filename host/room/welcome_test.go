package room

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// hostMaxMembers is the most connections a host serves (host/server.go's
// maxConns); the owner's own member comes on top.
const hostMaxMembers = 10_000

// worstNames returns a function giving n distinct names, each as long as a
// name may be and as long as a name can be once encoded in JSON: made of
// the first kind of character, of those that take the most bytes, that
// ValidateName accepts a name of.
func worstNames(t *testing.T) func(i int) string {
	t.Helper()
	encoded := func(name string) int {
		b, _ := json.Marshal(name)
		return len(b)
	}
	kinds := []func(i, k int) rune{
		func(i, k int) rune { return 0x20000 + rune((i>>(k%4*5))&31) + rune(k%4)*32 }, // Han, 4 bytes each
		func(i, k int) rune { return 0x4E00 + rune((i>>(k%4*5))&31) + rune(k%4)*32 },  // Han, 3 bytes each
		func(i, k int) rune { return []rune{'"', '\\'}[(i>>k)&1] },                    // escaped, 2 bytes each
	}
	for _, kind := range kinds {
		name := func(i int) string {
			rs := make([]rune, MaxNameRunes)
			for k := range rs {
				rs[k] = kind(i, k)
			}
			return string(rs)
		}
		if ValidateName(name(0)) == nil && ValidateName(name(12345)) == nil {
			t.Logf("the worst names are like %s, %d bytes in JSON", name(0), encoded(name(0)))
			return name
		}
	}
	t.Fatal("no kind of long name passes ValidateName")
	return nil
}

// Attack: a host full to its cap of members with the longest names, and a
// long ban list, made the welcome longer than a client reads (1 MiB at
// about 8,400 members with short names): the newcomer's client, the
// owner's included, could not get in. The worst welcome the room builds,
// an admin's, fits within wire.MaxHostFrame, and its ban list is the
// latest names, within maxBanNames bytes.
func TestWorstWelcomeFits(t *testing.T) {
	name := worstNames(t)
	var bans []Ban
	for i := range 3000 {
		bans = append(bans, Ban{Name: name(100_000 + i), By: name(0), Reason: "spam", Time: testTime})
	}
	s := newState(Config{Name: "lan", ID: "0123456789abcdef", Bans: bans, Now: func() time.Time { return testTime },
		Topic: Topic{Text: strings.Repeat(`"`, MaxTopic)}})
	for i := range hostMaxMembers {
		// Each away, with the longest text JSON makes longest: it must
		// not reach the welcome.
		m := &Member{name: name(i), key: NameKey(name(i)), out: newOutbox(4), role: wire.RoleMember, away: strings.Repeat(`"`, maxAway), identity: "SHA256:" + strings.Repeat("A", 43)}
		s.members = append(s.members, m) // as if each had joined: the welcome lists them all
	}
	m, refused := s.join(JoinRequest{Name: name(hostMaxMembers), Owner: true, HeartbeatMS: 10_000})
	if refused != nil {
		t.Fatalf("refused: %+v", refused)
	}
	welcome := m.replay[0]
	t.Logf("the worst welcome is %d bytes (%.1f%% of wire.MaxHostFrame)", len(welcome), 100*float64(len(welcome))/wire.MaxHostFrame)
	if len(welcome) > wire.MaxHostFrame {
		t.Fatalf("the worst welcome is %d bytes, more than wire.MaxHostFrame (%d)", len(welcome), wire.MaxHostFrame)
	}
	// As a client reads it.
	f, err := wire.NewDecoder(bytes.NewReader(welcome), wire.MaxHostFrame).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Members) != hostMaxMembers+1 {
		t.Errorf("the welcome lists %d members, want %d", len(f.Members), hostMaxMembers+1)
	}
	size := 0
	for _, b := range f.Bans {
		size += jsonSize(b) + 3 // as banNames counts: quotes and a comma
	}
	if len(f.Bans) == 0 || len(f.Bans) == 3000 || size > maxBanNames || f.Bans[len(f.Bans)-1] != name(100_000+3000-1) {
		t.Errorf("the welcome's ban list has %d names (%d bytes), want the latest within %d bytes", len(f.Bans), size, maxBanNames)
	}
}
