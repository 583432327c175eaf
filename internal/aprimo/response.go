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
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"strconv"
	"strings"
	"time"
)

// Token is an access token and what came with it.
type Token struct {
	AccessToken string
	// TokenType is as returned; "Bearer" if the answer had none.
	TokenType string
	// RefreshToken is "" if the answer had none.
	RefreshToken string
	Scope        string
	// IssuedAt is when the request was sent, so that ExpiresAt errs on the early side.
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Lifetime is how long the token was issued for.
func (t *Token) Lifetime() time.Duration { return t.ExpiresAt.Sub(t.IssuedAt) }

// maxLifetime caps expires_in. Aprimo issues 1 to 60 minutes; a lifetime of years is a
// server bug, and with the cap the operator still refreshes at least daily.
const maxLifetime = 24 * time.Hour

// tokenAnswer is a parsed 200 answer.
type tokenAnswer struct {
	accessToken, tokenType, refreshToken, scope string
	lifetime                                    time.Duration
}

// parseTokenResponse checks a 200 body (RFC 6749 §5.1). Its errors never quote the body.
func parseTokenResponse(body []byte) (tokenAnswer, error) {
	var raw struct {
		AccessToken  json.RawMessage `json:"access_token"`
		TokenType    json.RawMessage `json:"token_type"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
		RefreshToken json.RawMessage `json:"refresh_token"`
		Scope        json.RawMessage `json:"scope"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return tokenAnswer{}, errors.New("the body is not a JSON object")
	}
	var a tokenAnswer
	var err error
	if a.accessToken, err = optionalString("access_token", raw.AccessToken); err != nil {
		return tokenAnswer{}, err
	}
	switch {
	case a.accessToken == "":
		return tokenAnswer{}, errors.New("access_token is missing or empty")
	case !isBearerToken(a.accessToken):
		return tokenAnswer{}, errors.New("access_token has characters a bearer token cannot have")
	}
	if a.tokenType, err = optionalString("token_type", raw.TokenType); err != nil {
		return tokenAnswer{}, err
	}
	if a.tokenType == "" {
		a.tokenType = "Bearer"
	}
	if a.refreshToken, err = optionalString("refresh_token", raw.RefreshToken); err != nil {
		return tokenAnswer{}, err
	}
	if !isVisibleASCII(a.refreshToken) {
		return tokenAnswer{}, errors.New("refresh_token has characters a refresh token cannot have")
	}
	if a.scope, err = optionalString("scope", raw.Scope); err != nil {
		return tokenAnswer{}, err
	}
	if a.lifetime, err = parseExpiresIn(raw.ExpiresIn); err != nil {
		return tokenAnswer{}, err
	}
	return a, nil
}

// optionalString decodes a JSON string field; absent or null gives "".
func optionalString(name string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.New(name + " is not a string")
	}
	return s, nil
}

// parseExpiresIn accepts a JSON number or a numeric string of seconds, which must be
// positive; it caps the result at maxLifetime.
func parseExpiresIn(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("expires_in is missing")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil || !isDecimal(text) {
			return 0, errors.New("expires_in is not a number of seconds")
		}
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, errors.New("expires_in is not a number of seconds")
	}
	secs, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errors.New("expires_in is not a number of seconds")
	}
	switch {
	case math.IsNaN(secs) || secs <= 0:
		return 0, errors.New("expires_in is not positive")
	case secs >= maxLifetime.Seconds():
		return maxLifetime, nil
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// isDecimal accepts "3600" and "3600.5" only.
func isDecimal(s string) bool {
	whole, frac, hasDot := strings.Cut(s, ".")
	return isDigits(whole) && (!hasDot || isDigits(frac))
}

// isBearerToken checks RFC 6750 b64token syntax: the token goes into HTTP headers.
func isBearerToken(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// isVisibleASCII checks RFC 6749 VSCHAR (%x20-7E).
func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// oauthError is an RFC 6749 §5.2 error body.
type oauthError struct {
	code, description string
}

func parseOAuthError(body []byte) (oauthError, bool) {
	var raw struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription json.RawMessage `json:"error_description"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return oauthError{}, false
	}
	code, err := optionalString("error", raw.Error)
	if err != nil || code == "" {
		return oauthError{}, false
	}
	desc, _ := optionalString("error_description", raw.ErrorDescription)
	return oauthError{code: code, description: desc}, true
}

// classForCode maps an RFC 6749 §5.2 code; "" for codes it does not know.
func classForCode(code string) ErrorClass {
	switch code {
	case "invalid_client":
		return ClassInvalidClient
	case "invalid_grant":
		return ClassInvalidGrant
	case "invalid_scope":
		return ClassInvalidScope
	case "unauthorized_client", "unsupported_grant_type", "invalid_request", "access_denied":
		return ClassUnauthorizedClient
	case "server_error", "temporarily_unavailable":
		return ClassUnavailable
	}
	return ""
}

const maxDescription = 200

// sanitizeDescription keeps at most 200 printable ASCII characters of a server's
// error_description, and drops it entirely if it quotes a secret the request sent.
func sanitizeDescription(s string, secrets secretSet) string {
	if secrets.quotes(s) {
		return ""
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if b.Len() >= maxDescription {
			break
		}
		switch {
		case r > ' ' && r < 0x7f:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r <= ' ' || r == 0x7f:
			space = true
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte('?')
		}
	}
	out := b.String()
	if len(out) > maxDescription {
		out = strings.TrimSpace(out[:maxDescription])
	}
	if secrets.quotes(out) {
		return ""
	}
	return out
}

// sanitizeCode keeps an error code only if it has RFC 6749 syntax and is short.
func sanitizeCode(code string, secrets secretSet) string {
	if len(code) > 64 || secrets.quotes(code) {
		return ""
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return ""
		}
	}
	return code
}

// looksHTML spots login pages and proxy error pages.
func looksHTML(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	return bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}
