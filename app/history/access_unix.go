//go:build unix

package history

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// writable says why path (a file or a directory) is not writable by this
// process, or "" if it is. access(2) answers for the effective user: for
// root it ignores permission bits but still reports a read-only file
// system (EROFS).
func writable(path string) string {
	err := syscall.Access(path, 2 /* W_OK */)
	if err == nil {
		return ""
	}
	what := "the file"
	if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
		what = "the directory"
	}
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf("%s %s is on a read-only file system", what, path)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Sprintf("%s %s is not writable by uid %d", what, path, os.Geteuid())
	}
	return fmt.Sprintf("%s %s: %v", what, path, err)
}
