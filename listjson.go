package main

import (
	"io"
	"net"
	"strconv"

	"chatroom/discovery"
	"chatroom/join"
	"chatroom/join/tui"
)

// roomJSON is one line of "list --json": a room found on the network,
// mapped field by field from what discovery found, so that the JSON stays
// the interface the README documents whatever discovery.Room becomes.
// Every field is always there (empty when the room's record had none), and
// within a version (tui.JSONVersion, shared with "join --json") fields are
// only added.
type roomJSON struct {
	V           int    `json:"v"`
	Type        string `json:"type"` // "room"
	Name        string `json:"name"`
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"` // the room key's, "SHA256:…"
	Host        string `json:"host"`        // "lab-pc.local."
	// Addrs are the room's addresses as --addr takes them, IPv4 first; a
	// link-local IPv6 one carries the interface it was heard on, this
	// machine's ("[fe80::1%eth0]:7465").
	Addrs  []string `json:"addrs"`
	Ifaces []string `json:"ifaces"` // where it was found
	// Protocol is the version of the chat protocol the room speaks.
	Protocol int `json:"protocol"`
	// Clone says the room's id is advertised with more than one key: all
	// but one of them are other machines pretending to be the room, which
	// only its fingerprint tells apart.
	Clone bool `json:"clone"`
	// Topic is the room's topic as its record tells it, "" for none.
	Topic string `json:"topic"`
	// Status is whether the person has been in the room, as the text
	// list says it (join.VisitStatus): "new", "visited" or
	// "visited-other-key"; "" when the rooms known cannot be read.
	Status string `json:"status"`
}

// writeRoomsJSON writes rooms to w, one JSON object per line. As with the
// text list, an output that fails has no one to tell.
// known is the rooms the person has been in (nil when they cannot be
// read).
func writeRoomsJSON(w io.Writer, rooms []discovery.Room, known *join.KnownRooms) {
	cloned := map[string]bool{}
	for _, c := range join.Clones(rooms) {
		cloned[c.ID] = true
	}
	for _, r := range rooms {
		// Strings, numbers and booleans always encode.
		line, _ := tui.JSONLine(roomToJSON(r, cloned[r.ID], known))
		w.Write(line)
	}
}

func roomToJSON(r discovery.Room, clone bool, known *join.KnownRooms) roomJSON {
	addrs := make([]string, 0, len(r.Addrs))
	for _, a := range r.Addrs {
		addrs = append(addrs, net.JoinHostPort(a.String(), strconv.Itoa(r.Port)))
	}
	return roomJSON{
		V: tui.JSONVersion, Type: "room",
		Name: r.Name, ID: r.ID, Fingerprint: r.Fingerprint, Host: r.Host,
		Addrs: addrs, Ifaces: append([]string{}, r.Ifaces...),
		Protocol: r.Version, Clone: clone,
		Topic: r.Topic, Status: join.VisitStatus(r, known),
	}
}
