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

package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// namespace holds every object of a chaos test; each test has its own control plane.
const namespace = "chaos"

// requireChaos skips the long tests unless asked for, so 'go test ./...' stays short.
func requireChaos(t *testing.T) {
	t.Helper()
	if os.Getenv("CHAOS") == "" {
		t.Skip("chaos tests run with CHAOS=1 ('make test-chaos')")
	}
}

// envInt and envDuration read a size of the run from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive Go duration such as 2m", name, v)
	}
	return d
}

// env is one test's control plane, fake Aprimo and managers.
type env struct {
	t    *testing.T
	ctx  context.Context
	root string
	// dir keeps the managers' logs and the kubeconfig: tmp/chaos/<test> in the
	// repository, kept after the run for a look at what happened.
	dir  string
	cp   *harness.ControlPlane
	fake *harness.FakeAprimo
	k8s  client.Client

	mu       sync.Mutex
	managers int
}

// quietLogs sends envtest's logs (through controller-runtime) to stderr,
// errors only, once per process.
var quietLogs sync.Once

func newEnv(t *testing.T, opts aprimotest.Options) *env {
	t.Helper()
	requireChaos(t)
	quietLogs.Do(func() { logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel))) })
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "manager")); err != nil {
		t.Fatal("bin/manager does not exist: run 'make build' ('make test-chaos' does)")
	}
	ctx := t.Context()
	assets, err := harness.EnvtestAssets(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "tmp", "chaos", t.Name())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fake, stopFake, err := harness.StartFakeAprimo(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopFake)
	cp, stopCP, err := harness.StartControlPlane(root, assets, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stopCP(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	// The test polls often (expiry, conditions); client-side throttling would
	// blur its clock.
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 200, 400
	k8s, err := client.New(cfg, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, root: root, dir: dir, cp: cp, fake: fake, k8s: k8s}
	if err := e.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Logs and kubeconfig in %s", dir)
	return e
}

// startManager runs bin/manager with extra flags; the test's cleanup stops it
// (with SIGTERM) if it is still running then.
func (e *env) startManager(args ...string) *harness.Manager {
	e.t.Helper()
	e.mu.Lock()
	e.managers++
	n := e.managers
	e.mu.Unlock()
	m, stop, err := harness.StartManager(harness.ManagerOptions{
		Binary:     filepath.Join(e.root, "bin", "manager"),
		Kubeconfig: e.cp.Kubeconfig,
		CAFile:     e.fake.CAFile,
		LogFile:    filepath.Join(e.dir, fmt.Sprintf("manager-%03d.log", n)),
		Args:       args,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = stop() })
	return m
}

func (e *env) logFile(n int) string { return filepath.Join(e.dir, fmt.Sprintf("manager-%03d.log", n)) }

// secret creates or replaces a user-owned Secret.
func (e *env) secret(name string, data map[string]string) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &corev1.Secret{}
		err := e.k8s.Get(e.ctx, types.NamespacedName{Namespace: namespace, Name: name}, s)
		if err != nil {
			s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, StringData: data}
			return e.k8s.Create(e.ctx, s)
		}
		s.Data, s.StringData = nil, data
		return e.k8s.Update(e.ctx, s)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// registration adds a client on the fake and the Secret "<name>-client" holding it.
func (e *env) registration(name string, lifetime time.Duration, grants ...string) string {
	e.t.Helper()
	clientID := name + "-client"
	secret := "cs-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-not-for-production"
	e.fake.AddRegistration(aprimotest.Registration{ClientID: clientID, ClientSecret: secret, Grants: grants, TokenLifetime: lifetime})
	e.secret(name+"-client", map[string]string{"client-id": clientID, "client-secret": secret})
	return clientID
}

// credential creates an AprimoCredential named name against the fake; a
// RefreshToken one gets a bootstrap token in Secret "<name>-bootstrap".
func (e *env) credential(name string, flow v1alpha1.Flow, lifetime, renewBefore time.Duration) string {
	e.t.Helper()
	c := &v1alpha1.AprimoCredential{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.AprimoCredentialSpec{
			URL:             e.fake.URL(),
			Flow:            flow,
			ClientSecretRef: v1alpha1.ClientSecretReference{Name: name + "-client"},
		},
	}
	if renewBefore > 0 {
		c.Spec.RenewBefore = &metav1.Duration{Duration: renewBefore}
	}
	var clientID string
	if flow == v1alpha1.FlowRefreshToken {
		clientID = e.registration(name, lifetime, aprimotest.GrantAuthorizationCode)
		e.reseed(name, clientID)
		c.Spec.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: name + "-bootstrap"}
	} else {
		clientID = e.registration(name, lifetime, aprimotest.GrantClientCredentials)
	}
	if err := e.k8s.Create(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return clientID
}

// reseed does what the InvalidGrant message asks of a person: a new bootstrap
// refresh token (as from the PKCE flow) in the bootstrap Secret.
func (e *env) reseed(name, clientID string) {
	e.secret(name+"-bootstrap", map[string]string{"refresh-token": e.fake.IssueRefreshToken(clientID)})
}

// condition returns a condition of a credential; nil when absent or unreadable.
func (e *env) condition(name, condType string) *metav1.Condition {
	c := &v1alpha1.AprimoCredential{}
	if err := e.k8s.Get(e.ctx, types.NamespacedName{Namespace: namespace, Name: name}, c); err != nil {
		return nil
	}
	return meta.FindStatusCondition(c.Status.Conditions, condType)
}

func (e *env) isTrue(name, condType string) bool {
	c := e.condition(name, condType)
	return c != nil && c.Status == metav1.ConditionTrue
}

// stalledOnLostChain reports whether the credential says its chain is lost,
// and fails the test if it does not say so as it must.
func (e *env) stalledOnLostChain(name string) bool {
	e.t.Helper()
	lost, err := e.lostChain(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return lost
}

// lostChain reports whether the credential is Stalled; an error when it is
// not InvalidGrant or its message does not say how to re-seed the chain.
func (e *env) lostChain(name string) (bool, error) {
	c := e.condition(name, v1alpha1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue {
		return false, nil
	}
	if c.Reason != v1alpha1.ReasonInvalidGrant {
		return true, fmt.Errorf("%s is Stalled with reason %s (%s); a lost chain is InvalidGrant", name, c.Reason, c.Message)
	}
	advice := fmt.Sprintf("put it in Secret %s/%s-bootstrap under key", namespace, name)
	if !strings.Contains(c.Message, advice) {
		return true, fmt.Errorf("the InvalidGrant message of %s does not say how to re-seed (%q): %s", name, advice, c.Message)
	}
	return true, nil
}

// requestTokenRefresh sets the force-refresh annotation.
func (e *env) requestTokenRefresh(name string) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := &v1alpha1.AprimoCredential{}
		if err := e.k8s.Get(e.ctx, types.NamespacedName{Namespace: namespace, Name: name}, c); err != nil {
			return err
		}
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[v1alpha1.RefreshRequestedAtAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
		return e.k8s.Update(e.ctx, c)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond every interval until it holds or limit passes.
func (e *env) waitFor(limit, interval time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		case <-e.ctx.Done():
			return false
		}
	}
}

// pause waits d, or until the test ends. The chaos tests choose random
// moments to strike; this is that choice, not a wait for a condition.
func (e *env) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-e.ctx.Done():
	}
}
