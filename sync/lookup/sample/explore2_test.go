package sample

import "testing"

func BenchmarkGenerateMem(b *testing.B) {
	for b.Loop() {
		generate(1, 100000, testRef)
	}
}
