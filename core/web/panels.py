"""Panels: a page of a lower slice shows parts that higher slices render (web kit).

A page declares a *slot* (``"incident_file"``) and asks :func:`render` for the panels registered
there; a higher slice lists its :class:`Panel` in its manifest (``Slice.panels``), which the app
factory registers with :func:`register`. The lower slice thus never imports the higher one: the
incident file shows the playbook runs of an incident without ``incidents`` knowing playbooks.

A panel is a callable ``(subject, actor) → Markup | None`` (``None``: nothing to show this
actor), called while the page renders, in the request's unit of work. Templates call
``panels(slot, subject, actor)`` (a Jinja global).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from markupsafe import Markup

from core.identity.authz import Actor

EXTENSION = "vigie.panels"
INCIDENT_FILE = "incident_file"  # the incident file of CERT staff; subject: the Incident

Render = Callable[[Any, Actor], Markup | None]


@dataclass(frozen=True)
class Panel:
    slot: str
    render: Render
    order: int = 100  # lower first, among the panels of one slot


def register(app: Flask, panel: Panel) -> None:
    slots: dict[str, list[Panel]] = app.extensions.setdefault(EXTENSION, {})
    slots.setdefault(panel.slot, []).append(panel)
    slots[panel.slot].sort(key=lambda p: p.order)


def render(slot: str, subject: object, actor: Actor) -> list[Markup]:
    """The HTML of every panel of ``slot`` for ``subject`` and ``actor``, in order."""
    slots: dict[str, list[Panel]] = current_app.extensions.get(EXTENSION, {})
    shown = (panel.render(subject, actor) for panel in slots.get(slot, ()))
    return [html for html in shown if html]


def init_app(app: Flask) -> None:
    app.extensions.setdefault(EXTENSION, {})
    app.jinja_env.globals["panels"] = render
