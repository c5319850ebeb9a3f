"""PEP 517 build backend of the patron binding: setuptools, found offline.

pip builds in an isolated environment and installs the backend's
requirements into it from an index; without network that fails.  This
backend requires nothing: it uses ``setuptools.build_meta`` from wherever
the interpreter already has it (its own site-packages, or -- inside pip's
isolated environment, which hides them -- the base interpreter's, such as
Debian's python3-setuptools and python3-wheel).  If setuptools (or, for
setuptools < 70.1, the ``wheel`` package) is nowhere to be found, it writes
the wheel and the sdist itself with the standard library: the package is
pure Python, so that is a zip file with a few metadata files.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
PACKAGE = "patron"


def _base_site_dirs() -> List[str]:
    """site-packages of the interpreter outside pip's isolation / a venv."""
    dirs: List[str] = []
    try:
        import site
        dirs += site.getsitepackages()
    except Exception:
        pass
    exe = getattr(sys, "_base_executable", None) or sys.executable
    try:
        out = subprocess.run([exe, "-I", "-c", "import sys; print('\\n'.join(p for p in sys.path if p))"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        dirs += [p for p in out.splitlines() if p.endswith(("site-packages", "dist-packages"))]
    except Exception:
        pass
    return dirs


def _have(module: str) -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _setuptools() -> Optional[Any]:
    """setuptools.build_meta if it can build a wheel here, else None."""
    if os.environ.get("PATRON_BUILD_STDLIB"):
        return None
    if not _have("setuptools"):
        for d in _base_site_dirs():
            if os.path.isdir(os.path.join(d, "setuptools")) and d not in sys.path:
                sys.path.append(d)  # appended: never shadows what pip put first
        if not _have("setuptools"):
            return None
    try:
        import setuptools
        from setuptools import build_meta
    except Exception:
        return None
    version = tuple(int(x) for x in re.findall(r"\d+", setuptools.__version__)[:2])
    if version < (61, 0):
        return None  # no [project] table support
    if version < (70, 1) and not _have("wheel"):
        for d in _base_site_dirs():
            if os.path.isdir(os.path.join(d, "wheel")) and d not in sys.path:
                sys.path.append(d)
        if not _have("wheel"):
            return None
    return build_meta


# ---- the standard-library fallback ----------------------------------------------

def _project() -> Dict[str, Any]:
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib  # Python 3.11+
        return tomllib.loads(raw.decode())["project"]
    except ImportError:
        text = raw.decode()
        section = text.split("[project]", 1)[1].split("\n[", 1)[0]
        out: Dict[str, Any] = {}
        for key in ("name", "version", "description", "requires-python", "readme"):
            m = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), section, re.M)
            if m:
                out[key] = m.group(1)
        return out


def _metadata() -> str:
    p = _project()
    lines = ["Metadata-Version: 2.1", "Name: %s" % p["name"], "Version: %s" % p["version"]]
    if p.get("description"):
        lines.append("Summary: %s" % p["description"])
    if p.get("requires-python"):
        lines.append("Requires-Python: %s" % p["requires-python"])
    lines.append("License: MIT")
    for c in p.get("classifiers", []):
        lines.append("Classifier: %s" % c)
    body = ""
    readme = os.path.join(HERE, p.get("readme") or "README.md")
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _dist_info() -> str:
    p = _project()
    return "%s-%s.dist-info" % (p["name"], p["version"])


def _package_files() -> List[str]:
    out = []
    for root, _dirs, files in os.walk(os.path.join(HERE, PACKAGE)):
        for f in sorted(files):
            if f.endswith(".py") or f == "py.typed":
                out.append(os.path.relpath(os.path.join(root, f), HERE))
    return sorted(out)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def _write_wheel(wheel_directory: str, files: Dict[str, bytes]) -> str:
    p = _project()
    name = "%s-%s-py3-none-any.whl" % (p["name"], p["version"])
    di = _dist_info()
    files = dict(files)
    files[di + "/METADATA"] = _metadata().encode()
    files[di + "/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: patron_build_backend\n"
                            b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[di + "/top_level.txt"] = (PACKAGE + "\n").encode()
    record = [_record_line(k, v) for k, v in files.items()] + [di + "/RECORD,,"]
    files[di + "/RECORD"] = ("\n".join(record) + "\n").encode()
    path = os.path.join(wheel_directory, name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in files.items():
            z.writestr(zipfile.ZipInfo(k, date_time=(2020, 1, 1, 0, 0, 0)), v)
    return name


def _stdlib_wheel(wheel_directory: str) -> str:
    files = {}
    for rel in _package_files():
        with open(os.path.join(HERE, rel), "rb") as f:
            files[rel.replace(os.sep, "/")] = f.read()
    return _write_wheel(wheel_directory, files)


def _stdlib_editable(wheel_directory: str) -> str:
    return _write_wheel(wheel_directory, {"__editable__.patron.pth": (HERE + "\n").encode()})


def _stdlib_sdist(sdist_directory: str) -> str:
    p = _project()
    base = "%s-%s" % (p["name"], p["version"])
    name = base + ".tar.gz"
    members = ["pyproject.toml", "_backend/patron_build_backend.py"] + _package_files()
    if os.path.exists(os.path.join(HERE, "README.md")):
        members.append("README.md")
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for rel in members:
            t.add(os.path.join(HERE, rel), arcname=base + "/" + rel.replace(os.sep, "/"))
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name


# ---- the PEP 517 / 660 hooks ---------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Any = None) -> List[str]:
    return []  # never ask pip to download anything


def get_requires_for_build_sdist(config_settings: Any = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Any = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Any = None, metadata_directory: Optional[str] = None) -> str:
    b = _setuptools()
    if b is not None:
        return b.build_wheel(wheel_directory, config_settings, metadata_directory)
    return _stdlib_wheel(wheel_directory)


def build_sdist(sdist_directory: str, config_settings: Any = None) -> str:
    b = _setuptools()
    if b is not None:
        return b.build_sdist(sdist_directory, config_settings)
    return _stdlib_sdist(sdist_directory)


def build_editable(wheel_directory: str, config_settings: Any = None,
                   metadata_directory: Optional[str] = None) -> str:
    b = _setuptools()
    if b is not None and hasattr(b, "build_editable"):
        return b.build_editable(wheel_directory, config_settings, metadata_directory)
    return _stdlib_editable(wheel_directory)
