package scenarios

import (
	"math"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
	"stormglass/models/reactive"
	"stormglass/realtime/backoff"
	"stormglass/realtime/invalidation"
)

// KindReactiveBackend is the component kind of a reactive backend with its
// app's clients (models/reactive).
const KindReactiveBackend = "reactive-backend"

// componentKinds are the kinds a component may have.
var componentKinds = []string{KindQueueingNetwork, KindReactiveBackend, KindServices, KindWebSocketFleet}

// BackendSpec is a reactive-backend component: the service, its search
// index and the app's clients. Every number may read a knob.
type BackendSpec struct {
	Name      string
	Pos       Pos
	Tier      Param // choice among the hardware catalogue's tiers
	Instances Param // integer ≥ 1

	HandshakeCost   Param // duration
	GatewayThreads  Param // integer
	Backlog         Param // integer
	ConnectionLimit Param // integer
	Heartbeat       Param // duration

	Concurrency Param // integer, live
	SearchCost  CostSpec
	RangeCost   CostSpec

	QueueLimit          Param // integer, live
	Overflow            Param // choice, live
	LegacyMetadataReads Param // bool, live
	Splay               Param // bool, live
	WriteLog            Param // integer

	FlushDocs             Param // integer
	FlushInterval         Param // duration
	Compaction            Param // bool, live
	CompactionSegments    Param // integer
	CompactionMaxSegments Param // integer
	CompactionTime        Param // duration
	CompactionStarved     Param // number in [0, 1]
	CompactionRetry       Param // duration
	CompactionRetryCap    Param // duration

	Clients ClientsSpec
}

// CostSpec is a lognormal CPU cost.
type CostSpec struct {
	Mean Param // duration > 0
	CV   Param // number ≥ 0
}

// ClientsSpec is the app's population of tabs.
type ClientsSpec struct {
	Pos                                  Pos
	InitialBackground, InitialForeground Param // integers
	InitialVersion                       Param // choice among the versions
	Arrivals                             []RatePointSpec
	Session                              Param // duration
	KeepOpen                             Param // number in [0, 1]
	ReloadForeground, ReloadBackground   Param // durations
	RangeQueries                         Param // integer
	SearchShare                          Param // number in [0, 1]
	SearchQueries                        Param // integer
	MessageInterval                      Param // duration
	Versions                             []VersionSpec
	Release                              Param // choice among the versions, live
}

// VersionSpec is a client build.
type VersionSpec struct {
	Pos        Pos
	Name       string
	Backoff    string // a backoff preset
	Inactivity Param  // duration
}

// overflowPolicies are the invalidation engine's policies, by the names
// its OverflowPolicy.String gives.
var overflowPolicies = func() []string {
	var out []string
	for _, p := range []invalidation.OverflowPolicy{invalidation.CloseOverloaded, invalidation.RejectSubscription, invalidation.Shed} {
		out = append(out, p.String())
	}
	return out
}()

func backoffPresets() []string {
	var names []string
	for _, p := range backoff.Presets() {
		names = append(names, p.Name)
	}
	return names
}

// backend decodes a reactive-backend component; n is its mapping, whose
// name and kind the caller has read.
func (d *decoder) backend(n *yaml.Node, path string, be *BackendSpec) {
	num := func(min, max float64, live bool) paramSpec {
		return paramSpec{kind: knob.Number, min: min, max: max, live: live}
	}
	integer := func(min, max float64, live bool) paramSpec {
		return paramSpec{kind: knob.Integer, min: min, max: max, live: live}
	}
	dur := func(max float64) paramSpec { // a duration above 0, up to max seconds
		return paramSpec{kind: knob.Duration, min: 0, max: max, positive: true}
	}
	set := func(out *Param, spec paramSpec) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) { *out = d.param(v, p, spec) }
	}
	cost := func(out *CostSpec) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"mean", true, set(&out.Mean, dur(3600))},
				{"cv", false, set(&out.CV, num(0, 10, false))},
			})
		}
	}
	tiers := BuiltinHardware().Names()
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &be.Name) }},
		{"kind", true, func(*yaml.Node, string) {}}, // read by component
		{"tier", true, set(&be.Tier, paramSpec{kind: knob.Choice, choices: tiers})},
		{"instances", false, set(&be.Instances, integer(1, 1000, false))},
		{"gateway", true, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"handshake_cost", true, set(&be.HandshakeCost, dur(60))},
				{"threads", true, set(&be.GatewayThreads, integer(1, 100000, false))},
				{"backlog", true, set(&be.Backlog, integer(1, 10_000_000, false))},
				{"connection_limit", true, set(&be.ConnectionLimit, integer(1, 100_000_000, false))},
				{"heartbeat", true, set(&be.Heartbeat, dur(3600))},
			})
		}},
		{"workers", true, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"concurrency", true, set(&be.Concurrency, integer(1, 100000, true))},
				{"search_cost", true, cost(&be.SearchCost)},
				{"range_cost", true, cost(&be.RangeCost)},
			})
		}},
		{"invalidation", true, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"queue_limit", true, set(&be.QueueLimit, integer(1, 100_000_000, true))},
				{"overflow", false, set(&be.Overflow, paramSpec{kind: knob.Choice, choices: overflowPolicies, live: true})},
				{"legacy_metadata_reads", false, set(&be.LegacyMetadataReads, paramSpec{kind: knob.Bool, live: true})},
				{"splay", false, set(&be.Splay, paramSpec{kind: knob.Bool, live: true})},
				{"write_log", false, set(&be.WriteLog, integer(1, 10_000_000, false))},
			})
		}},
		{"search_index", true, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"flush_docs", true, set(&be.FlushDocs, integer(1, 100_000_000, false))},
				{"flush_interval", true, set(&be.FlushInterval, dur(86400))},
				{"compaction", false, set(&be.Compaction, paramSpec{kind: knob.Bool, live: true})},
				{"compaction_segments", true, set(&be.CompactionSegments, integer(2, 1000, false))},
				{"compaction_max_segments", true, set(&be.CompactionMaxSegments, integer(2, 1000, false))},
				{"compaction_time", true, set(&be.CompactionTime, paramSpec{kind: knob.Duration, min: 0, max: 86400})},
				{"compaction_starved", false, set(&be.CompactionStarved, num(0, 1, false))},
				{"compaction_retry", false, set(&be.CompactionRetry, dur(86400))},
				{"compaction_retry_cap", false, set(&be.CompactionRetryCap, dur(86400))},
			})
		}},
		{"clients", true, func(v *yaml.Node, p string) { d.clients(v, p, &be.Clients) }},
	})
	d.backendLimits(be, path)
}

// literal returns a field's value when the file writes it out (not
// through a knob, not left unset).
func literal(p Param) (float64, bool) {
	if p.Knob != "" || !p.Value.IsSet() {
		return 0, false
	}
	return p.Value.Float(), true
}

// backendLimits checks the limits that join two literal fields; through
// knobs, the plan checks them with the knobs' values.
func (d *decoder) backendLimits(be *BackendSpec, path string) {
	lit := literal
	if t, ok := lit(be.GatewayThreads); ok {
		if b, ok := lit(be.Backlog); ok && b < t {
			d.errorAt(be.Backlog.Pos, path+".gateway.backlog", "%v is below the gateway's %v threads: expected a backlog of at least the threads", b, t)
		}
	}
	if lo, ok := lit(be.CompactionSegments); ok {
		if hi, ok := lit(be.CompactionMaxSegments); ok && hi < lo {
			d.errorAt(be.CompactionMaxSegments.Pos, path+".search_index.compaction_max_segments", "%v is below compaction_segments (%v): a compaction merges at least that many", hi, lo)
		}
	}
	c := be.Clients
	if r, ok := lit(c.RangeQueries); ok {
		s := 1.0
		if c.SearchQueries.IsSet() {
			s, ok = lit(c.SearchQueries)
		}
		if ok && r+s > float64(reactive.MaxQueries) {
			d.errorAt(c.RangeQueries.Pos, path+".clients.range_queries", "%v range and %v search queries: a tab holds at most %d", r, s, reactive.MaxQueries)
		}
	}
}

func (d *decoder) clients(n *yaml.Node, path string, c *ClientsSpec) {
	c.Pos = posOf(d.deref(n))
	set := func(out *Param, spec paramSpec) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) { *out = d.param(v, p, spec) }
	}
	count := paramSpec{kind: knob.Integer, min: 0, max: 10_000_000}
	share := paramSpec{kind: knob.Number, min: 0, max: 1}
	long := paramSpec{kind: knob.Duration, min: 0, max: 365 * 86400, positive: true}
	var versionsNode, initialNode, releaseNode *yaml.Node
	d.mapping(n, path, []field{
		{"initial_background", true, set(&c.InitialBackground, count)},
		{"initial_foreground", true, set(&c.InitialForeground, count)},
		{"initial_version", true, func(v *yaml.Node, _ string) { initialNode = v }},
		{"arrivals", true, func(v *yaml.Node, p string) {
			var last time.Duration
			d.sequence(v, p, "rate points", func(i int, v *yaml.Node, p string) {
				pt := RatePointSpec{Pos: posOf(d.deref(v))}
				var atNode *yaml.Node
				d.mapping(v, p, []field{
					{"at", true, func(v *yaml.Node, p string) { atNode = v; d.duration(v, p, 0, &pt.At) }},
					{"rate", true, func(v *yaml.Node, p string) {
						pt.Rate = d.param(v, p, paramSpec{kind: knob.Rate, min: 0, max: 1e6})
					}},
				})
				if atNode != nil && i > 0 && pt.At <= last {
					d.errorf(atNode, p+".at", "%v is not after the previous point's %v: points must be in time order", knob.DurationValue(pt.At), knob.DurationValue(last))
				}
				last = pt.At
				c.Arrivals = append(c.Arrivals, pt)
			})
		}},
		{"session", true, set(&c.Session, long)},
		{"keep_open", true, set(&c.KeepOpen, share)},
		{"reload_foreground", true, set(&c.ReloadForeground, long)},
		{"reload_background", true, set(&c.ReloadBackground, long)},
		{"range_queries", true, set(&c.RangeQueries, paramSpec{kind: knob.Integer, min: 2, max: 6})},
		{"search_share", true, set(&c.SearchShare, share)},
		{"search_queries", false, set(&c.SearchQueries, paramSpec{kind: knob.Integer, min: 0, max: 6})},
		{"message_interval", true, set(&c.MessageInterval, long)},
		{"versions", true, func(v *yaml.Node, _ string) { versionsNode = v }},
		{"release", true, func(v *yaml.Node, _ string) { releaseNode = v }},
	})
	presets := backoffPresets()
	var names []string
	if versionsNode != nil {
		d.sequence(versionsNode, path+".versions", "client versions", func(i int, v *yaml.Node, p string) {
			vs := VersionSpec{Pos: posOf(d.deref(v))}
			d.mapping(v, p, []field{
				{"name", true, func(v *yaml.Node, p string) {
					d.name(v, p, &vs.Name)
					for _, prev := range names {
						if prev == vs.Name && vs.Name != "" {
							d.errorf(v, p, "client version %q is already declared", vs.Name)
						}
					}
				}},
				{"backoff", true, func(v *yaml.Node, p string) {
					if w, ok := d.oneOf(v, p, "a backoff preset", "backoff preset", presets); ok {
						vs.Backoff = w
					}
				}},
				{"inactivity", true, set(&vs.Inactivity, paramSpec{kind: knob.Duration, min: 0, max: 86400, positive: true})},
			})
			if !slices.Contains(names, vs.Name) {
				names = append(names, vs.Name)
			}
			c.Versions = append(c.Versions, vs)
		})
	}
	if versionsNode != nil && len(names) == 0 && len(d.errs) == 0 {
		d.errorf(versionsNode, path+".versions", "expected at least one client version")
	}
	if len(names) > 255 {
		d.errorf(versionsNode, path+".versions", "%d client versions: expected at most 255", len(names))
	}
	if len(names) == 0 {
		return // the versions' own errors are reported
	}
	if initialNode != nil {
		c.InitialVersion = d.param(initialNode, path+".initial_version", paramSpec{kind: knob.Choice, choices: names})
	}
	if releaseNode != nil {
		c.Release = d.param(releaseNode, path+".release", paramSpec{kind: knob.Choice, choices: names, live: true})
	}
}

// reactiveConfig builds the model's configuration from the spec and the
// knobs' values.
func reactiveConfig(be *BackendSpec, v knob.Values) (reactive.Config, error) {
	f := func(p Param) float64 { return p.Resolve(v).Float() }
	i := func(p Param, def int) int {
		if !p.IsSet() {
			return def
		}
		return int(p.Resolve(v).Int())
	}
	dur := func(p Param) time.Duration { return p.Resolve(v).Duration() }
	on := func(p Param, def bool) bool {
		if !p.IsSet() {
			return def
		}
		return p.Resolve(v).Bool()
	}
	cost := func(c CostSpec) reactive.Cost {
		out := reactive.Cost{Mean: dur(c.Mean)}
		if c.CV.IsSet() {
			out.CV = f(c.CV)
		}
		return out
	}
	tier, err := BuiltinHardware().Get(be.Tier.Resolve(v).Word())
	if err != nil {
		return reactive.Config{}, err
	}
	cfg := reactive.Config{
		Tier:      tier,
		Instances: i(be.Instances, 1),
		Gateway: reactive.GatewayConfig{
			HandshakeCost: dur(be.HandshakeCost), Threads: i(be.GatewayThreads, 0), Backlog: i(be.Backlog, 0),
			ConnectionLimit: i(be.ConnectionLimit, 0), Heartbeat: dur(be.Heartbeat),
		},
		Workers: reactive.WorkerConfig{Concurrency: i(be.Concurrency, 0), Search: cost(be.SearchCost), Range: cost(be.RangeCost)},
		Invalidation: invalidation.Config{
			QueueLimit:          i(be.QueueLimit, 0),
			LegacyMetadataReads: on(be.LegacyMetadataReads, false),
			Splay:               invalidation.Splay{Enabled: on(be.Splay, false)},
			WriteLogLimit:       i(be.WriteLog, 0),
		},
		Search: reactive.SearchConfig{
			FlushDocs: i(be.FlushDocs, 0), FlushInterval: dur(be.FlushInterval), Compaction: on(be.Compaction, true),
			CompactionSegments: i(be.CompactionSegments, 0), CompactionMaxSegments: i(be.CompactionMaxSegments, 0),
			CompactionTime: dur(be.CompactionTime),
		},
	}
	if be.CompactionStarved.IsSet() {
		cfg.Search.CompactionStarved = f(be.CompactionStarved)
		cfg.Search.CompactionRetry, cfg.Search.CompactionRetryCap = 60*time.Second, 600*time.Second
		if be.CompactionRetry.IsSet() {
			cfg.Search.CompactionRetry = dur(be.CompactionRetry)
		}
		if be.CompactionRetryCap.IsSet() {
			cfg.Search.CompactionRetryCap = dur(be.CompactionRetryCap)
		}
	}
	if be.Overflow.IsSet() {
		if cfg.Invalidation.Overflow, err = invalidation.ParseOverflowPolicy(be.Overflow.Resolve(v).Word()); err != nil {
			return reactive.Config{}, err
		}
	}
	c := be.Clients
	cc := reactive.ClientConfig{
		InitialBackground: i(c.InitialBackground, 0), InitialForeground: i(c.InitialForeground, 0),
		InitialVersion: c.InitialVersion.Resolve(v).Word(),
		Session:        dur(c.Session), KeepOpen: f(c.KeepOpen),
		ReloadForeground: dur(c.ReloadForeground), ReloadBackground: dur(c.ReloadBackground),
		RangeQueries: i(c.RangeQueries, 2), SearchShare: f(c.SearchShare), SearchQueries: i(c.SearchQueries, 1), MessageInterval: dur(c.MessageInterval),
		Release: c.Release.Resolve(v).Word(),
	}
	for _, pt := range c.Arrivals {
		cc.Arrivals = append(cc.Arrivals, reactive.RatePoint{At: pt.At, Rate: f(pt.Rate)})
	}
	for _, vs := range c.Versions {
		p, err := backoff.Preset(vs.Backoff)
		if err != nil {
			return reactive.Config{}, err
		}
		cc.Versions = append(cc.Versions, reactive.Version{Name: vs.Name, Backoff: p, Inactivity: dur(vs.Inactivity)})
	}
	cfg.Clients = cc
	return cfg, nil
}

// backendMetrics are a reactive backend's summary figures as metrics.
func backendMetrics() []MetricInfo {
	var out []MetricInfo
	for _, m := range reactive.SummaryInfo() {
		out = append(out, MetricInfo{Name: m.Name, Unit: unitOf(m.Unit), Distribution: m.Distribution, Help: m.Help})
	}
	return out
}

func unitOf(u string) MetricUnit {
	switch u {
	case reactive.UnitSeconds:
		return UnitSeconds
	case reactive.UnitPerSecond:
		return UnitPerSecond
	}
	return UnitNumber
}

// finite returns x, or 0 for NaN and ±Inf (the percentiles of a run in
// which no query finished), which JSON cannot carry.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
