"""Screens call their flows only through the bridge's flow thread (kiosk/ui/bridge.py).

A screen method may read its flow's state to render, but a method call on the
flow (``self.flow.reset()``, ``flow.scan(text)``, ``self._ensure_flow().back()``,
``self.flow.form.press(key)``) must sit in the work handed to the bridge: a
lambda or an inner function. Read from the source, so a new screen that calls
its flow on the Kivy thread fails here without a window.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI_MODULES = sorted((ROOT / "kiosk" / "ui" / "screens").glob("*.py")) + [
    ROOT / "kiosk" / "ui" / "app.py"
]


def _is_flow(node: ast.expr) -> bool:
    """``self.flow``, a local ``flow``, ``self._ensure_flow()``, or an attribute of one."""
    if isinstance(node, ast.Name):
        return node.id == "flow"
    if isinstance(node, ast.Call):
        f = node.func
        return isinstance(f, ast.Attribute) and f.attr == "_ensure_flow"
    if isinstance(node, ast.Attribute):
        if node.attr == "flow" and isinstance(node.value, ast.Name) and node.value.id == "self":
            return True
        return _is_flow(node.value)
    return False


def flow_calls_on_ui_thread(source: str, name: str = "<src>") -> list[str]:
    """Calls on a flow made directly in a method body (not in a lambda or inner function)."""
    found: list[str] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.Lambda)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                # A method of a class is the UI thread; a function inside a method is
                # work (or a callback) handed to the bridge.
                inner = nested or not isinstance(node, ast.ClassDef)
                visit(child, inner)
                continue
            if (
                not inner
                and isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and _is_flow(child.func.value)
                and not (isinstance(child.func.value, ast.Name) and child.func.attr == "__init__")
            ):
                found.append(f"{name}:{child.lineno}: {ast.unparse(child)}")
            visit(child, inner)

    visit(ast.parse(source), False)
    return found


def test_screens_call_flows_only_on_the_flow_thread() -> None:
    assert len(UI_MODULES) > 5, UI_MODULES
    found = [
        hit
        for path in UI_MODULES
        for hit in flow_calls_on_ui_thread(path.read_text(), path.relative_to(ROOT).as_posix())
    ]
    assert found == [], "flow calls on the Kivy thread (route them through the bridge):\n" + (
        "\n".join(found)
    )


def test_the_check_catches_a_direct_call() -> None:
    source = """
class S:
    def reset(self):
        self.flow.reset()
        self.call_flow(lambda f: f.reset())

    def key(self, k):
        flow = self._ensure_flow()
        flow.form.press(k)

    def back(self):
        self._ensure_flow().back()

    def finish(self):
        def work():
            self.flow.finish()
        self.kapp.bridge.run(work)
"""
    assert [hit.split(": ", 1)[1] for hit in flow_calls_on_ui_thread(source)] == [
        "self.flow.reset()",
        "flow.form.press(k)",
        "self._ensure_flow().back()",
    ]
