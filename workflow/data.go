package workflow

import "maps"

// Merge returns the resource data after an activity fired with input: a
// shallow merge where input's top-level keys replace data's. Neither
// argument is modified.
func Merge(data, input map[string]any) map[string]any {
	out := make(map[string]any, len(data)+len(input))
	maps.Copy(out, data)
	maps.Copy(out, input)
	return out
}
