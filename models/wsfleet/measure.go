package wsfleet

import (
	"time"

	"stormglass/models/metric"
	"stormglass/sim/stats"
)

// ---- measuring ----

func (f *Fleet) sampleNow() {
	m := f.m
	now := f.k.Now()
	dt := m.Interval().Seconds()
	var pauseMax time.Duration
	var busy, assist, capacity, heap float64
	live, level := 0, 0
	for _, n := range f.nodes {
		pauseMax = max(pauseMax, n.ivPauseMax)
		n.ivPauseMax = 0
		busy += n.ivBusy
		assist += n.ivAssist
		n.ivBusy, n.ivAssist = 0, 0
		if !n.up {
			continue
		}
		live++
		area := n.cpu.Stats.BusyCores.Area(now)
		busy += area - n.lastHsArea
		n.lastHsArea = area
		capacity += float64(f.cfg.Cores) * dt
		heap += n.col.Heap()
		if f.degOn {
			level = max(level, int(n.dg.Level(f.wall(now))))
		}
	}
	connected := float64(f.holding - f.stranded)
	m.Set(sConnected, connected)
	m.Set(sStranded, float64(f.stranded))
	m.Set(sReconnecting, float64(len(f.clients)-f.holding))
	m.Set(sOpen, float64(f.openConns))
	m.Set(sZombie, float64(f.zombies))
	m.Set(sPauseMax, pauseMax.Seconds())
	share := 0.0
	if busy > 0 {
		share = assist / busy
	}
	m.Set(sAssist, share)
	if live > 0 {
		heap /= float64(live)
	}
	m.Set(sHeap, heap)
	m.Set(sLevel, float64(level))
	util := 0.0
	if capacity > 0 {
		util = min(1, busy/capacity)
	}
	m.Set(sCPU, util)
	m.Set(sLive, float64(live))
	m.Sample()
	f.assistTotal += assist
	f.busyTotal += busy
	f.capTotal += capacity
	f.connMin = min(f.connMin, connected)
	f.connSum += connected / float64(len(f.clients))
	f.samples++
	if next := now + m.Interval(); next <= f.horizon {
		f.k.At(next, f, evSample, 0)
	}
}

// Series returns the time series recorded so far, in SeriesInfo order.
func (f *Fleet) Series() [][]float64 { return f.m.Series() }

// Summary returns the run's figures so far, in SummaryInfo order.
func (f *Fleet) Summary() []metric.Figure {
	m := f.m
	now := f.k.Now()
	total := m.Total
	succeeded, failed := total(sSucceeded), total(sFailed)
	success := 1.0
	if succeeded+failed > 0 {
		success = succeeded / (succeeded + failed)
	}
	// Messages still pending: lost if written, failed and beyond any
	// resume's reach; otherwise unresolved.
	lost := total(sLost)
	expired := f.expired
	unresolved := 0.0
	unfinished := 0.0
	for i := range f.clients {
		cl := &f.clients[i]
		if cl.learnedAt >= 0 {
			unfinished++
		}
		for _, p := range cl.pending {
			if !p.written {
				if p.at < now-f.cfg.Resume.Window {
					expired++
				}
				continue
			}
			if p.failed && p.at < now-f.cfg.Resume.Window {
				lost++
			} else {
				unresolved++
			}
		}
	}
	sent := total(sSent)
	loss := 0.0
	if sent > 0 {
		loss = lost / sent
	}
	dist := func(name string, h *stats.Histogram) metric.Figure {
		return metric.Figure{Name: name, Value: h.Mean(), Min: h.Min(), Max: h.Max(), P50: h.P50(), P95: h.P95(), P99: h.P99(), Count: h.Count()}
	}
	num := func(name string, v float64) metric.Figure { return metric.Figure{Name: name, Value: v} }
	ratio := func(a, b float64) float64 {
		if b > 0 {
			return a / b
		}
		return 0
	}
	connMin, connMean := f.connMin, 0.0
	if f.samples == 0 {
		connMin = float64(f.holding - f.stranded)
	} else {
		connMean = f.connSum / float64(f.samples)
	}
	return []metric.Figure{
		num("reconnect_success", success),
		num("message_loss", loss),
		dist("session_recovery", f.recovery[nKinds]),
		dist("session_recovery_desktop", f.recovery[kDesktop]),
		dist("session_recovery_background", f.recovery[kBackground]),
		dist("session_recovery_mobile", f.recovery[kMobile]),
		num("recoveries_unfinished", unfinished),
		num("gc_pause_max", f.pauseMax.Seconds()),
		num("gc_long_pauses", f.longPauses),
		num("gc_assist_share", ratio(f.assistTotal, f.busyTotal)),
		num("disconnects_reset", total(sDiscReset)),
		num("disconnects_heartbeat", total(sDiscHeartbeat)),
		num("disconnects_idle_close", total(sDiscIdle)),
		num("disconnects_kill", total(sDiscKill)),
		num("disconnects_takeover", total(sDiscTakeover)),
		num("mass_disconnect_peak", float64(f.discWin.peak)),
		num("reset_peak", float64(f.resetWin.peak)),
		num("zombie_peak", float64(f.zombiePeak)),
		num("stranded_peak", float64(f.strandedPeak)),
		num("flows_dropped", total(sFlowsDropped)),
		num("reconnects_attempted", total(sAttempted)),
		num("reconnects_failed", failed),
		num("refused_degraded", f.refused[refDegraded]),
		num("refused_backlog", f.refused[refBacklog]),
		num("refused_limit", f.refused[refLimit]),
		num("refused_no_node", f.refused[refNoNode]),
		num("connect_timeouts", f.timeouts),
		num("clients_gave_up", f.gaveUp),
		num("messages_sent", sent),
		num("messages_lost", lost),
		num("messages_replayed", total(sReplayed)),
		num("messages_unresolved", unresolved),
		num("messages_offline", f.offline),
		num("messages_expired", expired),
		num("connected_min", connMin),
		num("connected_mean", connMean),
		num("cpu_utilization", ratio(f.busyTotal, f.capTotal)),
		num("pings_sent", total(sPings)),
	}
}
