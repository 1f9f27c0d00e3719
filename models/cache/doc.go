// Package cache models a read-through cache in front of a database: a TTL
// per entry, fixed or drawn from a range, optional caching of misses, and
// an optional local tier in each process before the shared one. It is the
// model behind the caching failures of incidents 3 and 5 of Stormglass's
// INCIDENTS.md: an avalanche when many keys expire together, and
// penetration when lookups of ids that do not exist all reach the
// database.
//
// # The model
//
// A lookup at time t of a key finds it in the local tier (if any), else in
// the shared tier, else misses: the caller loads it from the database and
// the cache stores it in both tiers until t + TTL. An entry's TTL is TTL
// exactly, or uniform in [TTL, TTL + TTLSpread] when randomised, so keys
// loaded together (a warm-up, a restart, a flash sale's first second)
// expire together or spread out. A key that does not exist is, by default,
// not stored, so every lookup of it reaches the database; with
// NegativeTTL > 0 the miss itself is stored that long.
//
// For a key requested as a Poisson stream of rate λ, with an entry kept
// exactly T from the miss that loaded it, the share of lookups that hit is
// λT / (1 + λT) (a renewal cycle is one miss and then, on average, λT
// hits); the tests check the model against it.
//
// Time comes from the caller (as golang.org/x/time/rate takes it) and
// randomness from an injected source, so a simulation is reproducible from
// its seed. A Cache is not safe for concurrent use.
package cache
