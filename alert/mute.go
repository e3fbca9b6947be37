package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Mute is a rule's configured quiet time: until a moment, and daily ranges. While a
// rule is muted it is still evaluated and its states still change, but no firing or
// renotify notification is sent; a group that is still firing when the mute ends is
// announced then. A resolved notification is always sent for an incident whose
// firing was sent.
type Mute struct {
	// Until mutes the rule until this moment.
	Until time.Time `json:"until,omitzero"`
	// Daily ranges mute the rule every day, in Location's local time.
	Daily []DailyRange `json:"daily,omitempty"`
	// Location is the IANA time zone of the daily ranges; "" is UTC.
	Location string `json:"location,omitempty"`
}

// DailyRange is a time of day range, "22:00-06:00": From is included, To is not; a
// range whose To is before its From goes over midnight.
type DailyRange struct {
	From, To time.Duration // since midnight
}

// ParseDailyRange reads "HH:MM-HH:MM".
func ParseDailyRange(s string) (DailyRange, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return DailyRange{}, fmt.Errorf("daily range %q: want HH:MM-HH:MM, e.g. 22:00-06:00", s)
	}
	f, err1 := parseClock(from)
	t, err2 := parseClock(to)
	if err1 != nil || err2 != nil || f == t {
		return DailyRange{}, fmt.Errorf("daily range %q: want HH:MM-HH:MM with two different times, e.g. 22:00-06:00", s)
	}
	return DailyRange{From: f, To: t}, nil
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// String is the range as ParseDailyRange reads it.
func (d DailyRange) String() string {
	clock := func(x time.Duration) string { return fmt.Sprintf("%02d:%02d", int(x.Hours()), int(x.Minutes())%60) }
	return clock(d.From) + "-" + clock(d.To)
}

// MarshalJSON writes the range as "22:00-06:00".
func (d DailyRange) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "22:00-06:00".
func (d *DailyRange) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	r, err := ParseDailyRange(s)
	*d = r
	return err
}

// contains reports whether the time of day tod falls in the range.
func (d DailyRange) contains(tod time.Duration) bool {
	if d.From < d.To {
		return tod >= d.From && tod < d.To
	}
	return tod >= d.From || tod < d.To
}

func (m *Mute) check() error {
	if _, err := m.location(); err != nil {
		return invalid("mute location %q: not a time zone (want e.g. Europe/Paris)", m.Location)
	}
	return nil
}

func (m *Mute) location() (*time.Location, error) {
	if m.Location == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(m.Location)
}

// MutedAt reports whether the rule is muted at t by its configuration.
func (m *Mute) MutedAt(t time.Time) bool {
	if t.Before(m.Until) {
		return true
	}
	if len(m.Daily) == 0 {
		return false
	}
	loc, err := m.location()
	if err != nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second
	for _, d := range m.Daily {
		if d.contains(tod) {
			return true
		}
	}
	return false
}
