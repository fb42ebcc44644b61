"""Runs the public Maestro release's own name matching and <search> handling on test cases.

Usage: release_names_driver.py RELEASE_DIR < request.json > answer.json

request: {"models": [str], "skills": [str], "actions": [str]}
answer:  {"models": [str], "skills": [str],
          "actions": [{"obs": str, "valid": bool, "call": [model, skill, input] | null}],
          "facts": {...}}

- models/skills: check_llm_name(...)[0] and check_skill_name(...) imported from the
  release's Maestro/model_skill_orchestrator.py.
- actions: the agent loop's interact_with_tool_server and _execute_maestro_skills, taken
  from the release's source (the module itself needs torch and verl) and run with the
  skill execution replaced by a recorder: `call` is what the skill would have run with.
- facts: literals read from the release's source with `ast` (the exact-alias table of
  check_skill_name, the names the skill factory implements, MAX_OBS_LENGTH).
"""

import ast
import asyncio
import contextlib
import io
import json
import logging
import os
import sys
import textwrap
import types
from typing import Any

sys.dont_write_bytecode = True
RELEASE = os.path.abspath(sys.argv[1])
STUBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "names_stubs")
sys.path[:0] = [STUBS, RELEASE]

# The module prints a warning when its skill modules cannot be imported: keep stdout clean.
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    import Maestro.model_skill_orchestrator as orchestrator


def parse(relpath):
    with open(os.path.join(RELEASE, relpath), encoding="utf-8") as f:
        text = f.read()
    return text, ast.parse(text)


def find_function(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise SystemExit(f"release driver: no function {name}")


def alias_table():
    """The dict literal assigned in check_skill_name."""
    _, tree = parse("Maestro/model_skill_orchestrator.py")
    fn = find_function(tree, "check_skill_name")
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            return ast.literal_eval(node.value)
    raise SystemExit("release driver: no alias table in check_skill_name")


def factory_names():
    """Every string the skill factory compares skill.skill_name with."""
    _, tree = parse("skills/factory.py")
    fn = find_function(tree, "get_skill")
    names = set()
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute)):
            continue
        if node.left.attr != "skill_name":
            continue
        for comp in node.comparators:
            value = ast.literal_eval(comp)
            names.update(value if isinstance(value, (set, list, tuple)) else [value])
    return sorted(names)


def agent_loop():
    """The two agent-loop methods, compiled from the release's source, on a bare object."""
    text, tree = parse("verl_tool/agent_loop/verltool_agent_loop.py")
    env = {"logging": logging, "logger": logging.getLogger("release"), "Any": Any}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "MAX_OBS_LENGTH" for t in node.targets):
            env["MAX_OBS_LENGTH"] = ast.literal_eval(node.value)
    methods = {}
    for name in ("_execute_maestro_skills", "interact_with_tool_server"):
        source = textwrap.dedent(ast.get_source_segment(text, find_function(tree, name)))
        exec(compile(source, f"release:{name}", "exec"), env)
        methods[name] = env[name]
    loop = type("ReleaseLoop", (), methods)()
    loop.agent_config = types.SimpleNamespace(tool_server_url="http://unused")
    return loop, env["MAX_OBS_LENGTH"]


CALLS = []


def record_skill_task(task_data):
    """Stands in for request_skill_task: records the call, answers with the skill's input."""
    _, model, skill, skill_input = task_data[:4]
    CALLS.append([model, skill, skill_input])
    return 0, skill_input, 0.0


def run_actions(actions):
    loop, _ = agent_loop()
    orchestrator.request_skill_task = record_skill_task
    logging.disable(logging.CRITICAL)
    out = []
    for action in actions:
        CALLS.clear()
        info = asyncio.run(loop.interact_with_tool_server("t", action, True))
        call = CALLS[0] if CALLS else None
        out.append({"obs": info["obs"], "valid": info["valid_action"], "call": call})
    return out


def main():
    request = json.load(sys.stdin)
    answer = {
        "models": [orchestrator.check_llm_name(m)[0] for m in request.get("models", [])],
        "skills": [orchestrator.check_skill_name(s) for s in request.get("skills", [])],
        "actions": run_actions(request.get("actions", [])),
        "facts": {
            "aliases": alias_table(),
            "factory": factory_names(),
            "maxObsLength": agent_loop()[1],
        },
    }
    json.dump(answer, sys.stdout)


main()
