package datadir_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/drainpipe/drainpipe/datadir"
)

// A second lock on the same directory, even from the same process, is refused
// with the holder named; once released, the directory can be taken again.
func TestAcquireRefusesSecondHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = datadir.Acquire(dir)
	var inUse *datadir.InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, datadir.ErrInUse) {
		t.Fatalf("second Acquire: %v, want an *InUseError", err)
	}
	host, _ := os.Hostname()
	if inUse.Holder.PID != os.Getpid() || inUse.Holder.Host != host || time.Since(inUse.Holder.Started) > time.Minute {
		t.Errorf("holder %+v, want this process (pid %d on %s, started just now)", inUse.Holder, os.Getpid(), host)
	}
	for _, want := range []string{dir, fmt.Sprintf("drainpipe process %d on host %s", os.Getpid(), host)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := again.Release(); err != nil {
		t.Fatal(err)
	}
}

// The lock belongs to a process: another process holding it is named, and when
// that process dies without a word (SIGKILL), the directory is free at once.
func TestAcquireAcrossProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "DATADIR_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	_, err = datadir.Acquire(dir)
	var inUse *datadir.InUseError
	if !errors.As(err, &inUse) || inUse.Holder.PID != cmd.Process.Pid {
		t.Fatalf("Acquire while another process holds it: %v, want it named (pid %d)", err, cmd.Process.Pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	l, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	_ = l.Release()
}

// TestHelperHoldLock is the other process of TestAcquireAcrossProcesses.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("DATADIR_HOLD")
	if dir == "" {
		return // only as the helper process
	}
	if _, err := datadir.Acquire(dir); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("held")
	time.Sleep(time.Minute)
	os.Exit(0)
}
