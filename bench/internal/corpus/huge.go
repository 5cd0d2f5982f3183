package corpus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/akguard/akguard/shared/finding"
)

// Huge writes size bytes of log text to w as one stream, with three pairs
// planted near the start, the middle and the end, and returns them (Path
// is name). The text is a 4 MiB block repeated, so the generator costs
// almost nothing next to the scan it feeds: the point is to show that one
// endless stream scans in bounded memory, not to vary content.
func Huge(ctx context.Context, w io.Writer, name string, size int64, seed uint64) ([]Plant, error) {
	r := rand.New(rand.NewPCG(seed, 0x68756765))
	f := newFiller(r)
	var block []byte
	for i := 0; len(block) < 4<<20; i++ {
		block = f.line(block, "log", i)
	}
	blockLines := bytes.Count(block, []byte{'\n'})

	g := &gen{r: r}
	at := []int64{1 << 20, size / 2, max(size-(1<<20), 0)}
	var plants []Plant
	var written int64
	lines := 0
	for written < size {
		if err := ctx.Err(); err != nil {
			return plants, err
		}
		if len(plants) < len(at) && written >= at[len(plants)] {
			k := g.newPair()
			text := fmt.Sprintf("2026-11-23T08:00:00.000Z DEBUG [boot-1] init oss client access_key_id=%s access_key_secret=%s\n", k.id, k.secret)
			if _, err := io.WriteString(w, text); err != nil {
				return plants, fmt.Errorf("write huge stream: %w", err)
			}
			plants = append(plants, Plant{Path: name, Line: lines + 1, ID: k.id, SecretSHA256: finding.HashSecret(k.secret), Context: "log-kv", Encoding: "plain"})
			written += int64(len(text))
			lines++
			continue
		}
		limit := size - written
		if len(plants) < len(at) {
			// Stop at the next plant point so every plant is written.
			limit = min(limit, at[len(plants)]-written)
		}
		chunk := block[:min(int64(len(block)), limit)]
		if _, err := w.Write(chunk); err != nil {
			return plants, fmt.Errorf("write huge stream: %w", err)
		}
		written += int64(len(chunk))
		if len(chunk) == len(block) {
			lines += blockLines
		} else {
			lines += bytes.Count(chunk, []byte{'\n'})
		}
	}
	return plants, nil
}
