package playintegrity

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// CheckToken makes the checks that cost no call to Google: the package is
// one the source configured, and the token has the shape of every Play
// Integrity token. Google documents the token as a JWE of a JWS, the JWE
// with A256KW key wrapping and A256GCM content encryption: in its compact
// form five base64url parts, a header naming those two, a 40-byte wrapped
// key (a 32-byte key, wrapped), a 12-byte IV, the ciphertext and a
// 16-byte tag. Whatever fails here never spends the daily decode quota.
func CheckToken(packageName, token string, pol Policy) error {
	switch {
	case token == "" || len(token) > MaxTokenBytes:
		return fail(ReasonMalformed, "token is %d bytes; want 1 to %d", len(token), MaxTokenBytes)
	case !slices.Contains(pol.PackageNames, packageName):
		return fail(ReasonWrongPackage, "package %q is not configured for this source", packageName)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 5 {
		return fail(ReasonMalformed, "token has %d dot-separated parts; a Play Integrity token (compact JWE) has 5", len(parts))
	}
	var dec [5][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return fail(ReasonMalformed, "token part %d is not base64url", i+1)
		}
		dec[i] = b
	}
	var head struct {
		Alg string `json:"alg"`
		Enc string `json:"enc"`
	}
	switch {
	case json.Unmarshal(dec[0], &head) != nil || head.Alg != "A256KW" || head.Enc != "A256GCM":
		return fail(ReasonMalformed, "token header is not a JWE header with alg A256KW and enc A256GCM")
	case len(dec[1]) != 40 || len(dec[2]) != 12 || len(dec[3]) == 0 || len(dec[4]) != 16:
		return fail(ReasonMalformed, "token parts are %d, %d, %d and %d bytes; want a 40-byte wrapped key, a 12-byte IV, a ciphertext and a 16-byte tag",
			len(dec[1]), len(dec[2]), len(dec[3]), len(dec[4]))
	}
	return nil
}
