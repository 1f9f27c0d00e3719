package scenarios

import (
	"errors"
	"fmt"
	"strings"
)

// Pos is a place in a scenario file, 1-based.
type Pos struct{ Line, Column int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// FieldError is one problem in a scenario file: where it is, which field,
// and what was expected.
type FieldError struct {
	File  string
	Pos   Pos
	Field string // a path such as components[0].stations[1].servers; empty for the document
	Msg   string
	Err   error // the underlying cause, if any, for errors.Is
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Pos.Line > 0 && e.Pos.Column > 0:
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Column)
	case e.Pos.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Pos.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// LoadError is every problem found in one file, in file order. Loading
// reports them together so a planner fixes a file in one pass, not one
// error per run.
type LoadError struct {
	File   string
	Errors []*FieldError
}

// maxReported caps the errors printed: past this, the rest are counted.
const maxReported = 50

func (e *LoadError) Error() string {
	var b strings.Builder
	for i, fe := range e.Errors {
		if i == maxReported {
			fmt.Fprintf(&b, "\n... and %d more errors", len(e.Errors)-maxReported)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap exposes each FieldError to errors.Is and errors.As.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}

// ErrInvalid is wrapped by every error about a scenario's content, so
// callers can tell bad input (exit code 2) from a failed run.
var ErrInvalid = errors.New("invalid scenario")

// Is lets errors.Is(err, ErrInvalid) hold for any LoadError.
func (e *LoadError) Is(target error) bool { return target == ErrInvalid }
