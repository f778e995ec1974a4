"""The wheel carries the templates: ``pip install .`` then ``amigrate init`` works."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("generic", "pyproject", "async", "multidb")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("amigrate-*.whl")
    return path


@pytest.mark.slow
def test_wheel_contains_the_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in TEMPLATES:
        assert f"amigrate/templates/{template}/README" in names
    assert "amigrate/templates/generic/script.py.mako" in names
    assert not any(name.startswith("templates/") for name in names)


@pytest.mark.slow
def test_installed_wheel_inits_every_template(wheel: Path, tmp_path: Path) -> None:
    # A venv that sees this interpreter's packages (click, SQLAlchemy...), so the
    # dependencies need no network: a .pth line adds their folders after the venv's own.
    # (system_site_packages would show the *base* Python's, which may have none of them.)
    # A folder added by a .pth line has its own .pth files ignored, so this checkout's
    # editable install stays out: amigrate itself comes from the wheel.
    env_dir = tmp_path / "v"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(own_site, "_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Without PYTHONPATH: a suite run from another checkout must not shadow the wheel.
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for template in TEMPLATES:
        project = tmp_path / template
        project.mkdir()
        proc = subprocess.run(
            [str(env_dir / "bin" / "amigrate"), "init", "proj", "-t", template],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
            env=clean_env,
        )
        assert proc.returncode == 0, proc.stderr
        assert (project / "proj" / "env.py").is_file()
        assert (project / "amigrate.ini").is_file()
        where = subprocess.run(
            [str(python), "-c", "import amigrate; print(amigrate.__file__)"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
            env=clean_env,
        ).stdout
        assert str(env_dir) in where
