package readme

import (
	"reflect"
	"testing"
)

func TestRowsAndCodes(t *testing.T) {
	text := "intro\n\n| status | reasons |\n|---|---|\n| 400 | `bad_request`, `unknown_source` |\n| 429 | `busy`: retry |\n\nafter\n| a | b |\n|---|---|\n| 1 | `x` |\n"
	want := [][]string{{"400", "`bad_request`, `unknown_source`"}, {"429", "`busy`: retry"}, {"1", "`x`"}}
	if got := Rows(text); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rows = %q, want %q", got, want)
	}
	if got := Codes(want[0][1]); !reflect.DeepEqual(got, []string{"bad_request", "unknown_source"}) {
		t.Fatalf("Codes = %q", got)
	}
	if got := Statuses(t, text, 0, 1); !reflect.DeepEqual(got, map[string]int{"bad_request": 400, "unknown_source": 400, "busy": 429, "x": 1}) {
		t.Fatalf("Statuses = %v", got)
	}
}

// An escaped pipe is part of its cell, as Markdown renders it.
func TestRowsKeepEscapedPipes(t *testing.T) {
	got := Rows("| a | b |\n|---|---|\n| `x [-p ios\\|android]` | y \\| z |\n")
	want := [][]string{{"`x [-p ios|android]`", "y | z"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rows = %q, want %q", got, want)
	}
}

func TestSectionOfADoc(t *testing.T) {
	if s := Section(t, "docs/verify.md", "\n## Reasons\n", "\n## Verify settings"); len(Rows(s)) == 0 {
		t.Fatal("verify's Reasons table has no rows")
	}
}
