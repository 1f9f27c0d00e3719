package cli

import (
	"fmt"
	"testing"
	"time"
)

// The flagship replay: incident 1 of INCIDENTS.md, the reactive backend that
// took down a chat app on 2025-06-01. Each test runs the built-in scenario
// through the CLI, as a planner would, and asserts the incident's signatures
// on its JSON. Every run has two replications (the incident three), each an
// independent stream of randomness; bounds are checked on the smallest and
// the largest, so each signature holds for every seed, not on average.

// seriesMean averages a series (already averaged over replications) over
// [from, to) of simulated time; the scenario samples every second.
func seriesMean(t *testing.T, res map[string]any, name string, from, to time.Duration) float64 {
	t.Helper()
	return windowMean(t, res, name, time.Second, from, to)
}

// clock turns a time of day on 2025-06-01 into time since the run's start
// at 05:00.
func clock(hhmm string) time.Duration {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return time.Duration(h-5)*time.Hour + time.Duration(m)*time.Minute
}

func TestOutage2025Signatures(t *testing.T) {
	results := runVariants(t, "reactive-outage-2025", []struct{ variant, until, replications string }{
		{"incident", "9h", "3"},
		{"no-action", "6h", "2"},
		{"trigger-removed", "7h", "2"},
		{"compaction-fix", "6h", "2"},
		{"backoff-fix", "6h", "2"},
		{"queue-limit", "6h", "2"},
		{"remediated", "6h", "2"},
	})
	fig := func(variant, name string) figure { return outageFigure(t, results[variant], name) }
	inf := 1e300

	t.Run("incident", func(t *testing.T) {
		// Steady state: tens of queries per second.
		between(t, "steady queries/s", fig("incident", "queries_steady"), 10, 99)
		// The storm: thousands of queries a second for minutes, tens of
		// thousands in its worst second.
		between(t, "worst second, queries/s", fig("incident", "queries_peak"), 10_000, inf)
		between(t, "worst minute, queries/s", fig("incident", "queries_peak_minute"), 1_000, inf)
		between(t, "storm over steady state", fig("incident", "storm_ratio"), 20, inf)
		between(t, "connections closed as overloaded", fig("incident", "disconnects_overloaded"), 100_000, inf)
		// Disconnects by reason: the two redeploys (10:45, 11:55) drop every
		// connection silently; tabs give them up for inactivity.
		between(t, "connections given up for inactivity", fig("incident", "disconnects_inactivity"), 10_000, inf)
		between(t, "no action: connections given up for inactivity", fig("no-action", "disconnects_inactivity"), 0, 0)
		// First errors in the early morning, from 06:00.
		between(t, "first unusable moment", fig("incident", "first_unusable_at"), clock("06:00").Seconds(), clock("08:00").Seconds())
		// Recovery at about 12:00, on the right tier: within minutes of the
		// redeploy at 11:55 and its 2-minute gap.
		between(t, "end of the last unusable stretch", fig("incident", "last_unusable_at"), clock("11:45").Seconds(), clock("12:30").Seconds())
		between(t, "time to recover after the redeploy to the right tier",
			figure{min: fig("incident", "last_unusable_at").min - clock("11:55").Seconds(), max: fig("incident", "last_unusable_at").max - clock("11:55").Seconds()},
			(2 * time.Minute).Seconds(), (15 * time.Minute).Seconds())
		// Nearly three hours unusable over five hours of trouble.
		between(t, "time unusable", fig("incident", "unusable_time"), (90 * time.Minute).Seconds(), (4 * time.Hour).Seconds())
		between(t, "time degraded", fig("incident", "degraded_time"), (3 * time.Hour).Seconds(), (7 * time.Hour).Seconds())
		// Raising the queue limit at 09:50 was not enough: the objective
		// stays unmet until the mis-deploy.
		if a := seriesMean(t, results["incident"], "slo.attainment", clock("10:00"), clock("10:45")); a >= 0.99 {
			t.Errorf("share of tabs in sync 10:00–10:45 after the queue limit was raised: %.3f, want below the 0.99 objective", a)
		}
		// The free tier saturates the CPU yet leaves the service partly up.
		if u := seriesMean(t, results["incident"], "cpu.utilization", clock("11:00"), clock("11:50")); u < 0.95 {
			t.Errorf("CPU on the free tier: %.2f busy, want saturated (≥ 0.95)", u)
		}
		if c := seriesMean(t, results["incident"], "clients.connected", clock("11:00"), clock("11:50")); c < 1000 {
			t.Errorf("connections on the free tier: %.0f, want the service partly responsive (≥ 1000)", c)
		}
		// Background tabs keep the old client: adoption lags for hours.
		if s := seriesMean(t, results["incident"], "clients.release_share", clock("11:50"), clock("12:00")); s < 0.2 || s > 0.8 {
			t.Errorf("share of tabs on the fixed client at noon: %.2f, want a partial adoption", s)
		}
	})

	t.Run("storm keeps itself going", func(t *testing.T) {
		// Left alone, the service never leaves the storm.
		between(t, "no action: longest unusable stretch", fig("no-action", "longest_unusable"), (1 * time.Hour).Seconds(), inf)
		between(t, "no action: end of the last unusable stretch", fig("no-action", "last_unusable_at"), (6*time.Hour - time.Minute).Seconds(), inf)
		// With the trigger gone at 09:40, it outlives the trigger.
		between(t, "trigger removed: end of the last unusable stretch", fig("trigger-removed", "last_unusable_at"), clock("09:55").Seconds(), inf)
	})

	t.Run("each fix matters", func(t *testing.T) {
		none := func(name string) figure { return fig("no-action", name) }
		// The engine fix removes the trigger: no storm at all.
		between(t, "compaction fix: overload disconnects", fig("compaction-fix", "disconnects_overloaded"), 0, 0)
		between(t, "compaction fix: time unusable", fig("compaction-fix", "unusable_time"), 0, 0)
		between(t, "compaction fix: worst second, queries/s", fig("compaction-fix", "queries_peak"), 0, 1000)
		// The client fix leaves the trigger (tabs are still closed as
		// overloaded) but no herd: each dip heals in minutes and the
		// gateway is not hammered.
		between(t, "backoff fix: overload disconnects", fig("backoff-fix", "disconnects_overloaded"), 1, inf)
		between(t, "backoff fix: longest unusable stretch", fig("backoff-fix", "longest_unusable"), 0, none("longest_unusable").min/4)
		between(t, "backoff fix: refused connection attempts", fig("backoff-fix", "connect_failures"), 0, none("connect_failures").min/100)
		// The larger queue absorbs every burst: nobody is disconnected,
		// but every flush still re-runs every search.
		between(t, "queue limit: overload disconnects", fig("queue-limit", "disconnects_overloaded"), 0, 0)
		between(t, "queue limit: time unusable", fig("queue-limit", "unusable_time"), 0, 0)
		between(t, "queue limit: worst second, queries/s", fig("queue-limit", "queries_peak"), 10_000, inf)
		between(t, "queue limit: time degraded", fig("queue-limit", "degraded_time"), 60, inf)
		// All fixes: the same load stays at its steady state.
		between(t, "remediated: overload disconnects", fig("remediated", "disconnects_overloaded"), 0, 0)
		between(t, "remediated: share of tabs in sync", fig("remediated", "slo_attainment"), 0.99, 1)
		between(t, "remediated: steady queries/s", fig("remediated", "queries_steady"), 10, 99)
		between(t, "remediated: worst minute over steady state", fig("remediated", "storm_ratio"), 0, 5)
	})
}
