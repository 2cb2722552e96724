from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """`page` and `page_size` (default 20, capped at 100); a page past the end is a 404, a
    `page_size` that is not a positive whole number a 400."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent or empty, like an empty filter
            return self.page_size
        if not (raw.isascii() and raw.isdecimal()) or int(raw) < 1:
            raise ValidationError(
                {self.page_size_query_param: ["A positive whole number is required."]},
                code="invalid",
            )
        return min(int(raw), self.max_page_size)
