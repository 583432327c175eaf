/*
Copyright 2026 The aprimo-credential-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package aprimo

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// JWTExpiry reads the exp claim of a token that is a JWT, without verifying it:
// the operator only needs to know when the token ends, and Aprimo, not the
// operator, checks signatures. It returns the expiry as seen from issuedAt: with an
// iat claim, issuedAt + (exp - iat), which does not depend on the server's clock;
// otherwise exp itself. ok is false for a token that is not a JWT, has no usable
// exp, or would end at or before issuedAt. The result is not capped: a legacy
// refresh token lives 7 days. Nothing of the token is ever returned in an error
// or logged.
func JWTExpiry(token string, issuedAt time.Time) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 8<<10 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	exp, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}, false
	}
	end := time.Unix(int64(exp), 0)
	if claims.Iat != nil {
		if iat, err := claims.Iat.Float64(); err == nil && iat > 0 && iat < exp {
			end = issuedAt.Add(time.Duration(exp-iat) * time.Second)
		}
	}
	if !end.After(issuedAt) {
		return time.Time{}, false
	}
	return end, true
}
