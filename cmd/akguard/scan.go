package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/akguard/akguard/shared/detect"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/report"
	"github.com/akguard/akguard/shared/scan"
	"github.com/akguard/akguard/shared/scan/bytesize"
	"github.com/akguard/akguard/shared/unpack"
)

const scanUsage = `usage: akguard scan [flags] PATH...

Scans files, directory trees (recursively) and "-" (stdin), looking inside
zip, tar, gzip, bzip2, zstd and xz containers, for Alibaba Cloud AccessKey
pairs, lone AccessKey IDs and secrets, and STS credentials.

Exit status: 0 nothing found, 1 something found, 2 error.

Flags may come before or after the paths; "--" ends the flags.
`

type scanFlags struct {
	format    string
	output    string
	ignore    string
	allowPath stringList
	maxDepth  int
	maxSize   sizeFlag
	workers   int
	scanVCS   bool
	verbose   bool
}

func newScanFlagSet(w io.Writer) (*flag.FlagSet, *scanFlags) {
	f := &scanFlags{}
	fs := flag.NewFlagSet("akguard scan", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&f.format, "format", "text", "output format: "+strings.Join(report.Formats(), ", "))
	fs.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout")
	fs.StringVar(&f.ignore, "ignore", "", "read ignored fingerprints from `FILE` (default: "+scan.IgnoreFileName+" in each scanned directory)")
	fs.Var(&f.allowPath, "allow-path", "do not scan paths matching `GLOB` (repeatable; ** matches any depth, e.g. '**/testdata/**')")
	fs.IntVar(&f.maxDepth, "max-depth", 0, "open nested archives at most `N` levels deep (0: default 5)")
	fs.Var(&f.maxSize, "max-size", "skip files and archive members larger than `BYTES` (e.g. 512MiB; default 4GiB)")
	fs.IntVar(&f.workers, "workers", 0, "scan `N` files at once (0: one per CPU)")
	fs.BoolVar(&f.scanVCS, "scan-vcs", false, "also scan .git, .hg, .svn and .bzr directories")
	fs.BoolVar(&f.verbose, "verbose", false, "log scan progress as JSON to stderr")
	fs.Usage = func() {
		io.WriteString(w, scanUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	return fs, f
}

func runScan(ctx context.Context, args []string, s stdio) int {
	if hasOSSURL(args) {
		return runBackfill(ctx, args, s)
	}
	fset, f := newScanFlagSet(s.err)
	paths, err := parseInterspersed(fset, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitError // flag already printed the problem and the usage
	}
	if _, err := report.New(f.format, report.Options{}); err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	if len(paths) == 0 {
		errorf(s.err, "no path to scan")
		hintf(s.err, "akguard scan . scans the current directory; akguard scan - reads stdin")
		return exitError
	}
	var local []string
	stdin := false
	for _, p := range paths {
		switch {
		case p == "-":
			if stdin {
				errorf(s.err, `"-" (stdin) given twice`)
				return exitError
			}
			stdin = true
		default:
			local = append(local, p)
		}
	}

	ignore, err := loadIgnore(f.ignore, local)
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	opts := scan.Options{
		Detect:    detect.Config{Allow: detect.Allowlist{Fingerprints: ignore}},
		Limits:    unpack.Limits{MaxDepth: f.maxDepth, MaxMemberBytes: int64(f.maxSize)},
		PathAllow: f.allowPath,
		Workers:   f.workers,
		ScanVCS:   f.scanVCS,
	}
	if f.verbose {
		opts.Logger = slog.New(slog.NewJSONHandler(s.err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	if f.output != "" {
		opts.Exclude = []string{f.output}
	}
	engine, err := scan.New(opts)
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	out := s.out
	if f.output != "" {
		file, err := os.Create(f.output)
		if err != nil {
			errorf(s.err, "create report: %v", err)
			return exitError
		}
		defer file.Close()
		out = file
	}

	c := &collector{}
	if f.format == "jsonl" {
		c.stream = report.NewStream(out)
	}
	if len(local) > 0 {
		if err := engine.ScanPaths(ctx, local, c); err != nil {
			errorf(s.err, "%v", err)
			return exitError
		}
	}
	if stdin {
		if err := engine.Scan(ctx, unpack.Source{Name: "stdin", R: s.in, Size: -1}, c); err != nil {
			errorf(s.err, "%v", err)
			return exitError
		}
	}

	if err := c.write(f.format, out, s.err); err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	if f.output != "" {
		if err := out.(*os.File).Close(); err != nil {
			errorf(s.err, "close report: %v", err)
			return exitError
		}
	}
	if c.found > 0 {
		return exitFound
	}
	return exitOK
}

// collector is the CLI's scan.Sink: it streams jsonl as results arrive and
// keeps everything else for the sorted batch formats. The engine serialises
// calls, so it needs no lock.
type collector struct {
	stream   *report.Stream
	findings []finding.Finding
	skips    []finding.Skip
	found    int
	scanned  report.Scanned
}

var (
	_ scan.Sink    = (*collector)(nil)
	_ scan.Counter = (*collector)(nil)
)

func (c *collector) Finding(f finding.Finding) {
	c.found++
	if c.stream != nil {
		c.stream.Finding(f)
		return
	}
	c.findings = append(c.findings, f)
}

func (c *collector) Skip(s finding.Skip) {
	if c.stream != nil {
		c.stream.Skip(s)
		return
	}
	c.skips = append(c.skips, s)
}

func (c *collector) Scanned(_ string, n int64) {
	c.scanned.Files++
	c.scanned.Bytes += n
}

func (c *collector) write(format string, out, stderr io.Writer) error {
	if c.stream != nil {
		return c.stream.Err()
	}
	rep, err := report.New(format, report.Options{
		Rules:       sarifRules(),
		ToolVersion: toolVersion(),
		Scanned:     c.scanned,
	})
	if err != nil {
		return err
	}
	if t, ok := rep.(*report.Text); ok {
		t.Summary = stderr
	}
	return rep.Write(out, c.findings, c.skips)
}

func sarifRules() []report.Rule {
	var rs []report.Rule
	for _, r := range detect.Rules() {
		rs = append(rs, report.Rule{ID: r.ID, Description: r.Description, Severity: r.Severity})
	}
	return rs
}

func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return ""
}

// loadIgnore reads --ignore FILE, or else the union of the ignore files
// found in the scanned directories.
func loadIgnore(explicit string, paths []string) (map[string]bool, error) {
	if explicit != "" {
		return scan.LoadIgnore(explicit)
	}
	set := map[string]bool{}
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			continue
		}
		fps, err := scan.LoadIgnore(filepath.Join(p, scan.IgnoreFileName))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for fp := range fps {
			set[fp] = true
		}
	}
	return set, nil
}

// parseInterspersed lets flags follow paths ("akguard scan . --format
// json"), which the flag package alone stops at; "--" still ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type sizeFlag int64

func (s *sizeFlag) String() string {
	if *s == 0 {
		return ""
	}
	return fmt.Sprint(int64(*s))
}

func (s *sizeFlag) Set(v string) error {
	n, err := bytesize.Parse(v)
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("size must be positive")
	}
	*s = sizeFlag(n)
	return nil
}
