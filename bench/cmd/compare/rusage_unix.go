//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS returns an exited child's peak resident set size in bytes, from
// the rusage the kernel kept for it: measured from outside, it covers the
// whole process (runtime, interpreter, model) and needs no cooperation from
// the engine.
func peakRSS(ps *os.ProcessState) (uint64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, false
	}
	// ru_maxrss is in KiB on Linux and the BSDs, in bytes on Darwin.
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(ru.Maxrss), true
	}
	return uint64(ru.Maxrss) * 1024, true
}
