package gc

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"stormglass/sim"
)

// process is a process with a settable live heap and goroutine count.
type process struct {
	live       float64
	goroutines int
}

func (p *process) LiveHeap() float64 { return p.live }
func (p *process) Goroutines() int   { return p.goroutines }

func config() Config {
	return Config{GOGC: 100, MinHeap: 4 * MiB, GOMAXPROCS: 8, BackgroundShare: 0.25, MarkRate: 1 * GiB,
		PauseBase: 50 * time.Microsecond, PausePerGoroutine: 5 * time.Nanosecond, PausePerGiB: time.Millisecond, AssistCap: 0.5}
}

func newCollector(t *testing.T, cfg Config, p *process) (*sim.Kernel, *Collector) {
	t.Helper()
	k := sim.NewKernel(sim.Config{})
	c, err := New(k, cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	return k, c
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := config()
	cfg.GOMAXPROCS, cfg.BackgroundShare, cfg.MarkRate, cfg.AssistCap = 0, 0, 0, 2
	err := cfg.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err %v, want ErrConfig", err)
	}
	for _, want := range []string{"GOMAXPROCS 0", "background share 0", "mark rate 0", "assist cap 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}

// A cycle starts when the heap reaches marked × (1 + GOGC/100): at twice
// the live heap for GOGC=100, one and a half times for GOGC=50, never when
// the collector is off, and no lower than the minimum heap.
func TestACycleStartsAtTheGoal(t *testing.T) {
	for _, c := range []struct {
		gogc     int
		live     float64
		wantGoal float64
	}{
		{100, 100 * MiB, 200 * MiB},
		{50, 100 * MiB, 150 * MiB},
		{200, 100 * MiB, 300 * MiB},
		{100, 1 * MiB, 4 * MiB}, // the minimum heap
	} {
		cfg := config()
		cfg.GOGC = c.gogc
		_, col := newCollector(t, cfg, &process{live: c.live})
		if col.Goal() != c.wantGoal {
			t.Fatalf("GOGC=%d, live %v MiB: goal %v MiB, want %v", c.gogc, c.live/MiB, col.Goal()/MiB, c.wantGoal/MiB)
		}
		step := 64.0 * 1024
		for col.Heap()+step < c.wantGoal {
			col.Allocate(step)
			if col.Marking() {
				t.Fatalf("GOGC=%d: a cycle started at %v MiB, below the goal", c.gogc, col.Heap()/MiB)
			}
		}
		col.Allocate(step)
		if !col.Marking() || col.Stats().Cycles != 1 {
			t.Fatalf("GOGC=%d: no cycle at the goal (heap %v MiB)", c.gogc, col.Heap()/MiB)
		}
	}
	cfg := config()
	cfg.GOGC = -1
	_, off := newCollector(t, cfg, &process{live: 100 * MiB})
	off.Allocate(100 * GiB)
	if off.Marking() || off.Stats().Cycles != 0 {
		t.Fatal("a collector turned off ran a cycle")
	}
}

// A cycle stops the world twice, each pause growing with goroutines and
// heap; marking takes the live heap over the background workers' rate;
// the process's timers wait out each pause.
func TestPausesAndMarkTime(t *testing.T) {
	p := &process{live: 1 * GiB, goroutines: 20_000}
	k, col := newCollector(t, config(), p)
	var pauses []Pause
	col.OnPause(func(ps Pause) { pauses = append(pauses, ps) })
	col.Allocate(1 * GiB) // heap 2 GiB: the goal
	if !col.Marking() {
		t.Fatal("no cycle at the goal")
	}
	want := 50*time.Microsecond + 20_000*5*time.Nanosecond + 2*time.Millisecond // heap 2 GiB
	if len(pauses) != 1 || pauses[0].Length != want || pauses[0].Start != 0 {
		t.Fatalf("first pause %+v, want one of %v at 0", pauses, want)
	}
	if until, paused := col.PausedUntil(); !paused || until != want {
		t.Fatalf("paused until %v (%v), want %v", until, paused, want)
	}
	mark := col.MarkDuration(1 * GiB) // 1 GiB / (1 GiB/s × 0.25 × 8) = 0.5 s
	if mark != 500*time.Millisecond {
		t.Fatalf("mark duration %v, want 500ms", mark)
	}
	if err := k.RunUntil(t.Context(), time.Second); err != nil {
		t.Fatal(err)
	}
	if len(pauses) != 2 || pauses[1].Start != want+mark || pauses[1].Length != want {
		t.Fatalf("pauses %+v; want the second at %v, of %v", pauses, want+mark, want)
	}
	s := col.Stats()
	if col.Marking() || s.Cycles != 1 || s.Pauses != 2 || s.PauseTotal != 2*want || s.MarkTime != mark {
		t.Fatalf("after the cycle: marking %v, stats %+v", col.Marking(), s)
	}
	if math.Abs(s.BackgroundCPU-0.5*0.25*8) > 1e-9 {
		t.Fatalf("background mark CPU %v s, want 1 s (0.5 s on 2 of 8 Ps)", s.BackgroundCPU)
	}
	// The live heap and nothing allocated meanwhile: the next goal is 2 GiB.
	if col.Goal() != 2*GiB || col.Heap() != 1*GiB {
		t.Fatalf("after the cycle: heap %v GiB, goal %v GiB; want 1 and 2", col.Heap()/GiB, col.Goal()/GiB)
	}
}

// While marking, each allocated byte costs marking work in proportion to
// the live heap over the growth the goal allows (100/GOGC when the live
// heap is steady): GOGC=50 costs twice GOGC=100 per byte. Bytes allocated
// meanwhile survive the cycle and raise the next goal.
func TestMarkAssistFollowsTheAssistRatio(t *testing.T) {
	for _, gogc := range []int{100, 50} {
		cfg := config()
		cfg.GOGC = gogc
		p := &process{live: 1 * GiB}
		k, col := newCollector(t, cfg, p)
		col.Allocate(col.Goal() - col.Heap()) // reach the goal: marking starts
		if !col.Marking() {
			t.Fatal("no cycle")
		}
		ratio := 100 / float64(gogc)
		if got, want := col.Allocate(256*MiB), 0.25*ratio; math.Abs(got-want) > 1e-12 {
			t.Fatalf("GOGC=%d: assist for 256 MiB %v CPU s, want %v (ratio %v at 1 GiB/s)", gogc, got, want, ratio)
		}
		// 200 MiB/s on 8 Ps: 0.2 GiB/s × ratio / 1 GiB/s / 8, capped at 0.5.
		if got, want := col.AssistShare(200*MiB), min(0.5, 200.0/1024*ratio/8); math.Abs(got-want) > 1e-12 {
			t.Fatalf("GOGC=%d: assist share %v, want %v", gogc, got, want)
		}
		if got := col.AssistShare(100 * GiB); got != 0.5 {
			t.Fatalf("GOGC=%d: assist share at a huge rate %v, want the cap 0.5", gogc, got)
		}
		if err := k.RunUntil(t.Context(), 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if want := (1*GiB + 256*MiB) * (1 + float64(gogc)/100); col.Goal() != want {
			t.Fatalf("GOGC=%d: next goal %v MiB, want %v (live plus what was allocated while marking)", gogc, col.Goal()/MiB, want/MiB)
		}
		if col.AssistShare(200*MiB) != 0 {
			t.Fatal("assist outside a cycle")
		}
	}
}

// A steady allocation rate gives cycles at the rate the pacer implies.
// Marking is shared by the background workers (2 GiB/s here) and the
// assists, which do the mark work left per byte of runway left, so a mark
// ends sooner the faster the process allocates. With W the work left, y
// the runway left (R at the start, a the allocation rate, S the
// background rate), dW/dy = S/a + W/y, whose solution reaches W = 0 at
// y* = R·exp(−a·L/(S·R)): the mark takes (R − y*)/a and the bytes
// allocated meanwhile, R − y*, survive it. The period is the mark time
// plus the time to grow GOGC % of what was marked; a fixed point gives
// the steady state.
//
// (Before the calibration for incident 2, assists were charged on top of
// a mark of fixed length, which capped them far below the 18.7 % measured
// on a WebSocket service; the expected period changed with that.)
func TestCyclesPerSecondAtASteadyRate(t *testing.T) {
	for _, gogc := range []int{100, 50} {
		cfg := config()
		cfg.GOGC = gogc
		p := &process{live: 512 * MiB, goroutines: 1000}
		k, col := newCollector(t, cfg, p)
		const rate = 1 * GiB // bytes per second, in 1 ms slices
		var tick func()
		tick = func() {
			col.Allocate(rate / 1000)
			k.AfterFunc(time.Millisecond, tick)
		}
		k.AtFunc(0, tick)
		if err := k.RunUntil(t.Context(), 60*time.Second); err != nil {
			t.Fatal(err)
		}
		const live, bg = 512.0 * MiB, 2.0 * GiB
		g := float64(gogc) / 100
		marked, black := live, 0.0
		for range 100 {
			runway := marked*(1+g) - live
			black = runway * (1 - math.Exp(-rate*live/(bg*runway)))
			marked = live + black
		}
		period := black/rate + marked*g/rate
		want := 60 / period
		t.Logf("GOGC=%d: %d cycles, want about %.1f", gogc, col.Stats().Cycles, want)
		if got := float64(col.Stats().Cycles); math.Abs(got-want) > 0.05*want+1 {
			t.Fatalf("GOGC=%d: %v cycles in 60 s, want about %.1f (period %.3f s)", gogc, got, want, period)
		}
	}
}

// A background job's burst (log rotation at night) allocates gigabytes in
// seconds: cycles come one after another while it runs, none before or
// long after, and the pauses grow with the heap it brings.
func TestANightlyBurst(t *testing.T) {
	cfg := config()
	cfg.PausePerGiB = 6 * time.Millisecond
	cfg.Bursts = []Burst{{At: 10 * time.Second, Over: 10 * time.Second, Bytes: 16 * GiB, Live: 2 * GiB}}
	p := &process{live: 1 * GiB, goroutines: 20_000}
	k, col := newCollector(t, cfg, p)
	calm := col.PauseLength() // 1 GiB of heap
	var pauses []Pause
	col.OnPause(func(ps Pause) { pauses = append(pauses, ps) })
	if err := k.RunUntil(t.Context(), 60*time.Second); err != nil {
		t.Fatal(err)
	}
	var during int
	var longest time.Duration
	for _, ps := range pauses {
		if ps.Start < 10*time.Second || ps.Start > 25*time.Second {
			t.Fatalf("a pause at %v, outside the burst", ps.Start)
		}
		if ps.Start < 20*time.Second {
			during++
		}
		longest = max(longest, ps.Length)
	}
	// 16 GiB over 10 s on a 3 GiB live heap: a cycle as the job starts,
	// and more as its allocation (surviving each mark, allocated black)
	// reaches each new goal.
	if cycles := col.Stats().Cycles; cycles < 2 || during < 4 {
		t.Fatalf("%d cycles, %d pauses during the burst; want cycles one after another", cycles, during)
	}
	if longest < calm+12*time.Millisecond {
		t.Fatalf("longest pause %v, %v before the burst; want it longer by the heap the burst brings (6 ms per GiB)", longest, calm)
	}
	// Nothing allocates after the job: its garbage stays until a cycle
	// would come, and none does.
	if col.Heap() <= 3*GiB || col.Marking() {
		t.Fatalf("after the burst: heap %v GiB, marking %v", col.Heap()/GiB, col.Marking())
	}
}

// The calibration: under Default, the two workloads of incident 2's
// measurements pause and assist as measured (85 µs and 3.2 % for the
// short-lived HTTP API, 192 µs and 18.7 % with 10,000 WebSocket
// connections), within 2 % for the pause and 5 % (relative) for the
// assist share.
func TestCalibrationToTheIncidentMeasurements(t *testing.T) {
	for _, c := range []struct {
		w      Workload
		pause  time.Duration
		assist float64
	}{
		{HTTPAPI(), 85 * time.Microsecond, 0.032},
		{WebSocket10k(), 192 * time.Microsecond, 0.187},
	} {
		m, err := Measure(Default(4), c.w, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d cycles, mean pause %v, assist %.2f %% of CPU, GC %.1f %%", c.w.Name, m.Cycles, m.MeanPause, 100*m.AssistShare, 100*m.GCShare)
		if d := math.Abs(float64(m.MeanPause-c.pause)) / float64(c.pause); d > 0.02 {
			t.Errorf("%s: mean pause %v, want %v ± 2 %%", c.w.Name, m.MeanPause, c.pause)
		}
		if d := math.Abs(m.AssistShare-c.assist) / c.assist; d > 0.05 {
			t.Errorf("%s: assist %.4f of CPU, want %.3f ± 5 %%", c.w.Name, m.AssistShare, c.assist)
		}
	}
}

// At night a job grows buffers to hundreds of MiB: with GOGC=100 the
// cycles it triggers pause longer than 50 ms, as the incident saw; with
// GOGC=50 and buffer pools every pause stays under 50 ms. GOGC=50 alone
// does not help: the pause is the wait for a buffer's zeroing to end, not
// a function of the heap.
func TestNightBurstPausesAndTheMitigation(t *testing.T) {
	proc := func() *process { // a gateway with 5,000 connections
		return &process{live: 5000*40*1024 + 20*MiB, goroutines: 2*5000 + 2000}
	}
	run := func(gogc int, b Burst) time.Duration {
		cfg := Default(4)
		cfg.GOGC = gogc
		cfg.Bursts = []Burst{b}
		k, col := newCollector(t, cfg, proc())
		var tick func() // the gateway's own allocation: 50 MiB/s
		tick = func() {
			col.Allocate(50 * MiB / 100)
			k.AfterFunc(10*time.Millisecond, tick)
		}
		k.AtFunc(0, tick)
		if err := k.RunUntil(t.Context(), 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		return col.Stats().PauseMax
	}
	night := NightBurst(3 * time.Minute)
	incident, gogc50, remedied := run(100, night), run(50, night), run(50, night.Pooled())
	t.Logf("longest pause: GOGC=100 %v, GOGC=50 %v, GOGC=50 with pools %v", incident, gogc50, remedied)
	if incident <= 50*time.Millisecond {
		t.Errorf("GOGC=100: longest pause %v, want over 50ms", incident)
	}
	if gogc50 <= 50*time.Millisecond {
		t.Errorf("GOGC=50 without pools: longest pause %v; the model says pools, not GOGC, shorten it", gogc50)
	}
	if remedied >= 50*time.Millisecond {
		t.Errorf("GOGC=50 with pools: longest pause %v, want under 50ms", remedied)
	}
}

// A stop-the-world requested while a burst zeroes a large allocation
// waits for it: the pause a chunk's step triggers is the chunk's zeroing
// time plus the usual work; without a chunk it is the usual work.
func TestAStopWaitsForALargeAllocation(t *testing.T) {
	cfg := Default(4)
	cfg.Bursts = []Burst{{At: time.Second, Over: 4 * time.Second, Bytes: 4 * GiB, Chunk: 1 * GiB}}
	p := &process{live: 64 * MiB, goroutines: 1000}
	k, col := newCollector(t, cfg, p)
	var pauses []Pause
	col.OnPause(func(ps Pause) { pauses = append(pauses, ps) })
	if err := k.RunUntil(t.Context(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	work := cfg.PauseBase + 1000*cfg.PausePerGoroutine
	zero := sim.DurationOf(1 * GiB / cfg.ZeroRate) // 250 ms
	if len(pauses) == 0 || pauses[0].Start != time.Second || pauses[0].Length != zero+work {
		t.Fatalf("first pause %+v, want one at 1s of %v (zeroing) + %v", pauses, zero, work)
	}
	if bad := (Config{GOMAXPROCS: 1, BackgroundShare: 1, MarkRate: 1, Bursts: []Burst{{Over: 1, Chunk: 1}}}).Validate(); bad == nil || !strings.Contains(bad.Error(), "zero rate") {
		t.Fatalf("a chunk without a zero rate: %v", bad)
	}
}

// SetGOGC moves the goal at once, from the heap the last cycle marked.
func TestSetGOGC(t *testing.T) {
	_, col := newCollector(t, config(), &process{live: 100 * MiB})
	col.SetGOGC(50)
	if col.Goal() != 150*MiB || col.GOGC() != 50 {
		t.Fatalf("goal %v MiB after SetGOGC(50), want 150", col.Goal()/MiB)
	}
	col.Allocate(60 * MiB) // heap 160 MiB: past the new goal
	if !col.Marking() {
		t.Fatal("no cycle past the lowered goal")
	}
}
