package corpus

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/akguard/akguard/shared/finding"
	"github.com/klauspost/compress/gzip"
)

// category is one slice of the corpus by bytes on disk.
type category struct {
	name       string
	share      float64 // of the target size
	kinds      []string
	minSize    int
	maxSize    int
	plantEvery int // mean bytes between plants; 0 = none
	decoyEvery int
}

func categories() []category {
	return []category{
		{"logs", 0.30, []string{"log", "nginx", "jsonlog"}, 256 << 10, 16 << 20, 2 << 20, 4 << 20},
		{"config", 0.08, []string{"env", "yaml", "json", "ini", "properties"}, 1 << 10, 256 << 10, 96 << 10, 96 << 10},
		{"src", 0.20, []string{"go", "java", "py", "js"}, 4 << 10, 1 << 20, 512 << 10, 1 << 20},
		{"data", 0.10, []string{"csv"}, 64 << 10, 8 << 20, 0, 8 << 20},
		{"bin", 0.20, nil, 64 << 10, 16 << 20, 0, 0},
		{"archives", 0.10, []string{"log", "env", "yaml", "json", "go", "js", "csv"}, 16 << 10, 1 << 20, 512 << 10, 1 << 20},
		{"encoded", 0.02, []string{"env", "yaml"}, 4 << 10, 256 << 10, 32 << 10, 64 << 10},
	}
}

func ext(kind string) string {
	switch kind {
	case "nginx", "log":
		return "log"
	case "jsonlog":
		return "jsonl"
	case "py":
		return "py"
	}
	return kind
}

// Generate writes a corpus of about size bytes into dir, which must not
// exist or be empty or hold an earlier corpus (it is then replaced). The
// same seed and size always give the same bytes.
func Generate(ctx context.Context, dir string, size int64, seed uint64, progress io.Writer) (*Manifest, error) {
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	// Claim the directory at once with a manifest of version 0, which never
	// counts as up to date: an interrupted run leaves a tree that the next
	// run may replace but will not trust.
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"generator_version":0}`), 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	g := &gen{
		dir:   dir,
		r:     rand.New(rand.NewPCG(seed, 0x616b6775617264)),
		bulk:  rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), 'a', 'k'}),
		m:     &Manifest{Version: Version, Seed: seed, Target: size, Planted: []Plant{}, Decoys: []Decoy{}},
		plant: plantContexts(),
		decoy: decoyContexts(),
	}
	g.f = newFiller(g.r)
	for _, c := range categories() {
		budget := int64(math.Round(float64(size) * c.share))
		var done int64
		for n := 0; done < budget; n++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			want := g.fileSize(c, budget-done)
			written, err := g.file(c, n, want)
			if err != nil {
				return nil, err
			}
			done += written
		}
		if progress != nil {
			fmt.Fprintf(progress, "corpusgen: %-8s %6.1f MiB\n", c.name, float64(done)/(1<<20))
		}
	}
	// The corpus holds .go files that are not Go; a go.mod makes the tree
	// its own module so that "go build ./..." in the repository skips it.
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module akguard.invalid/benchcorpus\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write corpus go.mod: %w", err)
	}
	b, err := json.MarshalIndent(g.m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	return g.m, nil
}

// prepareDir refuses to delete anything that is not an earlier corpus.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("read corpus dir: %w", err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		return fmt.Errorf("%s is not empty and holds no %s: refusing to replace it", dir, ManifestName)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove old corpus: %w", err)
	}
	return os.MkdirAll(dir, 0o755)
}

type gen struct {
	dir   string
	r     *rand.Rand
	bulk  *rand.ChaCha8
	f     filler
	m     *Manifest
	plant []plantCtx
	decoy []decoyCtx
}

// fileSize draws log-uniformly so there are many small files and a few
// big ones, as in real trees.
func (g *gen) fileSize(c category, left int64) int {
	lo, hi := math.Log(float64(c.minSize)), math.Log(float64(c.maxSize))
	n := int(math.Exp(lo + g.r.Float64()*(hi-lo)))
	if int64(n) > left {
		n = int(max(left, 64))
	}
	return n
}

func (g *gen) newPair() keyPair {
	n := 20
	if g.r.IntN(10) == 0 {
		n = 12 // the older 16-character form
	}
	return keyPair{id: "LTAI" + mixedToken(g.r, n), secret: mixedToken(g.r, 30)}
}

// mixedToken is random base62 holding at least one upper, lower and digit,
// as real keys do, so that every plant is unambiguously a key.
func mixedToken(r *rand.Rand, n int) string {
	for {
		b := make([]byte, n)
		var u, l, d bool
		for i := range b {
			c := base62[r.IntN(62)]
			b[i] = c
			u = u || c >= 'A' && c <= 'Z'
			l = l || c >= 'a' && c <= 'z'
			d = d || c >= '0' && c <= '9'
		}
		if u && l && d {
			return string(b)
		}
	}
}

func (g *gen) write(rel string, b []byte) (int64, error) {
	p := filepath.Join(g.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, fmt.Errorf("create corpus dir: %w", err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return 0, fmt.Errorf("write corpus file: %w", err)
	}
	g.m.Files++
	g.m.Bytes += int64(len(b))
	return int64(len(b)), nil
}

func relName(c category, n int, base string) string {
	return fmt.Sprintf("%s/%03d/%s", c.name, n/100, base)
}

func (g *gen) file(c category, n, size int) (int64, error) {
	switch c.name {
	case "bin":
		return g.binary(c, n, size)
	case "archives":
		return g.archive(c, n, size)
	case "encoded":
		return g.utf16File(c, n, size)
	}
	if c.name == "config" && g.r.IntN(25) == 0 || c.name == "data" && g.r.IntN(10) == 0 {
		rel := relName(c, n, fmt.Sprintf("AccessKey-%05d.csv", n))
		k := g.newPair()
		text, idLine := consoleCSV(g.f, k, n)
		g.record(rel, 1+idLine, k, "console-csv", "plain")
		return g.write(rel, []byte(text))
	}
	kind := c.kinds[g.r.IntN(len(c.kinds))]
	rel := relName(c, n, fmt.Sprintf("%s-%05d.%s", kind, n, ext(kind)))
	d := g.doc(rel, kind)
	d.fill(size, c.plantEvery, c.decoyEvery)
	return g.write(rel, d.buf)
}

func (g *gen) record(p string, line int, k keyPair, ctx, enc string) {
	g.m.Planted = append(g.m.Planted, Plant{
		Path: p, Line: line, ID: k.id, SecretSHA256: finding.HashSecret(k.secret), Context: ctx, Encoding: enc,
	})
}

// doc builds one text stream, keeping count of lines so each plant and
// decoy is recorded with the line akguard should report.
type doc struct {
	g      *gen
	path   string
	kind   string
	buf    []byte
	lines  int
	cool   int
	plants []plantCtx
	// plainOnly restricts plants to contexts a wrapping encoding keeps
	// recognisable (UTF-16 files hold plain contexts only).
	plainOnly bool
}

func (g *gen) doc(p, kind string) *doc {
	d := &doc{g: g, path: p, kind: kind}
	for _, pc := range g.plant {
		if strings.Contains(" "+pc.kinds+" ", " "+kind+" ") {
			d.plants = append(d.plants, pc)
		}
	}
	return d
}

func (d *doc) fill(size, plantEvery, decoyEvery int) {
	g := d.g
	for i := 0; len(d.buf) < size; i++ {
		start := len(d.buf)
		d.buf = g.f.line(d.buf, d.kind, i)
		n := len(d.buf) - start
		d.lines += bytes.Count(d.buf[start:], []byte{'\n'})
		if d.cool > 0 {
			d.cool--
			continue
		}
		if plantEvery > 0 && len(d.plants) > 0 && g.r.Float64() < float64(n)/float64(plantEvery) {
			d.addPlant()
		} else if decoyEvery > 0 && g.r.Float64() < float64(n)/float64(decoyEvery) {
			d.addDecoy()
		}
	}
}

func (d *doc) addPlant() {
	g := d.g
	var pc plantCtx
	for {
		pc = d.plants[g.r.IntN(len(d.plants))]
		if !d.plainOnly || pc.enc == "plain" {
			break
		}
	}
	k := g.newPair()
	text, idLine := pc.make(g.f, k)
	g.record(d.path, d.lines+1+idLine, k, pc.name, pc.enc)
	d.append(text)
}

func (d *doc) addDecoy() {
	g := d.g
	dc := g.decoy[g.r.IntN(len(g.decoy))]
	text, look := dc.make(g.f)
	g.m.Decoys = append(g.m.Decoys, Decoy{Path: d.path, Line: d.lines + 1, Kind: dc.kind, Text: look})
	d.append(text)
}

func (d *doc) append(text string) {
	d.buf = append(d.buf, text...)
	d.lines += strings.Count(text, "\n")
	d.cool = 8 // keep inserts apart so each pairs with nothing but itself
}

// binary is random bytes; one file in four embeds a config block the way
// compiled programs carry string literals.
func (g *gen) binary(c category, n, size int) (int64, error) {
	rel := relName(c, n, fmt.Sprintf("blob-%05d.bin", n))
	b := make([]byte, size)
	g.bulk.Read(b)
	if n%4 == 0 && size > 4096 {
		k := g.newPair()
		text := fmt.Sprintf("\x00\nALIBABA_CLOUD_ACCESS_KEY_ID=%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n\x00", k.id, k.secret)
		at := g.r.IntN(size - len(text))
		copy(b[at:], text)
		g.record(rel, bytes.Count(b[:at], []byte{'\n'})+2, k, "binary-embedded", "plain")
	}
	return g.write(rel, b)
}

// utf16File writes a UTF-16 text file, LE with BOM or BE without.
func (g *gen) utf16File(c category, n, size int) (int64, error) {
	be := n%2 == 1
	kind := c.kinds[g.r.IntN(len(c.kinds))]
	rel := relName(c, n, fmt.Sprintf("utf16-%05d.%s", n, ext(kind)))
	d := g.doc(rel, kind)
	d.plainOnly = true
	first := len(g.m.Planted)
	d.fill(size/2, c.plantEvery, c.decoyEvery)
	enc := "utf16le"
	if be {
		enc = "utf16be"
	}
	for i := first; i < len(g.m.Planted); i++ {
		g.m.Planted[i].Encoding = enc
	}
	return g.write(rel, utf16Bytes(string(d.buf), be, !be))
}

// archive writes a zip (sometimes with a nested zip), a tar.gz or a
// gzipped log; members mix text with incompressible data, as build
// artefacts do. size is the decoded content budget.
func (g *gen) archive(c category, n, size int) (int64, error) {
	switch n % 5 {
	case 0, 1:
		rel := relName(c, n, fmt.Sprintf("bundle-%05d.zip", n))
		b, err := g.zipBytes(rel, c, size, n%10 == 0)
		if err != nil {
			return 0, err
		}
		return g.write(rel, b)
	case 2, 3:
		rel := relName(c, n, fmt.Sprintf("release-%05d.tar.gz", n))
		b, err := g.tarGzBytes(rel, c, size)
		if err != nil {
			return 0, err
		}
		return g.write(rel, b)
	default:
		rel := relName(c, n, fmt.Sprintf("app-%05d.log.gz", n))
		d := g.doc(rel, "log")
		d.fill(size, c.plantEvery/2, c.decoyEvery)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(d.buf)
		if err := zw.Close(); err != nil {
			return 0, fmt.Errorf("gzip corpus file: %w", err)
		}
		return g.write(rel, buf.Bytes())
	}
}

func (g *gen) members(outer, prefix string, c category, size int, f func(name string, b []byte, compressible bool) error) error {
	for i, left := 0, size; left > 0; i++ {
		sz := min(left, g.fileSize(c, int64(left)))
		left -= sz
		if g.r.IntN(3) == 0 {
			b := make([]byte, sz)
			g.bulk.Read(b)
			if err := f(fmt.Sprintf("%sassets/img-%03d.png", prefix, i), b, false); err != nil {
				return err
			}
			continue
		}
		kind := c.kinds[g.r.IntN(len(c.kinds))]
		name := prefix + fmt.Sprintf("%s/%s-%03d.%s", [...]string{"config", "src", "logs", "etc/app"}[g.r.IntN(4)], kind, i, ext(kind))
		d := g.doc(outer+"!"+name, kind)
		d.fill(sz, c.plantEvery, c.decoyEvery)
		if err := f(name, d.buf, true); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) zipBytes(rel string, c category, size int, nest bool) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte, compressible bool) error {
		h := &zip.FileHeader{Name: name, Method: zip.Store}
		if compressible {
			h.Method = zip.Deflate
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("zip corpus member: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	if err := g.members(rel, "", c, size, add); err != nil {
		return nil, err
	}
	if nest {
		inner := fmt.Sprintf("lib/plugin-%03d.zip", g.r.IntN(1000))
		b, err := g.zipBytes(rel+"!"+inner, c, size/4, false)
		if err != nil {
			return nil, err
		}
		if err := add(inner, b, false); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip corpus file: %w", err)
	}
	return buf.Bytes(), nil
}

func (g *gen) tarGzBytes(rel string, c category, size int) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	root := strings.TrimSuffix(path.Base(rel), ".tar.gz") + "/"
	if err := g.members(rel, root, c, size, func(name string, b []byte, _ bool) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return fmt.Errorf("tar corpus member: %w", err)
		}
		_, err := tw.Write(b)
		return err
	}); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar corpus file: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip corpus file: %w", err)
	}
	return buf.Bytes(), nil
}
