package scenarios

// Measured is a metric's value over a run's measurement window.
type Measured struct {
	MetricInfo
	Value float64 // the mean
	// For metrics with a distribution: the extremes and percentiles of the
	// observations.
	Min, Max, P50, P95, P99 float64
	Count                   int64 // observations behind a distribution
}

// Measure returns every metric of Scenario.Metrics over the window since
// the last ResetStats.
func (w *World) Measure() []Measured {
	if w.own != nil {
		return w.measureOwn()
	}
	m := w.net.Metrics()
	infos := w.plan.Scenario.Metrics()
	out := make([]Measured, 0, len(infos))
	index := make(map[string]MetricInfo, len(infos))
	for _, i := range infos {
		index[i.Name] = i
	}
	byName := func(name string) MetricInfo { return index[name] }
	add := func(name string, v float64) { out = append(out, Measured{MetricInfo: byName(name), Value: v}) }
	add("arrival_rate", m.ArrivalRate)
	add("throughput", m.Throughput)
	r := m.Response
	out = append(out, Measured{MetricInfo: byName("response"), Value: r.Mean, Min: r.Min, Max: r.Max,
		P50: r.P50, P95: r.P95, P99: r.P99, Count: r.Count})
	add("in_system", m.InSystemMean)
	add("blocked_fraction", m.BlockedFraction)
	for _, st := range m.Stations {
		p := "station." + st.Name + "."
		for _, f := range []struct {
			name string
			v    float64
		}{
			{"arrival_rate", st.ArrivalRate}, {"throughput", st.Throughput}, {"utilization", st.Utilization},
			{"wait_mean", st.WaitMean}, {"response_mean", st.ResponseMean}, {"response_p99", st.ResponseP99},
			{"queue_mean", st.QueueMean}, {"system_mean", st.SystemMean}, {"blocked_fraction", st.BlockedFraction},
		} {
			add(p+f.name, f.v)
		}
	}
	return out
}

// Theory returns the closed-form value of each metric it covers, and the
// model's name, when the network as configured now has one (a Jackson
// network, M/M/c/K, M/G/1): a textbook check of the simulation. Callers
// should ask before the timeline changes anything.
func (w *World) Theory() (model string, values map[string]float64, ok bool) {
	if w.own != nil {
		return "", nil, false // no closed form for a day of a reactive backend, a system of services or a fleet
	}
	t, ok := w.net.Theory()
	if !ok {
		return "", nil, false
	}
	values = map[string]float64{
		"throughput":       t.Throughput,
		"response":         t.W,
		"in_system":        t.L,
		"blocked_fraction": t.BlockedFraction,
	}
	stations := w.net.Stations()
	for i, q := range t.Stations {
		p := "station." + stations[i].Name() + "."
		arrivals := q.Lambda
		if q.PBlock < 1 {
			arrivals = q.Lambda / (1 - q.PBlock)
		}
		values[p+"arrival_rate"] = arrivals
		values[p+"throughput"] = q.Lambda
		values[p+"utilization"] = q.Rho
		values[p+"wait_mean"] = q.Wq
		values[p+"response_mean"] = q.W
		values[p+"queue_mean"] = q.Lq
		values[p+"system_mean"] = q.L
		values[p+"blocked_fraction"] = q.PBlock
	}
	if t.Throughput > 0 {
		values["arrival_rate"] = t.Throughput / (1 - t.BlockedFraction)
	}
	return t.Model, values, true
}

// initSeries names the time series a run records.
func (w *World) initSeries() {
	w.series = []Series{
		{Name: "arrival_rate", Unit: UnitPerSecond},
		{Name: "throughput", Unit: UnitPerSecond},
		{Name: "blocked_rate", Unit: UnitPerSecond},
		{Name: "in_system", Unit: UnitNumber},
	}
	for _, st := range w.net.Stations() {
		p := "station." + st.Name() + "."
		w.series = append(w.series,
			Series{Name: p + "throughput", Unit: UnitPerSecond},
			Series{Name: p + "present", Unit: UnitNumber},
			Series{Name: p + "utilization", Unit: UnitNumber},
		)
	}
}

// sample closes a series interval and schedules the next.
func (w *World) sample() {
	s := w.net.Snapshot()
	dt := (s.At - w.last.At).Seconds()
	per := func(now, before int64) float64 {
		if dt <= 0 {
			return 0
		}
		return float64(now-before) / dt
	}
	vals := []float64{per(s.Arrivals, w.last.Arrivals), per(s.Completed, w.last.Completed),
		per(s.Blocked, w.last.Blocked), float64(s.InSystem)}
	for i, st := range s.Stations {
		util := 0.0
		if st.Servers > 0 {
			util = st.Busy / float64(st.Servers)
		}
		vals = append(vals, per(st.Completed, w.last.Stations[i].Completed), float64(st.Present), util)
	}
	for i := range w.series {
		w.series[i].Values = append(w.series[i].Values, vals[i])
	}
	w.last = s
	if next := s.At + w.plan.Sample; next <= w.plan.Horizon {
		w.k.AtFunc(next, w.sample)
	}
}

// Series returns the time series recorded so far.
func (w *World) Series() []Series {
	if w.own != nil {
		values := w.own.Series()
		out := make([]Series, len(w.ownSeries))
		for i, m := range w.ownSeries {
			out[i] = Series{Name: m.Name, Unit: unitOf(m.Unit), Values: values[i]}
		}
		return out
	}
	out := make([]Series, len(w.series))
	for i, s := range w.series {
		out[i] = Series{Name: s.Name, Unit: s.Unit, Values: append([]float64(nil), s.Values...)}
	}
	return out
}

// measureOwn reports a self-driven model's summary figures as metrics.
func (w *World) measureOwn() []Measured {
	index := map[string]MetricInfo{}
	for _, m := range w.ownMetrics {
		index[m.Name] = m
	}
	var out []Measured
	for _, f := range w.own.Summary() {
		out = append(out, Measured{MetricInfo: index[f.Name], Value: finite(f.Value), Min: finite(f.Min), Max: finite(f.Max),
			P50: finite(f.P50), P95: finite(f.P95), P99: finite(f.P99), Count: f.Count})
	}
	return out
}
