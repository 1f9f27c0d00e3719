//go:build unix && !linux

package history

import "syscall"

// Outside Linux a process has no portable start marker: a recycled pid
// keeps a dead run "running" until that process ends too.
func processAlive(pid int, marker string) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

func selfMarker() string { return "" }
