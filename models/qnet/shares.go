package qnet

import "fmt"

// setShares replaces every route probability at once (entries of the Rest
// route are ignored); on error r is unchanged. Changing several shares one
// at a time can pass through sums that are not 1, so a planner's change of
// two knobs together must be applied together.
func (r *router) setShares(ps []float64) error {
	if len(ps) != len(r.p) {
		return fmt.Errorf("%d shares for %d routes", len(ps), len(r.p))
	}
	next := make([]float64, len(ps))
	for i, p := range ps {
		if i == r.rest {
			continue
		}
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("route %d to %q: probability %v is not in [0, 1]", i, r.names[i], p)
		}
		next[i] = p
	}
	cum, lastPos, err := cumulate(next, r.rest)
	if err != nil {
		return err
	}
	r.p, r.cum, r.lastPos = next, cum, lastPos
	return nil
}

// SetRouteShares sets the probabilities of all routes at once, in route
// order (the Rest route's entry is ignored). The routes must still sum to
// 1 and a sink must stay reachable from every station; on error nothing
// changes.
func (s *Station) SetRouteShares(ps []float64) error {
	r := s.route
	if err := r.setShares(ps); err != nil {
		return fmt.Errorf("qnet: station %q: %w", s.name, err)
	}
	if trapped := s.net.trapped(s, &r); len(trapped) > 0 {
		return fmt.Errorf("qnet: station %q: these shares leave station %q with no way to a sink",
			s.name, s.net.stations[trapped[0]].name)
	}
	s.route = r
	return nil
}

// SetRouteShares sets the probabilities of all the source's routes at
// once, in route order (the Rest route's entry is ignored); on error
// nothing changes.
func (s *Source) SetRouteShares(ps []float64) error {
	r := s.route
	if err := r.setShares(ps); err != nil {
		return fmt.Errorf("qnet: source %q: %w", s.name, err)
	}
	s.route = r
	return nil
}
