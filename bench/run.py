"""The benchmark: seed a scale data set, serve it as production would, load every scenario.

    make bench          # the default data set, 20 s per scenario, growth run, 2-minute soak
    make bench-quick    # a small data set, a few seconds per scenario (about two minutes)
    .venv/bin/python -m bench.run --help

Against the machine's PostgreSQL and Redis (127.0.0.1 only): creates its own databases
(`lms_bench`, and `lms_bench_growth` for the growth run), migrates and runs `seed_scale`;
starts gunicorn with DJANGO_ENV=production on 127.0.0.1, with the Redis cache and broker on
their own Redis databases (13 and 14 by default, flushed before and after); measures SQL
queries per request in a separate in-process pass (bench/queries.py); drives each scenario
with wrk (bench/wrk/scenario.lua, requests prepared by bench/prepare.py) and prints the table.
Results are written to bench/results/<time>.json. Targets are reported, never asserted: the
exit status is non-zero only when the run itself fails (or the soak sees a 5xx).
"""

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.scenarios import FLOOR, LOGIN, SCENARIOS, SOAK_MIX, Scenario

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
VENV_BIN = BASE_DIR / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn") if (VENV_BIN / "gunicorn").exists() else "gunicorn"


class BenchError(Exception):
    pass


def say(message: str = "") -> None:
    print(message, flush=True)  # noqa: T201


def run(command: list[str], env: dict[str, str], *, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603
        command, cwd=BASE_DIR, env=env, text=True, capture_output=capture, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or "")[-3000:] if capture else ""
        raise BenchError(f"failed ({result.returncode}): {' '.join(command)}\n{detail}")
    return result.stdout if capture else ""


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    say("wrk is missing: installing Debian's package")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run([*sudo, *command], check=True, env=env)  # noqa: S603
    path = shutil.which("wrk")
    if not path:
        raise BenchError("wrk could not be installed (apt-get install wrk)")
    return path


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.secret_key = secrets.token_urlsafe(64)
        # One server per database; the growth run's waits beside the main one.
        self.servers: dict[str, tuple[subprocess.Popen, int]] = {}
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run_id = stamp + ("-quick" if args.quick else "")
        self.out = BENCH_DIR / "results" / self.run_id
        self.out.mkdir(parents=True, exist_ok=True)
        self.results: dict[str, Any] = {
            "run": self.run_id,
            "started_at": datetime.now(UTC).isoformat(),
            "settings": {
                key: value for key, value in vars(args).items() if not key.startswith("_")
            },
            "machine": {"cpus": os.cpu_count()},
        }

    # --- environment, databases ---------------------------------------------------------

    def cache_db(self, database: str) -> int:
        """Each data set has its own Redis cache database (the keys would collide)."""
        return self.args.redis_db + (2 if database.endswith("_growth") else 0)

    def env(self, database: str) -> dict[str, str]:
        """Production settings for 127.0.0.1 (the same for the server and the helpers)."""
        redis = self.args.redis.rstrip("/")
        return os.environ | {
            "DJANGO_SETTINGS_MODULE": "lms.settings",
            "DJANGO_ENV": "production",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{self.args.postgres.rstrip('/')}/{database}",
            "REDIS_URL": f"{redis}/{self.cache_db(database)}",
            "CELERY_BROKER_URL": f"{redis}/{self.args.redis_db + 1}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # Requests come "through a proxy": X-Forwarded-For carries the client address.
            "NUM_PROXIES": "1",
            "JWT_ACCESS_TOKEN_MINUTES": "600",
            "EMAIL_URL": "dummymail://",
            # /bench/floor: the trivial view the table compares every scenario with.
            "BENCH_FLOOR_VIEW": "true",
        }

    def write_env_file(self, database: str) -> Path:
        """`source` it to run bench.queries or bench.profile by hand against this run."""
        env = self.env(database)
        lines = [
            f"export {key}={shlex.quote(value)}"
            for key, value in sorted(env.items())
            if os.environ.get(key) != value
        ]
        path = self.out / f"env-{database}.sh"
        path.write_text("\n".join(lines) + "\n")
        return path

    def psql(self, sql: str, database: str = "postgres") -> str:
        url = f"{self.args.postgres.rstrip('/')}/{database}"
        return run(["psql", url, "-v", "ON_ERROR_STOP=1", "-tAc", sql], os.environ, capture=True)

    def redis_flush(self) -> None:
        for db in (self.args.redis_db, self.args.redis_db + 1, self.args.redis_db + 2):
            url = f"{self.args.redis.rstrip('/')}/{db}"
            run(["redis-cli", "-u", url, "FLUSHDB"], os.environ, capture=True)

    def database_is_seeded(self, database: str) -> bool:
        sql = f"SELECT 1 FROM pg_database WHERE datname = '{database}'"  # noqa: S608  (our name)
        exists = self.psql(sql).strip()
        if exists != "1":
            return False
        try:
            count = self.psql(
                "SELECT count(*) FROM accounts_user WHERE email LIKE '%@scale.example.com'",
                database,
            )
        except BenchError:
            return False
        return int(count.strip() or 0) > 0

    def create_database(self, database: str, scale: float) -> dict[str, Any]:
        if self.args.reuse_db and self.database_is_seeded(database):
            say(f"Reusing the seeded database {database} (--reuse-db)")
            return {"database": database, "scale": scale, "reused": True}
        say(f"Creating the database {database}")
        self.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{database}"')
        env = self.env(database)
        started = time.monotonic()
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        migrated = time.monotonic() - started
        say(f"Migrated in {migrated:.1f} s; seeding (scale {scale:g})")
        started = time.monotonic()
        run(
            [PYTHON, "manage.py", "seed_scale", "--scale", str(scale), "--seed", "2026"],
            env,
        )
        seeded = time.monotonic() - started
        say(f"==> seed_scale took {seeded:.1f} s ({database}, scale {scale:g})")
        return {"database": database, "scale": scale, "migrate_s": migrated, "seed_s": seeded}

    # --- server ---------------------------------------------------------------------------

    def start_server(self, database: str, port: int) -> None:
        log = (self.out / f"gunicorn-{database}.log").open("a")
        command = [
            GUNICORN, "lms.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(self.args.workers),
            "--worker-class", self.args.worker_class,
            "--worker-tmp-dir", "/dev/shm",  # noqa: S108  (as the Dockerfile does)
            "--timeout", "60",
        ]  # fmt: skip
        if self.args.worker_class == "gthread":
            command += ["--threads", str(self.args.threads_per_worker)]
        server = subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=self.env(database), stdout=log, stderr=subprocess.STDOUT
        )
        self.servers[database] = (server, port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise BenchError(f"gunicorn exited; see {log.name}")
            try:
                url = self.url(database, "/health/ready")
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        say(
                            f"gunicorn: {self.args.workers} {self.args.worker_class} worker(s) "
                            f"on 127.0.0.1:{port}, DJANGO_ENV=production, database {database}"
                        )
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise BenchError(f"the server did not become ready; see {log.name}")

    def stop_servers(self) -> None:
        for server, _ in self.servers.values():
            server.send_signal(signal.SIGTERM)
        for server, _ in self.servers.values():
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        self.servers.clear()

    def url(self, database: str, path: str) -> str:
        return f"http://127.0.0.1:{self.servers[database][1]}{path}"

    # --- scenarios ------------------------------------------------------------------------

    def prepare(self, database: str, data: Path, names: list[str] | None = None) -> None:
        command = [
            PYTHON, "-m", "bench.prepare", "--out", str(data),
            "--reads", str(self.args.reads), "--writes", str(self.args.writes),
        ]  # fmt: skip
        if names:
            command += ["--only", *names]
        say(f"Preparing requests: {run(command, self.env(database), capture=True).strip()}")

    def query_pass(self, database: str, data: Path) -> dict[str, Any]:
        output = run(
            [PYTHON, "-m", "bench.queries", "--data", str(data)],
            self.env(database),
            capture=True,
        )
        return json.loads(output.strip().splitlines()[-1])

    def wrk(
        self, database: str, data_file: Path, duration: float, connections: int | None = None
    ) -> dict:
        threads = self.args.threads
        env = os.environ | {"BENCH_DATA": str(data_file), "BENCH_THREADS": str(threads)}
        command = [
            self.wrk_path, "-t", str(threads), "-c", str(connections or self.args.connections),
            "-d", f"{duration:g}s", "--timeout", "10s",
            "-s", str(BENCH_DIR / "wrk" / "scenario.lua"), self.url(database, "/"),
        ]  # fmt: skip
        output = run(command, env, capture=True)
        for line in output.splitlines():
            if line.startswith("BENCH_JSON "):
                stats = json.loads(line.removeprefix("BENCH_JSON "))
                seconds = stats["duration_us"] / 1e6
                stats["rps"] = stats["requests"] / seconds if seconds else 0.0
                return stats
        raise BenchError(f"wrk printed no result:\n{output[-2000:]}")

    def load(self, database: str, scenario: Scenario) -> dict[str, Any]:
        data_file = self.out / f"data-{database}" / f"{scenario.name}.lua"
        if not scenario.once and self.args.warmup > 0:
            self.wrk(database, data_file, self.args.warmup)
        return self.wrk(database, data_file, self.args.duration)

    def setup(self, database: str, scenarios: list[Scenario], port: int) -> None:
        data = self.out / f"data-{database}"
        self.prepare(database, data, [s.name for s in scenarios if s.available])
        self.write_env_file(database)
        self.start_server(database, port)

    def selected(self, scenarios: list[Scenario]) -> list[Scenario]:
        if not self.args.scenarios:
            return scenarios
        names = {FLOOR.name, *self.args.scenarios.split(",")}
        return [scenario for scenario in scenarios if scenario.name in names]

    # --- soak -----------------------------------------------------------------------------

    def soak(self, database: str, seconds: float) -> dict[str, Any]:
        """Mixed reads and writes for `seconds`, sampling the database's connections."""
        data = self.out / f"data-{database}"
        lines = []
        for name in SOAK_MIX:
            if not (data / f"{name}.lua").exists():
                continue  # not selected with --scenarios
            text = (data / f"{name}.lua").read_text()
            body = text.split("requests = {\n", 1)[1].rsplit("\n}}", 1)[0]
            lines.extend(body.split(",\n")[:2000])
        # Interleave the scenarios so every stretch of the run mixes reads and writes.
        import random

        random.Random(5).shuffle(lines)  # noqa: S311
        mix = data / "soak.lua"
        mix.write_text("return {nonce = false, requests = {\n" + ",\n".join(lines) + "\n}}\n")
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(2):
                count = self.psql(
                    f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'"  # noqa: S608
                )
                samples.append(int(count.strip() or 0))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stats = self.wrk(database, mix, seconds, connections=self.args.connections * 2)
        stop.set()
        sampler.join()
        stats["db_connections"] = samples
        stats["db_connections_max"] = max(samples, default=0)
        # One persistent connection per worker (CONN_MAX_AGE) is the ceiling.
        stats["connections_ok"] = stats["db_connections_max"] <= self.args.workers * (
            self.args.threads_per_worker if self.args.worker_class == "gthread" else 1
        )
        return stats

    # --- the whole run --------------------------------------------------------------------

    def execute(self) -> int:
        self.wrk_path = ensure_wrk()
        version = subprocess.run(  # noqa: S603  (wrk -v exits with 1 after printing it)
            [self.wrk_path, "-v"], capture_output=True, text=True, check=False
        )
        self.results["wrk"] = (version.stdout + version.stderr).strip().splitlines()[:1]
        seeding = [self.create_database(self.args.database, self.args.scale)]
        growth = (self.args.growth and not self.args.quick) or self.args.growth_in_quick
        if growth:
            seeding.append(
                self.create_database(self.args.database + "_growth", self.args.scale / 10)
            )
        self.results["seeding"] = seeding

        database, small = self.args.database, self.args.database + "_growth"
        scenarios = self.selected([*SCENARIOS, LOGIN])
        readers = {s.name for s in scenarios if s.growth or s is FLOOR} if growth else set()
        self.redis_flush()
        self.setup(database, scenarios, self.args.port)
        queries = self.query_pass(database, self.out / f"data-{database}")
        if growth:
            # Both servers run side by side and each read scenario runs on both, one right
            # after the other, so that a machine that gets busier or quieter during the run
            # (a shared one) shifts both numbers alike.
            self.setup(small, [s for s in scenarios if s.name in readers], self.args.port + 1)

        say("\nScenarios (default data set; reads also on the 10x smaller one)")
        main: dict[str, Any] = {}
        growth_results: dict[str, Any] = {}
        for scenario in scenarios:
            if not scenario.available:
                main[scenario.name] = {"available": False}
                continue
            say(f"  {scenario.title} ...")
            main[scenario.name] = self.load(database, scenario)
            main[scenario.name]["query_pass"] = queries.get(scenario.name)
            if scenario.name in readers:
                growth_results[scenario.name] = self.load(small, scenario)
        self.results["scenarios"] = main
        if growth:
            self.results["growth"] = growth_results
        soak = None
        if self.args.soak > 0:
            say(f"\nLoad soak: {self.args.soak:g} s of mixed reads and writes")
            soak = self.soak(database, self.args.soak)
            self.results["soak"] = soak
        self.stop_servers()
        self.redis_flush()

        report = Report(main, self.results.get("growth"), soak, self.results["seeding"])
        report.print()
        self.results["misses"] = report.misses
        path = BENCH_DIR / "results" / f"{self.run_id}.json"
        path.write_text(json.dumps(self.results, indent=2, default=str))
        say(f"\nResults: {path.relative_to(BASE_DIR)}")
        if soak and (soak["server_errors"] or not soak["connections_ok"]):
            say("The soak failed: 5xx answers or growing database connections.")
            return 1
        return 0


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


class Report:
    def __init__(
        self,
        main: dict[str, Any],
        growth: dict[str, Any] | None,
        soak: dict[str, Any] | None,
        seeding: list[dict[str, Any]],
    ) -> None:
        self.main, self.growth, self.soak, self.seeding = main, growth, soak, seeding
        self.misses: dict[str, list[str]] = {}

    def check(self, scenario: Scenario, stats: dict[str, Any], floor_rps: float) -> list[str]:
        misses = []
        ratio = stats["rps"] / floor_rps if floor_rps else 0
        if scenario.min_floor_ratio and ratio < scenario.min_floor_ratio:
            misses.append(f"rate {ratio:.0%} < {scenario.min_floor_ratio:.0%}")
        if stats["p99_us"] > 10 * stats["p50_us"]:
            misses.append("p99 > 10x p50")
        if stats["non2xx"]:
            misses.append(f"{stats['non2xx']} non-2xx")
        queries = (stats.get("query_pass") or {}).get("queries")
        limit = scenario.max_queries
        if limit is not None and queries is not None and queries > limit:
            misses.append(f"{queries} queries > {limit}")
        if scenario.once and stats.get("wrapped"):
            misses.append("ran out of prepared requests (repeats)")
        return misses

    def print(self) -> None:
        for item in self.seeding:
            if "seed_s" in item:
                database, scale, seconds = item["database"], item["scale"], item["seed_s"]
                say(f"seed_scale {database} (scale {scale:g}): {seconds:.1f} s")
        floor_rps = self.main[FLOOR.name]["rps"]
        header = (
            f"{'scenario':<44} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
            f"{'non-2xx':>7} {'queries':>7} {'/floor':>7}  target"
        )
        say("\n" + header)
        say("-" * len(header))
        for scenario in [*SCENARIOS, LOGIN]:
            stats = self.main.get(scenario.name)
            if scenario is LOGIN and not stats:
                continue
            if scenario is LOGIN and stats:
                say("\nreported separately (bound by the Argon2 password hash by design):")
            if not stats:
                say(f"{scenario.title:<44} {'(not run)':>8}")
                continue
            if not stats.get("available", True):
                say(f"{scenario.title:<44} {'not available yet':>8}")
                continue
            query_pass = stats.get("query_pass") or {}
            queries = query_pass.get("queries")
            if queries is not None and query_pass.get("transaction_control"):
                queries = f"{queries}+{query_pass['transaction_control']}"
            ratio = stats["rps"] / floor_rps if floor_rps else 0
            target = []
            if scenario.min_floor_ratio:
                target.append(f">={scenario.min_floor_ratio:.0%}")
            if scenario.max_queries is not None:
                target.append(f"<={scenario.max_queries} q")
            misses = self.check(scenario, stats, floor_rps) if scenario is not FLOOR else []
            if scenario is not LOGIN and misses:
                self.misses[scenario.name] = misses
            verdict = ("MISS: " + "; ".join(misses)) if misses else "ok"
            say(
                f"{scenario.title:<44} {stats['rps']:>8.0f} {_ms(stats['p50_us']):>7} "
                f"{_ms(stats['p90_us']):>7} {_ms(stats['p99_us']):>7} {stats['non2xx']:>7} "
                f"{'-' if queries is None else queries:>7} {ratio:>7.0%}  "
                f"{' '.join(target) or '-'} {verdict if scenario is not FLOOR else ''}"
            )
        if self.growth:
            self.print_growth()
        if self.soak:
            soak = self.soak
            say(
                f"\nsoak: {soak['requests']} requests, {soak['rps']:.0f} req/s, "
                f"p99 {_ms(soak['p99_us'])} ms, 5xx {soak['server_errors']}, "
                f"non-2xx {soak['non2xx']}, socket errors {soak['socket_errors']}, "
                f"DB connections {soak['db_connections']} "
                f"({'ok' if soak['connections_ok'] else 'GROWING'})"
            )

    def print_growth(self) -> None:
        if not self.growth:
            return
        header = (
            f"{'growth (read scenarios)':<44} {'p50 full':>9} {'p50 1/10':>9} {'ratio':>6} "
            f"{'req/s full':>10} {'req/s 1/10':>10}"
        )
        say("\n" + header)
        say("-" * len(header))
        for name, small in self.growth.items():
            full = self.main.get(name)
            if not full or not small.get("requests"):
                continue
            ratio = full["p50_us"] / small["p50_us"] if small["p50_us"] else 0
            # The floor reads no data: its ratio shows how much the machine itself drifted.
            flag = "  GROWS" if ratio > 1.3 and name != FLOOR.name else ""
            if flag:
                self.misses.setdefault(name, []).append(f"p50 grows {ratio:.2f}x with data")
            title = next(s.title for s in SCENARIOS if s.name == name)
            say(
                f"{title:<44} {_ms(full['p50_us']):>9} {_ms(small['p50_us']):>9} "
                f"{ratio:>6.2f} {full['rps']:>10.0f} {small['rps']:>10.0f}{flag}"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small data set, short runs")
    parser.add_argument("--scale", type=float, help="seed_scale --scale (1; quick: 0.01)")
    parser.add_argument("--duration", type=float, help="seconds per scenario (20; quick: 4)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per read (3; quick: 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--worker-class", default="sync", help="gunicorn worker class (sync, as in production)"
    )
    parser.add_argument("--threads-per-worker", type=int, default=4, help="for gthread only")
    parser.add_argument("--soak", type=float, help="load soak seconds (120; quick: 10; 0: none)")
    parser.add_argument(
        "--no-growth", dest="growth", action="store_false", help="skip the growth run"
    )
    parser.add_argument(
        "--growth-in-quick", action="store_true", help="run the growth run in quick mode too"
    )
    parser.add_argument("--reuse-db", action="store_true", help="keep an already seeded DB")
    parser.add_argument("--database", default="lms_bench", help="database name (lms_bench)")
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no db"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis URL, no db")
    parser.add_argument(
        "--redis-db", type=int, default=13, help="cache db (13); +1: broker, +2: growth cache"
    )
    parser.add_argument("--port", type=int, default=8111, help="server port on 127.0.0.1")
    parser.add_argument(
        "--scenarios",
        help="comma-separated scenario names to run (default: all; the floor always runs)",
    )
    parser.add_argument("--reads", type=int, default=2000, help="prepared requests per read")
    parser.add_argument("--writes", type=int, help="prepared requests per write (40000)")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "scale": 0.01 if quick else 1.0,
        "duration": 4.0 if quick else 20.0,
        "warmup": 1.0 if quick else 3.0,
        "soak": 10.0 if quick else 120.0,
        "writes": 5000 if quick else 40000,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    try:
        return bench.execute()
    except BenchError as error:
        say(f"bench failed: {error}")
        return 2
    finally:
        bench.stop_servers()


if __name__ == "__main__":
    sys.exit(main())
