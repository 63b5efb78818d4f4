#!/usr/bin/env python3
"""Test console-socket receiver (runc's protocol): accept one connection, receive exactly one message that must
carry one SCM_RIGHTS fd, print what came, then relay the pty master's output to stdout until EOF.
Usage: console-receiver.py SOCKET_PATH [INPUT]  (INPUT is written to the master after receipt)"""
import array, os, socket, sys, fcntl, termios, struct, select

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("listening", flush=True)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, flags, _ = conn.recvmsg(4096, socket.CMSG_SPACE(8 * fds.itemsize))
count = 0
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        got = array.array("i")
        got.frombytes(data[: len(data) - (len(data) % got.itemsize)])
        fds.extend(got)
        count += 1
print(f"messages=1 cmsgs={count} fds={len(fds)} payload={msg.decode()}", flush=True)
master = fds[0]
rows, cols = struct.unpack("hhhh", fcntl.ioctl(master, termios.TIOCGWINSZ, b"\0" * 8))[:2]
print(f"winsize={rows}x{cols}", flush=True)
if len(sys.argv) > 2:
    os.write(master, sys.argv[2].encode())
more = conn.recv(1)
print(f"extra-after={len(more)}", flush=True)
out = b""
while True:
    r, _, _ = select.select([master], [], [], 10)
    if not r:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write("OUTPUT:" + out.decode(errors="replace").replace("\r", ""))
