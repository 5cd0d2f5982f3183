// Command corpusgen writes the benchmark corpus (see bench/internal/corpus)
// into a directory, deterministically from a seed.
//
//	go run ./bench/corpusgen -out bench-corpus -size 1GiB -seed 1
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/akguard/akguard/bench/internal/corpus"
	"github.com/akguard/akguard/shared/scan/bytesize"
)

func main() {
	out := flag.String("out", "bench-corpus", "corpus `DIR` (replaced if it holds an earlier corpus)")
	sizeText := flag.String("size", "1GiB", "corpus size on disk, e.g. 256MiB")
	seed := flag.Uint64("seed", 1, "generator seed")
	force := flag.Bool("force", false, "regenerate even when the corpus on disk matches")
	flag.Parse()

	size, err := bytesize.Parse(*sizeText)
	if err != nil || size <= 0 {
		fmt.Fprintf(os.Stderr, "corpusgen: error: -size: %v\n", err)
		os.Exit(2)
	}
	if m, err := corpus.ReadManifest(filepath.Join(*out, corpus.ManifestName)); err == nil && !*force &&
		m.Version == corpus.Version && m.Seed == *seed && m.Target == size {
		fmt.Fprintf(os.Stderr, "corpusgen: %s is up to date (%d files, %.1f MiB, seed %d); -force regenerates\n",
			*out, m.Files, float64(m.Bytes)/(1<<20), m.Seed)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	m, err := corpus.Generate(ctx, *out, size, *seed, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "corpusgen: error: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "corpusgen: %d files, %.1f MiB, %d planted pairs, %d decoys in %s\n",
		m.Files, float64(m.Bytes)/(1<<20), len(m.Planted), len(m.Decoys), time.Since(start).Round(time.Millisecond))
}
