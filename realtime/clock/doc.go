// Package clock is the one way production code under realtime/ learns the
// time and arranges to be called later.
//
// The model: a Clock answers "what time is it" (Now) and "call f after d"
// (AfterFunc). Nothing else. Code that needs to wait registers a callback and
// returns; it never sleeps and never reads the wall clock itself. That single
// discipline is what lets the same code run in two worlds:
//
//   - in a service, on Real, where time is the wall clock and callbacks run
//     on their own goroutines (as with time.AfterFunc), so the caller must
//     synchronise access to its state;
//   - in the Stormglass simulator, on a virtual clock (sim.Kernel.Clock),
//     where time only moves when the event loop moves it and every callback
//     runs on the single simulation goroutine, in a reproducible order.
//
// The interface is deliberately small, in the style of golang.org/x/time/rate
// (which takes time as an argument): the fewer ways there are to reach time,
// the fewer ways there are to break determinism.
package clock
