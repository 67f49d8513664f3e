package attest

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReasonStatusMatchesREADME: every reason of reasonStatus is in the
// README's table of refused exchanges, under its status.
func TestReasonStatusMatchesREADME(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "A refused exchange answers")
	if !ok {
		t.Fatal("README: the table of refused exchanges is missing")
	}
	section, _, _ = strings.Cut(section, "\nChecks that cost nothing")
	row := regexp.MustCompile(`(?m)^\| ([0-9]{3})[^|]*\| (.*) \|$`)
	name := regexp.MustCompile("`([a-z_]+)`")
	documented := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		status, _ := strconv.Atoi(m[1])
		for _, r := range name.FindAllStringSubmatch(m[2], -1) {
			documented[r[1]] = status
		}
	}
	for reason, want := range reasonStatus {
		if reason == reasonNotFound || reason == reasonMethod {
			continue // not an exchange's refusal: no route, or not a POST
		}
		got, ok := documented[reason]
		switch {
		case !ok:
			t.Errorf("README: reason %s (%d) is not in the table", reason, want)
		case got != want:
			t.Errorf("README says %s is %d; the code answers %d", reason, got, want)
		}
	}
}
