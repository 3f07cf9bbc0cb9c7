package wire

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Attack: a hostile member offers a name that, saved as it is, would
// land outside the download directory, hide what it is, or name a device.
func TestCheckFileName(t *testing.T) {
	good := []string{"slides.pdf", "a", "notes v2.txt", ".profile", "日本語.txt", "café.md", "a..b", "con-notes.txt", "COM10.txt"}
	good = append(good, strings.Repeat("a", MaxFileNameBytes))
	for _, name := range good {
		if err := CheckFileName(name); err != nil {
			t.Errorf("CheckFileName(%q) = %v, want nil", name, err)
		}
	}
	bad := map[string]string{
		"":                                      "empty",
		".":                                     "dots",
		"..":                                    "dots",
		"...":                                   "dots",
		"../etc/passwd":                         "directory",
		"a/b":                                   "directory",
		`..\win.ini`:                            "directory",
		"C:evil":                                "':'",
		"a\x00b":                                "control",
		"a\nb":                                  "control",
		"a\x1b[31mred":                          "control",
		"a\u0085b":                              "control",
		"evil\u202etxt.exe":                     "invisible",
		"a\u2066b":                              "invisible",
		"zero\u200bwidth":                       "invisible",
		"line\u2028sep":                         "invisible",
		"CON":                                   "device",
		"nul.txt":                               "device",
		"Com1.tar.gz":                           "device",
		"lpt9":                                  "device",
		"AUX .txt":                              "device",
		"COM¹":                                  "device",
		"conin$":                                "device",
		"report.":                               "ends with",
		"report ":                               "ends with",
		"a?b":                                   "'?'",
		"a*b":                                   "'*'",
		"\xff.txt":                              "UTF-8",
		strings.Repeat("a", MaxFileNameBytes+1): "bytes long",
	}
	for name, want := range bad {
		err := CheckFileName(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckFileName(%q) = %v, want an error saying %q", name, err, want)
		}
	}
}

// FuzzCheckFileName: whatever CheckFileName lets through is one name that stays
// in the directory it is joined to, on any system, and shows as it is.
func FuzzCheckFileName(f *testing.F) {
	for _, s := range []string{"slides.pdf", "../x", "a\u202eb", "CON.txt", "..", "a/b", "a\\b", ".x", "x."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckFileName(name) != nil {
			return
		}
		if !filepath.IsLocal(name) || filepath.Base(name) != name || strings.ContainsAny(name, `/\:`) {
			t.Fatalf("CheckFileName let through %q, which is not one local name", name)
		}
		if !utf8.ValidString(name) || len(name) > MaxFileNameBytes {
			t.Fatalf("CheckFileName let through %q", name)
		}
		for _, r := range name {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("CheckFileName let through %q with U+%04X", name, r)
			}
		}
		if isDeviceName(name) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
			t.Fatalf("CheckFileName let through %q", name)
		}
	})
}

// Sizes in refusals and offers are read by people: the figures must be
// right at the unit boundaries, where rounding could show "1000 kB".
func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 1: "1 byte", 999: "999 bytes", 1000: "1 kB", 1500: "1.5 kB",
		999_949: "999.9 kB", 999_999: "1 MB", 2_300_000: "2.3 MB", 10_000_001: "10 MB",
		1 << 30: "1.1 GB", 1 << 40: "1.1 TB",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// A transfer connection's raw bytes follow its "ready" frame at once: a
// reader that read the frame must give every byte it read ahead, then
// the rest, so that none of the file is lost between the two.
func TestDecoderRest(t *testing.T) {
	data := strings.Repeat("x", 3000)
	stream := `{"type":"ready","offset":5}` + "\n" + data
	d := NewDecoder(io.MultiReader(strings.NewReader(stream[:40]), strings.NewReader(stream[40:])), MaxHostFrame)
	f, err := d.Decode()
	if err != nil || f.Type != TypeReady || f.Offset != 5 {
		t.Fatalf("Decode = %+v, %v", f, err)
	}
	rest, err := io.ReadAll(d.Rest())
	if err != nil || string(rest) != data {
		t.Fatalf("Rest gave %d bytes (%v), want the %d after the frame", len(rest), err, len(data))
	}
}

func TestCheckSHA256(t *testing.T) {
	good := strings.Repeat("3f", 32)
	if err := CheckSHA256(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", good[:63], good + "0", strings.ToUpper(good), strings.Repeat("g", 64), strings.Repeat("3f", 31) + "\u00e9"} {
		if CheckSHA256(bad) == nil {
			t.Errorf("CheckSHA256(%q) = nil", bad)
		}
	}
}
