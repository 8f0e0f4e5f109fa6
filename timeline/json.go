package timeline

import (
	"encoding/json"
	"math"
	"time"
)

type eventJSON struct {
	AtSeconds float64 `json:"atSeconds"`
	eventAlias
}

type eventAlias Event

// MarshalJSON writes At as float seconds ("atSeconds"), as every duration in
// reports is written.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventJSON{AtSeconds: math.Round(e.At.Seconds()*1e6) / 1e6, eventAlias: eventAlias(e)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Event(j.eventAlias)
	e.At = time.Duration(math.Round(j.AtSeconds * float64(time.Second)))
	return nil
}
