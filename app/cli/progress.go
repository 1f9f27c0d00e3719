package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressBar draws "label [=====>    ] 5/10  3.2s" on one terminal line,
// redrawn in place. It draws nothing when the output is not a terminal (a
// log file or a pipe gets no control characters) or when quiet, and nothing
// for jobs that finish within a second, which need no bar.
type progressBar struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int
	start   time.Time
	enabled bool
	drawn   bool
}

func newProgressBar(w io.Writer, label string, total int, quiet bool) *progressBar {
	return &progressBar{w: w, label: label, total: total, start: time.Now(), enabled: !quiet && isTerminal(w)}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// set records that done of total steps are complete. Safe for concurrent use.
func (b *progressBar) set(done int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled || (!b.drawn && time.Since(b.start) < time.Second && done < b.total) {
		return
	}
	b.drawn = true
	fmt.Fprintf(b.w, "\r%s", renderBar(b.label, done, b.total, time.Since(b.start)))
}

// setTotal changes the number of steps, for a job that learns it as it
// goes.
func (b *progressBar) setTotal(total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = total
}

// done ends the bar's line, if one was drawn.
func (b *progressBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

const barWidth = 30

func renderBar(label string, done, total int, elapsed time.Duration) string {
	frac := 0.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	fill := int(frac * barWidth)
	bar := strings.Repeat("=", fill)
	if fill < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-fill-1)
	}
	return fmt.Sprintf("%s [%s] %d/%d %5.1fs", label, bar, done, total, elapsed.Seconds())
}
