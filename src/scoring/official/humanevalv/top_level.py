"""Keeps what HumanEval-V's post-processing keeps of a candidate program (maestro-eval).

Reads Python source on stdin and writes JSON {"ok": true, "code": ...}: every import
statement found anywhere in the tree (one line per imported name), and every function or
class definition that is not inside another function or class definition, unparsed, in the
order a depth-first walk meets them, joined by newlines. Top-level statements (calls, prints,
exits) are dropped. Source that does not parse gives {"ok": false}.
"""

import ast
import json
import sys


def _import_lines(node):
    if isinstance(node, ast.Import):
        return ["import " + a.name + (" as " + a.asname if a.asname else "") for a in node.names]
    module = node.module or ""
    return ["from " + module + " import " + a.name + (" as " + a.asname if a.asname else "") for a in node.names]


def _walk(node, inside_def, out):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            out.extend(_import_lines(child))
            _walk(child, inside_def, out)
        elif isinstance(child, (ast.FunctionDef, ast.ClassDef)):
            if not inside_def:
                out.append(ast.unparse(child))
            _walk(child, True, out)
        else:
            _walk(child, inside_def, out)


def main():
    source = sys.stdin.read()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        json.dump({"ok": False}, sys.stdout)
        return
    out = []
    _walk(tree, False, out)
    json.dump({"ok": True, "code": "\n".join(out)}, sys.stdout)


if __name__ == "__main__":
    main()
