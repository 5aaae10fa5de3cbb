#!/usr/bin/env bash
# Installs the Debian 12 packages tsvault needs to build, test and run.
# Only packages that are missing are installed; `apt-get update` runs first
# when anything is missing. Safe to run repeatedly.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make
  # clang and libFuzzer for the sanitizer build and the fuzz targets (tests/fuzz)
  clang libclang-rt-14-dev
  # libraries (found by find_package / pkg-config)
  librocksdb-dev libsnappy-dev zlib1g-dev libprotobuf-dev protobuf-compiler
  libboost-dev prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  libabsl-dev libre2-dev libssl-dev libyaml-cpp-dev libcli11-dev libfmt-dev nlohmann-json3-dev libspdlog-dev libpqxx-dev libcrypt-dev openssl
  # real peers used by the integration tests and benchmarks
  prometheus prometheus-node-exporter victoria-metrics postgresql curl python3
  # the trend page's test drives a real headless Chromium (through
  # playwright-core from npm, with the machine's Node.js); systemd-analyze
  # checks the unit of `make install`
  chromium systemd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# Package scripts must not start system services (Prometheus, VictoriaMetrics):
# tests start their own on ephemeral ports.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" > /dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
