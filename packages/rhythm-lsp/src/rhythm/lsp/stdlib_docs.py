"""Markdown for stdlib entries, from rhythm.core's table (the same text the checker and VM use)."""

from __future__ import annotations

from rhythm.core.stdlib import Builtin, StdObject


def builtin_markdown(builtin: Builtin) -> str:
    parts = [f"```flow\n{builtin.signature}\n```", builtin.doc]
    params = [p for p in builtin.params if p.doc]
    if params:
        parts.append("\n".join(f"- `{p.name}`: {p.doc}" for p in params))
    if builtin.example:
        parts.append(f"Example:\n```flow\n{builtin.example}\n```")
    return "\n\n".join(p for p in parts if p)


def object_markdown(obj: StdObject) -> str:
    members = ", ".join(f"`{name}`" for name in sorted(obj.members))
    parts = [f"```flow\n{obj.name}\n```", obj.doc]
    if members:
        parts.append(f"Members: {members}")
    return "\n\n".join(p for p in parts if p)


def entry_markdown(entry: Builtin | StdObject) -> str:
    return object_markdown(entry) if isinstance(entry, StdObject) else builtin_markdown(entry)
