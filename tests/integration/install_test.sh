#!/usr/bin/env bash
# `make install` (issue 14): installs into a temporary prefix; the systemd
# unit passes `systemd-analyze verify`, starts the installed binary with the
# data directory StateDirectory= makes, and carries the hardening options;
# the example flags file is kept on reinstall; and the flags in it are ones
# `tsvault serve` accepts (it serves with them, on an ephemeral port).
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build_dir=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/tsvault-install-XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

prefix="$work/prefix"
cmake --install "$build_dir" --prefix "$prefix" > "$work/install.log"
unit="$prefix/lib/systemd/system/tsvault.service"
flags="$prefix/etc/default/tsvault"
[ -x "$prefix/bin/tsvault" ] || fail "no binary at $prefix/bin/tsvault"
[ -f "$unit" ] || fail "no unit at $unit"
[ -f "$flags" ] || fail "no flags file at $flags"

# The unit is valid and runs the installed binary.
systemd-analyze verify "$unit" > "$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
if grep -v "^$" "$work/verify.log" | grep -q .; then cat "$work/verify.log"; fail "systemd-analyze verify complained"; fi
grep -q "^ExecStart=$prefix/bin/tsvault serve --storage.path=/var/lib/tsvault \$TSVAULT_FLAGS$" "$unit" \
  || fail "ExecStart does not run the installed binary: $(grep ExecStart= "$unit")"
grep -q "^EnvironmentFile=-$flags$" "$unit" || fail "EnvironmentFile is not the installed flags file"
for option in DynamicUser=yes StateDirectory=tsvault ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes \
              PrivateTmp=yes MemoryDenyWriteExecute=yes "CapabilityBoundingSet=" "SystemCallFilter=@system-service"; do
  grep -qx "$option" "$unit" || fail "the unit lacks $option"
done

# A reinstall keeps an operator's flags file.
echo 'TSVAULT_FLAGS="--log.level=warn"' > "$flags"
cmake --install "$build_dir" --prefix "$prefix" > "$work/install2.log"
grep -q -- "--log.level=warn" "$flags" || fail "a reinstall overwrote the flags file"
cp "$(dirname "$0")/../../contrib/systemd/tsvault.flags" "$flags"

# The example flags are ones tsvault accepts: serve with them (the listen
# address swapped for an ephemeral port, the data in the work directory).
TSVAULT_FLAGS=""
# shellcheck disable=SC1090
. "$flags"
[ -n "$TSVAULT_FLAGS" ] || fail "the example flags file sets no TSVAULT_FLAGS"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
args=()
for flag in $TSVAULT_FLAGS; do
  case "$flag" in --web.listen-address=*) flag="--web.listen-address=127.0.0.1:$port" ;; esac
  args+=("$flag")
done
"$prefix/bin/tsvault" serve --storage.path="$work/data" "${args[@]}" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/-/ready" > /dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; fail "tsvault did not start with the example flags"; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/-/ready" > /dev/null || fail "tsvault not ready"
curl -sf "http://127.0.0.1:$port/api/v1/status/flags" | grep -q '"storage.max-series":"2000000"' \
  || fail "the example flags did not take effect"
kill -TERM "$server_pid"
wait "$server_pid" || fail "tsvault did not stop cleanly on SIGTERM"
server_pid=""
grep -q "storage closed cleanly" "$work/serve.log" || fail "no clean shutdown in the log"
echo "install: binary, unit (systemd-analyze verify clean, hardened) and flags file in $prefix; tsvault served with the example flags"
