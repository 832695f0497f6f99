//go:build !windows

package cache

// ownerOnlyACL is Windows-only: elsewhere mode bits do the job.
func ownerOnlyACL(string) error { return nil }
