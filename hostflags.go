package main

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// sizeFlag is a flag that takes a size in bytes as people write one:
// "500M", "2G", "1.5GB", "750kB", "2GiB", or a plain number of bytes. The
// units are powers of 1000, as the room shows sizes (wire.FormatSize);
// KiB, MiB, GiB and TiB are powers of 1024 for those who mean them.
type sizeFlag struct {
	bytes int64
	set   bool
}

// String is "" until the flag is set, so that a bad value is not taken
// for a bad whole number (see badFlagValue).
func (f *sizeFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatInt(f.bytes, 10)
}

func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	f.bytes, f.set = n, true
	return nil
}

// errBadSize is what a size flag says of a value it cannot read, after the
// flag's name and the value.
var errBadSize = errors.New("is not a size such as 500M, 2G or 1.5GB")

// sizeUnits are the units parseSize knows, upper-cased, longest first
// within each family so that "GIB" is not read as "G" and "IB".
var sizeUnits = []struct {
	suffix string
	factor float64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
	{"B", 1},
}

// parseSize reads a size in bytes (see sizeFlag). It refuses negative
// sizes, fractions of a byte left over are rounded down, and sizes past
// what an int64 holds.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	factor := 1.0
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	if t == "" || strings.ContainsAny(t, "+-_") {
		return 0, errBadSize
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errBadSize
	}
	b := v * factor
	if b >= math.MaxInt64 {
		return 0, errors.New("is more bytes than any disk holds")
	}
	return int64(b), nil
}
