"""Runs one HumanEval-V program for maestro-eval's official scorer.

Reads JSON {"program", "token", "timeout"} on stdin. Runs the program with exec() in fresh
globals, under an interval timer, with sockets disabled. Only when exec returns normally is
the token written to stdout and the exit status 0; any exception, SystemExit included, is a
failure (exit 1, the message on stderr). A program that leaves early (os._exit, a signal, a
killed interpreter) never writes the token. The program text is never written to disk.
"""

import json
import os
import signal
import socket
import sys


class _TimeLimit(Exception):
    pass


def _no_network(*args, **kwargs):
    raise OSError("network access is disabled in the HumanEval-V sandbox")


def _disable_network():
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        setattr(socket.socket, name, _no_network)
    socket.getaddrinfo = _no_network
    socket.create_connection = _no_network


def _on_alarm(signum, frame):
    raise _TimeLimit()


def _run(program, timeout):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        exec(compile(program, "<humaneval-v>", "exec"), {"__name__": "__main__"})
    except _TimeLimit:
        return "Test Case Execution Time Out (> %s seconds)" % timeout
    except BaseException as e:  # noqa: BLE001 - every way out but the end is a failure
        return "%s: %s" % (type(e).__name__, e)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    _disable_network()
    failure = _run(job["program"], float(job["timeout"]))
    if failure is None:
        sys.stdout.flush()
        os.write(1, ("\n" + job["token"] + "\n").encode())
        os._exit(0)
    sys.stdout.flush()
    os.write(2, ("\n" + failure[-2000:] + "\n").encode("utf-8", "replace"))
    os._exit(1)


if __name__ == "__main__":
    main()
