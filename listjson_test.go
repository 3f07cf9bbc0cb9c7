package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chatroom/discovery"
	"chatroom/join"
)

// TestRoomsJSON pins the lines of "list --json", field by field: they are
// an interface scripts read (README, "JSON output"). Every field is there
// even when the record had nothing for it, and what an mDNS record says,
// which anyone on the network can send, reaches the terminal escaped. The
// topic and whether the person has been in the room are there as the text
// list shows them: a script, too, tells two rooms of one name apart by
// them (the second "Lab 3" here is a machine showing another key).
func TestRoomsJSON(t *testing.T) {
	const key = "SHA256:uewc7a34AdS6GXW/V5Z2R0v1TUZaIQ6+39lXmtNTRVU"
	const other = "SHA256:h5am3ovZNif4kf7KXQNwBw/8FP2UV3x6Vp8cbB/pXbI"
	rooms := []discovery.Room{
		{ID: "3f9a2c71d0e4b5a6", Name: "Lab 3", Fingerprint: key, Version: 1, Port: 7465,
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fe80::1")},
			Host:  "lab-pc.local.", Ifaces: []string{"eth0", "wlan0"}, Topic: "release on friday \x1b[2J"},
		{ID: "0123456789abcdef", Name: "\x1b]0;pwned\x07\u202eevil\u009b2J\xff", Fingerprint: "", Port: 7465},
		{ID: "3f9a2c71d0e4b5a6", Name: "Lab 3", Fingerprint: other, Version: 1, Port: 7000,
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.66")}, Host: "mallory.local.", Ifaces: []string{"eth0"}},
	}
	file := filepath.Join(t.TempDir(), join.KnownRoomsFile)
	known := "# rooms joined, and their keys: id fingerprint first-seen name\n3f9a2c71d0e4b5a6 " + key + " 2025-01-02T03:04:05Z Lab 3\n"
	if err := os.WriteFile(file, []byte(known), 0o600); err != nil {
		t.Fatal(err)
	}
	knownRooms, err := join.LoadKnownRooms(file)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writeRoomsJSON(&out, rooms, knownRooms)
	want := `{"v":1,"type":"room","name":"Lab 3","id":"3f9a2c71d0e4b5a6","fingerprint":"` + key + `","host":"lab-pc.local.","addrs":["10.0.0.5:7465","[fe80::1]:7465"],"ifaces":["eth0","wlan0"],"protocol":1,"clone":true,"topic":"release on friday \u001b[2J","status":"visited"}
{"v":1,"type":"room","name":"\u001b]0;pwned\u0007\u202eevil\u009b2J\ufffd","id":"0123456789abcdef","fingerprint":"","host":"","addrs":[],"ifaces":[],"protocol":0,"clone":false,"topic":"","status":"new"}
{"v":1,"type":"room","name":"Lab 3","id":"3f9a2c71d0e4b5a6","fingerprint":"` + other + `","host":"mallory.local.","addrs":["10.0.0.66:7000"],"ifaces":["eth0"],"protocol":1,"clone":true,"topic":"","status":"visited-other-key"}
`
	if out.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
	}
	// Without the rooms known (the state directory cannot be read), the
	// status is there, empty.
	out.Reset()
	writeRoomsJSON(&out, rooms[1:2], nil)
	if !strings.HasSuffix(out.String(), `"topic":"","status":""}`+"\n") {
		t.Errorf("wrote %s, want an empty status", out.String())
	}
	for _, line := range strings.SplitAfter(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var room map[string]any
		if err := json.Unmarshal([]byte(line), &room); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
	}
}
