package sqs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Validate parses a message body as the sample does: a JSON object with a
// non-empty string firstName and lastName and an integer age in 0..MaxAge.
// Unknown fields are ignored; anything else is an error wrapping
// ErrInvalidCustomer that says what is wrong.
func Validate(raw []byte) (Customer, error) {
	var in struct {
		FirstName *string          `json:"firstName"`
		LastName  *string          `json:"lastName"`
		Age       *json.RawMessage `json:"age"`
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Customer{}, invalid("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&in); err != nil {
		return Customer{}, invalid("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Customer{}, invalid("data after the JSON object")
	}
	var c Customer
	switch {
	case in.FirstName == nil:
		return Customer{}, invalid("missing firstName")
	case strings.TrimSpace(*in.FirstName) == "":
		return Customer{}, invalid("empty firstName")
	case in.LastName == nil:
		return Customer{}, invalid("missing lastName")
	case strings.TrimSpace(*in.LastName) == "":
		return Customer{}, invalid("empty lastName")
	case in.Age == nil || string(*in.Age) == "null":
		return Customer{}, invalid("missing age")
	}
	c.FirstName, c.LastName = *in.FirstName, *in.LastName
	// A JSON number (json.Number alone would also take the string "40").
	var age json.Number
	if b := (*in.Age)[0]; (b != '-' && (b < '0' || b > '9')) || json.Unmarshal(*in.Age, &age) != nil {
		return Customer{}, invalid("age %s is not a number", *in.Age)
	}
	n, err := age.Int64()
	if err != nil {
		return Customer{}, invalid("age %s is not an integer", age)
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
