package trail_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/trail"
)

// BenchmarkRunEndToEnd measures whole audit runs on the local cloud: lock,
// state, LookupEvents paging (MaxResults 50), decoding, judging window by
// window, saving state. Neither the client pacing nor the server's limit
// applies, so the figure is the code's; the real API allows about 2
// calls/s, i.e. at most 100 events/s per account.
func BenchmarkRunEndToEnd(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			f := newFixture(b, 9)
			T := f.clock
			f.record(b, "LTAI5tHhhhhhhhhhhhhhhhhh", "", spread(T.Add(-12*time.Hour), T, n/2)...)
			f.record(b, "LTAI5tIiiiiiiiiiiiiiiiii", "", spread(T.Add(-12*time.Hour), T, n/2)...)
			f.w.Options.InitialLookback = 12 * time.Hour
			f.w.Options.Batch = 2 * time.Hour
			f.w.Options.DryRun = true
			f.w.Reader.Interval = time.Nanosecond
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := f.st.Delete(ctx, trail.StateRecord); err != nil {
					b.Fatal(err)
				}
				res, err := f.w.Run(ctx)
				if err != nil || res.Judged != n {
					b.Fatalf("judged %d of %d: %v", res.Judged, n, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
