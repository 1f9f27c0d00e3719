package launch

import (
	"io"
	"strings"
	"testing"
)

// The desktop command's flags: a game-day script's start state is read,
// and a mistake in it is refused before any window opens, with the
// reason.
func TestParseArgs(t *testing.T) {
	s, err := ParseArgs([]string{"--scenario", "checkout", "--variant", "incident", "--compare", "remediated", "--tab", "compare"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.Scenario != "checkout" || s.Variant != "incident" || s.Compare != "remediated" || s.Tab != "compare" {
		t.Errorf("parsed %+v", s)
	}
	if s, err := ParseArgs([]string{"--scenario", "mm1", "--play", "--speed", "fastest"}, io.Discard); err != nil || s.Speed != "As fast as possible" || !s.Play {
		t.Errorf("--speed fastest: %+v, %v", s, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "nope"}, `no built-in scenario is named "nope"`},
		{[]string{"--scenario", "mm1", "--variant", "zz"}, `unknown variant "zz"`},
		{[]string{"--scenario", "checkout", "--compare", "zz"}, `unknown variant "zz"`},
		{[]string{"--play"}, "need --scenario"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--bogus"}, "not defined"},
	} {
		if _, err := ParseArgs(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}
