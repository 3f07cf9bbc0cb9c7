package host

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chatroom/host/room"
)

// TestTopicSaved: the topic the room saves is what the next start loads;
// a cleared topic loads as none; a damaged file stops the start with what
// to do.
func TestTopicSaved(t *testing.T) {
	dir := t.TempDir()
	d := dirStore(dir)
	want := room.Topic{Text: "release on friday", By: "ana", Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	if err := d.SaveTopic(want); err != nil {
		t.Fatal(err)
	}
	got, err := loadTopic(dir)
	if err != nil || got != want {
		t.Fatalf("loadTopic = %+v, %v; want %+v", got, err, want)
	}
	if err := d.SaveTopic(room.Topic{}); err != nil {
		t.Fatal(err)
	}
	if got, err := loadTopic(dir); err != nil || got != (room.Topic{}) {
		t.Fatalf("loadTopic after clearing = %+v, %v; want none", got, err)
	}
	for _, damaged := range []string{
		`{"version": 1, "topic": {"text": "a\u001b[2Jb"}}`,
		`{"version": 2, "topic": {"text": "later"}}`,
		`{"version": 1, "topic": {"text": "` + strings.Repeat("x", room.MaxTopic+1) + `"}}`,
		`{"version": 1, "topic": {"text": "hi", "by": "a b"}}`,
		`not json`,
	} {
		if err := os.WriteFile(filepath.Join(dir, topicFile), []byte(damaged), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadTopic(dir)
		if err == nil || !strings.Contains(err.Error(), "fix or remove it") {
			t.Errorf("loadTopic(%.40q) = %v; want that the file is damaged", damaged, err)
		}
	}
}

// FuzzParseTopic: parsing never panics, and a topic read from a file is
// one the room takes, and saves and reads back the same.
func FuzzParseTopic(f *testing.F) {
	f.Add([]byte(`{"version": 1, "topic": {"text": "hi", "by": "ana", "time": "2026-12-01T09:00:00+01:00"}}`))
	f.Add([]byte(`{"version": 1, "topic": {"text": ""}}`))
	f.Add([]byte(`{"version": 1, "topic": {"text": "\u202e"}}`))
	f.Add([]byte(`{"version": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		topic, err := parseTopic(data)
		if err != nil {
			return
		}
		if problem := room.CheckTopic(topic.Text); problem != "" {
			t.Fatalf("read a topic the room would refuse (%s): %q", problem, topic.Text)
		}
		saved, err := encodeTopic(topic)
		if err != nil {
			t.Fatalf("cannot save a topic that was read: %v", err)
		}
		again, err := parseTopic(saved)
		if err != nil || !again.Time.Equal(topic.Time) || again.Text != topic.Text || again.By != topic.By {
			t.Fatalf("a saved topic does not read back (%v):\n%s", err, saved)
		}
		if resaved, _ := encodeTopic(again); !bytes.Equal(saved, resaved) {
			t.Fatalf("saved and read back, the topic changed:\n%s\n%s", saved, resaved)
		}
	})
}
