package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultPath is where the history lives unless the user says otherwise:
// stormglass/history.db in the user's data directory ($XDG_DATA_HOME, or
// ~/.local/share, on Linux and other Unix systems; ~/Library/Application
// Support on macOS; %LocalAppData% on Windows). It creates the directory.
func DefaultPath() (string, error) {
	dir, err := dataDir()
	if err != nil {
		return "", fmt.Errorf("history: finding the data directory: %w", err)
	}
	dir = filepath.Join(dir, "stormglass")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("history: creating the data directory: %w", err)
	}
	return filepath.Join(dir, "history.db"), nil
}

func dataDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return os.UserConfigDir()
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support"), nil
	case "plan9":
		return os.UserConfigDir()
	}
	// The XDG base directory specification: a relative path is invalid
	// and is ignored.
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	if home == "" {
		return "", errors.New("no home directory")
	}
	return filepath.Join(home, ".local", "share"), nil
}
