// Package planted reads variables every way TestScanFindsUndeclaredReads
// must catch; it is never built.
package planted

import "os"

const name = "NOT_DECLARED_CONST"

type env struct{}

func (env) Int(string, int, int, int) int { return 0 }
func (env) Fail(string, string)           {}

var _ = os.Getenv("NOT_DECLARED_GETENV")
var _, _ = os.LookupEnv("NOT_DECLARED_LOOKUP")
var _ = os.Getenv(name)
var _ = os.Getenv(os.Args[0])
var _ = env{}.Int("NOT_DECLARED_INT", 1, 0, 2)
var _ = func() { env{}.Fail("NOT_DECLARED_FAIL", "x") }

// Declared, or passed through: not reported.
var _ = os.Getenv("LOG_LEVEL")
var _ = os.Getenv("PATH")
var _ = env{}.Int("FORWARDER_MAX_ATTEMPTS", 8, 1, 100)
