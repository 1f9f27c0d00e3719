package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"stormglass/realtime/backoff"
	"stormglass/realtime/clock"
)

// The fixed reactive client, without jitter so the printout is stable:
// the delay doubles to the cap, and a client that has re-synced starts
// again from 3 s after an "overloaded" close.
func Example() {
	p := backoff.Reactive2025After()
	p.Jitter, p.JitterFraction = backoff.NoJitter, 0
	b, err := backoff.New(p, clock.Real{}, rand.NewPCG(1, 2))
	if err != nil {
		panic(err)
	}
	for range 6 {
		d, _ := b.Next("going away")
		fmt.Print(d, " ")
	}
	b.Connected()
	b.Synced()
	d, _ := b.Next(backoff.ReasonOverloaded)
	fmt.Println(d)
	// Output: 1s 2s 4s 8s 16s 16s 3s
}

// A client's reconnect loop: dial, report the connection's life to the
// Backoff, and wait the delay it gives after each failure. The wait uses
// the same clock as the Backoff, so the loop runs on virtual time in the
// simulator. (No output: it dials a server that is not there.)
func ExampleBackoff_reconnectLoop() {
	clk := clock.Real{}
	b, err := backoff.New(backoff.Reactive2025After(), clk, rand.NewPCG(7, 8))
	if err != nil {
		panic(err)
	}
	var session interface {
		Resync() error          // re-run every query and mutation
		Serve() (reason string) // until the server closes the connection
	}
	dial := func(ctx context.Context) error { return errors.New("connection refused") }
	reconnect := func(ctx context.Context) error {
		for {
			reason := ""
			if err := dial(ctx); err != nil {
				reason = err.Error()
			} else {
				b.Connected()
				b.MessageReceived()
				if session.Resync() == nil {
					b.Synced() // healthy again: the next failure starts from 1 s
				}
				reason = session.Serve()
			}
			delay, err := b.Next(reason)
			if err != nil {
				return err // MaxAttempts or the retry budget: give up
			}
			wake := make(chan struct{})
			timer := clk.AfterFunc(delay, func() { close(wake) })
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-wake:
			}
		}
	}
	_ = reconnect
}
