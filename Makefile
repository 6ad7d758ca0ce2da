# Weft: build, test and provisioning entry points. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
MVN ?= mvn -B -ntp
# jib (the images profile) would otherwise ask a server on the internet whether it is the newest version.
JIB := -Djib.disableUpdateChecks=true

.PHONY: help demo test unit e2e bench bench-scale tools crds clean cluster cluster-down images

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: tools ## Weft on a real single-node Kubernetes (root): helm install, injected sidecars, a live 90/10 canary over mTLS; DEMO_ONCE=1 exits after printing, DEMO_LOCAL=1 runs the loopback demo (no root)
	MVN="$(MVN)" hack/demo.sh

test: tools ## provision the real tools, then run the unit tests and the real end-to-end suite
	source .tools/env.sh && $(MVN) install -Pe2e,images $(JIB)
	@echo "The end-to-end suite ran against:"; sed 's/^/  /' .tools/versions.txt

unit: ## unit tests only (no real tools needed)
	$(MVN) install

e2e: tools ## the real end-to-end suite only (after the modules are built)
	$(MVN) -q install -DskipTests -Pimages $(JIB)
	source .tools/env.sh && $(MVN) test -Pe2e -pl e2e

bench: tools ## benchmarks that print numbers (translation time, propagation to Envoy, sidecar latency, xDS at scale); see docs/benchmarks.md
	$(MVN) -q install -DskipTests
	source .tools/env.sh && $(MVN) test -Pe2e -pl e2e -Dtest='*Bench' -Dsurefire.failIfNoSpecifiedTests=false

bench-scale: tools ## only the xDS scale benchmark (ScaleBench); pick rows with SCALE='-Dweft.bench.services=1000 -Dweft.bench.proxies=2000' (docs/benchmarks.md)
	$(MVN) -q install -DskipTests
	source .tools/env.sh && $(MVN) test -Pe2e -pl e2e -Dtest=ScaleBench -Dsurefire.failIfNoSpecifiedTests=false $(SCALE)

tools: ## provision Envoy, kube-apiserver, etcd, kubectl, helm and the node's parts (kubelet, kube-proxy, scheduler, controller-manager, crictl, CoreDNS, images) into .tools/ (pinned, cached), and Debian's iptables, containerd, runc, CNI plugins, nftables (apt-get, as root)
	hack/tools.sh

cluster: tools ## a real single-node Kubernetes on this machine in a private network namespace (root); prints export KUBECONFIG=...
	hack/cluster.sh up

images: tools ## the operator and xds-server images as docker-archive tars (operator/target/image.tar, xds-server/target/image.tar); load them with hack/cluster.sh load
	$(MVN) -q package -Pimages -pl operator,xds-server -am -Dmaven.test.skip=true $(JIB)

cluster-down: ## stop the node of `make cluster` and remove everything it made
	hack/cluster.sh down

crds: ## regenerate crds/manifests from the Java types in dev.weft.api.v1alpha1
	$(MVN) -q test -pl crds -Dtest=CrdManifestsTest -Dweft.crds.update=true -Dsurefire.failIfNoSpecifiedTests=false
	rm -f helm/weft/crds/*.yml && cp crds/manifests/*.yml helm/weft/crds/

clean: ## remove build output (keeps .tools/)
	$(MVN) -q clean
