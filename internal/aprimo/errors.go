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
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrorClass says what kind of failure a token request met; the controller maps each
// class to a condition reason.
type ErrorClass string

const (
	// ClassHostNotAllowed: the base URL is not https, has user info, or its host is not
	// in the allowlist. Nothing was sent.
	ClassHostNotAllowed ErrorClass = "HostNotAllowed"
	// ClassInvalidClient: OAuth invalid_client, or a 401 without an OAuth error body.
	// A new registration answers this for up to 15 minutes while Aprimo's cache catches up.
	ClassInvalidClient ErrorClass = "InvalidClient"
	// ClassUnauthorizedClient: unauthorized_client, unsupported_grant_type,
	// invalid_request, or a 403: the registration does not allow this flow.
	ClassUnauthorizedClient ErrorClass = "UnauthorizedClient"
	// ClassInvalidGrant: the user token or refresh token was refused.
	ClassInvalidGrant ErrorClass = "InvalidGrant"
	// ClassInvalidScope: a requested scope is unknown or not allowed.
	ClassInvalidScope ErrorClass = "InvalidScope"
	// ClassRateLimited: HTTP 429; see Error.RetryAfter.
	ClassRateLimited ErrorClass = "RateLimited"
	// ClassUnavailable: 5xx, network errors, timeouts, TLS errors.
	ClassUnavailable ErrorClass = "EndpointUnavailable"
	// ClassInvalidResponse: a redirect (never followed), a 200 that is not a valid token,
	// an HTML page, a body over the size limit, or another 4xx without an OAuth error.
	ClassInvalidResponse ErrorClass = "InvalidResponse"
)

// Error is the only error type the client returns. It never holds a secret: descriptions
// and causes that quote one are dropped.
type Error struct {
	Class ErrorClass
	// StatusCode is 0 when no HTTP response arrived.
	StatusCode int
	// OAuthError is the RFC 6749 §5.2 error code, e.g. "invalid_grant", when the body had one.
	OAuthError string
	// Description is the server's error_description, sanitized; may be "".
	Description string
	// RetryAfter comes from the Retry-After header; 0 if absent or unparseable.
	RetryAfter time.Duration
	// Sent: the request may have reached the server (a connection was obtained).
	Sent bool
	// Answered: an HTTP status line was received.
	Answered bool
	// Expired: HTTP 401 with an empty (or null) body, which Aprimo's documents
	// say means the token presented has expired.
	Expired bool
	// Err is the underlying cause, for errors.Is.
	Err error

	msg string
}

func (e *Error) Error() string {
	msg := e.msg
	if msg == "" {
		msg = "Aprimo token request failed: " + string(e.Class)
		if e.OAuthError != "" {
			msg += " (" + e.OAuthError + ")"
		}
		if e.StatusCode != 0 {
			msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
		}
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf("; retry after %s", e.RetryAfter)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// RefreshTokenSpent reports whether a refresh token sent in this request must be treated
// as consumed and never sent again. Aprimo kills a refresh token the moment it answers a
// refresh, so the token is spent when the server refused it (invalid_grant), when it may
// have answered with a successor we never read (sent but not answered, e.g. a timeout or a
// reset after writing), when it answered 2xx with a body we could not use, and when a
// gateway answered 500, 502 or 504: the origin may have rotated the token behind it.
// It is not spent when nothing was sent, for 429 and 503 (the server says it did not
// process the request), and for other error answers, which refuse before redeeming.
func (e *Error) RefreshTokenSpent() bool {
	switch {
	case !e.Sent:
		return false
	case e.OAuthError == "invalid_grant":
		return true
	case !e.Answered:
		return true
	case e.StatusCode == 500, e.StatusCode == 502, e.StatusCode == 504:
		return true
	default:
		return e.StatusCode >= 200 && e.StatusCode < 300
	}
}

// ClassOf returns the class of an *Error in err's chain, or "" if there is none.
func ClassOf(err error) ErrorClass {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ""
}

// maxRetryAfter caps Retry-After: nothing in the operator should sleep longer than a day,
// and a cap keeps now+RetryAfter from overflowing.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter parses a Retry-After value, delta-seconds or an HTTP-date relative to
// now. It returns 0 when v is empty, unparseable or in the past, and at most 24h.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isDigits(v) {
		v = strings.TrimLeft(v, "0")
		if len(v) > 6 { // over 11 days: capped anyway, and no overflow
			return maxRetryAfter
		}
		n, _ := strconv.Atoi(v) // "" (all zeros) gives 0
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return min(d, maxRetryAfter)
	}
	return 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// secretSet holds every 8-byte window of the secrets a request sent, to recognise text
// that quotes one. A secret shorter than 8 bytes is matched whole.
type secretSet struct {
	windows map[string]struct{}
	short   []string
}

const leakWindow = 8

func newSecretSet(secrets ...string) secretSet {
	s := secretSet{windows: map[string]struct{}{}}
	for _, v := range secrets {
		if len(v) < leakWindow {
			if v != "" {
				s.short = append(s.short, v)
			}
			continue
		}
		for i := 0; i+leakWindow <= len(v); i++ {
			s.windows[v[i:i+leakWindow]] = struct{}{}
		}
	}
	return s
}

// quotes reports whether text contains 8 consecutive bytes of any secret.
func (s secretSet) quotes(text string) bool {
	for _, v := range s.short {
		if strings.Contains(text, v) {
			return true
		}
	}
	if len(s.windows) == 0 {
		return false
	}
	for i := 0; i+leakWindow <= len(text); i++ {
		if _, ok := s.windows[text[i:i+leakWindow]]; ok {
			return true
		}
	}
	return false
}

// scrub returns err unless its text quotes a secret (a server can put anything in a
// malformed answer that Go then quotes); then it returns an error that keeps only the
// well-known causes errors.Is callers look for.
func (s secretSet) scrub(err error) error {
	if err == nil || !s.quotes(err.Error()) {
		return err
	}
	for _, known := range []error{
		context.DeadlineExceeded, context.Canceled, io.ErrUnexpectedEOF, io.EOF,
		syscall.ECONNRESET, syscall.ECONNREFUSED,
	} {
		if errors.Is(err, known) {
			return fmt.Errorf("details withheld because they quoted a credential: %w", known)
		}
	}
	return errors.New("details withheld because they quoted a credential")
}
