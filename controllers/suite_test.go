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

package controllers

import (
	"bytes"
	"context"
	"crypto/x509"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

var (
	cfg       *rest.Config
	k8s       client.Client // direct, uncached: what a user sees
	testEnv   *envtest.Environment
	fake      *aprimotest.Server
	logs      = &syncBuffer{}
	suiteCtx  context.Context
	stopSuite context.CancelFunc
	// stopManager stops the running manager and waits for it to exit.
	stopManager func()
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	// Debug level, so the leak scan covers every log line the operator can write.
	logf.SetLogger(zap.New(zap.WriteTo(logs), zap.UseDevMode(true), zap.Level(zapcore.Level(-5))))
	suiteCtx, stopSuite = context.WithCancel(context.Background())

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	auditLog = enableAuditLog(testEnv)
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	Expect(v1alpha1.AddToScheme(clientgoscheme.Scheme)).To(Succeed())
	k8s, err = client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	Expect(err).NotTo(HaveOccurred())

	fake, err = aprimotest.NewServer(aprimotest.Options{ReplayDetection: true})
	Expect(err).NotTo(HaveOccurred())

	stopManager = startManager()
})

var _ = AfterSuite(func() {
	defer teardown() // also when the leak scan fails
	if fake != nil && k8s != nil {
		expectNoSecretLeaked()
		expectNoSecretListedInFull()
		// Stale caches and conflicts are handled, not reported as errors.
		Expect(logs.String()).NotTo(ContainSubstring("Reconciler error"))
	}
})

func teardown() {
	if stopManager != nil {
		stopManager()
	}
	if fake != nil {
		fake.Close()
	}
	if stopSuite != nil {
		stopSuite()
	}
	Expect(testEnv.Stop()).To(Succeed())
}

// suiteRevokeDeadline is short, so a spec can see a failing revoke give way.
const suiteRevokeDeadline = 6 * time.Second

// metricsAddr is where the suite's manager serves metrics.
var metricsAddr = freeAddr()

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// startManager runs the operator as cmd/main.go wires it, against the fake,
// and returns a function that stops it and waits until it has stopped.
func startManager() func() {
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())

	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.UserAgent = UserAgent // as cmd/main.go: the audit check tells its requests apart
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: metricsAddr}, // plain HTTP, as --metrics-secure=false
		// The suite restarts the manager; controller names are process-global.
		Controller: config.Controller{SkipNameValidation: ptrTo(true)},
		Cache:      CacheOptions(nil),
	})
	Expect(err).NotTo(HaveOccurred())
	secretMetadata, err := NewSecretMetadataCache(mgr, nil)
	Expect(err).NotTo(HaveOccurred())

	pool := x509.NewCertPool()
	Expect(pool.AppendCertsFromPEM(fake.CACertPEM())).To(BeTrue())
	// *.aprimo.invalid never resolves (RFC 6761): a tenant that does not exist.
	hosts := aprimo.HostAllowlist{"127.0.0.1", "*.aprimo.com", "*.aprimo.invalid"}
	r := &AprimoCredentialReconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		SecretMetadata: secretMetadata,
		Scheme:         mgr.GetScheme(),
		Clock:          clock.RealClock{},
		Recorder:       mgr.GetEventRecorder("aprimo-credential-operator"),
		Tokens:         aprimo.NewClient(aprimo.Options{Hosts: hosts, Timeout: 5 * time.Second, Transport: fake.Client().Transport}),
		Hosts:          hosts,
		Random:         rand.Float64,
		RevokeDeadline: suiteRevokeDeadline,
	}
	ctx, cancel := context.WithCancel(suiteCtx)
	Expect(r.SetupWithManager(ctx, mgr, secretMetadata, 4)).To(Succeed())

	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	return func() {
		cancel()
		<-done
	}
}

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = GinkgoWriter.Write(p)
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
