// Package qnet models an open queueing network on the sim kernel: the
// capacity planner's picture of a service as stations that jobs pass
// through, with closed forms from queueing theory to check it against.
//
// # The model
//
// Sources emit jobs into the network. A job visits stations one after
// another: at each it waits for a server, is served, and is then routed by
// probability to another station (the same one again is allowed: feedback)
// or to a sink, where it leaves. A network's routes decide its shape:
// one source feeding one station that routes to a sink is a single queue
// (M/M/c, M/D/1, M/G/1, M/M/c/K); stations in a row are a tandem line;
// routes back to earlier stations make a Jackson network with feedback.
//
// A source's arrivals are Poisson (exponential gaps) or deterministic
// (exactly 1/rate apart, the first at Start). Its rate can follow a
// piecewise-constant profile, be set live, and be multiplied by a surge
// factor. When the rate of a Poisson source changes, its pending arrival is
// dropped and a fresh exponential gap is drawn at the new rate, which is
// exact because the process is memoryless; a deterministic source keeps its
// phase, the next arrival coming 1/rate after the last one (or at once if
// that is already past). A rate of 0 leaves no arrival pending.
//
// A station has c identical servers and a discipline. FCFS serves jobs in
// order of arrival, up to c at once (sim.Station). PS shares c cores of
// speed 1 among all the jobs present, each progressing at min(1, c/N) (a
// sim.CPU): how a server under many runnable threads slows down for
// everyone. A station may have a capacity K, the most jobs present at once;
// a job arriving to a full station is blocked and lost to the network
// (counted once, however far it had come).
//
// Service times follow a law of a given mean and shape: exponential,
// deterministic, Erlang-k, gamma or lognormal of a given coefficient of
// variation, or uniform around the mean. Every law is a scale family, a
// draw being the mean times a unit-mean variate, so the mean can change
// mid-run (SetServiceMean, SetSlowdown) without changing the shape. An FCFS
// service time is drawn when service starts; a PS job's work is drawn when
// it arrives at the station, so a change applies to the jobs that start
// (FCFS) or arrive (PS) from then on.
//
// Live changes model incidents: more or fewer servers (service in progress
// is never interrupted; with fewer FCFS servers the jobs in service finish
// first), a capacity limit, a slower dependency, a shift of traffic between
// routes, and an outage, during which no server is up: an FCFS station
// starts no service (the jobs already in service finish) and a PS station
// makes no progress, while arrivals queue up to the capacity. On recovery
// the current target number of servers returns.
//
// # Measurements
//
// Metrics covers the time since the last ResetStats (warm-up deletion):
// external arrival rate, throughput to the sinks, the fraction of arrivals
// blocked, the time-average number of jobs in the network, the end-to-end
// sojourn of the jobs that left (mean, extremes and percentiles from a
// histogram of 0.5 % relative accuracy) and, per station, rates,
// utilisation, waits, queue lengths and blocking. Utilisation is busy
// server-time over available server-time, so it stays right when servers
// change. Snapshot gives cumulative counters and the current state, for
// time series.
//
// Theory gives the closed-form steady state when the network as configured
// now has one: a Jackson network (exponential stations without capacity,
// any routing), M/M/c/K, M/G/1 (Pollaczek–Khinchine) or M/G/1-PS. The
// package's tests hold the simulation to these forms.
//
// # Determinism and cost
//
// A run is a pure function of the configuration, the live changes and the
// streams. Each source and station draws from its own named streams
// ("source/"+name for arrivals, "service/"+name, "route/"+name), so adding
// an element never changes another's draws. Jobs live in a slab (a slice
// and a free list) holding each job's entry time; the sim blocks carry the
// slot index as the job's ID, and nothing is allocated per job once the
// network has reached its working size.
//
// # Use
//
// Build a Config, call New with a kernel and its streams, Start, run the
// kernel, and read Metrics; change the network from kernel events through
// the Source and Station handles. The package knows no file format: a
// scenario loader fills the Config.
package qnet
