// Package bytesize parses human byte counts for flags and make variables
// ("256MiB", "4GiB"). It has no dependencies so that small tools (the
// benchmark corpus generator) can use it without building the scanner.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse reads a byte count such as "4096", "256MiB", "1GiB", "10MB" or
// "1.5G". Binary suffixes (KiB, MiB, GiB, TiB) and bare K/M/G/T are powers of
// 1024; KB, MB, GB, TB are powers of 1000, as their SI names say.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := sizeUnit(strings.ToLower(unit))
	if !ok || num == "" {
		return 0, fmt.Errorf("invalid size %q (want e.g. 4096, 64KiB, 256MiB, 1GiB)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 4096, 64KiB, 256MiB, 1GiB)", s)
	}
	bytes := v * float64(mult)
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return int64(bytes), nil
}

func sizeUnit(u string) (int64, bool) {
	switch u {
	case "", "b":
		return 1, true
	case "k", "kib":
		return 1 << 10, true
	case "m", "mib":
		return 1 << 20, true
	case "g", "gib":
		return 1 << 30, true
	case "t", "tib":
		return 1 << 40, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	}
	return 0, false
}
