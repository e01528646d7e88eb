"""`make run`: what the processes it starts under honcho are told, and a port already taken."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_SITE_URL = (
    f'{sys.executable} -c "import os, django; '
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'vigencia.config.settings'); django.setup(); "
    "from django.conf import settings; print('site', os.environ['PORT'], settings.SITE_URL)\"; sleep 4"
)


def test_every_process_of_make_run_links_emails_to_the_web_server_on_its_port(tmp_path):
    # given the command `make run PORT=9000` starts, with a Procfile whose three processes say which
    # address their links would name (honcho gives each one its own PORT: 9000, 9100, 9200)
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=9000"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    [start] = [line for line in dry_run.splitlines() if "honcho start" in line]
    procfile = tmp_path / "Procfile"
    procfile.write_text("".join(f"{name}: {PRINT_SITE_URL}\n" for name in ("web", "worker", "scheduler")))

    # when it runs
    output = subprocess.run(
        start.replace("-f Procfile", f"-f {procfile} -d {ROOT}"),
        shell=True,  # the Makefile's own command line
        cwd=ROOT,
        env={name: value for name, value in os.environ.items() if name not in ("PORT", "VIGENCIA_SITE_URL")},
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout

    # then each of them names the web server's address, not its own port
    said = sorted(line.split("| ", 1)[1] for line in output.splitlines() if "| site " in line)
    assert said == [
        "site 9000 http://127.0.0.1:9000",
        "site 9100 http://127.0.0.1:9000",
        "site 9200 http://127.0.0.1:9000",
    ]


def test_make_run_on_a_port_already_taken_says_so_before_it_starts_anything():
    # given something listening on a port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # when `make run` is asked to use it
        result = subprocess.run(
            ["make", "run", f"PORT={port}"], cwd=ROOT, capture_output=True, text=True, timeout=300
        )

    # then it stops at once with one line saying what to do, before migrating or starting anything
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"Port {port} on 127.0.0.1 is taken (is Vigencia already running?). "
        "Stop it, or choose another: PORT=9000 make run"
    )
    assert "Vigencia is starting" not in result.stdout
