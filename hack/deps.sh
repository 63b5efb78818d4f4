#!/usr/bin/env bash
# Installs the Debian 12 packages the test suite uses (as root), only those missing; README's test command and
# .ci/run both start with it.
#   gcc, libc6-dev   the executor (C11, libc only) is built with the system cc (hack/build-executor.mjs)
#   clang            libFuzzer for the executor's plan decoder (hack/test.mjs fuzzes it for 30 s)
#   busybox-static   the test rootfs (hack/mkbundle.sh)
#   runc             the comparison runtime (conformance, benchmarks)
#   libseccomp2      seccomp filters (loaded through koffi)
#   hyperfine        hack/bench.mjs
#   dbus             a private dbus-daemon for the systemd cgroup driver's tests
#   docker.io, containerd, podman, containernetworking-plugins, iproute2
#                    the end-to-end scripts hack/e2e-*.sh (dockerd 20.10, containerd 1.6 + runc shim, podman 4.3)
#   procps           ps and pgrep (tests, e2e scripts, the check below)
#   python3, strace  test helpers (console-socket receiver, seccomp agent, memfd seal check) and the check that a
#                    seccomp cache hit never opens koffi
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(gcc libc6-dev clang busybox-static runc libseccomp2 hyperfine dbus docker.io containerd podman containernetworking-plugins iproute2 procps python3 strace)
need=()
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  # The packages' maintainer scripts would start system dockerd/containerd/dbus through invoke-rc.d where there is no
  # systemd; the tests start private daemons of their own, so forbid that for the install (Debian's policy-rc.d).
  made_policy=
  trap 'if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
for d in dockerd containerd podman dbus-daemon; do
  if pgrep -x "$d" >/dev/null; then echo "note: a $d is already running on this machine (the tests start private ones)"; fi
done
