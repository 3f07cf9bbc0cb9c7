//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chatroom/host"
	"chatroom/host/room"
	"chatroom/host/wire"
	"chatroom/join"
)

// TestPromptBigRoomCompletion: in a room of more than wire.MembersInWelcome
// members, "chatroom join" at a terminal is welcomed with the count
// rather than the list, and Tab still completes the name of someone who
// was there before the person came (whom no event has told of): the
// client asks the room for its members the first time Tab needs them.
func TestPromptBigRoomCompletion(t *testing.T) {
	bin := buildChatroom(t)
	tmuxOK(t)
	lifted := wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20} // a room filled at once, from one address
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0", MaxConnsPerAddr: 1000,
		JoinLimits: room.JoinLimits{PerAddress: lifted, PerKey: lifted, Newcomers: lifted}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	ctx, cancel := context.WithTimeout(context.Background(), screenWait)
	defer cancel()
	connect := func(name string) *join.Session {
		conn, err := join.DialTLS(addr, fp, nil)(ctx)
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		sess, err := join.Connect(ctx, conn, wire.Frame{Name: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sess
	}
	names := []string{"zebra"}
	for i := range wire.MembersInWelcome + 4 {
		names = append(names, fmt.Sprintf("m%d", i))
	}
	for _, name := range names {
		sess := connect(name)
		t.Cleanup(func() { sess.Close() })
		go func() {
			for {
				if _, err := sess.Next(); err != nil {
					return
				}
			}
		}()
	}
	// The room tells arrivals in a big room together, a window after they
	// come: until then a welcome lists fewer.
	for n := 0; ; n++ {
		probe := connect(fmt.Sprintf("probe%d", n))
		w := probe.Welcome()
		probe.Close()
		if w.MembersOnRequest && w.MemberCount > wire.MembersInWelcome {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no welcome left the members out; the last: %d listed", len(w.Members))
		}
		time.Sleep(200 * time.Millisecond)
	}

	tm := startTmux(t, fmt.Sprintf("%s join --addr %s --fingerprint %s --user ana --state %s; echo \"[exited $?]\"; sleep 600",
		bin, addr, fp, t.TempDir()))
	const prompt = "Lab 3 ana> "
	tm.waitLines(`^joined "Lab 3" as ana \(\d+ here; /who lists them\)$`)
	tm.waitRow(prompt, -1)
	tm.typeSlowly("/msg zeb")
	tm.keys("Tab")
	tm.waitRow(prompt+"/msg zebra ", -1)
	tm.typeSlowly("hi")
	tm.keys("Enter")
	tm.waitLines(`^\d\d:\d\d \[ana -> zebra\] hi$`)
}
