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

package plugin

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func in(d time.Duration) *metav1.Time {
	t := metav1.NewTime(now.Add(d))
	return &t
}

func TestRelativeTimes(t *testing.T) {
	tests := map[string]struct {
		format func(*metav1.Time, time.Time) string
		t      *metav1.Time
		want   string
	}{
		"expires in the future":        {expiresIn, in(41 * time.Minute), "41m"},
		"expires in hours":             {expiresIn, in(3*time.Hour + 20*time.Minute), "3h20m"},
		"expired":                      {expiresIn, in(-3 * time.Minute), "expired 3m ago"},
		"expires now is expired":       {expiresIn, in(0), "expired 0s ago"},
		"no expiry":                    {expiresIn, nil, "-"},
		"next refresh ahead":           {nextIn, in(27 * time.Minute), "in 27m"},
		"next refresh due this second": {nextIn, in(500 * time.Millisecond), "now"},
		"next refresh overdue":         {nextIn, in(-90 * time.Second), "overdue 90s"},
		"no next refresh":              {nextIn, nil, "-"},
		"last failure":                 {ago, in(-2 * time.Minute), "2m ago"},
		"no last failure":              {ago, nil, "-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.format(tc.t, now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRequestValue(t *testing.T) {
	tests := map[string]struct {
		now  time.Time
		last string
		want string
	}{
		"first request":               {now.Add(123 * time.Millisecond), "", "2026-11-21T10:00:00Z"},
		"a later second":              {now.Add(time.Second), "2026-11-21T10:00:00Z", "2026-11-21T10:00:01Z"},
		"the same second is made new": {now.Add(123 * time.Millisecond), "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.123Z"},
		"in UTC":                      {now.In(time.FixedZone("CET", 3600)), "", "2026-11-21T10:00:00Z"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := requestValue(tc.now, tc.last); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRefreshOutcome(t *testing.T) {
	const value = "2026-11-21T10:00:00Z"
	cred := func(generation int64, lastRequest string, ready metav1.ConditionStatus, reason string, readyGeneration int64, lastFailure *metav1.Time, failedAttempts ...int32) *v1alpha1.AprimoCredential {
		c := &v1alpha1.AprimoCredential{}
		c.Namespace, c.Name, c.Generation = "marketing", "dam-reader", generation
		c.Annotations = map[string]string{v1alpha1.RefreshRequestedAtAnnotation: value}
		c.Status.LastRefreshRequest = lastRequest
		c.Status.ExpiresAt = in(time.Hour)
		c.Status.LastFailureTime = lastFailure
		if len(failedAttempts) > 0 {
			c.Status.FailedAttempts = failedAttempts[0]
		}
		if ready != "" {
			meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{
				Type: v1alpha1.ConditionReady, Status: ready, Reason: reason, Message: "msg", ObservedGeneration: readyGeneration,
			})
		}
		return c
	}
	tests := map[string]struct {
		cred     *v1alpha1.AprimoCredential
		before   request // the status the request left
		done, ok bool
		line     string
	}{
		"not acted on yet": {
			cred: cred(1, "older", metav1.ConditionTrue, v1alpha1.ReasonTokenIssued, 1, nil),
		},
		"no Ready condition yet": {
			cred: cred(1, value, "", "", 0, nil),
		},
		"served, but Ready is about an older generation": {
			cred: cred(2, value, metav1.ConditionTrue, v1alpha1.ReasonTokenIssued, 1, nil),
		},
		"served with a new token": {
			cred: cred(2, value, metav1.ConditionTrue, v1alpha1.ReasonTokenIssued, 2, nil),
			done: true, ok: true,
			line: "marketing/dam-reader: Ready (TokenIssued), the new token expires at 2026-11-21T11:00:00Z (in 60m)",
		},
		"served, the refresh failed, the old token works": {
			cred: cred(1, value, metav1.ConditionTrue, v1alpha1.ReasonRefreshFailing, 1, in(0)),
			done: true,
			line: "marketing/dam-reader: the refresh failed, the old token still works: Ready (RefreshFailing): msg",
		},
		"served, not Ready": {
			cred: cred(1, value, metav1.ConditionFalse, v1alpha1.ReasonInvalidClient, 1, in(0)),
			done: true,
			line: "marketing/dam-reader: not Ready (InvalidClient): msg",
		},
		"a new failure before any token request": {
			cred:   cred(1, "older", metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, 1, in(0)),
			before: request{lastFailure: in(-time.Minute), failedAttempts: 1},
			done:   true,
			line:   "marketing/dam-reader: not Ready (SecretNotFound): msg",
		},
		"the first failure before any token request": {
			cred: cred(1, "", metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, 1, in(0)),
			done: true,
			line: "marketing/dam-reader: not Ready (SecretNotFound): msg",
		},
		"a new failure in the same second": {
			cred:   cred(1, "older", metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, 1, in(0), 3),
			before: request{lastFailure: in(0), failedAttempts: 2},
			done:   true,
			line:   "marketing/dam-reader: not Ready (SecretNotFound): msg",
		},
		"a new failure of another kind restarts the count": {
			cred:   cred(1, "older", metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, 1, in(0), 1),
			before: request{lastFailure: in(0), failedAttempts: 4},
			done:   true,
			line:   "marketing/dam-reader: not Ready (SecretNotFound): msg",
		},
		"an old failure is no answer": {
			cred:   cred(1, "older", metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, 1, in(-time.Minute), 2),
			before: request{lastFailure: in(-time.Minute), failedAttempts: 2},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := tc.before
			r.value = value
			got := refreshOutcome(tc.cred, r, now)
			if got.done != tc.done || got.ok != tc.ok || got.line != tc.line {
				t.Errorf("got %+v, want done=%v ok=%v line=%q", got, tc.done, tc.ok, tc.line)
			}
		})
	}

	t.Run("a later request replaces ours", func(t *testing.T) {
		c := cred(1, "later", metav1.ConditionTrue, v1alpha1.ReasonTokenIssued, 1, nil)
		c.Annotations[v1alpha1.RefreshRequestedAtAnnotation] = "later"
		if got := refreshOutcome(c, request{value: value}, now); !got.done || !got.ok {
			t.Errorf("got %+v, want done and ok", got)
		}
	})
}

func TestEveryReasonHasAdvice(t *testing.T) {
	reasons := []string{
		v1alpha1.ReasonTokenIssued, v1alpha1.ReasonRefreshFailing, v1alpha1.ReasonPending, v1alpha1.ReasonSuspended,
		v1alpha1.ReasonHostNotAllowed, v1alpha1.ReasonSecretNotFound, v1alpha1.ReasonSecretKeyNotFound,
		v1alpha1.ReasonTargetSecretConflict, v1alpha1.ReasonInvalidClient, v1alpha1.ReasonUnauthorizedClient,
		v1alpha1.ReasonInvalidGrant, v1alpha1.ReasonInvalidScope, v1alpha1.ReasonRateLimited,
		v1alpha1.ReasonEndpointUnavailable, v1alpha1.ReasonInvalidResponse, v1alpha1.ReasonLegacyAuthorization,
	}
	for _, r := range reasons {
		if _, ok := advice[r]; !ok {
			t.Errorf("no advice for reason %s", r)
		}
	}
}

func TestAdviceFor(t *testing.T) {
	cred := func(generation int64, conds ...metav1.Condition) *v1alpha1.AprimoCredential {
		c := &v1alpha1.AprimoCredential{}
		c.Namespace, c.Name, c.Generation = "marketing", "dam-reader", generation
		c.Spec.Target.Name = "dam-reader-token"
		c.Status.Conditions = conds
		return c
	}
	ready := func(status metav1.ConditionStatus, reason string, gen int64) metav1.Condition {
		return metav1.Condition{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, ObservedGeneration: gen}
	}
	stalled := func(status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: v1alpha1.ConditionStalled, Status: status, Reason: reason}
	}
	tests := map[string]struct {
		cred *v1alpha1.AprimoCredential
		want []string // prefixes, in order
	}{
		"no status yet": {
			cred: cred(1),
			want: []string{"The operator has not reported on this credential yet"},
		},
		"healthy": {
			cred: cred(1, ready(metav1.ConditionTrue, v1alpha1.ReasonTokenIssued, 1), stalled(metav1.ConditionFalse, v1alpha1.ReasonTokenIssued)),
			want: []string{"Nothing: Secret dam-reader-token holds a valid token"},
		},
		"refresh failing says why": {
			cred: cred(1, ready(metav1.ConditionTrue, v1alpha1.ReasonRefreshFailing, 1), stalled(metav1.ConditionTrue, v1alpha1.ReasonInvalidClient)),
			want: []string{"The token in Secret dam-reader-token still works", "InvalidClient: Check the client ID and secret."},
		},
		"suspended names the command to resume": {
			cred: cred(1, ready(metav1.ConditionFalse, v1alpha1.ReasonSuspended, 1)),
			want: []string{"spec.suspend is true, so no token is requested. To resume: `kubectl patch aprimocred dam-reader -n marketing"},
		},
		"transient names the refresh command": {
			cred: cred(1, ready(metav1.ConditionFalse, v1alpha1.ReasonEndpointUnavailable, 1)),
			want: []string{"Transient:"},
		},
		"behind the spec": {
			cred: cred(3, ready(metav1.ConditionFalse, v1alpha1.ReasonPending, 2)),
			want: []string{"No token yet", "The operator has not acted on the latest spec yet (generation 3, Ready is from 2)"},
		},
		"a legacy credential is told to move on": {
			cred: cred(1, ready(metav1.ConditionTrue, v1alpha1.ReasonTokenIssued, 1),
				metav1.Condition{Type: v1alpha1.ConditionDeprecated, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonLegacyAuthorization}),
			want: []string{"Nothing:", "LegacyAuthorization: Works, but Aprimo has deprecated"},
		},
		"unknown reason": {
			cred: cred(1, ready(metav1.ConditionFalse, "SomethingNew", 1)),
			want: []string{`No advice for reason "SomethingNew"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := adviceFor(tc.cred)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %d lines", got, len(tc.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("line %d: got %q, want prefix %q", i, got[i], tc.want[i])
				}
			}
		})
	}
	if got := adviceFor(cred(1, ready(metav1.ConditionFalse, v1alpha1.ReasonEndpointUnavailable, 1)))[0]; !strings.Contains(got, "kubectl aprimo refresh dam-reader -n marketing --wait") {
		t.Errorf("transient advice does not name the refresh command: %q", got)
	}
}

func TestRecentEventsKeepsTheLastOnesOldestFirst(t *testing.T) {
	var events []eventsv1.Event
	for i := range 12 {
		e := eventsv1.Event{Type: "Normal", Reason: "R", Note: string(rune('a' + i)), ReportingController: "op"}
		e.EventTime = metav1.NewMicroTime(now.Add(-time.Duration(12-i) * time.Minute))
		events = append(events, e)
	}
	events[0], events[11] = events[11], events[0] // the API server's order is no order
	series := eventsv1.Event{Type: "Warning", Reason: "S", Note: "series", EventTime: metav1.NewMicroTime(now.Add(-time.Hour)),
		Series: &eventsv1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now.Add(-30 * time.Second))}}
	events = append(events, series)

	got := recentEvents(events, 3)

	if len(got) != 3 || got[0].Note != "k" || got[1].Note != "l" || got[2].Note != "series" {
		t.Fatalf("got %+v", got)
	}
	if s := got[2]; s.Count != 4 || !s.FirstSeen.Time.Equal(now.Add(-time.Hour)) || !s.LastSeen.Time.Equal(now.Add(-30*time.Second)) {
		t.Errorf("series: got %+v", s)
	}
}

func TestExplainSaysTheCRDIsMissing(t *testing.T) {
	err := explain(&meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: v1alpha1.GroupName, Kind: "AprimoCredential"}})
	if !strings.HasPrefix(err.Error(), "the AprimoCredential API (aprimocredentials.aprimo.credentials.dev) is not installed in this cluster") {
		t.Errorf("got %q", err)
	}
	other := errors.New("connection refused")
	if got := explain(other); got != other {
		t.Errorf("got %v, want the error unchanged", got)
	}
}

func TestInputsNameOnlyTheKeysTheFlowReads(t *testing.T) {
	cred := func(flow v1alpha1.Flow) *v1alpha1.AprimoCredential {
		c := &v1alpha1.AprimoCredential{}
		c.Spec.Flow, c.Spec.ClientSecretRef.Name = flow, "client"
		c.Spec.UserTokenRef = &v1alpha1.UserTokenReference{Name: "user"}
		return c
	}
	tests := map[v1alpha1.Flow][]string{
		v1alpha1.FlowResourceOwnerPassword: {"client-id", "client-secret"},
		v1alpha1.FlowDistributedMarketing:  {"client-id"},
		v1alpha1.FlowLegacyUserToken:       {"client-id"},
	}
	for flow, want := range tests {
		if got := inputs(cred(flow))[0].Keys; !slices.Equal(got, want) {
			t.Errorf("%s: client Secret keys %q, want %q", flow, got, want)
		}
	}
}
