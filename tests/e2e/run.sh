#!/usr/bin/env bash
# `make e2e`: kcr on a real Kubernetes (kind) with a real Kafka (Strimzi).
#
# 1. creates the kind cluster of kind-config.yaml (Kubernetes 1.32)
# 2. installs Strimzi and a one-node KRaft Kafka (tests/e2e/kafka.yaml), and the
#    prometheus-operator CRDs the ServiceMonitor and PrometheusRule need
# 3. builds the kcr image (manifests/image/Containerfile) and loads it into kind
# 4. deploys manifests/ through tests/e2e/overlay (test identities, a KafkaCluster)
# 5. runs `pytest -m e2e tests/e2e` with KCR_E2E=1
#
# Needs Docker, kind, kubectl and curl. Leaves nothing behind unless KCR_E2E_KEEP=1.
# KCR_E2E_CLUSTER names an existing kind cluster to reuse (it is then kept).
set -euo pipefail
cd "$(dirname "$0")/../.."

KIND_VERSION=v0.27.0
STRIMZI_VERSION=0.45.0
PROMETHEUS_OPERATOR_VERSION=v0.93.0
IMAGE=localhost/kcr:e2e
CLUSTER=${KCR_E2E_CLUSTER:-kcr-e2e}
KEEP=${KCR_E2E_KEEP:-0}
PYTEST=${PYTEST:-.venv/bin/pytest}
WAIT=${KCR_E2E_WAIT:-600s}

say() { printf '\n==> %s\n' "$*" >&2; }

missing=()
if ! command -v docker >/dev/null 2>&1; then
  missing+=("docker: the Docker CLI and a running Docker Engine (https://docs.docker.com/engine/install/)")
elif ! docker info >/dev/null 2>&1; then
  missing+=("a running Docker daemon: 'docker info' cannot reach one (start dockerd, or check DOCKER_HOST)")
fi
command -v kind >/dev/null 2>&1 ||
  missing+=("kind $KIND_VERSION (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
command -v kubectl >/dev/null 2>&1 || missing+=("kubectl 1.30 or newer")
command -v curl >/dev/null 2>&1 || missing+=("curl")
[ -x "$PYTEST" ] || missing+=("$PYTEST: run 'make setup' first")
if [ ${#missing[@]} -gt 0 ]; then
  {
    echo "make e2e cannot run here; it needs:"
    for item in "${missing[@]}"; do echo "  - $item"; done
    echo "The unit, Kafka, operator and MCP suites run without them: make test"
  } >&2
  exit 2
fi
if [ "$(kind version | awk '{print $2}')" != "$KIND_VERSION" ]; then
  echo "note: kind $(kind version | awk '{print $2}') found; these tests are pinned to $KIND_VERSION" >&2
fi

work=$(mktemp -d)
export KUBECONFIG="$work/kubeconfig"
created=0
cleanup() {
  status=$?
  if [ "$created" = 1 ] && [ "$KEEP" != 1 ]; then
    say "deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  elif [ "$created" = 1 ]; then
    echo "kept cluster $CLUSTER; delete it with: kind delete cluster --name $CLUSTER" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  say "reusing kind cluster $CLUSTER"
else
  say "creating kind cluster $CLUSTER"
  created=1
  kind create cluster --name "$CLUSTER" --config kind-config.yaml --wait 180s
fi
kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"

say "installing Strimzi $STRIMZI_VERSION and a one-node Kafka"
kubectl create namespace kafka --dry-run=client -o yaml | kubectl apply -f -
curl -fsSL "https://github.com/strimzi/strimzi-kafka-operator/releases/download/$STRIMZI_VERSION/strimzi-cluster-operator-$STRIMZI_VERSION.yaml" |
  sed 's/namespace: myproject/namespace: kafka/' |
  kubectl apply -n kafka -f -
kubectl -n kafka rollout status deployment/strimzi-cluster-operator --timeout="$WAIT"
kubectl apply -f tests/e2e/kafka.yaml

say "installing the prometheus-operator CRDs ($PROMETHEUS_OPERATOR_VERSION)"
for crd in servicemonitors prometheusrules; do
  kubectl apply --server-side -f \
    "https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/$PROMETHEUS_OPERATOR_VERSION/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml"
done

say "building $IMAGE and loading it into kind"
docker build -f manifests/image/Containerfile -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

say "deploying manifests/ (through tests/e2e/overlay)"
kubectl apply -k crds
kubectl wait --for=condition=Established --timeout=60s \
  crd/kafkachangerequests.kcr.dev crd/kafkaclusters.kcr.dev
kubectl apply -k tests/e2e/overlay
kubectl -n kcr-system rollout status deployment/kcr-operator --timeout="$WAIT"
kubectl -n kcr-system rollout status deployment/kcr-mcp --timeout="$WAIT"

say "waiting for Kafka"
kubectl -n kafka wait kafka/kcr --for=condition=Ready --timeout="$WAIT"

say "running tests/e2e"
KCR_E2E=1 \
  KCR_KAFKA_BOOTSTRAP=127.0.0.1:32100 \
  KCR_E2E_IMAGE="$IMAGE" \
  "$PYTEST" -m e2e tests/e2e -v -p no:cacheprovider
