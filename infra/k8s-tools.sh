#!/bin/bash
# The tools that check the Helm chart offline (tests/unit/deploy, docs/kubernetes.md), installed into .cache/k8s from
# package registries only:
#   helm v4          built from its Go module (helm.sh/helm/v4) with the local Go toolchain
#   kubeconform      built from its Go module (github.com/yannh/kubeconform)
#   Kubernetes' JSON schemas: the PyPI package kubernetes-validate (strict schemas per Kubernetes version), made
#                    stand-alone for kubeconform by deploy/schemas.py
#   CRD schemas      KEDA's CRDs from its Go module zip (config/crd/bases), prometheus-operator's and the MongoDB
#                    Community Operator's from theirs, Strimzi's generated from io.strimzi:api's model classes with
#                    io.strimzi:crd-generator (Maven Central; no Strimzi artifact there carries the CRD YAML), as
#                    Strimzi's own build does; converted by deploy/schemas.py; and the parameters KEDA's Kafka
#                    scaler reads (its trigger metadata is free-form in the CRD), from the scaler's source
#
#   infra/k8s-tools.sh install        install what is missing (waits for a background install already running)
#   infra/k8s-tools.sh --background   start `install` in the background at low priority and return (make install)
#   infra/k8s-tools.sh paths          print HELM=, KUBECONFORM=, SCHEMAS=, KUBERNETES_VERSION= for the tests
#
# Each piece is stamped with its version, so a second run does nothing. Compiling helm takes minutes on two cores
# (docs/kubernetes.md has the times), which is why `make install` starts it in the background: `make test` goes on
# with the stack, the linters and the other tests, and the chart test waits on the install's lock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MASH_CACHE_DIR:-$ROOT/.cache}/k8s"
HELM_VERSION=v4.3.2
KUBECONFORM_VERSION=v0.8.0
KEDA_VERSION=v2.21.1
PROMETHEUS_OPERATOR_VERSION=v0.85.0
MONGODB_OPERATOR_VERSION=v0.9.0
STRIMZI_POM="$ROOT/deploy/tools/strimzi-crds.pom.xml"
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_VERSION=1.31.0
PYTHON="$ROOT/.venv/bin/python"

BIN="$CACHE/bin"
SCHEMAS="$CACHE/schemas"
LOG="$CACHE/install.log"
export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go-build"
# -modcacherw: Go leaves its module cache read-only otherwise, and `make clean` could not delete it.
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local

log() { echo "k8s-tools: $*" >&2; }
die() { log "$*"; exit 1; }
stamped() { [[ -f "$1.stamp" && "$(cat "$1.stamp")" == "$2" ]]; }
stamp() { echo "$2" >"$1.stamp"; }
seconds_since() { echo $(( $(date +%s) - $1 )); }

# A Java of version 21 or newer: Strimzi's CRD generator is compiled for it (class file 65).
java21() {
  local candidate version
  for candidate in "${JAVA_HOME:-}/bin/java" "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [[ -x "$candidate" ]] || continue
    version="$("$candidate" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')"
    if [[ "${version%%.*}" =~ ^[0-9]+$ ]] && (( ${version%%.*} >= 21 )); then echo "$candidate"; return 0; fi
  done
  return 1
}

# The module zip of $1@$2 from the Go module proxy (for a module whose go.mod asks for a newer Go than this one:
# `go mod download` refuses those with GOTOOLCHAIN=local, the zip itself is the same).
module_zip() {
  local proxy="${GOPROXY:-$(go env GOPROXY)}"
  proxy="${proxy%%,*}"
  [[ "$proxy" == http* ]] || proxy=https://proxy.golang.org
  curl -fsSL --retry 3 -o "$3" "$proxy/$1/@v/$2.zip"
}

module_dir() { go mod download -json "$1@$2" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'; }

# The tools are compiled without optimisation or inlining (-gcflags=all=-N -l): here they only render and check one
# chart a dozen times per test run, and the compiler's optimising passes were a quarter of the build's CPU, which
# `make test` pays on every fresh machine. Measured (docs/testing.md): helm's build 296 CPU-s optimised, 214 without;
# a `helm template` of the chart 0.27 s optimised, 0.53 s without. Same source, same behaviour.
GO_BUILD_FLAGS=(-trimpath "-gcflags=all=-N -l")
BUILD_STAMP="unoptimised"

install_go_tool() {  # name, package, version, extra ldflags
  local name="$1" package="$2" version="$3" ldflags="${4:-}" started
  if stamped "$BIN/$name" "$version $BUILD_STAMP" && [[ -x "$BIN/$name" ]]; then return 0; fi
  started=$(date +%s)
  log "building $name $version from the Go module proxy (minutes on two cores)"
  GOBIN="$BIN" go install "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w $ldflags" "$package@$version"
  stamp "$BIN/$name" "$version $BUILD_STAMP"
  log "$name $version built in $(seconds_since "$started") s"
}

install_kubernetes_schemas() {
  local target="$SCHEMAS/v$KUBERNETES_VERSION-standalone-strict" key started wheel
  key="kubernetes-validate $KUBERNETES_VALIDATE_VERSION $KUBERNETES_VERSION $(sha256sum "$ROOT/deploy/schemas.py" | cut -c1-16)"
  if stamped "$target" "$key"; then return 0; fi
  started=$(date +%s)
  rm -rf "$target" "$CACHE/dl/kubernetes-validate"
  mkdir -p "$CACHE/dl/kubernetes-validate"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" -d "$CACHE/dl/kubernetes-validate" >&2
  wheel="$(ls "$CACHE/dl/kubernetes-validate"/kubernetes_validate-*.whl)"
  "$PYTHON" - "$wheel" "$CACHE/dl/kubernetes-validate" "v$KUBERNETES_VERSION-local-strict" <<'PY'
import sys, zipfile
wheel, target, folder = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive:
    names = [n for n in archive.namelist() if f"/{folder}/" in n]
    if not names:
        sys.exit(f"{wheel} has no {folder}")
    archive.extractall(target, names)
PY
  (cd "$ROOT" && "$PYTHON" -m deploy.schemas kubernetes \
    "$CACHE/dl/kubernetes-validate/kubernetes_validate/kubernetes-json-schema/v$KUBERNETES_VERSION-local-strict" \
    "$target") >&2
  rm -rf "$CACHE/dl/kubernetes-validate"
  stamp "$target" "$key"
  log "Kubernetes $KUBERNETES_VERSION schemas in $(seconds_since "$started") s"
}

install_crd_schemas() {
  local target="$SCHEMAS/crds" key started java keda prometheus mongodb strimzi model=io.strimzi.api.kafka.model
  key="keda $KEDA_VERSION prometheus-operator $PROMETHEUS_OPERATOR_VERSION mongodb $MONGODB_OPERATOR_VERSION"
  key+=" strimzi $(sha256sum "$STRIMZI_POM" | cut -c1-16) $(sha256sum "$ROOT/deploy/schemas.py" | cut -c1-16)"
  if stamped "$target" "$key"; then return 0; fi
  started=$(date +%s)
  rm -rf "$target" "$CACHE/crds"
  mkdir -p "$CACHE/crds/keda" "$CACHE/crds/strimzi" "$CACHE/dl"

  module_zip github.com/kedacore/keda/v2 "$KEDA_VERSION" "$CACHE/dl/keda.zip"
  "$PYTHON" - "$CACHE/dl/keda.zip" "$CACHE/crds/keda" <<'PY'
import pathlib, sys, zipfile
archive, target = zipfile.ZipFile(sys.argv[1]), pathlib.Path(sys.argv[2])
for name in archive.namelist():
    if ("/config/crd/bases/" in name and name.endswith(".yaml")) or name.endswith("/pkg/scalers/kafka_scaler.go"):
        (target / pathlib.Path(name).name).write_bytes(archive.read(name))
PY
  rm -f "$CACHE/dl/keda.zip"
  keda="$CACHE/crds/keda"
  prometheus="$(module_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd"
  mongodb="$(module_dir github.com/mongodb/mongodb-kubernetes-operator "$MONGODB_OPERATOR_VERSION")/config/crd/bases"

  java="$(java21)" || die "Strimzi's CRD generator needs Java 21 or newer (set JAVA_HOME); none found"
  mvn -q -B -f "$STRIMZI_POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE/strimzi-libs" >"$CACHE/strimzi-mvn.log" 2>&1 \
    || { tail -n 20 "$CACHE/strimzi-mvn.log" >&2; die "Maven could not fetch Strimzi's api and crd-generator"; }
  strimzi="$CACHE/crds/strimzi"
  "$java" -cp "$CACHE/strimzi-libs/*" io.strimzi.crdgenerator.CrdGenerator \
    --label app:strimzi --target-kube 1.16+ --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
    "$model.kafka.Kafka=$strimzi/kafka.yaml" "$model.nodepool.KafkaNodePool=$strimzi/kafkanodepool.yaml" \
    "$model.topic.KafkaTopic=$strimzi/kafkatopic.yaml" "$model.user.KafkaUser=$strimzi/kafkauser.yaml" >&2

  (cd "$ROOT" && "$PYTHON" -m deploy.schemas crds "$target" \
    "$keda/keda.sh_scaledobjects.yaml" "$keda/keda.sh_triggerauthentications.yaml" \
    "$prometheus/monitoring.coreos.com_servicemonitors.yaml" "$prometheus/monitoring.coreos.com_prometheusrules.yaml" \
    "$mongodb/mongodbcommunity.mongodb.com_mongodbcommunity.yaml" \
    "$strimzi"/*.yaml) >&2
  # The Kafka scaler's trigger metadata is free-form in KEDA's CRD: its parameter names come from its source.
  (cd "$ROOT" && "$PYTHON" -m deploy.schemas kafka-scaler "$keda/kafka_scaler.go" "$target/keda-kafka-scaler.json") >&2
  stamp "$target" "$key"
  log "CRD schemas (KEDA, prometheus-operator, MongoDB Community Operator, Strimzi) in $(seconds_since "$started") s"
}

install_all() {
  local started
  started=$(date +%s)
  mkdir -p "$BIN" "$SCHEMAS"
  [[ -x "$PYTHON" ]] || die "run \`make install\` first (needs $PYTHON)"
  command -v go >/dev/null || die "Go is needed to build helm and kubeconform"
  install_kubernetes_schemas
  install_crd_schemas
  install_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
  install_go_tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
  # The build cache (over a gigabyte after helm) and the module cache (about 650 MB) are not needed once the
  # binaries are stamped; a later change of a CRD version downloads its module again.
  if [[ -d "$GOCACHE" ]]; then go clean -cache; fi
  if [[ -d "$GOMODCACHE" ]]; then go clean -modcache; fi
  log "ready in $(seconds_since "$started") s"
}

locked_install() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/install.lock"
  # Blocks while another install (the background one from `make install`) runs, then finds it all stamped.
  flock 9
  install_all
}

case "${1:-install}" in
  install)
    locked_install
    ;;
  --background)
    mkdir -p "$CACHE"
    log "installing helm, kubeconform and the schemas in the background (log: ${LOG#"$ROOT"/})"
    # setsid gives the build a session of its own, and with it (where the kernel groups sessions for the
    # scheduler: /proc/sys/kernel/sched_autogroup_enabled) a scheduling group that the rest of the machine
    # shares the cores with as an equal, whatever `nice` says inside it: a clean-clone run measured the build
    # taking 35-40% of both cores while the unit tests, which gate the next step, waited. The group's own nice
    # (/proc/self/autogroup) puts it behind everything else, as intended.
    nohup nice -n 19 setsid bash -c 'echo 19 2>/dev/null >/proc/self/autogroup; exec bash "$0" install' \
      "${BASH_SOURCE[0]}" >"$LOG" 2>&1 </dev/null &
    ;;
  paths)
    echo "HELM=$BIN/helm"
    echo "KUBECONFORM=$BIN/kubeconform"
    echo "SCHEMAS=$SCHEMAS"
    echo "KUBERNETES_VERSION=$KUBERNETES_VERSION"
    ;;
  *)
    die "usage: $0 install | --background | paths"
    ;;
esac
