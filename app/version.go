package app

import (
	"fmt"
	"runtime/debug"
)

// Version describes the running binary from its build info: the module
// version, the VCS revision (and whether the tree was modified) and the Go
// version, as `psasync version` prints it.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "psasync (no build information)"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	rev, modified, at := "unknown", "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		case "vcs.time":
			at = " " + s.Value
		}
	}
	return fmt.Sprintf("psasync %s\n  module:   %s\n  revision: %s%s%s\n  go:       %s\n", version, bi.Main.Path, rev, modified, at, bi.GoVersion)
}
