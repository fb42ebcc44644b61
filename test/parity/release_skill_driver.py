"""Runs one release skill through the release's own orchestrator entry
(Maestro/model_skill_orchestrator.py, request_skill_task) for the parity tests.

Input (JSON on stdin): release (checkout dir), skill, model, port, input, image_paths, out.
Output: {"response": …} written to `out` (the skills print to stdout themselves).
The 6-second pause between the orchestrator's two attempts is skipped; nothing else changes.
"""
import json
import os
import sys
import time

# Leave no bytecode in the release copy (read-only in CI) or in the test folder.
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    case = json.load(sys.stdin)
    sys.path[:0] = [os.path.join(HERE, "pystubs"), case["release"]]
    time.sleep = lambda _seconds: None
    import Maestro.model_skill_orchestrator as orchestrator

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


if __name__ == "__main__":
    main()
