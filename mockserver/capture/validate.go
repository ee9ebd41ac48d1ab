package capture

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// submission is a form's input once read from the request.
type submission struct {
	// values are the trimmed inputs by field name; dates are "YYYY-MM-DD".
	values map[string]string
	// invalid collects the localized messages of every failing rule.
	invalid map[string][]string
	// attributes are the values to store, by user-record attribute.
	attributes map[string]any
	password   string
	// unique lists the attributes whose rules require uniqueness.
	unique []string
}

// emailPattern is deliberately loose, like Capture's: something@host.tld,
// though never with a control character (a NUL, an escape) in it.
var emailPattern = regexp.MustCompile(`^[^@\s\p{Cc}]+@[^@\s\p{Cc}]+\.[^@\s\p{Cc}]+$`)

// readForm reads the form's fields from params and checks every rule that
// needs no database, so the answer lists all failures at once.
func (b *Backend) readForm(c *call) *submission {
	s := &submission{values: map[string]string{}, invalid: map[string][]string{}, attributes: map[string]any{}}
	for _, name := range c.form.Fields {
		field, _ := c.flow.Field(name)
		value, ok := fieldValue(field, c.params)
		s.values[name] = value
		if !ok {
			s.fail(name, c.message(workspace.MessageInvalidDate, "Please enter a valid date."))
			continue
		}
		b.checkRules(c, s, field, value)
	}
	// Attributes are gathered once every rule ran, so a failing field is
	// never stored by accident.
	for _, name := range c.form.Fields {
		field, _ := c.flow.Field(name)
		s.collect(field, s.values[name])
	}
	return s
}

func (s *submission) fail(field, message string) {
	s.invalid[field] = append(s.invalid[field], message)
}

// fieldValue reads one field; ok is false for a date that is partly given
// or not a calendar date.
func fieldValue(field *workspace.Field, params getter) (string, bool) {
	if field.Type != workspace.FieldDateSelect {
		return strings.TrimSpace(params.Get(field.Name)), true
	}
	parts := [3]string{}
	for i, part := range []string{"year", "month", "day"} {
		parts[i] = strings.TrimSpace(params.Get(field.Name + "[dateselect_" + part + "]"))
	}
	if parts == [3]string{} {
		return "", true
	}
	y, errY := strconv.Atoi(parts[0])
	m, errM := strconv.Atoi(parts[1])
	d, errD := strconv.Atoi(parts[2])
	if errY != nil || errM != nil || errD != nil {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d || y < 1000 || y > 9999 {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// getter is the read side of url.Values.
type getter interface{ Get(string) string }

func (b *Backend) checkRules(c *call, s *submission, field *workspace.Field, value string) {
	for _, rule := range field.Validations {
		message := workspace.Localized(rule.Messages, c.locale)
		switch rule.Rule {
		case workspace.RuleRequired:
			if value == "" {
				s.fail(field.Name, message)
				// The other rules of an empty field would only repeat
				// that it is empty.
				return
			}
		case workspace.RuleUnique:
			if field.Attribute != "" {
				s.unique = append(s.unique, field.Attribute)
			}
		default:
			if value != "" && !b.passes(rule, value, c) {
				s.fail(field.Name, message)
			}
		}
	}
	if field.Type == workspace.FieldSelect && value != "" && len(field.Options) > 0 && !slices.Contains(field.Options, value) {
		s.fail(field.Name, c.message(workspace.MessageInvalidOption, "Please choose one of the options."))
	}
}

// passes checks a rule that needs no database on a non-empty value.
func (b *Backend) passes(rule workspace.Validation, value string, c *call) bool {
	n, _ := strconv.Atoi(rule.Value)
	switch rule.Rule {
	case workspace.RuleMatch:
		other, _ := c.flow.Field(rule.Value)
		otherValue, _ := fieldValue(other, c.params)
		return value == otherValue
	case workspace.RuleFormat:
		if rule.Value == "email" {
			return emailPattern.MatchString(value)
		}
		re, err := b.regexp(rule.Value)
		return err == nil && re.MatchString(value)
	case workspace.RuleMinLength:
		return utf8.RuneCountInString(value) >= n
	case workspace.RuleMaxLength:
		return utf8.RuneCountInString(value) <= n
	case workspace.RuleMinYears:
		born, err := time.Parse(time.DateOnly, value)
		return err == nil && !born.AddDate(n, 0, 0).After(b.now())
	}
	return true
}

// regexp compiles a format rule's pattern once and keeps it.
func (b *Backend) regexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := b.patterns.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	b.patterns.Store(pattern, re)
	return re, nil
}

// collect stores a field's value under its attribute.
func (s *submission) collect(field *workspace.Field, value string) {
	switch {
	case field.Attribute == "" || value == "":
	case field.Attribute == "password":
		s.password = value
	case field.Type == workspace.FieldCheckbox:
		s.attributes[field.Attribute] = value == "true" || value == "on" || value == "1"
	default:
		s.attributes[field.Attribute] = value
	}
}

// takenValues returns the message of every unique rule whose value is
// already taken. It runs inside the registration's transaction, so a
// concurrent registration cannot slip in between the check and the write.
func (s *submission) takenValues(tx *storage.Tx, c *call) (map[string][]string, error) {
	taken := map[string][]string{}
	for _, name := range c.form.Fields {
		field, _ := c.flow.Field(name)
		value := s.values[name]
		if value == "" || field.Attribute == "" {
			continue
		}
		for _, rule := range field.Validations {
			if rule.Rule != workspace.RuleUnique {
				continue
			}
			used, err := tx.Has(uniqueKey(field.Attribute, value))
			if err != nil {
				return nil, fmt.Errorf("checking %s: %w", name, err)
			}
			if used {
				taken[name] = append(taken[name], workspace.Localized(rule.Messages, c.locale))
			}
		}
	}
	return taken, nil
}

// failures merges the rule failures with the taken values, keeping the
// order in which the rules are declared for each field.
func (s *submission) failures(taken map[string][]string) map[string][]string {
	out := make(map[string][]string, len(s.invalid)+len(taken))
	for name, msgs := range s.invalid {
		out[name] = append(out[name], msgs...)
	}
	for name, msgs := range taken {
		out[name] = append(out[name], msgs...)
	}
	return out
}
