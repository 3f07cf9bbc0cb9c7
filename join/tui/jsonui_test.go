package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// showJSON returns what the JSON UI writes for f, shown in phase.
func showJSON(f wire.Frame, phase join.Phase, me string) string {
	var out bytes.Buffer
	line, ok := jsonFromFrame(f, phase, me)
	if ok {
		out.Write(jsonLine(&line))
	}
	return out.String()
}

// TestJSONFromFrame pins the JSON lines, field by field: they are an
// interface that scripts read, so a change here is a change of the
// documented fields (README, "JSON output"), and within a version only an
// addition.
func TestJSONFromFrame(t *testing.T) {
	at := time.Date(2024, 3, 1, 11, 4, 5, 600e6, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name  string
		f     wire.Frame
		phase join.Phase
		want  string
	}{
		{"say", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 7, Time: at, From: "ana", Text: "hi <all> & you", Ref: 3}, join.Live,
			`{"v":1,"type":"say","phase":"live","seq":7,"time":"2024-03-01T10:04:05Z","from":"ana","text":"hi <all> & you","ref":3}`},
		{"someone else's say", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 7, Time: at, From: "bob", Text: "hi", Ref: 3}, join.Live,
			`{"v":1,"type":"say","phase":"live","seq":7,"time":"2024-03-01T10:04:05Z","from":"bob","text":"hi"}`},
		{"own say, earlier", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 1, Time: at, From: "ana", Text: "hi", Ref: 3}, join.Backlog,
			`{"v":1,"type":"say","phase":"backlog","seq":1,"time":"2024-03-01T10:04:05Z","from":"ana","text":"hi"}`},
		{"own say, missed", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 1, Time: at, From: "ana", Text: "hi", Ref: 3}, join.Missed,
			`{"v":1,"type":"say","phase":"missed","seq":1,"time":"2024-03-01T10:04:05Z","from":"ana","text":"hi","ref":3}`},
		{"someone else's private", wire.Frame{Type: wire.TypePrivate, Seq: 12, PrivateSeq: 5, Time: at, From: "bob", To: "ana", Text: "psst", Ref: 9}, join.Live,
			`{"v":1,"type":"private","phase":"live","seq":12,"private_seq":5,"time":"2024-03-01T10:04:05Z","from":"bob","to":"ana","text":"psst"}`},
		{"me, earlier", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindMe, Seq: 2, Time: at, From: "ana", Text: "waves"}, join.Backlog,
			`{"v":1,"type":"me","phase":"backlog","seq":2,"time":"2024-03-01T10:04:05Z","from":"ana","text":"waves"}`},
		{"join, missed", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 8, Time: at, Name: "cy", Role: wire.RoleAdmin}, join.Missed,
			`{"v":1,"type":"join","phase":"missed","seq":8,"time":"2024-03-01T10:04:05Z","name":"cy","role":"admin"}`},
		{"kick", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Seq: 9, Time: at, Name: "cy", Code: wire.CodeKicked, By: "ana", Text: "spam"}, join.Live,
			`{"v":1,"type":"leave","phase":"live","seq":9,"time":"2024-03-01T10:04:05Z","name":"cy","by":"ana","code":"kicked","text":"spam"}`},
		{"role", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindRole, Seq: 10, Time: at, Name: "bob", Role: wire.RoleMember, By: "ana"}, join.Live,
			`{"v":1,"type":"role","phase":"live","seq":10,"time":"2024-03-01T10:04:05Z","name":"bob","role":"member","by":"ana"}`},
		{"nick", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Seq: 11, Time: at, Name: "bob", NewName: "rob", Ref: 9}, join.Live,
			`{"v":1,"type":"nick","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","name":"bob","new_name":"rob"}`},
		{"own nick, by the name before", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Seq: 11, Time: at, Name: "ana", NewName: "anna", Ref: 4}, join.Live,
			`{"v":1,"type":"nick","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","name":"ana","new_name":"anna","ref":4}`},
		{"own nick, by the name after", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Seq: 11, Time: at, Name: "an", NewName: "ana", Ref: 4}, join.Live,
			`{"v":1,"type":"nick","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","name":"an","new_name":"ana","ref":4}`},
		{"join with a key", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 8, Time: at, Name: "cy", Role: wire.RoleMember, Key: "cykey01+"}, join.Live,
			`{"v":1,"type":"join","phase":"live","seq":8,"time":"2024-03-01T10:04:05Z","name":"cy","key":"cykey01+","role":"member"}`},
		{"nick with a key", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Seq: 11, Time: at, Name: "bob", NewName: "rob", Key: "bobkey01"}, join.Live,
			`{"v":1,"type":"nick","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","name":"bob","new_name":"rob","key":"bobkey01"}`},
		{"join with what is not a key", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 8, Time: at, Name: "cy", Role: wire.RoleMember, Key: "\x1b[2Jcykey01"}, join.Live,
			`{"v":1,"type":"join","phase":"live","seq":8,"time":"2024-03-01T10:04:05Z","name":"cy","role":"member"}`},
		{"a say with a key, which says carry none", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 7, Time: at, From: "bob", Text: "hi", Key: "bobkey01"}, join.Live,
			`{"v":1,"type":"say","phase":"live","seq":7,"time":"2024-03-01T10:04:05Z","from":"bob","text":"hi"}`},
		{"away", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindAway, Seq: 11, Time: at, From: "cy", Text: "lunch"}, join.Live,
			`{"v":1,"type":"away","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","from":"cy","text":"lunch"}`},
		{"topic", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindTopic, Seq: 11, Time: at, From: "ana", Text: "release on friday"}, join.Live,
			`{"v":1,"type":"topic","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","from":"ana","text":"release on friday"}`},
		{"a kind from a later version", wire.Frame{Type: wire.TypeEvent, Kind: "poll", Seq: 11, Time: at, From: "ana", Text: "lunch"}, join.Live,
			`{"v":1,"type":"event","kind":"poll","phase":"live","seq":11,"time":"2024-03-01T10:04:05Z","from":"ana","text":"lunch"}`},
		{"a kind named like a type of ours", wire.Frame{Type: wire.TypeEvent, Kind: "backlog_end", Seq: 12, Time: at}, join.Live,
			`{"v":1,"type":"event","kind":"backlog_end","phase":"live","seq":12,"time":"2024-03-01T10:04:05Z"}`},
		{"own private", wire.Frame{Type: wire.TypePrivate, Seq: 12, PrivateSeq: 4, Time: at, From: "ana", To: "bob", Text: "psst", Ref: 5}, join.Live,
			`{"v":1,"type":"private","phase":"live","seq":12,"private_seq":4,"time":"2024-03-01T10:04:05Z","from":"ana","to":"bob","text":"psst","ref":5}`},
		{"notice", wire.Frame{Type: wire.TypeNotice, Text: "2 here:\nana\nbob", Ref: 6}, join.Live,
			`{"v":1,"type":"notice","phase":"live","text":"2 here:\nana\nbob","ref":6}`},
		{"refused command", wire.Frame{Type: wire.TypeNotice, Text: "not allowed: /kick is for admins", Error: true, Ref: 7}, join.Live,
			`{"v":1,"type":"notice","phase":"live","text":"not allowed: /kick is for admins","error":true,"ref":7}`},
		{"bans", wire.Frame{Type: wire.TypeBans, Bans: []string{"dan", "eve"}}, join.Live,
			`{"v":1,"type":"bans","phase":"live","bans":["dan","eve"]}`},
		{"no bans left", wire.Frame{Type: wire.TypeBans}, join.Live,
			`{"v":1,"type":"bans","phase":"live","bans":[]}`},
		{"members of a big room", wire.Frame{Type: wire.TypeMembers, Members: []wire.Member{{Name: "ana", Role: wire.RoleOwner, Key: "Rj1ZqTlE"}, {Name: "cy", Role: wire.RoleMember, Away: true}}}, join.Live,
			`{"v":1,"type":"members","phase":"live","members":[{"name":"ana","role":"owner","key":"Rj1ZqTlE"},{"name":"cy","role":"member","away":true}]}`},
		{"kicked", wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: "ana", Text: "spam"}, join.Live,
			`{"v":1,"type":"closed","phase":"live","by":"ana","code":"kicked","text":"spam"}`},
		{"left", wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft}, join.Live,
			`{"v":1,"type":"closed","phase":"live","code":"left"}`},
		{"protocol error", wire.Frame{Type: wire.TypeError, Code: wire.CodeMalformed, Text: "frame is not valid UTF-8"}, join.Live,
			`{"v":1,"type":"error","phase":"live","code":"malformed","text":"frame is not valid UTF-8"}`},
		{"refused", wire.Frame{Type: wire.TypeRefused, Code: wire.CodeBanned, Text: "you are banned"}, join.Live,
			`{"v":1,"type":"refused","phase":"live","code":"banned","text":"you are banned"}`},
		{"ping", wire.Frame{Type: wire.TypePing}, join.Live, ``},
		{"a type from a later version", wire.Frame{Type: "poll", Text: "lunch?"}, join.Live, ``},
		{"a type named like one of ours", wire.Frame{Type: "note", Text: "fake"}, join.Live, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want != "" {
				want += "\n"
			}
			if got := showJSON(tc.f, tc.phase, "ana"); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestJSONWelcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    wire.Frame
		want string
	}{
		{"member", wire.Frame{
			Type: wire.TypeWelcome, Version: wire.Version, Seq: 41, Epoch: "e1", HeartbeatMS: 15000,
			Room:     &wire.Room{Name: "Lab 3", ID: testRoomID, Topic: "release on friday"},
			You:      &wire.Member{Name: "bob", Role: wire.RoleMember, Key: "bobkey01"},
			Members:  []wire.Member{{Name: "ana", Role: wire.RoleOwner, Away: true}, {Name: "bob", Role: wire.RoleMember, Key: "bobkey01"}, {Name: "cy", Role: wire.RoleMember, Key: "not a key"}},
			Limits:   &wire.Limits{Burst: 10, PerSecond: 2},
			Commands: []wire.Command{{Name: "who", Usage: "/who", Help: "who is here"}},
		}, `{"v":1,"type":"welcome","seq":41,"name":"bob","key":"bobkey01","role":"member",` +
			`"room":{"name":"Lab 3","id":"0123456789abcdef","topic":"release on friday"},` +
			`"members":[{"name":"ana","role":"owner","away":true},{"name":"bob","role":"member","key":"bobkey01"},{"name":"cy","role":"member"}],` +
			`"limits":{"burst":10,"per_second":2}}`},
		{"big room", wire.Frame{
			Type: wire.TypeWelcome, Version: wire.Version, Seq: 9,
			Room:             &wire.Room{Name: "Lab 3"},
			You:              &wire.Member{Name: "bob", Role: wire.RoleMember},
			MembersOnRequest: true, MemberCount: 5000,
		}, `{"v":1,"type":"welcome","seq":9,"name":"bob","role":"member","room":{"name":"Lab 3"},"member_count":5000}`},
		{"admin, resumed", wire.Frame{
			Type: wire.TypeWelcome, Version: wire.Version, Seq: 50, Resumed: true, Missed: 3,
			Room:    &wire.Room{Name: "Lab 3"},
			You:     &wire.Member{Name: "ana", Role: wire.RoleAdmin},
			Members: []wire.Member{{Name: "ana", Role: wire.RoleAdmin}},
			Bans:    []string{},
		}, `{"v":1,"type":"welcome","seq":50,"name":"ana","role":"admin",` +
			`"room":{"name":"Lab 3"},"members":[{"name":"ana","role":"admin"}],"resumed":true,"missed":3,"bans":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			NewJSONUI(strings.NewReader(""), &out).Enter(tc.w, nil)
			if got := out.String(); got != tc.want+"\n" {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestJSONNotes(t *testing.T) {
	for _, tc := range []struct {
		n    join.Note
		want string
	}{
		{join.Note{Kind: join.Info, Text: "end of earlier messages"}, `{"v":1,"type":"backlog_end"}`},
		{join.Note{Kind: join.Info, Text: "something else"}, `{"v":1,"type":"note","kind":"info","text":"something else"}`},
		{join.Note{Kind: join.Warning, Text: "2 lines not sent (not connected to the room)"}, `{"v":1,"type":"note","kind":"warning","text":"2 lines not sent (not connected to the room)"}`},
		{join.Note{Kind: join.Progress, Text: "connection lost; reconnecting…"}, `{"v":1,"type":"note","kind":"progress","text":"connection lost; reconnecting…"}`},
		{join.Note{Kind: join.Settled, Text: "back in the room"}, `{"v":1,"type":"note","kind":"settled","text":"back in the room"}`},
		{join.Note{Kind: join.Pacing, Text: "the room takes 10 lines at once, then 2 lines a second; 5 lines waiting"}, `{"v":1,"type":"note","kind":"pacing","text":"the room takes 10 lines at once, then 2 lines a second; 5 lines waiting"}`},
	} {
		var out bytes.Buffer
		NewJSONUI(strings.NewReader(""), &out).Note(tc.n)
		if got := out.String(); got != tc.want+"\n" {
			t.Errorf("note %+v:\ngot  %s\nwant %s", tc.n, got, tc.want)
		}
	}
}

// TestJSONNotesEveryStatus: a program keeps its own log, so unlike line
// mode every status of an outage is written, not only the first and last.
func TestJSONNotesEveryStatus(t *testing.T) {
	var out bytes.Buffer
	ui := NewJSONUI(strings.NewReader(""), &out)
	for _, n := range []join.Note{{Kind: join.Progress, Text: "a"}, {Kind: join.Progress, Text: "b"}, {Kind: join.Settled, Text: "c"}} {
		ui.Note(n)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("%d lines, want 3:\n%s", n, out.String())
	}
}

// terminalUnsafe returns a description of the first byte sequence in a
// JSON line that a terminal could act on, or "".
func terminalUnsafe(line string) string {
	if !utf8.ValidString(line) {
		return "invalid UTF-8"
	}
	for i, r := range strings.TrimSuffix(line, "\n") {
		if join.NeedsPlaceholder(r) {
			return fmt.Sprintf("rune %U at byte %d", r, i)
		}
	}
	return ""
}

// decodeLines checks that out is lines of JSON objects, each with the
// version and a type, and returns them.
func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
	var objs []map[string]any
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		if why := terminalUnsafe(line); why != "" {
			t.Errorf("line %q: %s", line, why)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Errorf("line %q: %v", line, err)
			continue
		}
		if obj["v"] != float64(JSONVersion) {
			t.Errorf("line %q: v is %v, want %d", line, obj["v"], JSONVersion)
		}
		if typ, _ := obj["type"].(string); !knownJSONTypes[typ] {
			t.Errorf("line %q: type %q is not one of ours", line, typ)
		}
		objs = append(objs, obj)
	}
	return objs
}

// knownJSONTypes are the documented values of "type".
var knownJSONTypes = map[string]bool{
	"welcome": true, "say": true, "me": true, "join": true, "leave": true, "role": true, "event": true,
	"private": true, "notice": true, "bans": true, "closed": true, "refused": true, "error": true,
	"note": true, "backlog_end": true,
	"offer": true, "unsend": true, "transfer": true, // file sharing
}

// TestJSONHostileStrings sends what a hostile room or member writes in
// every string field: what comes out is valid JSON that holds the same
// string (each byte of invalid UTF-8 as U+FFFD), and no byte
// of it that a terminal would act on.
func TestJSONHostileStrings(t *testing.T) {
	payloads := append([]string{"line\u2028separator\u2029paragraph", "\x00nul\x7fdel", "bad \xff\xfe utf-8", `quote " and \ backslash`, "</script>&amp;"}, hostilePayloads...)
	for _, p := range payloads {
		t.Run(fmt.Sprintf("%q", p), func(t *testing.T) {
			var out bytes.Buffer
			ui := NewJSONUI(strings.NewReader(""), &out)
			ui.Enter(wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: p, ID: p}, You: &wire.Member{Name: p, Role: p}, Members: []wire.Member{{Name: p, Role: p}}, Bans: []string{p}}, nil)
			ui.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 1, Time: testTime, From: p, To: p, Name: p, Role: p, By: p, Code: p, Text: p}, join.Live)
			ui.Show(wire.Frame{Type: wire.TypeEvent, Kind: p, Seq: 2, Text: p}, join.Live)
			ui.Show(wire.Frame{Type: wire.TypeNotice, Text: p, Error: true}, join.Live)
			ui.Show(wire.Frame{Type: wire.TypeBans, Bans: []string{p, p}}, join.Live)
			ui.Note(join.Note{Kind: join.Warning, Text: p})
			objs := decodeLines(t, out.String())
			if len(objs) != 6 {
				t.Fatalf("%d lines, want 6:\n%s", len(objs), out.String())
			}
			want := string([]rune(p))
			for _, key := range []string{"from", "to", "name", "role", "by", "code", "text"} {
				if got := objs[1][key]; got != want {
					t.Errorf("say's %q is %q, want %q", key, got, want)
				}
			}
			if got := objs[2]["kind"]; got != want || objs[2]["type"] != "event" {
				t.Errorf("event of kind %q came out as type %q, kind %q", p, objs[2]["type"], got)
			}
			if got := objs[0]["room"].(map[string]any)["name"]; got != want {
				t.Errorf("welcome's room name is %q, want %q", got, want)
			}
			if got := objs[5]["text"]; got != want {
				t.Errorf("note's text is %q, want %q", got, want)
			}
		})
	}
}

func TestJSONLineEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain é 日本 🎉", `"plain é 日本 🎉"`},
		{"\u009b2J", `"\u009b2J"`},
		{"\x7f", `"\u007f"`},
		{"\u202egnp.exe", `"\u202egnp.exe"`},
		{"a\u2028b", `"a\u2028b"`},
		{"\x1b[2J", `"\u001b[2J"`},
		{"\xff", `"\ufffd"`},
	} {
		got, err := JSONLine(tc.in)
		if err != nil || string(got) != tc.want+"\n" {
			t.Errorf("JSONLine(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestJSONReadLine(t *testing.T) {
	in := "hi\r\n" + strings.Repeat("x", wire.MaxText+1) + "\n/me waves"
	var out bytes.Buffer
	lines, err := readAll(NewJSONUI(strings.NewReader(in), &out))
	if err != io.EOF {
		t.Errorf("ended with %v, want io.EOF", err)
	}
	if strings.Join(lines, "|") != "hi|/me waves" {
		t.Errorf("lines %q", abbreviate(lines))
	}
	if want := `{"v":1,"type":"note","kind":"warning","text":"line not sent: longer than 4000 bytes"}` + "\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
}

func TestJSONAskNameNeverAsks(t *testing.T) {
	var out bytes.Buffer
	ui := NewJSONUI(strings.NewReader("bob2\n"), &out)
	if name, ok := ui.AskName("taken"); ok || name != "" {
		t.Errorf("AskName = %q, %v; want no asking", name, ok)
	}
	if line, _ := ui.ReadLine(); line != "bob2" || out.Len() != 0 {
		t.Errorf("next line %q, output %q: AskName read or wrote", line, out.String())
	}
}

// TestJSONLinesWhole writes from many goroutines at once: every line comes
// out whole.
func TestJSONLinesWhole(t *testing.T) {
	var out bytes.Buffer
	ui := NewJSONUI(strings.NewReader(""), &out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				ui.Show(say(uint64(i+1), fmt.Sprint("g", g), strings.Repeat("-", 200), 0), join.Live)
				ui.Note(join.Note{Kind: join.Warning, Text: strings.Repeat("+", 200)})
			}
		})
	}
	wg.Wait()
	if objs := decodeLines(t, out.String()); len(objs) != 1600 {
		t.Errorf("%d lines, want 1600", len(objs))
	}
}

// TestJoinJSON runs join.Join with the JSON UI against a fake room: the
// welcome, the backlog and its end, the person's own line and a refused
// command, answered by ref, and the room confirming the /quit.
func TestJoinJSON(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		if _, ok := h.read(); !ok {
			t.Error("host: no hello")
			return
		}
		me := wire.Member{Name: "bob", Role: wire.RoleMember}
		h.send(wire.Frame{Type: wire.TypeWelcome, Version: wire.Version, Seq: 3, Epoch: "e1",
			Room: &wire.Room{Name: "Lab 3", ID: testRoomID}, You: &me, Members: []wire.Member{me}})
		h.send(say(1, "ana", "earlier \x1b[2J", 7))
		h.send(say(2, "bob", "said in an earlier run", 1))
		s := h.expect(wire.TypeSay, "hi")
		h.send(say(4, "bob", "hi", s.Ref))
		s = h.expect(wire.TypeSay, "/kick ana")
		h.send(wire.Frame{Type: wire.TypeNotice, Text: "not allowed: /kick is for admins", Error: true, Ref: s.Ref})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	var out bytes.Buffer
	ui := NewJSONUI(strings.NewReader("hi\n/kick ana\n"), &out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := join.Join(ctx, dial, join.Options{Name: "bob", Script: true}, ui); err != nil {
		t.Fatalf("Join: %v", err)
	}
	want := `{"v":1,"type":"welcome","seq":3,"name":"bob","role":"member","room":{"name":"Lab 3","id":"0123456789abcdef"},"members":[{"name":"bob","role":"member"}]}
{"v":1,"type":"say","phase":"backlog","seq":1,"time":"2024-03-01T10:04:00Z","from":"ana","text":"earlier \u001b[2J"}
{"v":1,"type":"say","phase":"backlog","seq":2,"time":"2024-03-01T10:04:00Z","from":"bob","text":"said in an earlier run"}
{"v":1,"type":"backlog_end"}
{"v":1,"type":"say","phase":"live","seq":4,"time":"2024-03-01T10:04:00Z","from":"bob","text":"hi","ref":1}
{"v":1,"type":"notice","phase":"live","text":"not allowed: /kick is for admins","error":true,"ref":2}
{"v":1,"type":"closed","phase":"live","code":"left"}
`
	if out.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
	}
	decodeLines(t, out.String())
}

// FuzzJSONUI gives the JSON UI any frame, as a room could send it (parsed
// from any bytes, and built from any strings), in any phase, and any note:
// every line it writes is one JSON object with the version and a type of
// ours, holds nothing a terminal acts on, and keeps the frame's text.
func FuzzJSONUI(f *testing.F) {
	f.Add([]byte(`{"type":"event","kind":"say","seq":1,"from":"ana","text":"hi"}`), "event", "say", "hi", uint8(0))
	f.Add([]byte(`{"type":"welcome","room":{"name":"x"},"you":{"name":"a","role":"member"},"bans":[]}`), "welcome", "", "", uint8(1))
	f.Add([]byte(`{"type":"bans","bans":["\u202e"]}`), "bans", "", "\u2028", uint8(2))
	f.Add([]byte(`{"type":"notice","text":"a\nb","error":true}`), "notice", "", "\xff\xfe", uint8(3))
	for _, p := range hostilePayloads {
		f.Add([]byte(`{"type":"private","from":`+fmt.Sprintf("%q", p)+`}`), "private", p, p, uint8(4))
	}
	f.Fuzz(func(t *testing.T, raw []byte, typ, kind, text string, phase uint8) {
		var out bytes.Buffer
		ui := NewJSONUI(strings.NewReader(""), &out)
		frames := []wire.Frame{{Type: typ, Kind: kind, Text: text, From: text, Name: kind, Bans: []string{text}, Time: testTime}}
		if parsed, err := wire.Parse(raw); err == nil {
			frames = append(frames, parsed)
			ui.Enter(parsed, nil)
		}
		for _, fr := range frames {
			ui.Show(fr, join.Phase(phase%4))
		}
		ui.Note(join.Note{Kind: join.NoteKind(phase % 5), Text: text})
		objs := decodeLines(t, out.String())
		if len(objs) == 0 {
			t.Fatal("no line for the note")
		}
		note := objs[len(objs)-1]
		if note["type"] != "backlog_end" && note["text"] != string([]rune(text)) && text != "" {
			t.Errorf("note's text %q, want %q", note["text"], text)
		}
	})
}

// TestJoinJSONReconnects: after a break, the JSON output has the
// outage's statuses, each welcome (the second one resumed), and what
// happened meanwhile as "missed".
func TestJoinJSONReconnects(t *testing.T) {
	me := wire.Member{Name: "bob", Role: wire.RoleMember}
	welcome := wire.Frame{Type: wire.TypeWelcome, Version: wire.Version, Epoch: "e1",
		Room: &wire.Room{Name: "Lab 3", ID: testRoomID}, You: &me, Members: []wire.Member{me}}
	inR, inW := io.Pipe()
	defer inW.Close()
	dial, _ := scriptDialer(t,
		func(h *fakeHost) {
			if _, ok := h.read(); !ok {
				t.Error("host: no hello")
				return
			}
			w := welcome
			w.Seq = 1
			h.send(w)
			h.send(say(2, "ana", "before the break", 0))
			// The script ends: the connection breaks.
		},
		func(h *fakeHost) {
			hello, ok := h.read()
			if !ok || hello.Resume == nil || hello.Resume.Seq != 2 {
				t.Errorf("host: hello %+v, want one resuming after 2", hello)
				return
			}
			w := welcome
			w.Seq, w.Resumed = 4, true
			h.send(w)
			h.send(say(3, "ana", "while you were away", 0))
			inW.Close() // the person has nothing more to say
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	var out bytes.Buffer
	ui := NewJSONUI(inR, &out)
	opts := join.Options{Name: "bob", Script: true, Reconnect: &join.Reconnect{Backoff: join.Backoff{Initial: time.Millisecond, Max: time.Millisecond}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := join.Join(ctx, dial, opts, ui); err != nil {
		t.Fatalf("Join: %v", err)
	}
	var got []string
	for _, obj := range decodeLines(t, out.String()) {
		line := fmt.Sprint(obj["type"])
		for _, key := range []string{"kind", "phase", "seq", "resumed", "text"} {
			if v, ok := obj[key]; ok && !(obj["kind"] == "progress" && key == "text") {
				line += fmt.Sprintf(" %s=%v", key, v)
			}
		}
		if len(got) > 0 && got[len(got)-1] == line {
			continue // one line for the statuses of the outage, however many
		}
		got = append(got, line)
	}
	want := []string{
		"welcome seq=1",
		"say phase=live seq=2 text=before the break",
		"note kind=progress",
		"welcome seq=4 resumed=true",
		"note kind=settled text=back in the room, the events you missed follow",
		"say phase=missed seq=3 text=while you were away",
		"closed phase=live",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("wrote\n%s\nsummed up as\n%s\nwant\n%s", out.String(), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
