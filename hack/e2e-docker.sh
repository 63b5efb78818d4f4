#!/bin/sh
# End-to-end: Docker (dockerd 20.10+, containerd's runc shim) driving tsrun as an added and as the default runtime.
#
#   sudo sh hack/e2e-docker.sh                        # prints TAP ("ok N - …"), exits non-zero if a check failed
#   sudo TSRUN=/usr/sbin/runc sh hack/e2e-docker.sh   # the same checks against runc, for comparison
#   npm test  /  node hack/test.mjs --e2e             # hack/test.mjs runs every hack/e2e-*.sh as root (~25 s here)
#
# It starts a PRIVATE dockerd: its own --data-root, --exec-root, unix socket and pidfile in a temp dir, no iptables,
# no masquerading, no ip_forward change, no default bridge, cgroups under /tsrun-test/docker-e2e-<pid>, inside its own
# mount namespace (unshare -m) so that the overlay and shm mounts dockerd makes never touch the host's mount table.
# The image busybox:tsrun is imported from test-bundle/rootfs (no registry). The container-to-container check makes
# one --internal bridge network (interface tsrun-e2e<pid>, subnet 10.213.<pid % 250>.0/24, no gateway route in the
# containers, so nothing leaves the machine) and removes it again; cleanup deletes the link if it is still there.
# At the end dockerd is stopped by its pid, its containerd and shims by pid, and everything is removed.
#
# Checklist (issue #8): run/output/exit codes, 127/126 with the runtime's message, -t, -i, exec (+tty, tty input,
# +user, exit code), top, stats, logs split, stop (TERM, then KILL after the timeout), kill, start, rm, memory/pids/cpu
# limits present and enforced (OOM kill → 137 + OOMKilled, fork failure, CFS throttling), --user, --read-only +
# --tmpfs, --cap-drop ALL and the default caps, --network none, container-to-container over a private bridge
# (Docker's libnetwork-setkey prestart hook), pause/unpause, restart, restart policies, docker info (default runtime,
# RuncCommit = the runtime's --version commit), a daemon.json runtimeArgs entry, ctr run --runc-binary.
#
# Environment: TSRUN (runtime binary, default bin/tsrun), DOCKER (client, default `docker` from PATH),
# E2E_STORAGE_DRIVER (default overlay2, else vfs), E2E_RUN_OPTS (extra `docker run` options, e.g.
# "--security-opt seccomp=unconfined"), E2E_KEEP=1 (keep the temp dir and dockerd log for debugging; dockerd is
# still stopped).
# Needs: root, dockerd + containerd + containerd-shim-runc-v2 (Debian: apt-get install docker.io), iproute2.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tsrun=${TSRUN:-$here/bin/tsrun}
case $tsrun in /*) ;; *) tsrun=$(pwd)/$tsrun ;; esac
. "$here/hack/lib-e2e.sh"

e2e_preflight docker "docker.io iproute2" dockerd containerd containerd-shim-runc-v2 docker unshare ip

tmp=$(mktemp -d /tmp/tsrun-e2e.XXXXXX)
sock=$tmp/docker.sock
pidfile=$tmp/dockerd.pid
cgparent=/tsrun-test/docker-e2e-$$
driver=${E2E_STORAGE_DRIVER:-overlay2}
grep -qw overlay /proc/filesystems || driver=vfs
docker=${DOCKER:-docker}
# every docker call is bounded, so a hanging runtime fails a check instead of the whole run
D() { timeout -k 5 --foreground "${E2E_CMD_TIMEOUT:-120}" "$docker" -H "unix://$sock" "$@"; }
# shellcheck disable=SC2086
RUN() { D run --runtime tsrun --network none ${E2E_RUN_OPTS:-} "$@"; }
# shellcheck disable=SC2086
RUNNET() { D run --runtime tsrun ${E2E_RUN_OPTS:-} "$@"; }
# poll SECONDS SNIPPET: re-evaluate the shell snippet every 0.1 s until it succeeds or time is up
poll() { t=$(($1 * 10)); shift; until eval "$1"; do [ $t -le 0 ] && return 1; sleep 0.1; t=$((t - 1)); done; }
# the runtime's own view of a container (through the state root the shim gives it)
rtstatus() { "$tsrun" --root "$tmp/exec/runtime-runc/moby" state "$1" 2>&1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }


cleanup() {
  set +e
  if [ -S "$sock" ]; then
    for c in $(D ps -aq 2>/dev/null); do D rm -f "$c" >/dev/null 2>&1; done
    D network rm e2enet >/dev/null 2>&1
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
  e2e_rm_cgroups "$cgparent"
  # dockerd leaves the bridges of user-defined networks behind when it stops: ours goes by its own name
  if [ -n "${br:-}" ] && ip link show "$br" >/dev/null 2>&1; then ip link delete "$br"; fi
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
  --cgroup-parent "$cgparent" --add-runtime "tsrun=$tsrun" --default-runtime tsrun >"$tmp/dockerd.log" 2>&1 &
dpid=$!
wait_daemon dockerd "$dpid" "$tmp/dockerd.log" D version
echo "# dockerd $(D version -f '{{.Server.Version}}') pid $dpid, storage $driver, runtime $tsrun"

# ---- the image ----
if tar -C "$here/test-bundle/rootfs" -c . | D import - busybox:tsrun >/dev/null 2>"$tmp/import.err"; then ok "import busybox:tsrun from test-bundle/rootfs"
else notok "import busybox:tsrun from test-bundle/rootfs" "$(cat "$tmp/import.err")"; echo "1..$n"; exit 1; fi

rt=$(D info -f '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' 2>&1)
case " $rt " in *" tsrun "*) ok "docker info lists the tsrun runtime" ;; *) notok "docker info lists the tsrun runtime" "$rt" ;; esac
# dockerd runs `<default runtime> --version` for docker info and reads the "commit:" line (parseRuntimeVersion)
check "docker info: tsrun is the default runtime (--default-runtime tsrun)" tsrun "$(D info -f '{{.DefaultRuntime}}' 2>&1)"
want=$("$tsrun" --version 2>/dev/null | sed -n 's/^commit: *//p')
check "docker info: RuncCommit.ID is the runtime's --version commit ($want)" "$want" "$(D info -f '{{.RuncCommit.ID}}' 2>&1)"
D run --name dflt --network none ${E2E_RUN_OPTS:-} busybox:tsrun true >/dev/null 2>"$tmp/err"; rc=$?
check "docker run without --runtime uses the default runtime tsrun" "0 tsrun" "$rc $(D inspect -f '{{.HostConfig.Runtime}}' dflt 2>&1)" "$(cat "$tmp/err")"
D rm -f dflt >/dev/null 2>&1

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
D exec -w /no/such/dir long true >"$tmp/err" 2>&1; rc=$?  # docker 28's CLI prints it on stdout
checkgrep "docker exec -w /no/such/dir: fails with runc's words (rc $rc)" 'chdir to cwd \("/no/such/dir"\) set in config.json failed: no such file or directory' "$(cat "$tmp/err")"

out=$(D exec -t long tty 2>"$tmp/err" | tr -d '\r')
case $out in /dev/pts/[0-9]*) ok "docker exec -t: the process has a pty ($out)" ;; *) notok "docker exec -t: the process has a pty" "$out" "$(cat "$tmp/err")" ;; esac
# -it needs a terminal on the client side: pty-session.py gives docker one and types the lines once the shell's
# prompt is there (typed earlier, they can be lost on the way and the shell never exits); they go through both ptys
python3 "$here/hack/pty-session.py" 60 '# ' 'echo $((6 * 7))-tty-input\nexit 9\n' -- \
  "$docker" -H "unix://$sock" exec -it long sh >"$tmp/tty" 2>&1; rc=$?
out=$(tr -d '\r' <"$tmp/tty")
check "docker exec -it: tty input reaches the shell" yes "$(printf %s "$out" | grep -qx '42-tty-input' && echo yes)" "$out"
check "docker exec -it: exit status through the tty session" 9 $rc "$out"
out=$(D exec -u 1000:1000 long sh -c 'echo $(id -u):$(id -g); touch /root/x 2>/dev/null || echo denied' 2>"$tmp/err" | tr '\n' ' ')
check "docker exec -u 1000:1000: runs as that user (and may not write /root)" "1000:1000 denied " "$out" "$(cat "$tmp/err")"
out=$(D top long 2>"$tmp/err")
check "docker top: lists the container's process (host pid $pid, sleep 300)" yes \
  "$(printf '%s\n' "$out" | awk -v p="$pid" 'NR > 1 && $2 == p' | grep -q 'sleep 300' && echo yes)" "$out" "$(cat "$tmp/err")"
out=$(D stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' long 2>"$tmp/err")
mem=$(printf %s "$out" | awk '{print $2}' | sed 's/[A-Za-z]*$//')
check "docker stats --no-stream: shows the container with memory usage > 0 ($out)" yes \
  "$(awk -v m="${mem:-0}" 'BEGIN { exit !(m + 0 > 0) }' && printf %s "$out" | grep -q '^long ' && echo yes)" "$out" "$(cat "$tmp/err")"

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
# (@cache in a tsrun root is its cache of compiled seccomp filters, not a container)
check "docker rm -f: nothing left in the runtime root" "" "$(ls "$tmp/exec/runtime-runc/moby" 2>/dev/null | grep -vx @cache)"

# ---- signals: kill, stop with a TERM handler ----
RUN -d --name sig busybox:tsrun sh -c 'trap "echo got-usr1" USR1; trap "echo got-term; exit 7" TERM; while :; do sleep 0.1; done' >/dev/null 2>"$tmp/err"
poll 10 '[ "$(D inspect -f "{{.State.Running}}" sig 2>/dev/null)" = true ]'
D kill -s USR1 sig >/dev/null 2>&1
poll 5 'D logs sig 2>/dev/null | grep -q got-usr1'
check "docker kill -s USR1: the signal reaches the program's handler" "got-usr1" "$(D logs sig 2>&1)" "$(cat "$tmp/err")"
t0=$(date +%s)
D stop -t 30 sig >/dev/null 2>&1
t1=$(date +%s)
check "docker stop: SIGTERM first (the handler's exit status 7, well before the 30 s timeout)" "7 yes" \
  "$(D inspect -f '{{.State.ExitCode}}' sig 2>&1) $( [ $((t1 - t0)) -le 10 ] && echo yes || echo "$((t1 - t0)) s")"
D rm -f sig >/dev/null 2>&1
RUN -d --name killme busybox:tsrun sleep 300 >/dev/null 2>"$tmp/err"
D kill killme >/dev/null 2>>"$tmp/err"; rc=$?
D wait killme >/dev/null 2>&1
check "docker kill: SIGKILL → 137" "0 137 false" "$rc $(D inspect -f '{{.State.ExitCode}} {{.State.Running}}' killme 2>&1)" "$(cat "$tmp/err")"
D rm -f killme >/dev/null 2>&1

# ---- resource limits: present in the container's cgroup and enforced ----
out=$(RUN --rm --memory 16m busybox:tsrun cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
check "--memory 16m: memory.limit_in_bytes in the container's cgroup" 16777216 "$out"
# dd's 64 MiB buffer is filled by read(2) from /dev/zero: the container's memory cgroup OOM-kills it
RUN --name oom --memory 16m --memory-swap 16m busybox:tsrun dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>"$tmp/err"; rc=$?
check "--memory 16m: a process allocating 64 MiB is OOM-killed → 137" 137 $rc "$(cat "$tmp/err")"
# the shim's OOM event (from the cgroup's memory.oom_control eventfd) can reach dockerd after the exit event
poll 10 '[ "$(D inspect -f "{{.State.OOMKilled}}" oom 2>/dev/null)" = true ]'
check "--memory 16m: docker inspect State.OOMKilled" true "$(D inspect -f '{{.State.OOMKilled}}' oom 2>&1)"
D rm -f oom >/dev/null 2>&1

out=$(RUN --rm --pids-limit 10 busybox:tsrun cat /sys/fs/cgroup/pids/pids.max 2>&1)
check "--pids-limit 10: pids.max in the container's cgroup" 10 "$out"
# a fork bomb that stops at 30: with 10 pids, ash fails to fork and gives up before "all-forked"
out=$(RUN --rm --pids-limit 10 busybox:tsrun sh -c 'i=0; while [ $i -lt 30 ]; do sleep 10 & i=$((i + 1)); done; echo all-forked' 2>&1)
check "--pids-limit 10: forking 30 processes fails (can't fork)" yes \
  "$(printf %s "$out" | grep -q "can't fork" && ! printf %s "$out" | grep -q all-forked && echo yes)" "$out"

# --cpus 0.5 is CFS quota 50000/100000; a busy loop for 1 s must be throttled (cpu.stat nr_throttled > 0)
out=$(RUN --rm --cpus 0.5 --cpu-shares 512 busybox:tsrun sh -c 'cd /sys/fs/cgroup/cpu; echo $(cat cpu.cfs_quota_us cpu.cfs_period_us cpu.shares);
  timeout 1 sh -c "while :; do :; done"; sed -n "s/^nr_throttled //p" cpu.stat' 2>"$tmp/err")
check "--cpus 0.5 --cpu-shares 512: cfs_quota_us, cfs_period_us, shares" "50000 100000 512" "$(printf '%s\n' "$out" | head -1)" "$out"
check "--cpus 0.5: a busy loop is throttled (nr_throttled > 0)" yes \
  "$(awk -v n="$(printf '%s\n' "$out" | tail -1)" 'BEGIN { exit !(n + 0 > 0) }' && echo yes)" "$out"
out=$(RUN --rm --cpu-period 50000 --cpu-quota 10000 busybox:tsrun sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us' 2>&1 | tr '\n' ' ')
check "--cpu-period 50000 --cpu-quota 10000: in the container's cpu cgroup" "10000 50000 " "$out"

# ---- users, read-only root, capabilities ----
out=$(RUN --rm --user 1000:1000 busybox:tsrun sh -c 'echo $(id -u):$(id -g); touch /root/x 2>/dev/null || echo denied' 2>&1 | tr '\n' ' ')
check "--user 1000:1000: runs as that user (and may not write /root)" "1000:1000 denied " "$out"
out=$(RUN --rm --read-only --tmpfs /tmp --tmpfs /run busybox:tsrun sh -c 'touch /x 2>/dev/null && echo root-writable || echo root-read-only
  echo written >/tmp/y && cat /tmp/y; sed -n "s|^[^ ]* /tmp \([^ ]*\) .*|\1|p" /proc/mounts; stat -c %a /tmp /run' 2>&1 | tr '\n' ' ')
check "--read-only --tmpfs /tmp --tmpfs /run: / is read-only, /tmp a writable tmpfs; the tmpfs keep the modes 1777/755" \
  "root-read-only written tmpfs 1777 755 " "$out"
out=$(RUN --rm --cap-drop ALL busybox:tsrun sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | tr -s "\t" " "; chown 1 /tmp 2>&1 || echo chown-failed' 2>&1)
check "--cap-drop ALL: CapEff and CapBnd are empty, chown fails with EPERM" \
  "CapEff: 0000000000000000
CapBnd: 0000000000000000
chown: /tmp: Operation not permitted
chown-failed" "$out"
out=$(RUN --rm busybox:tsrun sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | tr -s "\t" " "; chown 1 /tmp && echo chown-ok' 2>&1)
check "default capabilities: Docker's default set (CapEff = CapBnd = 00000000a80425fb), chown works" \
  "CapEff: 00000000a80425fb
CapBnd: 00000000a80425fb
chown-ok" "$out"

# ---- networks ----
out=$(RUN --rm busybox:tsrun sh -c 'ls /sys/class/net; ip -o link | cut -d: -f2' 2>&1 | tr -d ' ' | tr '\n' ' ')
check "--network none: only lo (sysfs and netlink)" "lo lo " "$out"
# A bridge of this daemon's own on a private, internal subnet (no gateway route out); containers on it get their
# veth through Docker's prestart hook (libnetwork-setkey), which reads the runtime's state JSON on stdin.
br=tsrun-e2e$(($$ % 100000))
sub=10.213.$(($$ % 250))
if D network create --driver bridge --internal --subnet "$sub.0/24" --opt "com.docker.network.bridge.name=$br" e2enet >/dev/null 2>"$tmp/err"; then
  ok "docker network create: a private bridge $br on $sub.0/24"
  # -i keeps the server's stdin open: on EOF there busybox nc shuts its side down at once, and a client that sees that
  # EOF before it has read its own stdin leaves without sending
  RUNNET -d -i --network e2enet --ip "$sub.10" --name srv busybox:tsrun nc -l -p 7777 >/dev/null 2>"$tmp/err"
  check "nc -l server on the bridge network: running" true "$(D inspect -f '{{.State.Running}}' srv 2>&1)" "$(cat "$tmp/err")"
  srvid=$(D inspect -f '{{.Id}}' srv 2>/dev/null)
  check "the runtime got Docker's prestart hook (libnetwork-setkey) in config.json" yes \
    "$(grep -q '"prestart":\[{"path":"[^"]*","args":\["libnetwork-setkey"' "$tmp/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$srvid/config.json" 2>/dev/null && echo yes)" \
    "$(grep -o "\"prestart\":[^]]*" "$tmp/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$srvid/config.json" 2>&1)"
  out=$(RUNNET --rm --network e2enet busybox:tsrun sh -c "ip -o -4 addr show eth0 | grep -q ' $sub\.' && echo has-address
    i=0; until echo hello-over-the-bridge | nc -w 2 $sub.10 7777; do i=\$((i + 1)); [ \$i -gt 20 ] && break; sleep 0.2; done" 2>"$tmp/err")
  check "client container on the bridge: eth0 has an address in $sub.0/24" "has-address" "$out" "$(cat "$tmp/err")"
  D wait srv >"$tmp/wait" 2>&1
  poll 5 '[ -n "$(D logs srv 2>&1)" ]'    # the log copier can lag behind the exit
  check "container-to-container: the message arrives at the server" "hello-over-the-bridge" "$(D logs srv 2>&1)" \
    "client: $out $(cat "$tmp/err")" "server exit: $(cat "$tmp/wait")"
  D rm -f srv >/dev/null 2>&1
  D network rm e2enet >/dev/null 2>"$tmp/err"; rc=$?
  check "docker network rm: the bridge is removed, no link left" "0 " "$rc $(ip -o link show 2>&1 | grep -E ": ($br|veth[^:]*@[^:]*$br)[:@]")" "$(cat "$tmp/err")"
else
  notok "docker network create: a private bridge $br on $sub.0/24" "$(cat "$tmp/err")"
fi

# ---- pause / unpause, restart, restart policies ----
RUN -d --name cnt busybox:tsrun sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/n; sleep 0.1; done' >/dev/null 2>"$tmp/err"
id=$(D inspect -f '{{.Id}}' cnt 2>/dev/null)
pid=$(D inspect -f '{{.State.Pid}}' cnt 2>/dev/null)
counter() { cat /proc/"$pid"/root/tmp/n 2>/dev/null; }
poll 5 '[ "$(counter)" -ge 3 ] 2>/dev/null'
D pause cnt >/dev/null 2>"$tmp/err"; rc=$?
check "docker pause: succeeds" 0 $rc "$(cat "$tmp/err")"
check "docker pause: State.Status paused, State.Paused true, the runtime says paused" "paused true paused" \
  "$(D inspect -f '{{.State.Status}} {{.State.Paused}}' cnt 2>&1) $(rtstatus "$id")"
a=$(counter); sleep 1; b=$(counter)
check "docker pause: the counter stalls" "$a" "$b"
D unpause cnt >/dev/null 2>"$tmp/err"; rc=$?
sleep 1; c=$(counter)
check "docker unpause: running again, the counter moves on ($b → $c)" "0 running false running yes" \
  "$rc $(D inspect -f '{{.State.Status}} {{.State.Paused}}' cnt 2>&1) $(rtstatus "$id") $( [ "${c:-0}" -gt "${b:-0}" ] && echo yes)" "$(cat "$tmp/err")"
D restart -t 1 cnt >/dev/null 2>"$tmp/err"; rc=$?
pid2=$(D inspect -f '{{.State.Pid}}' cnt 2>/dev/null)
check "docker restart: running again with a new process" "0 true yes" \
  "$rc $(D inspect -f '{{.State.Running}}' cnt 2>&1) $( [ "$pid2" != "$pid" ] && [ "$(cat /proc/"$pid2"/comm 2>/dev/null)" = sh ] && echo yes)" "$(cat "$tmp/err")"
D rm -f cnt >/dev/null 2>&1

RUN -d --name onfail --restart on-failure:2 busybox:tsrun sh -c 'exit 1' >/dev/null 2>"$tmp/err"
poll 30 '[ "$(D inspect -f "{{.RestartCount}} {{.State.Status}}" onfail 2>/dev/null)" = "2 exited" ]'
check "--restart on-failure:2 with a failing command: restarted twice, then exited 1" "2 exited 1" \
  "$(D inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' onfail 2>&1)" "$(cat "$tmp/err")"
D rm -f onfail >/dev/null 2>&1
RUN -d --name always --restart always busybox:tsrun sh -c 'sleep 0.2' >/dev/null 2>"$tmp/err"
poll 30 '[ "$(D inspect -f "{{.RestartCount}}" always 2>/dev/null)" -ge 2 ]'
check "--restart always: restarted after a successful exit" yes \
  "$( [ "$(D inspect -f '{{.RestartCount}}' always 2>/dev/null)" -ge 2 ] && echo yes)" "$(D inspect -f '{{json .State}}' always 2>&1)"
D rm -f always >/dev/null 2>"$tmp/err"; rc=$?
check "docker rm -f of a restarting container" 0 $rc "$(cat "$tmp/err")"

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
    check "containerd: nothing left in the runtime root" "" "$(ls "$tmp/ctr-runc/tsrun-e2e" 2>/dev/null | grep -vx @cache)"
  else
    notok "ctr images import busybox:tsrun" "$(cat "$tmp/err")"
  fi
  C containers rm ctr1 >/dev/null 2>&1
  C images rm docker.io/library/busybox:tsrun >/dev/null 2>&1
fi

echo "1..$n"
[ $failed -eq 0 ]
