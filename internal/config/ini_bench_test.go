package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// longSection is a profiles file with one profile of n lines (comments and
// keys), the shape that used to cost O(n²).
func longSection(n int) []byte {
	var b strings.Builder
	b.WriteString("[profile big]\nprovider = keycloak\nurl = https://sso.example.com/x\n")
	for i := range n {
		fmt.Fprintf(&b, "# note %d\n", i)
	}
	b.WriteString("region = eu-west-1\n[profile next]\nprovider = okta\n")
	return []byte(b.String())
}

// BenchmarkLongSection loads, resolves and edits a profile of 10k..80k
// lines. Linear code keeps ns/op per line flat across sizes; compare the
// sizes as ratios (docs/performance.md).
func BenchmarkLongSection(b *testing.B) {
	for _, n := range []int{10_000, 20_000, 40_000, 80_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "config")
			data := longSection(n)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				f, err := Load(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Resolve(f, "big", func(string) string { return "" }, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := Preview(path, "big", map[string]string{"username": "ana"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
