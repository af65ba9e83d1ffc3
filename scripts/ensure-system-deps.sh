#!/usr/bin/env bash
# Installs, with apt-get, the system commands that the tests and benchmarks start: nginx and
# haproxy (benchmark peers), wrk and h2load (load generators), iptables and ip (traffic capture,
# network namespaces), setpriv and curl (tsmesh run: the sidecar's uid, its readiness), chromium
# (the dashboard's browser test), prometheus (scrapes the sidecars in the metrics test). Idempotent:
# when every command is present it does nothing and prints
# nothing; otherwise it runs `apt-get update` once and installs only what is missing.
# Exit status 0 when all commands are available afterwards, 1 with a message naming what is not.
set -euo pipefail

# command -> Debian package that provides it (nginx: see pick_nginx_package).
COMMANDS=(nginx haproxy wrk h2load iptables ip setpriv curl chromium prometheus)
declare -A PACKAGE=(
  [nginx]=nginx-light
  [haproxy]=haproxy
  [wrk]=wrk
  [h2load]=nghttp2-client
  [iptables]=iptables
  [ip]=iproute2
  [setpriv]=util-linux
  [curl]=curl
  [chromium]=chromium
  [prometheus]=prometheus
)

fail() {
  echo "ensure-system-deps: $*" >&2
  exit 1
}

# sbin directories are not on a normal user's PATH; the commands still work from there.
have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing_commands() {
  local c
  for c in "${COMMANDS[@]}"; do have "$c" || echo "$c"; done
}

mapfile -t missing < <(missing_commands)
[ "${#missing[@]}" -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 ||
  fail "missing commands: ${missing[*]}; apt-get is not available, install them by hand"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
    fail "missing commands: ${missing[*]}; installing them needs root (or password-less sudo)"
  SUDO=(sudo -n)
fi

log="$(mktemp -t ensure-system-deps.XXXXXX)"
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  [ "$created_policy" -eq 1 ] && "${SUDO[@]}" rm -f "$policy"
  rm -f "$log"
}
trap cleanup EXIT

show_log_and_fail() {
  echo "ensure-system-deps: $1 (last lines of apt-get output follow)" >&2
  tail -n 25 "$log" >&2 || true
  exit 1
}

export DEBIAN_FRONTEND=noninteractive

# Packaged daemons (nginx, haproxy, prometheus) must not start as system services on ports 80/443: the tests
# start their own instances. policy-rc.d exit 101 is Debian's "do not start services" switch.
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi

"${SUDO[@]}" apt-get update -qq >"$log" 2>&1 || show_log_and_fail "apt-get update failed"

# nginx-light is the small flavour where the archive still has it; else plain nginx.
pick_nginx_package() {
  if apt-cache policy nginx-light 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo nginx-light
  else
    echo nginx
  fi
}

packages=()
for c in "${missing[@]}"; do
  if [ "$c" = nginx ]; then packages+=("$(pick_nginx_package)"); else packages+=("${PACKAGE[$c]}"); fi
done

echo "ensure-system-deps: installing ${packages[*]} (for: ${missing[*]})" >&2
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >"$log" 2>&1 ||
  show_log_and_fail "apt-get install ${packages[*]} failed"

mapfile -t still < <(missing_commands)
[ "${#still[@]}" -eq 0 ] || fail "still missing after install: ${still[*]}"
