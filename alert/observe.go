package alert

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/metrics"
)

// sourceTimeout bounds one read of a window from the archive or the metrics: a
// source that does not answer fails the evaluation, which is tried again.
const sourceTimeout = time.Minute

// observe reads what window w shows rule r.
func (s *Service) observe(ctx context.Context, r *Rule, w Window) (observation, error) {
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	if r.Kind == Metric {
		return s.observeMetric(ctx, r, w)
	}
	groups, excess, err := s.cfg.Searcher.Count(ctx, Search{App: r.App, Query: r.Query, Start: w.Start, End: w.End}, r.GroupBy, MaxGroups)
	if err != nil {
		return observation{}, fmt.Errorf("count %q: %w", r.Query, err)
	}
	obs := observation{values: make(map[string]float64, len(groups)), labels: make(map[string][]string, len(groups)), excess: excess}
	for _, g := range groups {
		k := groupKey(g.Values)
		obs.values[k] += float64(g.Count)
		obs.labels[k] = g.Values
	}
	if len(r.GroupBy) == 0 {
		obs.values[""] += 0 // a rule without groups always sees its one group, with 0 lines too
	}
	return obs, nil
}

// observeMetric merges the series' intervals of each group and reads the rule's
// statistic; a ratio divides the statistics of two series group by group.
func (s *Service) observeMetric(ctx context.Context, r *Rule, w Window) (observation, error) {
	names := strings.Split(r.Metric, "/")
	var parts []map[string]*metrics.Interval
	obs := observation{values: map[string]float64{}, labels: map[string][]string{}}
	for _, name := range names {
		series, err := s.cfg.Metrics.Series(ctx, r.App, name, w.Start, w.End)
		if err != nil {
			return observation{}, fmt.Errorf("read metric %s: %w", name, err)
		}
		merged, err := mergeGroups(series, r.GroupBy, obs.labels)
		if err != nil {
			return observation{}, fmt.Errorf("metric %s: %w", name, err)
		}
		parts = append(parts, merged)
	}
	for k, iv := range parts[0] {
		v := statistic(iv, r.Agg)
		if len(parts) == 2 {
			den, ok := parts[1][k]
			if !ok || statistic(den, r.Agg) == 0 {
				continue // no denominator: no value
			}
			v /= statistic(den, r.Agg)
		}
		obs.values[k] = v
	}
	if len(obs.values) > MaxGroups {
		obs.excess = len(obs.values) - MaxGroups
		keep := sortedKeys(obs.values, MaxGroups)
		for k := range obs.values {
			if !keep[k] {
				delete(obs.values, k)
			}
		}
	}
	return obs, nil
}

// mergeGroups merges intervals of the same group (by app and/or source, or all
// together) into one per group, and records each group's values in labels.
func mergeGroups(series []metrics.Interval, groupBy []string, labels map[string][]string) (map[string]*metrics.Interval, error) {
	out := map[string]*metrics.Interval{}
	for _, iv := range series {
		values := make([]string, len(groupBy))
		for i, f := range groupBy {
			if f == "app" {
				values[i] = iv.App
			} else {
				values[i] = iv.Source
			}
		}
		k := groupKey(values)
		labels[k] = values
		iv.App, iv.Source, iv.Unit = "", "", "" // merge across what is not grouped
		if m, ok := out[k]; ok {
			if err := m.Merge(iv); err != nil {
				return nil, err
			}
			continue
		}
		cp := iv
		out[k] = &cp
	}
	return out, nil
}

// statistic reads agg from a merged interval.
func statistic(iv *metrics.Interval, agg string) float64 {
	switch agg {
	case "count":
		return iv.Count
	case "sum":
		return iv.Sum
	case "min":
		return iv.Min
	case "max":
		return iv.Max
	case "mean":
		return iv.Mean()
	case "last":
		return iv.Last
	case "p50":
		return iv.Quantile(0.5)
	case "p95":
		return iv.Quantile(0.95)
	}
	return iv.Quantile(0.99)
}

// sortedKeys returns the n keys with the highest values (ties by key).
func sortedKeys(values map[string]float64, n int) map[string]bool {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(values[b], values[a]), cmp.Compare(a, b)) })
	keep := make(map[string]bool, n)
	for _, k := range keys[:min(n, len(keys))] {
		keep[k] = true
	}
	return keep
}
