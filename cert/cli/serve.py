"""``cert run`` (development: web + scheduler) and ``cert web`` (production server, gunicorn)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import click

from cert import schema
from cert.cli import CliContext, cli, pass_ctx
from core import logs
from core.auth import sso_config
from core.auth.sso_config import SsoSettings
from core.observability import process as metrics_process

log = logging.getLogger(__name__)


def _warn_if_not_migrated(ctx: CliContext) -> None:
    current, head = schema.current_revision(ctx.engine), schema.head_revision()
    if current != head:
        click.echo(
            f"warning: database at revision {current}, code expects {head}; run `cert db upgrade`",
            err=True,
        )
        return
    # the organisations CERT_OIDC_ROLE_MAP names exist and fit their roles (ConfigError)
    with ctx.session_factory() as session:
        sso_config.check_organisations(session, cast(SsoSettings | None, ctx.settings.get("sso")))


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-scheduler", is_flag=True, help="Serve the web UI only.")
@pass_ctx
def run(ctx: CliContext, host: str, port: int, no_scheduler: bool) -> None:
    """Development server: the web UI and, in a child process, the scheduler."""
    from werkzeug.serving import run_simple

    from cert.app import create_app

    _warn_if_not_migrated(ctx)
    app = create_app(ctx.config)
    scheduler = None
    if not no_scheduler:
        scheduler = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-c", "from cert.cli import main; main()", "scheduler"],
            env=os.environ.copy(),
        )
    click.echo(f"Vigie on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler is not None:
            scheduler.terminate()
            try:
                scheduler.wait(timeout=10)
            except subprocess.TimeoutExpired:
                scheduler.kill()


@cli.command("web")
@click.option(
    "--bind",
    default=lambda: os.environ.get("CERT_BIND", "0.0.0.0:8000"),
    show_default="CERT_BIND or 0.0.0.0:8000",
    help="Address:port to listen on.",
)
@click.option(
    "--workers",
    default=lambda: int(os.environ.get("CERT_WEB_WORKERS", "4")),
    show_default="CERT_WEB_WORKERS or 4",
    type=click.IntRange(1, 64),
)
@click.option("--timeout", default=60, show_default=True, type=int, help="Worker timeout (s).")
@pass_ctx
def web(ctx: CliContext, bind: str, workers: int, timeout: int) -> None:
    """Production web server (gunicorn). The scheduler runs separately: `cert scheduler`."""
    from gunicorn.app.base import BaseApplication

    from cert.app import create_app
    from cert.cli.gunicorn_setup import gunicorn_options
    from cert.warm import settle

    config = ctx.config  # validated once, before forking workers
    _warn_if_not_migrated(ctx)
    # /metrics: the workers' counters in files summed at each scrape (core.observability.process)
    metrics_dir, metrics_dir_made = metrics_process.prepare()
    logs.configure(config.log_format, config.log_level)  # the master's own lines, as the workers'
    log.info("metrics: the workers' counters in %s", metrics_dir)

    class VigieServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                "timeout": timeout,
                "errorlog": "-",
                "child_exit": _worker_exited,
                "on_exit": lambda _server: _metrics_done(metrics_dir, metrics_dir_made),
            }
            options.update(gunicorn_options(config))  # logs through core.logs, proxies
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app(config)
            settle()  # in each worker: long-lived objects out of the collector's sight
            return app

    VigieServer().run()


def _worker_exited(_server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit``: the dead worker's live-only metric files go."""
    metrics_process.mark_dead(worker.pid)


def _metrics_done(directory: Path, made: bool) -> None:
    """gunicorn's ``on_exit``: remove the metrics directory ``cert web`` made for itself."""
    if made:
        metrics_process.remove(directory)
