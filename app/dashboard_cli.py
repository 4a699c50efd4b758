"""``ecg dashboard``: start the clinician dashboard (Streamlit) on this machine.

The server is bound to localhost by default, runs headless (no browser is opened by the server),
sends no usage statistics and reads ``.streamlit/config.toml`` from the repository root; the
privacy settings are also passed as flags, so they hold from any working directory.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path

import click

from app.dashboard.uploads import MAX_UPLOAD_MB
from app.event_settings import EVENTS_ENV, EventSettingsError, read_event_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_SCRIPT = REPO_ROOT / "app" / "dashboard" / "main.py"
DEFAULT_PORT = 8501
LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1")


def find_port_in_use(address: str, port: int) -> str | None:
    """The address (of those ``address`` resolves to) where ``port`` is already taken, e.g. by a dashboard started
    before; None when the server can bind it. Streamlit itself said only "Port 8501 is not available" after this
    command had printed the address to open (a QA pass, session 53)."""
    try:
        found = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return None  # the server says what is wrong with the address
    for family, kind, protocol, _, where in found:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is free
            try:
                probe.bind(where)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return str(where[0])
    return None


def build_streamlit_command(port: int, address: str) -> list[str]:
    """The ``python -m streamlit run`` command line with the dashboard's server and privacy flags."""
    return [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_SCRIPT),
            "--server.port", str(port), "--server.address", address, "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.maxUploadSize", str(MAX_UPLOAD_MB),
            "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal",
            "--client.showErrorDetails", "none"]


@click.command("dashboard", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to serve the dashboard on.")
@click.option("--address", default="localhost", show_default=True,
              help="Address to bind; anything but localhost makes the dashboard reachable from other machines.")
@click.option("--events", "events_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Event thresholds the dashboard starts from (a file of 'ecg event-settings'), e.g. a "
                   "laboratory's own; readers can still change them in the sidebar.")
def dashboard_command(port: int, address: str, events_file: Path | None) -> None:
    """Start the clinician dashboard at http://ADDRESS:PORT (Ctrl+C stops it).

    Example: ecg dashboard --port 8502 --events lab_events.toml
    """
    if events_file is not None:
        try:
            read_event_settings(events_file)
        except EventSettingsError as error:
            raise click.BadParameter(str(error), param_hint="--events") from None
        os.environ[EVENTS_ENV] = str(events_file.resolve())  # inherited by the server
    if address not in LOCAL_ADDRESSES:
        click.echo(f"Warning: binding to {address}: the dashboard (and any uploaded record) is reachable "
                   "from other machines.", err=True)
    taken = find_port_in_use(address, port)
    if taken is not None:
        raise click.BadParameter(f"port {port} is already in use on {taken} (a dashboard started before?); stop that "
                                 "server or choose another port, e.g. --port 8502 (with make: PORT=8502 make run).",
                                 param_hint="--port")
    click.echo(f"ECG dashboard: http://{address}:{port}", err=True)
    command = build_streamlit_command(port, address)
    os.chdir(REPO_ROOT)  # streamlit reads .streamlit/config.toml from the working directory
    os.execv(command[0], command)
