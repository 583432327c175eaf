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

// t0 is a fixed whole-second instant used as "now" or "issued at" throughout the tests.
var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)

func TestRenewBefore(t *testing.T) {
	tests := map[string]struct {
		lifetime  time.Duration
		requested time.Duration
		want      time.Duration
	}{
		"defaults to one third of the lifetime": {
			lifetime: time.Hour, want: 20 * time.Minute,
		},
		"negative request means the default": {
			lifetime: time.Hour, requested: -5 * time.Minute, want: 20 * time.Minute,
		},
		"keeps a requested value within bounds": {
			lifetime: time.Hour, requested: 5 * time.Minute, want: 5 * time.Minute,
		},
		"keeps a requested value equal to the minimum": {
			lifetime: time.Hour, requested: 10 * time.Second, want: 10 * time.Second,
		},
		"raises a requested value below 10s to 10s": {
			lifetime: time.Hour, requested: 3 * time.Second, want: 10 * time.Second,
		},
		"caps a requested value at 90% of the lifetime": {
			lifetime: time.Hour, requested: 59 * time.Minute, want: 54 * time.Minute,
		},
		"caps a requested value longer than the lifetime": {
			lifetime: time.Hour, requested: 2 * time.Hour, want: 54 * time.Minute,
		},
		"default of exactly 10s is kept": {
			lifetime: 30 * time.Second, want: 10 * time.Second,
		},
		"default raised to 10s when that is within the 90% cap (12s lifetime)": {
			// 12s/3 = 4s -> 10s; 90% of 12s = 10.8s does not bite.
			lifetime: 12 * time.Second, want: 10 * time.Second,
		},
		"90% cap applies after the 10s minimum (5s lifetime)": {
			// 5s/3 -> 10s -> capped at 4.5s.
			lifetime: 5 * time.Second, want: 4500 * time.Millisecond,
		},
		"90% cap applies after the 10s minimum (1s lifetime)": {
			lifetime: time.Second, requested: time.Minute, want: 900 * time.Millisecond,
		},
		"one-day lifetime defaults to 8h": {
			lifetime: 24 * time.Hour, want: 8 * time.Hour,
		},
		"zero lifetime gives zero": {
			lifetime: 0, want: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := RenewBefore(tc.lifetime, tc.requested); got != tc.want {
				t.Errorf("RenewBefore(%v, %v) = %v, want %v", tc.lifetime, tc.requested, got, tc.want)
			}
		})
	}
}

func TestRenewalTime(t *testing.T) {
	tests := map[string]struct {
		issuedAt    time.Time
		lifetime    time.Duration
		renewBefore time.Duration
		seed        string
		first       bool
		// Window, derived by hand: [expiresAt - renewBefore - Spread, expiresAt - renewBefore],
		// Spread being 20% of the lifetime where renewBefore leaves room for it,
		// the lower end truncated to the second, as offsets from issuedAt.
		wantEarliest time.Duration
		wantLatest   time.Duration
		// wantWhole is true when the result must be a whole second.
		wantWhole bool
	}{
		"one-hour token renews 20m to 32m before expiry by default": {
			issuedAt: t0, lifetime: time.Hour, seed: "uid-a",
			wantEarliest: 28 * time.Minute, wantLatest: 40 * time.Minute, wantWhole: true,
		},
		"one-hour token with renewBefore 5m renews 5m to 17m before expiry": {
			issuedAt: t0, lifetime: time.Hour, renewBefore: 5 * time.Minute, seed: "uid-b",
			wantEarliest: 43 * time.Minute, wantLatest: 55 * time.Minute, wantWhole: true,
		},
		"one-hour token with renewBefore 45m spreads over the 12m left before 3m": {
			issuedAt: t0, lifetime: time.Hour, renewBefore: 45 * time.Minute, seed: "uid-b2",
			wantEarliest: 3 * time.Minute, wantLatest: 15 * time.Minute, wantWhole: true,
		},
		"renewBefore longer than allowed is capped at 54m of a one-hour token, spread over 3m": {
			issuedAt: t0, lifetime: time.Hour, renewBefore: 59 * time.Minute, seed: "uid-c",
			wantEarliest: 3 * time.Minute, wantLatest: 6 * time.Minute, wantWhole: true,
		},
		"one-day token renews 8h to 12h48m before expiry": {
			issuedAt: t0, lifetime: 24 * time.Hour, seed: "uid-d",
			wantEarliest: 11*time.Hour + 12*time.Minute, wantLatest: 16 * time.Hour, wantWhole: true,
		},
		"12s token renews 10s to 11.4s before expiry": {
			// renewBefore 10s, spread up to 1.4s (5% of 12s held first): [0.6s, 2s]
			// after issue, truncated -> [0s, 2s].
			issuedAt: t0, lifetime: 12 * time.Second, seed: "uid-e",
			wantEarliest: 0, wantLatest: 2 * time.Second, wantWhole: true,
		},
		"5s token renews 4.5s to 4.75s before expiry": {
			// renewBefore 4.5s, jitter up to 0.25s: [0.25s, 0.5s] after issue, truncated -> issue time.
			issuedAt: t0, lifetime: 5 * time.Second, seed: "uid-f",
			wantEarliest: 0, wantLatest: 500 * time.Millisecond, wantWhole: true,
		},
		"sub-second issue time: result is truncated to the second": {
			// 1h token issued at .7s: window [28m0.7s, 40m0.7s], truncated lower end 28m0.0s.
			issuedAt: t0.Add(700 * time.Millisecond), lifetime: time.Hour, seed: "uid-g",
			wantEarliest: 28*time.Minute - 700*time.Millisecond, wantLatest: 40 * time.Minute, wantWhole: true,
		},
		"sub-second issue time and short lifetime: never before issuedAt": {
			// 5s token issued at x+0.5s: renewBefore 4.5s, jitter up to 0.25s, so renewal in
			// [x+0.75s, x+1s]; truncating would land at x, before the token was issued.
			issuedAt: t0.Add(500 * time.Millisecond), lifetime: 5 * time.Second, seed: "uid-h",
			wantEarliest: 0, wantLatest: 500 * time.Millisecond,
		},
		"sub-second issue time and 2s lifetime: never before issuedAt": {
			// renewBefore 1.8s, jitter up to 0.1s: [0.1s, 0.2s] after issue at .5s; truncating
			// would land at .0s, before the token was issued.
			issuedAt: t0.Add(500 * time.Millisecond), lifetime: 2 * time.Second, seed: "uid-i",
			wantEarliest: 0, wantLatest: 200 * time.Millisecond,
		},
		"first one-hour token renews 20m to 40m before expiry": {
			// Half of the 40m between issue and expiry - renewBefore.
			issuedAt: t0, lifetime: time.Hour, seed: "uid-k", first: true,
			wantEarliest: 20 * time.Minute, wantLatest: 40 * time.Minute, wantWhole: true,
		},
		"first 60s token renews 20s to 40s before expiry": {
			issuedAt: t0, lifetime: time.Minute, seed: "uid-l", first: true,
			wantEarliest: 20 * time.Second, wantLatest: 40 * time.Second, wantWhole: true,
		},
		"first token with renewBefore at its 90% cap: the same 3m as any other": {
			issuedAt: t0, lifetime: time.Hour, renewBefore: 59 * time.Minute, seed: "uid-m", first: true,
			wantEarliest: 3 * time.Minute, wantLatest: 6 * time.Minute, wantWhole: true,
		},
		"sub-second issue time and 1s lifetime: never before issuedAt": {
			issuedAt: t0.Add(900 * time.Millisecond), lifetime: time.Second, seed: "uid-j",
			wantEarliest: 0, wantLatest: 100 * time.Millisecond,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			expiresAt := tc.issuedAt.Add(tc.lifetime)
			got := RenewalTime(tc.issuedAt, expiresAt, tc.renewBefore, tc.seed, tc.first)

			earliest, latest := tc.issuedAt.Add(tc.wantEarliest), tc.issuedAt.Add(tc.wantLatest)
			if got.Before(earliest) || got.After(latest) {
				t.Errorf("RenewalTime = issuedAt%+v, want within [issuedAt%+v, issuedAt%+v]",
					got.Sub(tc.issuedAt), tc.wantEarliest, tc.wantLatest)
			}
			if got.Before(tc.issuedAt) {
				t.Errorf("RenewalTime = %v is before issuedAt %v", got, tc.issuedAt)
			}
			if !got.Before(expiresAt) {
				t.Errorf("RenewalTime = %v is not before expiresAt %v", got, expiresAt)
			}
			if tc.wantWhole && got.Nanosecond() != 0 {
				t.Errorf("RenewalTime = %v is not a whole second", got)
			}
			if again := RenewalTime(tc.issuedAt, expiresAt, tc.renewBefore, tc.seed, tc.first); !again.Equal(got) {
				t.Errorf("RenewalTime is not deterministic: %v then %v", got, again)
			}
		})
	}
}

func TestRenewalTimeWithoutLifetimeIsExpiry(t *testing.T) {
	tests := map[string]struct {
		issuedAt  time.Time
		expiresAt time.Time
	}{
		"zero lifetime": {
			issuedAt: t0, expiresAt: t0,
		},
		"negative lifetime": {
			issuedAt: t0, expiresAt: t0.Add(-time.Hour),
		},
		"negative lifetime with sub-second expiry is returned untouched": {
			issuedAt: t0, expiresAt: t0.Add(-1500 * time.Millisecond),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := RenewalTime(tc.issuedAt, tc.expiresAt, 0, "uid", false); !got.Equal(tc.expiresAt) {
				t.Errorf("RenewalTime = %v, want expiresAt %v", got, tc.expiresAt)
			}
		})
	}
}

func TestRenewalTimeIsTheSameAfterARestart(t *testing.T) {
	// A restarted operator reads the expiry back from the Secret, possibly in
	// another time zone and without monotonic clock reading: same answer.
	expiresAt := t0.Add(time.Hour)
	want := RenewalTime(t0, expiresAt, 0, "4c9b1c1e-uid", false)

	tests := map[string]struct {
		issuedAt  time.Time
		expiresAt time.Time
	}{
		"same values": {
			issuedAt: t0, expiresAt: expiresAt,
		},
		"another time zone": {
			issuedAt: t0.In(time.FixedZone("CET", 3600)), expiresAt: expiresAt.In(time.FixedZone("EST", -5*3600)),
		},
		"parsed back from RFC 3339": {
			issuedAt: mustParse(t, t0.Format(time.RFC3339)), expiresAt: mustParse(t, expiresAt.Format(time.RFC3339)),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := RenewalTime(tc.issuedAt, tc.expiresAt, 0, "4c9b1c1e-uid", false); !got.Equal(want) {
				t.Errorf("RenewalTime = %v, want %v", got, want)
			}
		})
	}
}

func TestRenewalTimeSpreadsCredentials(t *testing.T) {
	const n = 100
	expiresAt := t0.Add(time.Hour)
	// Window by hand: renewBefore 20m, spread up to 12m.
	earliest, latest := t0.Add(28*time.Minute), t0.Add(40*time.Minute)

	tests := map[string]struct {
		seed      func(i int) string
		expiresAt func(i int) time.Time
	}{
		"across seeds with the same expiry": {
			seed:      func(i int) string { return fmt.Sprintf("credential-uid-%d", i) },
			expiresAt: func(int) time.Time { return expiresAt },
		},
		"across expiries with the same seed": {
			seed:      func(int) string { return "credential-uid" },
			expiresAt: func(i int) time.Time { return expiresAt.Add(time.Duration(i) * time.Second) },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Offsets before expiry, so that different expiries compare.
			distinct := map[time.Duration]bool{}
			for i := range n {
				exp := tc.expiresAt(i)
				issued := exp.Add(-time.Hour)
				got := RenewalTime(issued, exp, 0, tc.seed(i), false)
				shift := exp.Sub(expiresAt)
				if got.Before(earliest.Add(shift)) || got.After(latest.Add(shift)) {
					t.Errorf("credential %d: RenewalTime = expiresAt-%v, want between 20m and 32m before expiry", i, exp.Sub(got))
				}
				distinct[exp.Sub(got)] = true
			}
			if len(distinct) <= 1 {
				t.Errorf("%d credentials got %d distinct renewal times, want more than 1", n, len(distinct))
			}
			t.Logf("%d credentials, %d distinct renewal times", n, len(distinct))
		})
	}
}

func TestSpread(t *testing.T) {
	tests := map[string]struct {
		lifetime    time.Duration
		renewBefore time.Duration
		want        time.Duration
	}{
		"60s token, default renewBefore 20s: 20% of the lifetime": {
			lifetime: time.Minute, renewBefore: 20 * time.Second, want: 12 * time.Second,
		},
		"5m token, default renewBefore 100s: 20% of the lifetime": {
			lifetime: 5 * time.Minute, renewBefore: 100 * time.Second, want: time.Minute,
		},
		"1h token, renewBefore 50m: only the 7m left above 5% of the lifetime": {
			lifetime: time.Hour, renewBefore: 50 * time.Minute, want: 7 * time.Minute,
		},
		"1h token, renewBefore at its 90% cap: 5% of the lifetime": {
			lifetime: time.Hour, renewBefore: 54 * time.Minute, want: 3 * time.Minute,
		},
		"renewBefore past the lifetime leaves no room: no spread": {
			lifetime: 10 * time.Second, renewBefore: 10 * time.Second, want: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Spread(tc.lifetime, tc.renewBefore); got != tc.want {
				t.Errorf("Spread(%v, %v) = %v, want %v", tc.lifetime, tc.renewBefore, got, tc.want)
			}
		})
	}
}

// The peer's load: 1,000 credentials of one Aprimo client hold the same
// token, so only their UIDs tell their renewals apart. Spread over 12s
// (60s tokens), no second gets more than 1.5 times its share (1000/12);
// with 5% (3s) it was about 333 a second, more than the API server here
// writes (about 300 writes a second, 2 per rotation).
func TestRenewalTimeSpreadsASharedClientsCredentials(t *testing.T) {
	const n = 1000
	tests := map[string]struct {
		lifetime  time.Duration
		wantPerS  int // at most this many due in any one second
		wantSlots int // at least this many distinct seconds
	}{
		"60s tokens: 12s window": {lifetime: time.Minute, wantPerS: 125, wantSlots: 12},
		"5m tokens: 60s window":  {lifetime: 5 * time.Minute, wantPerS: 30, wantSlots: 60},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			expiresAt := t0.Add(tc.lifetime)
			perSecond := map[time.Time]int{}
			for i := range n {
				perSecond[RenewalTime(t0, expiresAt, 0, fmt.Sprintf("0b5e-uid-%04d", i), false)]++
			}
			busiest := 0
			for _, c := range perSecond {
				busiest = max(busiest, c)
			}
			t.Logf("busiest second %d, %d distinct seconds", busiest, len(perSecond))
			if busiest > tc.wantPerS || len(perSecond) < tc.wantSlots {
				t.Errorf("%d credentials: busiest second has %d, over %d distinct seconds; want at most %d, over at least %d",
					n, busiest, len(perSecond), tc.wantPerS, tc.wantSlots)
			}
		})
	}
}

// 5,000 credentials created at once get their first tokens at the default
// token rate limit, 100 a second, so over 50s. Their first renewals come due
// as bunched as that unless the window is wider than 50s: with Spread alone
// (60s for 5m tokens) the wave still peaks at about 5000/60 = 83 a second,
// with FirstSpread (100s) at about 5000/100 = 50; the steady rate is 5000
// per 170s (29 a second).
func TestFirstRenewalsOfABatchCreatedAtOnce(t *testing.T) {
	const n, perSecond = 5000, 100
	due := map[time.Time]int{}
	for i := range n {
		issued := t0.Add(time.Duration(i) * time.Second / perSecond).Truncate(time.Second)
		due[RenewalTime(issued, issued.Add(5*time.Minute), 0, fmt.Sprintf("batch-uid-%04d", i), true)]++
	}
	busiest := 0
	for _, c := range due {
		busiest = max(busiest, c)
	}
	// 62 with these UIDs (the 50 a second plateau, and chance); with Spread
	// alone the same batch peaks at 107.
	if busiest > 65 {
		t.Errorf("busiest second has %d first renewals, want at most 65", busiest)
	}
}

func TestIsFirstToken(t *testing.T) {
	created := t0.Add(2 * time.Second)
	tests := map[string]struct {
		issuedAt time.Time
		want     bool
	}{
		"issued before the Secret was created: its first":        {issuedAt: t0, want: true},
		"issued in the second the Secret was created: its first": {issuedAt: created, want: true},
		"issued after the Secret was created: a later one":       {issuedAt: created.Add(time.Second), want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsFirstToken(tc.issuedAt, created); got != tc.want {
				t.Errorf("IsFirstToken = %v, want %v", got, tc.want)
			}
		})
	}
}

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func FuzzRenewalTime(f *testing.F) {
	// issuedSec, issuedNsec, lifetime, renewBefore, seed
	f.Add(int64(1_741_944_413), int64(0), int64(time.Hour), int64(0), "uid-a")
	f.Add(int64(1_741_944_413), int64(700_000_000), int64(time.Hour), int64(59*time.Minute), "uid-b")
	f.Add(int64(1_741_944_413), int64(0), int64(12*time.Second), int64(0), "uid-c")
	f.Add(int64(1_741_944_413), int64(500_000_000), int64(5*time.Second), int64(0), "uid-d")
	f.Add(int64(1_741_944_413), int64(900_000_000), int64(time.Second), int64(time.Minute), "uid-e")
	f.Add(int64(1_741_944_413), int64(1), int64(1), int64(0), "")
	f.Add(int64(1_741_944_413), int64(0), int64(0), int64(0), "uid-f")
	f.Add(int64(1_741_944_413), int64(0), int64(-time.Hour), int64(0), "uid-g")
	f.Add(int64(0), int64(0), int64(math.MaxInt64), int64(math.MaxInt64), "uid-h")

	f.Fuzz(func(t *testing.T, issuedSec, issuedNsec, lifetimeNs, renewBeforeNs int64, seed string) {
		// Keep issuedAt within a few centuries of 1970 so that expiresAt.Sub(issuedAt)
		// gives the lifetime back without saturating.
		issuedAt := time.Unix(issuedSec%(1<<34), issuedNsec%int64(time.Second)).UTC()
		lifetime, renewBefore := time.Duration(lifetimeNs), time.Duration(renewBeforeNs)
		for _, first := range []bool{false, true} {
			checkRenewalTime(t, issuedAt, lifetime, renewBefore, seed, first)
		}
	})
}

func checkRenewalTime(t *testing.T, issuedAt time.Time, lifetime, renewBefore time.Duration, seed string, first bool) {
	t.Helper()
	expiresAt := issuedAt.Add(lifetime)
	got := RenewalTime(issuedAt, expiresAt, renewBefore, seed, first)

	if again := RenewalTime(issuedAt, expiresAt, renewBefore, seed, first); !again.Equal(got) {
		t.Errorf("RenewalTime is not deterministic: %v then %v", got, again)
	}
	if lifetime <= 0 {
		if !got.Equal(expiresAt) {
			t.Errorf("lifetime %v: RenewalTime = %v, want expiresAt %v", lifetime, got, expiresAt)
		}
		return
	}
	if got.After(expiresAt) {
		t.Errorf("lifetime %v: RenewalTime = expiresAt+%v, want not after expiresAt", lifetime, got.Sub(expiresAt))
	}
	if got.Before(issuedAt) {
		t.Errorf("lifetime %v: RenewalTime = issuedAt%v, want not before issuedAt", lifetime, got.Sub(issuedAt))
	}
	rb := RenewBefore(lifetime, renewBefore)
	spread := Spread(lifetime, rb)
	if first {
		spread = FirstSpread(lifetime, rb)
	}
	if earliest := expiresAt.Add(-rb - spread).Add(-time.Second); got.Before(earliest) {
		t.Errorf("lifetime %v, first %v: RenewalTime = expiresAt-%v, want at most renewBefore %v + spread %v (+1s truncation) before expiry",
			lifetime, first, expiresAt.Sub(got), rb, spread)
	}
	if held := time.Duration(float64(lifetime) * MinHeldFraction); rb+spread > lifetime-held && spread > 0 {
		t.Errorf("lifetime %v, first %v: renewBefore %v + spread %v leave under %v held", lifetime, first, rb, spread, held)
	}
	if latest := expiresAt.Add(-rb); got.After(latest) {
		t.Errorf("lifetime %v: RenewalTime = expiresAt-%v, want at least renewBefore %v before expiry",
			lifetime, expiresAt.Sub(got), RenewBefore(lifetime, renewBefore))
	}
}
