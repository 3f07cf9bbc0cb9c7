package wire

import (
	"bytes"
	"testing"
)

// encodedMembers is ms as EncodeWithMembers takes them: each encoded by
// AppendMember, in a JSON array; nil for none.
func encodedMembers(t *testing.T, ms []Member) []byte {
	t.Helper()
	if len(ms) == 0 {
		return nil
	}
	list := []byte{'['}
	for i, m := range ms {
		if i > 0 {
			list = append(list, ',')
		}
		var err error
		if list, err = AppendMember(list, m); err != nil {
			t.Fatal(err)
		}
	}
	return append(list, ']')
}

// The welcome a room encodes from its members kept encoded is, byte for
// byte, the welcome Encode gives with those members, whatever the members'
// names and the frame's other texts hold: the placeholder's own bytes, a
// field name, quotes, HTML, invalid UTF-8.
func FuzzEncodeWithMembers(f *testing.F) {
	f.Add("ana", "member", "", false, "bob", "admin", "SHA256:x", true, "lan")
	f.Add(`,"members":[{"name":"","role":""}]`, "", `"members":[`, false, "<&>", "\u2028", "", false, `,"members":[{"name":"","role":""}]`)
	f.Add("\xff", "\x00", "}", true, `\"`, `\`, "]", false, "")
	f.Fuzz(func(t *testing.T, n1, r1, k1 string, a1 bool, n2, r2, k2 string, a2 bool, text string) {
		all := []Member{{n1, r1, a1, k1}, {n2, r2, a2, k2}, {}, {Name: text}}
		for count := range len(all) + 1 {
			members := all[:count]
			w := &Frame{Type: TypeWelcome, Version: Version, Room: &Room{Name: text, Topic: text},
				You: &Member{Name: n1, Role: r2, Key: k2}, Members: members, Seq: 7,
				Commands: []Command{{Name: "who", Usage: text}}, Bans: []string{text}, Epoch: text, Text: text}
			want, err := Encode(w)
			if err != nil {
				t.Fatal(err)
			}
			w.Members = []Member{{Name: "not these"}}
			got, err := EncodeWithMembers(w, encodedMembers(t, members))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("EncodeWithMembers:\n got: %s\nwant: %s", got, want)
			}
		}
	})
}

// No members leaves the field out, as Encode does.
func TestEncodeWithMembersNone(t *testing.T) {
	got, err := EncodeWithMembers(&Frame{Type: TypeWelcome, Seq: 1}, nil)
	want, _ := Encode(&Frame{Type: TypeWelcome, Seq: 1})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("EncodeWithMembers with none = %s, %v; want %s", got, err, want)
	}
}
