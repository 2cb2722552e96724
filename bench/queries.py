"""The query pass: SQL queries per request of each scenario, measured in-process.

    python -m bench.queries --data DIR

Runs with the server's environment (same database, cache and settings) and sends each
scenario's probe requests through Django's test client under CaptureQueriesContext, with the
headers wrk sends. Prints one JSON object: per scenario the query count of every probe (reads
are sent twice each, the first may fill a cache), their status codes, and the steady-state
count (the last probe's). Transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) is counted
apart from the queries.
"""

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

# Round trips that are not queries: reported apart ("8+3" = 8 queries, 3 of these).
TX_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def method_is_safe(probes: list[list[Any]]) -> bool:
    return all(method in ("GET", "HEAD") for method, *_ in probes)


def measure(data: Path, names: list[str]) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(3)  # noqa: S311
    results: dict[str, Any] = {}
    for name in names:
        path = data / f"{name}.json"
        if not path.exists():
            continue
        spec = json.loads(path.read_text())
        counts, transaction_counts, statuses, sql = [], [], [], []
        probes = spec["probes"]
        if method_is_safe(probes):
            # Each read twice: the second shows the steady state (caches filled).
            probes = [probe for probe in probes for _ in range(2)]
        for number, (method, url, token, body) in enumerate(probes):
            if spec["nonce"]:
                url += ("&" if "?" in url else "?") + f"nonce=probe-{number}-{rng.random()}"
            headers = {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.9",
            }
            if token:
                headers["Authorization"] = f"Bearer {token}"
            with CaptureQueriesContext(connection) as queries:
                response = client.generic(
                    method, url, data=body or "", content_type="application/json", headers=headers
                )
            sql = [query["sql"] for query in queries.captured_queries]
            control = sum(1 for statement in sql if statement.upper().startswith(TX_CONTROL))
            counts.append(len(sql) - control)
            transaction_counts.append(control)
            statuses.append(response.status_code)
        results[name] = {
            "queries": counts[-1] if counts else None,
            "transaction_control": transaction_counts[-1] if counts else None,
            "per_probe": counts,
            "statuses": statuses,
            "last_sql": sql,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    names = args.names or sorted(path.stem for path in args.data.glob("*.json"))
    print(json.dumps(measure(args.data, names)))  # noqa: T201


if __name__ == "__main__":
    main()
