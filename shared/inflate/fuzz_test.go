package inflate_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/inflate"
)

// fuzzSeeds are small valid and broken streams of every shape the tests
// build; large seeds would slow every fuzzing iteration that mutates them.
func fuzzSeeds(t testing.TB) [][]byte {
	g := newGen(30)
	all, _ := encoders()
	var seeds [][]byte
	for _, d := range [][]byte{nil, []byte("a"), g.text(300), g.periodic(500, 3), g.patchwork(2000)} {
		for _, e := range all {
			seeds = append(seeds, e.enc(t, d))
		}
	}
	for _, h := range append(invalidStreams(), validEdges()...) {
		if b := h.bytes(); len(b) < 4096 {
			seeds = append(seeds, b)
		}
	}
	for _, f := range []string{"fixed.deflate", "partial-flush.deflate", "named.gz"} {
		b, err := os.ReadFile("testdata/zlib/" + f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	text := g.text(700)
	seeds = append(seeds,
		member(t, gzHeader{flags: fHCRC | fExtra | fName | fComment, extra: []byte("ab"), name: "n", comment: "c"}, text, 6, 0, 0),
		append(member(t, gzHeader{}, text, 1, 0, 0), member(t, gzHeader{flags: fName, name: "2"}, nil, 9, 0, 0)...),
		member(t, gzHeader{}, text, 6, 1, 0),
		append(member(t, gzHeader{}, text, -2, 0, 0), "garbage..."...),
	)
	return seeds
}

// guarded runs f with a deadline and turns a panic into a failure that
// names the input, so the fuzzer keeps it.
func guarded(t *testing.T, src []byte, f func() ([]byte, error)) ([]byte, error) {
	t.Helper()
	type result struct {
		out   []byte
		err   error
		panic string
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- result{panic: fmt.Sprintf("%v\n%s", p, debug.Stack())}
			}
		}()
		out, err := f()
		ch <- result{out: out, err: err}
	}()
	select {
	case r := <-ch:
		if r.panic != "" {
			t.Fatalf("panic on %s: %s", short(src), r.panic)
		}
		return r.out, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("no result after 10s on %s", short(src))
		return nil, nil
	}
}

// FuzzInflate holds ours to compress/flate and compress/gzip on any bytes:
// the same verdict, and on success the same output. Output before an error
// may differ; memory and time stay bounded.
func FuzzInflate(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, stdErr := inflateStd(data)
		got, err := guarded(t, data, func() ([]byte, error) { return inflateOurs(data, 4096) })
		switch {
		case stdErr == nil && err != nil:
			t.Fatalf("deflate: compress/flate decodes %d bytes, ours fails after %d: %v", len(want), len(got), err)
		case stdErr != nil && err == nil:
			t.Fatalf("deflate: compress/flate fails (%v), ours decodes %d bytes", stdErr, len(got))
		case err != nil && !isDecodeError(err):
			t.Fatalf("deflate: err = %v, want ErrCorrupt or io.ErrUnexpectedEOF", err)
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("deflate: output differs from compress/flate: %s", firstDiff(got, want))
		}

		want, stdErr = gunzipStd(data)
		got, err = guarded(t, data, func() ([]byte, error) { return gunzipOurs(data, 4096) })
		switch {
		case stdErr == nil && err != nil:
			t.Fatalf("gzip: compress/gzip decodes %d bytes, ours fails after %d: %v", len(want), len(got), err)
		case stdErr != nil && err == nil && errors.Is(stdErr, stdgzip.ErrHeader) && hasLongString(data):
			// compress/gzip refuses names and comments of 512 bytes or
			// more; ours reads them (TestGzipLongStrings).
		case stdErr != nil && err == nil:
			t.Fatalf("gzip: compress/gzip fails (%v), ours decodes %d bytes", stdErr, len(got))
		case err != nil && !isGzipError(err, len(data)):
			t.Fatalf("gzip: err = %v (compress/gzip: %v)", err, stdErr)
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("gzip: output differs from compress/gzip: %s", firstDiff(got, want))
		}
	})
}

// hasLongString reports whether data has 512 bytes in a row without a
// zero, which a header string compress/gzip refuses would need.
func hasLongString(data []byte) bool {
	run := 0
	for _, b := range data {
		if b == 0 {
			run = 0
		} else if run++; run >= 512 {
			return true
		}
	}
	return false
}

// isGzipError reports whether err is one the gzip reader promises.
func isGzipError(err error, n int) bool {
	if n == 0 {
		return err == io.EOF
	}
	return isDecodeError(err) || errors.Is(err, inflate.ErrHeader) || errors.Is(err, inflate.ErrChecksum)
}

// FuzzRoundTrip compresses any bytes with any level of either reference
// encoder, optionally flushing, and wants them back.
func FuzzRoundTrip(f *testing.F) {
	g := newGen(31)
	for i, d := range [][]byte{nil, []byte("a"), g.text(1000), g.periodic(3000, 5), g.random(600), g.patchwork(5000)} {
		for _, level := range []int{0, 2, 8, 11, 12, 14, 23, 24 + i} {
			f.Add(d, level)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, level int) {
		// level picks encoder, level and flushing: 0..11 is compress/flate
		// at -2..9, 12..23 klauspost at -2..9; the next bit makes
		// compress/flate flush twice on the way.
		sel := uint(level) % 48
		l := int(sel%12) - 2
		flush := 0
		if sel >= 24 {
			flush = len(data)/3 + 1
		}
		var src []byte
		if sel%24 < 12 {
			src = stdDeflate(t, data, l, flush)
		} else {
			src = kpEncoder(l).enc(t, data)
		}
		got, err := guarded(t, src, func() ([]byte, error) { return inflateOurs(src, 4096) })
		if err != nil {
			t.Fatalf("level %d (sel %d): %v", l, sel, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("level %d (sel %d): %s", l, sel, firstDiff(got, data))
		}
	})
}
