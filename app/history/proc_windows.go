//go:build windows

package history

import "os"

func processAlive(pid int, marker string) bool {
	p, err := os.FindProcess(pid) // opens a handle: fails once the process is gone
	if err != nil {
		return false
	}
	p.Release()
	return true
}

func selfMarker() string { return "" }

// writable cannot ask Windows for effective access cheaply; SQLite's own
// SQLITE_READONLY errors (ErrReadOnly) cover a file it cannot write.
func writable(path string) string { return "" }
