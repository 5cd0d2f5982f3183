package detect

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/akguard/akguard/shared/detect/internal/baseline"
	"github.com/akguard/akguard/shared/finding"
)

func TestZZDiff(t *testing.T) {
	root := os.Getenv("ZZROOT")
	if root == "" {
		t.Skip()
	}
	nd := newDetector(t, Config{})
	od, _ := baseline.New(baseline.Config{})
	total := 0
	nOld, nNew := 0, 0
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		info, err := e.Info()
		if err != nil || info.Size() > 8<<20 {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		total += len(data)
		key := func(f finding.Finding) string { return f.Rule + " " + f.AccessKeyID + " " + f.SecretSHA256[:min(8, len(f.SecretSHA256))] }
		olds, news := map[string]bool{}, map[string]bool{}
		_ = od.ScanBytes(context.Background(), p, data, func(f finding.Finding) { olds[key(f)] = true; nOld++ })
		_ = nd.ScanBytes(context.Background(), p, data, func(f finding.Finding) { news[key(f)] = true; nNew++ })
		for k := range news {
			if !olds[k] {
				t.Logf("NEW %s: %s", p, k)
			}
		}
		for k := range olds {
			if !news[k] {
				t.Logf("GONE %s: %s", p, k)
			}
		}
		return nil
	})
	t.Logf("scanned %d MB, old %d findings, new %d", total>>20, nOld, nNew)
}
