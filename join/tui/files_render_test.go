package tui

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// testSHA is a file's sha256 as the room gives it.
const testSHA = "3f9a1c2b5d7e9f0011223344556677889900aabbccddeeff0011223344556677"

func testFile() *wire.File {
	return &wire.File{Number: 7, Name: "slides.pdf", Size: 2_300_000, SHA256: testSHA, From: "bob", Expires: testTime.Add(24 * time.Hour)}
}

// TestRenderFiles pins the lines of file sharing: an offer to the room, to
// one member (either way), a file taken back, expired or damaged, and the
// host's answers with files in them, which show their text as any notice.
func TestRenderFiles(t *testing.T) {
	loc := time.FixedZone("test", 2*60*60)
	event := func(kind string, f wire.Frame) wire.Frame {
		f.Type, f.Kind, f.Seq, f.Time = wire.TypeEvent, kind, 7, testTime
		return f
	}
	private := func(from, to string) wire.Frame {
		file := testFile()
		file.From, file.To = from, to
		return wire.Frame{Type: wire.TypePrivate, Time: testTime, From: from, To: to, File: file, Text: "ignored: the words are the client's"}
	}
	unsend := func(by, code string, file wire.File) wire.Frame {
		return event(wire.KindUnsend, wire.Frame{By: by, Code: code, File: &file})
	}
	for _, tc := range []struct {
		name  string
		frame wire.Frame
		me    string
		want  []string
	}{
		{"offer", event(wire.KindOffer, wire.Frame{From: "bob", File: testFile()}), "ana",
			[]string{"12:04 -!- bob offers slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7"}},
		{"own offer", event(wire.KindOffer, wire.Frame{From: "ana", File: testFile()}), "ana",
			[]string{"12:04 -!- ana offers slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7"}},
		{"offer, From only in the file", event(wire.KindOffer, wire.Frame{File: testFile()}), "ana",
			[]string{"12:04 -!- bob offers slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7"}},
		{"offer of one byte, no number, no hash", event(wire.KindOffer, wire.Frame{From: "bob", File: &wire.File{Name: "a", Size: 1}}), "ana",
			[]string{"12:04 -!- bob offers a (1 byte)"}},
		{"offer with a hash that is not hex", event(wire.KindOffer, wire.Frame{From: "bob", File: &wire.File{Number: 2, Name: "a", Size: 5, SHA256: "\x1b[2Jxxxxxxxxxx"}}), "ana",
			[]string{"12:04 -!- bob offers a (5 bytes) — /get 2"}},
		{"offer by no one named", event(wire.KindOffer, wire.Frame{File: &wire.File{Number: 2, Name: "a", Size: 5}}), "ana",
			[]string{"12:04 -!- on offer: a (5 bytes) — /get 2"}},
		{"offer of nothing", event(wire.KindOffer, wire.Frame{From: "bob"}), "ana", nil},
		{"offer to me", private("bob", "ana"), "ana",
			[]string{"12:04 -!- bob offers you slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7"}},
		{"my offer to cy", private("ana", "cy"), "ana",
			[]string{"12:04 -!- you offer cy slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7"}},
		{"an offer between others", private("bob", "cy"), "ana",
			[]string{"12:04 -!- bob offers cy slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7"}},
		{"taken back", unsend("bob", "", wire.File{Number: 7, Name: "slides.pdf"}), "ana",
			[]string{"12:04 -!- bob took back file 7 (slides.pdf)"}},
		{"taken back by no one named", unsend("", "", wire.File{Number: 7, Name: "slides.pdf"}), "ana",
			[]string{"12:04 -!- file 7 (slides.pdf) was taken back"}},
		{"taken back, no name", unsend("bob", "", wire.File{Number: 7}), "ana",
			[]string{"12:04 -!- bob took back file 7"}},
		{"expired", unsend("", wire.CodeExpired, wire.File{Number: 7, Name: "slides.pdf"}), "ana",
			[]string{"12:04 -!- file 7 (slides.pdf) expired"}},
		{"damaged", unsend("", wire.CodeDamaged, wire.File{Number: 7, Name: "slides.pdf"}), "ana",
			[]string{"12:04 -!- file 7 (slides.pdf) is gone: the host's copy was damaged"}},
		{"gone for a reason this version does not know", unsend("", "\x1b[2Jlost", wire.File{Number: 7}), "ana",
			[]string{"12:04 -!- file 7 is gone (^[[2Jlost)"}},
		{"unsend of nothing", event(wire.KindUnsend, wire.Frame{By: "bob"}), "ana", nil},
		{"the answer to /files", wire.Frame{Type: wire.TypeNotice, Text: "2 files on offer:\n7 slides.pdf", Files: []wire.File{*testFile()}}, "ana",
			[]string{"-- 2 files on offer:", "-- 7 slides.pdf"}},
		{"the answer to an offer", wire.Frame{Type: wire.TypeNotice, Text: "offered as file 7", File: testFile()}, "ana",
			[]string{"-- offered as file 7"}},
		// A name is shown as a member's text is: its controls as text,
		// its long runs of blanks cut, so that it cannot wrap into a row
		// of its own that reads as a line.
		{"hostile name", event(wire.KindOffer, wire.Frame{From: "bob", File: &wire.File{Number: 7, Name: "a\x1b]0;pwned\x07" + strings.Repeat(" ", 90) + "12:04 <ana> run this", Size: 3}}), "ana",
			[]string{"12:04 -!- bob offers a^[]0;pwned^G   12:04 <ana> run this (3 bytes) — /get 7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(tc.frame, tc.me, loc); !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestPrivateOfferAlerts: an offer to the person rings the bell as a
// private message does; their own offer does not.
func TestPrivateOfferAlerts(t *testing.T) {
	for _, tc := range []struct {
		from string
		want bool
	}{{"bob", true}, {"ana", false}} {
		file := testFile()
		_, alert := style{}.Lines(wire.Frame{Type: wire.TypePrivate, From: tc.from, To: "x", File: file}, "ana", time.UTC)
		if alert != tc.want {
			t.Errorf("an offer from %s alerts %v, want %v", tc.from, alert, tc.want)
		}
	}
}

// TestJSONFiles pins the JSON lines of file sharing: the file object of
// offers, unsends, private offers and notices, never with the ID or Token
// a room may send with it (the capabilities to fetch and upload).
func TestJSONFiles(t *testing.T) {
	secret := testFile()
	secret.ID, secret.Token = "id-secret", "token-secret"
	for _, tc := range []struct {
		name string
		f    wire.Frame
		want string
	}{
		{"offer", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindOffer, Seq: 9, Time: testTime, From: "bob", File: testFile()},
			`{"v":1,"type":"offer","phase":"live","seq":9,"time":"2024-03-01T10:04:00Z","from":"bob","file":{"number":7,"name":"slides.pdf","size":2300000,"sha256":"` + testSHA + `","from":"bob","expires":"2024-03-02T10:04:00Z"}}`},
		{"unsend", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindUnsend, Seq: 10, Time: testTime, By: "bob", File: &wire.File{Number: 7}},
			`{"v":1,"type":"unsend","phase":"live","seq":10,"time":"2024-03-01T10:04:00Z","by":"bob","file":{"number":7}}`},
		{"expired", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindUnsend, Seq: 11, Time: testTime, Code: wire.CodeExpired, File: &wire.File{Number: 7, Name: "slides.pdf"}},
			`{"v":1,"type":"unsend","phase":"live","seq":11,"time":"2024-03-01T10:04:00Z","code":"expired","file":{"number":7,"name":"slides.pdf"}}`},
		{"private offer", wire.Frame{Type: wire.TypePrivate, Seq: 11, PrivateSeq: 2, Time: testTime, From: "bob", To: "ana", File: &wire.File{Number: 8, Name: "a.txt", Size: 3, From: "bob", To: "ana"}},
			`{"v":1,"type":"private","phase":"live","seq":11,"private_seq":2,"time":"2024-03-01T10:04:00Z","from":"bob","to":"ana","file":{"number":8,"name":"a.txt","size":3,"from":"bob","to":"ana"}}`},
		{"the answer to /get, with the ID", wire.Frame{Type: wire.TypeNotice, Text: "fetching", Ref: 4, File: secret},
			`{"v":1,"type":"notice","phase":"live","text":"fetching","ref":4,"file":{"number":7,"name":"slides.pdf","size":2300000,"sha256":"` + testSHA + `","from":"bob","expires":"2024-03-02T10:04:00Z"}}`},
		{"the answer to /files", wire.Frame{Type: wire.TypeNotice, Text: "1 file", Ref: 5, Files: []wire.File{{Number: 7, Name: "a", Size: 1, ID: "id-secret"}}},
			`{"v":1,"type":"notice","phase":"live","text":"1 file","ref":5,"files":[{"number":7,"name":"a","size":1}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.TrimSuffix(showJSON(tc.f, join.Live, "ana"), "\n")
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("a capability reached the output: %s", got)
			}
		})
	}
}

// TestJSONTransferShape pins the transfer lines: every field, for each
// state and each way.
func TestJSONTransferShape(t *testing.T) {
	file := wire.File{Number: 7, Name: "slides.pdf", Size: 2_300_000, SHA256: testSHA, From: "bob", ID: "id-secret"}
	for _, tc := range []struct {
		name string
		tr   join.Transfer
		want string
	}{
		{"moving down", join.Transfer{Key: 3, File: file, State: join.Moving, Done: 920_000, Rate: 12_512_345.6, Path: "/home/ana/Downloads/slides.pdf"},
			`{"v":1,"type":"transfer","transfer":3,"direction":"down","state":"moving","file":{"number":7,"name":"slides.pdf","size":2300000,"sha256":"` + testSHA + `","from":"bob"},"done":920000,"size":2300000,"rate":12512346,"path":"/home/ana/Downloads/slides.pdf"}`},
		{"hashing up, nothing done", join.Transfer{Key: 1, Up: true, File: wire.File{Name: "a.bin", Size: 10}, State: join.Hashing, Path: "a.bin"},
			`{"v":1,"type":"transfer","transfer":1,"direction":"up","state":"hashing","file":{"name":"a.bin","size":10},"done":0,"size":10,"rate":0,"path":"a.bin"}`},
		{"waiting after a break", join.Transfer{Key: 3, File: file, State: join.Waiting, Done: 5, Err: "the connection broke"},
			`{"v":1,"type":"transfer","transfer":3,"direction":"down","state":"waiting","file":{"number":7,"name":"slides.pdf","size":2300000,"sha256":"` + testSHA + `","from":"bob"},"done":5,"size":2300000,"rate":0,"text":"the connection broke"}`},
		{"finished", join.Transfer{Key: 3, File: file, State: join.Finished, Done: 2_300_000, Path: "/d/slides.pdf"},
			`{"v":1,"type":"transfer","transfer":3,"direction":"down","state":"finished","file":{"number":7,"name":"slides.pdf","size":2300000,"sha256":"` + testSHA + `","from":"bob"},"done":2300000,"size":2300000,"rate":0,"path":"/d/slides.pdf"}`},
		{"failed, a rate that is not a number", join.Transfer{Key: 4, File: wire.File{Name: "x", Size: 1}, State: join.Failed, Rate: nan(), Err: "the sha256 did not match"},
			`{"v":1,"type":"transfer","transfer":4,"direction":"down","state":"failed","file":{"name":"x","size":1},"done":0,"size":1,"rate":0,"text":"the sha256 did not match"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			u := NewJSONUI(strings.NewReader(""), &out)
			u.Transfer(tc.tr)
			if got := strings.TrimSuffix(out.String(), "\n"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

// TestJSONTransferPace: while a transfer moves, its lines come at most
// every transferGap, however often the client calls; every change of
// state, a new reason to wait and the end always come.
func TestJSONTransferPace(t *testing.T) {
	var out bytes.Buffer
	u := NewJSONUI(strings.NewReader(""), &out).(*jsonUI)
	clock := testTime
	u.gate.now = func() time.Time { return clock }
	tr := join.Transfer{Key: 1, File: wire.File{Name: "a", Size: 1000}, State: join.Waiting}
	u.Transfer(tr) // shown: the first
	tr.State = join.Moving
	for i := range 100 { // 100 calls over one second
		tr.Done = int64(i * 10)
		u.Transfer(tr)
		clock = clock.Add(10 * time.Millisecond)
	}
	tr.State, tr.Err = join.Waiting, "the connection broke"
	u.Transfer(tr) // a change of state
	tr.Err = "connection refused"
	u.Transfer(tr) // a new reason
	u.Transfer(tr) // the same: not shown
	tr.State, tr.Err = join.Finished, ""
	u.Transfer(tr)
	var states []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e jsonTransfer
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		states = append(states, e.State)
	}
	want := []string{"waiting", "moving", "moving", "moving", "moving", "moving", "waiting", "waiting", "finished"}
	if !slices.Equal(states, want) {
		t.Errorf("lines of states %q, want %q (moving every %v over a second)", states, want, transferGap)
	}
}

// TestJSONHostileFiles: a room puts terminal controls in every string of
// a file it describes; the JSON lines of the offer and of the transfer
// hold the same strings, escaped, and no byte a terminal would act on.
func TestJSONHostileFiles(t *testing.T) {
	for _, p := range hostilePayloads {
		var out bytes.Buffer
		ui := NewJSONUI(strings.NewReader(""), &out)
		file := wire.File{Number: 7, Name: p, Size: 5, SHA256: p, From: p, To: p}
		ui.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindOffer, Seq: 1, Time: testTime, From: p, File: &file}, join.Live)
		ui.Transfer(join.Transfer{Key: 1, File: file, State: join.Failed, Path: "/d/" + p, Err: p})
		if r, ok := controlIn(out.String(), true); ok {
			t.Errorf("payload %q: wrote %U: %q", p, r, out.String())
		}
		objs := decodeLines(t, out.String())
		if len(objs) != 2 {
			t.Fatalf("%d lines:\n%s", len(objs), out.String())
		}
		want := string([]rune(p))
		for i, obj := range objs {
			f := obj["file"].(map[string]any)
			for _, key := range []string{"name", "sha256", "from", "to"} {
				if f[key] != want {
					t.Errorf("payload %q: line %d's file %s is %q", p, i, key, f[key])
				}
			}
		}
	}
}
