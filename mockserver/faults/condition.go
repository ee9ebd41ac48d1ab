package faults

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"regsandbox/mockserver/script"
)

// varRequest is the one variable a condition sees.
const varRequest = "request"

// Fields of the request variable, as bits so a rule set can record which
// ones its conditions read and Match builds only those.
type fieldMask uint8

const (
	fieldMethod fieldMask = 1 << iota
	fieldPath
	fieldHeaders
	fieldQuery
	fieldForm
	fieldJSON
	fieldBody

	fieldAll = fieldMethod | fieldPath | fieldHeaders | fieldQuery | fieldForm | fieldJSON | fieldBody
)

// requestFields maps the request variable's keys to their bits.
var requestFields = map[string]fieldMask{
	"method": fieldMethod, "path": fieldPath, "headers": fieldHeaders, "query": fieldQuery,
	"form": fieldForm, "json": fieldJSON, "body": fieldBody,
}

// Budget of one condition. A condition is a small predicate over a request
// whose body is bounded, so this is generous while stopping a runaway
// comprehension over a large body.
const (
	conditionCostLimit  = 1_000_000
	maxConditionSize    = 10_000
	conditionCostModelV = 1
)

// conditionEnv is built once: a cel.Env type-checks every library
// declaration when it is made. Library versions are pinned so an upgrade of
// cel-go cannot change what saved conditions may call.
var conditionEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(varRequest, cel.MapType(cel.StringType, cel.DynType)),
		cel.OptionalTypes(cel.OptionalTypesVersion(4)),
		ext.Strings(ext.StringsVersion(5)),
		cel.CostModelVersion(conditionCostModelV),
		// JSON numbers arrive as int or double; let request.json.n > 1
		// work either way.
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(maxConditionSize),
	)
})

// condition is a compiled When expression.
type condition struct {
	prg cel.Program
	// needs are the request fields the expression reads.
	needs fieldMask
}

// compileCondition parses and checks src, refusing anything that cannot
// be a bool or that reads a request field that does not exist.
func compileCondition(src string) (*condition, []issue) {
	env, err := conditionEnv()
	if err != nil {
		panic(fmt.Sprintf("faults: building the CEL environment: %v", err))
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, celIssues(iss)
	}
	if k := ast.OutputType().Kind(); k != types.BoolKind && k != types.DynKind {
		line, col := startLocation(src)
		return nil, []issue{{line: line, column: col,
			message: "the condition must be true or false, but it is a " + cel.FormatCELType(ast.OutputType())}}
	}
	needs, issues := requestUse(ast.NativeRep())
	if len(issues) > 0 {
		return nil, issues
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(conditionCostLimit))
	if err != nil {
		return nil, []issue{{line: 1, column: 1, message: err.Error()}}
	}
	return &condition{prg: prg, needs: needs}, nil
}

// celIssues converts CEL issues to 1-based positions (CEL's columns are
// 0-based).
func celIssues(iss *cel.Issues) []issue {
	errs := iss.Errors()
	out := make([]issue, 0, len(errs))
	for _, e := range errs {
		out = append(out, issue{line: max(e.Location.Line(), 1), column: e.Location.Column() + 1, message: e.Message})
	}
	return out
}

// startLocation is where the expression's text begins, past leading
// blanks: the place to report a problem with the expression as a whole.
func startLocation(src string) (line, column int) {
	line, column = 1, 1
	for _, r := range src {
		switch {
		case r == '\n':
			line, column = line+1, 1
		case unicode.IsSpace(r):
			column++
		default:
			return line, column
		}
	}
	return 1, 1
}

// requestUse finds the request fields an expression reads, and reports
// reads of fields that do not exist, which would otherwise fail silently
// at run time (a misspelt request.methd would never hold). A use of the
// request map other than a constant field name reads every field.
func requestUse(a *celast.AST) (fieldMask, []issue) {
	var needs fieldMask
	var issues []issue
	named := map[int64]bool{} // ids of request idents read by constant name
	celast.PreOrderVisit(a.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		target, field, ok := constantSelect(e)
		if !ok || target.Kind() != celast.IdentKind || target.AsIdent() != varRequest {
			return
		}
		named[target.ID()] = true
		bit, known := requestFields[field]
		if !known {
			loc := a.SourceInfo().GetStartLocation(e.ID())
			issues = append(issues, issue{line: max(loc.Line(), 1), column: loc.Column() + 1,
				message: fmt.Sprintf("request has no field %q (it has %s)", field, knownFieldList())})
		}
		needs |= bit
	}))
	celast.PreOrderVisit(a.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.IdentKind && e.AsIdent() == varRequest && !named[e.ID()] {
			needs = fieldAll
		}
	}))
	return needs, issues
}

// constantSelect recognizes x.f, x.?f, x["f"] and x[?"f"], returning x and f.
func constantSelect(e celast.Expr) (celast.Expr, string, bool) {
	switch e.Kind() {
	case celast.SelectKind:
		s := e.AsSelect()
		return s.Operand(), s.FieldName(), true
	case celast.CallKind:
		c := e.AsCall()
		fn := c.FunctionName()
		if (fn != operators.Index && fn != operators.OptIndex && fn != operators.OptSelect) || len(c.Args()) != 2 {
			return nil, "", false
		}
		key := c.Args()[1]
		if key.Kind() != celast.LiteralKind {
			return nil, "", false
		}
		s, ok := key.AsLiteral().(types.String)
		return c.Args()[0], string(s), ok
	}
	return nil, "", false
}

// knownFieldList names the request fields for error messages.
func knownFieldList() string {
	names := make([]string, 0, len(requestFields))
	for name := range requestFields {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// eval runs the condition. A read of a key the request lacks means the
// request is not one the rule is about: false, not an error.
func (c *condition) eval(act *activation) (bool, error) {
	out, _, err := c.prg.Eval(act)
	if err != nil {
		if strings.HasPrefix(err.Error(), "no such key") {
			return false, nil
		}
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the condition evaluated to %s, not true or false", out.Type().TypeName())
	}
	return bool(b), nil
}

// activation is the request variable of one Match, built on first use and
// only with the fields the rule set's conditions read.
type activation struct {
	r       *http.Request
	body    []byte
	needs   fieldMask
	request ref.Val
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	if name != varRequest {
		return nil, false
	}
	if a.request == nil {
		a.request = buildRequest(a.r, a.body, a.needs)
	}
	return a.request, true
}

// Parent implements interpreter.Activation; there is none.
func (a *activation) Parent() interpreter.Activation { return nil }

// buildRequest makes the request variable with the fields in needs.
func buildRequest(r *http.Request, body []byte, needs fieldMask) ref.Val {
	m := make(map[string]any, 7)
	if needs&fieldMethod != 0 {
		m["method"] = r.Method
	}
	if needs&fieldPath != 0 {
		m["path"] = r.URL.Path
	}
	if needs&fieldHeaders != 0 {
		m["headers"] = headerMap(r)
	}
	if needs&fieldQuery != 0 {
		m["query"] = firstValues(r.URL.Query())
	}
	if needs&fieldForm != 0 {
		m["form"] = formMap(r, body)
	}
	if needs&fieldJSON != 0 {
		m["json"] = jsonValue(body)
	}
	if needs&fieldBody != 0 {
		m["body"] = string(body)
	}
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m)
}

// headerMap lowercases header names, as HTTP/2 writes them, so conditions
// need not guess Go's canonical spelling.
func headerMap(r *http.Request) map[string]string {
	out := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		if len(v) > 0 {
			out[strings.ToLower(k)] = v[0]
		}
	}
	if r.Host != "" {
		// Go moves Host out of the header map; conditions expect it there.
		out["host"] = r.Host
	}
	return out
}

// firstValues keeps the first value of each parameter.
func firstValues(v url.Values) map[string]string {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

// formMap decodes a url-encoded body. Bodies of other types read as an
// empty form.
func formMap(r *http.Request, body []byte) map[string]string {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isForm(ct) {
		return map[string]string{}
	}
	return parseForm(string(body))
}

// isForm reports whether a content type is a url-encoded form. It is
// looser than mime.ParseMediaType, and allocates nothing.
func isForm(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// parseForm keeps the first value of each parameter of a url-encoded
// string, skipping malformed pairs as url.ParseQuery does. It exists
// because building url.Values first, then dropping all but the first
// values, doubled the allocations of a condition over a form.
func parseForm(s string) map[string]string {
	out := make(map[string]string, strings.Count(s, "&")+1)
	for pair := range strings.SplitSeq(s, "&") {
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out
}

// jsonValue decodes the body with the script engine's number rules, so a
// condition and a script see the same payload the same way; anything that
// is not a JSON object or array reads as null.
func jsonValue(body []byte) ref.Val {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
		return types.NullValue
	}
	v, err := script.DecodeJSON(trimmed)
	if err != nil {
		return types.NullValue
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}
