"""deploy/: the Dockerfile, the compose file and the systemd unit, checked and run.

- The Dockerfile, read line by line: what it COPYs exists and is not left
  out by its .dockerignore, its entrypoint is our command, its CMD and its
  BRIDGECHAT_ variables are ones the command knows, and its health check asks
  a route the app has.
- compose.yaml against the Compose Specification's JSON schema
  (tests/data/compose-spec.json: the schema that Docker Compose v2.40.3
  embeds, from github.com/compose-spec/compose-go, Apache-2.0), and its
  variables, services and files against ours.
- The systemd unit with `systemd-analyze verify` and its offline security
  score (ExecStart pointed at this venv's `bridgechat`, which must exist).
- Slow, where podman, podman-compose, runc and debootstrap are installed
  (.ci/run installs them): the image is built and the compose file started
  for real, and two members chat through its proxy. No registry of images
  is reachable here, so python:3.11-slim, redis, postgres and nginx are
  replaced by stand-ins built from Debian's packages (debootstrap), with a
  compose override that changes nothing but their images and the
  Dockerfile's base (`PYTHON_IMAGE`). crun cannot start containers on this
  machine's hybrid cgroups and podman's default rlimits are above the hard
  limits here, so the test runs podman with runc and lower limits
  (CONTAINERS_CONF); deploy/README.md records each failure verbatim.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bridgechat.cli import build_parser
from bridgechat.operate.options import OPTIONS
from cluster_util import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KNOWN_ENV = {o.env for o in OPTIONS} | {"BRIDGECHAT_REPORT_KEY", "BRIDGECHAT_CONFIG"}


# -- the Dockerfile ------------------------------------------------------------------------

def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += " " + line.removesuffix("\\")
        if line.endswith("\\"):
            continue
        word, _, rest = pending.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), args
    return parsed


def env_pairs(args: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(args))


def test_the_dockerfile_copies_what_exists_and_runs_our_command() -> None:
    steps = instructions(DEPLOY / "Dockerfile")
    kinds = [k for k, _ in steps]
    assert kinds[0] == "ARG" and kinds[1] == "FROM", "the base is an ARG with a default"
    arg, base = steps[0][1], steps[1][1]
    assert arg.startswith("PYTHON_IMAGE=python:3.11") and base == "${PYTHON_IMAGE}"

    allowed = [p.removeprefix("!").rstrip("/")
               for p in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
               if p.startswith("!")]
    for kind, args in steps:
        if kind == "COPY":
            *sources, _dest = args.split()
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: no such file in the build context"
                assert src.rstrip("/") in allowed, f"COPY {src} is excluded by the .dockerignore"
    installed = [a for k, a in steps if k == "RUN" and "pip install" in a]
    assert installed and "[redis,postgres]" in installed[0]

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    [entry] = [exec_form(a) for k, a in steps if k == "ENTRYPOINT"]
    assert entry == ["bridgechat"] and "bridgechat" in scripts
    [cmd] = [exec_form(a) for k, a in steps if k == "CMD"]
    build_parser().parse_args(cmd)  # exits (SystemExit) on an unknown command or flag

    env: dict[str, str] = {}
    for kind, args in steps:
        if kind == "ENV":
            env.update(env_pairs(args))
    ours = {k: v for k, v in env.items() if k.startswith("BRIDGECHAT_")}
    assert set(ours) <= KNOWN_ENV, set(ours) - KNOWN_ENV
    assert ours["BRIDGECHAT_HOST"] == "0.0.0.0"
    [exposed] = [a for k, a in steps if k == "EXPOSE"]
    assert exposed == ours["BRIDGECHAT_PORT"]

    [health] = [a for k, a in steps if k == "HEALTHCHECK"]
    probe = exec_form(health[health.index("CMD") + 3:].strip())
    assert probe[:2] == ["python", "-c"]
    compile(probe[2], "HEALTHCHECK", "exec")
    path = re.search(r"http://127\.0\.0\.1:[^/]+(/\w+)", probe[2])
    assert path is not None and path.group(1) == "/healthz"
    assert 'add_get("/healthz"' in (ROOT / "server/bridgechat/web/app.py").read_text()


# -- the compose file ----------------------------------------------------------------------

def compose_file() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_an_installed_package_holds_every_module_and_page_file(tmp_path: Path) -> None:
    """What a plain `pip install .` (the image's) ships: every module and every file the
    pages load. An editable install would hide a package or a folder left off the list."""
    import zipfile

    done = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps",
                           "-q", "-w", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("bridgechat-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "server/bridgechat", "client_web"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    wanted = {f.removeprefix("server/") for f in tracked if f.endswith(".py")}
    wanted |= {"bridgechat/client_web/" + f.removeprefix("client_web/") for f in tracked
               if f.startswith("client_web/") and not f.endswith(".md")}
    assert sorted(wanted - shipped) == []


def test_the_compose_file_follows_the_compose_spec() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
    # Its $schema names draft 7 without the "#" that jsonschema looks the draft up by.
    validator = jsonschema.Draft7Validator(schema)
    compose = compose_file()
    validator.validate(compose)
    # The schema is strict enough to catch a slip: a misspelt key, a list written as text.
    compose["services"]["node1"]["cap_drops"] = ["ALL"]
    compose["services"]["proxy"]["ports"] = "8080:80"
    found = {e.message for e in validator.iter_errors(compose)}
    assert found == {"'cap_drops' does not match any of the regexes: '^x-'",
                     "'8080:80' is not of type 'array'"}, found


def test_the_compose_file_names_our_settings_services_and_files() -> None:
    compose = compose_file()
    services = compose["services"]
    nodes = sorted(n for n in services if n.startswith("node"))
    assert nodes == ["node1", "node2", "node3"]
    for name in nodes:
        node = services[name]
        assert node["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / node["build"]["context"] / "deploy/Dockerfile").is_file()
        env = node["environment"]
        assert set(env) <= KNOWN_ENV, set(env) - KNOWN_ENV
        assert env["BRIDGECHAT_REDIS"] == "redis://redis:6379/0"
        assert env["BRIDGECHAT_DATABASE"].startswith("postgresql://bridgechat:")
        assert "@postgres:5432/bridgechat" in env["BRIDGECHAT_DATABASE"]
        assert "command" not in node or build_parser().parse_args(node["command"])
        assert set(node["depends_on"]) <= set(services)
    # The proxy's upstreams are the node services, and its config file is there.
    conf = (DEPLOY / "nginx.conf").read_text()
    assert sorted(re.findall(r"server (node\d+):8080", conf)) == nodes
    mounts = services["proxy"]["volumes"]
    assert any(m.startswith("./nginx.conf:/etc/nginx/nginx.conf") for m in mounts)
    assert (DEPLOY / "nginx.conf").is_file()
    # Redis keeps nothing on disk (docs/backup.md, "What never to back up").
    assert services["redis"]["command"] == ["redis-server", "--save", "", "--appendonly", "no"]


# -- the systemd unit ----------------------------------------------------------------------

def unit_here(tmp_path: Path) -> Path:
    """deploy/bridgechat.service with ExecStart at this venv's `bridgechat`."""
    binary = Path(sys.executable).parent / "bridgechat"
    assert binary.is_file(), f"{binary} missing: pip install -e . makes it"
    text = (DEPLOY / "bridgechat.service").read_text()
    assert "/opt/bridgechat/bin/bridgechat " in text
    unit = tmp_path / "bridgechat.service"
    unit.write_text(text.replace("/opt/bridgechat/bin/bridgechat", str(binary)))
    return unit


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = unit_here(tmp_path)
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and not done.stdout + done.stderr, done.stdout + done.stderr
    score = subprocess.run([analyze, "security", "--offline=true", str(unit)],
                           capture_output=True, text=True, timeout=60, check=False)
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", score.stdout)
    assert level is not None and float(level.group(1)) <= 2.0, score.stdout[-2000:]


def test_the_systemd_unit_names_our_settings() -> None:
    text = (DEPLOY / "bridgechat.service").read_text()
    named = set(re.findall(r"\b(BRIDGECHAT_[A-Z_]+)=", text))
    assert {"BRIDGECHAT_HOST", "BRIDGECHAT_DATABASE", "BRIDGECHAT_REPORT_KEY"} <= named
    assert named <= KNOWN_ENV, named - KNOWN_ENV
    [start] = re.findall(r"^ExecStart=(.*)$", text, re.MULTILINE)
    build_parser().parse_args(shlex.split(start)[1:])
    assert "LimitCORE=0" in text


# -- built and run with podman (slow) ---------------------------------------------------------

BASE_IMAGE = "localhost/bridgechat-test-base:bookworm"
STANDIN = "localhost/bridgechat-test-standin"
TOOLS = ("podman", "podman-compose", "runc", "debootstrap")

STANDIN_FILES = {
    "Containerfile": f"""FROM {BASE_IMAGE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \\
    --no-install-recommends redis-server postgresql nginx-light >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY redis-server /usr/local/bin/redis-server
COPY pg-entrypoint.sh /usr/local/bin/pg-entrypoint.sh
""",
    # As the redis image is built: no protected mode (the compose network is the boundary).
    "redis-server": "#!/bin/sh\nexec /usr/bin/redis-server \"$@\" --protected-mode no\n",
    # The postgres image's entrypoint in short: POSTGRES_USER, _PASSWORD and _DB on first start.
    "pg-entrypoint.sh": """#!/bin/sh
set -e
BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
D=/var/lib/postgresql/data
mkdir -p "$D" /run/postgresql && chown -R postgres:postgres "$D" /run/postgresql
as_pg() { su postgres -s /bin/sh -c "$1"; }
if [ ! -s "$D/PG_VERSION" ]; then
  echo "$POSTGRES_PASSWORD" > /tmp/pw && chown postgres /tmp/pw
  as_pg "$BIN/initdb -D $D -U $POSTGRES_USER --pwfile=/tmp/pw --auth-local=trust \\
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null"
  rm /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$D/pg_hba.conf"
  as_pg "$BIN/pg_ctl -D $D -w start -o '-c listen_addresses=' >/dev/null"
  as_pg "$BIN/createdb -U $POSTGRES_USER $POSTGRES_DB"
  as_pg "$BIN/pg_ctl -D $D -w stop >/dev/null"
fi
exec su postgres -s /bin/sh -c "exec $BIN/postgres -D $D -c listen_addresses=*"
""",
    "Containerfile.redis": f'FROM {STANDIN}:services\nCMD ["redis-server"]\n',
    "Containerfile.postgres":
        f'FROM {STANDIN}:services\nENTRYPOINT ["/usr/local/bin/pg-entrypoint.sh"]\n',
    "Containerfile.nginx": f'FROM {STANDIN}:services\nCMD ["nginx", "-g", "daemon off;"]\n',
    # crun: "cgroups in hybrid mode not supported"; the default rlimits: "Operation not permitted".
    "containers.conf": '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]'
                       '\n[engine]\nruntime = "runc"\n',
}

OVERRIDE = f"""services:
  redis: {{image: "{STANDIN}:redis"}}
  postgres: {{image: "{STANDIN}:postgres"}}
  proxy: {{image: "{STANDIN}:nginx"}}
  node1: &node
    build:
      context: {ROOT}
      dockerfile: deploy/Dockerfile
      args: {{PYTHON_IMAGE: "{BASE_IMAGE}"}}
  node2: *node
  node3: *node
"""


def run(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd, check=False)
    assert done.returncode == 0, f"{shlex.join(cmd)} failed:\n{done.stdout[-3000:]}" \
                                 f"\n{done.stderr[-3000:]}"
    return done.stdout


def build_stand_ins(work: Path, env: dict[str, str]) -> None:
    """A python:3.11-slim look-alike (Python 3.11 and pip in /usr/local), then the services'."""
    rootfs = work / "rootfs"
    run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
         "bookworm", str(rootfs), "http://deb.debian.org/debian"], 900)
    run(["chroot", str(rootfs), "/usr/bin/python3", "-m", "venv", "/usr/local"], 120)
    # This machine reaches PyPI through a proxy that its own CA bundle trusts.
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", rootfs / "etc/ssl/certs/")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        ["podman", "import", "--change",
         "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
         "--change", "ENV LANG=C.UTF-8", "-", BASE_IMAGE],
        stdin=tar.stdout, capture_output=True, text=True, timeout=300, env=env, check=False)
    tar.wait(60)
    assert imported.returncode == 0, imported.stderr
    shutil.rmtree(rootfs, ignore_errors=True)
    files = work / "standins"
    files.mkdir()
    for name, text in STANDIN_FILES.items():
        (files / name).write_text(text)
        (files / name).chmod(0o755)
    run(["podman", "build", "--network", "host", "-t", f"{STANDIN}:services", str(files)],
        600, env)
    for kind in ("redis", "postgres", "nginx"):
        run(["podman", "build", "-f", str(files / f"Containerfile.{kind}"),
             "-t", f"{STANDIN}:{kind}", str(files)], 120, env)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return 0


async def chat_through(base: str) -> None:
    from wsclient import DIVIDE_A, DIVIDE_B, Clients, fresh_lang, fresh_topic

    async with Clients(base.replace("http", "ws", 1) + "/ws") as clients:
        a = await clients.member(origin=base)
        b = await clients.member(origin=base)
        prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
        await a.join([prompt], [lang], DIVIDE_A)
        await b.join([prompt], [lang], DIVIDE_B)
        room = (await a.expect("matched", wait=20))["room"]
        assert (await b.expect("matched", wait=20))["room"] == room
        await a.say(room, "hello through the proxy")
        await b.expect("message", room=room, text="hello through the proxy")


@pytest.fixture
def podman_env() -> Iterator[tuple[Path, dict[str, str]]]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (.ci/run installs them)")
    if os.geteuid() != 0:
        pytest.skip("building a debootstrap base needs root")
    work = Path(tempfile.mkdtemp(prefix="bridgechat-podman-"))
    conf = work / "containers.conf"
    conf.write_text(STANDIN_FILES["containers.conf"])
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    try:
        yield work, env
    finally:
        for image in (BASE_IMAGE, "localhost/bridgechat:local",
                      *(f"{STANDIN}:{k}" for k in ("redis", "postgres", "nginx", "services"))):
            subprocess.run(["podman", "rmi", "-f", image], capture_output=True, timeout=120,
                           env=env, check=False)
        # The untagged layers those builds left (podman-compose builds once per node).
        subprocess.run(["podman", "image", "prune", "-f"], capture_output=True, timeout=300,
                       env=env, check=False)
        shutil.rmtree(work, ignore_errors=True)


# Its container networks make Chromium report ERR_NETWORK_CHANGED in browser tests that run
# beside it, so scripts/test runs it after everything else.
@pytest.mark.slow
@pytest.mark.alone
def test_the_image_builds_and_the_compose_cluster_chats(
        podman_env: tuple[Path, dict[str, str]]) -> None:
    work, env = podman_env
    build_stand_ins(work, env)
    port = free_port()
    project = f"bctest{port}"
    (work / "override.yaml").write_text(OVERRIDE)
    env = {**env, "POSTGRES_PASSWORD": base64.b32encode(os.urandom(10)).decode(),
           "BRIDGECHAT_REPORT_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
           "PROXY_PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    compose = ["podman-compose", "-p", project, "-f", str(DEPLOY / "compose.yaml"),
               "-f", str(work / "override.yaml")]
    try:
        run([*compose, "up", "-d", "--build"], 900, env, DEPLOY)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while http_status(base + "/readyz") != 200 and time.monotonic() < deadline:
            time.sleep(1)
        status = http_status(base + "/healthz")
        if status != 200:  # say why: the nodes' own words
            logs = "\n".join(subprocess.run(
                ["podman", "logs", "--tail", "30", f"{project}_{name}_1"], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=60, env=env, check=False
            ).stdout[-3000:] for name in ("node1", "proxy"))
            pytest.fail(f"/healthz answered {status}; the logs:\n{logs}")
        assert http_status(base + "/readyz") == 200
        asyncio.run(chat_through(base))
        # The nodes took their settings from the environment that compose gave them.
        shown = run(["podman", "exec", f"{project}_node1_1", "bridgechat", "config"], 60, env)
        assert re.search(r'^database = "postgresql://bridgechat:\*\*\*@postgres:5432/bridgechat"'
                         r"\s+# environment$", shown, re.MULTILINE), shown
        assert env["POSTGRES_PASSWORD"] not in shown
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run([*compose, "down", "-v"], capture_output=True, timeout=300,
                           env=env, cwd=DEPLOY, check=False)
            # podman-compose 1.0.3 leaves its network behind.
            subprocess.run(["podman", "network", "rm", "-f", f"{project}_default"],
                           capture_output=True, timeout=60, env=env, check=False)
