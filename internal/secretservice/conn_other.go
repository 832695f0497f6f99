//go:build !linux

package secretservice

import "time"

// Read is Linux's: elsewhere the Secret Service is not the OS keyring.
func Read(addr string, timeout time.Duration, collection string, queries []map[string]string) ([]Result, error) {
	return nil, unsupported("not on Linux")
}
