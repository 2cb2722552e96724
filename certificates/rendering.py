"""Rendering a certificate to PDF: its HTML template, a QR code to the public verification
page, and WeasyPrint.

Nothing here writes to the database or the storage: services and tasks do that.
"""

import base64
import functools
import mimetypes
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import qrcode
from django.conf import settings
from django.template import Context, Engine
from django.template.loader import get_template
from django.urls import reverse
from qrcode.image.svg import SvgPathImage

from certificates.models import Certificate, CertificateTemplate

DEFAULT_HTML = "certificates/default.html"
DEFAULT_CSS = "certificates/default.css"


@dataclass(frozen=True)
class CertificateContent:
    """What a certificate says: the snapshots and its verification code."""

    learner_name: str
    course_title: str
    instructor_names: str
    grade: str
    issued_at: datetime
    verification_code: str

    @classmethod
    def of(cls, certificate: Certificate) -> "CertificateContent":
        return cls(
            learner_name=certificate.learner_name,
            course_title=certificate.course_title,
            instructor_names=certificate.instructor_names,
            grade=certificate.grade,
            issued_at=certificate.issued_at,
            verification_code=certificate.verification_code,
        )


def verification_url(code: str) -> str:
    """The public verification page of a certificate, as an absolute URL."""
    return f"{settings.SITE_URL}{reverse('certificate-verify', args=[code])}"


def text_direction(text: str) -> str:
    """'rtl' when the text's first strong character is right-to-left (Arabic, Hebrew)."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def qr_code_data_uri(url: str) -> str:
    """An SVG QR code of `url` as a data: URI (vector, so it stays sharp in print)."""
    image = qrcode.make(
        url,
        image_factory=SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=1,
    )
    svg = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _image_data_uri(template: CertificateTemplate) -> str:
    if not template.signature_image:
        return ""
    content_type = mimetypes.guess_type(template.signature_image.name)[0] or "image/png"
    with template.signature_image.open("rb") as image:
        return f"data:{content_type};base64," + base64.b64encode(image.read()).decode()


def _template_sources(template: CertificateTemplate | None) -> tuple[str, str]:
    if template is None:
        return default_template_source()
    return template.html, template.css


def default_template_source() -> tuple[str, str]:
    """The HTML and CSS of the certificate template shipped in templates/certificates/."""
    return (
        get_template(DEFAULT_HTML).template.source,  # type: ignore[attr-defined]
        get_template(DEFAULT_CSS).template.source,  # type: ignore[attr-defined]
    )


def _context(content: CertificateContent, template: CertificateTemplate | None) -> dict[str, Any]:
    url = verification_url(content.verification_code)
    return {
        "learner_name": content.learner_name,
        "learner_name_dir": text_direction(content.learner_name),
        "course_title": content.course_title,
        "course_title_dir": text_direction(content.course_title),
        "instructor_names": content.instructor_names,
        "grade": content.grade,
        "issued_on": content.issued_at.date(),
        "verification_code": content.verification_code,
        "verification_url": url,
        "qr_code": qr_code_data_uri(url),
        "organization_name": template.organization_name if template else settings.SITE_NAME,
        "signatory_name": template.signatory_name if template else "",
        "signatory_title": template.signatory_title if template else "",
        "signature_image": _image_data_uri(template) if template else "",
        "site_name": settings.SITE_NAME,
    }


def _page_css(template: CertificateTemplate | None) -> str:
    size = template.page_size if template else CertificateTemplate.PageSize.A4
    orientation = template.orientation if template else CertificateTemplate.Orientation.LANDSCAPE
    return f"@page {{ size: {size} {orientation}; }}"


@functools.cache
def _fonts() -> Any:
    """Fonts are looked up once per process and reused between renders."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_certificate_pdf(
    content: CertificateContent, template: CertificateTemplate | None
) -> bytes:
    """The certificate as PDF bytes, from its template (None: the shipped default).

    Only data: URIs are fetched while rendering, so a template cannot read local files or
    reach the network. Raises django.template.TemplateSyntaxError for a broken template.
    """
    # Imported here: WeasyPrint loads its stylesheets and native libraries on import, which
    # only the processes that render (workers, commands) need to pay for.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html_source, css_source = _template_sources(template)
    html = (
        Engine.get_default().from_string(html_source).render(Context(_context(content, template)))
    )
    fetcher = URLFetcher(allowed_protocols=["data"])
    fonts = _fonts()
    # The page rule comes last: the template's size and orientation settings win.
    stylesheets = [
        CSS(string=css_source, font_config=fonts, url_fetcher=fetcher),
        CSS(string=_page_css(template), font_config=fonts, url_fetcher=fetcher),
    ]
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, font_config=fonts)
