"""The settings a ``jimu`` command runs with, read once from the environment."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from gateway.settings import Settings, SettingsError

err = Console(stderr=True)


def command_settings(*, serving: bool = False) -> Settings:
    """The settings from the environment; exit 2 naming what is wrong. Only a server needs
    to be told where it runs: the other commands work on the database they are given,
    wherever that is."""
    environ = os.environ if serving else {"JIMU_ENV": "development", **os.environ}
    try:
        return Settings.from_env(environ)
    except SettingsError as exc:
        err.print(f"[red]settings:[/red] {exc}")
        raise typer.Exit(2) from exc
