package unpack

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

// FuzzWalk feeds arbitrary bytes, seeded with every format, to a walker
// with small limits. It must not panic or hang, must not return an error
// for an in-memory source, and must stay within its limits.
func FuzzWalk(f *testing.F) {
	text := "key=value\n"
	inner := zipOf(f, deflated("in.txt", text), stored("s.txt", text))
	seeds := [][]byte{
		nil,
		[]byte(text),
		inner,
		zipOf(f, zent{name: "z.txt", data: text, method: methodZstd}, stored("inner.zip", string(inner))),
		tarOf(f, tar.FormatPAX, tent{name: "a.txt", data: text}, tent{name: "l", typeflag: tar.TypeSymlink, link: "a.txt"}),
		v7(f, tarOf(f, tar.FormatUSTAR, tent{name: "a.txt", data: text})),
		gz(f, tarOf(f, tar.FormatGNU, tent{name: "in.zip", data: string(inner)})),
		zst(f, []byte(text)),
		xzOf(f, []byte(text)),
		gzipOfDeflate(zerosDeflate(f, 4)),
		overlapBomb(f, 8),
		rawStoredZip(f, 60, 0),                 // over MaxMembers: entry-by-entry directory
		cat([]byte("#!/bin/sh\n"), inner),      // prefixed
		zipOf(f, deflated("a.txt", text))[:40], // truncated: local headers
		zipOf(f, stored("a.txt", text), stored("b.txt", text))[:120],
	}
	for _, name := range []string{"plain.txt.bz2", "proj.tar.bz2", "proj.tar.xz", "proj.tar.zst", "proj.zip", "encrypted.zip"} {
		seeds = append(seeds, fixture(f, name))
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	lim := Limits{MaxDepth: 3, MaxMembers: 50, MaxTotalBytes: 2 << 20, MaxRatio: 50,
		MaxMemberBytes: 1 << 20, MaxSpoolBytes: 64 << 10}
	lim.TempDir = f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, randomAccess bool) {
		l := lim
		w := New(l)
		src := bytesSource("fuzz.bin", data)
		if randomAccess {
			src = raSource("fuzz.jar", data)
		}
		var read int64
		// A hang is a bug: crash with every stack so the engine keeps the input.
		watchdog := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("walk hung:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		err := w.Walk(context.Background(), src, func(_ context.Context, leaf Leaf) error {
			if depth := strings.Count(leaf.Path, "!"); depth > l.MaxDepth {
				t.Errorf("leaf %q deeper than %d", leaf.Path, l.MaxDepth)
			}
			n, _ := io.Copy(io.Discard, leaf.R)
			read += n
			return nil
		}, func(s finding.Skip) {
			if s.Reason == "" || s.Path == "" {
				t.Errorf("skip without reason or path: %+v", s)
			}
		})
		if err != nil {
			t.Fatalf("Walk = %v", err)
		}
		if left, _ := os.ReadDir(l.TempDir); len(left) > 0 {
			t.Fatalf("spool files left behind: %v", left)
		}
		// Every byte from a decompressor or zip member is metered; only
		// plain top-level bytes (a leaf, raw tar members) are not.
		if bound := l.MaxTotalBytes + int64(len(data)); read > bound {
			t.Errorf("leaves read %d bytes, bound %d", read, bound)
		}
	})
}
