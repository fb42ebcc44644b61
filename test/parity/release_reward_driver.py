"""Runs the Maestro release's own reward code on JSON cases, for release-reward parity tests.

Usage: release_reward_driver.py RELEASE_DIR < request.json > verdicts.json

RELEASE_DIR is the release checkout (its verl_tool/ and Maestro/ folders). Nothing of the
release is copied here: its reward_score modules are loaded from their files, and the three
functions the reward manager needs from modules we cannot import (torl.py needs torch and verl,
the orchestrator needs openai) are taken from those files' syntax trees and executed as they
are. torl.py imports the third-party `regex` module under the name `re`; the one pattern it
uses there behaves the same in the standard library's `re`, which stands in for it.

Request: {"cases": [{"id", "fn", "response", "groundTruth"}], "names": {"models": [...], "skills": [...]},
          "latex": [...]}
Reply:   {"map": {data_source: function}, "verdicts": [{"id", "score", "extracted", "format"}],
          "models": [...], "skills": [...], "latex": [latex_to_float of each string]}
"""

import ast
import contextlib
import importlib.util
import io
import json
import os
import re
import sys

RELEASE = sys.argv[1]
REWARD_DIR = os.path.join(RELEASE, "verl_tool", "workers", "reward_manager")
SCORE_DIR = os.path.join(REWARD_DIR, "reward_score")


def load_module(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(SCORE_DIR, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def functions_from(path, names, namespace, class_name=None):
    """Executes the named top-level (or class-level) function definitions of a file."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    body = tree.body
    if class_name is not None:
        body = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name).body
    picked = [node for node in body if isinstance(node, ast.FunctionDef) and node.name in names]
    if len(picked) != len(names):
        raise SystemExit(f"{path}: expected functions {names}, found {[n.name for n in picked]}")
    exec(compile(ast.Module(body=picked, type_ignores=[]), path, "exec"), namespace)
    return [namespace[name] for name in names]


def reward_function_map():
    """The reward manager's data_source -> function-name map, read from its __init__."""
    with open(os.path.join(REWARD_DIR, "torl.py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "reward_function_map":
                return {k.value: v.id for k, v in zip(node.value.keys, node.value.values)}
    raise SystemExit("torl.py: reward_function_map not found")


chartqa = load_module("release_chartqa", "chartqa.py")
msearthmcq = load_module("release_msearthmcq", "msearthmcq.py")
slake = load_module("release_slake", "slake.py")
vstar = load_module("release_vstar", "vstar.py")
zwz = load_module("release_zwz", "zwz.py")
release_math = load_module("release_math", "math.py")

FUNCTIONS = {
    "compute_score_chartqa": (chartqa.compute_score_chartqa, chartqa.compute_score),
    "compute_score_msearthmcq": (msearthmcq.compute_score_msearthmcq, msearthmcq.compute_score),
    "compute_score_slake": (slake.compute_score_slake, slake.compute_score),
    "compute_score_vstar": (vstar.compute_score_vstar, vstar.compute_score),
    "compute_score_zwz": (zwz.compute_score_zwz, zwz.compute_score),
    "math_compute_score": (release_math.compute_score, release_math.compute_score),
}

names_ns = {}
check_llm_name, check_skill_name = functions_from(
    os.path.join(RELEASE, "Maestro", "model_skill_orchestrator.py"), ["check_llm_name", "check_skill_name"], names_ns
)
format_ns = {"re": re, "check_llm_name": check_llm_name, "check_skill_name": check_skill_name}
(compute_format_reward,) = functions_from(
    os.path.join(REWARD_DIR, "torl.py"), ["compute_format_reward"], format_ns, class_name="ToRLRewardManager"
)


def manager_score(result):
    """What the reward manager reads from a mapped function's return value."""
    if isinstance(result, tuple):
        return result[-1] if len(result) >= 3 else result[0]
    return result


def verdict(case):
    call, with_answer = FUNCTIONS[case["fn"]]
    with contextlib.redirect_stdout(io.StringIO()):
        score = manager_score(call(solution_str=case["response"], ground_truth=case["groundTruth"]))
        _, extracted = with_answer(case["response"], case["groundTruth"], return_answer=True)
        fmt = compute_format_reward(None, case["response"])
    return {"id": case["id"], "score": float(score), "extracted": extracted, "format": float(fmt)}


def as_json_number(value):
    """A float for JSON: non-finite values as the strings "nan", "inf", "-inf"."""
    if value is None or value == value and value not in (float("inf"), float("-inf")):
        return value
    return "nan" if value != value else ("inf" if value > 0 else "-inf")


def main():
    request = json.load(sys.stdin)
    reply = {"map": reward_function_map()}
    reply["verdicts"] = [verdict(case) for case in request.get("cases", [])]
    names = request.get("names", {})
    with contextlib.redirect_stdout(io.StringIO()):
        reply["models"] = [check_llm_name(name)[0] for name in names.get("models", [])]
        reply["skills"] = [check_skill_name(name) for name in names.get("skills", [])]
        reply["latex"] = [as_json_number(release_math.latex_to_float(s)) for s in request.get("latex", [])]
    json.dump(reply, sys.stdout, ensure_ascii=True)


main()
