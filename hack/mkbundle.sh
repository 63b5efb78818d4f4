#!/bin/sh
# Make the busybox test bundle: a rootfs from Debian's busybox-static and the default `tsrun spec` config,
# adjusted so it runs without a terminal and in a cgroup of its own (never under the caller's cgroup).
# Usage: hack/mkbundle.sh [DIR]   (default: ./test-bundle; the README's first command and the tests use it)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$here/test-bundle}
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1 || ! file -L "$busybox" 2>/dev/null | grep -q static; then
  for b in /usr/bin/busybox /bin/busybox; do
    if [ -x "$b" ] && ldd "$b" 2>&1 | grep -q 'not a dynamic'; then busybox=$b; break; fi
  done
fi
if ! ldd "$busybox" 2>&1 | grep -q 'not a dynamic'; then
  echo "mkbundle: a static busybox is needed: apt-get install busybox-static" >&2
  exit 1
fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/rootfs"
r=$dir.tmp/rootfs
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" "$r/var" "$r/run" "$r/home"
chmod 1777 "$r/tmp"
cp "$busybox" "$r/bin/busybox"
for app in $("$r/bin/busybox" --list); do
  [ "$app" = busybox ] && continue
  ln -sf busybox "$r/bin/$app"
done
cat > "$r/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$r/etc/group" <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:
nogroup:x:65534:
G
echo "127.0.0.1 localhost" > "$r/etc/hosts"
: > "$r/etc/resolv.conf"
(cd "$dir.tmp" && "$here/bin/tsrun" spec)
node -e '
  const fs = require("fs"); const f = process.argv[1] + "/config.json";
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false;
  c.process.args = ["sh", "-c", "echo hello from tsrun; cat /etc/hostname 2>/dev/null; id"];
  c.linux.cgroupsPath = "/tsrun-default";
  fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$dir.tmp"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
