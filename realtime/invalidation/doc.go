// Package invalidation is the subscription invalidation engine of a
// reactive backend: given every live query subscription and a stream of
// commits, it finds exactly the subscriptions whose results may have
// changed and queues them for a re-run. A real Go service imports it; the
// Stormglass simulator runs the same code on a virtual clock to replay
// incidents.
//
// # The model
//
// A query runs at a commit timestamp and records its read set: per index,
// the key intervals it read (a point read is the interval holding one key);
// per search index, the words it searched (exact terms, and prefixes for
// search-as-you-type) with optional filter fields; and derived reads of
// index metadata. A commit records its write set: per index, the keys of
// the old and the new version of each document it wrote; per search index,
// the tokens and filter values of those versions; and metadata writes.
//
// A commit at timestamp T invalidates a subscription that ran before T when
// a written key lies in one of its intervals, a written document matches
// one of its searches (every filter equal, and a token equal to a term or
// starting with a prefix), or a metadata write that changes searchable data
// touches an index it searched or whose metadata it read. A metadata write
// that changes nothing searchable, as search-index flush and compaction do,
// never invalidates anything.
//
// LegacyMetadataReads restores the engine as it was before the 2025 fix:
// every search took a derived read of its index's metadata document, and
// flush and compaction rewrote that document, so every compaction
// invalidated every search subscription on the index at once: thousands of
// re-runs of queries whose results had not changed. That is root cause 1 of
// incident 1 in Stormglass's INCIDENTS.md; replays turn the option on.
//
// # Matching
//
// Each index keeps its distinct intervals in a B+tree ordered by interval
// start, each entry annotated with the least start and the greatest end in
// its subtree, so finding the intervals that contain a key visits
// O((k+1) log n) nodes for k matches among n intervals, where the engine
// before mid-2025 scanned every subscriber. (The real engine uses a treap
// with the same annotation; sixteen entries per node make the tree five
// levels deep instead of twenty-five at a million subscriptions, and each
// level is a cache miss.) Subscriptions reading the same interval share
// one entry. Searches live in an inverted
// index from word to reads. A commit's hits come back deduplicated, each
// with the earliest commit timestamp that hit it (CommitBatch applies
// several commits, as a worker catching up on the write log does), oldest
// subscription first: the order depends only on the calls made, never on
// memory layout, so a replay is byte-identical.
//
// A query's result is only known at the timestamp it ran at, and commits
// may land while it runs. The engine keeps the last WriteLogLimit commits;
// a subscription made (or refreshed) at an older timestamp is checked
// against the commits since and queued at once if one hit it, or if the log
// no longer reaches back that far. A subscription made at timestamp zero has
// no result yet: it is queued for its first run. A server that registers a
// client's queries as they arrive and lets the workers compute them puts
// every new subscription through the same bounded queue as the re-runs,
// as the 2025 engine did: a reconnect storm, every tab re-running all its
// queries at once, then fills the queue as an invalidation burst does.
//
// # The update queue
//
// Invalidated subscriptions wait in a bounded queue (QueueLimit, the real
// engine's SUBSCRIPTIONS_WORKER_QUEUE_SIZE, default 10,000) until a worker
// takes them with Next, re-runs the query and calls Refresh with its new read
// set. A subscription already waiting is not queued twice: later
// invalidations merge into its entry, keeping the earliest timestamp. An
// invalidation that finds the queue full is an overflow, handled by the
// OverflowPolicy: CloseOverloaded closes the connection with reason
// "overloaded" (what the real engine did: the client reconnects and re-runs
// every query, which is how a burst of invalidations becomes a reconnect
// storm), RejectSubscription fails just that query and refuses new ones
// while the queue is full, and Shed drops the invalidation, leaving a stale
// result. Every outcome is counted in Stats. With Splay on, once more than
// Threshold updates are pending each new one waits a uniformly random delay
// in [0, pending × PerPending] (default 200 and 5 ms), spreading a burst of
// re-runs over time instead of releasing it at once.
//
// # Two ways to drive it
//
// Engine is a plain struct driven by method calls. It starts no goroutine,
// reads time only from the clock.Clock it is given and draws randomness
// only from the rand.Source it is given, so a simulator drives it
// single-threaded on virtual time and a run is reproducible from its seed:
//
//	eng, _ := invalidation.New(invalidation.Config{LegacyMetadataReads: true}, kernel.Clock(), streams.Source("invalidation"))
//	id, _ := eng.Subscribe(conn, readSet, ts)
//	hits, _ := eng.Commit(commit)         // who must re-run
//	for _, n := range eng.TakeNotices() { // sockets closed "overloaded"
//		scheduleReconnect(n.Conn)
//	}
//	if u, ok := eng.Next(); ok { // a sync worker frees up
//		startRerun(u)
//	}
//
// Service wraps an Engine for a real server: a mutex makes every method
// safe from any goroutine, and Run's worker goroutine hands due updates and
// notices to a Handler. A WebSocket server's loop then looks like this:
//
//	svc, _ := invalidation.NewService(invalidation.Config{}, clock.Real{}, rand.NewPCG(seed1, seed2), handler)
//	go svc.Run(ctx)
//
//	// One goroutine per connection reads the client's frames.
//	for {
//		msg, err := ws.Read(ctx)
//		if err != nil {
//			svc.CloseConnection(conn) // drops all its subscriptions
//			return
//		}
//		switch msg.Type {
//		case "subscribe":
//			result, readSet, ts := db.RunQuery(msg.Query)
//			id, err := svc.Subscribe(conn, readSet, ts)
//			if errors.Is(err, invalidation.ErrOverloaded) {
//				ws.Write(ctx, errorFrame(msg, "overloaded, retry later"))
//				continue
//			}
//			ws.Write(ctx, resultFrame(id, result))
//		case "unsubscribe":
//			svc.Unsubscribe(msg.Sub)
//		}
//	}
//
//	// The commit path reports each write set.
//	svc.Commit(invalidation.Commit{TS: ts, Keys: keys, Docs: docs})
//
//	// The handler, on the worker goroutine:
//	func (h handler) Rerun(ctx context.Context, u invalidation.Update) {
//		result, readSet, ts := h.db.RunQuery(h.queryOf(u.Sub))
//		h.svc.Refresh(u.Sub, readSet, ts)
//		h.socket(u.Conn).Write(ctx, resultFrame(u.Sub, result))
//	}
//	func (h handler) Notice(ctx context.Context, n invalidation.Notice) {
//		h.socket(n.Conn).Close(websocket.StatusTryAgainLater, n.Reason)
//	}
//
// ExampleService is the same loop, runnable.
package invalidation
