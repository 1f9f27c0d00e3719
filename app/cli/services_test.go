package cli

import (
	"fmt"
	"testing"
	"time"
)

// Incidents 3 and 5 of INCIDENTS.md, replayed on the services model: each
// test runs a built-in scenario's variants through the CLI, as a planner
// would, and asserts the write-up's signatures on the JSON. Bounds hold
// for the smallest and the largest replication.

func TestFlashSaleSignatures(t *testing.T) {
	res := runVariants(t, "card-shop-flash-sale", []struct{ variant, until, replications string }{
		{"incident", "50m", "2"},
		{"remediated", "50m", "2"},
		{"atomic-stock", "50m", "1"},
		{"token-bucket", "25m", "1"},
	})
	fig := func(variant, name string) figure { return outageFigure(t, res[variant], name) }
	window := func(variant, series string, from, to time.Duration) float64 {
		return windowMean(t, res[variant], series, time.Second, from, to)
	}
	sale := func(variant, series string) float64 { return window(variant, series, 16*time.Minute, 35*time.Minute) }
	inf := 1e300
	t.Run("incident", func(t *testing.T) {
		// Orders queue on the hot row holding their connections: every
		// pooled connection (8 pods × 50) ends up waiting for the lock.
		between(t, "lock waiters at the peak", fig("incident", "mysql.lock_waiters_peak"), 350, 400)
		between(t, "acquire timeouts (pool exhausted)", fig("incident", "errors_pool_timeout"), 1e6, inf)
		if g := sale("incident", "goodput"); g > 500 {
			t.Errorf("goodput during the sale %.0f/s, want a collapse far below the 5,500/s offered", g)
		}
		if r := sale("incident", "requests"); r < 1.2*5500 {
			t.Errorf("requests during the sale %.0f/s, want retries snowballing above the 5,500/s offered", r)
		}
		// The database collapses past 5,000 queries per second offered:
		// every request needs at least one query, and more than 5,000
		// requests a second arrive from the sale's first seconds.
		if r := window("incident", "requests", 15*time.Minute, 15*time.Minute+10*time.Second); r < 5000 {
			t.Errorf("requests in the sale's first 10 s %.0f/s, want above 5,000/s", r)
		}
		// Each order that queues on the row runs deadlock detection over
		// the hundreds already waiting: the checks take every core, and
		// the instance runs far past its knee (48 executing) while it
		// completes a fraction of the queries it served on the quiet night
		// before the sale, let alone 5,000 a second.
		night := window("incident", "mysql.queries", 5*time.Minute, 15*time.Minute)
		t.Logf("incident during the sale: %.0f lock waiters at the peak, %.0f acquire timeouts, %.0f executing, %.0f queries/s (%.0f/s before it), goodput %.0f/s",
			fig("incident", "mysql.lock_waiters_peak").mean, fig("incident", "errors_pool_timeout").mean,
			sale("incident", "mysql.executing"), sale("incident", "mysql.queries"), night, sale("incident", "goodput"))
		if n := window("incident", "mysql.executing", 5*time.Minute, 15*time.Minute); n > 10 {
			t.Errorf("%.1f executing before the sale, want a quiet database", n)
		}
		if n := sale("incident", "mysql.executing"); n < 2*48 {
			t.Errorf("%.0f executing during the sale, want far past the knee of 48", n)
		}
		if q := sale("incident", "mysql.queries"); q > night/2 || q > 500 {
			t.Errorf("%.0f queries/s during the sale (%.0f/s before it), want a collapse below half the night's and far below 5,000", q, night)
		}
		// And it does not come back by itself when the traffic fades at
		// 03:35 and 03:40: a grant no faster than the orders and their
		// retries keeps every pooled connection on the row, and the
		// checks keep the row slow.
		if n := window("incident", "mysql.executing", 45*time.Minute, 50*time.Minute); n < 2*48 {
			t.Errorf("%.0f executing at 03:45–03:50, want the collapse to hold", n)
		}
		between(t, "end of the last unusable stretch", fig("incident", "last_unusable_at"), (48 * time.Minute).Seconds(), inf)
	})
	t.Run("remediated", func(t *testing.T) {
		// The 5,000/s token bucket: goodput at the bucket's rate all sale
		// long, the rest told "busy, retry later" at once.
		if g := sale("remediated", "goodput"); g < 4800 || g > 5100 {
			t.Errorf("goodput during the sale %.0f/s, want the bucket's 5,000/s", g)
		}
		between(t, "acquire timeouts", fig("remediated", "errors_pool_timeout"), 0, 0)
		between(t, "timeouts", fig("remediated", "errors_timeout"), 0, 0)
		between(t, "lock waiters", fig("remediated", "mysql.lock_waiters_peak"), 0, 0)
		between(t, "refused (busy, retry later)", fig("remediated", "errors_refused"), 1e5, inf)
		between(t, "database queries at the peak, per second", fig("remediated", "mysql.queries_peak"), 0, 5000)
		if p := percentile(t, res["remediated"], "latency", "p99"); p > 0.1 {
			t.Errorf("p99 response %.3f s, want well under 0.1 s", p)
		}
		between(t, "items sold", fig("remediated", "orders"), 200_000, 200_000)
	})
	t.Run("one fix alone", func(t *testing.T) {
		// Without the row lock the database takes the whole load and
		// collapses: every pooled connection executing, a few hundred
		// queries a second, and it does not come back by itself when the
		// traffic fades.
		if n := sale("atomic-stock", "mysql.executing"); n < 350 {
			t.Errorf("atomic stock alone: %.0f queries executing during the sale, want the pools' 400", n)
		}
		if q := sale("atomic-stock", "mysql.queries"); q > 2500 {
			t.Errorf("atomic stock alone: %.0f queries/s during the sale, want a collapse far below 5,000", q)
		}
		between(t, "atomic stock alone: end of the last unusable stretch", fig("atomic-stock", "last_unusable_at"), (48 * time.Minute).Seconds(), inf)
		// The bucket alone admits 5,000/s, still far more orders than one
		// locked row serves: the pile-up stays.
		between(t, "token bucket alone: lock waiters at the peak", fig("token-bucket", "mysql.lock_waiters_peak"), 350, 400)
	})
}

func TestCustomerServiceSignatures(t *testing.T) {
	res := runVariants(t, "customer-service-chat", []struct{ variant, until, replications string }{
		{"incident", "1h", "2"},
		{"remediated", "1h", "2"},
		{"randomised-ttl", "15m", "2"},
	})
	fig := func(variant, name string) figure { return outageFigure(t, res[variant], name) }
	t.Run("broadcast", func(t *testing.T) {
		// Broadcast to a node's 30,000 connections: about 90 % CPU and
		// deliveries above 2 s; publish/subscribe: almost nothing.
		if u := windowMean(t, res["incident"], "gateway.cpu", time.Second, 0, time.Hour); u < 0.85 || u > 0.95 {
			t.Errorf("gateway CPU with broadcast %.3f, want about 0.9", u)
		}
		if p := percentile(t, res["incident"], "gateway.latency", "p99"); p < 2 {
			t.Errorf("broadcast: p99 delivery %.2f s, want above 2 s", p)
		}
		if u := windowMean(t, res["remediated"], "gateway.cpu", time.Second, 0, time.Hour); u > 0.01 {
			t.Errorf("gateway CPU with publish/subscribe %.4f, want under 1 %%", u)
		}
		if p := percentile(t, res["remediated"], "gateway.latency", "p99"); p > 0.01 {
			t.Errorf("publish/subscribe: p99 delivery %.4f s, want a few ms", p)
		}
	})
	t.Run("pool leak", func(t *testing.T) {
		// The leak drains the four 50-connection pools; then every lookup
		// that needs the database waits its 3 s and fails.
		between(t, "connections leaked", fig("incident", "session-api.leaked"), 200, 200)
		between(t, "acquire timeouts", fig("incident", "session-api.pool_timeouts"), 50_000, 1e300)
		if e := windowMean(t, res["incident"], "session-api.errors", time.Second, 50*time.Minute, time.Hour); e < 30 {
			t.Errorf("lookups failing at the end %.1f/s, want every one that misses the cache", e)
		}
		between(t, "leak detection: acquire timeouts", fig("remediated", "session-api.pool_timeouts"), 0, 0)
		between(t, "leak detection: connections still leaked", fig("remediated", "session-api.leaked"), 0, 10)
	})
	t.Run("avalanche", func(t *testing.T) {
		// Keys filled together with a fixed TTL expire together at 300 s;
		// TTLs randomised in 300–420 s spread the reloads.
		fixed, spread := fig("incident", "sessions.misses_peak"), fig("randomised-ttl", "sessions.misses_peak")
		between(t, "fixed TTL: worst second of misses", fixed, 1000, 1e300)
		if spread.max > fixed.min/3 {
			t.Errorf("randomised TTL: worst second %.0f misses against %.0f with a fixed TTL, want a third at most", spread.max, fixed.min)
		}
	})
}

func TestYearEndSignatures(t *testing.T) {
	res := runVariants(t, "year-end-event", []struct{ variant, until, replications string }{
		{"incident", "11h", "2"},
		{"reconnect", "11h", "2"},
		{"normal-day", "11h", "1"},
		{"remediated", "11h", "2"},
		{"job-moved", "2h", "2"},
		{"prefetch-off", "11h", "1"},
		{"batched", "11h", "2"},
	})
	fig := func(variant, name string) figure { return outageFigure(t, res[variant], name) }
	at := func(hhmm string) time.Duration { // time of day to time since 18:00
		var h, m int
		fmt.Sscanf(hhmm, "%d:%d", &h, &m)
		d := time.Duration(h-18)*time.Hour + time.Duration(m)*time.Minute
		if d < 0 {
			d += 24 * time.Hour
		}
		return d
	}
	mean := func(variant, series, from, to string) float64 {
		return windowMean(t, res[variant], series, 10*time.Second, at(from), at(to))
	}
	t.Run("database restart", func(t *testing.T) {
		// Pods and pools doubled: four times a normal day's connections.
		ratio := fig("incident", "mysql.connections_peak").mean / fig("normal-day", "mysql.connections_peak").mean
		if ratio < 3 || ratio > 4 {
			t.Errorf("connections %.2f× a normal day's, want about 4× (430 against 130 with the other services' pools)", ratio)
		}
		// Memory crosses its limit at about 01:30: one OOM restart.
		between(t, "OOM restarts", fig("incident", "mysql.ooms"), 1, 1)
		between(t, "normal day: OOM restarts", fig("normal-day", "mysql.ooms"), 0, 0)
		between(t, "pools not doubled: OOM restarts", fig("remediated", "mysql.ooms"), 0, 0)
		if down := mean("incident", "mysql.up", "01:20", "01:29"); down != 1 {
			t.Errorf("database up %.2f of 01:20–01:29, want up until about 01:30", down)
		}
		if down := mean("incident", "mysql.up", "01:31", "01:33"); down != 0 {
			t.Errorf("database up %.2f of 01:31–01:33, want down after the OOM", down)
		}
		// Without reconnect every activity request fails with ECONNRESET
		// until the manual restart at 04:20; with it, only while the
		// database is down.
		if e := mean("incident", "activity.goodput", "01:40", "04:15"); e != 0 {
			t.Errorf("no reconnect: activity answered %.3f requests/s between 01:40 and 04:15, want none", e)
		}
		between(t, "no reconnect: ECONNRESET errors", fig("incident", "errors_reset"), 100, 1e300)
		if g := mean("incident", "activity.goodput", "04:25", "05:00"); g == 0 {
			t.Error("no reconnect: nothing answered after the manual restart at 04:20")
		}
		if e := mean("reconnect", "activity.errors", "01:40", "04:15"); e != 0 {
			t.Errorf("reconnect: %.3f activity errors/s between 01:40 and 04:15, want none", e)
		}
		// Only requests caught in flight by the restart itself.
		between(t, "reconnect: ECONNRESET errors", fig("reconnect", "errors_reset"), 0, 10)
		// The backend reconnects by itself: it fails only while the
		// database is down (3 min).
		between(t, "backend: time failing", fig("incident", "backend.failing_time"), 0, 200)
	})
	t.Run("stage-end stampede", func(t *testing.T) {
		// 19:00: 5,000+ requests in 5 minutes, at most ~38 a second; the
		// pages hang for five minutes and recover in the sixth.
		n := mean("incident", "activity.requests", "19:00", "19:05") * 300
		if n < 5000 || n > 9000 {
			t.Errorf("activity requests 19:00–19:05: %.0f, want 5,000 and more", n)
		}
		if peak := seriesMax(t, res["incident"], "activity.requests", 10*time.Second, at("19:00"), at("19:05")); peak < 15 || peak > 45 {
			t.Errorf("activity requests in the stampede's worst 10 s: %.1f/s, want at most about 38", peak)
		}
		if g := mean("incident", "activity.goodput", "19:01", "19:05"); g > 0.05 {
			t.Errorf("activity answered %.2f requests/s during the stampede, want it hanging", g)
		}
		between(t, "longest stretch of activity failing", fig("incident", "activity.longest_failing"), 240, 360)
		if e, g := mean("incident", "activity.errors", "19:06", "19:20"), mean("incident", "activity.goodput", "19:06", "19:20"); e > 0.01 || g == 0 {
			t.Errorf("from 19:06: %.3f errors/s and %.3f answered/s, want recovered in the sixth minute", e, g)
		}
		// With the job moved out the same stampede is served.
		if e := mean("job-moved", "activity.errors", "19:00", "19:10"); e > 0.05 {
			t.Errorf("job moved: %.3f activity errors/s during the stampede, want none", e)
		}
	})
	t.Run("prefetch and batching", func(t *testing.T) {
		// Prefetch off: the activity's requests fall about ninefold
		// (37,000 a day to 4,000 in the write-up). Measured outside the
		// stampede.
		on := mean("incident", "activity.requests", "19:30", "00:00")
		off := mean("prefetch-off", "activity.requests", "19:30", "00:00")
		if r := on / off; r < 7 || r > 12 {
			t.Errorf("requests with prefetch %.4f/s, without %.4f/s: %.1f×, want about 9×", on, off, r)
		}
		if perDay := on * 86400; perDay < 25_000 || perDay > 50_000 {
			t.Errorf("activity requests at the evening's rate: %.0f a day, want about 37,000", perDay)
		}
		// One batched query instead of ten per id: fewer slow responses
		// (8 in 10,000 to 2 in 10,000 in the write-up), on a calm evening.
		slow := func(variant string) float64 {
			return mean(variant, "activity.slow", "19:30", "01:00") / mean(variant, "activity.goodput", "19:30", "01:00")
		}
		if perID, batched := slow("incident"), slow("batched"); batched*2 > perID {
			t.Errorf("slow responses: per id %.5f, batched %.5f: want batched at most half", perID, batched)
		}
	})
}

// seriesMax is a series' largest value over [from, to).
func seriesMax(t *testing.T, res map[string]any, name string, sample, from, to time.Duration) float64 {
	t.Helper()
	for _, s := range res["series"].([]any) {
		s := s.(map[string]any)
		if s["name"] != name {
			continue
		}
		vs := s["values"].([]any)
		m := 0.0
		for _, v := range vs[int(from/sample):min(int(to/sample), len(vs))] {
			m = max(m, v.(float64))
		}
		return m
	}
	t.Fatalf("JSON has no series %s", name)
	return 0
}
