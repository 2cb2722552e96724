"""CSV as a DRF renderer, so list endpoints can answer `?format=csv`."""

import csv
import io
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Renders a list of flat dicts; the header is the keys of the first row.

    Cells starting with =, +, - or @ are prefixed with a quote so spreadsheet programs do
    not run them as formulas (CSV injection).
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if not isinstance(data, list):  # an error body
            data = [data] if isinstance(data, dict) else []
        buffer = io.StringIO()
        if data:
            writer = csv.DictWriter(buffer, fieldnames=list(data[0]))
            writer.writeheader()
            for row in data:
                writer.writerow({key: safe_csv_cell(value) for key, value in row.items()})
        return buffer.getvalue().encode(self.charset)


def safe_csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return value
