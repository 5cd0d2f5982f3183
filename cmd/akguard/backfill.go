package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/detect"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/ossscan"
	"github.com/akguard/akguard/shared/report"
	"github.com/akguard/akguard/shared/scan"
	"github.com/akguard/akguard/shared/unpack"
)

const backfillUsage = `usage: akguard scan [flags] oss://BUCKET[/PREFIX]...

Scans objects already stored in OSS (a backfill, e.g. when a bucket is first
connected to akguard). Small listings are scanned here and reported like a
local scan; large ones (more than --fanout-threshold objects, or --fanout)
are handed to the scan function in batches of asynchronous invocations with
the same OSS event it gets for uploads, so Function Compute carries the load
and findings land in the state bucket and reach respond.

Credentials: --endpoints (a local cloud's endpoints.json, or the directory
holding it) or ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
(and ALIBABA_CLOUD_SECURITY_TOKEN) with --region and, to fan out, --account-id.

Exit status: 0 nothing found (or fanned out), 1 something found, 2 error.
`

type backfillFlags struct {
	endpoints       string
	region          string
	accountID       string
	format          string
	output          string
	fanout          bool
	fanoutThreshold int
	batch           int
	batchBytes      sizeFlag
	function        string
	maxSize         sizeFlag
	workers         int
	readers         int
	noProgress      bool
	// Shared with local scans, so "akguard scan FLAGS oss://..." accepts them.
	ignore    string
	allowPath stringList
	maxDepth  int
	verbose   bool
}

func newBackfillFlagSet(w io.Writer) (*flag.FlagSet, *backfillFlags) {
	f := &backfillFlags{batchBytes: 2 << 30, maxSize: config.DefaultScanMaxObjectBytes}
	fs := flag.NewFlagSet("akguard scan oss://", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&f.endpoints, "endpoints", "", "local cloud `FILE` (endpoints.json, or its directory) with endpoints and credentials")
	fs.StringVar(&f.region, "region", os.Getenv("ALIBABA_CLOUD_REGION_ID"), "`REGION` of the bucket and functions (default $ALIBABA_CLOUD_REGION_ID)")
	fs.StringVar(&f.accountID, "account-id", os.Getenv("ALIBABA_CLOUD_ACCOUNT_ID"), "account `ID` (FC endpoint; needed to fan out on the public cloud)")
	fs.StringVar(&f.format, "format", "text", "output format: "+strings.Join(report.Formats(), ", "))
	fs.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout")
	fs.BoolVar(&f.fanout, "fanout", false, "always hand the objects to the scan function")
	fs.IntVar(&f.fanoutThreshold, "fanout-threshold", 1000, "fan out when more than `N` objects are listed")
	fs.IntVar(&f.batch, "batch", 50, "objects per scan function invocation when fanning out")
	fs.Var(&f.batchBytes, "batch-bytes", "object `BYTES` per invocation when fanning out (default 2GiB)")
	fs.StringVar(&f.function, "function", "akguard-scan", "scan function `NAME` to fan out to")
	fs.Var(&f.maxSize, "max-size", "skip objects larger than `BYTES` (default 10GiB)")
	fs.IntVar(&f.workers, "workers", 4, "objects scanned at once here")
	fs.IntVar(&f.readers, "readers", config.DefaultScanReaders, "parallel ranged GETs per large object")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar on stderr")
	fs.StringVar(&f.ignore, "ignore", "", "read ignored fingerprints from `FILE`")
	fs.Var(&f.allowPath, "allow-path", "do not scan archive members matching `GLOB` (repeatable)")
	fs.IntVar(&f.maxDepth, "max-depth", 0, "open nested archives at most `N` levels deep (0: default 5)")
	fs.BoolVar(&f.verbose, "verbose", false, "log scan progress as JSON to stderr")
	fs.Usage = func() {
		io.WriteString(w, backfillUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	return fs, f
}

// ossTarget is one oss://bucket/prefix argument.
type ossTarget struct{ bucket, prefix string }

func parseOSSURL(s string) (ossTarget, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "oss" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return ossTarget{}, fmt.Errorf("%q is not an oss://bucket/prefix URL", s)
	}
	return ossTarget{bucket: u.Host, prefix: strings.TrimPrefix(u.Path, "/")}, nil
}

// hasOSSURL reports whether a scan command line names an oss:// URL; the
// scan command then hands the whole command line to runBackfill.
func hasOSSURL(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "oss://") {
			return true
		}
	}
	return false
}

// runBackfill is "akguard scan" for oss:// arguments (the scan command
// hands them here); every argument must be an oss:// URL.
func runBackfill(ctx context.Context, args []string, s stdio) int {
	fset, f := newBackfillFlagSet(s.err)
	urls, err := parseInterspersed(fset, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitError
	}
	if len(urls) == 0 {
		errorf(s.err, "no oss:// URL to scan")
		return exitError
	}
	var targets []ossTarget
	for _, a := range urls {
		t, err := parseOSSURL(a)
		if err != nil {
			errorf(s.err, "%v", err)
			hintf(s.err, "local paths and oss:// URLs cannot be mixed in one scan")
			return exitError
		}
		targets = append(targets, t)
	}
	if _, err := report.New(f.format, report.Options{}); err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	cl, err := backfillClients(f)
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	bf := &backfill{f: f, cl: cl, s: s, prog: newProgress(s.err, !f.noProgress)}
	return bf.run(ctx, targets)
}

func backfillClients(f *backfillFlags) (aliyun.Clients, error) {
	if f.endpoints != "" {
		p := f.endpoints
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "endpoints.json")
		}
		lc, err := config.ReadLocalCloud(p)
		if err != nil {
			return aliyun.Clients{}, err
		}
		return aliyun.Clients{Region: lc.Region, AccountID: lc.AccountID, Endpoints: lc.Endpoints,
			Creds: aliyun.Credentials{AccessKeyID: lc.Credentials.AccessKeyID, AccessKeySecret: lc.Credentials.AccessKeySecret}}, nil
	}
	id, secret := os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if id == "" || secret == "" {
		return aliyun.Clients{}, errors.New("no credentials: pass --endpoints or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	}
	if f.region == "" {
		return aliyun.Clients{}, errors.New("no region: pass --region or set ALIBABA_CLOUD_REGION_ID")
	}
	return aliyun.Clients{Region: f.region, AccountID: f.accountID,
		Creds: aliyun.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN")}}, nil
}

type backfill struct {
	f    *backfillFlags
	cl   aliyun.Clients
	s    stdio
	prog *progress
}

func (b *backfill) run(ctx context.Context, targets []ossTarget) int {
	client := b.cl.OSS()
	// Objects are buffered only until the listing proves small enough to
	// scan here; past --fanout-threshold they stream out as batches, so a
	// bucket of millions of objects is never held in memory.
	var pending []bucketObject
	fo := &fanOut{b: b, batchers: map[string]*pendingBatch{}}
	fanning := b.f.fanout
	for _, t := range targets {
		err := ossscan.List(ctx, client, t.bucket, t.prefix, func(o ossscan.Listed) error {
			b.prog.listed(o.Size)
			if fanning {
				return fo.add(ctx, t.bucket, o)
			}
			pending = append(pending, bucketObject{t.bucket, o})
			if len(pending) <= b.f.fanoutThreshold {
				return nil
			}
			fanning = true
			for _, p := range pending {
				if err := fo.add(ctx, p.bucket, p.obj); err != nil {
					return err
				}
			}
			pending = nil
			return nil
		})
		if err != nil {
			b.prog.done()
			errorf(b.s.err, "%v", err)
			return exitError
		}
	}
	if fanning {
		err := fo.flush(ctx)
		b.prog.done()
		if err != nil {
			errorf(b.s.err, "%v", err)
			return exitError
		}
		fmt.Fprintf(b.s.out, "handed %d objects to %s in %d asynchronous invocations; findings go to the state bucket\n",
			fo.objects, b.f.function, fo.invocations)
		return exitOK
	}

	opts := scan.Options{Limits: unpack.Limits{MaxMemberBytes: int64(b.f.maxSize), MaxDepth: b.f.maxDepth},
		PathAllow: b.f.allowPath}
	if b.f.ignore != "" {
		ignore, err := scan.LoadIgnore(b.f.ignore)
		if err != nil {
			errorf(b.s.err, "%v", err)
			return exitError
		}
		opts.Detect = detect.Config{Allow: detect.Allowlist{Fingerprints: ignore}}
	}
	if b.f.verbose {
		opts.Logger = slog.New(slog.NewJSONHandler(b.s.err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	engine, err := scan.New(opts)
	if err != nil {
		errorf(b.s.err, "%v", err)
		return exitError
	}
	out := b.s.out
	if b.f.output != "" {
		file, err := os.Create(b.f.output)
		if err != nil {
			errorf(b.s.err, "create report: %v", err)
			return exitError
		}
		defer file.Close()
		out = file
	}
	c := &collector{}
	if b.f.format == "jsonl" {
		c.stream = report.NewStream(out)
	}
	sink := &lockedCollector{c: c, prog: b.prog}
	if err := b.scanHere(ctx, engine, client, pending, sink); err != nil {
		b.prog.done()
		errorf(b.s.err, "%v", err)
		return exitError
	}
	b.prog.done()
	if err := c.write(b.f.format, out, b.s.err); err != nil {
		errorf(b.s.err, "%v", err)
		return exitError
	}
	if b.f.output != "" {
		if err := out.(*os.File).Close(); err != nil {
			errorf(b.s.err, "close report: %v", err)
			return exitError
		}
	}
	if c.found > 0 {
		return exitFound
	}
	return exitOK
}

type bucketObject struct {
	bucket string
	obj    ossscan.Listed
}

// fanOut hands objects to the scan function as synthetic OSS events, one
// batcher per bucket (an event names one bucket's objects).
type fanOut struct {
	b           *backfill
	batchers    map[string]*pendingBatch
	objects     int
	invocations int
}

type pendingBatch struct {
	bt    *ossscan.Batcher
	n     int
	bytes int64
}

func (f *fanOut) add(ctx context.Context, bucket string, o ossscan.Listed) error {
	pb := f.batchers[bucket]
	if pb == nil {
		pb = &pendingBatch{bt: &ossscan.Batcher{Region: f.b.cl.Region, AccountID: f.b.cl.AccountID, Bucket: bucket,
			MaxObjects: f.b.f.batch, MaxBytes: int64(f.b.f.batchBytes)}}
		f.batchers[bucket] = pb
	}
	ev, err := pb.bt.Add(o)
	if err != nil {
		return err
	}
	if ev != nil {
		if err := f.send(ctx, ev, pb.n, pb.bytes); err != nil {
			return err
		}
		pb.n, pb.bytes = 0, 0
	}
	pb.n++
	pb.bytes += o.Size
	return nil
}

func (f *fanOut) flush(ctx context.Context) error {
	for _, pb := range f.batchers {
		ev, err := pb.bt.Flush()
		if err != nil {
			return err
		}
		if ev != nil {
			if err := f.send(ctx, ev, pb.n, pb.bytes); err != nil {
				return err
			}
		}
		pb.n, pb.bytes = 0, 0
	}
	return nil
}

func (f *fanOut) send(ctx context.Context, ev []byte, n int, bytes int64) error {
	if _, err := f.b.cl.InvokeFunction(ctx, f.b.f.function, ev, true); err != nil {
		return fmt.Errorf("fan out to %s: %w", f.b.f.function, err)
	}
	f.objects += n
	f.invocations++
	f.b.prog.batch(n, bytes)
	return nil
}

// scanHere scans the objects in this process, --workers at a time.
func (b *backfill) scanHere(ctx context.Context, engine *scan.Engine, client *oss.Client, objs []bucketObject, sink *lockedCollector) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan bucketObject)
	var wg sync.WaitGroup
	for range max(b.f.workers, 1) {
		wg.Go(func() {
			for o := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := b.scanObject(ctx, engine, client, o.bucket, o.obj, sink); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, o := range objs {
		select {
		case jobs <- o:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

func (b *backfill) scanObject(ctx context.Context, engine *scan.Engine, client *oss.Client, bucket string, o ossscan.Listed, sink *lockedCollector) error {
	name := "oss://" + bucket + "/" + o.Key
	defer sink.prog.object(o.Size)
	if o.Size > int64(b.f.maxSize) {
		sink.Skip(finding.Skip{Path: name, Reason: finding.SkipTooLarge, Detail: fmt.Sprintf("size %d exceeds %d bytes", o.Size, int64(b.f.maxSize))})
		return nil
	}
	obj, err := ossscan.Head(ctx, client, bucket, o.Key)
	if errors.Is(err, ossscan.ErrGone) {
		sink.Skip(finding.Skip{Path: name, Reason: finding.SkipMissing, Detail: "deleted after it was listed"})
		return nil
	}
	if err != nil {
		sink.Skip(finding.Skip{Path: name, Reason: finding.SkipUnreadable, Detail: err.Error()})
		return nil
	}
	src, closeSrc := ossscan.Open(ctx, obj, config.DefaultScanPartBytes, b.f.readers)
	defer closeSrc()
	return engine.Scan(ctx, src, sink)
}

// lockedCollector lets concurrent object scans share the CLI's collector
// and counts findings for the progress bar.
type lockedCollector struct {
	mu   sync.Mutex
	c    *collector
	prog *progress
}

func (l *lockedCollector) Finding(f finding.Finding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c.Finding(f)
	l.prog.finding()
}

func (l *lockedCollector) Skip(s finding.Skip) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c.Skip(s)
}

func (l *lockedCollector) Scanned(name string, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c.Scanned(name, n)
}

// progress draws a one-line bar on stderr: objects, bytes and findings.
// On a terminal it redraws in place (at most every 100 ms); elsewhere only
// the final line is written, so logs and CI output stay readable.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	enabled  bool
	tty      bool
	last     time.Time
	objects  int
	total    int
	bytes    int64
	totalB   int64
	findings int
	batches  int
	fanned   bool
}

func newProgress(w io.Writer, enabled bool) *progress {
	p := &progress{w: w, enabled: enabled}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) listed(size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total++
	p.totalB += size
	p.draw(false)
}

func (p *progress) object(size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.objects++
	p.bytes += size
	p.draw(false)
}

func (p *progress) batch(n int, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fanned = true
	p.batches++
	p.objects += n
	p.bytes += size
	p.draw(false)
}

func (p *progress) finding() {
	p.findings++ // called under the collector's lock, drawn with the next object
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(true)
}

func (p *progress) draw(final bool) {
	if !p.enabled || (!final && (!p.tty || time.Since(p.last) < 100*time.Millisecond)) {
		return
	}
	p.last = time.Now()
	const width = 24
	filled := width
	if p.total > 0 {
		filled = p.objects * width / p.total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	what := fmt.Sprintf("%d findings", p.findings)
	if p.fanned {
		what = fmt.Sprintf("%d invocations", p.batches)
	}
	line := fmt.Sprintf("[%s] %d/%d objects  %s/%s  %s", bar, p.objects, p.total,
		humanBytes(p.bytes), humanBytes(p.totalB), what)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
