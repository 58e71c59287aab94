"""Ship the repository's migrations/ folder inside rhythm-client's sdist and wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class MigrationsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        # From the source tree the SQL lives two levels up; inside an unpacked sdist, beside us.
        for candidate in (root.parent.parent / "migrations", root / "migrations"):
            if candidate.is_dir() and any(candidate.glob("*.sql")):
                source = candidate
                break
        else:
            raise RuntimeError(f"no migrations/*.sql found near {root}")
        if self.target_name == "wheel" and version == "editable":
            return  # editable installs read the repository's migrations/ directly
        target = "migrations" if self.target_name == "sdist" else "rhythm/client/migrations"
        for sql in sorted(source.glob("*.sql")):
            build_data["force_include"][str(sql)] = f"{target}/{sql.name}"
