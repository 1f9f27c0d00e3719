package stats

import (
	"strings"
	"testing"
	"time"
)

const sec = time.Second

func TestTimeWeightedHand(t *testing.T) {
	w := NewTimeWeighted(0, 0)
	w.Set(2*sec, 3)  // 0 over [0,2)
	w.Set(5*sec, 1)  // 3 over [2,5)
	w.Add(6*sec, 3)  // 1 over [5,6), then 4
	w.Set(6*sec, 4)  // same instant, same value
	w.Set(10*sec, 2) // 4 over [6,10)
	// Area = 0·2 + 3·3 + 1·1 + 4·4 = 26 over 10 s.
	if got := w.Area(10 * sec); got != 26 {
		t.Errorf("Area(10s) = %v, want 26", got)
	}
	if got := w.Mean(10 * sec); got != 2.6 {
		t.Errorf("Mean(10s) = %v, want 2.6", got)
	}
	// Holding 2 for another 2 s: (26 + 4) / 12.
	if got := w.Mean(12 * sec); got != 2.5 {
		t.Errorf("Mean(12s) = %v, want 2.5", got)
	}
	if w.Min() != 0 || w.Max() != 4 || w.Value() != 2 {
		t.Errorf("Min, Max, Value = %v, %v, %v, want 0, 4, 2", w.Min(), w.Max(), w.Value())
	}
	// Asking does not change the state.
	if got := w.Mean(10 * sec); got != 2.6 {
		t.Errorf("Mean(10s) again = %v, want 2.6", got)
	}
}

func TestTimeWeightedReset(t *testing.T) {
	w := NewTimeWeighted(1*sec, 5)
	w.Set(3*sec, 9) // 5 over [1,3)
	w.Set(4*sec, 4) // 9 over [3,4)
	if got := w.Mean(5 * sec); got != (5*2+9*1+4*1)/4.0 {
		t.Errorf("Mean(5s) = %v, want %v", got, (5*2+9*1+4*1)/4.0)
	}
	w.Reset(6 * sec) // warm-up ends; value 4 carries over
	if w.Start() != 6*sec || w.Value() != 4 || w.Min() != 4 || w.Max() != 4 {
		t.Fatalf("after Reset: start=%v value=%v min=%v max=%v", w.Start(), w.Value(), w.Min(), w.Max())
	}
	if got := w.Mean(6 * sec); got != 4 {
		t.Errorf("Mean over empty window = %v, want current value 4", got)
	}
	if got := w.Area(6 * sec); got != 0 {
		t.Errorf("Area over empty window = %v, want 0", got)
	}
	w.Set(8*sec, 2)                                              // 4 over [6,8)
	w.Set(9*sec, 3.5)                                            // 2 over [8,9)
	if got, want := w.Area(11*sec), 4*2+2*1+3.5*2; got != want { // 3.5 over [9,11)
		t.Errorf("Area(11s) = %v, want %v", got, want)
	}
	if got, want := w.Mean(11*sec), (4*2+2*1+3.5*2)/5.0; got != want {
		t.Errorf("Mean(11s) = %v, want %v", got, want)
	}
	if w.Min() != 2 || w.Max() != 4 {
		t.Errorf("Min, Max after reset = %v, %v, want 2, 4 (9 was before the reset)", w.Min(), w.Max())
	}
}

func TestTimeWeightedZeroValue(t *testing.T) {
	var w TimeWeighted // 0 since time 0
	w.Add(sec, 2)
	w.Add(3*sec, -1)
	// 0 over [0,1), 2 over [1,3), 1 over [3,4)
	if got := w.Mean(4 * sec); got != 5.0/4 {
		t.Errorf("Mean(4s) = %v, want 1.25", got)
	}
	var fresh TimeWeighted
	if got := fresh.Mean(0); got != 0 {
		t.Errorf("zero value: Mean(0) = %v, want 0", got)
	}
}

func TestTimeWeightedSubSecond(t *testing.T) {
	w := NewTimeWeighted(0, 1)
	w.Set(250*time.Millisecond, 3)
	// 1·0.25 + 3·0.25 = 1 over 0.5 s.
	if got := w.Area(500 * time.Millisecond); got != 1 {
		t.Errorf("Area = %v, want 1", got)
	}
	if got := w.Mean(500 * time.Millisecond); got != 2 {
		t.Errorf("Mean = %v, want 2", got)
	}
}

func TestTimeWeightedBackwardsPanics(t *testing.T) {
	for name, f := range map[string]func(w *TimeWeighted){
		"Set":   func(w *TimeWeighted) { w.Set(time.Second, 1) },
		"Add":   func(w *TimeWeighted) { w.Add(time.Second, 1) },
		"Mean":  func(w *TimeWeighted) { w.Mean(time.Second) },
		"Area":  func(w *TimeWeighted) { w.Area(time.Second) },
		"Reset": func(w *TimeWeighted) { w.Reset(time.Second) },
	} {
		w := NewTimeWeighted(0, 0)
		w.Set(2*time.Second, 1)
		msg := panicMessage(func() { f(w) })
		if !strings.Contains(msg, "backwards") || !strings.Contains(msg, "1s") || !strings.Contains(msg, "2s") {
			t.Errorf("%s going back in time: panic %q, want a message naming both times", name, msg)
		}
	}
}

// panicMessage runs f and returns the panic value as a string, or "" if f
// did not panic.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			switch r := r.(type) {
			case string:
				msg = r
			case error:
				msg = r.Error()
			default:
				msg = "non-string panic"
			}
		}
	}()
	f()
	return ""
}
