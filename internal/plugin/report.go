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
	"cmp"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// maxEvents is how many of the most recent events the detailed view shows.
const maxEvents = 10

// CredentialStatus is what status reports about one AprimoCredential; -o json
// and -o yaml print it as is. It never holds a Secret value.
type CredentialStatus struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Ready is the status of the Ready condition: True, False or Unknown.
	Ready   metav1.ConditionStatus `json:"ready"`
	Reason  string                 `json:"reason,omitempty"`
	Message string                 `json:"message,omitempty"`
	// Stalled is the status of the Stalled condition, if there is one.
	Stalled         metav1.ConditionStatus `json:"stalled,omitempty"`
	ExpiresAt       *metav1.Time           `json:"expiresAt,omitempty"`
	RenewalTime     *metav1.Time           `json:"renewalTime,omitempty"`
	LastRefreshTime *metav1.Time           `json:"lastRefreshTime,omitempty"`
	LastFailureTime *metav1.Time           `json:"lastFailureTime,omitempty"`
	FailedAttempts  int32                  `json:"failedAttempts,omitempty"`
	// Details are reported for one named AprimoCredential only.
	Details *Details `json:"details,omitempty"`
}

// Details is the detailed view of one AprimoCredential.
type Details struct {
	Flow               v1alpha1.Flow      `json:"flow"`
	Endpoint           string             `json:"endpoint"`
	Tenant             string             `json:"tenant,omitempty"`
	Scopes             []string           `json:"scopes,omitempty"`
	Suspended          bool               `json:"suspended,omitempty"`
	Generation         int64              `json:"generation"`
	ObservedGeneration int64              `json:"observedGeneration"`
	Inputs             []InputSecret      `json:"inputs"`
	Target             TargetSecretStatus `json:"target"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
	Events             []Event            `json:"events"`
	Advice             []string           `json:"advice"`
}

// InputSecret is a Secret the credential reads, as its spec names it.
type InputSecret struct {
	Name string   `json:"name"`
	Keys []string `json:"keys"`
}

// TargetSecretStatus describes the Secret the token is written to by its key
// names; the only value it shows is expires_at, which is not secret.
type TargetSecretStatus struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	// Error says why the Secret could not be read, e.g. forbidden.
	Error string   `json:"error,omitempty"`
	Keys  []string `json:"keys,omitempty"`
	// ExpiresAt is the value of the expires_at key.
	ExpiresAt string `json:"expiresAt,omitempty"`
	// OwnedByCredential is true when this AprimoCredential controls the Secret.
	OwnedByCredential bool `json:"ownedByCredential"`
}

// Event is an event about the credential, from events.k8s.io/v1.
type Event struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
	From   string `json:"from,omitempty"`
	// Count is how many times it happened, from its series.
	Count     int32        `json:"count"`
	FirstSeen *metav1.Time `json:"firstSeen,omitempty"`
	LastSeen  *metav1.Time `json:"lastSeen,omitempty"`
}

// StatusList is what status prints with -o json|yaml when it lists.
type StatusList struct {
	Items []CredentialStatus `json:"items"`
}

// summarize reports the status of cred, without details.
func summarize(cred *v1alpha1.AprimoCredential) CredentialStatus {
	st := cred.Status
	s := CredentialStatus{
		Namespace:       cred.Namespace,
		Name:            cred.Name,
		Ready:           metav1.ConditionUnknown,
		ExpiresAt:       st.ExpiresAt,
		RenewalTime:     st.RenewalTime,
		LastRefreshTime: st.LastRefreshTime,
		LastFailureTime: st.LastFailureTime,
		FailedAttempts:  st.FailedAttempts,
	}
	if ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); ready != nil {
		s.Ready, s.Reason, s.Message = ready.Status, ready.Reason, ready.Message
	}
	if stalled := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionStalled); stalled != nil {
		s.Stalled = stalled.Status
	}
	return s
}

// describe reports cred in detail: its target Secret (read as target, or the
// error reading it) by key names, its events and what to do.
func describe(cred *v1alpha1.AprimoCredential, target *corev1.Secret, targetErr error, events []eventsv1.Event) CredentialStatus {
	s := summarize(cred)
	flow := cmp.Or(cred.Spec.Flow, v1alpha1.FlowClientCredentials)
	s.Details = &Details{
		Flow:               flow,
		Endpoint:           cred.TokenEndpoint(),
		Tenant:             cred.Spec.Tenant,
		Scopes:             cred.Spec.Scopes,
		Suspended:          cred.Spec.Suspend,
		Generation:         cred.Generation,
		ObservedGeneration: cred.Status.ObservedGeneration,
		Inputs:             inputs(cred),
		Target:             targetStatus(cred, target, targetErr),
		Conditions:         cred.Status.Conditions,
		Events:             recentEvents(events, maxEvents),
		Advice:             adviceFor(cred),
	}
	return s
}

// inputs are the Secrets and keys the flow of cred reads, from its spec.
func inputs(cred *v1alpha1.AprimoCredential) []InputSecret {
	ref := cred.Spec.ClientSecretRef
	keys := []string{cmp.Or(ref.ClientIDKey, "client-id")}
	if cred.Spec.Flow.UsesClientSecret() {
		keys = append(keys, cmp.Or(ref.ClientSecretKey, "client-secret"))
	}
	in := []InputSecret{{Name: ref.Name, Keys: keys}}
	if r := cred.Spec.RefreshTokenRef; r != nil {
		in = append(in, InputSecret{Name: r.Name, Keys: []string{cmp.Or(r.Key, "refresh-token")}})
	}
	if r := cred.Spec.UserTokenRef; r != nil {
		in = append(in, InputSecret{Name: r.Name, Keys: []string{
			cmp.Or(r.UsernameKey, "username"), cmp.Or(r.UserTokenKey, "user-token"),
		}})
	}
	return in
}

// targetStatus names the keys of the target Secret, never their values but
// that of expires_at.
func targetStatus(cred *v1alpha1.AprimoCredential, secret *corev1.Secret, err error) TargetSecretStatus {
	t := TargetSecretStatus{Name: cred.TargetName()}
	if err != nil {
		t.Error = err.Error()
		return t
	}
	if secret == nil {
		return t
	}
	t.Exists = true
	for k := range secret.Data {
		t.Keys = append(t.Keys, k)
	}
	slices.Sort(t.Keys)
	t.ExpiresAt = string(secret.Data[v1alpha1.ExpiresAtKey])
	if owner := metav1.GetControllerOf(secret); owner != nil {
		t.OwnedByCredential = owner.UID == cred.UID
	}
	return t
}

// recentEvents returns the last n events, oldest first, as kubectl describe
// lists them.
func recentEvents(events []eventsv1.Event, n int) []Event {
	out := make([]Event, 0, len(events))
	for i := range events {
		e := &events[i]
		ev := Event{
			Type:   e.Type,
			Reason: e.Reason,
			Note:   e.Note,
			From:   cmp.Or(e.ReportingController, e.DeprecatedSource.Component),
			Count:  1,
		}
		first := cmp.Or(e.EventTime.Time, e.DeprecatedFirstTimestamp.Time, e.CreationTimestamp.Time)
		last := first
		if e.Series != nil {
			ev.Count = e.Series.Count
			last = later(last, e.Series.LastObservedTime.Time)
		} else if e.DeprecatedCount > 1 {
			ev.Count = e.DeprecatedCount
		}
		last = later(last, e.DeprecatedLastTimestamp.Time)
		ev.FirstSeen, ev.LastSeen = timePtr(first), timePtr(last)
		out = append(out, ev)
	}
	slices.SortStableFunc(out, func(a, b Event) int {
		return cmp.Compare(unix(a.LastSeen), unix(b.LastSeen))
	})
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func timePtr(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

func unix(t *metav1.Time) int64 {
	if t == nil {
		return 0
	}
	return t.Unix()
}
