package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"chatroom/discovery"
)

// TestRoomsJSON pins the lines of "list --json", field by field: they are
// an interface scripts read (README, "JSON output"). Every field is there
// even when the record had nothing for it, and what an mDNS record says,
// which anyone on the network can send, reaches the terminal escaped.
func TestRoomsJSON(t *testing.T) {
	const key = "SHA256:uewc7a34AdS6GXW/V5Z2R0v1TUZaIQ6+39lXmtNTRVU"
	const other = "SHA256:h5am3ovZNif4kf7KXQNwBw/8FP2UV3x6Vp8cbB/pXbI"
	rooms := []discovery.Room{
		{ID: "3f9a2c71d0e4b5a6", Name: "Lab 3", Fingerprint: key, Version: 1, Port: 7465,
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fe80::1")},
			Host:  "lab-pc.local.", Ifaces: []string{"eth0", "wlan0"}},
		{ID: "0123456789abcdef", Name: "\x1b]0;pwned\x07\u202eevil\u009b2J\xff", Fingerprint: "", Port: 7465},
		{ID: "3f9a2c71d0e4b5a6", Name: "Lab 3", Fingerprint: other, Version: 1, Port: 7000,
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.66")}, Host: "mallory.local.", Ifaces: []string{"eth0"}},
	}
	var out bytes.Buffer
	writeRoomsJSON(&out, rooms)
	want := `{"v":1,"type":"room","name":"Lab 3","id":"3f9a2c71d0e4b5a6","fingerprint":"` + key + `","host":"lab-pc.local.","addrs":["10.0.0.5:7465","[fe80::1]:7465"],"ifaces":["eth0","wlan0"],"protocol":1,"clone":true}
{"v":1,"type":"room","name":"\u001b]0;pwned\u0007\u202eevil\u009b2J\ufffd","id":"0123456789abcdef","fingerprint":"","host":"","addrs":[],"ifaces":[],"protocol":0,"clone":false}
{"v":1,"type":"room","name":"Lab 3","id":"3f9a2c71d0e4b5a6","fingerprint":"` + other + `","host":"mallory.local.","addrs":["10.0.0.66:7000"],"ifaces":["eth0"],"protocol":1,"clone":true}
`
	if out.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
	}
	for _, line := range strings.SplitAfter(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var room map[string]any
		if err := json.Unmarshal([]byte(line), &room); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
	}
}
