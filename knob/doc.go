// Package knob declares the tunable parameters of a scenario: knobs.
//
// # The model
//
// A knob is a named quantity a planner may change: an arrival rate, a number
// of servers, a queue limit, a timeout, a policy. It is declared once, with
// a kind, a unit, a default, a valid range and one line of help, and that
// one declaration serves every face of Stormglass: the scenario loader
// checks values against it, `stormglass run --set name=value` parses with
// it, the desktop app builds its knob panel from it and the report prints
// its table from it. Nothing else restates a knob's range or unit.
//
// Values are written with their units, as people say them: durations as
// Go durations (300s, 5m, 1h30m, 250ms), rates as a count per unit of time
// (5000/s, 30/min, 2/h), integers and numbers plainly (100000 or 100_000,
// 0.25). A duration or a rate without a unit is refused rather than
// guessed: "300" could be seconds or milliseconds, and a planner who meant
// one gets the other silently. Internally durations are held in seconds and
// rates per second, so a model reads one unit whatever the file says.
//
// # The API
//
// Knob is a declaration and Value a typed value; Parse reads text in a
// knob's kind, Knob.Check enforces its range, and Value.String writes a
// value back in the same syntax, so a value survives a round trip through
// a file, a command line and a report. Set holds a scenario's knobs in
// declaration order and resolves assignments such as "servers=8".
package knob
