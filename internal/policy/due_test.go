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

package policy

import (
	"math"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	const inputs, oldInputs = "inputs-v2", "inputs-v1"
	var (
		now        = t0
		renewal    = now.Add(20 * time.Minute)
		expiry     = now.Add(40 * time.Minute)
		retryLater = now.Add(5 * time.Minute)
	)

	tests := map[string]struct {
		obs  Observation
		want Decision
	}{
		// Annotation beats everything.
		"annotation requests a token while the stored one is fresh": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: inputs, Inputs: inputs,
				RefreshRequested: true,
			},
			want: Decision{Request: true, Why: "refresh requested by annotation"},
		},
		"annotation requests a token during a failure backoff": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 3, NextAttempt: retryLater, FailedInputs: inputs,
				RefreshRequested: true,
			},
			want: Decision{Request: true, Why: "refresh requested by annotation"},
		},
		"annotation requests a token when none is stored and inputs changed after a failure": {
			obs: Observation{
				Now: now, Inputs: inputs,
				FailedAttempts: 1, NextAttempt: retryLater, FailedInputs: oldInputs,
				RefreshRequested: true,
			},
			want: Decision{Request: true, Why: "refresh requested by annotation"},
		},

		"a new bootstrap token is used at once, also during a failure backoff": {
			obs: Observation{
				Now: now, Inputs: inputs, FailedAttempts: 3, NextAttempt: retryLater, FailedInputs: inputs,
				NewBootstrap: true,
			},
			want: Decision{Request: true, Why: "a new bootstrap refresh token was supplied"},
		},
		// A success whose status was never written.
		"a token issued after the last failure supersedes it": {
			obs: Observation{
				Now: now, HasToken: true, TokenIssuedAt: now.Add(-time.Minute), TokenExpiresAt: expiry, TokenRenewal: renewal,
				TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 2, LastFailure: now.Add(-2 * time.Minute), NextAttempt: now.Add(-time.Second), FailedInputs: inputs,
			},
			want: Decision{WakeAt: renewal},
		},
		"a token issued before the last failure does not": {
			obs: Observation{
				Now: now, HasToken: true, TokenIssuedAt: now.Add(-3 * time.Minute), TokenExpiresAt: expiry, TokenRenewal: renewal,
				TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 2, LastFailure: now.Add(-2 * time.Minute), NextAttempt: now.Add(-time.Second), FailedInputs: inputs,
			},
			want: Decision{Request: true, Why: "retry after failure"},
		},

		// After a failure.
		"changed inputs after a failure retry at once, ignoring the backoff": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: oldInputs, Inputs: inputs,
				FailedAttempts: 4, NextAttempt: retryLater, FailedInputs: oldInputs,
			},
			want: Decision{Request: true, Why: "inputs changed since the last failure"},
		},
		"changed inputs after a failure retry at once with no token stored": {
			obs: Observation{
				Now: now, Inputs: inputs,
				FailedAttempts: 1, NextAttempt: retryLater, FailedInputs: oldInputs,
			},
			want: Decision{Request: true, Why: "inputs changed since the last failure"},
		},
		"failure retried when the next attempt is exactly now": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 2, NextAttempt: now, FailedInputs: inputs,
			},
			want: Decision{Request: true, Why: "retry after failure"},
		},
		"failure retried when the next attempt has passed": {
			obs: Observation{
				Now: now, Inputs: inputs,
				FailedAttempts: 2, NextAttempt: now.Add(-time.Minute), FailedInputs: inputs,
			},
			want: Decision{Request: true, Why: "retry after failure"},
		},
		"failure with a zero next attempt is retried": {
			obs: Observation{
				Now: now, Inputs: inputs,
				FailedAttempts: 1, FailedInputs: inputs,
			},
			want: Decision{Request: true, Why: "retry after failure"},
		},
		"failure waits for the next attempt when the token expires later": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: now.Add(-time.Minute), TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 2, NextAttempt: retryLater, FailedInputs: inputs,
			},
			want: Decision{WakeAt: retryLater, Failing: true},
		},
		"failure wakes at token expiry when that comes before the next attempt": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: now.Add(time.Minute), TokenRenewal: now.Add(-time.Minute), TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 6, NextAttempt: now.Add(10 * time.Minute), FailedInputs: inputs,
			},
			want: Decision{WakeAt: now.Add(time.Minute), Failing: true},
		},
		"failure with the token already expired waits for the next attempt": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: now.Add(-time.Minute), TokenRenewal: now.Add(-2 * time.Minute), TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 6, NextAttempt: retryLater, FailedInputs: inputs,
			},
			want: Decision{WakeAt: retryLater, Failing: true},
		},
		"failure with the token expiring exactly now waits for the next attempt": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: now, TokenRenewal: now.Add(-time.Minute), TokenInputs: inputs, Inputs: inputs,
				FailedAttempts: 1, NextAttempt: retryLater, FailedInputs: inputs,
			},
			want: Decision{WakeAt: retryLater, Failing: true},
		},
		"failure with no token waits for the next attempt rather than requesting": {
			obs: Observation{
				Now: now, Inputs: inputs,
				FailedAttempts: 1, NextAttempt: retryLater, FailedInputs: inputs,
			},
			want: Decision{WakeAt: retryLater, Failing: true},
		},
		"failure ignores a token expiry when no token is stored": {
			obs: Observation{
				Now: now, HasToken: false, TokenExpiresAt: now.Add(time.Minute), Inputs: inputs,
				FailedAttempts: 1, NextAttempt: retryLater, FailedInputs: inputs,
			},
			want: Decision{WakeAt: retryLater, Failing: true},
		},
		"failure waits even when the stored token was issued with other inputs": {
			// The failed request already used the current inputs; only a further change retries at once.
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: oldInputs, Inputs: inputs,
				FailedAttempts: 1, NextAttempt: retryLater, FailedInputs: inputs,
			},
			want: Decision{WakeAt: retryLater, Failing: true},
		},

		// No failure.
		"no token stored": {
			obs:  Observation{Now: now, Inputs: inputs},
			want: Decision{Request: true, Why: "no token stored"},
		},
		"no token stored, even with stale expiry fields": {
			obs:  Observation{Now: now, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: inputs, Inputs: inputs},
			want: Decision{Request: true, Why: "no token stored"},
		},
		"inputs changed since the token was issued": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: oldInputs, Inputs: inputs,
			},
			want: Decision{Request: true, Why: "inputs changed"},
		},
		"renewal due exactly now": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: now, TokenInputs: inputs, Inputs: inputs,
			},
			want: Decision{Request: true, Why: "renewal due"},
		},
		"renewal overdue": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: now.Add(-time.Hour), TokenRenewal: now.Add(-2 * time.Hour), TokenInputs: inputs, Inputs: inputs,
			},
			want: Decision{Request: true, Why: "renewal due"},
		},
		"renewal due with a zero renewal time": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenInputs: inputs, Inputs: inputs,
			},
			want: Decision{Request: true, Why: "renewal due"},
		},
		"fresh token waits for its renewal time": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: inputs, Inputs: inputs,
			},
			want: Decision{WakeAt: renewal},
		},
		"fresh token one nanosecond before renewal waits": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: now.Add(time.Nanosecond), TokenInputs: inputs, Inputs: inputs,
			},
			want: Decision{WakeAt: now.Add(time.Nanosecond)},
		},
		"fresh token after a cleared failure (no failed attempts) waits, stale failure fields ignored": {
			obs: Observation{
				Now: now, HasToken: true, TokenExpiresAt: expiry, TokenRenewal: renewal, TokenInputs: inputs, Inputs: inputs,
				NextAttempt: now.Add(-time.Hour), FailedInputs: oldInputs,
			},
			want: Decision{WakeAt: renewal},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Decide(tc.obs)
			if got != tc.want {
				t.Errorf("Decide() = %+v, want %+v", got, tc.want)
			}
			if got.Request {
				return
			}
			if got.WakeAt.IsZero() {
				t.Errorf("Decide() returned no request and no WakeAt")
			}
			if got.WakeAt.Before(tc.obs.Now) || got.WakeAt.Equal(tc.obs.Now) {
				t.Errorf("Decide() WakeAt = now%+v, want after now", got.WakeAt.Sub(tc.obs.Now))
			}
			if d := RequeueAfter(tc.obs.Now, got.WakeAt); d < MinRequeue {
				t.Errorf("RequeueAfter = %v, want at least %v", d, MinRequeue)
			}
		})
	}
}

func TestRequeueAfter(t *testing.T) {
	tests := map[string]struct {
		now, wakeAt time.Time
		want        time.Duration
	}{
		"future wake-up is waited for":              {now: t0, wakeAt: t0.Add(5 * time.Minute), want: 5 * time.Minute},
		"sub-second precision is kept above 1s":     {now: t0, wakeAt: t0.Add(1500 * time.Millisecond), want: 1500 * time.Millisecond},
		"exactly 1s is kept":                        {now: t0, wakeAt: t0.Add(time.Second), want: time.Second},
		"under 1s is raised to 1s":                  {now: t0, wakeAt: t0.Add(500 * time.Millisecond), want: time.Second},
		"one nanosecond is raised to 1s":            {now: t0, wakeAt: t0.Add(time.Nanosecond), want: time.Second},
		"wake-up now is raised to 1s, never zero":   {now: t0, wakeAt: t0, want: time.Second},
		"past wake-up is 1s, never negative":        {now: t0, wakeAt: t0.Add(-time.Hour), want: time.Second},
		"zero wake-up time is 1s, never negative":   {now: t0, wakeAt: time.Time{}, want: time.Second},
		"far future does not overflow to negative":  {now: time.Time{}, wakeAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), want: time.Duration(math.MaxInt64)},
		"far past does not overflow to below floor": {now: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), wakeAt: time.Time{}, want: time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := RequeueAfter(tc.now, tc.wakeAt)
			if got != tc.want {
				t.Errorf("RequeueAfter = %v, want %v", got, tc.want)
			}
			if got <= 0 {
				t.Errorf("RequeueAfter = %v, want > 0", got)
			}
		})
	}
}

func TestEarliestFuture(t *testing.T) {
	// Decide only calls earliestFuture with at least one future time; the
	// fallback for none is pinned here directly.
	past, soon, later := t0.Add(-time.Minute), t0.Add(time.Minute), t0.Add(time.Hour)
	tests := map[string]struct {
		ts   []time.Time
		want time.Time
	}{
		"earliest of two future times":          {ts: []time.Time{later, soon}, want: soon},
		"past and zero times are skipped":       {ts: []time.Time{past, {}, later}, want: later},
		"now itself is not in the future":       {ts: []time.Time{t0, later}, want: later},
		"no future time: first non-zero one":    {ts: []time.Time{{}, past, t0}, want: past},
		"only zero times: zero":                 {ts: []time.Time{{}, {}}, want: time.Time{}},
		"no times: zero":                        {ts: nil, want: time.Time{}},
		"only now: now, as the first non-zero":  {ts: []time.Time{t0}, want: t0},
		"future time wins over an earlier past": {ts: []time.Time{past, soon}, want: soon},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := earliestFuture(t0, tc.ts...); !got.Equal(tc.want) {
				t.Errorf("earliestFuture = %v, want %v", got, tc.want)
			}
		})
	}
}
