# Shared by hack/e2e-*.sh (sourced; not run by itself, and its name keeps hack/test.mjs from picking it up).
# TAP output: `ok N - name` / `not ok N - name` with `  # details`, the plan printed by the script at its end.

n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/  # /'; done; }
# check NAME EXPECTED ACTUAL [details…]
check() { name=$1; want=$2; got=$3; shift 3; if [ "$want" = "$got" ]; then ok "$name"; else notok "$name" "expected: $(printf %s "$want" | od -c | head -3)" "got:      $(printf %s "$got" | od -c | head -3)" "$@"; fi; }
# checkgrep NAME PATTERN TEXT [details…]
checkgrep() { name=$1; pat=$2; txt=$3; shift 3; if printf '%s\n' "$txt" | grep -qE -- "$pat"; then ok "$name"; else notok "$name" "wanted /$pat/ in: $txt" "$@"; fi; }
# waitfor N CMD…: retry CMD every 0.1 s up to N times
waitfor() { w=$1; shift; i=0; until "$@" >/dev/null 2>&1; do i=$((i + 1)); [ $i -ge "$w" ] && return 1; sleep 0.1; done; }

# e2e_preflight NAME "apt package" TOOL…: skip (TAP plan 1..0) without root or a tool; bail out without a built
# runtime; make the test bundle if missing. Uses $tsrun and $here.
e2e_preflight() {
  name=$1; pkg=$2; shift 2
  if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP e2e-$name: needs root"; exit 0; fi
  for b in "$@"; do
    if ! command -v "$b" >/dev/null 2>&1; then echo "1..0 # SKIP e2e-$name: $b not installed (Debian: apt-get install $pkg)"; exit 0; fi
  done
  if [ ! -x "$tsrun" ]; then echo "Bail out! runtime $tsrun is not executable (node hack/build.mjs)"; exit 1; fi
  if [ ! -d "$here/test-bundle/rootfs" ]; then sh "$here/hack/mkbundle.sh" >/dev/null || { echo "Bail out! hack/mkbundle.sh failed"; exit 1; }; fi
}

# wait_daemon NAME PID LOG CMD…: until CMD succeeds (30 s), or bail out with the daemon's log if it died.
wait_daemon() {
  dname=$1; dpid_=$2; dlog=$3; shift 3
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$dpid_" 2>/dev/null; then
      echo "Bail out! $dname did not come up; its log:"; tail -20 "$dlog" | sed 's/^/# /'; exit 1
    fi
    sleep 0.1
  done
}

# e2e_rm_cgroups PARENT: remove the (empty) cgroup directories below PARENT in every hierarchy, deepest first.
e2e_rm_cgroups() {
  for d in /sys/fs/cgroup/*"$1"; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}
