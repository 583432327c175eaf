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
	"fmt"
	"math"
	"testing"
	"time"
)

// constRandom returns a jitter source that always answers v.
func constRandom(v float64) func() float64 { return func() float64 { return v } }

func TestNextAttemptTransientBackoff(t *testing.T) {
	// With now on a whole second, the result is now + wait rounded up to a
	// whole second, and the wait is at least 1s. Expected values derived by hand:
	//   random()=0:     wait 0 -> floor 1s -> now+1s, for every attempt.
	//   random()=0.999: wait 0.999*min(2^(n-1)s, 5m) -> 1s floor for n=1, else
	//                   just below 2^(n-1)s, rounded up to 2^(n-1)s; 5m from n=10.
	type testCase struct {
		attempts int32
		random   float64
		want     time.Duration
	}
	tests := map[string]testCase{
		"attempt 0 is treated like the first":           {attempts: 0, random: 0.999, want: time.Second},
		"negative attempts are treated like the first":  {attempts: -3, random: 0.999, want: time.Second},
		"huge attempts are capped at 5m without a loop": {attempts: math.MaxInt32, random: 0.999, want: 5 * time.Minute},
		"jitter 0.5 on attempt 5 waits exactly 8s":      {attempts: 5, random: 0.5, want: 8 * time.Second},
	}
	for n := int32(1); n <= 12; n++ {
		tests[fmt.Sprintf("attempt %d with no jitter waits the 1s floor", n)] = testCase{attempts: n, random: 0, want: time.Second}
	}
	maxJitter := []time.Duration{
		1:  1 * time.Second, // 0.999s, raised to the 1s floor
		2:  2 * time.Second,
		3:  4 * time.Second,
		4:  8 * time.Second,
		5:  16 * time.Second,
		6:  32 * time.Second,
		7:  64 * time.Second,
		8:  128 * time.Second,
		9:  256 * time.Second,
		10: 5 * time.Minute, // 512s capped at 300s
		11: 5 * time.Minute,
		12: 5 * time.Minute,
	}
	for n := int32(1); n <= 12; n++ {
		tests[fmt.Sprintf("attempt %d with full jitter waits up to %v", n, maxJitter[n])] = testCase{attempts: n, random: 0.999, want: maxJitter[n]}
	}

	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := NextAttempt(t0, Failure{Attempts: tc.attempts}, time.Time{}, constRandom(tc.random))
			if want := t0.Add(tc.want); !got.Equal(want) {
				t.Errorf("NextAttempt = now+%v, want now+%v", got.Sub(t0), tc.want)
			}
		})
	}
}

func TestNextAttemptStalledBackoff(t *testing.T) {
	// Stalled: base 30s doubling to 10m, plus up to 10%. With now on a whole
	// second and a base of whole seconds, random()=0 gives now+base and
	// random()=0.999 gives base*1.0999, rounded up: now+1.1*base.
	bases := []time.Duration{
		1: 30 * time.Second,
		2: time.Minute,
		3: 2 * time.Minute,
		4: 4 * time.Minute,
		5: 8 * time.Minute,
		6: 10 * time.Minute, // 16m capped
		7: 10 * time.Minute,
		8: 10 * time.Minute,
	}
	type testCase struct {
		attempts int32
		random   float64
		want     time.Duration
	}
	tests := map[string]testCase{
		"huge attempts are capped at 10m plus 10%": {attempts: math.MaxInt32, random: 0.999, want: 11 * time.Minute},
		"attempt 0 is treated like the first":      {attempts: 0, random: 0, want: 30 * time.Second},
		"jitter 0.5 on the first attempt adds 5%":  {attempts: 1, random: 0.5, want: 32 * time.Second}, // 31.5s rounded up
	}
	for n := int32(1); n < int32(len(bases)); n++ {
		tests[fmt.Sprintf("attempt %d with no jitter waits %v", n, bases[n])] = testCase{
			attempts: n, random: 0, want: bases[n],
		}
		tests[fmt.Sprintf("attempt %d with full jitter waits up to %v", n, bases[n]*11/10)] = testCase{
			attempts: n, random: 0.999, want: bases[n] * 11 / 10,
		}
	}

	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := NextAttempt(t0, Failure{Attempts: tc.attempts, Stalled: true}, time.Time{}, constRandom(tc.random))
			if want := t0.Add(tc.want); !got.Equal(want) {
				t.Errorf("NextAttempt = now+%v, want now+%v", got.Sub(t0), tc.want)
			}
		})
	}
}

func TestNextAttempt(t *testing.T) {
	tests := map[string]struct {
		now            time.Time
		failure        Failure
		tokenExpiresAt time.Time
		random         float64
		want           time.Time
	}{
		"Retry-After longer than the backoff is waited": {
			now: t0, failure: Failure{Attempts: 1, RetryAfter: 90 * time.Second},
			want: t0.Add(1*time.Minute + 30*time.Second),
		},
		"Retry-After is capped at 15m": {
			now: t0, failure: Failure{Attempts: 1, RetryAfter: time.Hour},
			want: t0.Add(15 * time.Minute),
		},
		"Retry-After exactly 15m is kept": {
			now: t0, failure: Failure{Attempts: 1, RetryAfter: 15 * time.Minute}, random: 0.999,
			want: t0.Add(15 * time.Minute),
		},
		"Retry-After shorter than the backoff does not shorten it": {
			now: t0, failure: Failure{Attempts: 10, RetryAfter: 45 * time.Second}, random: 0.999,
			want: t0.Add(5 * time.Minute), // 299.7s rounded up
		},
		"Retry-After shorter than the stalled backoff does not shorten it": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true, RetryAfter: 10 * time.Second},
			want: t0.Add(30 * time.Second),
		},
		"Retry-After longer than the stalled backoff is waited": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true, RetryAfter: 2 * time.Minute},
			want: t0.Add(2 * time.Minute),
		},
		"Retry-After below 1s still waits the 1s floor": {
			now: t0, failure: Failure{Attempts: 1, RetryAfter: 500 * time.Millisecond},
			want: t0.Add(time.Second),
		},
		"negative Retry-After is ignored": {
			now: t0, failure: Failure{Attempts: 3, RetryAfter: -time.Minute}, random: 0.999,
			want: t0.Add(4 * time.Second),
		},
		"sub-second now is rounded up to the next whole second": {
			now: t0.Add(250 * time.Millisecond), failure: Failure{Attempts: 1},
			want: t0.Add(2 * time.Second), // now+1s = x+1.25s -> x+2s
		},
		"sub-second now with a long wait is rounded up": {
			now: t0.Add(999 * time.Millisecond), failure: Failure{Attempts: 1, Stalled: true},
			want: t0.Add(31 * time.Second), // x+30.999s -> x+31s
		},
		"token expiring before the next attempt cuts the wait to 2s before expiry": {
			now: t0, failure: Failure{Attempts: 5, Stalled: true}, tokenExpiresAt: t0.Add(time.Minute),
			want: t0.Add(58 * time.Second), // latest x+58s, already a whole second
		},
		"token expiry cuts a full-jitter transient wait": {
			now: t0, failure: Failure{Attempts: 12}, random: 0.999, tokenExpiresAt: t0.Add(30 * time.Second),
			want: t0.Add(28 * time.Second),
		},
		"token expiry beats Retry-After": {
			now: t0, failure: Failure{Attempts: 1, RetryAfter: 10 * time.Minute}, tokenExpiresAt: t0.Add(2 * time.Minute),
			want: t0.Add(1*time.Minute + 58*time.Second),
		},
		"sub-second token expiry: cut then rounded up": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true}, tokenExpiresAt: t0.Add(10*time.Second + 300*time.Millisecond),
			want: t0.Add(9 * time.Second), // latest x+8.3s -> x+9s
		},
		"token expiring 3.5s from now: latest 1.5s from now is still used": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true}, tokenExpiresAt: t0.Add(3500 * time.Millisecond),
			want: t0.Add(2 * time.Second), // latest x+1.5s -> x+2s
		},
		"token expiring exactly 3s from now: latest is not after now+1s, no cut": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true}, tokenExpiresAt: t0.Add(3 * time.Second),
			want: t0.Add(30 * time.Second),
		},
		"token expiring 2s from now: too late to cut, normal backoff": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true}, tokenExpiresAt: t0.Add(2 * time.Second),
			want: t0.Add(30 * time.Second),
		},
		"token already expired: normal backoff": {
			now: t0, failure: Failure{Attempts: 2, Stalled: true}, tokenExpiresAt: t0.Add(-time.Minute),
			want: t0.Add(time.Minute),
		},
		"token expiring after the next attempt: no effect": {
			now: t0, failure: Failure{Attempts: 1, Stalled: true}, tokenExpiresAt: t0.Add(time.Hour),
			want: t0.Add(30 * time.Second),
		},
		"token expiring just after the next attempt's margin: no effect": {
			// next x+30s, latest x+30s: next is not after latest.
			now: t0, failure: Failure{Attempts: 1, Stalled: true}, tokenExpiresAt: t0.Add(32 * time.Second),
			want: t0.Add(30 * time.Second),
		},
		"no token (zero expiry): normal backoff": {
			now: t0, failure: Failure{Attempts: 4, Stalled: true},
			want: t0.Add(4 * time.Minute),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := NextAttempt(tc.now, tc.failure, tc.tokenExpiresAt, constRandom(tc.random))
			if !got.Equal(tc.want) {
				t.Errorf("NextAttempt = x%+v, want x%+v (x = %v)", got.Sub(t0), tc.want.Sub(t0), t0)
			}
			checkNextAttemptBounds(t, tc.now, got)
		})
	}
}

// checkNextAttemptBounds checks what holds for every result of NextAttempt:
// a whole second, at least MinRequeue after now, at most 15m (+10% slack) after it.
func checkNextAttemptBounds(t *testing.T, now, got time.Time) {
	t.Helper()
	if got.Nanosecond() != 0 {
		t.Errorf("NextAttempt = %v, want a whole second", got)
	}
	if got.Before(now.Add(MinRequeue)) {
		t.Errorf("NextAttempt = now%+v, want at least now+%v", got.Sub(now), MinRequeue)
	}
	if limit := now.Add(MaxRetryAfter + MaxRetryAfter/10); got.After(limit) {
		t.Errorf("NextAttempt = now%+v, want at most now+%v", got.Sub(now), limit.Sub(now))
	}
}

func FuzzNextAttempt(f *testing.F) {
	// nowSec, nowNsec, attempts, stalled, retryAfter, hasToken, expiresIn, random
	f.Add(int64(1_741_944_413), int64(0), int32(1), false, int64(0), false, int64(0), 0.0)
	f.Add(int64(1_741_944_413), int64(250_000_000), int32(12), false, int64(0), false, int64(0), 0.999)
	f.Add(int64(1_741_944_413), int64(999_999_999), int32(7), true, int64(0), false, int64(0), 0.999)
	f.Add(int64(1_741_944_413), int64(0), int32(1), false, int64(time.Hour), false, int64(0), 0.5)
	f.Add(int64(1_741_944_413), int64(0), int32(5), true, int64(0), true, int64(time.Minute), 0.3)
	f.Add(int64(1_741_944_413), int64(0), int32(1), true, int64(10*time.Minute), true, int64(3500*time.Millisecond), 0.0)
	f.Add(int64(1_741_944_413), int64(0), int32(1), true, int64(0), true, int64(3*time.Second), 0.0)
	f.Add(int64(1_741_944_413), int64(0), int32(2), false, int64(0), true, int64(-time.Minute), 0.7)
	f.Add(int64(0), int64(0), int32(math.MaxInt32), true, int64(math.MaxInt64), true, int64(math.MinInt64), 0.999999)
	f.Add(int64(-1), int64(-1), int32(math.MinInt32), false, int64(math.MinInt64), true, int64(math.MaxInt64), -3.5)

	f.Fuzz(func(t *testing.T, nowSec, nowNsec int64, attempts int32, stalled bool, retryAfter int64, hasToken bool, expiresIn int64, random float64) {
		// Keep now within a few centuries of 1970 so that no time arithmetic overflows,
		// and the jitter within [0,1) as NextAttempt requires.
		now := time.Unix(nowSec%(1<<34), nowNsec%int64(time.Second)).UTC()
		if math.IsNaN(random) || math.IsInf(random, 0) {
			t.Skip()
		}
		random = math.Abs(math.Mod(random, 1))
		var tokenExpiresAt time.Time
		if hasToken {
			tokenExpiresAt = now.Add(time.Duration(expiresIn))
		}
		failure := Failure{Attempts: attempts, Stalled: stalled, RetryAfter: time.Duration(retryAfter)}

		got := NextAttempt(now, failure, tokenExpiresAt, constRandom(random))

		checkNextAttemptBounds(t, now, got)
		if again := NextAttempt(now, failure, tokenExpiresAt, constRandom(random)); !again.Equal(got) {
			t.Errorf("NextAttempt is not deterministic: %v then %v", got, again)
		}
		// When there is time to try before the stored token expires, the try is before it.
		if latest := tokenExpiresAt.Add(-ExpiryMargin); hasToken && latest.After(now.Add(MinRequeue)) && !got.Before(tokenExpiresAt) {
			t.Errorf("NextAttempt = now%+v, not before the token expiry now%+v", got.Sub(now), tokenExpiresAt.Sub(now))
		}
	})
}
