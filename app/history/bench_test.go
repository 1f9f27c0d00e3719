package history

import (
	"fmt"
	"os"
	"testing"
)

// BenchmarkOpen measures Open's check on a history of n checkout runs:
// go test -run '^$' -bench Open ./app/history/
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{100, 1000} {
		path := filled(b, n)
		fi, _ := os.Stat(path)
		for _, c := range []struct {
			name string
			how  Check
		}{{"none", CheckNone}, {"quick", CheckQuick}, {"full", CheckFull}} {
			b.Run(fmt.Sprintf("runs=%d/MB=%d/%s", n, fi.Size()>>20, c.name), func(b *testing.B) {
				for b.Loop() {
					s, err := OpenOptions(path, Options{Check: c.how})
					if err != nil {
						b.Fatal(err)
					}
					s.Close()
				}
			})
		}
	}
}
