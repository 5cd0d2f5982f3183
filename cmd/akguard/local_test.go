package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/config"
)

// `akguard local` as the README runs it: it comes up with the project's
// s.yaml, writes endpoints.json, and stops cleanly when interrupted.
func TestLocalCommand(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		// The functions' binaries are not built here: no s.yaml, so the
		// local FC starts with no functions.
		done <- runContext(ctx, []string{"local", "--data", dir, "--s-yaml", ""}, stdio{out: &out, err: &errb})
	}()
	path := filepath.Join(dir, "endpoints.json")
	deadline := time.Now().Add(20 * time.Second)
	var lc config.LocalCloud
	var err error
	for time.Now().Before(deadline) {
		if lc, err = config.ReadLocalCloud(path); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("endpoints.json never appeared: %v\n%s", err, errb.String())
	}
	if lc.AccountID == "" || lc.Endpoints.OSS == "" || lc.Endpoints.SMQ == "" || lc.Credentials.AccessKeyID == "" {
		t.Fatalf("incomplete endpoints.json: %+v", lc.Endpoints)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("local did not stop on interrupt")
	}
	if !strings.Contains(errb.String(), "local cloud ready") || strings.Contains(errb.String(), lc.Credentials.AccessKeySecret) {
		t.Fatalf("unexpected stderr: %s", errb.String())
	}
}
