package sqs

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateAcceptsCustomers(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Customer
	}{
		{`{"firstName":"Ada","lastName":"Lovelace","age":36}`, Customer{"Ada", "Lovelace", 36}},
		{` {"age":0,"lastName":"B","firstName":"A"} `, Customer{"A", "B", 0}},
		{`{"firstName":"A","lastName":"B","age":150,"extra":true}`, Customer{"A", "B", 150}},
	} {
		got, err := Validate([]byte(tc.body))
		if err != nil || got != tc.want {
			t.Errorf("Validate(%s) = %+v, %v; want %+v", tc.body, got, err, tc.want)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	for body, why := range map[string]string{
		``:                                  "not a JSON object",
		`null`:                              "not a JSON object",
		`["Ada","Lovelace",36]`:             "not a JSON object",
		`firstName=Ada`:                     "not a JSON object",
		`{"firstName":"Ada","lastName":"Lo`: "not valid JSON",
		`{"firstName":"A","lastName":"B","age":1} {}`: "data after",
		`{"lastName":"B","age":1}`:                    "missing firstName",
		`{"firstName":" ","lastName":"B","age":1}`:    "empty firstName",
		`{"firstName":"A","age":1}`:                   "missing lastName",
		`{"firstName":"A","lastName":"","age":1}`:     "empty lastName",
		`{"firstName":"A","lastName":"B"}`:            "missing age",
		`{"firstName":"A","lastName":"B","age":null}`: "missing age",
		`{"firstName":"A","lastName":"B","age":"40"}`: "not a number",
		`{"firstName":"A","lastName":"B","age":40.5}`: "not an integer",
		`{"firstName":"A","lastName":"B","age":4e1}`:  "not an integer",
		`{"firstName":"A","lastName":"B","age":-1}`:   "outside",
		`{"firstName":"A","lastName":"B","age":151}`:  "outside",
		`{"firstName":1,"lastName":"B","age":1}`:      "not a string",
		`{"FirstName":"A","LastName":"B","Age":1}`:    "missing firstName",
	} {
		_, err := Validate([]byte(body))
		if err == nil || !errors.Is(err, ErrInvalidCustomer) || !strings.Contains(err.Error(), why) {
			t.Errorf("Validate(%q) = %v; want an ErrInvalidCustomer saying %q", body, err, why)
		}
	}
}

func TestTransform(t *testing.T) {
	for _, tc := range []struct {
		in   Customer
		want Record
	}{
		{Customer{"Ada", "Lovelace", 36}, Record{"Ada", "Lovelace", "Ada Lovelace", true}},
		{Customer{"Tim", "Berners-Lee", 17}, Record{"Tim", "Berners-Lee", "Tim Berners-Lee", false}},
		{Customer{"Hedy", "Lamarr", 18}, Record{"Hedy", "Lamarr", "Hedy Lamarr", true}},
		{Customer{"Baby", "Doe", 0}, Record{"Baby", "Doe", "Baby Doe", false}},
	} {
		if got := Transform(tc.in); got != tc.want {
			t.Errorf("Transform(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
