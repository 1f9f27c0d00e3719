package service

import (
	"fmt"
	"slices"
	"time"

	"stormglass/realtime/admission"
)

// The live controls a timeline or a trainer uses mid-run. Each names its
// target; an unknown name or a bad value is an error and changes nothing.

func (s *System) service(name string) (*svc, error) {
	i := slices.IndexFunc(s.svcs, func(v *svc) bool { return v.cfg.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: no service %q", ErrConfig, name)
	}
	return s.svcs[i], nil
}

// Databases lists the databases' names, in the Config's order.
func (s *System) Databases() []string {
	var out []string
	for _, d := range s.dbs {
		out = append(out, d.cfg.Name)
	}
	return out
}

// SetPods scales a service to n pods. New pods start with fresh pools
// (each opening its own connections: scaling pods multiplies database
// connections); pods taken out stop receiving requests and finish what
// they hold, keeping their pools open as a drained pod does until it is
// deleted.
func (s *System) SetPods(service string, n int) error {
	v, err := s.service(service)
	if err != nil {
		return err
	}
	if n < 0 || n > MaxPods {
		return fmt.Errorf("%w: service %q: pods %d, expected 0 to %d", ErrConfig, service, n, MaxPods)
	}
	for len(v.pods) < n {
		if err := s.addPod(v); err != nil {
			return err
		}
	}
	v.live = n
	if v.gate != nil && v.cfg.MaxInFlight > 0 {
		if err := v.gate.SetMaxInFlight(admission.Request, v.cfg.MaxInFlight*max(1, n)); err != nil {
			return fmt.Errorf("%w: service %q: %w", ErrConfig, service, err)
		}
	}
	for _, q := range s.queues {
		s.dispatch(q)
	}
	return nil
}

// RestartService restarts every pod of a service, as an operator does by
// hand: requests in progress fail, and each pod's pools drop their
// connections and open fresh ones (the only cure for a pool that does not
// reconnect).
func (s *System) RestartService(service string) error {
	v, err := s.service(service)
	if err != nil {
		return err
	}
	for _, p := range v.pods {
		p.gen++
		p.inFlight = 0
		clear(p.busy)
		for _, pool := range p.pools {
			pool.RestartProcess()
		}
	}
	// Requests of the old processes fail now, as their users see it.
	for _, q := range s.reqs {
		if q.live && q.pod.svc == v && !q.alive() {
			s.fail(q, CauseKilled)
		}
	}
	for _, q := range s.queues {
		s.dispatch(q)
	}
	return nil
}

// RestartDatabase restarts a database (a failover, an operator's
// restart); it is down for downtime.
func (s *System) RestartDatabase(name string, downtime time.Duration) error {
	i := slices.IndexFunc(s.dbs, func(d *database) bool { return d.cfg.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: no database %q", ErrConfig, name)
	}
	if downtime <= 0 {
		return fmt.Errorf("%w: database %q: downtime %v, expected above 0", ErrConfig, name, downtime)
	}
	s.dbs[i].inst.Restart(downtime)
	return nil
}

// SetRateLimit changes a service's edge token bucket to perSecond; 0
// removes the limit.
func (s *System) SetRateLimit(service string, perSecond float64) error {
	v, err := s.service(service)
	if err != nil {
		return err
	}
	if err := v.gate.SetRateAt(s.k.Epoch().Add(s.k.Now()), admission.Request, perSecond); err != nil {
		return fmt.Errorf("%w: service %q: %w", ErrConfig, service, err)
	}
	// Requests admitted while the gate was not asked hold no ticket;
	// they are simply not counted against a concurrency limit, which
	// SetRateLimit does not change.
	v.limited = perSecond > 0 || v.cfg.MaxInFlight > 0
	return nil
}

// SetLoadFactor scales an endpoint's external arrival rate (a surge: 2
// doubles it) from now on.
func (s *System) SetLoadFactor(service, endpoint string, factor float64) error {
	ep := s.endpointNamed(service, endpoint)
	if ep == nil {
		return fmt.Errorf("%w: no endpoint %s.%s", ErrConfig, service, endpoint)
	}
	if !(factor >= 0 && factor <= 1000) {
		return fmt.Errorf("%w: endpoint %s.%s: load factor %g, expected in [0, 1000]", ErrConfig, service, endpoint, factor)
	}
	ep.scale = factor
	if len(ep.cfg.Arrivals) > 0 && s.started {
		s.k.Cancel(ep.next)
		s.scheduleArrival(ep)
	}
	return nil
}

// SetLeak changes the share of an endpoint's requests that leak their
// connection.
func (s *System) SetLeak(service, endpoint string, share float64) error {
	ep := s.endpointNamed(service, endpoint)
	if ep == nil {
		return fmt.Errorf("%w: no endpoint %s.%s", ErrConfig, service, endpoint)
	}
	if !(share >= 0 && share <= 1) {
		return fmt.Errorf("%w: endpoint %s.%s: leak share %g, expected in [0, 1]", ErrConfig, service, endpoint, share)
	}
	ep.cfg.Leak = share
	return nil
}

// SetStepOn switches step i (from 0) of an endpoint on or off; requests
// reaching it from now on follow the switch.
func (s *System) SetStepOn(service, endpoint string, i int, on bool) error {
	ep := s.endpointNamed(service, endpoint)
	if ep == nil {
		return fmt.Errorf("%w: no endpoint %s.%s", ErrConfig, service, endpoint)
	}
	if i < 0 || i >= len(ep.steps) {
		return fmt.Errorf("%w: endpoint %s.%s: step %d, expected 0 to %d", ErrConfig, service, endpoint, i, len(ep.steps)-1)
	}
	ep.steps[i].Off = !on
	return nil
}

// RestartTime is a database's configured restart time (0 if unknown).
func (s *System) RestartTime(database string) time.Duration {
	for _, d := range s.dbs {
		if d.cfg.Name == database {
			return d.cfg.RestartTime
		}
	}
	return 0
}
