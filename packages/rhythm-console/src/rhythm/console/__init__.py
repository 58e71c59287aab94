"""Rhythm's web console: server-rendered pages over the Rhythm database, live over
Server-Sent Events fed by LISTEN/NOTIFY, with actions that call rhythm.client's API.

    from rhythm.console import ConsoleSettings, create_app
    app = create_app(ConsoleSettings(database_url="postgresql://..."))
"""

from rhythm.console.app import create_app
from rhythm.console.settings import ConsoleSettings

__all__ = ["ConsoleSettings", "create_app"]
