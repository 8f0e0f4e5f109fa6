package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Parse decodes a scenario from YAML (or JSON), applies defaults and
// validates it. Every unknown or ill-typed field and every invalid value is
// reported by its path, together, in a *ValidationError.
func Parse(data []byte, source string) (*Scenario, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, &ValidationError{Source: source, Errs: field.ErrorList{documentError("not valid YAML: " + err.Error())}}
	}
	var generic any
	if err := json.Unmarshal(js, &generic); err != nil {
		return nil, &ValidationError{Source: source, Errs: field.ErrorList{documentError("not valid YAML: " + err.Error())}}
	}
	if _, ok := generic.(map[string]any); !ok {
		return nil, &ValidationError{Source: source, Errs: field.ErrorList{documentError("a scenario must be a YAML mapping")}}
	}
	shapeErrs := checkShape(nil, reflect.TypeOf(Scenario{}), generic)
	for _, fe := range shapeErrs {
		if fe.Type != field.ErrorTypeForbidden {
			// A value of the wrong type: the document cannot be decoded.
			return nil, &ValidationError{Source: source, Errs: shapeErrs}
		}
	}
	var s Scenario
	dec := json.NewDecoder(bytes.NewReader(js))
	if len(shapeErrs) == 0 {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&s); err != nil {
		// checkShape let it through (an integer out of its type's range):
		// name the field the decoder names.
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return nil, &ValidationError{Source: source, Errs: field.ErrorList{field.Invalid(field.NewPath(ute.Field), field.OmitValueType{},
				fmt.Sprintf("%s does not fit a %s", ute.Value, ute.Type))}}
		}
		return nil, &ValidationError{Source: source, Errs: field.ErrorList{documentError(err.Error())}}
	}
	s.Source = source
	Default(&s)
	// Unknown fields and invalid values are reported together.
	if errs := append(shapeErrs, Validate(&s)...); len(errs) > 0 {
		return nil, &ValidationError{Source: source, Errs: errs}
	}
	return &s, nil
}

// ValidationError lists every problem of a scenario file by field path.
type ValidationError struct {
	Source string
	Errs   field.ErrorList
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s is invalid:", e.Source)
	for _, fe := range e.Errs {
		b.WriteString("\n  - ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// checkShape walks a decoded JSON value against the Go type it will be
// unmarshalled into, reporting unknown fields (with the allowed names) and
// values of the wrong JSON type, by path.
func checkShape(path *field.Path, t reflect.Type, v any) field.ErrorList {
	if v == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		raw, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return field.ErrorList{field.Invalid(path, v, err.Error())}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return field.ErrorList{field.Invalid(path, v, "want a mapping")}
		}
		fields := jsonFields(t)
		var errs field.ErrorList
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, field.Forbidden(path.Child(k), "unknown field; allowed fields here: "+strings.Join(allowedNames(fields), ", ")))
				continue
			}
			errs = append(errs, checkShape(path.Child(k), ft, m[k])...)
		}
		return errs
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return field.ErrorList{field.Invalid(path, v, "want a mapping")}
		}
		var errs field.ErrorList
		for k, e := range m {
			errs = append(errs, checkShape(path.Key(k), t.Elem(), e)...)
		}
		return errs
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return field.ErrorList{field.Invalid(path, v, "want a list")}
		}
		var errs field.ErrorList
		for i, e := range l {
			errs = append(errs, checkShape(path.Index(i), t.Elem(), e)...)
		}
		return errs
	case reflect.String:
		if _, ok := v.(string); !ok {
			return field.ErrorList{field.Invalid(path, v, "want a string")}
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return field.ErrorList{field.Invalid(path, v, "want true or false")}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return field.ErrorList{field.Invalid(path, v, "want a whole number")}
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(float64); !ok {
			return field.ErrorList{field.Invalid(path, v, "want a number")}
		}
	}
	return nil
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func allowedNames(fields map[string]reflect.Type) []string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// documentError is a problem of the whole document (not YAML, not a
// mapping): its path says so instead of printing a nil one.
func documentError(detail string) *field.Error {
	return field.Invalid(field.NewPath("(document)"), field.OmitValueType{}, detail)
}
