package runner

import "runtime/debug"

// release is Stormglass's version; FyneApp.toml carries the same, for the
// desktop app's about box (a test keeps the two equal).
const release = "0.1.0"

// Version returns Stormglass's version and, when the binary was built
// from a Git checkout, the commit (with "+dirty" if it had local
// changes): what a report's reproducibility block needs.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return release
	}
	var rev string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return release
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return release + " (" + rev + ")"
}
