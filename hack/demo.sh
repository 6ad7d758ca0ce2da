#!/usr/bin/env bash
# `make demo`: builds the modules the demo needs, then runs dev.weft.demo.WeftDemo in one JVM:
# a real kube-apiserver + etcd, the operator, the xds-server and Envoy sidecars on this machine.
#   DEMO_ONCE=1        exit after printing the split and MeshStatus (CI's smoke test)
#   DEMO_SKIP_BUILD=1  run what is already built (the end-to-end DemoTest does)
# The tools (Envoy, kube-apiserver, etcd, kubectl) come from `make tools`, which `make demo` runs first.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if [[ "${DEMO_SKIP_BUILD:-}" != 1 ]]; then
  mkdir -p demo/target
  log=demo/target/demo-build.log
  echo "building the modules (mvn install -DskipTests -pl demo -am; log in $log)"
  if ! ${MVN:-mvn -B -ntp} install -DskipTests -pl demo -am >"$log" 2>&1; then
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
  dev.weft.demo.WeftDemo
