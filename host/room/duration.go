package room

import (
	"fmt"
	"time"
)

// maxBan is the longest ban or mute with a duration; longer is refused, and
// one meant to last longer is made without a duration (until /unban).
const maxBan = 365 * 24 * time.Hour

// durationUnits are the units a ban's or mute's duration may use, largest
// first, as they must come: "1w2d", "1h30m", never "30m1h".
var durationUnits = []struct {
	unit byte
	size time.Duration
}{
	{'w', 7 * 24 * time.Hour},
	{'d', 24 * time.Hour},
	{'h', time.Hour},
	{'m', time.Minute},
	{'s', time.Second},
}

// durationHelp is how a duration is written, for the error that refuses one.
const durationHelp = "a duration is a number and a unit (s, m, h, d or w), or several, largest first, such as 10m, 1h30m, 2d12h or 1w, of at most a year"

// looksLikeDuration reports whether word was meant as a duration: it starts
// with a digit, or with a sign and a digit. Such a word is never taken as
// the first word of a reason, so that a mistyped duration ("1x", "10",
// "-5m") is refused rather than turned into a ban until /unban.
func looksLikeDuration(word string) bool {
	if word != "" && (word[0] == '+' || word[0] == '-') {
		word = word[1:]
	}
	return word != "" && word[0] >= '0' && word[0] <= '9'
}

// parseDuration reads a duration written with durationUnits, each at most
// once, largest first. It refuses zero, a sign, anything else, and more
// than maxBan, with the reason in words.
func parseDuration(word string) (time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q is not a duration%s: %s", word, why, durationHelp)
	}
	if word == "" || word[0] == '+' || word[0] == '-' {
		return 0, bad("")
	}
	var total time.Duration
	rest := word
	next := 0 // index in durationUnits of the largest unit still allowed
	for rest != "" {
		digits := 0
		for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
			digits++
		}
		if digits == 0 || digits == len(rest) || digits > 9 {
			// No number, a number without a unit, or a number no duration
			// needs (and that could overflow).
			return 0, bad("")
		}
		n := 0
		for _, c := range rest[:digits] {
			n = n*10 + int(c-'0')
		}
		unit := rest[digits]
		i := next
		for i < len(durationUnits) && durationUnits[i].unit != unit {
			i++
		}
		if i == len(durationUnits) {
			return 0, bad("")
		}
		size := durationUnits[i].size
		if time.Duration(n) > (maxBan-total)/size {
			return 0, bad(" the room takes (over a year)")
		}
		total += time.Duration(n) * size
		next = i + 1
		rest = rest[digits+1:]
	}
	if total <= 0 {
		return 0, bad(" the room takes (it is zero)")
	}
	return total, nil
}

// cutUntil reads what /ban and /mute take after the name: an optional
// duration, then the reason. It returns when the duration ends (zero for
// none) and the reason. A first word that looks like a duration and is not
// a valid one is an error: it is never read as the start of the reason;
// and so is a reason too long to keep (checkReason).
func (s *state) cutUntil(args string) (time.Time, string, error) {
	word, rest := cutWord(args)
	if !looksLikeDuration(word) {
		return time.Time{}, args, checkReason(args)
	}
	d, err := parseDuration(word)
	if err != nil {
		return time.Time{}, "", err
	}
	return s.now().Add(d), rest, checkReason(rest)
}

// until says until when a ban or mute that ends at t holds, as seen at now
// and in the location of the room's clock (the host's local time): "until
// 18:30" today, "until Tue 09:00" within the week, "until 2025-03-21 09:00"
// beyond, and forever, "until " + lift (the command that lifts it).
func until(now, t time.Time, lift string) string {
	if t.IsZero() {
		return "until " + lift
	}
	t = t.In(now.Location())
	// Days between the two dates on the calendar, whatever the hours.
	ny, nm, nd := now.Date()
	ty, tm, td := t.Date()
	days := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC).Sub(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	switch {
	case days <= 0:
		return "until " + t.Format("15:04")
	case days < 7:
		// Within the next six days, so that the weekday is never today's.
		return "until " + t.Format("Mon 15:04")
	default:
		return "until " + t.Format("2006-01-02 15:04")
	}
}

// untilText is " until ..." for a sanction that ends at t, or "" for one
// that lasts until it is lifted: what the sanctioned person is told.
func untilText(now, t time.Time) string {
	if t.IsZero() {
		return " " + untilLifted
	}
	return " " + until(now, t, "")
}

// untilLifted is how long a ban or mute without a duration holds, as the
// banned or muted person is told it: the admin's confirmation names the
// command (until /unban), which is no use to them.
const untilLifted = "until an admin lifts it"

// stamp formats a time of the moderation lists in the room's clock's
// location, whatever location it was saved in.
func (s *state) stamp(t time.Time) string {
	return t.In(s.now().Location()).Format("2006-01-02 15:04")
}

// ago says how long before now t was, in words: "a moment ago", "a minute
// ago", "12 minutes ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "a moment ago"
	case d < 2*time.Minute:
		return "a minute ago"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d/time.Minute))
	default:
		return fmt.Sprintf("%d hours ago", int(d/time.Hour))
	}
}
