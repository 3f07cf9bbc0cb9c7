package main

import "testing"

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"500M": 500_000_000, "2G": 2_000_000_000, "1.5GB": 1_500_000_000, "1.5 GB": 1_500_000_000,
		"750kB": 750_000, "2GiB": 2 << 30, "10mib": 10 << 20, "123": 123, "123B": 123, "1T": 1e12, "0.5k": 500,
	}
	for in, want := range good {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "lots", "-1G", "1e", "NaN", "Inf", "1_000", "+5M", "2X", "1.5.3G", "9999999999T", "0x10"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}
