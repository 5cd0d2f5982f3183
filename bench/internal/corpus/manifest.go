// Package corpus generates the benchmark corpus: a deterministic tree of
// logs, configs, source, CSV, random binary and archives, with synthetic
// AccessKey pairs planted in many contexts and encodings, and look-alike
// decoys that must not be reported. The manifest it writes is the answer
// key the bench runner scores the engine against.
//
// Every key is generated from the seed: random base62, synthetic by
// construction, never copied from anywhere.
package corpus

import (
	"encoding/json"
	"fmt"
	"os"
)

// ManifestName is the answer key's file name inside the corpus directory.
const ManifestName = "manifest.json"

// Version changes whenever the generator's output does, so a corpus left
// on disk by an older generator is regenerated rather than trusted.
const Version = 1

// Manifest lists what a corpus holds. Paths are slash-separated and relative
// to the corpus directory, with archive members appended the way akguard
// names them ("archives/a.zip!config/app.env").
type Manifest struct {
	Version int     `json:"generator_version"`
	Seed    uint64  `json:"seed"`
	Target  int64   `json:"target_bytes"`
	Bytes   int64   `json:"bytes"` // on disk, manifest excluded
	Files   int     `json:"files"`
	Planted []Plant `json:"planted"`
	Decoys  []Decoy `json:"decoys"`
}

// Plant is one AccessKey pair the engine must report as a pair.
type Plant struct {
	Path         string `json:"path"`
	Line         int    `json:"line"` // of the ID, in the decoded stream; 0 when not tracked
	ID           string `json:"id"`
	SecretSHA256 string `json:"secret_sha256"`
	Context      string `json:"context"`
	Encoding     string `json:"encoding"`
}

// Decoy is a look-alike the engine must not report. Text is the decoy as
// written (never a real secret: decoys are placeholders, masks, words).
type Decoy struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// ReadManifest loads a corpus manifest.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return &m, nil
}
