package sqs

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
)

// message is one generated message body and what it should lead to.
type message struct {
	body     string
	valid    bool
	customer Customer // valid messages only
	kind     string   // invalid messages: which invalidKinds entry
}

// invalidKinds are the ways a generated message is invalid, used in turn.
var invalidKinds = []struct {
	name string
	body func(first, last string, age int) string
}{
	{"missing lastName", func(f, _ string, a int) string { return fmt.Sprintf(`{"firstName":%q,"age":%d}`, f, a) }},
	{"negative age", func(f, l string, a int) string {
		return fmt.Sprintf(`{"firstName":%q,"lastName":%q,"age":%d}`, f, l, -1-a%40)
	}},
	{"not JSON", func(f, l string, a int) string { return fmt.Sprintf("firstName=%s;lastName=%s;age=%d", f, l, a) }},
	{"empty firstName", func(_, l string, a int) string { return fmt.Sprintf(`{"firstName":"","lastName":%q,"age":%d}`, l, a) }},
	{"age not a number", func(f, l string, _ int) string {
		return fmt.Sprintf(`{"firstName":%q,"lastName":%q,"age":"forty"}`, f, l)
	}},
	{"truncated JSON", func(f, l string, a int) string {
		s := fmt.Sprintf(`{"firstName":%q,"lastName":%q,"age":%d}`, f, l, a)
		return s[:len(s)/2]
	}},
	{"age not an integer", func(f, l string, a int) string {
		return fmt.Sprintf(`{"firstName":%q,"lastName":%q,"age":%d.5}`, f, l, a)
	}},
	{"not an object", func(f, l string, a int) string { return fmt.Sprintf(`[%q,%q,%d]`, f, l, a) }},
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Niklaus", "Radia", "Tim", "Hedy", "Linus", "Katherine", "Donald"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen", "Wirth", "Perlman", "Berners-Lee", "Lamarr", "Torvalds", "Johnson", "Knuth"}
)

// invalidCount is how many of n messages are invalid for a share in 0..1.
func invalidCount(n int, share float64) int {
	k := int(math.Round(float64(n) * share))
	return min(max(k, 0), n)
}

// generate returns n messages, invalidCount(n, share) of them invalid, the
// same for the same seed. Invalid messages are spread evenly over the
// sequence and cycle through invalidKinds; names and ages come from the seed.
func generate(n int, share float64, seed int64) []message {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5ca1eb))
	k := invalidCount(n, share)
	out := make([]message, n)
	invalidSeen := 0
	for i := range n {
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		age := rng.IntN(91) // 0..90: minors and adults
		// Message i is invalid when the even spread of k over n steps past a
		// whole number at i (exactly k of them).
		if n > 0 && (i+1)*k/n > i*k/n {
			kind := invalidKinds[invalidSeen%len(invalidKinds)]
			invalidSeen++
			out[i] = message{body: kind.body(first, last, age), kind: kind.name}
			continue
		}
		c := Customer{FirstName: first, LastName: last, Age: age}
		body, err := json.Marshal(c)
		if err != nil {
			panic(err) // a struct of strings and an int always marshals
		}
		out[i] = message{body: string(body), valid: true, customer: c}
	}
	return out
}

// batches splits n items into consecutive [start, end) ranges of at most size.
func batches(n, size int) [][2]int {
	if n <= 0 || size <= 0 {
		return nil
	}
	out := make([][2]int, 0, (n+size-1)/size)
	for start := 0; start < n; start += size {
		out = append(out, [2]int{start, min(start+size, n)})
	}
	return out
}
