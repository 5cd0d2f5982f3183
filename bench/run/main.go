// Command run measures the scan engine against the benchmark corpus that
// bench/corpusgen wrote, and scores it against the corpus manifest:
//
//   - the floor: the tree walked and every file read once with a bare
//     bytes.Index(buf, "LTAI") pass, with the same number of workers, i.e.
//     what finding and reading the files plus the cheapest possible search
//     costs on this machine;
//   - the engine: scan.Engine.ScanPaths over the same tree;
//   - recall (planted pairs reported as pairs), decoys reported, findings
//     the manifest does not explain (false positives), and peak RSS.
//
// With -huge SIZE it instead streams SIZE bytes of generated log text
// through an io.Pipe into Engine.Scan, nothing on disk, and reports peak
// RSS: one endless object must scan in bounded memory.
//
// MB/s are 10^6 bytes per second of input as stored on disk (the engine
// also reads the decompressed content of archives; that is its cost).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/akguard/akguard/bench/internal/corpus"
	"github.com/akguard/akguard/shared/cputime"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/scan"
	"github.com/akguard/akguard/shared/scan/bytesize"
	"github.com/akguard/akguard/shared/unpack"
)

func main() {
	dir := flag.String("corpus", "bench-corpus", "corpus `DIR` written by corpusgen")
	workers := flag.Int("workers", 2, "files scanned at once, by the floor and the engine alike")
	runs := flag.Int("runs", 1, "time the floor and the engine `N` times each and keep the fastest (shared machines are noisy)")
	huge := flag.String("huge", "", "stream one generated input of `SIZE` (e.g. 4GiB) instead of scanning the corpus")
	seed := flag.Uint64("seed", 1, "seed for -huge content")
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	flag.Parse()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var ok bool
	var err error
	if *huge != "" {
		ok, err = runHuge(ctx, os.Stdout, *huge, *seed)
	} else {
		ok, err = runCorpus(ctx, os.Stdout, *dir, *workers, max(*runs, 1))
	}
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		os.Exit(2)
	}
	if !ok && *strict {
		os.Exit(1)
	}
}

// Targets from issue 2.
const (
	targetMBps  = 1000
	targetRatio = 3.0
	targetRSS   = 128 << 20
)

func runCorpus(ctx context.Context, w io.Writer, dir string, workers, runs int) (bool, error) {
	m, err := corpus.ReadManifest(filepath.Join(dir, corpus.ManifestName))
	if err != nil {
		return false, fmt.Errorf("%w (run bench/corpusgen first)", err)
	}
	nfiles, total, err := listFiles(dir)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "corpus           %s: %d files, %d bytes (%.2f GiB), %d planted pairs, %d decoys\n",
		dir, nfiles, total, float64(total)/(1<<30), len(m.Planted), len(m.Decoys))

	// The first pass warms the page cache so both timed passes read memory.
	if _, err := floor(ctx, dir, workers); err != nil {
		return false, err
	}
	var hits int64
	floorDur, floorCPU := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range runs {
		start, cpu0 := time.Now(), cputime.Process()
		if hits, err = floor(ctx, dir, workers); err != nil {
			return false, err
		}
		floorDur, floorCPU = min(floorDur, time.Since(start)), min(floorCPU, cputime.Process()-cpu0)
	}
	floorMBps := mbps(total, floorDur)
	fmt.Fprintf(w, "floor            walk + read + bytes.Index(\"LTAI\"), %d workers, best of %d: %v, %.0f MB/s; cpu %v, %.0f MB per cpu-second (%d hits)\n",
		workers, runs, floorDur.Round(time.Millisecond), floorMBps, floorCPU.Round(time.Millisecond), mbps(total, floorCPU), hits)

	engine, err := scan.New(scan.Options{
		Workers: workers,
		Exclude: []string{filepath.Join(dir, corpus.ManifestName)},
	})
	if err != nil {
		return false, err
	}
	var sink *collector
	engDur, engCPU := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range runs {
		sink = &collector{}
		start, cpu0 := time.Now(), cputime.Process()
		if err := engine.ScanPaths(ctx, []string{dir}, sink); err != nil {
			return false, err
		}
		engDur, engCPU = min(engDur, time.Since(start)), min(engCPU, cputime.Process()-cpu0)
	}
	engMBps := mbps(total, engDur)
	ratio := engDur.Seconds() / floorDur.Seconds()
	fmt.Fprintf(w, "engine           scan.Engine.ScanPaths, %d workers, best of %d: %v, %.0f MB/s; cpu %v, %.0f MB per cpu-second (%d decoded bytes)\n",
		workers, runs, engDur.Round(time.Millisecond), engMBps, engCPU.Round(time.Millisecond), mbps(total, engCPU), sink.decoded)
	fmt.Fprintf(w, "ratio            engine / floor: %.2fx wall time, %.2fx cpu time\n", ratio, engCPU.Seconds()/floorCPU.Seconds())
	if l := loadAvg(); l != "" {
		// Wall-clock MB/s mean little on a shared machine; cpu-seconds
		// are what the scan itself cost.
		fmt.Fprintf(w, "load average     %s (%d cpus)\n", l, runtime.NumCPU())
	}

	sc := score(m, dir, sink.findings)
	fmt.Fprintf(w, "recall           %d/%d planted pairs reported as pairs (%.2f%%)\n", sc.found, len(m.Planted), 100*float64(sc.found)/float64(max(len(m.Planted), 1)))
	if len(sc.missed) > 0 {
		fmt.Fprintf(w, "  missed by context: %s\n", countBy(sc.missed, func(p corpus.Plant) string { return p.Context }))
		for _, p := range first(sc.missed, 10) {
			fmt.Fprintf(w, "  missed %s:%d context=%s encoding=%s\n", p.Path, p.Line, p.Context, p.Encoding)
		}
	}
	if sc.partial > 0 {
		fmt.Fprintf(w, "  partial        %d findings name a planted key but not as its pair\n", sc.partial)
	}
	fmt.Fprintf(w, "decoys           %d reported\n", len(sc.decoys))
	for _, d := range first(sc.decoys, 10) {
		fmt.Fprintf(w, "  decoy %s:%d kind=%s rule=%s\n", d.decoy.Path, d.decoy.Line, d.decoy.Kind, d.f.Rule)
	}
	fmt.Fprintf(w, "false positives  %d findings not in the manifest\n", len(sc.unexplained))
	for _, f := range first(sc.unexplained, 10) {
		fmt.Fprintf(w, "  unexplained %s:%d rule=%s encoding=%s\n", f.Path, f.Line, f.Rule, f.Encoding)
	}
	fmt.Fprintf(w, "skips            %d", len(sink.skips))
	if len(sink.skips) > 0 {
		fmt.Fprintf(w, " (%s)", countBy(sink.skips, func(s finding.Skip) string { return string(s.Reason) }))
	}
	fmt.Fprintln(w)
	rss := peakRSS()
	fmt.Fprintf(w, "peak RSS         %.1f MiB\n", float64(rss)/(1<<20))

	checks := []check{
		{fmt.Sprintf(">= %d MB/s", targetMBps), engMBps >= targetMBps},
		{fmt.Sprintf("<= %.0fx floor", targetRatio), ratio <= targetRatio},
		{"recall 100%", sc.found == len(m.Planted)},
		{"decoys 0", len(sc.decoys) == 0},
		{"false positives 0", len(sc.unexplained) == 0},
	}
	return printChecks(w, checks), nil
}

type check struct {
	name string
	ok   bool
}

func printChecks(w io.Writer, cs []check) bool {
	all := true
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		v := "PASS"
		if !c.ok {
			v, all = "MISS", false
		}
		parts = append(parts, c.name+": "+v)
	}
	fmt.Fprintf(w, "targets          %s\n", strings.Join(parts, "; "))
	return all
}

func runHuge(ctx context.Context, w io.Writer, sizeText string, seed uint64) (bool, error) {
	size, err := bytesize.Parse(sizeText)
	if err != nil {
		return false, err
	}
	engine, err := scan.New(scan.Options{Workers: 1})
	if err != nil {
		return false, err
	}
	pr, pw := io.Pipe()
	plantsCh := make(chan []corpus.Plant, 1)
	go func() {
		plants, err := corpus.Huge(ctx, pw, "huge.log", size, seed)
		pw.CloseWithError(err)
		plantsCh <- plants
	}()
	sink := &collector{}
	start := time.Now()
	err = engine.Scan(ctx, unpack.Source{Name: "huge.log", R: pr, Size: -1}, sink)
	pr.CloseWithError(errors.New("scan ended"))
	plants := <-plantsCh
	if err != nil {
		return false, err
	}
	dur := time.Since(start)
	m := &corpus.Manifest{Planted: plants}
	sc := score(m, "", sink.findings)
	rss := peakRSS()
	fmt.Fprintf(w, "huge stream      %d bytes (%s) through io.Pipe: %v, %.0f MB/s (generator included)\n", size, sizeText, dur.Round(time.Millisecond), mbps(size, dur))
	fmt.Fprintf(w, "recall           %d/%d planted pairs; %d other findings; %d skips\n", sc.found, len(plants), len(sc.unexplained)+len(sc.decoys), len(sink.skips))
	fmt.Fprintf(w, "peak RSS         %.1f MiB\n", float64(rss)/(1<<20))
	return printChecks(w, []check{
		{fmt.Sprintf("peak RSS < %d MiB", targetRSS>>20), rss < targetRSS},
		{"recall 100%", sc.found == len(plants) && len(plants) > 0},
	}), nil
}

func listFiles(dir string) (int, int64, error) {
	var files int
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || (d.Name() == corpus.ManifestName && filepath.Dir(p) == filepath.Clean(dir)) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files++
		total += fi.Size()
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("list corpus: %w", err)
	}
	return files, total, nil
}

// floor walks dir as the engine does (a producer listing files while the
// workers read them: finding the files is part of the work), reads every
// file in 256 KiB windows, as the detector does, and counts "LTAI" with
// bytes.Index: the least any scanner of these files must do. The corpus
// manifest at the top of dir is left out, as the engine excludes it.
func floor(ctx context.Context, dir string, workers int) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	paths := make(chan string, 4*workers)
	var hits atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			needle := []byte("LTAI")
			buf := make([]byte, 256<<10+len(needle))
			for p := range paths {
				if ctx.Err() != nil {
					continue // drain so the walk never blocks
				}
				if err := floorFile(p, needle, buf, &hits); err != nil {
					cancel(err)
				}
			}
		})
	}
	manifest := filepath.Join(filepath.Clean(dir), corpus.ManifestName)
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || p == manifest {
			return nil
		}
		select {
		case paths <- p:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(paths)
	wg.Wait()
	if err := errors.Join(walkErr, context.Cause(ctx)); err != nil {
		return 0, fmt.Errorf("floor pass: %w", err)
	}
	return hits.Load(), nil
}

func floorFile(p string, needle, buf []byte, hits *atomic.Int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	carry := 0
	for {
		n, err := f.Read(buf[carry:])
		win := buf[:carry+n]
		for off := 0; ; {
			k := bytes.Index(win[off:], needle)
			if k < 0 {
				break
			}
			hits.Add(1)
			off += k + len(needle)
		}
		carry = min(len(needle)-1, len(win))
		copy(buf, win[len(win)-carry:])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type collector struct {
	findings []finding.Finding
	skips    []finding.Skip
	decoded  int64
}

func (c *collector) Finding(f finding.Finding) { c.findings = append(c.findings, f) }
func (c *collector) Skip(s finding.Skip)       { c.skips = append(c.skips, s) }
func (c *collector) Scanned(_ string, n int64) { c.decoded += n }
func mbps(n int64, d time.Duration) float64    { return float64(n) / 1e6 / d.Seconds() }
func first[T any](s []T, n int) []T            { return s[:min(n, len(s))] }
func countBy[T any](s []T, key func(T) string) string {
	m := map[string]int{}
	for _, v := range s {
		m[key(v)]++
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}

type decoyHit struct {
	decoy corpus.Decoy
	f     finding.Finding
}

type scoreCard struct {
	found       int
	missed      []corpus.Plant
	partial     int
	decoys      []decoyHit
	unexplained []finding.Finding
}

// score matches findings to the manifest. A plant counts as found only when
// reported as a pair with its own ID and secret in its own stream; a finding
// naming a planted ID or secret otherwise is "partial"; one on a decoy's
// lines is a reported decoy; anything else is unexplained.
func score(m *corpus.Manifest, dir string, fs []finding.Finding) scoreCard {
	prefix := ""
	if dir != "" {
		prefix = filepath.ToSlash(filepath.Clean(dir)) + "/"
	}
	type key struct{ path, id string }
	plants := map[key]int{}
	bySecret := map[string]bool{}
	for i, p := range m.Planted {
		plants[key{p.Path, p.ID}] = i
		bySecret[p.Path+"\x00"+p.SecretSHA256] = true
	}
	decoys := map[string][]corpus.Decoy{}
	for _, d := range m.Decoys {
		decoys[d.Path] = append(decoys[d.Path], d)
	}
	var sc scoreCard
	hit := make([]bool, len(m.Planted))
	for _, f := range fs {
		p := strings.TrimPrefix(filepath.ToSlash(f.Path), prefix)
		if i, ok := plants[key{p, f.AccessKeyID}]; ok {
			if f.Rule == "alibaba-access-key-pair" && f.SecretSHA256 == m.Planted[i].SecretSHA256 {
				hit[i] = true
			} else {
				sc.partial++
			}
			continue
		}
		if f.SecretSHA256 != "" && bySecret[p+"\x00"+f.SecretSHA256] {
			sc.partial++
			continue
		}
		if d, ok := onDecoy(decoys[p], f); ok {
			sc.decoys = append(sc.decoys, decoyHit{d, f})
			continue
		}
		sc.unexplained = append(sc.unexplained, f)
	}
	for i, p := range m.Planted {
		if hit[i] {
			sc.found++
		} else {
			sc.missed = append(sc.missed, p)
		}
	}
	return sc
}

func onDecoy(ds []corpus.Decoy, f finding.Finding) (corpus.Decoy, bool) {
	for _, d := range ds {
		if f.Line >= d.Line && f.Line <= d.Line+2 || (f.AccessKeyID != "" && strings.Contains(d.Text, f.AccessKeyID)) {
			return d, true
		}
	}
	return corpus.Decoy{}, false
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// peakRSS is the process's high-water resident set (VmHWM), 0 if unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
