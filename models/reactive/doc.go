// Package reactive models a reactive backend (queries over WebSockets that
// the server re-runs when their data changes) together with the app's
// clients, on the simulation kernel, running the production invalidation
// engine (realtime/invalidation) and reconnect policies (realtime/backoff).
// It is the model behind incident 1 of Stormglass's INCIDENTS.md: the chat
// app taken down on 2025-06-01.
//
// # The clients
//
// Users open the app on a daily curve (Arrivals, a piecewise-constant rate:
// people waking up). A tab is in the foreground for a session (exponential,
// mean Session); when it ends, a share KeepOpen of tabs stay open in the
// background, connected and subscribed for days, and the rest close.
// InitialBackground and InitialForeground tabs are open when the run starts.
// Each tab holds RangeQueries range subscriptions (its conversation list,
// the open conversation, then the user's own documents) and, for a share
// SearchShare of tabs, SearchQueries full-text searches. A foreground user
// sends a message every MessageInterval on average: a commit that writes the
// conversation and the search index.
//
// A tab runs the client version it loaded (Versions, each a backoff.Policy
// and an inactivity timeout). Loading picks Release; a tab changes version
// only when it reloads (foreground tabs every ReloadForeground on average,
// background tabs every ReloadBackground), so a fix reaches background tabs
// over hours: the adoption lag of the write-up. A tab whose connection
// closes or fails asks its version's Backoff for the delay, passing the
// close reason; it reports Connected and MessageReceived when the server's
// first message arrives (at once) and Synced when every query has its
// result. That is how the pre-2025 client's reset on the first message
// turns every overload close into a reconnect 100 ms later.
//
// # The service
//
// Instances of one hardware Tier (cores × speed) share a processor-sharing
// CPU. The gateway works on at most Threads handshakes per instance at a
// time, each costing HandshakeCost of CPU, with up to Backlog more waiting;
// a connection attempt beyond the backlog, beyond ConnectionLimit
// connections per instance, or while the service is down, is refused. The
// gateway's threads and the query workers share the cores, so a reconnect
// storm slows every query, the fact that lets a storm feed itself.
//
// On connect a tab re-runs every query: each is subscribed in the engine as
// not yet run (timestamp zero) and waits in the engine's bounded update queue
// with the re-runs that commits cause. A full queue closes the connection as
// overloaded (invalidation.CloseOverloaded), the 2025 engine's
// SUBSCRIPTIONS_WORKER_QUEUE_SIZE of 10,000. Workers (Concurrency per
// instance, 16 in the 2025 engine) take updates off the queue and run them
// on the CPU, a search costing far more than a range read; a result counts
// only if its connection is still open.
//
// The search index takes every message into a memory segment, flushed to a
// new segment after FlushDocs documents or FlushInterval; CompactionSegments
// segments or more are merged, up to CompactionMaxSegments at a time, in
// CompactionTime. Each flush and compaction rewrites the index's metadata
// without changing anything searchable. With the engine's
// LegacyMetadataReads (the bug before the 2025 fix) each of them invalidates
// every search subscription at once; while more are live than the queue
// holds, the overflow closes tabs' connections.
//
// Deploy moves the service to another tier after a gap: the old processes
// vanish without closing their sockets, every tab notices when it has heard
// nothing for its inactivity timeout (15 to 30 s after the last heartbeat
// for the old client), and connection attempts are refused until the new
// instances serve.
//
// # What the model says about 2025-06-01
//
// At the same load, the metadata bug alone produces bursts of invalidations
// that overflow the queue; the pre-2025 client turns each overflow into a
// herd that reconnects at once, and the handshakes of the herd share the CPU
// with the workers, so the queue drains more slowly and the next burst finds
// it fuller. Small herds in the early morning heal in minutes; as users wake
// up the herd stops healing, and the storm outlives its trigger. Each fix
// removes a link: the engine fix the bursts, the client fix the herd, the
// larger queue the overload closes (but not the cost of re-running every
// search). The built-in scenario reactive-outage-2025 replays the day with
// those variants; the magnitudes of capacity, costs and population are model
// assumptions calibrated to the write-up's shapes, not measurements.
//
// # Metrics
//
// The model samples its own series every sample interval, by stable name
// (SeriesInfo): connections, the share of foreground tabs in sync (the SLO),
// connects and disconnects by reason, queries by cause (initial, reconnect,
// invalidation), the queue's depth and overflows, CPU utilisation, query
// latency percentiles, errors, and the search index's flushes and
// compactions. Summary derives the run's figures (SummaryInfo) from them:
// steady and peak query rates, unusable and degraded time, the longest
// unusable stretch, and when the service first and last was unusable.
//
// A Backend is driven from the kernel's goroutine, like every model.
package reactive
