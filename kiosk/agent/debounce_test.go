package agent

import (
	"testing"
	"time"
)

// TestDebounce follows DESIGN 4.3: raise on two consecutive agreeing
// readings, clear once the condition has been gone for 3 s, and a flapping
// sensor changes nothing while it flaps.
func TestDebounce(t *testing.T) {
	t0 := time.Unix(0, 0)
	for _, tt := range []struct {
		name     string
		readings []bool // one a second
		changes  []int  // per reading
	}{
		{"one reading is not enough", []bool{true, false, false}, []int{0, 0, 0}},
		{"two readings raise", []bool{true, true, true}, []int{0, +1, 0}},
		{"clear after 3 s gone", []bool{true, true, false, false, false, false, false}, []int{0, +1, 0, 0, 0, -1, 0}},
		{"a blip back resets the clear", []bool{true, true, false, false, true, false, false, false, false}, []int{0, +1, 0, 0, 0, 0, 0, 0, -1}},
		{"flapping raises once", []bool{true, true, false, true, false, true, false, true}, []int{0, +1, 0, 0, 0, 0, 0, 0}},
		{"alternating never raises", []bool{true, false, true, false, true, false}, []int{0, 0, 0, 0, 0, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d debounce
			for i, present := range tt.readings {
				var change int
				d, change = nextDebounce(d, present, t0.Add(time.Duration(i)*time.Second), 3*time.Second)
				if change != tt.changes[i] {
					t.Fatalf("reading %d (%v): change %+d, want %+d (state %+v)", i, present, change, tt.changes[i], d)
				}
			}
		})
	}
}
