"""Managing vigilance centres (kernel, Flask-free; admins; every change audited): create and
update a centre and its constituency, add and remove members, standing duty, the rota's
shifts. ``cert centres …`` and the admin pages call these. Reading is
:mod:`core.auth.centres`."""

from __future__ import annotations
