package metrics

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

// WriteTable writes series as an aligned table for a terminal: one row per series,
// numbers right-aligned with up to six significant digits; "-" for the quantiles
// of a series that has none (a count, a sample).
func WriteTable(w io.Writer, series []Series) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "NAME\tSOURCE\tUNIT\tCOUNT\tSUM\tMIN\tMAX\tMEAN\tLAST\tP50\tP95\tP99\t\n")
	for _, s := range series {
		fmt.Fprintf(tw, "%s\t%s\t%s\t", cell(s.Name), cell(s.Source), cell(s.Unit))
		for _, v := range []float64{s.Count, s.Sum, s.Min, s.Max, s.Mean, s.Last} {
			fmt.Fprintf(tw, "%s\t", number(v))
		}
		for _, v := range []float64{s.P50, s.P95, s.P99} {
			if !s.Distribution {
				fmt.Fprint(tw, "-\t")
				continue
			}
			fmt.Fprintf(tw, "%s\t", number(v))
		}
		fmt.Fprint(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// cell keeps a column readable: "-" for empty, and no tabs or newlines from logs.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
