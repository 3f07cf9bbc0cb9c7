package discovery

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"chatroom/discovery/netns"
)

// TestTXTTopic: the topic travels in its own TXT string, cut to fit on a
// character boundary; a room with none sends no such string.
func TestTXTTopic(t *testing.T) {
	room := testRoom("Lab 3", "3f9a2c71d0e4b5a6")
	for _, fields := range encodeTXT(room) {
		if strings.HasPrefix(fields, keyTopic+"=") {
			t.Errorf("a room with no topic sends %q", fields)
		}
	}
	for _, topic := range []string{
		"release on friday",
		`back\slash "quoted" a=b`,
		"x" + strings.Repeat("日", 200), // cut inside a character
	} {
		room.Topic = topic
		txt := encodeTXT(room)
		for _, s := range txt {
			if len(unescapeDNS(s)) > maxTXTString {
				t.Errorf("TXT string of %d bytes: %.40q", len(s), s)
			}
		}
		got, ok := roomFromTXT(throughDNS(t, txt))
		if !ok {
			t.Fatalf("%.40q: not read back", topic)
		}
		if !utf8.ValidString(got.Topic) || !strings.HasPrefix(topic, got.Topic) || len(got.Topic) > maxTopicTXT || len(got.Topic) < maxTopicTXT-3 && got.Topic != topic {
			t.Errorf("topic %.40q read back as %.40q (%d bytes)", topic, got.Topic, len(got.Topic))
		}
	}
	// What a hostile record sends is read as valid UTF-8, for Sanitize.
	got, _ := roomFromTXT([]string{"v=1", "id=3f9a2c71d0e4b5a6", "fp=SHA256:" + strings.Repeat("A", 43), "topic=a\xffb\x1b[2J"})
	if got.Topic != "a\uFFFDb\x1b[2J" {
		t.Errorf("hostile topic read as %q", got.Topic)
	}
}

// TestTopicFollowed: a room's change of topic reaches browsers, as the
// advertiser looks at the network again.
func TestTopicFollowed(t *testing.T) {
	netns.Require(t)
	var topic atomic.Value
	topic.Store("cats")
	opts := onLoopback
	opts.Topic = func() string { return topic.Load().(string) }
	advertise(t, testRoom("Lab 3", "3f9a2c71d0e4b5a6"), opts)
	if rooms := browse(t, onLoopback); len(rooms) != 1 || rooms[0].Topic != "cats" {
		t.Fatalf("found %+v; want the room with topic cats", rooms)
	}
	topic.Store("dogs")
	deadline := time.Now().Add(10 * time.Second)
	for {
		rooms := browse(t, onLoopback)
		if len(rooms) == 1 && rooms[0].Topic == "dogs" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("found %+v; want the room with topic dogs", rooms)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
