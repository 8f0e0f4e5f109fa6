package results

import "fmt"

// absentText is how an absent metric reads in text.
const absentText = "–"

// FormatSeconds formats a duration metric with one decimal, or a dash when absent.
func FormatSeconds(p *float64) string {
	if p == nil {
		return absentText
	}
	return fmt.Sprintf("%.1f", *p)
}

// FormatCount formats a count metric, or a dash when absent.
func FormatCount[T ~int | ~int32 | ~int64](p *T) string {
	if p == nil {
		return absentText
	}
	return fmt.Sprint(*p)
}
