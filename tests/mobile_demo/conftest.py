"""Fixtures for the mobile demo tests: the shared real export embedded into temp folders, tool checks."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from export.embed import embed
from tests.conftest import ROOT, require

ANDROID = ROOT / "mobile_demo" / "android"
WEB = ROOT / "mobile_demo" / "web"
CORE_MAIN = "org.mnistdeploy.demo.core.Cli"
MAVEN_BUILD = ANDROID / "build" / "maven"   # pom.xml's build directory
ROBOLECTRIC = ANDROID / "build" / "robolectric"  # check.sh test's Robolectric inputs and the app's results
CHROMIUM = Path("/usr/bin/chromium")


@dataclasses.dataclass(frozen=True)
class Embedded:
    names: list[str]
    assets: Path       # what the Android app gets
    models: Path       # what the web demo gets
    source: Path       # the export's manifest.json

    def manifest(self, folder: Path) -> dict:
        return json.loads((folder / "manifest.json").read_text())


@pytest.fixture(scope="session")
def embedded(few_artifacts, tmp_path_factory) -> Embedded:
    """The default embed (as `python -m export --embed` does), into temp folders."""
    root = tmp_path_factory.mktemp("embedded")
    names = embed(few_artifacts, root / "assets", None, root / "models")
    return Embedded(names, root / "assets", root / "models", few_artifacts)


@pytest.fixture(scope="session")
def jvm_run(embedded) -> subprocess.CompletedProcess:
    """`check.sh test` once on the embedded assets: Maven Surefire runs the JUnit suite (the core, the
    app's OnnxRunner + Verifier on every embedded .onnx, then the real MainActivity under Robolectric)
    and writes the classpath Cli runs with."""
    require(shutil.which("javac") is not None and shutil.which("java") is not None,
            "javac/java (JDK 17) not installed")
    require(shutil.which("mvn") is not None, "mvn (Maven) not installed")
    require(shutil.which("aapt2") is not None, "aapt2 not installed (apt-get install aapt)")
    return subprocess.run(["bash", str(ANDROID / "check.sh"), "test", str(embedded.assets)], capture_output=True,
                          text=True, timeout=900, check=False)


@pytest.fixture(scope="session")
def java_cli(jvm_run):
    """Run the app core's Cli (a test class; compiled by `check.sh test`) and parse its JSON output."""
    assert jvm_run.returncode == 0, jvm_run.stdout[-3000:] + jvm_run.stderr[-3000:]
    classpath = ":".join([str(MAVEN_BUILD / "classes"), str(MAVEN_BUILD / "test-classes"),
                          (MAVEN_BUILD / "classpath.txt").read_text().strip()])

    def call(*args: str, stdin: str | None = None) -> object:
        done = subprocess.run(["java", "-cp", classpath, CORE_MAIN, *args], input=stdin,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return call


@pytest.fixture(scope="session")
def web_tools() -> None:
    require(shutil.which("node") is not None, "node is not installed")
    require(CHROMIUM.is_file(), f"{CHROMIUM} missing: apt-get install chromium")
    for pkg in ("playwright-core", "onnxruntime-web"):
        require((WEB / "node_modules" / pkg / "package.json").is_file(),
                f"{pkg} missing: run `npm ci --prefix mobile_demo/web`")


def node_core(function: str, payload: object) -> object:
    """Call an export of mobile_demo/web/core.js in node with JSON in and out."""
    script = (f"import * as core from {json.dumps((WEB / 'core.js').as_uri())};"
              "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const a=JSON.parse(s);"
              f"const r=a.map(x=>core.{function}(...x));"
              "process.stdout.write(JSON.stringify(r,(k,v)=>ArrayBuffer.isView(v)?Array.from(v):v));});")
    done = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def write_pgm(path: Path, gray: np.ndarray) -> Path:
    """Binary 8-bit PGM (P5), what the Java Cli reads."""
    gray = np.asarray(gray, dtype=np.uint8)
    path.write_bytes(f"P5 {gray.shape[1]} {gray.shape[0]} 255\n".encode() + gray.tobytes())
    return path
