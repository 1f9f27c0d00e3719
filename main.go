// Command stormglass is a chaos-simulation and capacity-planning tool for
// teams that run real-time backends. With a command it runs headless (see
// app/cli); the desktop app arrives with the GUI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"stormglass/app/cli"
)

func main() {
	// Ctrl-C cancels a run cleanly through its context instead of killing
	// the process mid-write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
