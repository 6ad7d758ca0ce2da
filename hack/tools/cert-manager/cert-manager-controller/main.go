// Command cert-manager-controller runs cert-manager's own controllers for the
// CA issuer path, so that the e2e suite can test Weft's cert-manager option
// against the real thing.
//
// cert-manager's controller binary lives in a nested module
// (github.com/cert-manager/cert-manager/cmd/controller) that the Go module
// proxy does not serve, so this file wires the controllers of the main module
// together itself: the ones a Certificate signed by a CA Issuer goes through
// (trigger, key manager, request manager, approver, CA signer, issuing,
// readiness) plus the Issuer and ClusterIssuer controllers that mark a CA
// issuer Ready. No ACME, Vault, Venafi, ingress or gateway controllers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the apiserver to work against")
	clusterNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace of the Secrets that ClusterIssuers refer to")
	version := flag.Bool("version", false, "print the controllers built in and exit")
	flag.Parse()

	names := make([]string, 0, len(controllerpkg.Known()))
	for name := range controllerpkg.Known() {
		names = append(names, name)
	}
	sort.Strings(names)
	if *version {
		fmt.Printf("cert-manager controllers: %v\n", names)
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "cert-manager")

	opts := controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
	}
	opts.ClusterResourceNamespace = *clusterNamespace
	factory, err := controllerpkg.NewContextFactory(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cert-manager: %v\n", err)
		os.Exit(1)
	}

	var controllers []controllerpkg.Interface
	for _, name := range names {
		c, err := controllerpkg.Known()[name](factory)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cert-manager: controller %s: %v\n", name, err)
			os.Exit(1)
		}
		controllers = append(controllers, c)
	}

	// Every Context shares the factory's informers: start them once the
	// controllers have registered what they watch.
	shared, err := factory.Build("informers")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cert-manager: %v\n", err)
		os.Exit(1)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())

	fmt.Printf("cert-manager: running controllers %v\n", names)
	var wg sync.WaitGroup
	for i, c := range controllers {
		wg.Add(1)
		go func(name string, c controllerpkg.Interface) {
			defer wg.Done()
			if err := c.Run(2, ctx); err != nil {
				fmt.Fprintf(os.Stderr, "cert-manager: controller %s stopped: %v\n", name, err)
			}
		}(names[i], c)
	}
	wg.Wait()
}
