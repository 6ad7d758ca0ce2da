#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, from the tools that
# hack/tools.sh provisions: etcd, kube-apiserver, kube-scheduler,
# kube-controller-manager, containerd (CRI) with runc and the bridge CNI
# plugin, kubelet and kube-proxy (nftables mode), all inside a private network
# namespace linked to the host by a veth pair. Nothing is pulled: images are
# docker-archive tars loaded into containerd (`load`), the sandbox image too.
#
# Usage: hack/cluster.sh up     [--dir DIR]   start a node, print `export KUBECONFIG=...`
#        hack/cluster.sh down   [--dir DIR]   stop it and remove everything it made
#        hack/cluster.sh load   [--dir DIR] IMAGE.tar...   import images into the node
#        hack/cluster.sh env    [--dir DIR]   print the export lines again
#   DIR  where the node keeps its state, logs and kubeconfig; default
#        $WEFT_NODE_DIR, else <repo>/.cluster. One node per DIR; `up` on a DIR
#        that still holds a node takes that node down first.
#
# Network safety: the host route `unreachable 198.18.0.0/15` goes in first and
# is never removed. Every address is in 198.19.0.0/16: the node takes slot S
# (0..7, the first free) of 198.19.(32*S).0/19, whose first /30 links host (.1)
# and node (.2), second /21 holds Services and last /20 pods; the host routes
# both via the node. The namespace has no default route, and kubelet, kube-proxy
# and the bridge plugin change only the namespace's firewall and forwarding.
#
# Cluster DNS: CoreDNS (.tools/images/coredns.tar) runs as the Deployment
# kube-system/coredns behind the Service kube-dns on the 10th address of the
# Service range (198.19.(32*S+8).10), and the kubelet gives every pod
# `nameserver <that address>` with `search <ns>.svc.cluster.local
# svc.cluster.local cluster.local`. It answers only names of the cluster
# (cluster.local and reverse lookups); every other name is NXDOMAIN, since the
# node has no upstream. `up` returns once it answers.
#
# `down` stops processes by the pids it recorded (and whatever else is still in
# the node's namespace or cgroups), removes pod sandboxes, mounts, cgroups, the
# namespace and the veth pair, restores the kernel settings the kubelet changed,
# and deletes DIR; it fails if anything of the node is left on the host.
# Needs root (the kubelet and containerd), `make tools` first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR=${WEFT_TOOLS_DIR:-$ROOT/.tools}
BIN=$TOOLS_DIR/bin
CNI_BIN_DIR=/usr/lib/cni
NODE_NAME=weft-node
export PATH=$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# fd 3 is our stderr, so messages get out even from a redirected check.
exec 3>&2
log() { printf 'cluster.sh: %s\n' "$*" >&3; }
die() {
	log "ERROR: $*"
	exit 1
}

CMD=${1:-}
[[ -n $CMD ]] || die "usage: $0 up|down|load|env [--dir DIR] (see the head of $0)"
shift
DIR=${WEFT_NODE_DIR:-$ROOT/.cluster}
ARGS=()
while (($# > 0)); do
	case $1 in
	--dir) DIR=$2; shift 2 ;;
	--dir=*) DIR=${1#--dir=}; shift ;;
	*) ARGS+=("$1"); shift ;;
	esac
done
mkdir -p "$(dirname "$DIR")"
DIR=$(cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR") # the kubelet wants absolute paths
STATE=$DIR/state.env
PIDS=$DIR/pids
LOGS=$DIR/logs

[[ $(id -u) == 0 ]] || die "the node needs root (kubelet, containerd, network namespaces, cgroups)"

# ---- small helpers -----------------------------------------------------------
# Where the node's cgroup root lives: every mounted cgroup hierarchy (v1
# controllers, the named systemd one and, on a hybrid host, the unified one).
cgroup_hierarchies() {
	awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u
}

# pid_start PID: the process's start time in clock ticks (field 22 of stat),
# which tells a recorded pid from a reused one.
pid_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# start NAME CMD...: run CMD in the node's network namespace, detached (own
# session, output to logs/NAME.log), and record "pid starttime" in pids/NAME.
start() {
	local name=$1 pid
	shift
	# No job control here, so the child is no process-group leader and setsid
	# execs in place: $! is the daemon's own pid.
	# Our own fds 3 (stderr copy) and 8 (lock) stay here: a daemon holding a
	# caller's pipe open would keep `make cluster | tail` waiting forever.
	nsenter --net="$NETNS_PATH" -- setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 3>&- 8<&- &
	pid=$!
	printf '%s %s\n' "$pid" "$(pid_start "$pid")" >"$PIDS/$name"
}

# alive NAME: the recorded process still runs (same pid, same start time).
alive() {
	local pid since
	[[ -f $PIDS/$1 ]] || return 1
	read -r pid since <"$PIDS/$1"
	[[ -n $pid && $(pid_start "$pid") == "$since" ]]
}

# stop GRACE NAME...: SIGTERM to all of them at once, SIGKILL to whatever is
# left after GRACE seconds. Nothing here keeps state worth a long goodbye.
stop() {
	local grace=$1 name pid since i running
	shift
	for name in "$@"; do
		if alive "$name"; then
			read -r pid since <"$PIDS/$name"
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	for ((i = 0; i < grace * 10; i++)); do
		running=0
		for name in "$@"; do alive "$name" && running=1; done
		((running)) || break
		sleep 0.1
	done
	for name in "$@"; do
		if alive "$name"; then
			read -r pid since <"$PIDS/$name"
			log "$name (pid $pid) did not stop within ${grace}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do alive "$name" || break; sleep 0.1; done
		fi
		rm -f "$PIDS/$name"
	done
}

# await WHAT SECONDS CMD...: retry CMD until it succeeds; fail naming WHAT.
await() {
	local what=$1 seconds=$2 deadline
	shift 2
	deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what (logs in $LOGS)"
		sleep 0.2
	done
}

# require_running NAME...: fail with the end of its log when a daemon died.
require_running() {
	local name
	for name in "$@"; do
		alive "$name" || die "$name exited; last lines of $LOGS/$name.log:
$(tail -n 25 "$LOGS/$name.log" 2>/dev/null)"
	done
}

kubectl_node() { "$BIN/kubectl" --kubeconfig="$DIR/kubeconfig" "$@"; }
ctr_node() { ctr --address "$DIR/containerd/containerd.sock" --namespace k8s.io "$@"; }
crictl_node() {
	"$BIN/crictl" --runtime-endpoint "unix://$DIR/containerd/containerd.sock" \
		--image-endpoint "unix://$DIR/containerd/containerd.sock" --timeout 30s "$@"
}

print_env() {
	cat <<EOF
export KUBECONFIG=$DIR/kubeconfig
export CONTAINER_RUNTIME_ENDPOINT=unix://$DIR/containerd/containerd.sock
export IMAGE_SERVICE_ENDPOINT=unix://$DIR/containerd/containerd.sock
export CONTAINERD_ADDRESS=$DIR/containerd/containerd.sock
export CONTAINERD_NAMESPACE=k8s.io
export WEFT_NODE_NETNS=$NETNS
EOF
}

# ---- up ----------------------------------------------------------------------
# Certificates: one CA for everything, P-256 keys.
pki() {
	local p=$DIR/pki
	mkdir -p "$p"
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$p/ca.key" -subj "/CN=weft-node-ca" -days 365 -out "$p/ca.crt" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/sa.key" 2>/dev/null
	openssl ec -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
	# issue NAME SUBJECT USAGE [SAN]
	issue() {
		local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$3"
		[[ -z ${4:-} ]] || ext+="
subjectAltName=$4"
		openssl ecparam -name prime256v1 -genkey -noout -out "$p/$1.key" 2>/dev/null
		openssl req -new -key "$p/$1.key" -subj "$2" 2>/dev/null |
			openssl x509 -req -CA "$p/ca.crt" -CAkey "$p/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
				-days 365 -out "$p/$1.crt" -extfile <(printf '%s\n' "$ext") 2>/dev/null
	}
	issue apiserver "/CN=kube-apiserver" serverAuth \
		"IP:$NODE_IP,IP:$FIRST_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
	issue kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
	issue admin "/O=system:masters/CN=weft-admin" clientAuth
	issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
	issue kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
	issue kube-scheduler "/CN=system:kube-scheduler" clientAuth
	issue kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
	issue kube-proxy "/CN=system:kube-proxy" clientAuth
}

# kubeconfig NAME: a kubeconfig for the client certificate NAME, inline.
kubeconfig() {
	local p=$DIR/pki
	cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $NODE_NAME
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 <"$p/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 <"$p/$1.crt")
    client-key-data: $(base64 -w0 <"$p/$1.key")
contexts:
- name: $NODE_NAME
  context:
    cluster: $NODE_NAME
    user: $1
    namespace: default
current-context: $NODE_NAME
EOF
}

pick_slot() {
	local s
	for s in 0 1 2 3 4 5 6 7; do
		if [[ -z $(ip -o addr show to "198.19.$((32 * s)).0/30") ]]; then
			echo "$s"
			return
		fi
	done
	return 1
}

# The kernel settings the kubelet sets for itself (they are not per
# namespace); `down` puts back what was there.
KUBELET_SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
	kernel/keys/root_maxkeys kernel/keys/root_maxbytes)

# On a failed up: keep the logs for a look, then undo everything.
up_failed() {
	local rc=$?
	trap - EXIT
	((rc != 0)) || return 0
	local keep=$DIR-failed-logs
	rm -rf "$keep"
	cp -r "$LOGS" "$keep" 2>/dev/null || true
	log "up failed; logs copied to $keep; taking down what was started"
	down || true
	exit "$rc"
}

up() {
	local b
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl crictl; do
		[[ -x $BIN/$b ]] || die "$BIN/$b missing: run 'make tools' first"
	done
	for b in containerd containerd-shim-runc-v2 runc ctr nft iptables ip nsenter openssl curl busybox; do
		command -v "$b" >/dev/null || die "$b missing: run 'make tools' first (it installs Debian's packages)"
	done
	[[ -x $CNI_BIN_DIR/bridge ]] || die "$CNI_BIN_DIR/bridge missing: run 'make tools' first"
	[[ -s $TOOLS_DIR/images/pause.tar ]] || die "$TOOLS_DIR/images/pause.tar missing: run 'make tools' first"
	[[ -s $TOOLS_DIR/images/coredns.tar ]] || die "$TOOLS_DIR/images/coredns.tar missing: run 'make tools' first"
	# shellcheck disable=SC1091
	source "$TOOLS_DIR/env.sh"
	local started=$SECONDS

	if [[ -f $STATE ]]; then
		log "$DIR holds a node already; taking it down first"
		down
	fi

	# The guard first: from here on 198.18.0.0/15 goes only where a more specific route says.
	ip route replace unreachable 198.18.0.0/15

	mkdir -p "$DIR" "$PIDS" "$LOGS"
	# Two ups at once must not take the same slot: hold a lock (on a folder
	# every host has, so nothing is created for it) until our address is set.
	exec 8</tmp
	flock 8
	local slot
	slot=$(pick_slot) || die "no free slot: 198.19.(0..224).0/30 are all on host interfaces"
	local id
	id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	local base=$((32 * slot))
	NETNS=weft-node-$id
	NETNS_PATH=/run/netns/$NETNS
	HOST_IF=wn${id}h
	NODE_IF=wn${id}n
	HOST_IP=198.19.$base.1
	NODE_IP=198.19.$base.2
	SERVICE_CIDR=198.19.$((base + 8)).0/21
	FIRST_SERVICE_IP=198.19.$((base + 8)).1
	# Kubernetes' convention (kubeadm): the cluster DNS on the 10th address of the Service range.
	DNS_SERVICE_IP=198.19.$((base + 8)).10
	POD_CIDR=198.19.$((base + 16)).0/20
	CGROUP_ROOT=weft-node-$id
	APISERVER_PORT=$(shuf -i 20000-29999 -n 1)
	ETCD_PORT=$((APISERVER_PORT + 1)) ETCD_PEER_PORT=$((APISERVER_PORT + 2))
	KUBELET_PORT=$((APISERVER_PORT + 3))

	# Written before anything exists, so `down` can undo a half-done `up`.
	{
		printf 'SLOT=%s\nNETNS=%s\nHOST_IF=%s\nNODE_IP=%s\nHOST_IP=%s\n' "$slot" "$NETNS" "$HOST_IF" "$NODE_IP" "$HOST_IP"
		printf 'SERVICE_CIDR=%s\nPOD_CIDR=%s\nCGROUP_ROOT=%s\nAPISERVER_PORT=%s\n' "$SERVICE_CIDR" "$POD_CIDR" "$CGROUP_ROOT" "$APISERVER_PORT"
		printf 'DNS_SERVICE_IP=%s\n' "$DNS_SERVICE_IP"
		[[ -e /var/log/containers ]] || echo "MADE_VAR_LOG_CONTAINERS=1"
		[[ -e /run/containerd ]] || echo "MADE_RUN_CONTAINERD=1"
		[[ -e /var/lib/cni ]] || echo "MADE_VAR_LIB_CNI=1"
		[[ -e /run/mount ]] || echo "MADE_RUN_MOUNT=1"
	} >"$STATE"
	local s
	for s in "${KUBELET_SYSCTLS[@]}"; do
		printf '%s %s\n' "$s" "$(cat "/proc/sys/$s")"
	done >"$DIR/sysctls.saved"
	trap 'up_failed' EXIT

	# ---- network: namespace, veth, routes
	ip netns add "$NETNS"
	ip link add "$HOST_IF" type veth peer name "$NODE_IF" netns "$NETNS"
	ip addr add "$HOST_IP/30" dev "$HOST_IF"
	flock -u 8
	ip link set "$HOST_IF" up
	ip -n "$NETNS" addr add "$NODE_IP/30" dev "$NODE_IF"
	ip -n "$NETNS" link set "$NODE_IF" up
	ip -n "$NETNS" link set lo up
	ip route replace "$POD_CIDR" via "$NODE_IP" dev "$HOST_IF"
	ip route replace "$SERVICE_CIDR" via "$NODE_IP" dev "$HOST_IF"
	# A process in the node (curl, the kubelet's probes) needs a route to a
	# ClusterIP before kube-proxy's output DNAT picks the pod; the link route
	# only serves that lookup (nothing on the host answers ARP for these).
	ip -n "$NETNS" route add "$SERVICE_CIDR" dev "$NODE_IF"
	# The node forwards between the host link and its pods; only inside its namespace.
	ip netns exec "$NETNS" sysctl -qw net.ipv4.ip_forward=1

	pki

	# ---- cgroups: the kubelet's root must exist in every hierarchy beforehand
	local h
	while read -r h; do
		mkdir -p "$h/$CGROUP_ROOT"
		if [[ -f $h/cpuset.cpus ]]; then
			cat "$h/cpuset.cpus" >"$h/$CGROUP_ROOT/cpuset.cpus"
			cat "$h/cpuset.mems" >"$h/$CGROUP_ROOT/cpuset.mems"
		fi
	done < <(cgroup_hierarchies)

	# ---- containerd
	local c=$DIR/containerd
	mkdir -p "$c/root" "$c/state" "$c/runc" "$c/opt" "$DIR/cni/net.d" "$DIR/cni/ipam"
	cat >"$DIR/cni/net.d/10-weft-node.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$NETNS",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "weft0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
	cat >"$c/config.toml" <<EOF
# The test node's containerd (hack/cluster.sh): everything under $DIR.
version = 2
root = "$c/root"
state = "$c/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$c/containerd.sock"

[ttrpc]
  address = "$c/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"

[plugins."io.containerd.grpc.v1.cri"]
  # Nothing is pulled: the sandbox image is loaded from .tools/images/pause.tar.
  sandbox_image = "$WEFT_PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails to start
  # (runc cannot lower /proc/self/oom_score_adj).
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  # Loading AppArmor profiles would change the host.
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$DIR/cni/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$c/runc"
        SystemdCgroup = false
EOF
	start containerd containerd --config "$c/config.toml"
	await "containerd" 30 ctr_node version
	require_running containerd
	ctr_node images import "$TOOLS_DIR/images/pause.tar" >/dev/null
	ctr_node images import "$TOOLS_DIR/images/coredns.tar" >/dev/null

	# ---- etcd, kube-apiserver
	start etcd etcd --name "$NODE_NAME" --data-dir "$DIR/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync --log-level warn
	local p=$DIR/pki
	start kube-apiserver kube-apiserver \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
		--tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
		--client-ca-file "$p/ca.crt" --authorization-mode Node,RBAC \
		--kubelet-client-certificate "$p/apiserver-kubelet-client.crt" \
		--kubelet-client-key "$p/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority "$p/ca.crt" --kubelet-preferred-address-types InternalIP \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
		--enable-priority-and-fairness=false --profiling=false --cert-dir "$DIR/apiserver-certs"
	for b in admin kubelet kube-scheduler kube-controller-manager kube-proxy; do
		kubeconfig "$b" >"$DIR/$b.kubeconfig"
	done
	mv "$DIR/admin.kubeconfig" "$DIR/kubeconfig"
	readyz() {
		require_running etcd kube-apiserver
		curl -fsS --max-time 3 --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" \
			"https://$NODE_IP:$APISERVER_PORT/readyz" >/dev/null
	}
	await "kube-apiserver /readyz" 90 readyz

	# ---- scheduler, controller-manager
	start kube-scheduler kube-scheduler --kubeconfig "$DIR/kube-scheduler.kubeconfig" \
		--leader-elect=false --secure-port 0
	start kube-controller-manager kube-controller-manager \
		--kubeconfig "$DIR/kube-controller-manager.kubeconfig" --leader-elect=false --secure-port 0 \
		--use-service-account-credentials=true \
		--service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
		--cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
		--allocate-node-cidrs=false

	# ---- kubelet
	mkdir -p "$DIR/kubelet" "$DIR/pod-logs"
	# The node's own resolver configuration, which pods with dnsPolicy Default
	# (CoreDNS itself) get and whose search list the kubelet appends to every
	# pod's: empty, the node has no DNS outside the cluster.
	echo "# the weft test node has no DNS server outside the cluster (cluster DNS: $DNS_SERVICE_IP)" >"$DIR/resolv.conf"
	cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzPort: 0
tlsCertFile: $p/kubelet-serving.crt
tlsPrivateKeyFile: $p/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $p/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$c/containerd.sock
# cgroup v1 through cgroupfs, under a root of our own made beforehand.
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
failCgroupV1: false
podLogsDir: $DIR/pod-logs
resolvConf: $DIR/resolv.conf
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
failSwapOn: false
# Without CAP_SYS_RESOURCE the kubelet cannot lower its own score.
oomScoreAdj: 0
# Loaded images are the only copies: never collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
registerNode: true
EOF
	start kubelet kubelet --config "$DIR/kubelet.yaml" --kubeconfig "$DIR/kubelet.kubeconfig" \
		--root-dir "$DIR/kubelet" \
		--hostname-override "$NODE_NAME" --node-ip "$NODE_IP"

	# ---- kube-proxy
	cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:$((APISERVER_PORT + 4))
metricsBindAddress: 127.0.0.1:$((APISERVER_PORT + 5))
nodePortAddresses: ["$NODE_IP/32"]
# Pods on one bridge reach each other's Services without br_netfilter.
nftables: {masqueradeAll: true}
# Zero: leave the kernel's conntrack settings alone (some are not per namespace).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
	start kube-proxy kube-proxy --config "$DIR/kube-proxy.yaml"

	# ---- ready: the node, and what every pod needs from the controller-manager
	node_ready() {
		require_running containerd kube-apiserver kube-scheduler kube-controller-manager kubelet kube-proxy
		[[ $(kubectl_node get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]] &&
			kubectl_node get serviceaccount default -n default &&
			kubectl_node get configmap kube-root-ca.crt -n default
	}
	await "node $NODE_NAME Ready with the default ServiceAccount" 120 node_ready
	cluster_dns
	trap - EXIT
	print_env >"$DIR/env.sh"
	log "node $NODE_NAME up in $((SECONDS - started))s: apiserver https://$NODE_IP:$APISERVER_PORT, pods $POD_CIDR, Services $SERVICE_CIDR, DNS $DNS_SERVICE_IP, netns $NETNS"
	log "load images with: hack/cluster.sh load --dir $DIR IMAGE.tar  (built images: $TOOLS_DIR/images/)"
	log "enter the node's network with: nsenter --net=$NETNS_PATH"
	log "stop it with: hack/cluster.sh down --dir $DIR"
	print_env
}

# cluster_dns: CoreDNS as the cluster's DNS, the way clusters run it (kubeadm's
# objects, trimmed): its RBAC, Corefile, one replica and the kube-dns Service on
# $DNS_SERVICE_IP; waits until it answers a name through that Service.
cluster_dns() {
	local started=$SECONDS
	kubectl_node apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: system:coredns}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: system:coredns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:coredns}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  # The cluster's names from the API; the node has no upstream, so every
  # other name gets NXDOMAIN at once (not SERVFAIL, not a timeout).
  Corefile: |
    cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            ttl 30
        }
        prometheus :9153
        cache 30
        loadbalance
        reload
    }
    .:53 {
        errors
        template ANY ANY {
            rcode NXDOMAIN
        }
        loop
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      # CoreDNS must not ask itself.
      dnsPolicy: Default
      securityContext:
        runAsUser: 65532
        runAsGroup: 65532
        runAsNonRoot: true
        # Port 53 without a capability: this sysctl is namespaced and on the kubelet's safe list.
        sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "53"}]
      containers:
      - name: coredns
        image: $WEFT_COREDNS_IMAGE
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        - {name: metrics, containerPort: 9153, protocol: TCP}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        resources:
          requests: {cpu: 20m, memory: 40Mi}
          limits: {memory: 170Mi}
        livenessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 5
          failureThreshold: 5
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 1
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: $DNS_SERVICE_IP
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: metrics, port: 9153, protocol: TCP}
EOF
	# Asked through the Service (kube-proxy's rules, CoreDNS's watch of the API), as pods will.
	dns_answers() {
		require_running kubelet kube-proxy
		timeout 5 nsenter --net="$NETNS_PATH" -- busybox nslookup -type=a kubernetes.default.svc.cluster.local "$DNS_SERVICE_IP" 2>/dev/null |
			grep -qF "$FIRST_SERVICE_IP"
	}
	await "cluster DNS (CoreDNS) answering on $DNS_SERVICE_IP" 120 dns_answers
	log "cluster DNS answers on $DNS_SERVICE_IP:53 after $((SECONDS - started))s"
}

# ---- down --------------------------------------------------------------------
# mounts_under PATH: mount points at or below PATH, deepest first.
mounts_under() {
	awk -v p="$1" '{ m = $5; gsub(/\\040/, " ", m); if (m == p || index(m, p "/") == 1) print m }' /proc/self/mountinfo |
		awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

# pids_in_cgroups: every process in the node's cgroup root, in any hierarchy.
pids_in_cgroups() {
	local h
	[[ -n ${CGROUP_ROOT:-} ]] || return 0
	while read -r h; do
		[[ -d $h/$CGROUP_ROOT ]] && find "$h/$CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null
	done < <(cgroup_hierarchies)
	return 0
}

# pids_in_netns: every process whose network namespace is the node's.
pids_in_netns() {
	local ino p
	[[ -n ${NETNS:-} && -e /run/netns/$NETNS ]] || return 0
	ino=$(stat -L -c %i "/run/netns/$NETNS")
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/net" 2>/dev/null) == "net:[$ino]" ]] && echo "${p#/proc/}"
	done
	return 0
}

# shim_socket SANDBOX: where containerd 1.6 puts the socket of a sandbox's shim
# (/run/containerd/s/<sha256 of "<containerd address>/<namespace>/<id>">), which
# stays behind when the shim does not end cleanly.
shim_socket() {
	printf '/run/containerd/s/%s\n' "$(printf '%s' "$DIR/containerd/containerd.sock/k8s.io/$1" | sha256sum | cut -d' ' -f1)"
}

# leftovers: what of the node is still on the host, one line each.
leftovers() {
	local h m
	for m in $(pids_in_netns) $(pids_in_cgroups); do echo "process $m ($(tr '\0' ' ' <"/proc/$m/cmdline" 2>/dev/null | cut -c1-80))"; done
	while read -r m; do [[ -n $m ]] && echo "mount $m"; done < <(mounts_under "$DIR")
	if [[ -n ${CGROUP_ROOT:-} ]]; then
		while read -r h; do [[ -d $h/$CGROUP_ROOT ]] && echo "cgroup $h/$CGROUP_ROOT"; done < <(cgroup_hierarchies)
	fi
	[[ -n ${NETNS:-} && -e /run/netns/$NETNS ]] && echo "network namespace $NETNS"
	[[ -n ${HOST_IF:-} ]] && ip link show "$HOST_IF" >/dev/null 2>&1 && echo "host interface $HOST_IF"
	ls /var/log/containers 2>/dev/null | while read -r m; do
		[[ $(readlink "/var/log/containers/$m") == "$DIR"/* ]] && echo "log link /var/log/containers/$m"
	done
	for m in "${SHIM_SOCKETS[@]}"; do [[ -e $m ]] && echo "shim socket $m"; done
	for m in "${SANDBOXES[@]}"; do
		for f in /var/lib/cni/results/*-"$m"-*; do [[ -e $f ]] && echo "CNI result $f"; done
	done
	ip route show table all 198.18.0.0/15 | grep -q '^unreachable 198.18.0.0/15' || echo "(missing) guard route unreachable 198.18.0.0/15"
	return 0
}

down() {
	if [[ ! -f $STATE ]]; then
		if [[ -d $DIR && -z $(mounts_under "$DIR") ]]; then rm -rf --one-file-system "$DIR"; fi
		return 0
	fi
	# shellcheck disable=SC1090
	source "$STATE"
	local started=$SECONDS
	NETNS_PATH=/run/netns/$NETNS
	local c=$DIR/containerd
	# What the runtime leaves outside the folder when a sandbox or shim does not end
	# cleanly, named by what we know now: the sandbox ids and the shims' sockets.
	SANDBOXES=() SHIM_SOCKETS=()
	if [[ -d $c/root/io.containerd.grpc.v1.cri/sandboxes ]]; then
		mapfile -t SANDBOXES < <(ls "$c/root/io.containerd.grpc.v1.cri/sandboxes")
	fi
	local sandbox
	for sandbox in "${SANDBOXES[@]}"; do SHIM_SOCKETS+=("$(shim_socket "$sandbox")"); done

	stop 3 kubelet kube-proxy kube-scheduler kube-controller-manager
	log "down: control loops stopped after $((SECONDS - started))s"
	# Pod sandboxes: containerd stops their containers, tears their network
	# down through CNI and unmounts their namespaces and shm.
	if alive containerd; then
		crictl_node rmp --all --force >/dev/null 2>&1 || log "crictl rmp failed; killing what is left"
	fi
	log "down: pod sandboxes removed after $((SECONDS - started))s"
	stop 5 containerd kube-apiserver
	stop 5 etcd
	log "down: daemons stopped after $((SECONDS - started))s"

	# Whatever still runs in the node's namespace or cgroups: shims, pods.
	local pid i
	for ((i = 0; i < 50; i++)); do
		local left
		left=$(
			pids_in_netns
			pids_in_cgroups
		)
		[[ -n $left ]] || break
		for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
		sleep 0.1
	done

	local m
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
	done < <(mounts_under "$DIR")

	local h
	while read -r h; do
		[[ -d $h/$CGROUP_ROOT ]] || continue
		for ((i = 0; i < 50; i++)); do
			find "$h/$CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[[ -d $h/$CGROUP_ROOT ]] || break
			sleep 0.1
		done
	done < <(cgroup_hierarchies)

	[[ ! -e $NETNS_PATH ]] || ip netns delete "$NETNS"
	ip link del "$HOST_IF" 2>/dev/null || true # gone with the namespace; the routes via it too

	local s v
	while read -r s v; do
		if [[ $(cat "/proc/sys/$s") != "$v" ]]; then echo "$v" >"/proc/sys/$s"; fi
	done < <(cat "$DIR/sysctls.saved" 2>/dev/null)

	# Host paths the kubelet and containerd use whatever they are told.
	local f
	for f in /var/log/containers/*; do
		[[ -L $f && $(readlink "$f") == "$DIR"/* ]] && rm -f "$f"
	done
	for f in "${SHIM_SOCKETS[@]}"; do rm -f "$f"; done
	for f in "${SANDBOXES[@]}"; do rm -f /var/lib/cni/results/*-"$f"-*; done
	[[ -z ${MADE_VAR_LOG_CONTAINERS:-} ]] || rmdir /var/log/containers 2>/dev/null || true
	# util-linux's mount and umount keep their table here; empty once our mounts are gone.
	[[ -z ${MADE_RUN_MOUNT:-} || ! -d /run/mount ]] ||
		find /run/mount -depth \( -empty -o -name utab \) -delete 2>/dev/null || true
	[[ -z ${MADE_RUN_CONTAINERD:-} || ! -d /run/containerd ]] ||
		find /run/containerd -depth -type d -empty -delete 2>/dev/null || true
	if [[ -d /var/lib/cni ]]; then
		find /var/lib/cni -name "$NETNS-*" -delete 2>/dev/null || true
		[[ -z ${MADE_VAR_LIB_CNI:-} ]] || find /var/lib/cni -depth -type d -empty -delete 2>/dev/null || true
	fi

	local left
	left=$(leftovers)
	if [[ -n $left ]]; then
		log "node $NETNS left behind (state kept in $DIR):"
		printf '%s\n' "$left" | sed 's/^/  /' >&3
		return 1
	fi
	rm -rf --one-file-system "$DIR"
	log "node $NETNS down in $((SECONDS - started))s; nothing left on the host"
}

case $CMD in
up) up ;;
down) down ;;
load)
	[[ -f $STATE ]] || die "no node in $DIR (hack/cluster.sh up first)"
	((${#ARGS[@]} > 0)) || die "usage: $0 load [--dir DIR] IMAGE.tar..."
	for f in "${ARGS[@]}"; do ctr_node images import "$f"; done
	;;
env)
	[[ -f $STATE ]] || die "no node in $DIR"
	# shellcheck disable=SC1090
	source "$STATE"
	print_env
	;;
*) die "unknown command $CMD: up, down, load or env" ;;
esac
