package tfcheck

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// Both modules refuse at plan an event map whose types the ledger does not
// record, as verify refuses to start on it: the precondition of
// terraform_data.verify_settings evaluated with the variables a caller sets.
func TestVerifySettingsPrecondition(t *testing.T) {
	for _, dir := range []string{"gcp", "aws"} {
		m, err := Load(filepath.Join(tfRoot, "modules", dir))
		if err != nil {
			t.Fatal(err)
		}
		res := m.Resources["terraform_data.verify_settings"]
		pre := block(res, "lifecycle", "precondition")
		if pre == nil {
			t.Fatalf("%s: no precondition on terraform_data.verify_settings", dir)
		}
		for _, c := range []struct {
			eventMap string
			types    []string
			ok       bool
		}{
			{"", []string{"PURCHASE"}, true},
			{"abx:sign_up=LAND", []string{"PURCHASE", "LAND"}, true},
			{" c:buy = purchase , abx:sign_up=land", []string{"PURCHASE", "Land"}, true},
			{"abx:add_to_cart=ADD_TO_CART", []string{"PURCHASE"}, false},
			{"abx:purchase=PURCHASE,abx:sign_up=LAND", []string{"PURCHASE"}, false},
		} {
			list := []cty.Value{}
			for _, s := range c.types {
				list = append(list, cty.StringVal(s))
			}
			e := newEvaluatorWith(m, map[string]cty.Value{"verify_event_map": cty.StringVal(c.eventMap), "ledger_event_types": cty.ListVal(list)})
			cond := e.value(attr(pre, "condition").Expr, instance{})
			if !cond.IsKnown() || cond.Type() != cty.Bool {
				t.Fatalf("%s: the condition did not evaluate (%#v)", dir, cond)
			}
			if cond.True() != c.ok {
				t.Errorf("%s: verify_event_map %q with ledger_event_types %v: passes=%v, want %v", dir, c.eventMap, c.types, cond.True(), c.ok)
			}
			if !c.ok {
				msg := e.value(attr(pre, "error_message").Expr, instance{})
				if s, _ := knownString(msg); !strings.Contains(s, "LEDGER_EVENT_TYPES") || !strings.Contains(s, "VERIFY_EVENT_MAP") {
					t.Errorf("%s: error message %q names not both settings", dir, s)
				}
			}
		}
	}
}
