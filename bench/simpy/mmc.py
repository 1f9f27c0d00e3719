"""M/M/c in SimPy 2.3.1 (Debian's python3-simpy, the classic API).

The same model as the Go engines of cmd/compare: Poisson arrivals at rate
lam, c servers with exponential service at rate mu, FIFO, exactly
`customers` arrivals, then the system drains. It prints one JSON line in the
format the driver reads.

Events are SimPy's dispatched event notices (each resumption of a process
generator). SimPy numbers every notice it posts (Simulation._sortpr counts
down by one per post), and this model never cancels one, so once the event
list has drained the number dispatched is -_sortpr, read without adding a
counter to the hot loop. A customer costs about five notices here (arrival
step of the source, start, grant, end of service, release) against two
events in the Go engines, which is why the driver compares engines on
customers per second, not events per second.
"""

import argparse
import json
import random
import resource
import sys
import time

import SimPy
from SimPy.Simulation import (Process, Resource, activate, hold, initialize,
                              now, release, request, simulate)
import SimPy.Globals


class Totals:
    """Accumulated waits; a plain object so customers update it cheaply."""

    def __init__(self):
        self.wait = 0.0
        self.served = 0


class Customer(Process):
    def run(self, server, rate, draw, totals):
        arrived = now()
        yield request, self, server
        totals.wait += now() - arrived
        totals.served += 1
        yield hold, self, draw(rate)
        yield release, self, server


class Source(Process):
    def run(self, n, server, lam, mu, draw, totals):
        for _ in range(n):
            c = Customer()
            activate(c, c.run(server, mu, draw, totals))
            yield hold, self, draw(lam)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lam", type=float, default=7.2)
    ap.add_argument("--mu", type=float, default=1.0)
    ap.add_argument("--c", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    totals = Totals()
    initialize()
    server = Resource(capacity=a.c, name="servers")
    src = Source()
    activate(src, src.run(a.customers, server, a.lam, a.mu, rng.expovariate, totals))

    t0 = time.perf_counter()
    simulate(until=float("inf"))
    wall = time.perf_counter() - t0

    events = -SimPy.Globals.sim._sortpr
    print(json.dumps({
        "model": "mmc",
        "engine": "simpy",
        "events": events,
        "work": totals.served,
        "wall_s": wall,
        "wq": totals.wait / totals.served,
        # The parent measures peak RSS from rusage; this is for runs by hand.
        "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "version": "SimPy %s, Python %s%s" % (
            SimPy.__version__, sys.version.split()[0],
            "" if __debug__ else " -O"),
    }))


if __name__ == "__main__":
    main()
