package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name+".txt"), []byte(got), *update)
}

// TestWalk runs every format and failure mode through the walker and
// compares the full transcript (leaves with content hashes, skips with
// reasons) to a golden file. Zips are walked twice, as a stream (spooled)
// and with random access, and must give the same transcript.
func TestWalk(t *testing.T) {
	env := "AKGUARD_REGION=cn-hangzhou\nAKGUARD_BUCKET=unit-test\n"
	inner := zipOf(t, deflated("deep/settings.env", env))
	nestedTarGz := gz(t, tarOf(t, tar.FormatPAX,
		tent{name: "c.zip", data: string(inner)},
		tent{name: "readme.md", data: "# nested\n"}))
	nested := zipOf(t, stored("b.tar.gz", string(nestedTarGz)), deflated("top.txt", "top level\n"))
	deepZip := func(levels int) []byte {
		b := zipOf(t, deflated("leaf.txt", "at the bottom\n"))
		for i := levels; i > 0; i-- {
			if i%2 == 0 {
				b = zipOf(t, stored("z.zip", string(b)))
			} else {
				b = zipOf(t, deflated("z.zip", string(b)))
			}
		}
		return b
	}
	tarGNU := tarOf(t, tar.FormatGNU, tent{name: "gnu/" + strings.Repeat("long-", 30) + "name.txt", data: "gnu long name\n"})
	layered := []byte("five layers of gzip\n")
	for range 5 {
		layered = gz(t, layered)
	}
	var rnd prng = 42
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rnd.next())
	}
	manyTar := func(n int) []byte {
		var ents []tent
		for i := range n {
			ents = append(ents, tent{name: strings.Repeat("m", 1+i%7) + ".txt", data: "x"})
		}
		return tarOf(t, tar.FormatUSTAR, ents...)
	}
	manyZip := func(n int) []byte {
		var ents []zent
		for i := range n {
			ents = append(ents, stored(strings.Repeat("m", 1+i%7)+".txt", "y"))
		}
		return zipOf(t, ents...)
	}
	plainZip := zipOf(t, deflated("a.txt", strings.Repeat("alpha\n", 100)), stored("b.txt", "bravo\n"))
	var p3 prng = 3
	threeZip := zipOf(t, deflated("one.txt", "first member\n"), stored("two.txt", "second member\n"),
		deflated("three.log", string(p3.text(2000))))
	projZip := fixture(t, "proj.zip")
	storedZip := zipOf(t, stored("s1.txt", "stored one\n"), stored("s2.txt", "stored two\n"))
	plainTar := tarOf(t, tar.FormatUSTAR, tent{name: "one.txt", data: strings.Repeat("one\n", 300)}, tent{name: "two.txt", data: "two\n"})

	tests := []struct {
		name   string
		src    string // Source.Name
		data   []byte
		lim    Limits
		noRA   bool // do not also walk with random access
		onlyRA bool // walk only with random access
	}{
		{name: "plain text", src: "notes.txt", data: []byte("just text\n")},
		{name: "empty input", src: "empty.env", data: nil},
		{name: "random binary", src: "blob.bin", data: random},
		{name: "gzip", src: "app.env.gz", data: gz(t, []byte(env))},
		{name: "gzip multi-member", src: "multi.log.gz", data: cat(gz(t, []byte("member one\n")), gz(t, []byte("member two\n")))},
		{name: "gzip claiming to be tar", src: "backup.tar", data: gz(t, []byte("not a tar at all\n"))},
		{name: "gzip truncated", src: "cut.txt.gz", data: gz(t, bytes.Repeat([]byte("truncated gzip payload "), 200))[:60]},
		{name: "gzip layered beyond limit", src: "x.gz", data: layered},
		{name: "bzip2 fixture", src: "plain.txt.bz2", data: fixture(t, "plain.txt.bz2")},
		{name: "xz fixture", src: "plain.txt.xz", data: fixture(t, "plain.txt.xz")},
		{name: "zstd fixture", src: "plain.txt.zst", data: fixture(t, "plain.txt.zst")},
		{name: "xz generated", src: "gen.txt.xz", data: xzOf(t, []byte(env))},
		{name: "zstd generated", src: "gen.txt.zst", data: zst(t, []byte(env))},
		{name: "tar ustar", src: "plain.tar", data: plainTar},
		{name: "tar gnu long name", src: "gnu.tar", data: tarGNU},
		{name: "tar v7", src: "old.tar", data: v7(t, plainTar)},
		{name: "tar truncated", src: "cut.tar", data: plainTar[:512+1000]},
		{name: "tar special members", src: "special.tar", data: tarOf(t, tar.FormatPAX,
			tent{name: "dir/", typeflag: tar.TypeDir},
			tent{name: "dir/link", typeflag: tar.TypeSymlink, link: "/etc/passwd"},
			tent{name: "dir/hard", typeflag: tar.TypeLink, link: "dir/file"},
			tent{name: "dev/null", typeflag: tar.TypeChar},
			tent{name: "dev/fifo", typeflag: tar.TypeFifo},
			tent{name: "dir/file", data: "regular\n"},
			tent{name: "dir/empty", data: ""})},
		{name: "tar hostile names", src: "names.tar", data: tarOf(t, tar.FormatPAX,
			tent{name: "../../etc/cron.d/x", data: "escape\n"},
			tent{name: "/abs/path.env", data: "absolute\n"},
			tent{name: "./a/./b//c.txt", data: "dots\n"},
			tent{name: "evil\nskip fake-line.txt", data: "newline\n"},
			tent{name: "real.env!testdata/decoy.txt", data: "bang\n"})},
		{name: "tar member limit", src: "many.tar", data: manyTar(30), lim: Limits{MaxMembers: 10}},
		{name: "tar too large member", src: "big.tar", data: tarOf(t, tar.FormatUSTAR,
			tent{name: "big.bin", data: strings.Repeat("b", 5000)}, tent{name: "small.txt", data: "s\n"}),
			lim: Limits{MaxMemberBytes: 4096}},
		{name: "tar.bz2 fixture", src: "proj.tar.bz2", data: fixture(t, "proj.tar.bz2")},
		{name: "tar.xz fixture", src: "proj.tar.xz", data: fixture(t, "proj.tar.xz")},
		{name: "tar.zst fixture", src: "proj.tar.zst", data: fixture(t, "proj.tar.zst")},
		{name: "zip fixture", src: "proj.zip", data: fixture(t, "proj.zip")},
		{name: "zip encrypted fixture", src: "encrypted.zip", data: fixture(t, "encrypted.zip")},
		{name: "zip stored and deflated", src: "plain.zip", data: plainZip},
		{name: "zip zstd method", src: "zstd.zip", data: zipOf(t, zent{name: "z.txt", data: env, method: methodZstd})},
		{name: "zip bzip2 and xz methods", src: "methods.zip", data: zipOf(t,
			zent{name: "b.txt", data: string(fixture(t, "plain.txt.bz2")), raw: true, method: methodBzip2, size: 26,
				crc: crc32.ChecksumIEEE([]byte("bzip2 fixture: plain text\n"))},
			zent{name: "x.env", data: string(xzOf(t, []byte(env))), raw: true, method: methodXz, size: uint64(len(env)),
				crc: crc32.ChecksumIEEE([]byte(env))})},
		{name: "zip unsupported method", src: "lzma.zip", data: zipOf(t,
			zent{name: "l.txt", data: "\x00\x01\x02", raw: true, method: 14, size: 3}, deflated("ok.txt", "fine\n"))},
		{name: "zip encrypted flag", src: "flag.zip", data: zipOf(t,
			zent{name: "secret.env", data: "ciphertext", flags: 0x1, store: true}, deflated("clear.txt", "clear\n"))},
		{name: "zip zero-byte and dirs", src: "empty-members.zip", data: zipOf(t,
			stored("d/", ""), stored("d/zero.txt", ""), deflated("d/zero-deflated.txt", ""),
			zent{name: "d/link", data: "target", mode: fs.ModeSymlink | 0o777, store: true})},
		{name: "zip empty archive", src: "empty.zip", data: zipOf(t)},
		{name: "zip truncated", src: "cut.zip", data: plainZip[:len(plainZip)-30]},
		{name: "zip truncated mid-member", src: "cut2.zip", data: threeZip[:len(threeZip)-300]},
		{name: "zip truncated fixture", src: "proj-cut.zip", data: projZip[:len(projZip)-200]},
		{name: "zip truncated stored with descriptor", src: "cut3.zip", data: storedZip[:len(storedZip)-40]},
		{name: "zip member limit", src: "many.zip", data: manyZip(30), lim: Limits{MaxMembers: 10}},
		{name: "zip declared too large", src: "declared.zip", data: zipOf(t,
			zent{name: "huge.bin", data: "\x03\x00", raw: true, method: 8, size: 10 << 30}, deflated("after.txt", "after\n"))},
		{name: "zip spooled to temp file", src: "outer.zip", noRA: true, lim: Limits{MaxSpoolBytes: 1024},
			data: zipOf(t, deflated("inner.zip", string(zipOf(t,
				deflated("pad.bin", string(random)), deflated("in.txt", "spooled\n")))))},
		{name: "nested archives", src: "a.zip", data: nested},
		{name: "nested within depth", src: "deep.zip", data: deepZip(4)},
		{name: "nested beyond depth", src: "deeper.zip", data: deepZip(7)},
		{name: "nested depth exactly three", src: "a.zip", data: nested, lim: Limits{MaxDepth: 3}},
		{name: "nested depth two", src: "a.zip", data: nested, lim: Limits{MaxDepth: 2}},
		{name: "tar.gz of zip", src: "bundle.tgz", data: gz(t, tarOf(t, tar.FormatUSTAR, tent{name: "inner.zip", data: string(inner)}))},
		{name: "prefixed jar", src: "launcher.jar", onlyRA: true, data: cat([]byte("#!/bin/sh\nexec java -jar \"$0\"\n"), plainZip)},
		{name: "prefixed zip without zip name", src: "launcher.sh", onlyRA: true, data: cat([]byte("#!/bin/sh\nexec java -jar \"$0\"\n"), plainZip)},
		{name: "7z unsupported", src: "x.7z", data: []byte("7z\xbc\xaf\x27\x1c\x00\x04rest")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			lim.TempDir = t.TempDir()
			w := New(lim)
			src := bytesSource(tc.src, tc.data)
			src.Size = int64(len(tc.data))
			if tc.onlyRA {
				src = raSource(tc.src, tc.data)
			}
			got := walkTranscript(t, w, src)
			checkGolden(t, strings.ReplaceAll(tc.name, " ", "-"), got.String())
			if !tc.noRA && !tc.onlyRA {
				ra := walkTranscript(t, w, raSource(tc.src, tc.data))
				if ra.String() != got.String() {
					t.Errorf("random-access walk differs from stream walk\n--- stream\n%s--- random access\n%s", got, ra)
				}
			}
			if !tc.noRA {
				// In memory, the input must walk exactly as it does with
				// random access (what Source.Bytes stands in for).
				mem := walkTranscript(t, w, Source{Name: tc.src, Bytes: append([]byte{}, tc.data...)})
				if mem.String() != got.String() {
					t.Errorf("in-memory walk differs\n--- want\n%s--- in memory\n%s", got, mem)
				}
			}
			if ents, _ := os.ReadDir(lim.TempDir); len(ents) != 0 {
				t.Errorf("temp files left behind: %v", ents)
			}
		})
	}
}

// The prefixed jar is only opened when random access makes finding the
// central directory cheap; streamed, it is a leaf.
func TestPrefixedZipNeedsRandomAccess(t *testing.T) {
	z := cat([]byte("#!/bin/sh\n"), zipOf(t, deflated("a.txt", "alpha\n")))
	w := New(Limits{})
	stream := walkTranscript(t, w, bytesSource("app.jar", z)).String()
	ra := walkTranscript(t, w, raSource("app.jar", z)).String()
	if !strings.HasPrefix(stream, "leaf app.jar ") {
		t.Errorf("streamed prefixed jar: got %q, want one leaf", stream)
	}
	if !strings.Contains(ra, "leaf app.jar!a.txt ") {
		t.Errorf("random-access prefixed jar: got %q, want member a.txt", ra)
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestWalkErrors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	errLeaf := errors.New("leaf gave up")
	tgz := gz(t, tarOf(t, tar.FormatUSTAR, tent{name: "a.txt", data: "a\n"}, tent{name: "b.txt", data: "b\n"}))
	tests := []struct {
		name    string
		src     Source
		leafErr error
		cancel  bool
		want    error
	}{
		{name: "unreadable source is returned", src: Source{Name: "x.tar.gz", R: &failingReader{r: bytes.NewReader(tgz[:40]), err: errDisk}, Size: -1}, want: errDisk},
		{name: "unreadable source at start", src: Source{Name: "x", R: &failingReader{r: bytes.NewReader(nil), err: errDisk}, Size: -1}, want: errDisk},
		{name: "leaf error is returned", src: bytesSource("x.tar.gz", tgz), leafErr: errLeaf, want: errLeaf},
		{name: "cancellation is returned", src: bytesSource("x.tar.gz", tgz), cancel: true, want: context.Canceled},
		{name: "missing reader", src: Source{Name: "x"}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			leaves := 0
			err := New(Limits{}).Walk(ctx, tc.src, func(ctx context.Context, l Leaf) error {
				leaves++
				if tc.cancel {
					cancel()
				}
				io.Copy(io.Discard, l.R)
				return tc.leafErr
			}, nil)
			if tc.want == nil {
				if err == nil {
					t.Fatal("Walk succeeded, want an error")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Walk error = %v, want %v", err, tc.want)
			}
			if (tc.leafErr != nil || tc.cancel) && leaves != 1 {
				t.Errorf("leaf called %d times after a stop, want 1", leaves)
			}
		})
	}
}

// A leaf that reads nothing must not stop the archive: the walker skips
// the rest of the member itself.
func TestLeafMayStopReading(t *testing.T) {
	tgz := gz(t, tarOf(t, tar.FormatUSTAR,
		tent{name: "a.txt", data: strings.Repeat("a", 100000)}, tent{name: "b.txt", data: "b\n"}))
	var paths []string
	err := New(Limits{}).Walk(context.Background(), bytesSource("x.tgz", tgz), func(_ context.Context, l Leaf) error {
		paths = append(paths, l.Path)
		return nil
	}, func(s finding.Skip) { t.Errorf("unexpected skip %+v", s) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"x.tgz!a.txt", "x.tgz!b.txt"}; strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Errorf("leaves = %v, want %v", paths, want)
	}
}

// A leaf that stops on a read error of its own stream is not failing the
// walk: the stream's failure is reported as a skip and the walk goes on.
func TestLeafErrorCausedByStream(t *testing.T) {
	cut := gz(t, bytes.Repeat([]byte("payload "), 5000))
	cut = cut[:len(cut)/2]
	z := zipOf(t, stored("cut.txt.gz", string(cut)), deflated("next.txt", "next\n"))
	var leaves []string
	var skips []finding.Skip
	err := New(Limits{}).Walk(context.Background(), bytesSource("a.zip", z), func(_ context.Context, l Leaf) error {
		leaves = append(leaves, l.Path)
		if _, err := io.Copy(io.Discard, l.R); err != nil {
			return err // as a detector would: wrapped I/O error
		}
		return nil
	}, func(s finding.Skip) { skips = append(skips, s) })
	if err != nil {
		t.Fatalf("Walk = %v, want nil", err)
	}
	if len(leaves) != 2 || len(skips) != 1 || skips[0].Reason != finding.SkipCorrupt || skips[0].Path != "a.zip!cut.txt.gz" {
		t.Errorf("leaves %v, skips %+v; want 2 leaves and one corrupt skip for a.zip!cut.txt.gz", leaves, skips)
	}
}

func TestWalkerConcurrentUse(t *testing.T) {
	w := New(Limits{})
	data := gz(t, tarOf(t, tar.FormatUSTAR, tent{name: "a.txt", data: "a\n"}))
	want := walkTranscript(t, w, bytesSource("x.tgz", data)).String()
	errc := make(chan string, 8)
	for range 8 {
		go func() { errc <- walkTranscript(t, w, bytesSource("x.tgz", data)).String() }()
	}
	for range 8 {
		if got := <-errc; got != want {
			t.Errorf("concurrent walk = %q, want %q", got, want)
		}
	}
}

type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("stream read although random access was enough")
	return 0, io.ErrUnexpectedEOF
}

type brokenAt struct{ err error }

func (b brokenAt) ReadAt([]byte, int64) (int, error) { return 0, b.err }

// A zip with random access is read in place: the stream, for a remote
// object a second GET, is never touched. A failing ReaderAt is a failing
// source.
func TestZipRandomAccessOnly(t *testing.T) {
	z := zipOf(t, deflated("a.txt", "alpha\n"), stored("in.zip", string(zipOf(t, deflated("b.txt", "bravo\n")))))
	for _, name := range []string{"a.zip", "a.jar", "a.bin"} {
		got := walkTranscript(t, New(Limits{}), Source{Name: name, R: untouchable{t}, RA: bytes.NewReader(z), Size: -1})
		if got.err != nil || len(got.lines) != 2 {
			t.Errorf("%s: transcript %s, want two leaves", name, got)
		}
	}
	errDisk := errors.New("range request failed")
	err := New(Limits{}).Walk(context.Background(), Source{Name: "x.zip", R: untouchable{t}, RA: brokenAt{errDisk}, Size: 100},
		func(context.Context, Leaf) error { return nil }, nil)
	if !errors.Is(err, errDisk) {
		t.Errorf("Walk = %v, want the ReaderAt's error", err)
	}
}
