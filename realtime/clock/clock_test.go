package clock

import (
	"testing"
	"time"
)

func TestRealAfterFuncStopAndReset(t *testing.T) {
	var c Clock = Real{}
	fired := make(chan struct{}, 2)
	tm := c.AfterFunc(time.Hour, func() { fired <- struct{}{} })
	if !tm.Stop() {
		t.Fatal("Stop on a pending timer must report true")
	}
	if tm.Stop() {
		t.Fatal("a second Stop must report false")
	}
	if tm.Reset(time.Millisecond) {
		t.Fatal("Reset of a stopped timer must report it was not pending")
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("a reset timer never fired")
	}
}

func TestSinceUsesTheClock(t *testing.T) {
	start := Real{}.Now()
	if d := Since(Real{}, start.Add(-time.Minute)); d < time.Minute {
		t.Fatalf("Since = %v, want at least a minute", d)
	}
}
