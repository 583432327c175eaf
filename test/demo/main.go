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

// Command demo shows the operator working end to end on one machine, with
// nothing but Go, make and kubectl: it starts a local control plane and a fake
// Aprimo token endpoint, runs bin/manager against them, applies the demo
// sample and prints each change of the credential and its Secret until
// Ctrl-C or DEMO_DURATION. Run it with 'make demo'.
//
// Environment:
//
//	DEMO_DURATION        stop after this long (a Go duration, e.g. 90s); default: run until Ctrl-C
//	DEMO_TOKEN_LIFETIME  lifetime of the fake's access tokens; default 30s
//	DEMO_APRIMO_ADDR     where the fake listens; default 127.0.0.1:18443, as in the sample
//	KUBEBUILDER_ASSETS   directory with kube-apiserver and etcd; default: what hack/envtest.sh prints
//
// It exits non-zero if the credential never became Ready, its Secret ever
// held an expired token, or something did not start or stop cleanly, so
// 'DEMO_DURATION=75s make demo' doubles as a smoke test.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// What config/samples/demo/aprimocredential.yaml holds; the two must agree.
const (
	sampleFile       = "config/samples/demo/aprimocredential.yaml"
	sampleAprimoAddr = "127.0.0.1:18443"
	namespace        = "default"
	credentialName   = "dam-reader"
	targetSecretName = "dam-reader-token"
	clientID         = "demo-client"
	clientSecret     = "demo-client-secret-not-for-production"
)

// settings come from the environment.
type settings struct {
	duration      time.Duration // 0: until a signal
	tokenLifetime time.Duration
	aprimoAddr    string
}

func main() { os.Exit(run()) }

// run returns the exit code rather than exiting, so that everything started
// is stopped first.
func run() int {
	s, err := loadSettings()
	if err != nil {
		return fail(err)
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return fail(err)
	}
	if err := checkPrerequisites(root); err != nil {
		return fail(err)
	}
	// Signals are ours from here on: the control plane and the manager run in
	// their own process groups, and only we can stop them.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	// If our output goes away ('make demo | head'), keep going until stopped,
	// rather than die of SIGPIPE and leave the processes we started behind.
	signal.Ignore(syscall.SIGPIPE)
	// envtest logs through controller-runtime; only its errors are worth showing.
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))

	explain(s)
	var stops stopStack
	w, err := start(ctx, root, s, &stops)
	if err == nil {
		watchCtx, cancel := withDuration(ctx, s.duration)
		w.run(watchCtx)
		cancel()
	}
	if len(stops) > 0 {
		step("Stopping the manager, the fake Aprimo and the control plane")
	}
	stopErr := stops.stopAll()
	if err != nil {
		if stopErr != nil {
			fmt.Fprintf(os.Stderr, "demo: %v\n", stopErr)
		}
		return fail(err)
	}
	return w.summary(stopErr)
}

// start brings up the fake Aprimo, the control plane and the manager, and
// applies the demo sample. Whatever it started is on stops, even on error.
func start(ctx context.Context, root string, s settings, stops *stopStack) (*watcher, error) {
	assets, err := harness.EnvtestAssets(ctx, root)
	if err != nil {
		return nil, err
	}
	// A fixed, git-ignored scratch directory keeps the paths printed below the
	// same from run to run; each run overwrites it.
	dir := filepath.Join(root, "tmp", "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}

	fake, stopFake, err := harness.StartFakeAprimo(dir, aprimotest.Options{Addr: s.aprimoAddr})
	if err != nil {
		return nil, fmt.Errorf("starting the fake Aprimo: %w (set DEMO_APRIMO_ADDR to use another address)", err)
	}
	stops.push("fake Aprimo", func() error { stopFake(); return nil })
	fake.AddRegistration(aprimotest.Registration{
		ClientID:      clientID,
		ClientSecret:  clientSecret,
		Grants:        []string{aprimotest.GrantClientCredentials},
		TokenLifetime: s.tokenLifetime,
	})
	step("Fake Aprimo listening on %s (client %s, tokens live %s)", fake.URL(), clientID, s.tokenLifetime)

	if err := ctx.Err(); err != nil {
		return nil, errors.New("interrupted")
	}
	cp, stopControlPlane, err := harness.StartControlPlane(root, assets, dir)
	if err != nil {
		return nil, err
	}
	stops.push("control plane", stopControlPlane)
	step("Control plane started (kube-apiserver at %s)", cp.Config.Host)

	if err := ctx.Err(); err != nil {
		return nil, errors.New("interrupted")
	}
	logFile := filepath.Join(dir, "manager.log")
	mgr, stopManager, err := harness.StartManager(harness.ManagerOptions{
		Binary:     filepath.Join(root, "bin", "manager"),
		Kubeconfig: cp.Kubeconfig,
		CAFile:     fake.CAFile,
		LogFile:    logFile,
	})
	if err != nil {
		return nil, err
	}
	// Pushed last, so stopped first: the manager shuts down while the API server is still up.
	stops.push("manager", stopManager)
	step("Manager started (pid %d); its log is %s", mgr.PID(), logFile)
	say("    To look around with kubectl in another terminal:")
	say("      export KUBECONFIG=%s", cp.Kubeconfig)
	say("      kubectl get aprimocredentials,secrets")

	sample, err := demoSample(root, dir, fake.URL())
	if err != nil {
		return nil, err
	}
	step("Applying the demo sample")
	kubectl := func(args ...string) error { return runKubectl(root, cp.Kubeconfig, args...) }
	if err := kubectl("apply", "--server-side", "-f", sample); err != nil {
		return nil, fmt.Errorf("kubectl apply: %w", err)
	}
	return &watcher{
		k8s:        cp.Client,
		fake:       fake,
		manager:    mgr,
		managerLog: logFile,
		kubectl:    kubectl,
		appliedAt:  time.Now(),
		parentPID:  os.Getppid(),
	}, nil
}

func loadSettings() (settings, error) {
	s := settings{tokenLifetime: 30 * time.Second, aprimoAddr: sampleAprimoAddr}
	var err error
	if v := os.Getenv("DEMO_DURATION"); v != "" {
		if s.duration, err = time.ParseDuration(v); err != nil || s.duration <= 0 {
			return s, fmt.Errorf("DEMO_DURATION=%q: want a positive Go duration such as 90s", v)
		}
	}
	if v := os.Getenv("DEMO_TOKEN_LIFETIME"); v != "" {
		if s.tokenLifetime, err = time.ParseDuration(v); err != nil || s.tokenLifetime < time.Second {
			return s, fmt.Errorf("DEMO_TOKEN_LIFETIME=%q: want a Go duration of at least 1s", v)
		}
	}
	if v := os.Getenv("DEMO_APRIMO_ADDR"); v != "" {
		s.aprimoAddr = v
	}
	return s, nil
}

// checkPrerequisites fails before anything starts on what a new user is most
// likely to lack.
func checkPrerequisites(root string) error {
	if _, err := os.Stat(filepath.Join(root, "bin", "manager")); err != nil {
		return errors.New("bin/manager does not exist: run 'make build' first, or 'make demo', which builds it")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		return errors.New("kubectl is not on PATH: the demo applies the sample with it (https://kubernetes.io/docs/tasks/tools/)")
	}
	return nil
}

func explain(s settings) {
	say("Aprimo credential operator demo")
	say("  A throwaway Kubernetes API server (kube-apiserver + etcd) and a fake Aprimo token endpoint")
	say("  start on this machine; the operator (bin/manager) runs against both. We apply")
	say("  %s and watch the operator keep the Secret %s", sampleFile, targetSecretName)
	say("  holding a valid token, renewing each %s token before it expires. %s", s.tokenLifetime, stopHint(s.duration))
	say("")
}

func stopHint(d time.Duration) string {
	if d > 0 {
		return fmt.Sprintf("Stops after %s, or on Ctrl-C.", d)
	}
	return "Stop with Ctrl-C (or set DEMO_DURATION=90s)."
}

// withDuration ends ctx after d, if d is not 0.
func withDuration(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// urlLine is the sample's spec.url.
var urlLine = regexp.MustCompile(`(?m)^(\s*url:\s*)\S+\s*$`)

// demoSample returns the sample to apply: the file itself when the fake
// listens where the sample says, otherwise a copy in dir pointing at the fake.
func demoSample(root, dir, fakeURL string) (string, error) {
	if fakeURL == "https://"+sampleAprimoAddr {
		return sampleFile, nil
	}
	data, err := os.ReadFile(filepath.Join(root, sampleFile))
	if err != nil {
		return "", err
	}
	if !urlLine.Match(data) {
		return "", fmt.Errorf("%s has no url: line to point at %s", sampleFile, fakeURL)
	}
	data = urlLine.ReplaceAll(data, []byte("${1}"+fakeURL))
	path := filepath.Join(dir, "aprimocredential.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	say("    (the fake listens on %s, so this applies a copy of %s with that url)", fakeURL, sampleFile)
	// kubectl runs from root; a relative path reads better.
	if rel, err := filepath.Rel(root, path); err == nil {
		return rel, nil
	}
	return path, nil
}

// runKubectl runs kubectl from PATH against the demo cluster, from the
// repository root, showing the command and its output.
func runKubectl(root, kubeconfig string, args ...string) error {
	say("$ kubectl %s", strings.Join(args, " "))
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// stopStack stops what was started, last started first.
type stopStack []func() error

func (s *stopStack) push(name string, stop func() error) {
	*s = append(*s, func() error {
		if err := stop(); err != nil {
			return fmt.Errorf("stopping the %s: %w", name, err)
		}
		return nil
	})
}

func (s stopStack) stopAll() error {
	var errs []error
	for i := len(s) - 1; i >= 0; i-- {
		errs = append(errs, s[i]())
	}
	return errors.Join(errs...)
}

// say prints a line for the user; all of the demo's own output goes to stdout.
func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func step(format string, args ...any) { say("==> "+format, args...) }

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "demo: %v\n", err)
	return 1
}
