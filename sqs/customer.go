package sqs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Customer is the message the customer-transformer sample consumes:
// {"firstName": "Ada", "lastName": "Lovelace", "age": 36}.
type Customer struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Age       int    `json:"age"`
}

// Record is what the sample writes to Redis for a valid customer, under the
// SQS message id: {"firstName", "lastName", "fullName", "adult"}.
type Record struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	FullName  string `json:"fullName"`
	Adult     bool   `json:"adult"`
}

// MaxAge is the highest age Validate accepts.
const MaxAge = 150

// AdultAge is the age from which a customer is an adult.
const AdultAge = 18

// ErrInvalidCustomer is wrapped by every Validate error.
var ErrInvalidCustomer = errors.New("invalid customer")

// Validate parses a message body as the sample does: one JSON object with a
// non-empty (after trimming white space) string firstName and lastName and
// an integer age in 0..MaxAge. Field names are case-sensitive, unknown
// fields are ignored, of duplicate keys the last wins; names are kept as
// sent. Anything else is an error wrapping ErrInvalidCustomer that says what
// is wrong. The rules are shared with the Spin app as cases
// (fixtures/customer-transformer/testdata/cases.json).
func Validate(raw []byte) (Customer, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Customer{}, invalid("not a JSON object")
	}
	// A map keeps the keys exactly (struct decoding would match them
	// case-insensitively).
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&fields); err != nil {
		return Customer{}, invalid("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Customer{}, invalid("data after the JSON object")
	}
	var c Customer
	for _, f := range []struct {
		name string
		dst  *string
	}{{"firstName", &c.FirstName}, {"lastName", &c.LastName}} {
		v, ok := fields[f.name]
		if !ok || string(v) == "null" {
			return Customer{}, invalid("missing %s", f.name)
		}
		if v[0] != '"' || json.Unmarshal(v, f.dst) != nil {
			return Customer{}, invalid("%s %s is not a string", f.name, v)
		}
		if strings.TrimSpace(*f.dst) == "" {
			return Customer{}, invalid("empty %s", f.name)
		}
	}
	age, ok := fields["age"]
	if !ok || string(age) == "null" {
		return Customer{}, invalid("missing age")
	}
	if b := age[0]; b != '-' && (b < '0' || b > '9') {
		return Customer{}, invalid("age %s is not a number", age)
	}
	n, err := strconv.ParseInt(string(age), 10, 64)
	if err != nil {
		return Customer{}, invalid("age %s is not an integer in range", age)
	}
	if n < 0 || n > MaxAge {
		return Customer{}, invalid("age %d is outside 0..%d", n, MaxAge)
	}
	c.Age = int(n)
	return c, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidCustomer, fmt.Sprintf(format, args...))
}

// Transform is the sample's transformation of a valid customer.
func Transform(c Customer) Record {
	return Record{
		FirstName: c.FirstName,
		LastName:  c.LastName,
		FullName:  c.FirstName + " " + c.LastName,
		Adult:     c.Age >= AdultAge,
	}
}
