package alert

import (
	"slices"
	"strings"
)

// Preset is a ready-made rule for something every Heroku app should watch. Its query
// is plain LogsQL, the archive's query language (`code:H*` is the prefix H of the
// field code, which router lines' `code=H12` fill; words and phrases match the
// message), so it reads the same with or without Heroku-style words on top.
type Preset struct {
	// Name is what --preset takes.
	Name string `json:"name"`
	// Description says what it watches, with Heroku's own words for it.
	Description string `json:"description"`
	// Query, Threshold and GroupBy are the rule's defaults; flags given with the
	// preset override Threshold and GroupBy.
	Query     string   `json:"query"`
	Threshold float64  `json:"threshold"`
	GroupBy   []string `json:"group_by,omitempty"`
}

// Presets are the Heroku presets, one per `--preset` value.
var Presets = []Preset{
	{
		Name:        "router-errors",
		Description: "Heroku router errors (code=H10 app crashed, H12 request timeout, H13 connection closed, H15 idle connection, H20 boot timeout, H27 client interrupted, every H code), 10 or more per window, by code",
		Query:       "code:H*",
		Threshold:   10,
		GroupBy:     []string{"code"},
	},
	{
		Name:        "dyno-memory",
		Description: "dyno memory errors: R14 (memory quota exceeded) and R15 (memory quota vastly exceeded), by dyno",
		Query:       "R14 OR R15",
		Threshold:   1,
		GroupBy:     []string{"dyno"},
	},
	{
		Name:        "boot-timeouts",
		Description: "R10 boot timeouts: a web dyno did not bind to $PORT within 60 seconds of launch, by dyno",
		Query:       "R10",
		Threshold:   1,
		GroupBy:     []string{"dyno"},
	},
	{
		Name:        "crashes",
		Description: `dyno crashes: "State changed from up to crashed", by dyno`,
		Query:       `"State changed from up to crashed"`,
		Threshold:   1,
		GroupBy:     []string{"dyno"},
	},
	{
		Name:        "heroku-dropping-logs",
		Description: "Heroku dropping your logs before they reach drainpipe: L10 (drain buffer overflow), L11 (tail buffer overflow), L12 (local buffer overflow), L13 (local delivery error), any in a window",
		Query:       "L10 OR L11 OR L12 OR L13",
		Threshold:   1,
	},
}

// PresetNames lists the presets' names.
func PresetNames() []string {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return names
}

// applyPreset fills the rule's query, threshold and grouping from its preset, where
// the rule does not give them itself.
func (r *Rule) applyPreset() error {
	if r.Preset == "" {
		return nil
	}
	i := slices.IndexFunc(Presets, func(p Preset) bool { return p.Name == r.Preset })
	if i < 0 {
		return invalid("preset %q: want one of %s", r.Preset, strings.Join(PresetNames(), ", "))
	}
	p := Presets[i]
	if r.Query != "" && r.Query != p.Query {
		return invalid("preset %s comes with its own query; give a query or a preset, not both", p.Name)
	}
	if r.Kind != "" && r.Kind != Match {
		return invalid("preset %s is a match rule, not %s", p.Name, r.Kind)
	}
	r.Kind, r.Query = Match, p.Query
	if r.Threshold == 0 {
		r.Threshold = p.Threshold
	}
	if r.GroupBy == nil {
		r.GroupBy = slices.Clone(p.GroupBy)
	}
	return nil
}
