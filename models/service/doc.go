// Package service models request/response systems: services of pods in
// front of databases, with caches, message queues and admission at the
// edge. Incidents 3, 4 and 5 of Stormglass's INCIDENTS.md are replayed on
// it: the customer-service system whose pool leaked and whose cache
// keys expired together, the year-end event whose database ran out of
// memory once the pods had doubled, and the card shop whose flash sale
// collapsed its database.
//
// # The model
//
// A Service is a set of identical pods behind a load balancer that sends
// each request to the live pod with the fewest requests in flight. A pod
// has a processor-sharing CPU (sim.CPU: cores and speed) and one
// connection pool per database it uses (models/db), so scaling the pods
// multiplies the connections the databases must hold — incident 4's
// database ran out of memory the night after its pods were doubled.
//
// A request runs its endpoint's steps in order:
//
//	cpu      compute on the pod's CPU (a lognormal cost)
//	wait     block without CPU (a synchronous log write)
//	query    read Rows rows of a database: per id (Rows round trips, each
//	         borrowing a connection) or Batched (one IN (…) query costing
//	         Query + Rows × RowCost); through a cache, only the rows it
//	         misses go to the database
//	stock    decrement a hot item's stock: Pessimistic takes the item's
//	         row lock in the database for the transaction, so every buyer
//	         queues on one lock while holding a pooled connection (the
//	         flash sale's pile-up); Atomic decrements a counter in the
//	         cache (a Lua script) and never touches the database. Sold out,
//	         the request is answered at once; with Degrade the shop has
//	         switched to pre-sale and no longer checks the stock
//	call     call another service's endpoint and wait, up to a timeout
//	enqueue  push a message onto a queue and go on: Consumers workers per
//	         pod of the consuming service process it later, so a burst
//	         becomes a backlog instead of a pile of open transactions
//	fanout   send a message over the pod's client connections: to every
//	         one of them (Broadcast) or to the message's group (PubSub),
//	         at a CPU cost per recipient — incident 3's first framework
//	         broadcast every group message to all 30,000 connections of a
//	         node
//
// Requests from users arrive as a Poisson process at a piecewise-constant
// rate per endpoint. Each may pass a token bucket and a cap on requests in
// flight at the edge (realtime/admission, the production code: incident
// 5's 5,000 requests/s bucket); a refused request is told "busy, retry
// later" at once. A user waits at most the endpoint's Timeout (nginx's
// 499 when the user leaves); the server is not told and finishes the work
// anyway, which is why a slow service gets slower under its own retries.
// A failed or refused user retries with probability Retry after a mean of
// RetryAfter. A successful page may bring Followups: requests its other
// tabs prefetch 30 s later (incident 4: prefetch off cut the daily
// requests from about 37,000 to 4,000).
//
// A share Leak of an endpoint's requests take an exception path that
// never returns its database connection (incident 3); only the pool's
// leak detection gets it back. Background Jobs put runnable threads on
// every pod's CPU for a while (incident 4's subscription-sync job, which
// hung the internal APIs for five minutes at a stage end while the QPS
// was at most ~38).
//
// Every failure a user sees has one Cause (refused, timeout,
// pool_timeout, reset, database_down, lock_timeout, leak, call_timeout,
// queue_full, killed), counted in the summary.
//
// # Metrics
//
// Series, sampled every interval, with stable names: requests, goodput,
// errors, refused, timeouts, slow, orders, deliveries, leaks,
// latency_p50/p99; per service NAME.cpu, .in_flight, .pool_in_use,
// .pool_waiting, .pods; per database .queries, .executing,
// .connections, .memory (GiB), .lock_waiters, .up; per cache .hit_ratio,
// .misses; per queue .depth, .consumed. SeriesInfo and SummaryInfo list
// them with their help.
//
// # Driving it
//
// New builds a Config on a kernel; Start schedules the arrivals, jobs and
// sampler; the kernel's Run plays it. Live controls (SetPods,
// RestartService, RestartDatabase, SetRateLimit, SetLoadFactor,
// SetLeak) change it mid-run, as a timeline or a trainer does.
package service
