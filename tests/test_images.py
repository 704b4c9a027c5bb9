"""Container images as targets: real images built with umoci and exported with skopeo to a
`docker save` tarball, an OCI layout and an oci-archive; each audited the same way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from tests import imagebuild as ib
from tests.conftest import run_cli

SECRET_VALUE = "s3cr3t-Zq8vX2mL7pR4tK9w"
HISTORY_PASSWORD = "hunter2-Qm4nB7xW2kL9"
IMAGE_RULES = {"PRM008", "PRM009", "PRM010", "SEC005", "SEC006", "SEC007", "SEC008"}


def _insecure_layers():
    def base(root: Path) -> None:
        ib.base_system(root)
        ib.write(root, "app/app.py", ib.FLASK_APP, 0o644, owner=1000)
        ib.write(root, "app/.env", f"SECRET_KEY={SECRET_VALUE}\n", 0o644, owner=1000)
        helper = root / "usr/local/bin/helper"
        helper.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy("/bin/true", helper)
        os.chmod(helper, 0o4755)  # a setuid copy of a binary no base image ships

    def add_key(root: Path) -> None:
        ib.write(root, "root/.ssh/id_rsa", ib.PRIVATE_KEY, 0o600)

    def delete_key(root: Path) -> None:
        (root / "root/.ssh/id_rsa").unlink()

    return [base, add_key, delete_key]


def _hardened_layers():
    def base(root: Path) -> None:
        ib.base_system(root)
        ib.write(root, "app/app.py", ib.FLASK_APP, 0o644)
        ib.write(root, "app/.env.example", "SECRET_KEY=changeme\n", 0o644)
        os.chmod(root / "app", 0o755)

    return [base]


@pytest.fixture(scope="module")
def insecure(tmp_path_factory) -> ib.Exports:
    return ib.build(
        tmp_path_factory.mktemp("insecure"),
        _insecure_layers(),
        env=(f"SECRET_KEY={SECRET_VALUE}", "FLASK_APP=app.py", "PATH=/usr/local/bin:/usr/bin"),
        cmd=("flask", "run", "--debug"),
        workingdir="/app",
        history=(
            "COPY . /app",
            f"RUN |1 DB_PASSWORD={HISTORY_PASSWORD} /bin/sh -c cp key /root/.ssh/id_rsa",
            "RUN /bin/sh -c rm /root/.ssh/id_rsa",
        ),
    )


@pytest.fixture(scope="module")
def hardened(tmp_path_factory) -> ib.Exports:
    return ib.build(
        tmp_path_factory.mktemp("hardened"),
        _hardened_layers(),
        user="app",
        env=("FLASK_APP=app.py", "PATH=/usr/local/bin:/usr/bin"),
        cmd=("gunicorn", "--bind", "0.0.0.0:8000", "app:app"),
        workingdir="/app",
        history=("COPY . /app",),
    )


def _audit(target: str, *extra: str):
    run = run_cli("audit", target, "--format", "json", "--only", "permissions,secrets", *extra)
    assert run.code in (0, 1), run.stderr
    return run.json()


def _fails(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        if f["status"] == "fail":
            out.setdefault(f["rule_id"], []).append(f)
    return out


def test_each_export_is_a_valid_image(insecure):
    inspected = ib.inspect(insecure)
    assert set(inspected) == set(ib.FORMATS)
    for fmt, info in inspected.items():
        assert len(info["Layers"]) == 3, fmt
        assert f"SECRET_KEY={SECRET_VALUE}" in info["Env"], fmt


@pytest.mark.parametrize("fmt", ib.FORMATS)
def test_insecure_image_yields_each_finding(insecure, fmt):
    report = _audit(insecure.targets()[fmt])
    fails = _fails(report)
    assert report["run"]["inventory"]["source"] == "image"
    assert "PRM008" in fails  # no User: root
    assert [f["location"]["setting"] for f in fails["SEC005"]] == ["Env.SECRET_KEY"]
    assert any(f["location"]["line"] == 2 for f in fails["SEC006"])  # the ARG in step 2
    removed = fails["SEC007"]
    assert [f["location"]["path"] for f in removed] == ["root/.ssh/id_rsa"]
    assert "layer 2 added and layer 3 deleted" in removed[0]["message"]
    paths = {r: {f["location"]["path"] for f in fs} for r, fs in fails.items()}
    assert "app/.env" in paths["PRM002"]  # world-readable secret file
    assert "app/.env" in paths["SEC008"]  # ships in the image
    assert paths["PRM003"] == {"usr/local/bin/helper"}  # not the base image's usr/bin/su
    assert "root/.ssh/id_rsa" not in paths.get("SEC001", set())  # deleted: not in the final tree
    text = json.dumps(report)
    assert SECRET_VALUE not in text and HISTORY_PASSWORD not in text


def test_insecure_image_start_command_feeds_the_service_model(insecure):
    run = run_cli(
        "audit", insecure.targets()["oci-layout"], "--format", "json", "--only", "permissions"
    )
    fails = _fails(run.json())
    assert any("--debug" in f["message"] or "debug" in f["message"] for f in fails["APP001"])
    assert any("flask run" in f["message"] for f in fails["APP005"])


def test_run_user_can_rewrite_the_app(tmp_path):
    exports = ib.build(
        tmp_path,
        [
            lambda root: (
                ib.base_system(root),
                ib.write(root, "app/app.py", ib.FLASK_APP, 0o644, owner=1000),
            )
        ],
        user="app",
        cmd=("gunicorn", "app:app"),
        workingdir="/app",
    )
    if os.geteuid() != 0:
        pytest.skip("files owned by uid 1000 need root to create")
    fails = _fails(_audit(exports.targets()["oci-layout"]))
    assert "PRM008" not in fails
    assert [f["location"]["path"] for f in fails["PRM009"]] == ["app"]


@pytest.mark.parametrize("fmt", ib.FORMATS)
def test_hardened_image_has_none(hardened, fmt):
    report = _audit(hardened.targets()[fmt])
    fails = _fails(report)
    assert not (set(fails) & (IMAGE_RULES | {"PRM001", "PRM002", "PRM003", "SEC001", "SEC003"})), (
        fails
    )
    passed = {f["rule_id"] for f in report["findings"] if f["status"] == "pass"}
    # each rule looked and passed: the image's config, its layers, the app directory
    assert {
        "PRM001",
        "PRM003",
        "PRM008",
        "PRM009",
        "PRM010",
        "SEC005",
        "SEC006",
        "SEC007",
        "SEC008",
    } <= passed


def _digest_tree(root: Path) -> dict[str, tuple[int, str]]:
    import hashlib

    return {
        str(p.relative_to(root)): (p.stat().st_mode, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _peak_rss_of(argv: list[str], env: dict) -> tuple[subprocess.CompletedProcess, int, float]:
    """Run `argv` in a fresh process; its peak resident memory (bytes) and wall time."""
    probe = (
        "import resource, subprocess, sys, json;"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024;"
        "print(json.dumps([p.returncode, p.stdout, p.stderr, r]))"
    )
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=300
    )
    code, stdout, stderr, rss = json.loads(out.stdout)
    return subprocess.CompletedProcess(argv, code, stdout, stderr), rss, time.monotonic() - t0


def test_hostile_image_is_reported_bounded_and_writes_nothing_outside(tmp_path):
    escape = f"hardcheck-escape-{uuid.uuid4().hex}"
    climb = "../" * 12 + f"tmp/{escape}"
    hostile = ib.tar_of(
        [
            ib.member("app/", tarfile.DIRTYPE, mode=0o755),
            ib.member("app/app.py", data=b"print('hello')\n"),
            ib.member(climb, data=b"escaped\n"),  # ../../etc/passwd
            ib.member(f"/tmp/{escape}-abs", data=b"escaped\n"),  # an absolute name
            ib.member("evil", tarfile.SYMTYPE, link="/tmp"),  # a symlink, then a file through it
            ib.member(f"evil/{escape}-via-link", data=b"escaped\n"),
            ib.member("shadow", tarfile.LNKTYPE, link="/etc/shadow"),  # a hard link out
            ib.member("passwd-link", tarfile.LNKTYPE, link="../../etc/passwd"),
        ]
    )
    layout = ib.write_layout(
        tmp_path / "hostile",
        [
            hostile,
            ib.sparse_layer(tmp_path, 1 << 30),  # a 1 GB file of which nothing is stored
            ib.gzip_bomb_layer(1 << 30),  # 1 GB of zeros, about a megabyte compressed
            ib.tar_of([ib.member("app/after.py", data=b"x = 1\n")]),
        ],
        {"User": "app", "WorkingDir": "/app", "Cmd": ["python", "app/app.py"]},
    )
    _, skopeo = ib.tools()
    subprocess.run(
        [str(skopeo), "inspect", f"oci:{layout}:{ib.TAG}"], check=True, capture_output=True
    )
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    before = _digest_tree(layout)
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    argv = [
        sys.executable,
        "-m",
        "hardcheck",
        "audit",
        str(layout),
        "-f",
        "json",
        "--only",
        "permissions,secrets",
    ]
    proc, rss, seconds = _peak_rss_of(argv, env)
    assert proc.returncode == 1, proc.stderr  # findings (exit 1 outranks "incomplete", 3)
    report = json.loads(proc.stdout)
    unsafe = [f for f in report["findings"] if f["rule_id"] == "PRM010" and f["status"] == "fail"]
    whys = " | ".join(f["message"] for f in unsafe)
    assert "climbs out of the root" in whys
    assert "an absolute path" in whys
    assert "written through the symlink evil" in whys
    assert "hard link to the absolute path /etc/shadow" in whys
    assert "hard link out of the root" in whys
    errors = [f for f in report["findings"] if f["status"] == "error"]
    assert any("layer 3" in f["message"] and "decompression bomb" in f["message"] for f in errors)
    assert report["summary"]["complete"] is False  # the run says it did not read everything
    assert rss < 200 << 20, f"peak RSS {rss >> 20} MiB"
    assert seconds < 120
    assert list(private_tmp.iterdir()) == []  # the private copies are gone
    assert _digest_tree(layout) == before  # the image is never modified
    assert not list(Path("/tmp").glob(f"{escape}*"))
    assert not Path("/etc/cron.d", escape).exists()


def test_layers_after_a_bad_one_are_still_applied(tmp_path):
    truncated = ib.tar_of([ib.member("app/big.py", data=b"x = 1\n" * 5000)])[:3000]
    layout = ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of(
                [
                    ib.member("app/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/a.py", data=b"a = 1\n"),
                ]
            ),
            truncated,
            ib.tar_of([ib.member("app/later.env", data=b"API_TOKEN=Zk4mQ9xV2bN7wL3p\n")]),
        ],
        {"User": "app", "WorkingDir": "/app"},
    )
    run = run_cli("audit", str(layout), "-f", "json", "--only", "permissions,secrets")
    assert run.code == 1, run.stderr
    report = run.json()
    errors = [f["message"] for f in report["findings"] if f["status"] == "error"]
    assert any("layer 2" in m and "truncated or corrupt" in m for m in errors), errors
    paths = {f["location"]["path"] for f in report["findings"] if f["status"] == "fail"}
    assert "app/later.env" in paths  # layer 3 was applied and audited


def test_opaque_whiteout_empties_the_directory_of_lower_layers(tmp_path):
    layout = ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of(
                [
                    ib.member("app/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/old.py", data=b"x = 1\n"),
                    ib.member("app/conf/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/conf/prod.env", data=b"DB_PASSWORD=Rt5vW8nQ2mZ7kX4p\n"),
                ]
            ),
            ib.tar_of(
                [
                    ib.member("app/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/.wh..wh..opq", data=b""),
                    ib.member("app/new.py", data=b"y = 2\n"),
                ]
            ),
        ],
        {"User": "1000", "WorkingDir": "/app", "Cmd": ["python", "new.py"]},
    )
    report = run_cli("audit", str(layout), "-f", "json", "--only", "secrets").json()
    fails = _fails(report)
    assert [f["location"]["path"] for f in fails["SEC007"]] == ["app/conf/prod.env"]
    assert "SEC001" not in fails and "SEC008" not in fails  # not in the final filesystem
    assert report["run"]["inventory"]["files"] == 1  # app/new.py


def test_start_files_copied_into_an_image_do_not_start_it(tmp_path):
    compose = (
        b"services:\n  web:\n    build: .\n    command: python manage.py runserver 0.0.0.0:8000\n"
    )
    layout = ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of(
                [
                    ib.member("app/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/docker-compose.yml", data=compose),
                    ib.member("app/Procfile", data=b"web: flask run --debug\n"),
                    ib.member("app/app.py", data=ib.FLASK_APP.encode()),
                ]
            )
        ],
        {"User": "1000", "WorkingDir": "/app", "Cmd": ["gunicorn", "app:app"]},
    )
    report = run_cli("audit", str(layout), "-f", "json", "--only", "permissions").json()
    fails = _fails(report)
    assert "APP005" not in fails and "APP001" not in fails, fails
    passed = {f["rule_id"] for f in report["findings"] if f["status"] == "pass"}
    assert "APP005" in passed  # it looked: at the image config's gunicorn


def test_a_file_that_is_not_an_image_is_a_usage_error(tmp_path):
    plain = tmp_path / "notes.tar"
    with tarfile.open(plain, "w") as tf:
        info = tarfile.TarInfo("notes.txt")
        tf.addfile(info, None)
    run = run_cli("audit", f"oci-archive:{plain}")
    assert run.code == 2 and "is not an image in oci-archive format" in run.stderr
    run = run_cli("audit", str(plain))
    assert run.code == 2 and "cannot audit" in run.stderr


def test_an_image_report_in_every_format_validates_and_leaks_nothing(insecure, tmp_path):
    from jsonschema import Draft202012Validator, validators

    formats = (
        "json",
        "sarif",
        "junit",
        "markdown",
        "openmetrics",
        "html",
        "codequality",
        "gitlab-sast",
    )
    args = [a for fmt in formats for a in ("-f", f"{fmt}:{tmp_path / fmt}")]
    run = run_cli(
        "audit", insecure.targets()["docker-archive"], "--only", "permissions,secrets", *args
    )
    assert run.code == 1, run.stderr
    report = json.loads((tmp_path / "json").read_text())
    schema = json.loads((Path(__file__).parents[1] / "hardcheck/report/schema.json").read_text())
    validator = validators.validator_for(schema, default=Draft202012Validator)
    assert not list(validator(schema).iter_errors(report))
    sarif = json.loads((tmp_path / "sarif").read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result.get("locations", [])
    }
    assert "app/.env" in uris
    for fmt in formats:
        text = (tmp_path / fmt).read_text()
        assert SECRET_VALUE not in text and HISTORY_PASSWORD not in text, fmt


def _small_image(tmp_path: Path) -> Path:
    return ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of(
                [
                    ib.member("app/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/app.py", data=b"x = 1\n"),
                    ib.member("app/fixtures/", tarfile.DIRTYPE, mode=0o755),
                    ib.member("app/fixtures/prod.env", data=b"API_TOKEN=Wm3kR8vQ5nZ2xB7p\n"),
                ]
            )
        ],
        {"User": "1000", "WorkingDir": "/app"},
    )


def test_an_image_is_narrowed_by_the_config_in_the_current_directory(tmp_path):
    layout = _small_image(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    (project / "hardcheck.toml").write_text('exclude = ["app/fixtures/"]\n')
    plain = _fails(run_cli("audit", str(layout), "-f", "json", "--only", "secrets").json())
    narrowed = run_cli("audit", str(layout), "-f", "json", "--only", "secrets", cwd=project).json()
    assert "SEC008" in plain
    assert "SEC008" not in _fails(narrowed)
    assert narrowed["run"]["inventory"]["excluded"] >= 1


def test_history_option_on_an_image_is_a_skip_not_an_error(tmp_path):
    run = run_cli(
        "audit", str(_small_image(tmp_path)), "-f", "json", "--only", "secrets", "--history", "5"
    )
    items = {f["rule_id"]: f for f in run.json()["findings"] if f["rule_id"] == "SEC004"}
    assert items["SEC004"]["status"] == "skip"
    assert "no git history" in items["SEC004"]["message"]


def test_a_multi_platform_index_is_read_for_linux_amd64(tmp_path):
    layout = _small_image(tmp_path)
    index = json.loads((layout / "index.json").read_text())
    amd64 = dict(index["manifests"][0], platform={"architecture": "amd64", "os": "linux"})
    arm64 = dict(
        amd64, platform={"architecture": "arm64", "os": "linux"}, digest="sha256:" + "1" * 64
    )
    nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": [arm64, amd64]}).encode()  # fmt: skip
    import hashlib

    digest = hashlib.sha256(nested).hexdigest()
    (layout / "blobs/sha256" / digest).write_bytes(nested)
    index["manifests"] = [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{digest}",
         "size": len(nested), "annotations": {"org.opencontainers.image.ref.name": ib.TAG}}
    ]  # fmt: skip
    (layout / "index.json").write_text(json.dumps(index))
    report = run_cli("audit", f"oci:{layout}:{ib.TAG}", "-f", "json", "--only", "secrets").json()
    assert report["run"]["inventory"]["files"] == 2
    assert "lists 2 manifests; audited" in report["run"]["inventory"]["note"]
    run = run_cli("audit", f"oci:{layout}:nosuchtag")
    assert run.code == 2 and "no manifest tagged 'nosuchtag'" in run.stderr


def test_nginx_in_an_image_is_read_as_nginx_reads_it(tmp_path):
    """A package's nginx.conf (dpkg lists it) is still how the proxy behaves, and its
    absolute includes point inside the image."""
    main = b"events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n"
    site = b"server {\n  listen 80;\n  client_max_body_size 5m;\n  location / { proxy_pass http://127.0.0.1:8000; }\n}\n"
    layout = ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of(
                [
                    ib.member("etc/nginx/nginx.conf", data=main),
                    ib.member("etc/nginx/conf.d/app.conf", data=site),
                    ib.member(
                        "var/lib/dpkg/info/nginx.list",
                        data=b"/etc/nginx/nginx.conf\n/usr/sbin/nginx\n",
                    ),
                    ib.member("app/app.py", data=ib.FLASK_APP.encode()),
                ]
            )
        ],
        {
            "User": "1000",
            "WorkingDir": "/app",
            "Cmd": ["gunicorn", "-b", "127.0.0.1:8000", "app:app"],
        },
    )
    fails = _fails(run_cli("audit", str(layout), "-f", "json", "--only", "uploads").json())
    assert "nginx allows 5 MiB" in fails["UPL005"][0]["message"]  # both layers of the path seen


def test_a_secret_in_a_file_a_later_layer_replaced_is_still_found(tmp_path):
    layout = ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of([ib.member("app/prod.env", data=b"DB_PASSWORD=Lk8vR3mQ6zX2wN9p\n")]),
            ib.tar_of([ib.member("app/prod.env", data=b"DB_PASSWORD=changeme\n")]),
        ],
        {"User": "1000", "WorkingDir": "/app"},
    )
    fails = _fails(run_cli("audit", str(layout), "-f", "json", "--only", "secrets").json())
    (removed,) = fails["SEC007"]
    assert removed["location"]["path"] == "app/prod.env"
    assert "layer 1 added and layer 2 replaced" in removed["message"]
    assert "SEC001" not in fails  # the final file holds a placeholder


def test_the_python_distributions_an_image_installed_are_audited(tmp_path):
    vulndb = Path(__file__).parents[1] / "sample_configs" / "vulndb"
    metadata = b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.0\n\nYAML parser\nVersion: 9.9\n"
    site = "usr/local/lib/python3.11/site-packages"
    layout = ib.write_layout(
        tmp_path / "img",
        [
            ib.tar_of(
                [
                    ib.member(f"{site}/PyYAML-5.0.dist-info/METADATA", data=metadata),
                    ib.member(f"{site}/yaml/__init__.py", data=b"import os\nos.system('x')\n"),
                    ib.member("app/app.py", data=b"import yaml\n"),
                ]
            )
        ],
        {"User": "1000", "WorkingDir": "/app"},
    )
    run = run_cli(
        "audit", str(layout), "-f", "json", "--only", "dependencies,code", "--vuln-db", str(vulndb)
    )  # fmt: skip
    report = run.json()
    vulnerable = [
        f for f in report["findings"] if f["rule_id"] == "DEP001" and f["status"] == "fail"
    ]
    assert vulnerable, [f["message"] for f in report["findings"]]
    assert all(f["location"]["path"] == f"{site}/PyYAML-5.0.dist-info/METADATA" for f in vulnerable)
    assert "5.0" in vulnerable[0]["message"]
    # the installed library is read for its version, never audited as the service's code
    assert not [f for f in report["findings"] if f["audit"] == "code" and f["status"] == "fail"]


def test_a_docker_archive_tag_is_found_as_docker_names_it(insecure):
    for tag in ("example/app:1.0", "docker.io/example/app:1.0"):
        run = run_cli(
            "audit",
            f"docker-archive:{insecure.docker_archive}:{tag}",
            "-f",
            "json",
            "--only",
            "permissions",
        )
        assert run.code == 1, run.stderr
        assert run.json()["run"]["inventory"]["source"] == "image"
    run = run_cli("audit", f"docker-archive:{insecure.docker_archive}:example/app:2.0")
    assert run.code == 2 and "no image tagged 'example/app:2.0'" in run.stderr


def test_an_image_pass_says_what_it_looked_at(hardened):
    """PRM002 and PRM004 judge only the service's own files of an image: their pass counts
    those, not the base system's paths PRM001 and PRM003 read."""
    report = _audit(hardened.targets()["oci-layout"])
    items = {f["rule_id"]: f for f in report["findings"] if f["status"] == "pass"}
    own = report["run"]["inventory"]["content_files"]
    assert f"checked {own} application file(s)" in items["PRM002"]["message"]
    assert f"checked {report['run']['inventory']['entries']} path(s)" in items["PRM001"]["message"]
