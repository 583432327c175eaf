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

// Command manager runs the aprimo-credential-operator.
package main

import (
	"crypto/tls"
	"flag"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/controllers"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/metricsauth"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr, probeAddr     string
		secureMetrics, enableHTTP2 bool
		enableLeaderElection       bool
		allowedTokenHosts          string
		maxConcurrentReconciles    int
		tokenRequestTimeout        time.Duration
		caFile                     string
		watchNamespacesFlag        string
		scale                      scaleFlags
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false, "Enable leader election for controller manager. "+
		"Enabling this will ensure there is only one active controller manager.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "If set, the metrics endpoint is served securely via HTTPS. "+
		"Use --metrics-secure=false to use HTTP instead.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "If set, HTTP/2 will be enabled for the metrics server.")
	flag.StringVar(&allowedTokenHosts, "allowed-token-hosts", "*.aprimo.com,auth.aprimodm.com",
		"Comma-separated hosts the operator may send credentials to; *.example.com matches any subdomain. "+
			"A credential pointing elsewhere is HostNotAllowed. Redirects are never followed.")
	flag.IntVar(&maxConcurrentReconciles, "max-concurrent-reconciles", 64,
		"How many AprimoCredentials are reconciled at once. Each mostly waits on Aprimo and the API server.")
	flag.DurationVar(&tokenRequestTimeout, "token-request-timeout", 10*time.Second,
		"Timeout of one token request, including reading the answer (at most 1 MiB).")
	flag.StringVar(&caFile, "ca-file", "",
		"PEM file of extra CAs to trust for token endpoints, added to the system's (e.g. a TLS-inspecting proxy).")
	flag.StringVar(&watchNamespacesFlag, "watch-namespaces", "",
		"Comma-separated namespaces whose AprimoCredentials this operator manages; empty: all. "+
			"For one operator per group of tenant namespaces, with namespaced RBAC.")
	scale.bind(flag.CommandLine)
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	watchNamespaces := splitList(watchNamespacesFlag)
	hosts, err := aprimo.ParseHostAllowlist(allowedTokenHosts)
	if err != nil {
		setupLog.Error(err, "Failed to parse --allowed-token-hosts")
		os.Exit(1)
	}

	credentialSelector, err := scale.selector()
	if err != nil {
		setupLog.Error(err, "Failed to parse --credential-selector")
		os.Exit(1)
	}

	tokenOpts := aprimo.Options{Hosts: hosts, Timeout: tokenRequestTimeout,
		RequestsPerSecond: scale.tokenRequestsPerSecond, Burst: scale.tokenRequestBurst}
	if caFile != "" {
		if tokenOpts.RootCAs, err = aprimo.SystemRootsWith(caFile); err != nil {
			setupLog.Error(err, "Failed to load --ca-file")
			os.Exit(1)
		}
	}

	// HTTP/2 stays off unless asked for: it is exposed to the HTTP/2 Stream
	// Cancellation and Rapid Reset CVEs.
	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		metricsOptions.FilterProvider = metricsauth.WithAuthenticationAndAuthorization
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.UserAgent = controllers.UserAgent
	cfg.DisableCompression = !scale.apiCompression
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOptions,
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          enableLeaderElection,
		LeaderElectionID:        scale.leaderElectionID,
		LeaderElectionNamespace: scale.leaderElectionNamespace,
		PprofBindAddress:        scale.pprofAddr,
		// A refresh in progress (at most 30s) and the writes after it (10s)
		// finish before the manager exits; the Deployment allows 60s.
		GracefulShutdownTimeout: ptr.To(45 * time.Second),
		// Only the operator's own Secrets are cached in full; input Secrets
		// are read directly or watched through metadata only.
		Cache: controllers.WithCredentialSelector(controllers.CacheOptions(watchNamespaces), credentialSelector),
	})
	if err != nil {
		setupLog.Error(err, "Failed to start manager")
		os.Exit(1)
	}

	secretMetadata, err := controllers.NewSecretMetadataCache(mgr, watchNamespaces)
	if err != nil {
		setupLog.Error(err, "Failed to create the Secret metadata cache")
		os.Exit(1)
	}

	ctx := ctrl.SetupSignalHandler()
	reconciler := &controllers.AprimoCredentialReconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		SecretMetadata: secretMetadata,
		Scheme:         mgr.GetScheme(),
		Clock:          clock.RealClock{},
		Recorder:       mgr.GetEventRecorder("aprimo-credential-operator"),
		Tokens:         aprimo.NewClient(tokenOpts),
		Hosts:          hosts,
		Random:         rand.Float64,
	}
	if err := reconciler.SetupWithManager(ctx, mgr, secretMetadata, maxConcurrentReconciles); err != nil {
		setupLog.Error(err, "Failed to create controller", "controller", "AprimoCredential")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager", "allowedTokenHosts", allowedTokenHosts, "watchNamespaces", watchNamespaces,
		"credentialSelector", credentialSelector.String())
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "Failed to run manager")
		os.Exit(1)
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
