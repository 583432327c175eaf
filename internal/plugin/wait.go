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
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// outcome is what became of a refresh request.
type outcome struct {
	done bool   // the operator has acted on the request
	ok   bool   // and the target Secret holds a new token
	line string // what to print
}

// refreshOutcome says whether the operator has acted on the request r, and
// how it went. It has acted once status.lastRefreshRequest records the
// request and the Ready condition speaks for the current generation. A
// failure recorded after the request also answers it: one found before any
// token request (a missing input Secret, say) does not record the request.
// (The operator writes status with an optimistic lock, so a failure written
// after the request comes from a pass that saw it.)
func refreshOutcome(cred *v1alpha1.AprimoCredential, r request, now time.Time) outcome {
	key := client.ObjectKeyFromObject(cred).String()
	ready := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.ObservedGeneration < cred.Generation {
		return outcome{}
	}
	// A later request (another refresh) replaces ours; serving it serves ours.
	want := r.value
	if current := cred.Annotations[v1alpha1.RefreshRequestedAtAnnotation]; current != "" {
		want = current
	}
	st := cred.Status
	served := st.LastRefreshRequest == want
	// Any change of the count is a new failure: it restarts from 1 when a
	// failure changes from transient to stalled or back.
	failedSince := st.FailedAttempts != r.failedAttempts ||
		st.LastFailureTime != nil && (r.lastFailure == nil || st.LastFailureTime.After(r.lastFailure.Time))
	switch {
	case !served && !(failedSince && ready.Reason != v1alpha1.ReasonTokenIssued):
		return outcome{}
	case ready.Status == metav1.ConditionTrue && ready.Reason == v1alpha1.ReasonTokenIssued:
		return outcome{done: true, ok: true, line: fmt.Sprintf("%s: Ready (%s), the new token expires at %s",
			key, ready.Reason, timestamp(st.ExpiresAt, expiresHint(st.ExpiresAt, now)))}
	case ready.Status == metav1.ConditionTrue:
		return outcome{done: true, line: fmt.Sprintf("%s: the refresh failed, the old token still works: Ready (%s): %s",
			key, ready.Reason, ready.Message)}
	default:
		return outcome{done: true, line: fmt.Sprintf("%s: not Ready (%s): %s", key, ready.Reason, ready.Message)}
	}
}

// waitFor waits until the operator has acted on every request or the
// timeout passes, prints each outcome as it comes, and returns how many
// requests did not end with a new token.
func (o *refreshOptions) waitFor(ctx context.Context, c client.Reader, sel selection, requests []request) int {
	waitCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	pending, failed := requests, 0
	last := map[types.NamespacedName]*v1alpha1.AprimoCredential{}
	var lastErr error
	_ = wait.PollUntilContextCancel(waitCtx, o.pollInterval, true, func(ctx context.Context) (bool, error) {
		current, err := sel.current(ctx, c)
		if err != nil {
			lastErr = err // the API server may be briefly away: try again until the timeout
			return false, nil
		}
		lastErr = nil
		still := pending[:0]
		for _, r := range pending {
			cred, err := lookup(ctx, c, current, r.key)
			switch {
			case apierrors.IsNotFound(err):
				fmt.Fprintf(o.Out, "%s: deleted while waiting\n", r.key)
				failed++
				continue
			case err != nil:
				lastErr = err
				still = append(still, r)
				continue
			}
			last[r.key] = cred
			out := refreshOutcome(cred, r, o.clock.Now())
			if !out.done {
				still = append(still, r)
				continue
			}
			fmt.Fprintln(o.Out, out.line)
			if !out.ok {
				failed++
			}
		}
		pending = still
		return len(pending) == 0, nil
	})

	why := fmt.Sprintf("timed out after %s", o.timeout)
	if ctx.Err() != nil {
		why = "interrupted"
	}
	for _, r := range pending {
		fmt.Fprintf(o.Out, "%s: %s waiting for the operator: %s\n", r.key, why, stillWaiting(last[r.key], r.value, lastErr))
		failed++
	}
	return failed
}

// lookup finds key among the credentials just listed, or reads it: one that
// no longer matches a label selector is still waited for.
func lookup(ctx context.Context, c client.Reader, current map[types.NamespacedName]*v1alpha1.AprimoCredential, key types.NamespacedName) (*v1alpha1.AprimoCredential, error) {
	if cred, ok := current[key]; ok {
		return cred, nil
	}
	cred := &v1alpha1.AprimoCredential{}
	return cred, c.Get(ctx, key, cred)
}

// stillWaiting says what the wait was still waiting for.
func stillWaiting(cred *v1alpha1.AprimoCredential, value string, err error) string {
	if cred == nil {
		if err == nil {
			err = errors.New("no answer")
		}
		return fmt.Sprintf("could not read it: %v", err)
	}
	ready := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionReady)
	now := "no Ready condition yet"
	if ready != nil {
		now = fmt.Sprintf("Ready is %s (%s): %s", ready.Status, ready.Reason, ready.Message)
	}
	if cred.Status.LastRefreshRequest != value {
		return "it has not acted on the request yet (is it running?); " + now
	}
	return "it has not caught up with the latest spec yet; " + now
}
