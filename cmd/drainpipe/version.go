package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version says which drainpipe this is: the module version and the commit it was
// built from, as the Go toolchain stamped them into the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "drainpipe (no build information)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var details []string
	if rev := settings["vcs.revision"]; rev != "" {
		details = append(details, "commit "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "with uncommitted changes")
	}
	v := fmt.Sprintf("drainpipe %s", bi.Main.Version)
	if len(details) > 0 {
		v += " (" + strings.Join(details, ", ") + ")"
	}
	return v + " " + bi.GoVersion
}
