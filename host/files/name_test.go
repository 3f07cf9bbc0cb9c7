package files

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Attack: a hostile member offers a name that, saved as it is, would
// land outside the download directory, hide what it is, or name a device.
func TestCheckName(t *testing.T) {
	good := []string{"slides.pdf", "a", "notes v2.txt", ".profile", "日本語.txt", "café.md", "a..b", "con-notes.txt", "COM10.txt"}
	good = append(good, strings.Repeat("a", MaxNameBytes))
	for _, name := range good {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", name, err)
		}
	}
	bad := map[string]string{
		"":                                  "empty",
		".":                                 "dots",
		"..":                                "dots",
		"...":                               "dots",
		"../etc/passwd":                     "directory",
		"a/b":                               "directory",
		`..\win.ini`:                        "directory",
		"C:evil":                            "':'",
		"a\x00b":                            "control",
		"a\nb":                              "control",
		"a\x1b[31mred":                      "control",
		"a\u0085b":                          "control",
		"evil\u202etxt.exe":                 "invisible",
		"a\u2066b":                          "invisible",
		"zero\u200bwidth":                   "invisible",
		"line\u2028sep":                     "invisible",
		"CON":                               "device",
		"nul.txt":                           "device",
		"Com1.tar.gz":                       "device",
		"lpt9":                              "device",
		"AUX .txt":                          "device",
		"COM¹":                              "device",
		"conin$":                            "device",
		"report.":                           "ends with",
		"report ":                           "ends with",
		"a?b":                               "'?'",
		"a*b":                               "'*'",
		"\xff.txt":                          "UTF-8",
		strings.Repeat("a", MaxNameBytes+1): "bytes long",
	}
	for name, want := range bad {
		err := CheckName(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckName(%q) = %v, want an error saying %q", name, err, want)
		}
	}
}

// FuzzCheckName: whatever CheckName lets through is one name that stays
// in the directory it is joined to, on any system, and shows as it is.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"slides.pdf", "../x", "a\u202eb", "CON.txt", "..", "a/b", "a\\b", ".x", "x."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckName(name) != nil {
			return
		}
		if !filepath.IsLocal(name) || filepath.Base(name) != name || strings.ContainsAny(name, `/\:`) {
			t.Fatalf("CheckName let through %q, which is not one local name", name)
		}
		if !utf8.ValidString(name) || len(name) > MaxNameBytes {
			t.Fatalf("CheckName let through %q", name)
		}
		for _, r := range name {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("CheckName let through %q with U+%04X", name, r)
			}
		}
		if isDeviceName(name) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
			t.Fatalf("CheckName let through %q", name)
		}
	})
}

// Accident and race: a fetched file lands where a file of that name is
// already; it must never overwrite it, nor follow a link planted there.
func TestFreeName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slides.pdf"), []byte("mine"), 0o600)
	os.WriteFile(filepath.Join(dir, "slides (1).pdf"), []byte("mine too"), 0o600)
	os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "slides (2).pdf"))
	want := []string{"slides (3).pdf", "slides (4).pdf"}
	for _, w := range want {
		f, err := FreeName(dir, "slides.pdf")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if filepath.Base(f.Name()) != w {
			t.Fatalf("FreeName gave %s, want %s", f.Name(), w)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "slides.pdf")); string(b) != "mine" {
		t.Fatalf("the first file was overwritten: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "target")); err == nil {
		t.Fatal("FreeName followed the planted link")
	}
	for name, w := range map[string]string{".profile": ".profile (1)", "noext": "noext (1)"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
		f, err := FreeName(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if filepath.Base(f.Name()) != w {
			t.Fatalf("FreeName(%q) gave %s, want %s", name, f.Name(), w)
		}
	}
	if _, err := FreeName(dir, "../escape"); err == nil {
		t.Fatal("FreeName took a path")
	}
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
