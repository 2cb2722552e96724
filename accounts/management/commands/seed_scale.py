import importlib
import random
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.scale import COUNT_OPTIONS

SMALL_SCALE = 0.01


def app_scale_modules() -> Iterator[ModuleType]:
    """Each installed app's optional `scale` module, in INSTALLED_APPS order (lower layers
    first), discovered at run time so accounts never imports a later app."""
    for app_config in apps.get_app_configs():
        name = f"{app_config.name}.scale"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise  # The scale module exists but imports something missing: show it.
            continue
        yield module


class Command(BaseCommand):
    help = (
        "Load the benchmark data set with bulk inserts (COPY on PostgreSQL): accounts, then "
        "each app's `<app>/scale.py` (courses with modules and lessons, enrolments with lesson "
        "completions, ...). Counters, progress and search vectors come out as the services "
        "would leave them. Reproducible: the same --seed gives the same rows (times are "
        "relative to the run). Everything is one transaction; run it on a fresh database. "
        "Every account's password is `scale-pass-2026`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            metavar="FACTOR",
            help="multiply every row count, e.g. 0.1 for the growth run (default 1)",
        )
        parser.add_argument(
            "--small",
            action="store_true",
            help=f"a small data set for smoke runs (--scale {SMALL_SCALE})",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="generate and write everything, then roll back (checks, keeps nothing)",
        )
        for module in app_scale_modules():
            if hasattr(module, "add_arguments"):
                module.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        scale = SMALL_SCALE if options["small"] else options["scale"]
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        for name in COUNT_OPTIONS:
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} cannot be negative.")
            options[name] = round(options[name] * scale)
        options["now"] = timezone.now()
        counts = ", ".join(f"{name}={options[name]:,}" for name in sorted(COUNT_OPTIONS))
        self.stdout.write(f"seed_scale: seed {options['seed']}, scale {scale:g}: {counts}")

        modules = list(app_scale_modules())
        timings: list[tuple[str, float]] = []
        started = time.monotonic()
        with transaction.atomic():
            for module in modules:
                app = module.__name__.removesuffix(".scale")
                self.stdout.write(f"{app}:")
                step_started = time.monotonic()
                rng = random.Random(f"{options['seed']}:{app}")  # noqa: S311  (data, not secrets)
                module.seed(options=options, stdout=self.stdout, rng=rng)
                timings.append((app, time.monotonic() - step_started))
            if options["dry_run"]:
                transaction.set_rollback(True)
        if not options["dry_run"] and connection.vendor == "postgresql":
            step_started = time.monotonic()
            # VACUUM cannot run in a transaction (a caller's, e.g. a test's): ANALYZE can.
            statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            self.stdout.write(f"{statement} (planner statistics, visibility map)")
            with connection.cursor() as cursor:
                cursor.execute(statement)
            timings.append((statement.lower(), time.monotonic() - step_started))

        total = time.monotonic() - started
        self.stdout.write("")
        for step, seconds in timings:
            self.stdout.write(f"  {step:<16} {seconds:8.1f} s")
        self.stdout.write(f"  {'total':<16} {total:8.1f} s")
        outcome = "rolled back (--dry-run)" if options["dry_run"] else "loaded"
        self.stdout.write(self.style.SUCCESS(f"Scale data set {outcome} in {total:.1f} s."))
