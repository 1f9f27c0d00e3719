package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"stormglass/knob"
	"stormglass/scenarios"
)

// WallClock is the wall clock a Player paces a replay by. Tests pass a
// fake one so that speeds can be checked without waiting.
type WallClock interface {
	Now() time.Time
	// NewTicker returns a channel that receives the time about every d,
	// dropping ticks the reader is too slow for, and a function that stops
	// it.
	NewTicker(d time.Duration) (tick <-chan time.Time, stop func())
}

// realClock is the wall clock of the machine.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// PlayerOptions configure a Player.
type PlayerOptions struct {
	// Speed is simulated seconds per wall second at start; 0 or +Inf
	// means as fast as possible. 1 is real time.
	Speed float64
	// FrameEvery is the wall time between frames while playing; 0 means
	// 66 ms (about 15 a second).
	FrameEvery time.Duration
	// OnFrame receives every frame, on the player's goroutine, in order.
	// It must return quickly (a GUI hands the frame to its UI goroutine)
	// and must not call the Player's methods, which wait for that
	// goroutine. Required.
	OnFrame func(Frame)
	// Clock is the wall clock; nil means the real one.
	Clock WallClock
}

// defaultFrameEvery gives about 15 frames a second: smooth enough for
// charts, cheap enough to copy the series each time.
const defaultFrameEvery = 66 * time.Millisecond

// minSpan is the least simulated time a chunk covers, so that a model
// slow enough to make the adaptive span collapse still moves.
const minSpan = time.Millisecond

// Frame is the replay's state at one moment, a copy the receiver owns.
type Frame struct {
	Now, Horizon time.Duration
	Seed         uint64
	Playing      bool
	// Over reports the replay at its horizon, or stopped on an error.
	Over bool
	// Err is the error that stopped the replay.
	Err error
	// Speed is as set: simulated seconds per wall second, 0 for as fast as
	// possible.
	Speed float64
	// Behind reports that the simulation cannot keep up with the set
	// speed and runs as fast as it can.
	Behind bool
	Series []scenarios.Series
	Events []scenarios.Event
	Values knob.Values
}

// ErrPlayerClosed is returned by a Player's methods after Close.
var ErrPlayerClosed = errors.New("the player is closed")

// Player replays a plan live: one Session, driven by a goroutine of its
// own. Its methods may be called from any goroutine; each is carried out
// on the player's goroutine in the order received, and one that publishes
// a frame returns after OnFrame has received it.
type Player struct {
	cmds   chan command
	done   chan struct{} // closed when the goroutine has ended
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	// pending counts commands on their way to the goroutine: it starts no
	// chunk while one is, so that a command never waits for a chunk to end.
	pending int
	// interrupt cancels the chunk in progress, if one is.
	interrupt context.CancelFunc
}

// command is work for the player's goroutine; its error is sent on reply,
// which has room for it so that the goroutine never blocks.
type command struct {
	do    func(ctx context.Context, l *loop) error
	reply chan error
}

// NewPlayer builds a session of the plan and starts the player's
// goroutine, paused at time 0; it returns once the first frame is out.
func NewPlayer(plan *scenarios.Plan, opt PlayerOptions) (*Player, error) {
	if plan == nil {
		return nil, errors.New("player: no plan")
	}
	if opt.OnFrame == nil {
		return nil, errors.New("player: OnFrame is required")
	}
	if opt.FrameEvery < 0 {
		return nil, fmt.Errorf("player: frame interval %v is negative", opt.FrameEvery)
	}
	speed, err := checkSpeed(opt.Speed)
	if err != nil {
		return nil, fmt.Errorf("player: %w", err)
	}
	s, err := NewSession(plan)
	if err != nil {
		return nil, fmt.Errorf("player: %w", err)
	}
	if opt.FrameEvery == 0 {
		opt.FrameEvery = defaultFrameEvery
	}
	if opt.Clock == nil {
		opt.Clock = realClock{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Player{cmds: make(chan command), done: make(chan struct{}), cancel: cancel}
	l := &loop{p: p, clock: opt.Clock, every: opt.FrameEvery, onFrame: opt.OnFrame, speed: speed}
	l.reset(s)
	go l.run(ctx)
	if err := p.call(func(_ context.Context, l *loop) error { l.publish(); return nil }); err != nil {
		p.Close()
		return nil, fmt.Errorf("player: %w", err)
	}
	return p, nil
}

// checkSpeed refuses a speed that means nothing and reads +Inf as 0, as
// fast as possible.
func checkSpeed(x float64) (float64, error) {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0, fmt.Errorf("speed %v: expected simulated seconds per wall second, 0 or more (0 for as fast as possible)", x)
	case math.IsInf(x, 1):
		return 0, nil
	}
	return x, nil
}

// Play starts or resumes the replay at the set speed. At the horizon it
// does nothing but publish a frame that says so.
func (p *Player) Play() error {
	return p.call(func(_ context.Context, l *loop) error {
		if !l.s.Over() && !l.playing {
			l.playing = true
			l.behind = false
			l.anchor()
			l.tick, l.stopTick = l.clock.NewTicker(l.every)
		}
		l.publish()
		return nil
	})
}

// Pause stops the replay where it is; simulated time does not move again
// until Play or Step.
func (p *Player) Pause() error {
	return p.call(func(_ context.Context, l *loop) error {
		l.pause()
		l.publish()
		return nil
	})
}

// Step pauses the replay if it is playing and advances it by exactly d of
// simulated time (less at the horizon), publishing frames on the way for
// a long step. It holds the player until done; Close cancels it.
func (p *Player) Step(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("player: step %v: expected a duration of 0 or more", d)
	}
	return p.call(func(ctx context.Context, l *loop) error { return l.step(ctx, d) })
}

// SetSpeed sets the speed in simulated seconds per wall second, from this
// moment; 0 or +Inf means as fast as possible.
func (p *Player) SetSpeed(x float64) error {
	speed, err := checkSpeed(x)
	if err != nil {
		return fmt.Errorf("player: %w", err)
	}
	return p.call(func(_ context.Context, l *loop) error {
		l.speed = speed
		l.behind = false
		l.anchor()
		l.publish()
		return nil
	})
}

// Set turns knobs at the current simulated time (see Session.Set). On an
// error nothing changes and no frame is published.
func (p *Player) Set(as []scenarios.Assignment) error {
	return p.call(func(_ context.Context, l *loop) error {
		if err := l.s.Set(as); err != nil {
			return err
		}
		l.publish()
		return nil
	})
}

// Restart replaces the replay with a new session of the same plan, paused
// at time 0: with the current seed when seed is nil, else with *seed.
// Knobs turned in the old session start again at the plan's values. On an
// error the old session goes on.
func (p *Player) Restart(seed *uint64) error {
	return p.call(func(_ context.Context, l *loop) error {
		plan := *l.s.Plan()
		if seed != nil {
			plan.Seed = *seed
		}
		s, err := NewSession(&plan)
		if err != nil {
			return fmt.Errorf("player: restart: %w", err)
		}
		l.pause()
		l.reset(s)
		l.publish()
		return nil
	})
}

// Result summarises the replay so far (see Session.Result).
func (p *Player) Result() (*Result, error) {
	var r *Result
	err := p.call(func(_ context.Context, l *loop) error {
		r = l.s.Result()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Close stops the player's goroutine, cancelling an advance in progress,
// and waits for it to end. Later calls of the Player's methods return
// ErrPlayerClosed; Close itself may be called again.
func (p *Player) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.cancel()
	}
	p.mu.Unlock()
	<-p.done
}

// call hands f to the player's goroutine and waits for its error. It
// cancels the chunk in progress first, so that the goroutine takes the
// command within a few thousand events rather than at the chunk's end.
func (p *Player) call(f func(ctx context.Context, l *loop) error) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrPlayerClosed
	}
	p.pending++
	if p.interrupt != nil {
		p.interrupt()
	}
	p.mu.Unlock()
	c := command{do: f, reply: make(chan error, 1)}
	select {
	case p.cmds <- c:
	case <-p.done:
		return ErrPlayerClosed
	}
	// A command taken is always answered, even when Close comes meanwhile.
	return <-c.reply
}

// received notes that a command reached the goroutine.
func (p *Player) received() {
	p.mu.Lock()
	p.pending--
	p.mu.Unlock()
}

// loop is the state the player's goroutine owns; nothing else touches it.
type loop struct {
	p       *Player
	s       *Session
	clock   WallClock
	every   time.Duration
	onFrame func(Frame)

	playing bool
	speed   float64 // 0 = as fast as possible
	behind  bool
	// While playing at a set speed, simulated time should be anchorSim
	// plus the wall time since anchorWall times the speed.
	anchorSim  time.Duration
	anchorWall time.Time
	tick       <-chan time.Time // while playing
	stopTick   func()

	// span is the simulated time the next chunk covers, adapted so that a
	// chunk takes about half a frame of wall time; rate is the measured
	// simulated seconds per wall second, 0 until measured.
	span time.Duration
	rate float64

	lastFrame   time.Time     // wall time of the last frame
	shownNow    time.Duration // simulated time in the last frame
	shownBehind bool          // Behind in the last frame
}

// outcome is what one turn of play came to.
type outcome int

const (
	advanced    outcome = iota // a chunk ran; go on
	caughtUp                   // at the time the speed asks for: wait for a tick
	interrupted                // a command is on its way: take it
	stopped                    // the player is closing
)

// errInterrupted is how advance says a command cut a chunk short.
var errInterrupted = errors.New("interrupted by a command")

// reset makes s the session, paused, with the chunk size measured afresh.
func (l *loop) reset(s *Session) {
	l.s = s
	l.span = max(min(s.Plan().Sample, s.Horizon()), minSpan)
	l.rate = 0
	l.behind = false
}

func (l *loop) run(ctx context.Context) {
	defer close(l.p.done)
	defer l.pause()
	for {
		if l.playing {
			switch l.play(ctx) {
			case advanced:
				continue
			case stopped:
				return
			}
		}
		var tick <-chan time.Time
		if l.playing {
			tick = l.tick
		}
		select {
		case c := <-l.p.cmds:
			l.p.received()
			c.reply <- c.do(ctx, l)
		case <-tick:
		case <-ctx.Done():
			return
		}
	}
}

// play runs one chunk of the replay, or reports why not.
func (l *loop) play(ctx context.Context) outcome {
	now := l.s.Now()
	end := min(now+l.span, l.s.Horizon())
	paced := l.speed > 0 && !l.behind
	var target time.Duration
	if paced {
		target = l.target()
		if target <= now {
			l.publishIfChanged()
			return caughtUp
		}
		end = min(end, target)
	}
	switch err := l.advance(ctx, end, true); {
	case errors.Is(err, errInterrupted):
		return interrupted
	case ctx.Err() != nil:
		return stopped
	case err != nil || l.s.Over():
		l.pause()
		l.publish()
		return advanced
	}
	if l.speed > 0 {
		// Judged on the measured rate, not on how far behind the target
		// the replay is: chunks that have yet to grow leave it behind too,
		// and with a fake clock no wall time passes at all.
		l.behind = l.rate > 0 && l.rate < l.speed
		if l.behind {
			// Drop the debt, so that the replay does not race ahead when
			// the model speeds up again.
			l.anchor()
		}
	}
	if paced && !l.behind && l.s.Now() >= target {
		// Chasing the target would spin on chunks ever smaller; the next
		// tick moves it a frame's worth on.
		l.publishIfChanged()
		return caughtUp
	}
	if l.clock.Now().Sub(l.lastFrame) >= l.every {
		l.publish()
	}
	return advanced
}

// target is where simulated time should be now at the set speed.
func (l *loop) target() time.Duration {
	ahead := float64(l.clock.Now().Sub(l.anchorWall)) * l.speed
	if ahead >= float64(l.s.Horizon()-l.anchorSim) {
		return l.s.Horizon()
	}
	return l.anchorSim + time.Duration(ahead)
}

// anchor starts the pacing afresh from here.
func (l *loop) anchor() {
	l.anchorSim, l.anchorWall = l.s.Now(), l.clock.Now()
}

// step advances exactly d in chunks, publishing frames on the way.
func (l *loop) step(ctx context.Context, d time.Duration) error {
	l.pause()
	if l.s.Over() {
		l.publish()
		return fmt.Errorf("player: step: %w", ErrSessionOver)
	}
	end := l.s.Horizon()
	if d < end-l.s.Now() {
		end = l.s.Now() + d
	}
	for l.s.Now() < end && !l.s.Over() {
		err := l.advance(ctx, min(l.s.Now()+l.span, end), false)
		if ctx.Err() != nil {
			return ErrPlayerClosed
		}
		if err != nil {
			l.publish()
			return err
		}
		if l.s.Now() < end && l.clock.Now().Sub(l.lastFrame) >= l.every {
			l.publish()
		}
	}
	l.publish()
	return nil
}

// advance runs the session to end as one chunk and measures it. An
// interruptible chunk is cut short by the next command; every chunk is
// cut short when ctx is cancelled, by Close.
func (l *loop) advance(ctx context.Context, end time.Duration, interruptible bool) error {
	chunk := ctx
	if interruptible {
		p := l.p
		p.mu.Lock()
		if p.pending > 0 {
			p.mu.Unlock()
			return errInterrupted
		}
		var cancel context.CancelFunc
		chunk, cancel = context.WithCancel(ctx)
		p.interrupt = cancel
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.interrupt = nil
			p.mu.Unlock()
			cancel()
		}()
	}
	from, start := l.s.Now(), l.clock.Now()
	err := l.s.AdvanceTo(chunk, end)
	l.measure(l.s.Now()-from, l.clock.Now().Sub(start))
	if err != nil && ctx.Err() == nil && chunk.Err() != nil {
		return errInterrupted
	}
	return err
}

// measure adapts the chunk span to the rate the model ran at, so that a
// chunk takes about half a frame of wall time. The rate is smoothed because a
// model's cost varies along the replay (an outage, a burst of load).
func (l *loop) measure(covered, wall time.Duration) {
	if covered <= 0 {
		return
	}
	if wall <= 0 {
		// Too quick to see on this clock: grow until it shows.
		if covered >= l.span {
			l.span = min(2*l.span, l.s.Horizon())
		}
		return
	}
	r := covered.Seconds() / wall.Seconds()
	if l.rate == 0 {
		l.rate = r
	} else {
		l.rate = (l.rate + r) / 2
	}
	// Half a frame each: a frame goes out after the first chunk that ends
	// a frame's time after the last, so chunks of a whole frame would
	// publish only every second one.
	want := l.rate * float64(l.every) / 2
	// Change by at most 4× a chunk: one odd measurement must not make
	// the next chunk take seconds.
	want = min(max(want, float64(l.span)/4), float64(l.span)*4, float64(l.s.Horizon()))
	l.span = max(time.Duration(want), minSpan)
}

// pause stops playing; the ticker goes with it.
func (l *loop) pause() {
	l.playing = false
	l.behind = false
	if l.stopTick != nil {
		l.stopTick()
		l.tick, l.stopTick = nil, nil
	}
}

func (l *loop) publishIfChanged() {
	if l.s.Now() != l.shownNow || l.behind != l.shownBehind {
		l.publish()
	}
}

// publish hands a frame of the current state to OnFrame.
func (l *loop) publish() {
	s := l.s
	f := Frame{
		Now:     s.Now(),
		Horizon: s.Horizon(),
		Seed:    s.Plan().Seed,
		Playing: l.playing,
		Over:    s.Over(),
		Err:     s.Err(),
		Speed:   l.speed,
		Behind:  l.playing && l.behind,
		Series:  s.Series(),
		Events:  s.Events(),
		Values:  s.Values(),
	}
	l.lastFrame, l.shownNow, l.shownBehind = l.clock.Now(), f.Now, f.Behind
	l.onFrame(f)
}
