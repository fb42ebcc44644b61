"""Runs release skills through the release's own orchestrator entry
(Maestro/model_skill_orchestrator.py, request_skill_task) for the parity tests.

One process serves every case: it imports the release's orchestrator once (about 0.8 s),
then reads one JSON case per line on stdin and runs each in a forked child, so that every
case starts from the state right after the import, as a fresh interpreter would (the
release's caption and client caches, the stub's counters: nothing carries over).

Case (one JSON line): release (checkout dir), skill, model, port, input, image_paths, out,
env (variables set for this case only; a null value unsets one).
Reply: the child writes {"response": …} to `out` (the skills print to stdout themselves);
the parent then writes "<exit status> <out>" as one line on file descriptor 3. A failing
case leaves its traceback in `out` + ".err".
The 6-second pause between the orchestrator's two attempts is skipped; nothing else changes.
"""
import json
import os
import sys
import time
import traceback

# Leave no bytecode in the release copy (read-only in CI) or in the test folder.
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))


def run_case(case, orchestrator):
    for name, value in case.get("env", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _, response, _ = orchestrator.request_skill_task(
        (
            0,
            case["model"],
            case["skill"],
            case["input"],
            "",
            "EMPTY",
            None,
            case["port"],
            {"image_paths": case["image_paths"]},
        )
    )
    with open(case["out"], "w", encoding="utf-8") as f:
        json.dump({"response": response}, f)


def main():
    replies = os.fdopen(3, "w", buffering=1)
    orchestrator = None
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        if orchestrator is None:
            sys.path[:0] = [os.path.join(HERE, "pystubs"), case["release"]]
            time.sleep = lambda _seconds: None
            import Maestro.model_skill_orchestrator as orchestrator
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                run_case(case, orchestrator)
            except BaseException:  # noqa: BLE001 - reported to the test, which fails the case
                with open(case["out"] + ".err", "w", encoding="utf-8") as f:
                    f.write(traceback.format_exc())
                status = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        _, code = os.waitpid(pid, 0)
        replies.write(f"{os.waitstatus_to_exitcode(code)} {case['out']}\n")


if __name__ == "__main__":
    main()
