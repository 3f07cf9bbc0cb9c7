package host

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// testThrottle is a throttle on a clock that moves only when the test
// says.
func testThrottle() (*passwordThrottle, *time.Time) {
	now := time.Unix(1e9, 0)
	th := newPasswordThrottle()
	th.now = func() time.Time { return now }
	return th, &now
}

// Wrong passwords from one address make later tries from its prefix wait
// longer and longer, and each try found too early is told how long to
// wait; another prefix is not held up by them, and the right password, or
// a quiet while, starts the prefix afresh.
func TestPasswordThrottlePerPrefix(t *testing.T) {
	th, now := testThrottle()
	th.burst = 1000 // the room-wide budget is another test's
	var delays []time.Duration
	for range 10 {
		retry, ok := th.begin("10.0.0.1")
		if !ok {
			*now = now.Add(retry)
			if _, ok := th.begin("10.0.0.1"); !ok {
				t.Fatalf("refused again after waiting the %v it was told", retry)
			}
		}
		delays = append(delays, retry)
	}
	want := []time.Duration{0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if fmt.Sprint(delays) != fmt.Sprint(want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	// Same /24, another address: the same prefix, so it waits too.
	if _, ok := th.begin("10.0.0.77"); ok {
		t.Fatal("another address of the same /24 was not held up")
	}
	if _, ok := th.begin("10.0.1.1"); !ok {
		t.Fatal("another /24 was held up")
	}
	*now = now.Add(forgetFailures + time.Second)
	for range freeTries {
		if retry, ok := th.begin("10.0.0.1"); !ok {
			t.Fatalf("after a quiet while, still %v", retry)
		}
	}
	for range 3 {
		if _, ok := th.begin("10.0.0.3"); !ok {
			*now = now.Add(time.Minute)
		}
	}
	th.right("10.0.0.3")
	for range freeTries {
		if retry, ok := th.begin("10.0.0.3"); !ok {
			t.Fatalf("after the right password, still %v", retry)
		}
	}
	// IPv6: the /64 is the prefix.
	for range freeTries {
		th.begin("2001:db8:1:2::1")
	}
	if _, ok := th.begin("2001:db8:1:2:ffff::9"); ok {
		t.Fatal("another address of the same /64 was not held up")
	}
	if _, ok := th.begin("2001:db8:1:3::1"); !ok {
		t.Fatal("another /64 was held up")
	}
}

// Attack: guessing the admin password from as many addresses as it takes,
// each try from a new /24 or /64 (127.0.0.0/8 and one IPv6 /48 hold plenty),
// as fast as the host answers (a try every 10 ms). Per address or prefix
// each try is a first one; the room-wide budget is what holds. Over a
// simulated hour fewer than 100 passwords are checked: roomTries at once,
// then one per roomRefill, 10 + 60 = 70.
func TestPasswordThrottleManyAddresses(t *testing.T) {
	th, now := testThrottle()
	start := *now
	checked, refused := 0, 0
	for i := 0; now.Sub(start) < time.Hour; i++ {
		var addr string
		if i%2 == 0 {
			addr = fmt.Sprintf("127.%d.%d.1", i/2/256%256, i/2%256)
		} else {
			addr = fmt.Sprintf("2001:db8:%x:%x::1", i/2/65536%65536, i/2%65536)
		}
		if _, ok := th.begin(addr); ok {
			checked++ // and wrong
		} else {
			refused++
		}
		*now = now.Add(10 * time.Millisecond)
	}
	want := roomTries + int(time.Hour/roomRefill)
	t.Logf("in an hour: %d passwords checked, %d tries refused unchecked", checked, refused)
	if checked >= 100 || checked > want {
		t.Fatalf("%d passwords checked in an hour from rotating addresses, want at most %d (and fewer than 100)", checked, want)
	}
	if len(th.prefixes) > maxTracked {
		t.Fatalf("%d prefixes remembered, at most %d", len(th.prefixes), maxTracked)
	}
	// Also when they come all at once: tries in flight cannot overdraw the
	// budget, however many begin before any is answered.
	th, now = testThrottle()
	checked = 0
	for i := range 10_000 {
		if _, ok := th.begin(fmt.Sprintf("127.1.%d.%d", i/256%256, i%256)); ok {
			checked++
		}
	}
	if checked != roomTries {
		t.Fatalf("%d checked at once, want %d", checked, roomTries)
	}
	_ = now
}

// Attack: filling the throttle's table with prefixes so that it forgets
// the one doing the guessing (it used to clear the whole table at 4,096
// addresses). Only the prefix that tried least lately is forgotten, and
// a guesser who keeps trying is never it.
func TestPasswordThrottleForgetsOnlyTheOldest(t *testing.T) {
	th, now := testThrottle()
	th.burst = 1 << 20 // so that the table can fill within the test
	guesses := 0
	for range 5 {
		th.begin("10.9.9.9")
		guesses++
		*now = now.Add(time.Minute)
	}
	full := false
	for i := range maxTracked + 1000 {
		*now = now.Add(time.Millisecond)
		th.begin(fmt.Sprintf("2001:db8:%x::1", i))
		if i%100 == 0 {
			// The guesser keeps trying now and then.
			*now = now.Add(time.Minute)
			if _, ok := th.begin("10.9.9.9"); !ok {
				t.Fatal("the guesser was refused a minute after its last try")
			}
			guesses++
		}
		switch n := len(th.prefixes); {
		case n > maxTracked:
			t.Fatalf("%d prefixes remembered, at most %d", n, maxTracked)
		case n == maxTracked:
			full = true
		case full:
			t.Fatalf("the table went from full to %d prefixes: more was forgotten than the oldest", n)
		}
	}
	if p := th.prefixes[addrPrefix("10.9.9.9")]; p == nil || p.count != guesses {
		t.Fatalf("the guesser's prefix was forgotten: %+v, want %d tries", p, guesses)
	}
	if _, ok := th.begin("10.9.9.9"); ok {
		t.Fatal("the guesser was let through at once")
	}
	if _, ok := th.prefixes[addrPrefix("2001:db8:0::1")]; ok {
		t.Fatal("the oldest prefix is still remembered")
	}
	if _, ok := th.prefixes[addrPrefix(fmt.Sprintf("2001:db8:%x::1", maxTracked+999))]; !ok {
		t.Fatal("the newest prefix was forgotten")
	}
}

func TestAddrPrefix(t *testing.T) {
	for addr, want := range map[string]string{
		"192.168.1.20":     "192.168.1.0/24",
		"::ffff:10.1.2.3":  "10.1.2.0/24",
		"fe80::1:2:3:4":    "fe80::/64",
		"2001:db8:a:b:c::": "2001:db8:a:b::/64",
		"not an address":   "not an address",
	} {
		if got := addrPrefix(addr); got != want {
			t.Errorf("addrPrefix(%q) = %q, want %q", addr, got, want)
		}
	}
}

// Attack: guessing the admin password over the network from a new address
// for each guess, each in a /24 of its own (127.0.0.0/8 is all local on
// Linux). The room checks roomTries of them; every guess after that is
// refused unchecked, with when to try again, until the budget refills. An
// admin made with /op gets in as admin at once all the while, by key,
// even sending a password; the owner is not held up either. (The right
// password from someone not known by key waits like any other: the room
// cannot tell it from a guess before checking it.)
func TestPasswordGuessingFromManyAddresses(t *testing.T) {
	requireLoopbackRange(t)
	h := startHost(t, Config{AdminPassword: "correct horse battery staple"})
	th := h.server.throttle
	frozen := time.Now()
	th.mu.Lock()
	th.now = func() time.Time { return frozen }
	th.mu.Unlock()
	ana := owner(t, h, "ana")

	eveKey, err := join.LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	eve := member(t, h, "eve", dialOptions{identity: &eveKey})
	ana.nextEvent(wire.KindJoin)
	ana.say("/op eve")
	if role := ana.nextEvent(wire.KindRole); role.Name != "eve" || role.Role != wire.RoleAdmin {
		t.Fatalf("ana saw %+v", role)
	}
	eve.conn.Close()
	ana.nextEvent(wire.KindLeave)

	const guesses = 3 * roomTries
	checked, refused := 0, 0
	for i := range guesses {
		c := hello(t, h, fmt.Sprintf("mallory%d", i), dialOptions{
			from: fmt.Sprintf("127.%d.%d.1", 1+i/250, 1+i%250), password: fmt.Sprintf("guess %d", i)})
		switch f := c.welcome; {
		case f.Type == wire.TypeRefused && f.Code == wire.CodeWrongPassword:
			checked++
		case f.Type == wire.TypeRefused && f.Code == wire.CodeTooMany &&
			strings.HasPrefix(f.Text, "too many wrong admin passwords lately; try again in "):
			refused++
		default:
			t.Fatalf("guess %d: %+v", i, f)
		}
		c.conn.Close()
	}
	if checked != roomTries || refused != guesses-roomTries {
		t.Fatalf("of %d guesses from as many /24s, %d were checked and %d refused; want %d checked", guesses, checked, refused, roomTries)
	}
	right := hello(t, h, "bob", dialOptions{from: "127.200.0.1", password: "correct horse battery staple"})
	if right.welcome.Code != wire.CodeTooMany {
		t.Fatalf("the right password while the budget is spent: %+v", right.welcome)
	}

	// eve, known by key, sends a wrong password from yet another address:
	// she is an admin at once.
	eve = hello(t, h, "eve", dialOptions{from: "127.201.0.1", identity: &eveKey, password: "whatever"})
	if eve.welcome.Type != wire.TypeWelcome || eve.welcome.You.Role != wire.RoleAdmin {
		t.Fatalf("eve, an admin by key, while others guess: %+v", eve.welcome)
	}
	if f := ana.nextEvent(wire.KindJoin); f.Name != "eve" || f.Role != wire.RoleAdmin {
		t.Fatalf("ana saw %+v", f)
	}
	// The owner is not held up: her line goes through.
	ana.say("/me is still the owner")
	if f := ana.nextEvent(wire.KindMe); f.From != "ana" {
		t.Fatalf("ana saw %+v", f)
	}

	// A minute later the budget has one more try, and the right password
	// is an admin.
	th.mu.Lock()
	frozen = frozen.Add(roomRefill)
	th.mu.Unlock()
	bob := hello(t, h, "bob", dialOptions{from: "127.200.0.1", password: "correct horse battery staple"})
	if bob.welcome.Type != wire.TypeWelcome || bob.welcome.You.Role != wire.RoleAdmin {
		t.Fatalf("the right password once the budget refilled: %+v", bob.welcome)
	}
}
