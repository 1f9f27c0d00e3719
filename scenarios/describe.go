package scenarios

import (
	"fmt"
	"strings"

	"stormglass/knob"
)

// Describe puts a timeline entry in words, for lists of what a plan will
// do (the desktop library, reports): kind is set, fault, deploy or note,
// and text says what happens as the event log will when the entry runs.
//
// The entry alone does not know everything the log does: a set cannot
// say what the knob was before, and a deploy or a restart cannot tell a
// station from a service or a database. There the words are the ones
// that hold for every model.
func (e Entry) Describe() (kind, text string) {
	// The same precedence as the world's apply.
	switch {
	case len(e.Set) > 0:
		return "set", describeSet(e.Set)
	case e.Fault != nil:
		return "fault", describeFault(*e.Fault)
	case e.Deploy != nil:
		return "deploy", describeDeploy(*e.Deploy)
	}
	return "note", e.Annotate
}

// describeSet reads as the log's set event without its "(was …)", which
// depends on what ran before.
func describeSet(as []Assignment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Knob + " = " + a.Value.String()
	}
	return strings.Join(parts, ", ")
}

func describeFault(f Fault) string {
	switch f.Kind {
	case FaultOutage:
		return fmt.Sprintf("outage of %s%s", f.Target, forText(f.For))
	case FaultSlowdown:
		return fmt.Sprintf("%s slowed down ×%g%s", f.Target, f.Factor, forText(f.For))
	case FaultSurge:
		return fmt.Sprintf("%s surges ×%g%s", f.Target, f.Factor, forText(f.For))
	case FaultLatency:
		return fmt.Sprintf("%v ± %v latency on every packet leaving %s%s",
			knob.DurationValue(f.Delay), knob.DurationValue(f.Jitter), f.Target, forText(f.For))
	case FaultKill:
		return fmt.Sprintf("%s node %d killed: its connections close; down%s", f.Target, f.Node, forText(f.For))
	case FaultRestart:
		// Only a database restart may give a time (the loader refuses one
		// for a service); without one, only the model knows whether the
		// target is a database, down for its restart time, or a service
		// whose pods all restart.
		if f.For > 0 {
			return fmt.Sprintf("database %s restarts: down for %v", f.Target, knob.DurationValue(f.For))
		}
		return fmt.Sprintf("%s restarts", f.Target)
	}
	return fmt.Sprintf("%s of %s%s", f.Kind, f.Target, forText(f.For))
}

func describeDeploy(d Deploy) string {
	if d.Tier != "" {
		on := d.Tier
		if d.Instances > 0 {
			on = fmt.Sprintf("%d × %s", d.Instances, d.Tier)
		}
		if t, err := BuiltinHardware().Get(d.Tier); err == nil {
			on += fmt.Sprintf(" (%d cores × %.2g speed each)", t.Cores, t.Speed)
		}
		return fmt.Sprintf("%s redeploying on %s: every connection drops; down for %v", d.Target, on, knob.DurationValue(d.Gap))
	}
	// A station is down during the gap; a service's pods serve on.
	if d.Gap == 0 {
		return fmt.Sprintf("%s redeployed on %d servers", d.Target, d.Servers)
	}
	return fmt.Sprintf("%s redeploying on %d servers after a %v gap", d.Target, d.Servers, knob.DurationValue(d.Gap))
}
