package audit

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/cputime"
)

// reportRate reports events per second of wall time and per second of
// process CPU time: on a shared CI machine the second is the one that
// says what one core does.
func reportRate(b *testing.B, perOp int, cpuStart time.Duration) {
	n := float64(perOp) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	if cpu := cputime.Process() - cpuStart; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkReplay runs a week of the generated account (~67k events in
// 2016 windows, learning as it goes): the audit timer's steady state, with
// its per-window costs.
func BenchmarkReplay(b *testing.B) {
	f := newFixture(genSeed)
	events := f.history(genSeed, histStart, 7)
	eng, err := NewEngine(f.config())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		eng.Replay(Baseline{}, events)
	}
	reportRate(b, len(events), cpu)
}

// BenchmarkEvaluateBusyWindow evaluates one window of a busy account: 200
// keys with mature baselines, 20000 events, some of them attacks, so
// every rule runs.
func BenchmarkEvaluateBusyWindow(b *testing.B) {
	f := newFixture(genSeed)
	cfg := f.config()
	eng, err := NewEngine(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	g := &gen{f: f, r: r}
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = "LTAI5t" + randAlnum(r, 18)
	}
	// Two weeks of hourly training windows for every key.
	start := histStart
	for h := range 14 * 24 {
		w := start.Add(time.Duration(h) * time.Hour)
		for i, k := range keys {
			for range 5 {
				g.emit(w.Add(time.Duration(r.IntN(300))*time.Second), k, TypeRAMUser, fmt.Sprintf("user-%d", i),
					fmt.Sprintf("203.0.113.%d", i%250), "aliyun-cli/3.0.200",
					op{service: "Ecs", name: "DescribeInstances", rw: "Read", region: "cn-hangzhou"}, "")
			}
		}
	}
	base := eng.Replay(Baseline{}, g.out).Baseline
	g.out = nil
	w := Window{Start: start.AddDate(0, 0, 14).Add(10 * time.Hour)}
	w.End = w.Start.Add(cfg.Window)
	ops := []op{
		{service: "Ecs", name: "DescribeInstances", rw: "Read", region: "cn-hangzhou"},
		{service: "Oss", name: "GetObject", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "b/o"},
		{service: "Ram", name: "CreateUser", rw: "Write", region: "cn-hangzhou", global: true},
	}
	for i := range 20000 {
		k := i % len(keys)
		ip := fmt.Sprintf("203.0.113.%d", k%250)
		code := ""
		if k%10 == 0 {
			ip = "192.0.2.9"
			code = "NoPermission"
		}
		g.emit(w.Start.Add(time.Duration(r.IntN(300))*time.Second), keys[k], TypeRAMUser, fmt.Sprintf("user-%d", k),
			ip, "aliyun-cli/3.0.200", ops[r.IntN(len(ops))], code)
	}
	events := g.out
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		eng.Evaluate(base, w, events)
	}
	reportRate(b, len(events), cpu)
}
