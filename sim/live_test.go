package sim

import (
	"context"
	"math"
	"testing"
	"time"
)

// Tests of capacity changed mid-run, as a scenario timeline does: servers
// added, removed and lost in an outage, queue limits moved, CPU cores
// withdrawn. Service times are fixed, so every start and departure is known
// to the nanosecond.

// sec is a test's shorthand for a virtual instant in seconds.
func sec(s float64) time.Duration { return DurationOf(s) }

// services returns a sampler giving ds in order, then the last for ever.
func services(ds ...time.Duration) func() time.Duration {
	i := 0
	return func() time.Duration {
		d := ds[min(i, len(ds)-1)]
		i++
		return d
	}
}

// trace records each departed customer by ID.
func trace(st *Station) map[int64]Customer {
	out := map[int64]Customer{}
	st.OnDepart = func(c Customer) { out[c.ID] = c }
	return out
}

func run(t *testing.T, k *Kernel) {
	t.Helper()
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// checkTimes compares customers' start and departure instants with the
// expected ones, in seconds, for IDs 0, 1, ...
func checkTimes(t *testing.T, got map[int64]Customer, starts, departs []float64) {
	t.Helper()
	if len(got) != len(starts) {
		t.Fatalf("%d customers departed, want %d: %v", len(got), len(starts), got)
	}
	for id := range starts {
		c, ok := got[int64(id)]
		if !ok || c.Started != sec(starts[id]) || c.Departed != sec(departs[id]) {
			t.Errorf("customer %d: started %v, departed %v; want %vs, %vs", id, c.Started, c.Departed, starts[id], departs[id])
		}
	}
}

// checkGauges compares the station's state with what it must be.
func checkGauges(t *testing.T, st *Station, when string, length, queued, busy int) {
	t.Helper()
	if st.Len() != length || st.Stats.InQueue.Value() != float64(queued) || st.Stats.Busy.Value() != float64(busy) {
		t.Errorf("%s: Len %d, in queue %v, busy %v; want %d, %d, %d", when,
			st.Len(), st.Stats.InQueue.Value(), st.Stats.Busy.Value(), length, queued, busy)
	}
}

func TestStationScaleUpStartsWaitingCustomersAtOnce(t *testing.T) {
	k := NewKernel(Config{})
	st := NewStation(k, "api", 1, 0, Fixed(time.Second))
	got := trace(st)
	for id := range int64(6) {
		st.Arrive(id)
	}
	checkGauges(t, st, "before", 6, 5, 1)
	k.AtFunc(sec(0.5), func() {
		st.SetServers(3)
		// The two new servers take customers 1 and 2 now, not at the next
		// departure.
		checkGauges(t, st, "right after SetServers(3)", 6, 3, 3)
		if st.Servers() != 3 {
			t.Errorf("Servers() = %d, want 3", st.Servers())
		}
	})
	run(t, k)
	// 0 starts at 0 and its server goes on to 3 at 1 s; 1 and 2 start at
	// 0.5 s on the new servers, which then take 4 and 5 at 1.5 s.
	checkTimes(t, got,
		[]float64{0, 0.5, 0.5, 1, 1.5, 1.5},
		[]float64{1, 1.5, 1.5, 2, 2.5, 2.5})
	checkGauges(t, st, "at the end", 0, 0, 0)
}

func TestStationScaleDownInterruptsNobody(t *testing.T) {
	// Customers 0, 1, 2 hold three servers for 1, 2 and 3 s; 3 and 4 wait
	// and need 1 s each.
	setup := func() (*Kernel, *Station, map[int64]Customer) {
		k := NewKernel(Config{})
		st := NewStation(k, "api", 3, 0, services(time.Second, 2*time.Second, 3*time.Second, time.Second))
		got := trace(st)
		for id := range int64(5) {
			st.Arrive(id)
		}
		return k, st, got
	}

	t.Run("to one", func(t *testing.T) {
		k, st, got := setup()
		k.AtFunc(sec(0.5), func() {
			st.SetServers(1)
			checkGauges(t, st, "right after SetServers(1)", 5, 2, 3)
		})
		k.AtFunc(sec(1.5), func() { checkGauges(t, st, "at 1.5 s", 4, 2, 2) })
		k.AtFunc(sec(2.5), func() { checkGauges(t, st, "at 2.5 s", 3, 2, 1) })
		run(t, k)
		// The servers finishing at 1 s and 2 s retire (3 and then 2 busy,
		// more than 1); the one finishing at 3 s is the one server left
		// and takes customer 3, then 4. Without the change 3 and 4 would
		// have started at 1 s and 2 s.
		checkTimes(t, got,
			[]float64{0, 0, 0, 3, 4},
			[]float64{1, 2, 3, 4, 5})
	})

	t.Run("to one then back to two", func(t *testing.T) {
		k, st, got := setup()
		k.AtFunc(sec(0.5), func() { st.SetServers(1) })
		k.AtFunc(sec(1.5), func() {
			// Two are still busy, finishing: none of them is idle, so the
			// second server wanted starts nobody yet.
			st.SetServers(2)
			checkGauges(t, st, "right after SetServers(2)", 4, 2, 2)
		})
		run(t, k)
		// At 2 s two were busy, not more than 2: that server goes on to 3.
		// At 3 s likewise to 4.
		checkTimes(t, got,
			[]float64{0, 0, 0, 2, 3},
			[]float64{1, 2, 3, 3, 4})
	})
}

func TestStationOutageQueuesAndBlocks(t *testing.T) {
	k := NewKernel(Config{})
	st := NewStation(k, "api", 2, 4, Fixed(time.Second))
	got := trace(st)
	var blocked []int64
	st.OnBlock = func(id int64) { blocked = append(blocked, id) }
	st.Arrive(0)
	st.Arrive(1)
	// Everything goes down at 0.5 s; 0 and 1 are finished, not cut off.
	k.AtFunc(sec(0.5), func() { st.SetServers(0) })
	// Six arrivals during the outage, 1.5 s to 4 s: four queue, the last
	// two find the station at its capacity of 4.
	for i := range 6 {
		id := int64(2 + i)
		k.AtFunc(sec(1.5+0.5*float64(i)), func() { st.Arrive(id) })
	}
	k.AtFunc(sec(4.5), func() {
		checkGauges(t, st, "during the outage", 4, 4, 0)
		if st.Servers() != 0 {
			t.Errorf("Servers() = %d during the outage", st.Servers())
		}
	})
	k.AtFunc(sec(5), func() {
		st.SetServers(2)
		checkGauges(t, st, "recovered", 4, 2, 2)
	})
	run(t, k)
	checkTimes(t, got,
		[]float64{0, 0, 5, 5, 6, 6},
		[]float64{1, 1, 6, 6, 7, 7})
	if len(blocked) != 2 || blocked[0] != 6 || blocked[1] != 7 || st.Stats.Blocked.Count() != 2 {
		t.Errorf("blocked %v (count %d), want [6 7]", blocked, st.Stats.Blocked.Count())
	}
}

// TestStationUtilizationWithVaryingServers works out ∫busy / ∫servers by
// hand. Service takes 2 s.
//
//	servers: 1 on [0, 1), 3 on [1, 4), 0 on [4, 6), 2 on [6, 8]
//	         ∫ = 1 + 9 + 0 + 4 = 14 server-seconds
//	busy:    customer 0 on [0, 2), 1 and 2 on [1, 3), 3 (arrives at 5,
//	         in the outage) on [6, 8]: ∫ = 2 + 4 + 2 = 8
//
// Utilisation over [0, 8] is 8/14. Dividing the mean busy (1) by the
// servers at the end (2) would say 0.5.
func TestStationUtilizationWithVaryingServers(t *testing.T) {
	k := NewKernel(Config{})
	st := NewStation(k, "api", 1, 0, Fixed(2*time.Second))
	st.Arrive(0)
	k.AtFunc(sec(1), func() { st.SetServers(3); st.Arrive(1); st.Arrive(2) })
	k.AtFunc(sec(4), func() { st.SetServers(0) })
	k.AtFunc(sec(5), func() { st.Arrive(3) })
	k.AtFunc(sec(6), func() { st.SetServers(2) })
	if err := k.RunUntil(context.Background(), sec(8)); err != nil {
		t.Fatal(err)
	}
	m := st.Metrics()
	if want := 8.0 / 14; math.Abs(m.Utilization-want) > 1e-12 {
		t.Errorf("utilisation %.6f, want 8/14 = %.6f", m.Utilization, want)
	}
	if got := st.Stats.Servers.Mean(k.Now()); math.Abs(got-14.0/8) > 1e-12 {
		t.Errorf("mean servers %v, want 14/8", got)
	}

	// Measured from the outage's start: at 5 s no server time has been
	// provided at all, and the utilisation is 0, not NaN; by 8 s it is
	// 2 busy-seconds of 4 server-seconds.
	k = NewKernel(Config{})
	st = NewStation(k, "api", 1, 0, Fixed(2*time.Second))
	st.Arrive(0)
	k.AtFunc(sec(1), func() { st.SetServers(3); st.Arrive(1); st.Arrive(2) })
	k.AtFunc(sec(4), func() { st.SetServers(0); st.ResetStats() })
	k.AtFunc(sec(5), func() {
		st.Arrive(3)
		if u := st.Metrics().Utilization; u != 0 {
			t.Errorf("utilisation %v with no server time, want 0", u)
		}
	})
	k.AtFunc(sec(6), func() { st.SetServers(2) })
	if err := k.RunUntil(context.Background(), sec(8)); err != nil {
		t.Fatal(err)
	}
	if u := st.Metrics().Utilization; math.Abs(u-0.5) > 1e-12 {
		t.Errorf("utilisation since the outage %v, want 2/4", u)
	}
}

func TestStationSetCapacity(t *testing.T) {
	k := NewKernel(Config{})
	st := NewStation(k, "api", 1, 2, Fixed(10*time.Second))
	admit := func(when string, id int64, want bool) {
		t.Helper()
		if got := st.Arrive(id); got != want {
			t.Errorf("%s: Arrive(%d) = %v, want %v", when, id, got, want)
		}
	}
	admit("K = 2", 0, true)
	admit("K = 2", 1, true)
	admit("K = 2, full", 2, false)

	st.SetCapacity(4)
	admit("raised to 4", 3, true)
	admit("raised to 4", 4, true)
	admit("raised to 4, full", 5, false)

	// Lowered below the four present: nobody leaves, arrivals are turned
	// away until the station has drained below 1.
	st.SetCapacity(1)
	if st.Len() != 4 || st.Capacity() != 1 {
		t.Fatalf("after lowering: Len %d, Capacity %d; want 4, 1", st.Len(), st.Capacity())
	}
	admit("lowered to 1", 6, false)
	k.AtFunc(sec(35), func() { admit("three of four served", 7, false) })
	k.AtFunc(sec(45), func() { admit("drained", 8, true) })
	k.AtFunc(sec(46), func() {
		st.SetCapacity(0)
		for id := range int64(20) {
			admit("unlimited", 100+id, true)
		}
	})
	run(t, k)
	if st.Stats.Blocked.Count() != 4 || st.Stats.Completed.Count() != 25 {
		t.Errorf("blocked %d, completed %d; want 4, 25", st.Stats.Blocked.Count(), st.Stats.Completed.Count())
	}

	// A capacity below the servers is a state a timeline can pass through:
	// SetCapacity accepts it, NewStation does not.
	st = NewStation(NewKernel(Config{}), "api", 3, 0, Fixed(time.Second))
	st.SetCapacity(1)
	if !st.Arrive(0) || st.Arrive(1) {
		t.Error("with K = 1 below 3 servers, one customer must be admitted and the next blocked")
	}
}

func TestStationAndCPURejectNegativeCapacity(t *testing.T) {
	k := NewKernel(Config{})
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	st := NewStation(k, "api", 1, 0, Fixed(time.Second))
	mustPanic("SetServers(-1)", func() { st.SetServers(-1) })
	mustPanic("SetCapacity(-1)", func() { st.SetCapacity(-1) })
	mustPanic("NewStation with K < c", func() { NewStation(k, "api", 2, 1, Fixed(time.Second)) })
	mustPanic("NewStation with 0 servers", func() { NewStation(k, "api", 0, 0, Fixed(time.Second)) })

	cpu := NewCPU(k, "node", 1, 1)
	mustPanic("CPU.SetCapacity(-1, 1)", func() { cpu.SetCapacity(-1, 1) })
	mustPanic("CPU.SetCapacity(NaN, 1)", func() { cpu.SetCapacity(math.NaN(), 1) })
	mustPanic("CPU.SetCapacity(1, 0)", func() { cpu.SetCapacity(1, 0) })
	mustPanic("CPU.SetCapacity(0, 0)", func() { cpu.SetCapacity(0, 0) })
	mustPanic("NewCPU with 0 cores", func() { NewCPU(k, "node", 0, 1) })
	cpu.SetCapacity(0, 1) // an outage is allowed
	if cpu.Cores() != 0 {
		t.Errorf("Cores() = %v after SetCapacity(0, 1)", cpu.Cores())
	}
}

// TestCPUOutagePausesProgress: 1 s of work from 0, no cores from 0.5 s to
// 2.5 s. Half the work is done before the outage and half after: it ends at
// 3 s.
//
// Utilisation over [0, 4]: one core busy on [0, 0.5) and [2.5, 3), so
// ∫busy = 1; cores 1 on [0, 0.5) and [2.5, 4], so ∫cores = 2: 0.5. At 2 s,
// in the outage, it is 0.5/0.5 = 1.
func TestCPUOutagePausesProgress(t *testing.T) {
	k := NewKernel(Config{})
	cpu := NewCPU(k, "node", 1, 1)
	var end time.Duration
	cpu.OnDone = func(int64, time.Duration) { end = k.Now() }
	cpu.Submit(1, 1)
	k.AtFunc(sec(0.5), func() { cpu.SetCapacity(0, 1) })
	k.AtFunc(sec(2), func() {
		// Only the restore at 2.5 s is pending: no completion event in an
		// outage.
		if p := k.Pending(); p != 1 {
			t.Errorf("%d events pending in the outage, want 1 (the restore)", p)
		}
		if cpu.Len() != 1 {
			t.Errorf("%d jobs in the outage, want 1", cpu.Len())
		}
		if u := cpu.Utilization(); math.Abs(u-1) > 1e-12 {
			t.Errorf("utilisation at 2 s %v, want 0.5/0.5 = 1", u)
		}
	})
	k.AtFunc(sec(2.5), func() { cpu.SetCapacity(1, 1) })
	if err := k.RunUntil(context.Background(), sec(4)); err != nil {
		t.Fatal(err)
	}
	if d := end - sec(3); d < 0 || d > time.Nanosecond {
		t.Errorf("job ended at %v, want 3s", end)
	}
	if u := cpu.Utilization(); math.Abs(u-0.5) > 1e-12 {
		t.Errorf("utilisation over [0, 4] %v, want 1/2", u)
	}
	if got := cpu.Stats.Cores.Mean(k.Now()); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("mean cores %v, want 2/4", got)
	}

	// Measured only inside an outage, no core time was provided: 0.
	cpu.SetCapacity(0, 1)
	cpu.ResetStats()
	k.AtFunc(sec(5), func() {
		if u := cpu.Utilization(); u != 0 {
			t.Errorf("utilisation with no core time %v, want 0", u)
		}
	})
	if err := k.RunUntil(context.Background(), sec(6)); err != nil {
		t.Fatal(err)
	}
}

// TestCPUOutageKeepsArrivals: a job submitted during the outage waits with
// the one already there. Job 1 (1 s of work) has 0.5 left at the outage;
// job 2 (0.25) arrives at 1 s. From 2.5 s on one core each runs at 0.5:
// job 2 is done at 3 s, job 1 has 0.25 left and alone finishes at 3.25 s.
func TestCPUOutageKeepsArrivals(t *testing.T) {
	k := NewKernel(Config{})
	cpu := NewCPU(k, "node", 1, 1)
	ends := map[int64]time.Duration{}
	cpu.OnDone = func(id int64, _ time.Duration) { ends[id] = k.Now() }
	cpu.Submit(1, 1)
	k.AtFunc(sec(0.5), func() { cpu.SetCapacity(0, 1) })
	k.AtFunc(sec(1), func() { cpu.Submit(2, 0.25) })
	k.AtFunc(sec(2.5), func() { cpu.SetCapacity(1, 1) })
	run(t, k)
	for id, want := range map[int64]time.Duration{1: sec(3.25), 2: sec(3)} {
		if d := ends[id] - want; d < 0 || d > time.Nanosecond {
			t.Errorf("job %d ended at %v, want %v", id, ends[id], want)
		}
	}
}

// TestStationCapacityChangesDoNotAllocate: once the slots have grown to the
// most servers wanted, arrivals, departures and changes within that range
// allocate nothing.
func TestStationCapacityChangesDoNotAllocate(t *testing.T) {
	k := NewKernel(Config{})
	st := NewStation(k, "api", 2, 0, Fixed(time.Second))
	st.SetServers(8) // the high-water mark: slots grow once, here
	var id int64
	cycle := func() {
		for range 20 {
			st.Arrive(id)
			id++
		}
		st.SetServers(0)
		st.SetServers(3)
		st.SetCapacity(50)
		st.SetServers(8)
		_ = k.RunUntil(context.Background(), k.Now()+10*time.Second)
	}
	for range 10 {
		cycle() // warm up the ring, the event table and the histogram
	}
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("a cycle of arrivals, departures and capacity changes allocated %.1f times", n)
	}
}
