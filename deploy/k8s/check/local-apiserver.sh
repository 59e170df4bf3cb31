#!/usr/bin/env bash
# A throwaway Kubernetes control plane on loopback, for checking deploy/k8s and the Kubernetes
# provisioner against the real thing where no cluster (and no Docker) is at hand: etcd,
# kube-apiserver (RBAC, admission with PodSecurity) and kube-controller-manager (the Deployment,
# ReplicaSet and garbage-collector controllers only), built from the Go module proxy. No scheduler,
# no kubelet, no network: pods are created and deleted but never run (provisioner-check.ts plays the
# kubelet's part with an admin's credentials).
#
#   deploy/k8s/check/local-apiserver.sh up      # build once (about 10 min on 2 cores), start, apply deploy/k8s
#   deploy/k8s/check/local-apiserver.sh check   # provisioner-check.ts as the agent-pool-supervisor service account
#   deploy/k8s/check/local-apiserver.sh down
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.6}
DIR=${FLOTILLA_K8S_DIR:-/tmp/flotilla-k8s}
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$DIR/bin
export KUBECONFIG=$DIR/admin.kubeconfig

build() {
  mkdir -p "$BIN" "$DIR/src/k8s" "$DIR/src/etcd"
  if [[ ! -x $BIN/kube-apiserver || ! -x $BIN/kube-controller-manager ]]; then
    # k8s.io/kubernetes replaces its staging modules with local directories, which `go install` refuses:
    # a module of our own requires it and points each staging module at its published version instead.
    (cd "$DIR/src/k8s" && printf 'module local/k8s\n\ngo 1.24.0\n' > go.mod && go mod download "k8s.io/kubernetes@$K8S_VERSION")
    local gomod minor
    gomod=$(cd "$DIR/src/k8s" && go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/go.mod
    minor=v0.${K8S_VERSION#v1.}
    {
      printf 'module local/k8s\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
      grep -E '=> ./staging' "$gomod" | awk -v v="$minor" '{print "\t" $1 " => " $1 " " v}'
      printf ')\n'
    } > "$DIR/src/k8s/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n)\n' > "$DIR/src/k8s/tools.go"
    (cd "$DIR/src/k8s" && go mod tidy && go build -o "$BIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver && go build -o "$BIN/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager)
  fi
  if [[ ! -x $BIN/etcd ]]; then
    (cd "$DIR/src/etcd" && printf 'module local/etcd\n\ngo 1.24.0\n' > go.mod && printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go &&
      go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go build -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
  fi
}

kubeconfig() { # file user token [namespace]
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: { server: https://127.0.0.1:6443, insecure-skip-tls-verify: true }
users:
- name: $2
  user: { token: $3 }
contexts:
- name: local
  context: { cluster: local, user: $2, namespace: ${4:-default} }
current-context: local
EOF
}

start() { # name command...
  local name=$1
  shift
  setsid "$@" > "$DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/$name.pid"
}

up() {
  build
  cd "$DIR"
  [[ -f sa.key ]] || { openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }
  [[ -f tokens.csv ]] || echo "admin-$(openssl rand -hex 12),admin,admin,system:masters" > tokens.csv
  kubeconfig admin.kubeconfig admin "$(cut -d, -f1 tokens.csv)"
  start etcd "$BIN/etcd" --data-dir "$DIR/etcd-data" --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 \
    --cert-dir="$DIR/certs" --token-auth-file="$DIR/tokens.csv" --authorization-mode=RBAC --service-account-key-file="$DIR/sa.pub" \
    --service-account-signing-key-file="$DIR/sa.key" --service-account-issuer=https://kubernetes.default.svc --service-cluster-ip-range=10.0.0.0/24
  for _ in $(seq 1 90); do kubectl get --raw /readyz > /dev/null 2>&1 && break; sleep 1; done
  kubectl get --raw /readyz > /dev/null
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG" --controllers=deployment,replicaset,garbagecollector \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=10257
  kubectl apply -k "$REPO/deploy/k8s"
  # The service-account controller (not run here) would have made the namespace's default account.
  kubectl -n flotilla get serviceaccount default > /dev/null 2>&1 || kubectl -n flotilla create serviceaccount default
  kubeconfig supervisor.kubeconfig supervisor "$(kubectl -n flotilla create token agent-pool-supervisor --duration=12h)" flotilla
  echo "up: KUBECONFIG=$DIR/admin.kubeconfig (admin), $DIR/supervisor.kubeconfig (the supervisor's service account)"
}

check() {
  cd "$REPO"
  KUBECONFIG=$DIR/supervisor.kubeconfig ADMIN_KUBECONFIG=$DIR/admin.kubeconfig node -r @swc-node/register deploy/k8s/check/provisioner-check.ts
}

down() {
  for name in kube-controller-manager kube-apiserver etcd; do
    [[ -f $DIR/$name.pid ]] && kill "$(cat "$DIR/$name.pid")" 2> /dev/null || true
    rm -f "$DIR/$name.pid"
  done
  rm -rf "$DIR/etcd-data"
}

case ${1:-} in
  build) build ;;
  up) up ;;
  check) check ;;
  down) down ;;
  *) echo "usage: $0 build|up|check|down" >&2; exit 2 ;;
esac
