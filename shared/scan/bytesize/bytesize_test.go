package bytesize

import "testing"

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true},
		{"64KiB", 64 << 10, true},
		{"256MiB", 256 << 20, true},
		{"1GiB", 1 << 30, true},
		{"4g", 4 << 30, true},
		{"10MB", 10_000_000, true},
		{"1.5GiB", 3 << 29, true},
		{" 2 MiB ", 2 << 20, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"-1", 0, false},
		{"12XB", 0, false},
		{"1.2.3", 0, false},
		{"99999999TiB", 0, false},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
