#!/bin/sh
# End-to-end: Docker (dockerd 20.10+, containerd's runc shim) driving tsrun as an added runtime.
#
#   sudo sh hack/e2e-docker.sh            # prints TAP ("ok N - …"), exits non-zero if a check failed
#   TSRUN_E2E=1 npm test                  # the same, as conformance/docker-e2e.test.ts (opt-in; ~1 minute)
#
# It starts a PRIVATE dockerd: its own --data-root, --exec-root, unix socket and pidfile in a temp dir, no iptables,
# no bridge, cgroups under /tsrun-test/docker-e2e-<pid>, inside its own mount namespace (unshare -m) so that the overlay
# and shm mounts dockerd makes never touch the host's mount table. The image busybox:tsrun is imported from
# test-bundle/rootfs. At the end dockerd is stopped by its pid and everything is removed.
#
# Environment: TSRUN (runtime binary, default bin/tsrun), E2E_STORAGE_DRIVER (default overlay2, else vfs),
# E2E_RUN_OPTS (extra `docker run` options, e.g. "--security-opt seccomp=unconfined"), E2E_KEEP=1 (keep the
# temp dir and dockerd log for debugging; dockerd is still stopped).
# Needs: root, dockerd + containerd + containerd-shim-runc-v2 (Debian: apt-get install docker.io).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tsrun=${TSRUN:-$here/bin/tsrun}
case $tsrun in /*) ;; *) tsrun=$(pwd)/$tsrun ;; esac

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP e2e-docker: needs root"; exit 0; fi
for b in dockerd containerd containerd-shim-runc-v2 docker unshare; do
  if ! command -v $b >/dev/null 2>&1; then echo "1..0 # SKIP e2e-docker: $b not installed (Debian: apt-get install docker.io)"; exit 0; fi
done
if [ ! -x "$tsrun" ]; then echo "Bail out! runtime $tsrun is not executable (node hack/build.mjs)"; exit 1; fi
if [ ! -d "$here/test-bundle/rootfs" ]; then sh "$here/hack/mkbundle.sh" >/dev/null || { echo "Bail out! hack/mkbundle.sh failed"; exit 1; }; fi

tmp=$(mktemp -d /tmp/tsrun-e2e.XXXXXX)
sock=$tmp/docker.sock
pidfile=$tmp/dockerd.pid
cgparent=/tsrun-test/docker-e2e-$$
driver=${E2E_STORAGE_DRIVER:-overlay2}
grep -qw overlay /proc/filesystems || driver=vfs
D() { docker -H "unix://$sock" "$@"; }
# shellcheck disable=SC2086
RUN() { D run --runtime tsrun --network none ${E2E_RUN_OPTS:-} "$@"; }

n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/  # /'; done; }
# check NAME EXPECTED ACTUAL [details…]
check() { name=$1; want=$2; got=$3; shift 3; if [ "$want" = "$got" ]; then ok "$name"; else notok "$name" "expected: $(printf %s "$want" | od -c | head -3)" "got:      $(printf %s "$got" | od -c | head -3)" "$@"; fi; }

cleanup() {
  set +e
  if [ -S "$sock" ]; then
    for c in $(D ps -aq 2>/dev/null); do D rm -f "$c" >/dev/null 2>&1; done
  fi
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null
  elif [ -n "${dpid:-}" ]; then
    kill -TERM "$dpid" 2>/dev/null; sleep 2; kill -KILL "$dpid" 2>/dev/null
  fi
  # containerd and shims started for this daemon carry the temp dir in their argv: stop those, by pid.
  for p in $(grep -l "$tmp" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    case $(cat /proc/"$p"/comm 2>/dev/null) in containerd*|dockerd) kill -KILL "$p" 2>/dev/null ;; esac
  done
  # containers of this daemon that outlived it (none expected): force-delete them through tsrun's own root.
  if [ -d "$tmp/exec/runtime-runc/moby" ]; then
    for id in $(ls "$tmp/exec/runtime-runc/moby"); do "$tsrun" --root "$tmp/exec/runtime-runc/moby" delete --force "$id" >/dev/null 2>&1; done
  fi
  for d in /sys/fs/cgroup/*"$cgparent"; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  if [ "${E2E_KEEP:-}" = 1 ]; then echo "# kept $tmp (dockerd log: $tmp/dockerd.log)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- start the private daemon ----
# tsrun comes from --add-runtime; tsrun-debug from a daemon.json "runtimes" entry with runtimeArgs (the form
# docs/callers.md documents: Docker then calls a generated wrapper script `<path> --debug $@`).
cat >"$tmp/daemon.json" <<JSON
{ "runtimes": { "tsrun-debug": { "path": "$tsrun", "runtimeArgs": ["--debug"] } } }
JSON
unshare --mount --propagation private -- dockerd --config-file "$tmp/daemon.json" \
  --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --pidfile "$pidfile" \
  --iptables=false --ip-masq=false --ip-forward=false --bridge=none --storage-driver "$driver" \
  --cgroup-parent "$cgparent" --add-runtime "tsrun=$tsrun" >"$tmp/dockerd.log" 2>&1 &
dpid=$!
i=0
until D version >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 300 ] || ! kill -0 $dpid 2>/dev/null; then
    echo "Bail out! dockerd did not come up; its log:"; tail -20 "$tmp/dockerd.log" | sed 's/^/# /'; exit 1
  fi
  sleep 0.1
done
echo "# dockerd $(D version -f '{{.Server.Version}}') pid $dpid, storage $driver, runtime $tsrun"

# ---- the image ----
if tar -C "$here/test-bundle/rootfs" -c . | D import - busybox:tsrun >/dev/null 2>"$tmp/import.err"; then ok "import busybox:tsrun from test-bundle/rootfs"
else notok "import busybox:tsrun from test-bundle/rootfs" "$(cat "$tmp/import.err")"; echo "1..$n"; exit 1; fi

rt=$(D info -f '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' 2>&1)
case " $rt " in *" tsrun "*) ok "docker info lists the tsrun runtime" ;; *) notok "docker info lists the tsrun runtime" "$rt" ;; esac

# ---- checks ----
out=$(RUN --rm busybox:tsrun echo hi 2>"$tmp/err"); rc=$?
check "docker run --rm echo hi: output" "hi" "$out" "$(cat "$tmp/err")"
check "docker run --rm echo hi: exit status 0" 0 $rc

RUN --rm busybox:tsrun sh -c 'exit 3' >/dev/null 2>"$tmp/err"; rc=$?
check "exit status of the program (sh -c 'exit 3' → 3)" 3 $rc "$(cat "$tmp/err")"

# The status alone is weak (Docker maps any "no such file or directory" to 127): the runtime's own error must be
# what Docker shows.
RUN --rm busybox:tsrun /no/such/program >/dev/null 2>"$tmp/err"; rc=$?
check "missing executable (absolute path) → 127" 127 $rc "$(cat "$tmp/err")"
check "missing executable (absolute path): the runtime's error reaches the user" yes \
  "$(grep -q 'exec: "/no/such/program": stat /no/such/program: no such file or directory' "$tmp/err" && echo yes)" "$(cat "$tmp/err")"

RUN --rm busybox:tsrun no-such-program >/dev/null 2>"$tmp/err"; rc=$?
check "missing executable (PATH lookup) → 127" 127 $rc "$(cat "$tmp/err")"
check "missing executable (PATH lookup): the runtime's error reaches the user" yes \
  "$(grep -q 'exec: "no-such-program": executable file not found in $PATH' "$tmp/err" && echo yes)" "$(cat "$tmp/err")"

RUN --rm busybox:tsrun /etc/passwd >/dev/null 2>"$tmp/err"; rc=$?
check "non-executable program → 126" 126 $rc "$(cat "$tmp/err")"
check "non-executable program: the runtime's error reaches the user" yes \
  "$(grep -q 'exec: "/etc/passwd": permission denied' "$tmp/err" && echo yes)" "$(cat "$tmp/err")"

out=$(RUN --rm -t busybox:tsrun tty 2>"$tmp/err" | tr -d '\r'); rc=$?
check "docker run -t: the program has a pty" "/dev/pts/0" "$out" "$(cat "$tmp/err")"

out=$(echo piped | RUN --rm -i busybox:tsrun cat 2>"$tmp/err")
check "docker run -i: stdin reaches the program" "piped" "$out" "$(cat "$tmp/err")"

# logs, stdout and stderr kept apart
RUN -d --name logs busybox:tsrun sh -c 'echo to-stdout; echo to-stderr >&2' >/dev/null 2>"$tmp/err"
D wait logs >"$tmp/wait" 2>&1
i=0; while [ -z "$(D logs logs 2>&1)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
why="run: $(cat "$tmp/err") wait: $(cat "$tmp/wait") state: $(D inspect -f '{{json .State}}' logs 2>&1)"
check "docker logs: stdout only on stdout" "to-stdout" "$(D logs logs 2>/dev/null)" "$why"
check "docker logs: stderr only on stderr" "to-stderr" "$(D logs logs 2>&1 >/dev/null)" "$why"
D rm -f logs >/dev/null 2>&1

# a long-running container: state, exec, stop
RUN -d --name long busybox:tsrun sleep 300 >/dev/null 2>"$tmp/err"
check "docker run -d: running" "true" "$(D inspect -f '{{.State.Running}}' long 2>&1)" "$(cat "$tmp/err")"
pid=$(D inspect -f '{{.State.Pid}}' long 2>/dev/null)
check "the container pid is the program (sleep)" "sleep" "$(cat /proc/"$pid"/comm 2>/dev/null)"
cg=$(grep -E '^[0-9]+:pids:' /proc/"$pid"/cgroup 2>/dev/null | cut -d: -f3)
case $cg in "$cgparent"/*) ok "the container is in a cgroup under --cgroup-parent" ;; *) notok "the container is in a cgroup under --cgroup-parent" "$cg" ;; esac

out=$(D exec long echo from-exec 2>"$tmp/err")
check "docker exec: output" "from-exec" "$out" "$(cat "$tmp/err")"
D exec long sh -c 'exit 5' >/dev/null 2>&1; rc=$?
check "docker exec: exit status" 5 $rc
out=$(D exec long sh -c 'readlink /proc/1/ns/pid; readlink /proc/self/ns/pid' 2>/dev/null | sort -u | wc -l)
check "docker exec: joins the container's pid namespace" 1 "$out"
D exec long /no/such/program >/dev/null 2>&1; rc=$?
check "docker exec of a missing executable → 126 or 127" yes "$( [ $rc = 127 ] || [ $rc = 126 ] && echo yes || echo "rc $rc")"

t0=$(date +%s)
D stop -t 2 long >/dev/null 2>"$tmp/err"; rc=$?
t1=$(date +%s)
check "docker stop: succeeds" 0 $rc "$(cat "$tmp/err")"
check "docker stop: the container is stopped" "false" "$(D inspect -f '{{.State.Running}}' long 2>&1)"
check "docker stop: SIGKILL after the timeout (sleep as pid 1 ignores TERM) → 137" 137 "$(D inspect -f '{{.State.ExitCode}}' long 2>&1)"
check "docker stop -t 2 returns within 10 s" yes "$( [ $((t1 - t0)) -le 10 ] && echo yes || echo "$((t1 - t0)) s")"
D start long >/dev/null 2>"$tmp/err"; rc=$?
check "docker start of a stopped container (new create/start with the same id)" 0 $rc "$(cat "$tmp/err")"
D rm -f long >/dev/null 2>"$tmp/err"; rc=$?
check "docker rm -f of a running container" 0 $rc "$(cat "$tmp/err")"
check "docker rm -f: nothing left in the runtime root" "" "$(ls "$tmp/exec/runtime-runc/moby" 2>/dev/null)"

# daemon.json runtime with runtimeArgs
out=$(D run --rm --runtime tsrun-debug --network none ${E2E_RUN_OPTS:-} busybox:tsrun echo via-daemon-json 2>"$tmp/err")
check "daemon.json runtimes entry with runtimeArgs [--debug]" "via-daemon-json" "$out" "$(cat "$tmp/err")"

# containerd directly (what a containerd config's BinaryName does): ctr run --runc-binary, on the daemon's containerd
ctrsock=$tmp/exec/containerd/containerd.sock
if command -v ctr >/dev/null 2>&1 && [ -S "$ctrsock" ]; then
  C() { ctr -a "$ctrsock" -n tsrun-e2e "$@"; }
  if D save busybox:tsrun 2>/dev/null | C images import - >/dev/null 2>"$tmp/err"; then
    out=$(C run --rm --runc-binary "$tsrun" --runc-root "$tmp/ctr-runc" --cgroup "$cgparent/ctr1" \
      docker.io/library/busybox:tsrun ctr1 sh -c 'echo via-containerd; exit 4' 2>"$tmp/err"); rc=$?
    check "containerd shim with BinaryName=tsrun (ctr run --runc-binary): output" "via-containerd" "$out" "$(cat "$tmp/err")"
    check "containerd shim with BinaryName=tsrun (ctr run --runc-binary): exit status" 4 $rc
    check "containerd: nothing left in the runtime root" "" "$(ls "$tmp/ctr-runc/tsrun-e2e" 2>/dev/null)"
  else
    notok "ctr images import busybox:tsrun" "$(cat "$tmp/err")"
  fi
  C containers rm ctr1 >/dev/null 2>&1
  C images rm docker.io/library/busybox:tsrun >/dev/null 2>&1
fi

echo "1..$n"
[ $failed -eq 0 ]
