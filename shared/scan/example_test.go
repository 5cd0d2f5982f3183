package scan_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/report"
	"github.com/akguard/akguard/shared/scan"
	"github.com/akguard/akguard/shared/unpack"
)

type printSink struct{}

func (printSink) Finding(f finding.Finding) {
	fmt.Printf("%s %s:%d %s %s\n", f.Rule, f.Path, f.Line, f.AccessKeyID, f.SecretRedacted)
}

func (printSink) Skip(s finding.Skip) { fmt.Printf("skipped %s: %s\n", s.Path, s.Reason) }

// Scan one stream, such as stdin or an object body.
func ExampleEngine_Scan() {
	// A synthetic key (random characters, never issued).
	env := "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIcd7S3xQbK2rZ9mWfPq4T\n" +
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=Vb8nQ2rT5yHk3LmP9xWc7ZsD1fGj4A\n"
	e, err := scan.New(scan.Options{})
	if err != nil {
		panic(err)
	}
	src := unpack.Source{Name: "stdin", R: strings.NewReader(env), Size: -1}
	if err := e.Scan(context.Background(), src, printSink{}); err != nil {
		panic(err)
	}
	// Output:
	// alibaba-access-key-pair stdin:1 LTAIcd7S3xQbK2rZ9mWfPq4T Vb8n********
}

// collect keeps results for a sorted report.
type collect struct {
	findings []finding.Finding
	skips    []finding.Skip
}

func (c *collect) Finding(f finding.Finding) { c.findings = append(c.findings, f) }
func (c *collect) Skip(s finding.Skip)       { c.skips = append(c.skips, s) }

// Scan a tree, pruning vendored code, and print a sorted text report.
func ExampleEngine_ScanPaths() {
	e, err := scan.New(scan.Options{PathAllow: []string{"vendor/**"}})
	if err != nil {
		panic(err)
	}
	var c collect
	if err := e.ScanPaths(context.Background(), []string{"testdata/sample"}, &c); err != nil {
		panic(err)
	}
	rep := &report.Text{Summary: os.Stdout}
	if err := rep.Write(os.Stdout, c.findings, c.skips); err != nil {
		panic(err)
	}
	// Output:
	// high     alibaba-access-key-pair testdata/sample/config/app.env:3:29
	//          access key id  LTAI9wXkRm2Tq7VbNc4LpZs8
	//          secret         h3Jt********  sha256:27bf4923e2b0cbcb
	//          encoding       plain
	//          fingerprint    0272e99eaf28490a428f21f70bfaf75a
	//
	// skipped testdata/sample/vendor: allowlisted_path (matched "vendor/**")
	// 1 finding (1 high), 1 skipped
}
