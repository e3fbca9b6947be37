package archive

import (
	"runtime"
	"sync"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// rowsPerAdd is how many rows a converting goroutine hands the storage at once:
// enough to amortise the call, few enough that the rows' buffer stays small.
const rowsPerAdd = 1000

// minRecordsPerWorker keeps small writes on one goroutine.
const minRecordsPerWorker = 2000

// addRows converts and adds the rows of work, on as many goroutines as there
// are CPUs (each with its own buffer; the ids are already given, so the order
// in which they land does not matter), then makes them searchable. It returns
// the days written.
func (a *Archive) addRows(work []job, win window) map[int64]bool {
	workers := max(1, min(runtime.GOMAXPROCS(0), len(work)/minRecordsPerWorker))
	daySets := make([]map[int64]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(work)/workers, (w+1)*len(work)/workers
		wg.Go(func() { daySets[w] = a.addJobs(work[lo:hi], win) })
	}
	wg.Wait()
	a.store.st.DebugFlush()
	days := map[int64]bool{}
	for _, s := range daySets {
		for d := range s {
			days[d] = true
		}
	}
	return days
}

// addJobs adds the rows of jobs and returns the days they fall on.
func (a *Archive) addJobs(jobs []job, win window) map[int64]bool {
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	m := newRowMaker(a.vocab, a.metrics.cuts, win)
	days := map[int64]bool{}
	lastDay := int64(-1 << 62)
	add := func(_, ts int64, fields []logstorage.Field) {
		lr.MustAdd(tenants[0], ts, fields, len(StreamFields))
		if d := ts / nsPerDay; d != lastDay {
			days[d], lastDay = true, d
		}
		if lr.RowsCount() >= rowsPerAdd {
			a.store.st.MustAddRows(lr)
			lr.ResetKeepSettings()
		}
	}
	for i := range jobs {
		m.rows(jobs[i].rec, jobs[i].id, jobs[i].present, add)
	}
	if lr.RowsCount() > 0 {
		a.store.st.MustAddRows(lr)
	}
	return days
}
