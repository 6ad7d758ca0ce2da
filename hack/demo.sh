#!/usr/bin/env bash
# `make demo`: builds the modules and images the demo needs, then runs dev.weft.demo.NodeDemo:
# a single-node Kubernetes on this machine (hack/cluster.sh, needs root), the chart installed with
# helm, injected pods and a 90/10 canary over mTLS; see docs/quickstart.md.
#   DEMO_ONCE=1              exit after printing the split and MeshStatus (CI's smoke test)
#   DEMO_SKIP_BUILD=1        run what is already built (the end-to-end tests do)
#   WEFT_DEMO_KUBECONFIG=F   use the cluster of kubeconfig F instead of a node of our own
#   WEFT_DEMO_LOAD='CMD'     with it: the command that loads an image tar into that cluster
#                            (e.g. 'kind load image-archive'); each tar is appended
#   DEMO_LOCAL=1             the loopback demo instead (dev.weft.demo.WeftDemo: apiserver, operator,
#                            xds-server and Envoy sidecars as local processes; no root, no node)
# The tools come from `make tools`, which `make demo` runs first.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

main=dev.weft.demo.NodeDemo
if [[ "${DEMO_LOCAL:-}" == 1 ]]; then
  main=dev.weft.demo.WeftDemo
elif [[ -z "${WEFT_DEMO_KUBECONFIG:-}" && $(id -u) != 0 ]]; then
  echo "make demo brings up a Kubernetes node on this machine, which needs root (containerd, kubelet):" >&2
  echo "run it as root, or point it at a cluster you have (WEFT_DEMO_KUBECONFIG=...), or DEMO_LOCAL=1 make demo" >&2
  exit 1
fi

if [[ "${DEMO_SKIP_BUILD:-}" != 1 ]]; then
  mkdir -p demo/target
  log=demo/target/demo-build.log
  modules=demo
  profiles=()
  if [[ "${DEMO_LOCAL:-}" != 1 ]]; then
    # The node runs the operator and the xds-server from the images jib builds.
    modules=demo,operator,xds-server
    profiles=(-Pimages -Djib.disableUpdateChecks=true)
  fi
  echo "building the modules (mvn install -DskipTests ${profiles[*]} -pl $modules -am; log in $log)"
  if ! ${MVN:-mvn -B -ntp} install -DskipTests "${profiles[@]}" -pl "$modules" -am >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "the build failed; see $log" >&2
    exit 1
  fi
fi

# java itself, not Maven: Ctrl-C reaches the demo's JVM, whose shutdown hook stops every process it started.
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" \
  -Dweft.repo.root="$root" \
  -Djdk.httpclient.allowRestrictedHeaders=host \
  -cp "demo/target/classes:$(cat demo/target/classpath.txt)" \
  "$main"
