// Package backoff decides how long a client waits before it reconnects or
// retries, and when it gives up. Real clients import it; the Stormglass
// simulator runs the same code on virtual time to show whether a fleet of
// them recovers from an outage or keeps it going.
//
// # The model
//
// After its n-th consecutive failure (n from 0) a client waits
//
//	d(n) = min(Cap, Initial·Multiplier^n)
//
// randomised by a jitter kind:
//
//	none          d(n)
//	full          uniform [0, d(n))
//	equal         d(n)/2 + uniform [0, d(n)/2)
//	decorrelated  min(Cap, uniform [Initial, 3·previous)), previous = Initial after a reset
//	proportional  d(n)·(1 + uniform [−f, f)), e.g. ±50 %; reaches Cap·(1+f)
//
// Without jitter, clients that were cut off together come back together,
// every time: a herd. The AWS Architecture Blog's 2015 study (reproduced in
// Stormglass's models/contention) shows full jitter halving the work of
// plain exponential backoff when 100 clients contend.
//
// The initial delay may depend on why the last connection ended
// (Policy.ReasonInitial): the reactive client fixed after the 2025 outage
// waits 3 s, not 1 s, once the server has closed it as "overloaded".
//
// # When failures are forgotten
//
// The failure count returns to zero on a Reset event, and that choice
// decides whether a herd forms. Before its fix the 2025 client reset on the
// first server message after reconnecting; for an idle background tab that
// message arrives at once, so a server that accepted connections and then
// dropped them as overloaded saw every tab back within 100 ms ± 50 %, over
// and over, and the backoff never grew. The fix resets only once every
// query and mutation has re-synced (ResetWhenSynced); ResetWhenStable
// resets once a connection has stayed up a given time.
//
// A client reports its connection's life with Connected, MessageReceived
// and Synced, and each failure with Next, which returns the delay or an
// error once the client should give up: after MaxAttempts consecutive
// failures, or when a shared retry Budget has run dry. The budget is the
// retry quota of AWS SDKs: 500 tokens, 5 per retry (10 after a timeout),
// refilled by successes, so when a dependency is down the fleet's retries
// stop instead of multiplying its load.
//
// # Presets
//
// Reactive2025Before and Reactive2025After are the reactive client around
// its 2025 fix (at the cap the fixed client's reconnects spread uniformly
// over 8–24 s, as measured in the field); GRPC is gRPC's connection backoff
// (1 s, ×1.6, cap 120 s, ±20 %, 20 s minimum connect timeout);
// AWSFullJitter is the 2015 study's full-jitter policy (5 ms base, 2 s
// cap). Presets and Preset look them up by name.
//
// # Time and randomness
//
// A Backoff takes time from a clock.Clock and randomness from an injected
// rand.Source, never the wall clock or the global generator: in the
// simulator both come from the kernel, so the same seed draws the same
// delays. A Backoff belongs to one client and is not safe for concurrent
// use; a Budget is shared and is.
package backoff
