package detect

import "testing"

func TestDbg(t *testing.T) {
	d := newDetector(t, Config{})
	in := utf16be("aliyun_secret: zoc51FeogdvbzDp8mFmQp5zvqYMtrb")
	t.Logf("%q", in[:40])
	t.Logf("%s", summary(scanString(t, d, in)))
	t.Logf("%s", summary(scanString(t, d, "aliyun_secret: zoc51FeogdvbzDp8mFmQp5zvqYMtrb")))
}
