#!/usr/bin/env python3
"""pty-session.py TIMEOUT EXPECT INPUT -- CMD [ARGS...]

Runs CMD on a new pseudo-terminal (as its controlling tty and stdio), waits until EXPECT appears in what it
prints (skipped when EXPECT is empty), then types INPUT (backslash escapes such as \\n are decoded), reads until
the program closes the terminal, prints everything it printed and exits with its exit status.

Why not `printf … | script -c CMD`: script types the input as soon as it starts, before the program on the other
side (an interactive shell in a container, behind `docker exec -it`) reads its terminal, and a program that never
sees its "exit" line waits forever. Waiting for the prompt removes that race; TIMEOUT bounds everything: on expiry
the program's whole process group gets SIGKILL, what it printed so far is printed and the exit status is 124
(like timeout(1)).
"""
import os
import pty
import select
import signal
import sys
import time


def main(argv):
    if len(argv) < 5 or argv[4] != '--':
        sys.stderr.write(__doc__)
        return 2
    timeout, expect = float(argv[1]), argv[2].encode()
    data = argv[3].encode().decode('unicode_escape').encode()
    cmd = argv[5:]
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    out, sent, deadline = b'', False, time.monotonic() + timeout

    def send_if_ready():
        nonlocal sent
        if not sent and expect in out:
            os.write(fd, data)
            sent = True

    send_if_ready()
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every holder of the terminal's other side has closed it
            break
        if not chunk:
            break
        out += chunk
        send_if_ready()
    if timed_out:
        try:
            os.killpg(pid, signal.SIGKILL)  # pty.fork made the child a session (and group) leader
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    if timed_out:
        sys.stderr.write('pty-session: timed out after %g s (input %s)\n' % (timeout, 'sent' if sent else 'not sent'))
        return 124
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell reports it


if __name__ == '__main__':
    sys.exit(main(sys.argv))
