package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"stormglass/app/runner"
)

// WriteSeriesCSV writes r's series as RFC 4180 CSV, one row per sample:
// time_s (the end of the sample's interval), clock (the time of day,
// HH:MM:SS), then one column per series headed "name (unit)", or "name"
// when it has no unit. A series shorter than the longest leaves its cells
// empty.
func WriteSeriesCSV(w io.Writer, r *runner.Result) error {
	if r == nil {
		return fmt.Errorf("export: WriteSeriesCSV: nil result")
	}
	cw := csv.NewWriter(w)
	header := []string{"time_s", "clock"}
	rows := 0
	for _, s := range r.Series {
		h := s.Name
		if s.Unit != "" {
			h += " (" + s.Unit + ")"
		}
		header = append(header, h)
		rows = max(rows, len(s.Values))
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("export: writing CSV: %w", err)
	}
	rec := make([]string, len(header))
	for i := 0; i < rows; i++ {
		t := float64(i+1) * r.SampleS
		rec[0] = strconv.FormatFloat(t, 'f', -1, 64)
		rec[1] = Clock(r.ClockS + t)
		for j, s := range r.Series {
			rec[2+j] = ""
			if i < len(s.Values) {
				rec[2+j] = strconv.FormatFloat(s.Values[i], 'g', -1, 64)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("export: writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: writing CSV: %w", err)
	}
	return nil
}
