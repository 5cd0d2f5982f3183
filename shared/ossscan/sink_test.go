package ossscan

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

func TestCollectorKeepsDistinctFindingsUpToTheCap(t *testing.T) {
	c := &collector{}
	for i := range maxFindingsPerObject + 10 {
		f := finding.Finding{Fingerprint: fmt.Sprint(i)}
		c.Finding(f)
		c.Finding(f) // the same credential again in the same object
	}
	if len(c.findings) != maxFindingsPerObject || c.dropped != 10 {
		t.Errorf("kept %d, dropped %d; want %d and 10", len(c.findings), c.dropped, maxFindingsPerObject)
	}
	c.Skip(finding.Skip{Path: "oss://b/k!x", Reason: finding.SkipUnreadable})
	if _, ok := c.unreadable("oss://b/k"); ok {
		t.Error("a member's skip counted as the object's")
	}
	c.Skip(finding.Skip{Path: "oss://b/k", Reason: finding.SkipUnreadable})
	if _, ok := c.unreadable("oss://b/k"); !ok {
		t.Error("the object's own skip was not found")
	}
}

func TestTrapKeepsTheFirstRealError(t *testing.T) {
	tr := &trap{}
	tr.set(nil)
	tr.set(io.EOF)
	if tr.cause() != nil {
		t.Fatal("EOF is not an error")
	}
	first := fmt.Errorf("read: %w", ErrGone)
	tr.set(first)
	tr.set(errors.New("later"))
	if tr.cause() != first {
		t.Errorf("cause = %v, want the first error", tr.cause())
	}
}
