package main

import (
	"strings"
	"testing"
)

// Attack: guessing a weak admin password. The room lets anyone on the LAN
// try 70 an hour, so a short one, or one from a list of common ones, is
// found within days; the person starting the host is warned of both.
func TestWeakPassword(t *testing.T) {
	for password, want := range map[string]string{
		"":                             "",
		"letmein":                      "short (7 characters) and a common password or word",
		"Password1!":                   "short (10 characters) and a common password or word",
		"P@ssw0rd":                     "short (8 characters) and a common password or word",
		"f00tba11":                     "short (8 characters) and a common password or word",
		"kx8#Vq2m":                     "short (8 characters)",
		"ünïcødé":                      "short (7 characters)",
		"password1234":                 "a common password or word",
		"Administrator!":               "a common password or word",
		"QWERTYUIOP123":                "a common password or word",
		"correct horse battery staple": "a common password or word",
		"Correct-Horse-Battery-Staple": "a common password or word",
		"123456789012345":              "a common password or word",
		"!!!!!!!!!!!!!!":               "a common password or word",
		"chatroom2026!!":               "a common password or word",
		"sunshine_2024":                "a common password or word",
		"staple horse lagoon vinegar":  "",
		"kx8#Vq2m-Tz4!pW":              "",
		"dragonfly orbit cello":        "",
	} {
		if got := weakPassword(password); got != want {
			t.Errorf("weakPassword(%q) = %q, want %q", password, got, want)
		}
	}
}

// Every word of the list is found as it is written, in capitals, and with
// the digits and signs people add at the end.
func TestCommonPasswordList(t *testing.T) {
	n := 0
	for line := range strings.Lines(commonPasswordList) {
		word := strings.TrimSpace(line)
		if word == "" || strings.HasPrefix(word, "#") {
			continue
		}
		n++
		for _, p := range []string{word, strings.ToUpper(word), word + "2024!", word + "."} {
			if !commonPassword(p) {
				t.Errorf("%q (from %q) is not found common", p, word)
			}
		}
	}
	if n < 500 {
		t.Fatalf("the list holds %d words", n)
	}
}
