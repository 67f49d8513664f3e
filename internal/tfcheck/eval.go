package tfcheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// evaluator computes what the configuration says before any provider runs:
// variables take their defaults (optional attributes filled in, required
// ones unknown), locals are evaluated from them, and every resource, data
// source and module output is unknown. What only a provider knows (ids,
// URLs) stays unknown; what the module decides itself (an entry point, a
// timeout, a role) comes out known.
type evaluator struct {
	m      *Module
	ctx    *hcl.EvalContext
	locals map[string]cty.Value
	busy   map[string]bool
}

func newEvaluator(m *Module) *evaluator { return newEvaluatorWith(m, nil) }

// newEvaluatorWith is newEvaluator with some variables set as a caller
// would set them (tests of a module's own checks).
func newEvaluatorWith(m *Module, set map[string]cty.Value) *evaluator {
	e := &evaluator{m: m, locals: map[string]cty.Value{}, busy: map[string]bool{}}
	vars := map[string]cty.Value{}
	for name, b := range m.Variables {
		if v, ok := set[name]; ok {
			vars[name] = v
			continue
		}
		vars[name] = e.variableValue(name, b)
	}
	root := map[string]cty.Value{
		"var":       objectOrEmpty(vars),
		"path":      cty.DynamicVal,
		"terraform": cty.DynamicVal,
		"module":    cty.DynamicVal,
		"data":      cty.DynamicVal,
		"local":     cty.DynamicVal,
	}
	for key := range m.Resources {
		root[strings.SplitN(key, ".", 2)[0]] = cty.DynamicVal
	}
	e.ctx = &hcl.EvalContext{Variables: root, Functions: e.functions()}
	names := make([]string, 0, len(m.Locals))
	for name := range m.Locals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e.local(name)
	}
	e.ctx.Variables["local"] = objectOrEmpty(e.locals)
	return e
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// variableValue is the variable's default converted to its type, optional
// attributes' defaults applied; unknown when there is no default.
func (e *evaluator) variableValue(name string, b *hclsyntax.Block) cty.Value {
	ty := cty.DynamicPseudoType
	var defaults *typeexpr.Defaults
	if a := attr(b, "type"); a != nil {
		t, d, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		if diags.HasErrors() {
			e.m.Problems = append(e.m.Problems, fmt.Sprintf("%s: variable %s: bad type: %s", e.m.pos(a.SrcRange), name, diags.Error()))
		} else {
			ty, defaults = t, d
		}
	}
	a := attr(b, "default")
	if a == nil {
		return cty.UnknownVal(ty)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		e.m.Problems = append(e.m.Problems, fmt.Sprintf("%s: variable %s: default is not a constant: %s", e.m.pos(a.SrcRange), name, diags.Error()))
		return cty.UnknownVal(ty)
	}
	if v.IsNull() {
		return cty.NullVal(ty)
	}
	if defaults != nil {
		v = defaults.Apply(v)
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		e.m.Problems = append(e.m.Problems, fmt.Sprintf("%s: variable %s: default does not match its type: %v", e.m.pos(a.SrcRange), name, err))
		return cty.UnknownVal(ty)
	}
	return cv
}

// local evaluates a local after the locals it refers to.
func (e *evaluator) local(name string) cty.Value {
	if v, ok := e.locals[name]; ok {
		return v
	}
	a := e.m.Locals[name]
	if a == nil || e.busy[name] {
		return cty.DynamicVal
	}
	e.busy[name] = true
	for _, t := range a.Expr.Variables() {
		if t.RootName() == "local" && len(t) > 1 {
			if ta, ok := t[1].(hcl.TraverseAttr); ok {
				e.local(ta.Name)
			}
		}
	}
	vals := map[string]cty.Value{}
	for n := range e.m.Locals {
		if v, ok := e.locals[n]; ok {
			vals[n] = v
		} else {
			vals[n] = cty.DynamicVal
		}
	}
	ctx := e.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"local": objectOrEmpty(vals)}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		v = cty.DynamicVal
	}
	e.locals[name] = v
	delete(e.busy, name)
	return v
}

// instance is one instance of a resource: its for_each key (or count
// index) and the context its expressions are evaluated in.
type instance struct {
	Key string
	ctx *hcl.EvalContext
}

// instances expands a block by its for_each or count. An unknown for_each
// gives one instance whose each.* is unknown.
func (e *evaluator) instances(b *hclsyntax.Block) []instance {
	if a := attr(b, "for_each"); a != nil {
		v, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !v.CanIterateElements() {
			return []instance{e.child("?", cty.DynamicVal, cty.DynamicVal, cty.NilVal)}
		}
		var out []instance
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			if v.Type().IsSetType() {
				k = val
			}
			key := k.AsString()
			out = append(out, e.child(key, k, val, cty.NilVal))
		}
		return out
	}
	if a := attr(b, "count"); a != nil {
		v, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.Number {
			return []instance{e.child("?", cty.NilVal, cty.NilVal, cty.DynamicVal)}
		}
		n, _ := v.AsBigFloat().Int64()
		var out []instance
		for i := int64(0); i < n; i++ {
			out = append(out, e.child(fmt.Sprint(i), cty.NilVal, cty.NilVal, cty.NumberIntVal(i)))
		}
		return out
	}
	return []instance{{Key: "", ctx: e.ctx}}
}

func (e *evaluator) child(key string, k, v, index cty.Value) instance {
	ctx := e.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{}
	if k != cty.NilVal {
		ctx.Variables["each"] = cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})
	}
	if index != cty.NilVal {
		ctx.Variables["count"] = cty.ObjectVal(map[string]cty.Value{"index": index})
	}
	return instance{Key: key, ctx: ctx}
}

// value evaluates an expression in an instance; errors give unknown.
func (e *evaluator) value(expr hclsyntax.Expression, in instance) cty.Value {
	ctx := in.ctx
	if ctx == nil {
		ctx = e.ctx
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

// knownString returns a known, non-null string value.
func knownString(v cty.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || !s.IsKnown() || s.IsNull() {
		return "", false
	}
	return s.AsString(), true
}

// knownNumber returns a known, non-null number value.
func knownNumber(v cty.Value) (float64, bool) {
	if !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	n, err := convert.Convert(v, cty.Number)
	if err != nil || !n.IsKnown() || n.IsNull() {
		return 0, false
	}
	f, _ := n.AsBigFloat().Float64()
	return f, true
}

// knownStrings returns the elements of a known list, tuple or set; unknown
// elements are returned as "" with ok false.
func knownStrings(v cty.Value) ([]string, bool) {
	if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return nil, false
	}
	ok := true
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, el := it.Element()
		s, known := knownString(el)
		ok = ok && known
		out = append(out, s)
	}
	return out, ok
}

// functions are Terraform's built-ins the modules use, from cty's standard
// library where it has them; any other function called in the module
// returns an unknown value.
func (e *evaluator) functions() map[string]function.Function {
	fns := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "coalesce": stdlib.CoalesceFunc,
		"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"floor": stdlib.FloorFunc, "format": stdlib.FormatFunc, "join": stdlib.JoinFunc,
		"jsondecode": stdlib.JSONDecodeFunc, "jsonencode": stdlib.JSONEncodeFunc, "keys": stdlib.KeysFunc,
		"length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc, "lower": stdlib.LowerFunc,
		"max": stdlib.MaxFunc, "merge": stdlib.MergeFunc, "min": stdlib.MinFunc, "regex": stdlib.RegexFunc,
		"replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc, "substr": stdlib.SubstrFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc, "trimspace": stdlib.TrimSpaceFunc, "upper": stdlib.UpperFunc,
		"values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"can": tryfunc.CanFunc, "try": tryfunc.TryFunc,
		"startswith": stringTest(strings.HasPrefix), "endswith": stringTest(strings.HasSuffix),
		"alltrue": boolFold(true), "anytrue": boolFold(false),
	}
	for _, body := range e.m.bodies {
		// The walk's diagnostics are the callback's, and it returns none.
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok {
				if _, known := fns[call.Name]; !known {
					fns[call.Name] = unknownFunc
				}
			}
			return nil
		})
	}
	return fns
}

var unknownFunc = function.New(&function.Spec{
	VarParam: &function.Parameter{Name: "args", Type: cty.DynamicPseudoType, AllowUnknown: true,
		AllowNull: true, AllowDynamicType: true, AllowMarked: true},
	Type: function.StaticReturnType(cty.DynamicPseudoType),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) { return cty.DynamicVal, nil },
})

func stringTest(test func(s, part string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "part", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// boolFold is alltrue (all true; empty is true) or anytrue.
func boolFold(all bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if !v.IsKnown() {
					return cty.UnknownVal(cty.Bool), nil
				}
				if v.IsNull() || v.True() != all {
					return cty.BoolVal(!all), nil
				}
			}
			return cty.BoolVal(all), nil
		},
	})
}

// Default is what the module deploys when the caller does not set the
// variable name: its default with optional attributes filled in (unknown
// when it has none). The cost model reads the deployed sizes this way.
func (m *Module) Default(name string) (cty.Value, error) {
	b := m.Variables[name]
	if b == nil {
		return cty.NilVal, fmt.Errorf("%s: no variable %q", m.Dir, name)
	}
	return m.eval.variableValue(name, b), nil
}
