package ui

import (
	"testing"

	"github.com/drainpipe/drainpipe/alert"
)

// TestMaxBacktestWindowsIsAlerts holds the UI's copy of the backtest's bound to
// the alert package's: ui may not import alert, and a copy that drifted would
// make "test against the last 24 h" refused (larger) or shorter than it can be.
func TestMaxBacktestWindowsIsAlerts(t *testing.T) {
	if maxBacktestWindows != alert.MaxBacktestWindows {
		t.Errorf("maxBacktestWindows is %d, alert.MaxBacktestWindows %d", maxBacktestWindows, alert.MaxBacktestWindows)
	}
}
