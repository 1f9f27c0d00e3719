package sim

import (
	"time"

	"stormglass/realtime/clock"
)

// Clock returns the kernel's virtual clock as a realtime/clock.Clock, so that
// production code runs on simulated time unchanged: Now is Epoch plus the
// virtual time, and AfterFunc callbacks run as kernel events, on the
// simulation goroutine, in timestamp order and FIFO among equal timestamps.
func (k *Kernel) Clock() clock.Clock { return virtualClock{k} }

type virtualClock struct{ k *Kernel }

func (c virtualClock) Now() time.Time { return c.k.epoch.Add(c.k.now) }

func (c virtualClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := &timer{k: c.k, f: f}
	t.id = c.k.AfterFunc(d, t.f)
	return t
}

// timer is a clock.Timer backed by one kernel event at a time.
type timer struct {
	k  *Kernel
	f  func()
	id EventID
}

func (t *timer) Stop() bool { return t.k.Cancel(t.id) }

func (t *timer) Reset(d time.Duration) bool {
	was := t.k.Cancel(t.id)
	t.id = t.k.AfterFunc(d, t.f)
	return was
}
