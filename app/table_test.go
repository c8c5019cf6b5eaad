package app

import (
	"slices"
	"testing"
)

// In a window narrower than every column's content the backend column
// gives up width, down to its minimum, and only it; in a wider one the
// last column takes what is left.
func TestTableColumnsGiveWayAtTheBackend(t *testing.T) {
	tb := &table{widths: []float32{100, 200, 300, 80, 150}, flex: 2, flexMin: 120}
	for _, tt := range []struct {
		width float32
		want  []float32
	}{
		{830, []float32{100, 200, 300, 80, 150}},  // just enough
		{1000, []float32{100, 200, 300, 80, 320}}, // the rest to the last
		{700, []float32{100, 200, 170, 80, 150}},  // the backend elides
		{500, []float32{100, 200, 120, 80, 150}},  // never below its minimum
	} {
		if got := tb.columns(tt.width, 5); !slices.Equal(got, tt.want) {
			t.Errorf("%v wide: columns %v, want %v", tt.width, got, tt.want)
		}
	}
}
