package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"chatroom/host/wire"
	"chatroom/join"
)

// TestExitCode: each way a command ends has its exit status, as
// "chatroom help" documents.
func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("disk full"), exitError},
		{&usageError{msg: "unknown flag --usr", command: "join"}, exitUsage},
		{&join.RefusedError{Code: wire.CodeNameTaken}, exitRefused},
		{&join.RefusedError{Code: wire.CodeNameInvalid}, exitRefused},
		{&join.RefusedError{Code: wire.CodeWrongPassword}, exitRefused},
		{&join.RefusedError{Code: wire.CodeBanned}, exitRefused},
		{&join.RefusedError{Code: wire.CodeNoAdmin}, exitRefused},
		{&join.RefusedError{Code: wire.CodeTooMany}, exitError},
		{&join.RefusedError{Code: wire.CodeRoomClosed}, exitError},
		{&join.RefusedError{Code: wire.CodeVersion}, exitError},
		{&join.ClosedError{Code: wire.CodeKicked, By: "ana"}, exitRefused},
		{&join.ClosedError{Code: wire.CodeBanned}, exitRefused},
		{&join.ClosedError{Code: wire.CodeTooSlow}, exitError},
		{fmt.Errorf("joining: %w", &join.ClosedError{Code: wire.CodeKicked}), exitRefused},
		{join.ErrNoRooms, exitNoRoom},
		{&worded{"no room found on the network; …", join.ErrNoRooms}, exitNoRoom},
		{&join.NoRoomCalledError{Query: "lab 9", Found: []string{`"Lab 3"`}}, exitNoRoom},
		{&join.AmbiguousError{Query: "lab"}, exitError},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestAskingAgain: a wrong admin password is asked again, up to three
// tries in all; the right one, or another refusal, ends the asking.
func TestAskingAgain(t *testing.T) {
	wrong := &join.RefusedError{Code: wire.CodeWrongPassword, Text: "wrong admin password"}
	for _, tt := range []struct {
		name    string
		answers []error // what chat returns, in turn
		want    error
		tries   int
	}{
		{"right at once", []error{nil}, nil, 1},
		{"right the second time", []error{wrong, nil}, nil, 2},
		{"right the third time", []error{wrong, wrong, nil}, nil, 3},
		{"wrong three times", []error{wrong, wrong, wrong, nil}, wrong, 3},
		{"banned", []error{&join.RefusedError{Code: wire.CodeBanned}}, &join.RefusedError{Code: wire.CodeBanned}, 1},
	} {
		var stderr strings.Builder
		c := &cli{stderr: &stderr}
		var tried []string
		asks := 0
		err := c.askingAgain("pw0", func(password string) error {
			tried = append(tried, password)
			return tt.answers[len(tried)-1]
		}, func() (string, error) {
			asks++
			return fmt.Sprintf("pw%d", asks), nil
		})
		if fmt.Sprint(err) != fmt.Sprint(tt.want) || len(tried) != tt.tries || asks != tt.tries-1 {
			t.Errorf("%s: err %v after %d tries (%q), %d asks; want %v after %d", tt.name, err, len(tried), tried, asks, tt.want, tt.tries)
		}
		if tt.tries > 1 && !strings.Contains(stderr.String(), fmt.Sprintf("chatroom: wrong admin password; try %d of 3\n", tt.tries)) {
			t.Errorf("%s: stderr %q", tt.name, stderr.String())
		}
	}
}
