// Package admission is load shedding for a gateway or a service: for each
// request and each new connection it decides, at once, whether to take it
// or turn it away, and says why in words and numbers. A real Go service
// imports it; the Stormglass simulator runs the same code on a virtual
// clock to replay overload incidents and to size the limits.
//
// # The model
//
// Shedding load is answering one question per arrival — take it, or refuse
// it now with a reason the client can act on — so that the work already
// taken finishes. Three mechanisms answer it, each encoding facts from
// Stormglass's INCIDENTS.md.
//
// A concurrency limit admits at most Max units in flight (requests being
// served, or connections open); an admitted unit holds a slot until it is
// released. It catches what a rate limit cannot: a service that has become
// slow. In the stage-end stampede of incident 4 the load was at most ~38
// requests per second, yet the APIs hung for five minutes because a
// background job held the CPU; requests piled up in flight until clients
// gave up (nginx 499). A cap on requests in flight turns that pile-up into
// fast "busy, retry later" answers. Releasing a slot twice, or one never
// handed out, is an error rather than a silent underflow: a counter that
// drifts hides exactly the leak that exhausted the connection pool of
// incident 3.
//
// A rate limit is a token bucket: it holds up to Burst tokens, refills at
// PerSecond tokens per second, and admits a unit when a token is there.
// It is incident 5's fix: during a flash sale a single database collapsed
// above ~5,000 queries per second, and a bucket admitting 5,000 requests
// per second told the rest "busy, retry later". The bucket is
// golang.org/x/time/rate's Limiter, driven only through its explicit-time
// methods (AllowN, ReserveN, TokensAt, SetLimitAt, SetBurstAt), never its
// wall-clock ones. A refusal carries the exact retry-after: the shortest wait after
// which the same request is admitted if nobody takes the token first. The
// default burst is a tenth of a second of tokens (DefaultBurstWindow), so
// the first second after an idle spell admits at most 1.1 times the rate,
// not twice it.
//
// GC-aware degradation is incident 2's rule for a Go WebSocket service that
// died at night when log rotation and metric aggregation allocated large
// objects and stop-the-world pauses exceeded 50 ms: at level L1, entered
// when a GC pause exceeds L1Pause (50 ms), new connections are refused; at
// L2, entered when a pause exceeds L2Pause (120 ms), connections idle for
// longer than IdleClose (30 s) are closed as well. Connections already open
// keep being served at both levels — degrade rather than fail. The service
// reports pauses (ObservePause) and asks for decisions (AdmitConnection,
// ShouldClose); the package owns no connection.
//
// The incident does not say how the levels recover, so this package sets a
// rule: a level steps down by one after QuietPeriod (default one minute)
// without a pause over its threshold. A pause over L2Pause moves to L2 from
// any level and restarts L2's quiet period; a pause over L1Pause moves
// Normal to L1 and restarts L1's quiet period, but does not hold L2. Each
// step down starts a fresh quiet period at the lower level, so a single
// pause over L2Pause at time T means L2 until T+QuietPeriod, L1 until
// T+2·QuietPeriod, then Normal. Stepping one level at a time keeps a
// service that just had a long pause from reopening the floodgates at
// once; the level is computed from the pauses and the time asked about,
// not from a timer, so it does not depend on how often anyone asks.
//
// # The Gate
//
// A Gate combines the three for a gateway, which asks one question per
// request (AdmitRequest) or new connection (AdmitConnection). Requests and
// connections have separate concurrency and rate limits. The checks run
// in a fixed order and the first that refuses is the Reason:
//
//  1. degradation, for connections only: refused at L1 or L2;
//  2. concurrency: refused when the limit for the kind is reached;
//  3. rate: refused when the kind's bucket is empty.
//
// Concurrency is checked before rate so that a unit refused for lack of
// room spends no token. The Decision carries the reason (a typed Reason
// with String), the numbers behind it, the retry-after for rate refusals
// and an Explanation such as
//
//	request rate limit 5000/s (burst 500) exceeded: busy, retry after 200µs
//	degradation L1: GC pause 63ms > 50ms at 03:17:02, new connections refused
//
// Every decision is counted per kind and per reason in Stats, so that
// Asked = Admitted + RefusedDegraded + RefusedConcurrency + RefusedRate
// always, and a report can account for every refusal.
//
// # Configuration
//
// Every knob has a unit, a valid range and, where one makes sense, a
// default taken when the field is zero; see the Config field comments and
// the Default and Max constants. The limits have no default: zero
// ConcurrencyConfig.Max or RateConfig.PerSecond means no limit, so the zero
// Config admits everything except new connections during degradation.
// Rates and bursts can be changed live (Gate.SetRateAt, Gate.SetBurstAt),
// as can concurrency limits (Gate.SetMaxInFlight). A bad value is an error
// naming the field and the range expected, wrapping ErrInvalidConfig.
//
// # Time and the two ways to drive it
//
// Nothing in this package reads the wall clock itself or starts a
// goroutine. Gate and its parts (ConcurrencyLimit, RateLimit, Degrader)
// are plain structs driven single-threaded with explicit times, so a
// simulator calls them on virtual time and the same calls give the same
// decisions and counts, run after run. Time never runs backwards inside them: a time earlier
// than the latest one seen is taken as the latest.
//
//	gate, _ := admission.NewGate(admission.Config{
//		Requests: admission.Limits{Rate: admission.RateConfig{PerSecond: 5000}},
//	})
//	d := gate.AdmitRequest(now)
//	if !d.Admitted {
//		reply(503, d.Explanation(), d.RetryAfter)
//		return
//	}
//	serve() // ...later, when the request finishes:
//	gate.Release(d.Ticket)
//
//	gate.ObservePause(pauseEnd, pause) // from the GC model
//	for _, i := range gate.IdleToClose(now, lastActive) {
//		closeConn(conns[i]) // and Release its ticket
//	}
//
// Service wraps a Gate for a real server: a mutex makes every method safe
// from any goroutine, and the time comes from the clock.Clock it is given
// (clock.Real in production). ExampleService wraps an HTTP handler with it.
package admission
