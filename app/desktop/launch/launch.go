// Package launch starts the desktop app. It is the one package that makes
// the Fyne application, and with it links the OpenGL driver: app/desktop
// builds its windows on any fyne.App, so that its tests run headless
// with Fyne's test driver, and the command (main) starts the real one
// here.
package launch

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"stormglass/app/desktop"
	"stormglass/scenarios"
)

// Config is what the command embeds for the app.
type Config struct {
	// FyneAppTOML is FyneApp.toml, the app's name, id and version, which
	// the packaging tool reads too.
	FyneAppTOML []byte
	// Icon is the app's icon (PNG).
	Icon []byte
}

// HasDisplay reports whether there is a desktop to open a window on: a
// display named by DISPLAY (X11) or WAYLAND_DISPLAY, or a system that
// always has one.
func HasDisplay() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// Start is a state to open the app in, from the command line: a
// trainer's script opens the day's incident ready to play.
type Start struct {
	Scenario string // a built-in's name or a scenario file; "" opens the library
	Variant  string // the variant to replay, or the first of two to compare
	Compare  string // a second variant: run both paired and show the comparison
	Play     bool   // start the replay playing
	Speed    string // the replay's speed, as its menu says it ("3600×")
	Tab      string // the tab to show at the end
	Export   bool   // open the export dialog once there is something to export
}

// ParseArgs reads the desktop command's flags (stormglass desktop ...).
func ParseArgs(args []string, stderr io.Writer) (Start, error) {
	var s Start
	fs := flag.NewFlagSet("desktop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: stormglass desktop [flags]\n\nOpen the desktop app, optionally straight into a replay or a comparison.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&s.Scenario, "scenario", "", "a built-in scenario's `name` or a scenario file to open")
	fs.StringVar(&s.Variant, "variant", "", "the `variant` to replay (default: the scenario's first)")
	fs.StringVar(&s.Compare, "compare", "", "a second `variant`: run both paired and show the comparison")
	fs.BoolVar(&s.Play, "play", false, "start the replay playing")
	fs.StringVar(&s.Speed, "speed", "", "the replay's `speed`: 1×, 10×, 60×, 600×, 3600× or fastest")
	fs.StringVar(&s.Tab, "tab", "", "the `tab` to show: library, replay, compare or history")
	fs.BoolVar(&s.Export, "export", false, "open the export dialog")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("desktop: unexpected argument %q", fs.Arg(0))
	}
	if s.Speed == "fastest" {
		s.Speed = "As fast as possible"
	}
	if (s.Compare != "" || s.Play || s.Variant != "") && s.Scenario == "" {
		return s, errors.New("desktop: --variant, --compare and --play need --scenario")
	}
	if s.Scenario != "" {
		// Checked here, before a window opens, so that a mistyped name in
		// a game-day script fails at once with the scenario loader's
		// reason (file, line and field, or the built-ins' names).
		sc, err := scenarios.Open(s.Scenario)
		if err != nil {
			return s, fmt.Errorf("desktop: --scenario: %w", err)
		}
		for _, v := range []string{s.Variant, s.Compare} {
			if _, err := sc.Plan(scenarios.PlanOptions{Variant: v}); v != "" && err != nil {
				return s, fmt.Errorf("desktop: %w", err)
			}
		}
	}
	return s, nil
}

// Run opens the main window in the state start asks for and returns when
// it closes, or when ctx is cancelled (Ctrl-C in the terminal that
// started it).
func Run(ctx context.Context, cfg Config, start Start) error {
	meta, err := desktop.ParseMetadata(cfg.FyneAppTOML, cfg.Icon)
	if err != nil {
		return err
	}
	app.SetMetadata(meta)
	a := app.NewWithID(meta.ID)
	if meta.Icon != nil {
		a.SetIcon(meta.Icon)
	}
	w := a.NewWindow(meta.Name)
	win, err := desktop.New(a, w, desktop.Options{})
	if err != nil {
		return fmt.Errorf("desktop app: %w", err)
	}
	if err := apply(win, start); err != nil {
		win.Close()
		return fmt.Errorf("desktop: %w", err)
	}
	w.Resize(fyne.NewSize(1280, 860))
	w.SetMaster()
	w.SetOnClosed(win.Close)
	// Ctrl-C in the terminal closes the window as its close button does.
	stop := context.AfterFunc(ctx, func() {
		fyne.Do(func() {
			win.Close()
			a.Quit()
		})
	})
	defer stop()
	w.ShowAndRun()
	win.Close()
	return nil
}

// apply puts the window in the state start asks for.
func apply(win *desktop.Window, start Start) error {
	switch {
	case start.Compare != "":
		if err := win.CompareVariants(start.Scenario, start.Variant, start.Compare); err != nil {
			return err
		}
	case start.Scenario != "":
		if err := win.OpenReplay(start.Scenario, start.Variant); err != nil {
			return err
		}
		if start.Play {
			if err := win.Play(start.Speed); err != nil {
				return err
			}
		}
	}
	if start.Tab != "" {
		if err := win.ShowTab(start.Tab); err != nil {
			return err
		}
	}
	if start.Export {
		win.ShowExportWhenReady()
	}
	return nil
}
