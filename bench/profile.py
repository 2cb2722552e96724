"""Profile one scenario in-process with pyinstrument (a development tool: requirements-dev).

    python -m bench.profile --data bench/results/<run>/data-lms_bench catalog [-n 300]

Runs with the server's environment (print it with `python -m bench.run --print-env`): sends
the scenario's probe requests `n` times through Django's full handler (the test client with
the headers wrk sends) and prints pyinstrument's call tree, plus the mean time per request.
For the live server, `py-spy top --pid <gunicorn worker>` samples the real processes.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("scenario")
    parser.add_argument("-n", type=int, default=300, help="requests (default 300)")
    parser.add_argument("--html", type=Path, help="write pyinstrument's HTML report here")
    parser.add_argument("--no-profile", action="store_true", help="only the times per request")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    spec = json.loads((args.data / f"{args.scenario}.json").read_text())
    client = Client(HTTP_HOST="127.0.0.1")

    def send(number: int) -> None:
        method, url, token, body = spec["probes"][number % len(spec["probes"])]
        if spec["nonce"]:
            url += ("&" if "?" in url else "?") + f"nonce=profile-{number}"
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"10.1.{number % 250}.7"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        client.generic(
            method, url, data=body or "", content_type="application/json", headers=headers
        )

    for number in range(min(20, args.n)):  # warm caches and connections
        send(number)
    # Unprofiled first: wall and CPU time of this process per request (the CPU time hardly
    # depends on what else the machine runs; waits on PostgreSQL and Redis are not in it).
    started, cpu_started = time.perf_counter(), time.process_time()
    for number in range(args.n):
        send(number)
    wall = (time.perf_counter() - started) / args.n * 1000
    cpu = (time.process_time() - cpu_started) / args.n * 1000
    if not args.no_profile:
        profiler = Profiler(interval=0.0005)
        with profiler:
            for number in range(args.n):
                send(number)
        print(profiler.output_text(unicode=True, color=False, show_all=False))  # noqa: T201
        if args.html:
            args.html.write_text(profiler.output_html())
    print(f"{args.scenario}: {wall:.2f} ms wall, {cpu:.2f} ms CPU per request")  # noqa: T201


if __name__ == "__main__":
    main()
