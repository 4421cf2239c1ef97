"""The browser-side files the Solara page needs, taken from the npm registry once and kept locally.

Solara's page loads its JavaScript and CSS (the Vuetify app, RequireJS, Font Awesome) through the
server's ``/_solara/cdn/`` proxy, which serves them from a cache folder
(``solara.server.settings.assets.proxy_cache_dir``, inside the virtual environment) and fills missing
ones from a public CDN.  Where that CDN cannot be reached the page stays blank.  This module fills the
cache from the npm registry instead, with ``npm pack`` (the same packages, the same versions, unpacked
in the CDN's ``<package>@<version>/`` layout), so the viewer works on a machine that reaches only the
package registries.  ``lcsim viz`` calls :func:`ensure_assets` before it starts the server; the browser
test setup runs ``python -m experiments.viz.assets``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
from pathlib import Path

#: ``{{cdn}}/<package>@<x.y.z>/`` in Solara's page template.
_CDN_REFERENCE = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.+-]*)/")
#: ``/<package>@<x.y.z>/`` at the start of a path below the CDN.
_PATH_REFERENCE = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.+-]*)/")


class AssetError(Exception):
    """The assets could not be fetched (no npm, no registry, a broken package)."""


def cache_dir() -> Path:
    """Solara's proxy cache folder (where the server looks first)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def required_packages() -> list[str]:
    """``package@version`` of every package the page needs with the installed Solara and ipyvue."""
    import ipyvue
    import solara.server
    from solara.server import settings

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    found = _CDN_REFERENCE.findall(template.read_text(encoding="utf-8"))
    vue3 = ipyvue.__version__.startswith("3")  # as solara.server.server decides
    skip = "@widgetti/solara-vuetify-app@" if vue3 else "@widgetti/solara-vuetify3-app@"
    packages = [name for name in found if not name.startswith(skip)]
    if settings.assets.fontawesome_enabled:
        match = _PATH_REFERENCE.match(settings.assets.fontawesome_path)
        if match:
            packages.append(match.group(1))
    return list(dict.fromkeys(packages))


def missing_packages(cache: Path | None = None) -> list[str]:
    """Required packages with no folder in the cache yet."""
    cache = cache_dir() if cache is None else Path(cache)
    return [name for name in required_packages() if not (cache / name).is_dir()]


def _unpack(tgz: Path, target: Path) -> None:
    """Unpack an npm tarball (files under ``package/``) into ``target``, which appears all at once."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with tarfile.open(tgz, "r:gz") as archive:
            members = []
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if len(parts) < 2 or not (member.isfile() or member.isdir()):
                    continue
                member.name = str(Path(*parts[1:]))  # strip the top folder ('package/')
                members.append(member)
            archive.extractall(staging, members=members, filter="data")
        if target.exists():  # someone else was faster
            shutil.rmtree(staging, ignore_errors=True)
            return
        os.rename(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def fetch(packages: list[str], cache: Path | None = None, npm: str | None = None) -> None:
    """``npm pack`` each package into a temporary folder and unpack it into the cache."""
    cache = cache_dir() if cache is None else Path(cache)
    npm = npm or shutil.which("npm")
    if npm is None:
        raise AssetError("npm is not installed (Debian: apt-get install npm); the page's JavaScript cannot be "
                         "fetched from the npm registry")
    with tempfile.TemporaryDirectory(prefix="lcsim-viz-assets-") as tmp:
        for name in packages:
            try:
                done = subprocess.run(
                    [npm, "pack", name, "--pack-destination", tmp, "--silent"],
                    cwd=tmp, capture_output=True, text=True, timeout=300, check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise AssetError(f"npm pack {name}: {exc}") from None
            if done.returncode != 0:
                raise AssetError(f"npm pack {name} failed (exit {done.returncode}): "
                                 f"{(done.stderr or done.stdout).strip()[-500:]}")
            tarballs = sorted(Path(tmp).glob("*.tgz"))
            if not tarballs:
                raise AssetError(f"npm pack {name}: no tarball written")
            _unpack(tarballs[0], cache / name)
            for tarball in tarballs:
                tarball.unlink()


def ensure_assets(cache: Path | None = None, say=lambda text: None) -> list[str]:
    """Fetch the required packages that are not in the cache yet; returns the ones fetched."""
    cache = cache_dir() if cache is None else Path(cache)
    missing = missing_packages(cache)
    if missing:
        say(f"fetching the viewer page's scripts from the npm registry (once): {', '.join(missing)}")
        fetch(missing, cache)
    return missing


def main() -> int:
    """``python -m experiments.viz.assets``: fill the cache; exit 1 with a message when that fails."""
    try:
        fetched = ensure_assets(say=lambda text: print(text, file=sys.stderr))
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"viewer assets in {cache_dir()}: {', '.join(required_packages())}"
          + (f" (fetched {len(fetched)})" if fetched else " (all present)"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
