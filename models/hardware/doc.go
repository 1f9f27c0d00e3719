// Package hardware is a catalogue of the hardware tiers a service can be
// deployed on, and the CPU capacity each one gives it.
//
// # The model
//
// A tier is a number of cores and a per-core speed. Speed is the work one
// core does per second relative to the reference core, whose speed is 1.0:
// a job needing 1 s of work on the reference core takes 2 s on a core of
// speed 0.5. A tier's capacity is cores × speed, in reference cores: the
// reference-core-seconds of work it completes per second when every core
// is busy. That is the CPU capacity of a service deployed on the tier (the
// cores and speed of a sim.CPU). Memory and price are carried for planning
// (what fits, what it costs) but do not enter the capacity.
//
// A service stays on its tier for the whole of a run unless something
// moves it. Moving a service to another tier is a redeploy, and a redeploy
// has a gap in which the old instances are gone and the new ones not yet
// serving; the scenario timeline models that (a deploy, then a capacity
// change), not this package, which only says what each tier provides.
//
// Why tiers are worth modelling: the third root cause of the 2025
// reactive-backend outage was deploy tooling that let a service land on
// the free tier, where its CPU saturated yet the system stayed partly
// responsive. A catalogue makes the tier an explicit, named input to a
// scenario, so such a landing can be replayed and a remedy compared
// against it.
//
// # The API
//
// A Tier is one tier: Name, Cores, Speed, MemoryGiB, PricePerHour and a
// Description. Capacity returns cores × speed. Validate checks a tier and
// returns every broken rule, each a *TierError naming the field, all
// wrapping ErrInvalidTier:
//
//   - the name is lower-case letters, digits and dashes, and not empty;
//   - cores ≥ 1;
//   - 0 < speed ≤ MaxSpeed (100);
//   - memory > 0 and finite;
//   - price ≥ 0 and finite (US dollars per hour).
//
// NewCatalogue validates a list of tiers, refuses duplicate names and
// keeps the declaration order. Lookup finds a tier by name; Get does the
// same but returns an error wrapping ErrUnknownTier that lists the known
// names. Names and Tiers return the names and tiers in declaration order,
// as copies the caller may keep.
//
// The models know no file format: the built-in catalogue and the loader
// for catalogue files are in package scenarios (BuiltinHardware,
// LoadHardware).
package hardware
