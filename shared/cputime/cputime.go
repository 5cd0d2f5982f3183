// Package cputime reads the CPU time used so far. Benchmarks report MB per
// CPU-second next to wall-clock MB/s because on a shared, loaded machine
// the CPU time a scan costs stays meaningful when its wall time does not.
package cputime
