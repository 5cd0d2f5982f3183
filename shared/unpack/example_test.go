package unpack_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/unpack"
)

func ExampleWalker_Walk() {
	f, err := os.Open("testdata/fixtures/proj.tar.xz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	w := unpack.New(unpack.Limits{}) // defaults: depth 5, 8 GiB budget, ...
	err = w.Walk(context.Background(),
		unpack.Source{Name: "proj.tar.xz", R: f, RA: f, Size: -1},
		func(ctx context.Context, l unpack.Leaf) error {
			b, err := io.ReadAll(l.R) // a detector would stream it instead
			if err != nil {
				return nil // the walker reports why as a skip
			}
			fmt.Printf("%s: %d lines\n", l.Path, strings.Count(string(b), "\n"))
			return nil
		},
		func(s finding.Skip) { fmt.Printf("%s: skipped (%s)\n", s.Path, s.Reason) })
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// proj.tar.xz!proj/config/app.properties: 2 lines
	// proj.tar.xz!proj/link.properties: skipped (not_regular)
	// proj.tar.xz!proj/notes.txt: 2 lines
}
