package admission

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is what a Gate admits: a request or a connection. Each kind has its
// own concurrency and rate limits; only connections are subject to the
// degradation level.
type Kind uint8

const (
	Request Kind = iota
	Connection
	numKinds
)

// String returns "request" or "connection".
func (k Kind) String() string {
	switch k {
	case Request:
		return "request"
	case Connection:
		return "connection"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k < numKinds }

// Reason says why a Decision came out as it did: admitted, or the first
// check that refused, in the Gate's order.
type Reason uint8

const (
	// Admitted: every check passed.
	Admitted Reason = iota
	// RefusedDegraded: a new connection at degradation level L1 or L2.
	RefusedDegraded
	// RefusedConcurrency: the kind's concurrency limit was reached.
	RefusedConcurrency
	// RefusedRate: the kind's token bucket was empty.
	RefusedRate
)

// String returns "admitted", "degraded", "concurrency-limit" or "rate-limit".
func (r Reason) String() string {
	switch r {
	case Admitted:
		return "admitted"
	case RefusedDegraded:
		return "degraded"
	case RefusedConcurrency:
		return "concurrency-limit"
	case RefusedRate:
		return "rate-limit"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Ticket stands for one admitted request or open connection. Hand it back
// to Release when the request finishes or the connection closes. The zero
// Ticket is never handed out.
type Ticket struct {
	kind Kind
	slot Slot
}

// Kind returns what the ticket was issued for.
func (t Ticket) Kind() Kind { return t.kind }

// Decision is a Gate's answer to one request or connection.
type Decision struct {
	Kind     Kind
	At       time.Time // the time decided at (never earlier than a previous decision's)
	Admitted bool
	Reason   Reason
	// Ticket is set when admitted: pass it to Release when done.
	Ticket Ticket
	// RetryAfter is set for RefusedRate: the shortest wait after which
	// the same request would be admitted if no other took the token first.
	RetryAfter time.Duration

	// The numbers behind the answer, for Explanation and for reports.

	// Level is the degradation level at At (for every decision).
	Level Level
	// Pause and PauseThreshold are set for RefusedDegraded: the pause
	// that explains Level and the threshold it exceeded.
	Pause          Pause
	PauseThreshold time.Duration
	// IdleClose is set for RefusedDegraded at L2: the idle time beyond
	// which connections are being closed.
	IdleClose time.Duration
	// InFlight and MaxInFlight are set for RefusedConcurrency.
	InFlight, MaxInFlight int
	// PerSecond and Burst are set for RefusedRate.
	PerSecond float64
	Burst     int
}

// Explanation says in words why the decision came out as it did, with the
// numbers: what a gateway sends back with a refusal and a report quotes.
func (d Decision) Explanation() string {
	switch d.Reason {
	case Admitted:
		return d.Kind.String() + " admitted"
	case RefusedDegraded:
		var b strings.Builder
		fmt.Fprintf(&b, "degradation %v: GC pause %v > %v at %s, new connections refused",
			d.Level, d.Pause.Duration, d.PauseThreshold, d.Pause.At.Format(time.TimeOnly))
		if d.Level == L2CloseIdle {
			fmt.Fprintf(&b, ", connections idle > %v closed", d.IdleClose)
		}
		return b.String()
	case RefusedConcurrency:
		what := "requests in flight"
		if d.Kind == Connection {
			what = "connections open"
		}
		return fmt.Sprintf("%v concurrency limit %d reached (%d %s): busy, retry later", d.Kind, d.MaxInFlight, d.InFlight, what)
	case RefusedRate:
		rate := strconv.FormatFloat(d.PerSecond, 'f', -1, 64)
		if d.RetryAfter == Never {
			return fmt.Sprintf("%v rate limit %s/s (burst %d) exceeded: no wait admits it", d.Kind, rate, d.Burst)
		}
		return fmt.Sprintf("%v rate limit %s/s (burst %d) exceeded: busy, retry after %v", d.Kind, rate, d.Burst, d.RetryAfter)
	}
	return d.Reason.String()
}

// KindStats counts a Gate's decisions about one kind. Every decision is
// counted exactly once: Asked = Admitted + Refused().
type KindStats struct {
	Asked              uint64
	Admitted           uint64
	RefusedDegraded    uint64
	RefusedConcurrency uint64
	RefusedRate        uint64
	Released           uint64 // tickets handed back
	BadReleases        uint64 // unknown or already released tickets
	InFlight           int    // admitted and not yet released
	PeakInFlight       int
}

// Refused returns the refusals for every reason.
func (s KindStats) Refused() uint64 {
	return s.RefusedDegraded + s.RefusedConcurrency + s.RefusedRate
}

// Count returns the decisions with reason r.
func (s KindStats) Count(r Reason) uint64 {
	switch r {
	case Admitted:
		return s.Admitted
	case RefusedDegraded:
		return s.RefusedDegraded
	case RefusedConcurrency:
		return s.RefusedConcurrency
	case RefusedRate:
		return s.RefusedRate
	}
	return 0
}

// Stats counts everything a Gate decided.
type Stats struct {
	Requests    KindStats
	Connections KindStats
	// Degradation counts pauses, level changes, refused connections
	// (equal to Connections.RefusedDegraded) and idle connections closed.
	Degradation DegradationStats
}

// Kind returns the counts for kind k.
func (s Stats) Kind(k Kind) KindStats {
	if k == Connection {
		return s.Connections
	}
	return s.Requests
}

// kindGate is the limits and counts of one kind.
type kindGate struct {
	conc  *ConcurrencyLimit
	rate  *RateLimit
	stats KindStats
}

// Gate is the one question a gateway asks per request or new connection.
// Checks run in this order, and the first that refuses is the reason:
//
//  1. degradation (connections only): refuse at L1 or L2;
//  2. concurrency: refuse when the kind's limit is reached;
//  3. rate: refuse when the kind's token bucket is empty.
//
// Degradation comes first because it is the emergency state and costs
// nothing to check. Concurrency comes before rate so that work refused for
// lack of room does not spend a token: otherwise a saturated service would
// also drain its rate budget and admit fewer than the configured rate once
// room frees up. A Gate is a plain struct driven single-threaded with
// explicit times; Service wraps it for concurrent use on a clock.
type Gate struct {
	kinds  [numKinds]kindGate
	deg    *Degrader
	latest time.Time
}

// NewGate makes a gate from cfg, or returns an error wrapping
// ErrInvalidConfig that names every bad field.
func NewGate(cfg Config) (*Gate, error) {
	resolved, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	g := &Gate{deg: &Degrader{cfg: resolved.Degradation}}
	// A burst left at 0 follows the rate when the rate changes live.
	g.kinds[Request] = kindGate{
		conc: newConcurrencyLimit(resolved.Requests.Concurrency),
		rate: newRateLimit(resolved.Requests.Rate, cfg.Requests.Rate.Burst == 0),
	}
	g.kinds[Connection] = kindGate{
		conc: newConcurrencyLimit(resolved.Connections.Concurrency),
		rate: newRateLimit(resolved.Connections.Rate, cfg.Connections.Rate.Burst == 0),
	}
	return g, nil
}

func (g *Gate) clamp(at time.Time) time.Time {
	if at.Before(g.latest) {
		return g.latest
	}
	g.latest = at
	return at
}

// AdmitRequest decides about one request at time at. Requests are not
// subject to the degradation level: the levels shed new connections and
// keep serving the ones already accepted.
func (g *Gate) AdmitRequest(at time.Time) Decision { return g.admit(g.clamp(at), Request) }

// AdmitConnection decides about one new connection at time at.
func (g *Gate) AdmitConnection(at time.Time) Decision { return g.admit(g.clamp(at), Connection) }

func (g *Gate) admit(at time.Time, kind Kind) Decision {
	k := &g.kinds[kind]
	k.stats.Asked++
	d := Decision{Kind: kind, At: at, Level: g.deg.Level(at)}

	if kind == Connection && !g.deg.AdmitConnection(at) {
		_, d.Pause, d.PauseThreshold = g.deg.Cause(at)
		if d.Level == L2CloseIdle {
			d.IdleClose = g.deg.cfg.IdleClose
		}
		d.Reason = RefusedDegraded
		k.stats.RefusedDegraded++
		return d
	}
	if !k.conc.hasRoom() {
		k.conc.stats.Refused++
		d.Reason = RefusedConcurrency
		d.InFlight, d.MaxInFlight = k.conc.InFlight(), k.conc.Max()
		k.stats.RefusedConcurrency++
		return d
	}
	if ok, retry := k.rate.AllowN(at, 1); !ok {
		d.Reason = RefusedRate
		d.RetryAfter = retry
		d.PerSecond, d.Burst = k.rate.PerSecond(), k.rate.Burst()
		k.stats.RefusedRate++
		return d
	}
	d.Admitted = true
	d.Reason = Admitted
	d.Ticket = Ticket{kind: kind, slot: k.conc.acquire()}
	k.stats.Admitted++
	k.stats.PeakInFlight = max(k.stats.PeakInFlight, k.conc.InFlight())
	return d
}

// Release hands back the ticket of a finished request or a closed
// connection. A ticket never issued or already released is an error
// wrapping ErrUnknownSlot; nothing changes but the BadReleases count.
func (g *Gate) Release(t Ticket) error {
	if !t.kind.valid() {
		return fmt.Errorf("admission: release ticket of %v: %w", t.kind, ErrUnknownSlot)
	}
	k := &g.kinds[t.kind]
	if !k.conc.release(t.slot) {
		k.stats.BadReleases++
		return fmt.Errorf("admission: release %v ticket %d (%d in flight): %w", t.kind, t.slot, k.conc.InFlight(), ErrUnknownSlot)
	}
	k.stats.Released++
	return nil
}

// ObservePause tells the gate about a GC pause of length d that ended at
// time at; see Degrader.ObservePause.
func (g *Gate) ObservePause(at time.Time, d time.Duration) { g.deg.ObservePause(g.clamp(at), d) }

// Level returns the degradation level at time at.
func (g *Gate) Level(at time.Time) Level { return g.deg.Level(g.clamp(at)) }

// ShouldClose reports whether a connection last active at lastActive
// should be closed at time at (only at L2, only when idle for longer than
// IdleClose). Release the connection's ticket when closing it.
func (g *Gate) ShouldClose(at, lastActive time.Time) bool {
	return g.deg.ShouldClose(g.clamp(at), lastActive)
}

// IdleToClose returns the indexes of lastActive whose connections should
// be closed at time at; see Degrader.IdleToClose.
func (g *Gate) IdleToClose(at time.Time, lastActive []time.Time) []int {
	return g.deg.IdleToClose(g.clamp(at), lastActive)
}

// SetRateAt changes kind's rate live at time at (0 removes the limit);
// see RateLimit.SetLimitAt.
func (g *Gate) SetRateAt(at time.Time, kind Kind, perSecond float64) error {
	path, err := limitsPath(kind)
	if err != nil {
		return err
	}
	return g.kinds[kind].rate.setLimitAt(path+".Rate", g.clamp(at), perSecond)
}

// SetBurstAt changes kind's burst live at time at (0 for the default);
// see RateLimit.SetBurstAt.
func (g *Gate) SetBurstAt(at time.Time, kind Kind, burst int) error {
	path, err := limitsPath(kind)
	if err != nil {
		return err
	}
	return g.kinds[kind].rate.setBurstAt(path+".Rate", g.clamp(at), burst)
}

// SetMaxInFlight changes kind's concurrency limit live (0 removes it);
// see ConcurrencyLimit.SetMax.
func (g *Gate) SetMaxInFlight(kind Kind, n int) error {
	path, err := limitsPath(kind)
	if err != nil {
		return err
	}
	return g.kinds[kind].conc.setMax(path+".Concurrency", n)
}

func limitsPath(kind Kind) (string, error) {
	switch kind {
	case Request:
		return "Config.Requests", nil
	case Connection:
		return "Config.Connections", nil
	}
	return "", fmt.Errorf("admission: kind %v: want Request or Connection: %w", kind, ErrInvalidConfig)
}

// Config returns the configuration in use: defaults filled in and live
// changes applied.
func (g *Gate) Config() Config {
	limits := func(k Kind) Limits {
		return Limits{
			Concurrency: ConcurrencyConfig{Max: g.kinds[k].conc.Max()},
			Rate:        g.kinds[k].rate.Config(),
		}
	}
	return Config{Requests: limits(Request), Connections: limits(Connection), Degradation: g.deg.Config()}
}

// Stats returns the counts so far.
func (g *Gate) Stats() Stats {
	kind := func(k Kind) KindStats {
		st := g.kinds[k].stats
		st.InFlight = g.kinds[k].conc.InFlight()
		return st
	}
	return Stats{Requests: kind(Request), Connections: kind(Connection), Degradation: g.deg.Stats()}
}
