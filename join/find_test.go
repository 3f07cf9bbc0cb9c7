package join

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"chatroom/discovery"
)

func found(rooms ...discovery.Room) Finder {
	return func(context.Context) ([]discovery.Room, error) { return rooms, nil }
}

func TestFindRoom(t *testing.T) {
	lab1 := discovery.Room{ID: "aaaa", Name: "Lab 3", Host: "pc1.local."}
	lab2 := discovery.Room{ID: "bbbb", Name: "lab 3", Host: "pc2.local."}
	kitchen := discovery.Room{ID: "cccc", Name: "Kitchen", Host: "pc3.local."}
	pickSecond := func(rooms []discovery.Room) (int, bool) { return 1, true }
	tests := []struct {
		name    string
		find    Finder
		query   string
		pick    Picker
		want    string // the id chosen
		wantErr string
	}{
		{"the only room", found(kitchen), "", nil, "cccc", ""},
		{"by name, any case", found(lab1, kitchen), "KITCHEN", nil, "cccc", ""},
		{"by id", found(lab1, lab2), "bbbb", nil, "bbbb", ""},
		{"nothing found", found(), "", nil, "", "no room found on the network"},
		{"no such name", found(lab1, kitchen), "attic", nil, "", `no room called "attic"; found "Lab 3", "Kitchen"`},
		{"several, no one to ask", found(lab1, kitchen), "", nil, "", "several rooms found; choose one with --addr"},
		{"one name, two rooms, no one to ask", found(lab1, lab2, kitchen), "lab 3", nil, "", `several rooms are called "lab 3"`},
		{"one name, two rooms, picked", found(lab1, lab2, kitchen), "lab 3", pickSecond, "bbbb", ""},
		{"several, picked", found(lab1, kitchen), "", pickSecond, "cccc", ""},
		{"several, the person declines", found(lab1, kitchen), "", func([]discovery.Room) (int, bool) { return 0, false }, "", "several rooms found"},
		{"browse failed", func(context.Context) ([]discovery.Room, error) { return nil, errors.New("boom") }, "", nil, "", "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := FindRoom(context.Background(), tt.find, tt.query, tt.pick)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want error %q", r, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(r) != 1 || r[0].ID != tt.want {
				t.Fatalf("got %+v, %v; want %s", r, err, tt.want)
			}
		})
	}
}

func TestRoomLineIsSafe(t *testing.T) {
	r := discovery.Room{ID: "id1", Name: "evil\x1b[2J\u202eroom", Host: "h.local.", Port: 7465, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5")}}
	line := RoomLine(r, nil)
	if strings.ContainsAny(line, "\x1b\u202e") {
		t.Fatalf("control characters reach the terminal: %q", line)
	}
	if !strings.Contains(line, "10.0.0.5:7465") || !strings.Contains(line, "h.local.") || !strings.Contains(line, "id id1") {
		t.Fatalf("line %q", line)
	}
}

func TestDialOrder(t *testing.T) {
	a := netip.MustParseAddr
	local := []LocalAddr{{Iface: "eth0", Prefix: netip.MustParsePrefix("192.168.1.7/24")}}
	room := discovery.Room{Port: 7465, Addrs: []netip.Addr{a("10.0.0.5"), a("172.16.0.1"), a("192.168.1.20"), a("10.0.0.6")}}
	var got []string
	for _, c := range dialOrder(room, local) {
		got = append(got, c.addr)
	}
	want := []string{"192.168.1.20:7465", "10.0.0.5:7465", "172.16.0.1:7465", "10.0.0.6:7465"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// dialRoom goes past an address where nothing answers to one where the
// room is, and checks the key there.
func TestDialRoom(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSRoom(t, cert, 0)
	_, portStr, _ := net.SplitHostPort(room.addr)
	port, _ := strconv.Atoi(portStr)

	// A closed port on another loopback address refuses at once.
	dead := netip.MustParseAddr("127.0.0.2")
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skip("127.0.0.2 is not local here")
	} else {
		ln.Close()
	}
	found := discovery.Room{ID: testRoomID, Name: "Lab 3", Port: port, Fingerprint: fp, Addrs: []netip.Addr{dead, netip.MustParseAddr("127.0.0.1")}}
	conn, err := dialRoom(found, nil)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	echo(t, conn)
	conn.Close()

	// The right key, but a certificate for another room than advertised.
	impostor := found
	impostor.ID = "fedcba9876543210"
	if _, err := dialRoom(impostor, nil)(context.Background()); err == nil || !strings.Contains(err.Error(), "is not the one advertised") {
		t.Fatalf("got %v, want the room refused for its id", err)
	}

	_, otherFP := roomKey(t)
	found.Fingerprint = otherFP
	_, err = dialRoom(found, nil)(context.Background())
	var mismatch *KeyMismatchError
	if !errors.As(err, &mismatch) || mismatch.Expected != otherFP || mismatch.Got != fp {
		t.Fatalf("got %v, want a key mismatch", err)
	}

	found.Addrs = nil
	if _, err := dialRoom(found, nil)(context.Background()); err == nil {
		t.Fatal("dialed a room with no address")
	}
}
