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

const MiB = 1 << 20

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

// A steady allocation rate gives cycles at the rate the pacer implies:
// allocation rate over the runway, GOGC % of the live heap.
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
		// Each cycle lets the heap grow GOGC % of what it marked, and
		// marking 512 MiB takes 0.25 s at 2 GiB/s, during which 0.25 GiB
		// more is allocated and survives: the period is the runway over
		// the rate plus the mark time.
		marked := 512*MiB + 0.25*rate
		period := marked*float64(gogc)/100/rate + 0.25
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
