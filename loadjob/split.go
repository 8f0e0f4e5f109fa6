package loadjob

import (
	"fmt"

	"github.com/scalebench/scalebench/load"
)

// Split is pod i's share (of n) of the load o: the closed loop's
// connections (whole runs' and steps') dealt out so they add up to o's,
// rates and the open loop's in-flight cap divided by n. Durations, timeout,
// mode and target are the same for every pod. A share that would be zero
// connections (fewer connections than pods) is an error: the generator
// would read zero as its default.
func Split(o load.Options, n, i int) (load.Options, error) {
	if n < 1 || i < 0 || i >= n {
		return o, fmt.Errorf("loadjob: pod %d of %d", i, n)
	}
	share := func(what string, v int) (int, error) {
		if v == 0 {
			return 0, nil
		}
		s := v / n
		if i < v%n {
			s++
		}
		if s == 0 {
			return 0, fmt.Errorf("loadjob: %s %d cannot be split over %d pods (at least one each)", what, v, n)
		}
		return s, nil
	}
	out := o
	var err error
	if out.Connections, err = share("connections", o.Connections); err != nil {
		return o, err
	}
	if out.MaxInFlight, err = share("max in flight", o.MaxInFlight); err != nil {
		return o, err
	}
	out.Rate = o.Rate / float64(n)
	out.Steps = nil
	for j, st := range o.Steps {
		if st.Connections, err = share(fmt.Sprintf("step %d: connections", j), st.Connections); err != nil {
			return o, err
		}
		st.Rate /= float64(n)
		out.Steps = append(out.Steps, st)
	}
	out.RecordHeaders = append([]string(nil), o.RecordHeaders...)
	return out, nil
}
