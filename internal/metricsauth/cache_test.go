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

package metricsauth

import (
	"fmt"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The caches' times and keys are pure logic: a fake clientset counts the
// reviews they save.
func TestGuardReusesAnswersForTheirTimeOnly(t *testing.T) {
	cs := fake.NewClientset()
	var tokenReviews, accessReviews int
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tokenReviews++
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview)
		tr.Status = authnv1.TokenReviewStatus{Authenticated: tr.Spec.Token == "good",
			User: authnv1.UserInfo{Username: "system:serviceaccount:monitoring:prometheus"}}
		return true, tr, nil
	})
	cs.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		accessReviews++
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SubjectAccessReview)
		r.Status.Allowed = r.Spec.NonResourceAttributes.Verb == "get"
		return true, r, nil
	})
	now := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	g := newGuard(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(),
		clockFunc(func() time.Time { return now }))

	ask := func(token, verb string) string {
		u, err := g.authenticate(t.Context(), token)
		if err != nil || u == nil {
			return fmt.Sprintf("unauthenticated (%v)", err)
		}
		ok, err := g.authorize(t.Context(), u, verb, "/metrics")
		return fmt.Sprintf("allowed %v (%v)", ok, err)
	}
	expect := func(what, got, want string, tokens, access int) {
		t.Helper()
		if got != want || tokenReviews != tokens || accessReviews != access {
			t.Errorf("%s: %s after %d token and %d access reviews; want %s after %d and %d",
				what, got, tokenReviews, accessReviews, want, tokens, access)
		}
	}

	expect("first scrape", ask("good", "get"), "allowed true (<nil>)", 1, 1)
	expect("again", ask("good", "get"), "allowed true (<nil>)", 1, 1)
	expect("another verb", ask("good", "post"), "allowed false (<nil>)", 1, 2)
	expect("a bad token", ask("bad", "get"), "unauthenticated (<nil>)", 2, 2)
	expect("the bad token again", ask("bad", "get"), "unauthenticated (<nil>)", 2, 2)
	expect("no token", ask("", "get"), "unauthenticated (<nil>)", 2, 2)

	now = now.Add(tokenTTL + time.Second) // LRUExpireCache: expired after its TTL, not at it
	expect("just over a minute later", ask("good", "get"), "allowed true (<nil>)", 3, 2)
	expect("the denial after its 30 s", ask("good", "post"), "allowed false (<nil>)", 3, 3)
	now = now.Add(allowTTL)
	expect("5 minutes later", ask("good", "get"), "allowed true (<nil>)", 4, 4)
}

func TestGuardCachesAreBounded(t *testing.T) {
	g := newGuard(nil, nil, clockFunc(time.Now))
	for i := range maxCached + 10 {
		g.users.Add(fmt.Sprint(i), (*authnv1.UserInfo)(nil), time.Minute)
	}
	if n := len(g.users.Keys()); n > maxCached {
		t.Errorf("%d entries, want at most %d", n, maxCached)
	}
}
