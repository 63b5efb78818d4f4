#!/bin/sh
# End-to-end: containerd 1.6 + its runc shim (io.containerd.runc.v2) with tsrun as the shim's BinaryName, driven by
# ctr: per run (`ctr run --runc-binary <tsrun> --runc-root <dir>`) and from a runtime options file
# (`--runtime-config-path`, the same BinaryName/Root keys as the config.toml options table of docs/callers.md).
#
#   sudo sh hack/e2e-containerd.sh                     # prints TAP ("ok N - …"), exits non-zero if a check failed
#   sudo TSRUN=/usr/sbin/runc sh hack/e2e-containerd.sh   # the same checks against runc, for comparison
#
# Everything is private: the script re-executes itself inside a new mount and network namespace (unshare -m -n),
# with a tmpfs over /run (the shims' sockets under /run/containerd/s, runtime roots); containerd gets a generated
# config.toml in a temp dir (own root, state, grpc/ttrpc/debug sockets, opt dir); containers' cgroups are
# /tsrun-test/containerd-e2e-<pid>/<id>. The image docker.io/library/busybox:tsrun is an OCI image layout built
# here with tar from test-bundle/rootfs and `ctr images import`ed (no registry). At the end tasks and containers are
# deleted, containerd and any shim are stopped by pid, cgroups are removed and the temp dir goes; the overlay
# mounts live in the namespace and go with its last process.
#
# Environment: TSRUN (runtime binary, default bin/tsrun), E2E_CMD_TIMEOUT (seconds per command, default 120), E2E_KEEP=1 (keep the temp dir and containerd's log).
# Needs: root, containerd + containerd-shim-runc-v2 + ctr (Debian: apt-get install containerd), script(1).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tsrun=${TSRUN:-$here/bin/tsrun}
case $tsrun in /*) ;; *) tsrun=$(pwd)/$tsrun ;; esac
. "$here/hack/lib-e2e.sh"

if [ -z "${E2E_CONTAINERD_INNER:-}" ]; then
  e2e_preflight containerd containerd containerd containerd-shim-runc-v2 ctr unshare script sha256sum
  # unshare without --fork execs sh: the same pid, so callers can still stop us by pid.
  exec unshare --mount --net --propagation private -- env E2E_CONTAINERD_INNER=1 TSRUN="$tsrun" sh "$0" "$@"
fi

# ---- inside the private mount + network namespace ----
mount -t tmpfs -o mode=0755 tmpfs /run || { echo "Bail out! cannot mount a private /run"; exit 1; }
ip link set lo up 2>/dev/null

tmp=$(mktemp -d /tmp/tsrun-e2e-containerd.XXXXXX)
chmod 0711 "$tmp" # a user-namespaced container root (--uidmap) must reach its rootfs under it
sock=$tmp/containerd.sock
cgparent=/tsrun-test/containerd-e2e-$$
rroot=$tmp/runc-root            # --runc-root: the runtime's --root (the shim appends the namespace)
ns=tsrun-e2e
IMG=docker.io/library/busybox:tsrun
snap=native; grep -qw overlay /proc/filesystems && snap=overlayfs

# The config.toml: private paths, plus the CRI runtime entry of docs/callers.md. ctr cannot select a CRI runtime
# handler (ctr 1.6 takes the runc shim's options only from --runc-binary/--runc-root; its --runtime-config-path is
# for other shims), and running CRI pods needs a kubelet or crictl: so the entry is checked with `containerd config
# dump` (it is decoded into the CRI plugin's runtime table) and the daemon runs with the CRI plugin disabled.
cat >"$tmp/config.toml" <<CONF
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = "$tmp/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$tmp/opt"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsrun]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsrun.options]
    BinaryName = "$tsrun"
    Root = "$tmp/cri-root"
CONF

# every ctr call is bounded (a hung task must not hang the test run): E2E_CMD_TIMEOUT seconds, then SIGKILL
C() { timeout -k 5 "${E2E_CMD_TIMEOUT:-120}" ctr -a "$sock" -n "$ns" "$@"; }
# RUN [ctr run options…] ID CMD…: the per-run form, with the cgroup under /tsrun-test
RUN() {
  opts=""
  while [ $# -gt 0 ]; do case $1 in -*) opts="$opts $1"; shift ;; *) break ;; esac; done
  id=$1; shift
  # options with a value are written --opt=value
  # shellcheck disable=SC2086
  C run --runc-binary "$tsrun" --runc-root "$rroot" --cgroup "$cgparent/$id" --snapshotter "$snap" $opts "$IMG" "$id" "$@"
}
ctrshell() { # the ctr command line as one string, for script(1)
  printf "ctr -a '%s' -n %s" "$sock" "$ns"
}

status() { C task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
taskpid() { C task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $2 }'; }
cgfile() { cat "/sys/fs/cgroup/$2$cgparent/$1/$3" 2>&1; }
rmc() { for c in "$@"; do C task kill -s SIGKILL "$c" >/dev/null 2>&1; i=0; while [ $i -lt 50 ] && [ "$(status "$c")" = RUNNING ]; do sleep 0.1; i=$((i + 1)); done; C task rm -f "$c" >/dev/null 2>&1; C container rm "$c" >/dev/null 2>&1; done; }

cleanup() {
  set +e
  if [ -S "$sock" ]; then
    for c in $(C container ls -q 2>/dev/null); do rmc "$c"; done
    C images rm "$IMG" >/dev/null 2>&1
  fi
  [ -n "${cpid:-}" ] && kill -TERM "$cpid" 2>/dev/null
  i=0; while [ -n "${cpid:-}" ] && kill -0 "$cpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  # shims (and a containerd that did not stop) carry the temp dir or its socket in their argv: stop those, by pid.
  for p in $(grep -l "$tmp" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" = $$ ] && continue
    case $(cat /proc/"$p"/comm 2>/dev/null) in containerd*) kill -KILL "$p" 2>/dev/null ;; esac
  done
  # containers that outlived their shim (none expected): force-delete them through the runtime roots used here.
  for r in "$rroot/$ns"; do
    [ -d "$r" ] || continue
    for id in $(ls "$r"); do "$tsrun" --root "$r" delete --force "$id" >/dev/null 2>&1; done
  done
  sleep 0.2
  e2e_rm_cgroups "$cgparent"
  if [ "${E2E_KEEP:-}" = 1 ]; then echo "# kept $tmp (containerd log: $tmp/containerd.log)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the config snippet of docs/callers.md parses into the CRI plugin's runtime table ----
grep -v '^disabled_plugins' "$tmp/config.toml" >"$tmp/cri-config.toml"
dump=$(containerd --config "$tmp/cri-config.toml" config dump 2>&1)
checkgrep "config.toml: CRI runtimes.tsrun with runtime_type io.containerd.runc.v2 (containerd config dump)" \
  '^ *runtime_type = "io.containerd.runc.v2"' "$(printf '%s\n' "$dump" | sed -n '/containerd.runtimes.tsrun\]/,/^ *\[/p')"
checkgrep "config.toml: CRI runtimes.tsrun options BinaryName (containerd config dump)" \
  "^ *BinaryName = \"$tsrun\"" "$(printf '%s\n' "$dump" | sed -n '/containerd.runtimes.tsrun.options\]/,/^ *\[/p')"

# ---- start the private daemon ----
containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
cpid=$!
wait_daemon containerd "$cpid" "$tmp/containerd.log" C version
echo "# containerd $(C version 2>/dev/null | awk '/Server:/ { s = 1 } s && /Version:/ { print $2; exit }') pid $cpid, snapshotter $snap, runtime $tsrun"

# ---- the image: an OCI image layout made with tar ----
case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
blob() { d=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$tmp/img/blobs/sha256/$d"; echo "$d"; }
mkdir -p "$tmp/img/blobs/sha256"
tar -C "$here/test-bundle/rootfs" -cf "$tmp/img/layer" .
lsize=$(stat -c %s "$tmp/img/layer"); ldig=$(blob "$tmp/img/layer")
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$ldig" >"$tmp/img/config"
csize=$(stat -c %s "$tmp/img/config"); cdig=$(blob "$tmp/img/config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$cdig" "$csize" "$ldig" "$lsize" >"$tmp/img/manifest"
msize=$(stat -c %s "$tmp/img/manifest"); mdig=$(blob "$tmp/img/manifest")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$mdig" "$msize" "$IMG" >"$tmp/img/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$tmp/img/oci-layout"
tar -C "$tmp/img" -cf "$tmp/image.tar" oci-layout index.json blobs
if C images import "$tmp/image.tar" >/dev/null 2>"$tmp/err" && C images ls -q | grep -qx "$IMG"; then ok "ctr images import of an OCI layout made from test-bundle/rootfs"
else notok "ctr images import of an OCI layout made from test-bundle/rootfs" "$(cat "$tmp/err")"; echo "1..$n"; exit 1; fi

# ---- run, output, exit codes ----
out=$(RUN --rm c1 echo hi 2>"$tmp/err"); rc=$?
check "ctr run --rm --runc-binary: output" "hi" "$out" "$(cat "$tmp/err")"
check "ctr run --rm --runc-binary: exit status 0" 0 $rc
RUN --rm c2 sh -c 'exit 3' >/dev/null 2>"$tmp/err"; rc=$?
check "exit status of the program (sh -c 'exit 3' → 3)" 3 $rc "$(cat "$tmp/err")"
RUN --rm c3 /no/such/program >/dev/null 2>"$tmp/err"; rc=$?
check "missing executable: ctr run fails" yes "$( [ $rc != 0 ] && echo yes || echo "rc $rc")"
checkgrep "missing executable: the runtime's error (from the shim's log.json) reaches the user" \
  'OCI runtime create failed: .*exec: "/no/such/program": stat /no/such/program: no such file or directory' "$(cat "$tmp/err")"
rmc c3
RUN --rm c4 /etc/passwd >/dev/null 2>"$tmp/err"; rc=$?
checkgrep "non-executable program: the runtime's error reaches the user" 'OCI runtime create failed: .*exec: "/etc/passwd": permission denied' "$(cat "$tmp/err")"
rmc c4
# (@cache in a tsrun root is its cache of compiled seccomp filters, not a container)
check "after the failed creates: nothing left in the runtime root" "" "$(ls "$rroot/$ns" 2>/dev/null | grep -vx @cache)"

# ---- stdin, tty ----
# (ctr does not close the task's stdin at EOF: `cat` would wait forever, with any runtime)
out=$(echo piped | RUN --rm c5 sh -c 'read x; echo $x' 2>"$tmp/err")
check "ctr run: stdin reaches the program" "piped" "$out" "$(cat "$tmp/err")"
out=$(printf 'typed-in\n' | timeout -k 5 "${E2E_CMD_TIMEOUT:-120}" script -qec "stty rows 33 cols 77; $(ctrshell) run -t --rm --runc-binary '$tsrun' --runc-root '$rroot' --cgroup '$cgparent/c6' --snapshotter $snap $IMG c6 sh -c 'tty; for i in \$(seq 30); do s=\$(stty size 2>/dev/null); case \$s in [1-9]*) break ;; esac; sleep 0.1; done; echo \$s; read x; echo got:\$x'" /dev/null 2>&1 | tr -d '\r')
checkgrep "ctr run -t: the program has a pty" '^/dev/pts/[0-9]+$' "$out"
# ctr sends the size (task Resize → the shim's TIOCSWINSZ on the pty master) only after Start has returned: poll
checkgrep "ctr run -t: the terminal size reaches the container (stty size)" '^33 77$' "$out"
checkgrep "ctr run -t: tty input reaches the program" '^got:typed-in$' "$out"

# ---- a long-running task: exec, ps, metrics, pause/resume, kill ----
RUN -d long sleep 300 >/dev/null 2>"$tmp/err"
check "ctr run -d: RUNNING" RUNNING "$(status long)" "$(cat "$tmp/err")"
pid=$(taskpid long)
check "the task pid is the program (sleep)" sleep "$(cat /proc/"$pid"/comm 2>/dev/null)"
check "the task is in its cgroup under /tsrun-test" "$cgparent/long" "$(grep -E '^[0-9]+:pids:' /proc/"$pid"/cgroup 2>/dev/null | cut -d: -f3)"
check "the runtime root holds the container (the shim's --root)" long "$(ls "$rroot/$ns" 2>/dev/null | grep -vx @cache)"

out=$(C task exec --exec-id e1 long echo from-exec 2>"$tmp/err")
check "ctr task exec: output" from-exec "$out" "$(cat "$tmp/err")"
C task exec --exec-id e2 long sh -c 'exit 5' >/dev/null 2>&1; rc=$?
check "ctr task exec: exit status" 5 $rc
out=$(C task exec --exec-id e3 --user 1000 long sh -c 'id -u; id -g' 2>"$tmp/err" | tr '\n' ' ')
check "ctr task exec --user 1000" "1000 0 " "$out" "$(cat "$tmp/err")"
out=$(echo exec-stdin | C task exec --exec-id e4 long cat 2>"$tmp/err")
check "ctr task exec: stdin" exec-stdin "$out" "$(cat "$tmp/err")"
out=$(printf 'exec-typed\n' | timeout -k 5 "${E2E_CMD_TIMEOUT:-120}" script -qec "$(ctrshell) task exec -t --exec-id e5 long sh -c 'tty; read x; echo got:\$x'" /dev/null 2>&1 | tr -d '\r')
checkgrep "ctr task exec -t: a pty" '^/dev/pts/[0-9]+$' "$out"
checkgrep "ctr task exec -t: tty input reaches the program" '^got:exec-typed$' "$out"
C task exec --exec-id e6 long /no/such/program >/dev/null 2>"$tmp/err"; rc=$?
checkgrep "ctr task exec of a missing executable: the runtime's error" 'OCI runtime exec failed: .*no such file or directory' "$(cat "$tmp/err")" "rc $rc"

out=$(C task ps long 2>&1)
checkgrep "ctr task ps (runtime ps --format json): lists the init pid" "^$pid( |\$)" "$out"
out=$(C task metrics long 2>&1)
checkgrep "ctr task metrics: memory usage from the cgroup" '^memory\.usage_in_bytes +[1-9][0-9]*' "$out"
checkgrep "ctr task metrics: pids.current" '^pids\.current +1 *$' "$out"

C task pause long >/dev/null 2>"$tmp/err"; rc=$?
check "ctr task pause: PAUSED" "0 PAUSED" "$rc $(status long)" "$(cat "$tmp/err")"
check "ctr task pause: the freezer cgroup is FROZEN" FROZEN "$(cgfile long freezer freezer.state)"
C task resume long >/dev/null 2>"$tmp/err"; rc=$?
check "ctr task resume: RUNNING" "0 RUNNING" "$rc $(status long)" "$(cat "$tmp/err")"
check "ctr task resume: the freezer cgroup is THAWED" THAWED "$(cgfile long freezer freezer.state)"

C task kill long >/dev/null 2>"$tmp/err"; sleep 0.5
check "ctr task kill (SIGTERM): sleep as pid 1 ignores it" RUNNING "$(status long)" "$(cat "$tmp/err")"
C task kill -s SIGKILL long >/dev/null 2>"$tmp/err"
i=0; while [ $i -lt 50 ] && [ "$(status long)" != STOPPED ]; do sleep 0.1; i=$((i + 1)); done
check "ctr task kill -s SIGKILL: STOPPED" STOPPED "$(status long)" "$(cat "$tmp/err")"
C task rm long >/dev/null 2>"$tmp/err"; rc=$?
check "ctr task rm of a stopped task" 0 $rc "$(cat "$tmp/err")"
C container rm long >/dev/null 2>&1
check "after delete: nothing left in the runtime root" "" "$(ls "$rroot/$ns" 2>/dev/null | grep -vx @cache)"
check "after delete: the container's cgroup is gone" "" "$(ls -d /sys/fs/cgroup/pids"$cgparent"/long 2>/dev/null)"

# SIGTERM reaches a program that handles it
RUN -d term sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1
sleep 0.3
C task kill term >/dev/null 2>&1
i=0; while [ $i -lt 50 ] && [ "$(status term)" != STOPPED ]; do sleep 0.1; i=$((i + 1)); done
check "ctr task kill (SIGTERM) → the program's trap ends it" STOPPED "$(status term)"
rmc term

# ---- resources ----
RUN -d --memory-limit=67108864 --cpus=0.5 lim sleep 300 >/dev/null 2>"$tmp/err"
check "--memory-limit: memory.limit_in_bytes" 67108864 "$(cgfile lim memory memory.limit_in_bytes)" "$(cat "$tmp/err")"
check "--cpus 0.5: cpu.cfs_quota_us / cfs_period_us" "50000/100000" "$(cgfile lim cpu cpu.cfs_quota_us)/$(cgfile lim cpu cpu.cfs_period_us)"
rmc lim
RUN --rm --memory-limit=16777216 oom sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1' >/dev/null 2>"$tmp/err"; rc=$?
check "memory limit enforced: OOM kill of pid 1 → 137" 137 $rc "$(cat "$tmp/err")"
rmc oom

# ---- security, user namespace, filesystem, network ----
out=$(RUN --rm caps grep -E '^CapEff:' /proc/self/status 2>&1 | awk '{print $2}')
# containerd's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
# NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE
check "default capabilities (containerd's default set)" 00000000a80425fb "$out"
out=$(RUN --rm --cap-add=CAP_NET_ADMIN capadd sh -c 'grep ^CapEff: /proc/self/status; ip link set lo mtu 1280 && echo mtu-set' 2>&1 | awk '{print $NF}' | tr '\n' ' ')
check "--cap-add CAP_NET_ADMIN: bit 12 set and usable" "00000000a80435fb mtu-set " "$out"
out=$(RUN --rm --cap-drop=CAP_CHOWN --cap-drop=CAP_KILL capdrop grep -E '^CapEff:' /proc/self/status 2>&1 | awk '{print $2}')
check "--cap-drop CAP_CHOWN --cap-drop CAP_KILL" 00000000a80425da "$out"
# every capability this host has (it lacks CAP_SYS_RESOURCE in its bounding set), and the host's devices
out=$(RUN --rm --privileged priv sh -c 'grep ^CapEff: /proc/self/status | cut -f2; test -c /dev/vda -o -b /dev/vda -o -c /dev/kmsg && echo host-devices' 2>&1 | tr '\n' ' ')
check "--privileged: every capability of the host's bounding set, host devices" "$(grep ^CapBnd: /proc/self/status | cut -f2) host-devices " "$out"
out=$(RUN --rm --read-only ro sh -c 'touch /x 2>&1; echo rc=$?' 2>&1)
checkgrep "--read-only: the rootfs is read-only" "Read-only file system" "$out"
out=$(RUN --rm --uidmap=0:100000:65536 --gidmap=0:100000:65536 userns sh -c 'cat /proc/self/uid_map; id -u' 2>"$tmp/err" | tr -s ' ' | tr '\n' ' ')
check "--uidmap/--gidmap: a user namespace, root inside is 100000 outside" " 0 100000 65536 0 " "$out" "$(cat "$tmp/err")"
rmc userns
mynet=$(readlink /proc/self/ns/net)
out=$(RUN --rm netdef sh -c 'readlink /proc/self/ns/net; echo $(ls /sys/class/net); ip -o link show lo' 2>&1)
check "default network: a new network namespace" yes "$(printf '%s\n' "$out" | head -1 | grep -qvx "$mynet" && echo yes)" "$out"
check "default network: only lo" "lo" "$(printf '%s\n' "$out" | sed -n 2p)"
checkgrep "default network: lo is up (runc's loopback)" '<LOOPBACK,UP,LOWER_UP>' "$out"
out=$(RUN --rm --net-host nethost readlink /proc/self/ns/net 2>&1)
check "--net-host: containerd's network namespace" "$mynet" "$out"

# ---- nothing left behind ----
for c in $(C container ls -q 2>/dev/null); do rmc "$c"; done
check "all containers deleted: the runtime root is empty" "" "$(ls "$rroot/$ns" 2>/dev/null | grep -vx @cache)"
check "all containers deleted: no container cgroups left" "" "$(find /sys/fs/cgroup/*"$cgparent" -mindepth 1 -type d 2>/dev/null)"

echo "1..$n"
[ $failed -eq 0 ]
