// Command stormglass is a chaos-simulation and capacity-planning tool for
// teams that run real-time backends. With no arguments on a desktop it
// opens the desktop app (app/desktop); with a command, or with no display,
// it runs headless (app/cli).
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"stormglass/app/cli"
	"stormglass/app/desktop/launch"
)

// The app's name, id and version, and its icon: the files the packaging
// tool reads, embedded so that the about box says what a release says.
var (
	//go:embed FyneApp.toml
	fyneAppTOML []byte
	//go:embed assets/icon.png
	icon []byte
)

func main() {
	// Ctrl-C cancels a run cleanly through its context instead of killing
	// the process mid-write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "desktop" || len(args) == 0 && launch.HasDisplay() {
		code := desktop(ctx, args)
		stop()
		os.Exit(code)
	}
	code := cli.Main(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// desktop opens the desktop app: with no arguments, or with the desktop
// command and its flags.
func desktop(ctx context.Context, args []string) int {
	var start launch.Start
	if len(args) > 0 {
		var err error
		if start, err = launch.ParseArgs(args[1:], os.Stderr); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "stormglass:", err)
			}
			return cli.ExitUsage
		}
	}
	if !launch.HasDisplay() {
		fmt.Fprintln(os.Stderr, "stormglass desktop: no display (neither DISPLAY nor WAYLAND_DISPLAY is set): the desktop app needs one; 'stormglass help' lists the headless commands")
		return cli.ExitUsage
	}
	if err := launch.Run(ctx, launch.Config{FyneAppTOML: fyneAppTOML, Icon: icon}, start); err != nil {
		fmt.Fprintln(os.Stderr, "stormglass:", err)
		return 1
	}
	return cli.ExitOK
}
