// Package db models a database instance and the connection pools that
// application processes open to it, on the sim kernel. It is the model
// behind the database failures of incidents 3, 4 and 5 of Stormglass's
// INCIDENTS.md: a pool exhausted by leaked connections, an instance that
// runs out of memory when every pod opens its own pool and an ORM that
// never reconnects, and a single MySQL instance that collapses under a
// flash sale while transactions queue on one hot row's lock.
//
// # The instance
//
// Queries run under processor sharing, the way many threads share a
// database's cores: with n queries executing, the instance does
//
//	C(n) = Cores·Speed·min(1, n/Cores) / (1 + Thrash·max(0, n − Knee))
//
// units of work per second, shared equally among the n. Up to Cores
// queries each run at full speed; beyond that they slow down together and
// the total stays at Cores·Speed; beyond Knee each extra query makes the
// whole instance slower (mutex and buffer-pool contention, context
// switches, cache misses), so throughput falls as load rises. A query of
// cost w takes w/Speed seconds alone. In a closed loop of N clients the
// throughput is C(N)/w; under open arrivals above C(Knee)/w the executing
// queries pile up, each pushes C(n) further down, and throughput collapses
// instead of holding at the peak. That is incident 5's "a single MySQL
// instance collapsed above ~5,000 QPS": with Cores 16, Speed 1 and queries
// of 3.2 ms, C(Knee)/w is 5,000 queries per second, and offered load
// above it drives the instance down the far side of the curve.
// Config.Capacity gives C(n).
//
// The completions are exact: each query's finishing point is a tag of
// attained service, and the one pending completion event is rescheduled
// whenever n changes (the technique of sim.CPU, with C(n) for its rate).
//
// Connections cost memory. The instance holds
//
//	Memory = MemoryBase + Σ footprint(c)
//
// over its open connections; a connection starts at MemoryPerConnection
// and each query it runs adds MemoryGrowth (per-thread sort, join and read
// buffers that MySQL keeps until the connection closes), up to
// MemoryPerConnectionMax. When memory rises above MemoryLimit the process
// is killed (OOM) and restarts: it is down for RestartTime, every
// connection breaks, every executing query and every lock waiter fails
// with ErrReset, and memory starts again from MemoryBase. That is incident
// 4: the pod count was doubled the day before the event, each pod opened
// its own pool, connections reached ~4× the daily level at peak, memory
// crept up with them until it crossed the limit, and the database
// restarted. Open refuses a connection beyond MaxConnections with
// ErrTooManyConnections, and any while down with ErrDown.
//
// Rows can be locked (SELECT … FOR UPDATE): Lock queues the connection's
// transaction first come, first served behind the holder, and grants the
// row or gives up with ErrLockTimeout after the timeout (InnoDB's
// innodb_lock_wait_timeout). Unlock hands the row to the next waiter;
// closing a connection releases its rows, as a rollback on disconnect
// does. Transactions that hold a hot row for a fixed time D form an M/D/1
// queue on it (mean wait λD²/(2(1 − λD))); past λD = 1 the waits grow
// until they time out. That is incident 5's stock decrement: pessimistic
// locks on the hot item's row piled the transactions up, and every one
// held a pooled connection while it waited.
//
// A request that must wait also runs InnoDB's deadlock detection, which
// walks the wait-for graph from the new waiter through the transactions
// already waiting on the row. With Config.DeadlockCheck = c, a request
// that finds k requests waiting on the row runs a check of cost c·k (work
// units, as a query's cost) on the instance's cores, alongside the
// queries: it counts in the n of C(n) and in Executing, so it slows every
// query and, past the knee, thrashes the instance; it is not a query
// (Queries and Completed leave it out; Stats counts DeadlockChecks and
// DeadlockWork). N requests queuing one after the other on a held row
// cost
//
//	c·(0 + 1 + … + (N − 1)) = c·N(N − 1)/2
//
// of work, and once W transactions wait on a row that grants μ a second,
// each grant lets one more in and the checks load the instance with
// c·W·μ of work per second. With W in the hundreds the checks take every
// core: the holder's own statements slow down, the row grants fewer, the
// transactions pile up further, and the instance collapses with its
// queries per second far below its peak, the hot-row collapse that made
// innodb_deadlock_detect switchable. The request takes its place in the
// queue at once and its check runs concurrently (InnoDB enqueues the lock
// request, then checks, then suspends the thread); a request whose turn
// comes before its check has ended gets the row then and the grant when
// the check ends (InnoDB grants under the lock-system mutex that the
// check holds), so the check delays it and the row stays held meanwhile.
// A check whose request has ended by a timeout or a close runs to its end
// regardless; a restart ends every check, and a grant held back by one is
// delivered as decided (the holder's next query fails with ErrReset, as
// for any grant decided before a restart). A waiter holds a server thread
// but sleeps: only its check takes a core. A NOWAIT request and one that
// finds no other waiter run no check; DeadlockCheck 0 turns them off
// (innodb_deadlock_detect=OFF) and leaves the instance as without them.
//
// # The pool
//
// Each application process has its own Pool of connections to the
// instance: Min opened at the start, grown on demand to Max, handed out
// last-in first-out (as Druid and HikariCP do, so the oldest idle ones can
// be closed after IdleTimeout). A borrower that finds none idle at Max
// waits first come, first served up to AcquireTimeout and then fails with
// ErrAcquireTimeout. With Poisson borrowers holding for exponential times
// a pool is an M/M/c queue: the share that waits is Erlang C, and with no
// patience the share refused is Erlang B.
//
// A borrower may lose a connection on an exception path (Leak): the pool
// still counts it in use, so leaks at rate r exhaust a pool of Max in
// Max/r, after which every borrower waits AcquireTimeout and fails — the
// cascade of incident 3. With LeakDetection set, a connection borrowed
// longer than that is reclaimed: closed and replaced (Druid's
// removeAbandoned), so leaks cost capacity for LeakDetection each and the
// pool no longer runs dry. Incident 3's fix was Max 50, AcquireTimeout
// 3 s, LeakDetection 5 s.
//
// When the instance restarts, a pool's connections are broken but the
// pool is not told. With NoReconnect (the ORM of incident 4, Sequelize 3
// as it was configured) the pool keeps handing them out, every query
// fails with ErrReset (the driver's "read ECONNRESET"), and nothing
// changes until the process is restarted (RestartProcess), which took an
// hour and a page at 03:20. With AutoReconnect a connection found broken
// when it is returned or borrowed is discarded and a fresh one opened,
// retried every ReconnectDelay while the instance is still down, so the
// service recovers within RestartTime + ReconnectDelay of the restart.
//
// # The API
//
// New makes an Instance from a Config (Validate names every bad field and
// its range; each error wraps ErrConfig). Open and Close manage
// connections, which are small Conn values; Exec runs a query; Lock and
// Unlock take and release row locks; Restart injects a restart;
// OnRestart hears of every one, with CauseOOM or CauseRestart; SetConfig
// resizes the instance live. Up, Connections, Executing (queries and
// deadlock checks), LockWaiters and Memory are the gauges; Stats returns counters, tallies and peaks, and
// ResetStats deletes a warm-up.
//
// NewPool makes a Pool on an instance from a PoolConfig. Acquire, Release
// and Leak are the borrower's side; RestartProcess is the operator's
// manual fix; SetMax resizes it live. Size, InUse, Idle, Waiting and
// Leaked are the gauges; Stats and ResetStats as for the instance.
//
// The model keeps what the incidents need and no more: a connection may
// run several queries at once (the callers in Stormglass run one at a
// time, as a real connection does); connecting takes no time; a query's
// cost is all the work it does, with no separate I/O; a query still
// executing when its connection closes runs to its end and then fails
// with ErrClosed.
//
// # Time, randomness, determinism
//
// Everything runs on the kernel's single goroutine through callbacks, and
// every callback (Exec's done, Lock's granted, Acquire's got) runs from a
// kernel event, never inside the call that asked for it, so a caller's
// state is consistent when its callback runs. The package draws no random
// numbers: arrivals and hold times are the caller's, from named kernel
// streams. Nothing on the simulation path iterates a map, so a run is a
// pure function of its seed.
package db
