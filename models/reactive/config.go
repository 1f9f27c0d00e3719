package reactive

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"stormglass/models/hardware"
	"stormglass/realtime/backoff"
	"stormglass/realtime/invalidation"
)

// ErrConfig is wrapped by every error about a Config's values.
var ErrConfig = errors.New("invalid reactive backend configuration")

// Config describes a reactive backend and the clients of one app.
type Config struct {
	// Tier is the hardware each instance runs on, Instances how many.
	Tier      hardware.Tier
	Instances int

	Gateway      GatewayConfig
	Workers      WorkerConfig
	Invalidation invalidation.Config
	Search       SearchConfig
	Clients      ClientConfig
}

// GatewayConfig is the WebSocket front of each instance.
type GatewayConfig struct {
	// HandshakeCost is the CPU a WebSocket connect (TLS, upgrade,
	// authentication) takes, in time on one reference core.
	HandshakeCost time.Duration
	// Threads is how many handshakes an instance works on at once; the
	// rest wait in the accept backlog.
	Threads int
	// Backlog is how many handshakes an instance has in progress at most;
	// an attempt beyond it is refused, as a full accept queue refuses.
	Backlog int
	// ConnectionLimit is how many connections an instance holds at most.
	ConnectionLimit int
	// Heartbeat is how often the server pings an idle connection; a client
	// that hears nothing for its version's Inactivity gives the connection
	// up. It decides how long tabs take to notice a silent redeploy.
	Heartbeat time.Duration
}

// WorkerConfig is the sync workers that run queries.
type WorkerConfig struct {
	// Concurrency is how many queries an instance runs at once (16 in the
	// 2025 engine, and the marker of a non-pro plan).
	Concurrency int
	// Search and Range are the CPU costs of the two kinds of query, in
	// time on one reference core.
	Search, Range Cost
}

// Cost is a lognormal CPU cost: mean, and coefficient of variation (0 for
// a fixed cost).
type Cost struct {
	Mean time.Duration
	CV   float64
}

// SearchConfig is the search index's flush and compaction schedule.
type SearchConfig struct {
	// FlushDocs: the memory segment is flushed to a new segment when it
	// holds this many documents, or FlushInterval after the last flush if
	// it holds any.
	FlushDocs     int
	FlushInterval time.Duration
	// Compaction merges segments once CompactionSegments of them exist,
	// up to CompactionMaxSegments at a time, taking CompactionTime. Off,
	// segments only pile up.
	Compaction            bool
	CompactionSegments    int
	CompactionMaxSegments int
	CompactionTime        time.Duration
	// A compaction that finds the CPU saturated (busy at least
	// CompactionStarved of the time it ran) fails, and the compactor
	// retries after a backoff from CompactionRetry, doubling up to
	// CompactionRetryCap (60 s and 600 s in the 2025 engine). Zero
	// CompactionStarved never fails.
	CompactionStarved                   float64
	CompactionRetry, CompactionRetryCap time.Duration
}

// ClientConfig is the app's users and their tabs.
type ClientConfig struct {
	// InitialBackground and InitialForeground tabs are open, connected and
	// in sync when the run starts; the background ones run InitialVersion.
	InitialBackground, InitialForeground int
	InitialVersion                       string
	// Arrivals is the rate at which users open the app (a piecewise
	// constant profile): the daily curve of people waking up.
	Arrivals []RatePoint
	// Session is the mean time a user keeps a tab in the foreground;
	// KeepOpen the share of sessions that end with the tab left open in the
	// background, where it stays connected and subscribed.
	Session  time.Duration
	KeepOpen float64
	// ReloadForeground and ReloadBackground are the mean times between
	// reloads of a tab; a reload loads the released client version.
	ReloadForeground, ReloadBackground time.Duration
	// RangeQueries is how many range subscriptions a tab holds (2 to 7):
	// its conversation list, the open conversation, then the user's own
	// documents. SearchShare is the share of tabs that also hold
	// SearchQueries full-text search subscriptions.
	RangeQueries  int
	SearchShare   float64
	SearchQueries int
	// MessageInterval is the mean time between messages a foreground user
	// sends.
	MessageInterval time.Duration
	// Versions are the client builds; Release is the one a loading tab gets.
	Versions []Version
	Release  string
}

// RatePoint sets the arrival rate from a time on.
type RatePoint struct {
	At   time.Duration
	Rate float64 // per second
}

// Version is a client build: its reconnect policy and inactivity timeout.
type Version struct {
	Name       string
	Backoff    backoff.Policy
	Inactivity time.Duration
}

// Validate reports every value of c the model cannot run with, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if err := c.Tier.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: tier: %w", ErrConfig, err))
	}
	if c.Instances < 1 {
		bad("instances %d: expected at least 1", c.Instances)
	}
	g := c.Gateway
	if g.HandshakeCost <= 0 || g.Threads < 1 || g.Backlog < g.Threads || g.ConnectionLimit < 1 || g.Heartbeat <= 0 {
		bad("gateway %+v: expected a positive handshake cost and heartbeat, threads ≥ 1, backlog ≥ threads, connection limit ≥ 1", g)
	}
	w := c.Workers
	if w.Concurrency < 1 {
		bad("workers: concurrency %d, expected at least 1", w.Concurrency)
	}
	for _, q := range []Cost{w.Search, w.Range} {
		if q.Mean <= 0 || q.CV < 0 {
			bad("workers: query cost %+v, expected a positive mean and cv ≥ 0", q)
		}
	}
	s := c.Search
	if s.FlushDocs < 1 || s.FlushInterval <= 0 || s.CompactionSegments < 2 || s.CompactionMaxSegments < s.CompactionSegments || s.CompactionTime < 0 {
		bad("search index %+v: expected flush docs ≥ 1, a positive flush interval, 2 ≤ compaction segments ≤ max segments", s)
	}
	if s.CompactionStarved < 0 || s.CompactionStarved > 1 || s.CompactionStarved > 0 && (s.CompactionRetry <= 0 || s.CompactionRetryCap < s.CompactionRetry) {
		bad("search index: compaction starved at %g, retry %v up to %v: expected a share in [0, 1] and, when set, 0 < retry ≤ cap", s.CompactionStarved, s.CompactionRetry, s.CompactionRetryCap)
	}
	cl := c.Clients
	if cl.InitialBackground < 0 || cl.InitialForeground < 0 {
		bad("clients: negative initial tabs")
	}
	if cl.Session <= 0 || cl.ReloadForeground <= 0 || cl.ReloadBackground <= 0 || cl.MessageInterval <= 0 {
		bad("clients: session, reload and message intervals must be positive")
	}
	if cl.RangeQueries < 2 || cl.SearchQueries < 0 || cl.RangeQueries+cl.SearchQueries > MaxQueries {
		bad("clients: %d range and %d search queries, expected at least 2 ranges, no negative count, at most %d in all", cl.RangeQueries, cl.SearchQueries, MaxQueries)
	}
	if cl.KeepOpen < 0 || cl.KeepOpen > 1 || cl.SearchShare < 0 || cl.SearchShare > 1 {
		bad("clients: keep-open share %g and search share %g must lie in [0, 1]", cl.KeepOpen, cl.SearchShare)
	}
	for i, p := range cl.Arrivals {
		if p.Rate < 0 || (i > 0 && p.At < cl.Arrivals[i-1].At) {
			bad("clients: arrivals[%d] %+v: rates ≥ 0, times in order", i, p)
		}
	}
	if len(cl.Versions) == 0 || len(cl.Versions) > 255 {
		bad("clients: %d versions, expected 1 to 255", len(cl.Versions))
	}
	names := make([]string, len(cl.Versions))
	for i, v := range cl.Versions {
		names[i] = v.Name
		if slices.Contains(names[:i], v.Name) {
			bad("clients: version %q declared twice", v.Name)
		}
		if v.Inactivity <= 0 {
			bad("clients: version %q: inactivity must be positive", v.Name)
		}
		if err := v.Backoff.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%w: clients: version %q: %w", ErrConfig, v.Name, err))
		}
	}
	for _, n := range []string{cl.InitialVersion, cl.Release} {
		if !slices.Contains(names, n) {
			bad("clients: version %q is not declared (have %v)", n, names)
		}
	}
	return errors.Join(errs...)
}
