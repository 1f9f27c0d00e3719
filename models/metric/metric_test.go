package metric

import (
	"testing"
	"time"
)

func TestMeterRatesArePerSecondAndGaugesAsSet(t *testing.T) {
	m := NewMeter(2*time.Second, []Info{{Name: "hits", Unit: UnitPerSecond}, {Name: "open"}})
	m.Add(0, 6)
	m.Set(1, 40)
	m.Sample()
	m.Add(0, 1)
	m.Sample()
	got := m.Series()
	if got[0][0] != 3 || got[0][1] != 0.5 {
		t.Errorf("rate series %v, want [3 0.5]", got[0])
	}
	if got[1][0] != 40 || got[1][1] != 40 {
		t.Errorf("gauge series %v, want [40 40]", got[1])
	}
	if m.Total(0) != 7 {
		t.Errorf("total %v, want 7", m.Total(0))
	}
	got[0][0] = 99
	if m.Column(0)[0] != 3 {
		t.Error("Series must return a copy")
	}
}

func TestWhenMeasuresStretches(t *testing.T) {
	xs := []float64{1, 0, 0, 1, 0, 0, 0, 1}
	st := When(xs, 0.5, func(x float64) bool { return x == 0 })
	if st.Total != 2.5 || st.Longest != 1.5 || st.First != 0.5 || st.Last != 3.5 {
		t.Errorf("got %+v, want total 2.5, longest 1.5, first 0.5, last 3.5", st)
	}
	if st := When(xs, 1, func(x float64) bool { return x > 5 }); st.First != -1 || st.Total != 0 || st.Last != 0 {
		t.Errorf("never: got %+v", st)
	}
}

func TestMeanMedianMaxWindows(t *testing.T) {
	xs := []float64{4, 1, 3, 2}
	if Mean(xs) != 2.5 || Median(xs) != 2.5 || Max(xs) != 4 {
		t.Errorf("mean %v median %v max %v", Mean(xs), Median(xs), Max(xs))
	}
	if Median([]float64{5, 1, 3}) != 3 || Mean(nil) != 0 || Median(nil) != 0 {
		t.Error("odd median or empty input wrong")
	}
	if w := Windows([]float64{1, 3, 5, 7, 9}, 2); len(w) != 2 || w[0] != 2 || w[1] != 6 {
		t.Errorf("windows %v, want [2 6]", w)
	}
}
