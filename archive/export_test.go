package archive

// SetImportChunk makes the import of archives opened with c take n lines per
// step, so that a test can stop it in the middle.
func SetImportChunk(c *Config, n int) { c.importChunk = n }
