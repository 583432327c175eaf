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
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := map[string]struct {
		in   string
		want time.Duration
	}{
		"absent":                  {in: "", want: 0},
		"blank":                   {in: "   ", want: 0},
		"zero":                    {in: "0", want: 0},
		"seconds":                 {in: "30", want: 30 * time.Second},
		"seconds with spaces":     {in: " 120 ", want: 2 * time.Minute},
		"leading zeros":           {in: "0000007", want: 7 * time.Second},
		"negative is not a delta": {in: "-5", want: 0},
		"fraction":                {in: "1.5", want: 0},
		"plus sign":               {in: "+5", want: 0},
		"words":                   {in: "soon", want: 0},
		"huge seconds are capped": {in: "99999999999999999999999", want: 24 * time.Hour},
		"IMF-fixdate":             {in: t0.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		"RFC 850 date":            {in: t0.Add(time.Hour).Format(time.RFC850), want: time.Hour},
		"ANSI C date":             {in: t0.Add(time.Minute).Format(time.ANSIC), want: time.Minute},
		"date in the past":        {in: t0.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		"date now":                {in: t0.Format(http.TimeFormat), want: 0},
		"far future is capped":    {in: t0.AddDate(5, 0, 0).Format(http.TimeFormat), want: 24 * time.Hour},
		"date in another zone":    {in: "Sun, 01 Mar 2026 13:00:00 +0100", want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ParseRetryAfter(tc.in, t0); got != tc.want {
				t.Errorf("ParseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestRefreshTokenSpent(t *testing.T) {
	tests := map[string]struct {
		err  Error
		want bool
	}{
		"nothing sent":                   {err: Error{Class: ClassHostNotAllowed}, want: false},
		"connection refused":             {err: Error{Class: ClassUnavailable}, want: false},
		"sent, no answer (timeout)":      {err: Error{Class: ClassUnavailable, Sent: true}, want: true},
		"invalid_grant":                  {err: Error{Class: ClassInvalidGrant, Sent: true, Answered: true, StatusCode: 400, OAuthError: "invalid_grant"}, want: true},
		"invalid_grant as 401":           {err: Error{Class: ClassInvalidGrant, Sent: true, Answered: true, StatusCode: 401, OAuthError: "invalid_grant"}, want: true},
		"invalid_client":                 {err: Error{Class: ClassInvalidClient, Sent: true, Answered: true, StatusCode: 400, OAuthError: "invalid_client"}, want: false},
		"429":                            {err: Error{Class: ClassRateLimited, Sent: true, Answered: true, StatusCode: 429}, want: false},
		"503":                            {err: Error{Class: ClassUnavailable, Sent: true, Answered: true, StatusCode: 503}, want: false},
		"redirect":                       {err: Error{Class: ClassInvalidResponse, Sent: true, Answered: true, StatusCode: 302}, want: false},
		"200 that could not be parsed":   {err: Error{Class: ClassInvalidResponse, Sent: true, Answered: true, StatusCode: 200}, want: true},
		"200 whose body never came":      {err: Error{Class: ClassUnavailable, Sent: true, Answered: true, StatusCode: 200}, want: true},
		"201 is a success we cannot use": {err: Error{Class: ClassInvalidResponse, Sent: true, Answered: true, StatusCode: 201}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.err.RefreshTokenSpent(); got != tc.want {
				t.Errorf("RefreshTokenSpent() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrorWithoutMessageNamesItsClass(t *testing.T) {
	e := &Error{Class: ClassInvalidGrant, StatusCode: 400, OAuthError: "invalid_grant", Description: "expired", RetryAfter: time.Minute}
	want := "Aprimo token request failed: InvalidGrant (invalid_grant) (HTTP 400): expired; retry after 1m0s"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("reconciling: %w", e)
	if ClassOf(wrapped) != ClassInvalidGrant || ClassOf(errors.New("other")) != "" {
		t.Error("ClassOf does not find the class through wrapping")
	}
}

func TestScrubKeepsKnownCauses(t *testing.T) {
	secrets := newSecretSet("the-client-secret-value")
	tests := map[string]struct {
		err     error
		wantIs  error
		wantMsg string
	}{
		"clean error is kept": {err: context.DeadlineExceeded, wantIs: context.DeadlineExceeded, wantMsg: "context deadline exceeded"},
		"quoting error loses its text, keeps its cause": {
			err:     fmt.Errorf("malformed answer %q: %w", "client-secret-val", context.DeadlineExceeded),
			wantIs:  context.DeadlineExceeded,
			wantMsg: "details withheld because they quoted a credential: context deadline exceeded",
		},
		"quoting error without a known cause": {
			err:     errors.New("echo the-client-secret"),
			wantMsg: "details withheld because they quoted a credential",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := secrets.scrub(tc.err)
			if got.Error() != tc.wantMsg {
				t.Errorf("scrub() = %q, want %q", got, tc.wantMsg)
			}
			if tc.wantIs != nil && !errors.Is(got, tc.wantIs) {
				t.Errorf("scrub() lost %v", tc.wantIs)
			}
			assertNoLeak(t, got, "the-client-secret-value")
		})
	}
}
