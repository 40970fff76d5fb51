"""scripts/ensure-system.sh, which `make run` and `make test` call before the steps that need
Debian packages: installs only what is missing, as root; without root it stops and prints the
one command to run. Driven with stand-ins for dpkg-query, id, sudo and apt-get on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from demosites.core.config import ROOT

SCRIPT = ROOT / "scripts" / "ensure-system.sh"


def fake_machine(tmp_path: Path, *, uid: int, installed: set[str], sudo_works: bool) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    scripts = {
        "id": f"#!/bin/sh\necho {uid}\n",
        "dpkg-query": "#!/bin/sh\n"
        + "".join(
            f'[ "$3" = "{p}" ] && {{ printf "install ok installed"; exit 0; }}\n' for p in installed
        )
        + "exit 1\n",
        "apt-get": f'#!/bin/sh\necho "$*" >> {log}\n',
        "sudo": '#!/bin/sh\n[ "$1" = "-n" ] && shift\n'
        + ('[ "$1" = "true" ] && exit 0\nexec "$@"\n' if sudo_works else "exit 1\n"),
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    return bin_dir


def run(bin_dir: Path, *groups: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    return subprocess.run(
        ["bash", str(SCRIPT), *groups], env=env, capture_output=True, text=True, timeout=60
    )


def apt_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "apt.log"
    return log.read_text().splitlines() if log.exists() else []


def test_as_root_it_installs_exactly_the_missing_packages_for_pdfs(tmp_path: Path) -> None:
    bin_dir = fake_machine(
        tmp_path, uid=0, installed={"fontconfig", "libpango-1.0-0", "libpangoft2-1.0-0"},
        sudo_works=False,
    )  # fmt: skip
    done = run(bin_dir, "pdf")
    assert done.returncode == 0, done.stderr
    calls = apt_calls(tmp_path)
    assert calls[-1].split() == ["install", "-y", "-qq", "fonts-noto-cjk", "libharfbuzz-subset0"]


def test_the_test_and_browser_groups_add_poppler_and_chromium(tmp_path: Path) -> None:
    bin_dir = fake_machine(tmp_path, uid=0, installed=set(), sudo_works=False)
    assert run(bin_dir, "test", "browser").returncode == 0
    installed = set(apt_calls(tmp_path)[-1].split()[3:])
    assert {"poppler-utils", "chromium", "fonts-noto-cjk", "libharfbuzz-subset0"} <= installed


def test_nothing_is_installed_when_nothing_is_missing(tmp_path: Path) -> None:
    everything = {"fonts-noto-cjk", "libharfbuzz-subset0", "fontconfig", "libpango-1.0-0",
                  "libpangoft2-1.0-0", "poppler-utils"}  # fmt: skip
    bin_dir = fake_machine(tmp_path, uid=1000, installed=everything, sudo_works=False)
    done = run(bin_dir, "test")
    assert done.returncode == 0 and apt_calls(tmp_path) == [], done.stderr


def test_without_root_or_sudo_it_stops_and_prints_the_command_to_run(tmp_path: Path) -> None:
    bin_dir = fake_machine(tmp_path, uid=1000, installed=set(), sudo_works=False)
    done = run(bin_dir, "pdf")
    assert done.returncode != 0
    assert apt_calls(tmp_path) == []
    assert "needs root" in done.stderr
    command = done.stderr.split("sudo apt-get install -y ", 1)[1].split()
    assert {"fonts-noto-cjk", "libharfbuzz-subset0"} <= set(command), done.stderr


def test_with_a_password_less_sudo_it_installs_through_sudo(tmp_path: Path) -> None:
    bin_dir = fake_machine(tmp_path, uid=1000, installed=set(), sudo_works=True)
    done = run(bin_dir, "browser")
    assert done.returncode == 0, done.stderr
    assert apt_calls(tmp_path)[-1].split()[3:] == ["chromium", "fonts-noto-cjk"]
