// Package contention models many clients updating one database row under
// optimistic concurrency, each retrying with a realtime/backoff policy: the
// experiment of the AWS Architecture Blog's 2015 study of backoff and
// jitter, run on the sim kernel with the production backoff code.
//
// # The model
//
// N clients start together. Each reads the row's version, then writes
// conditionally on that version; the write succeeds only if no other write
// landed in between, and a client stops after its first success. Every
// message crosses a network whose one-way delay is |Normal(10 ms, 2 ms)|.
// After a failed write a client waits one network delay plus its backoff
// delay, then reads again. The study's backoff had base 5 ms and cap 2 s and
// its first retry slept 2·base, so the exponential policies here start at
// 10 ms, double, and cap at 2 s; decorrelated jitter starts from the 5 ms
// base, as the study's code did. "none" retries after the network delay
// alone.
//
// A run measures the work (write calls, the study's "calls") and the
// completion time (when the last client succeeded). With every client
// competing in every round, work grows with N²; backoff spreads the rounds
// out, and jitter spreads the clients within them.
//
// # What the study found, and what the tests hold it to
//
// At 100 clients full jitter needs less than half the calls of plain
// exponential backoff; equal jitter does a little more work than full
// jitter and finishes later; decorrelated jitter does more work than full
// jitter. Sweep runs 100 replications per point, as the study did, and
// reports each mean with its confidence interval.
package contention
