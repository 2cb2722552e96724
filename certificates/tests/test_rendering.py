"""The PDF itself: text (right-to-left included), page geometry, QR code, no outside access."""

import base64
import io
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader

from certificates.models import CertificateTemplate
from certificates.rendering import (
    CertificateContent,
    qr_code_data_uri,
    render_certificate_pdf,
    text_direction,
    verification_url,
)
from certificates.tests.conftest import pdf_text
from certificates.tests.factories import CertificateTemplateFactory

pytestmark = pytest.mark.django_db

ARABIC_NAME = "محمد عبد الله"
ARABIC_TITLE = "مقدمة في البرمجة"
HEBREW_NAME = "שרה לוי"
HEBREW_TITLE = "יסודות מדעי הנתונים"


def content(learner_name="Ada Lovelace", course_title="Analytical Engines", **kwargs):
    return CertificateContent(
        learner_name=learner_name,
        course_title=course_title,
        instructor_names=kwargs.get("instructor_names", "Charles Babbage"),
        grade=kwargs.get("grade", ""),
        issued_at=datetime(2026, 3, 14, 9, 30, tzinfo=UTC),
        verification_code="abcdefghijklmnop",
    )


def test_default_template_is_one_a4_landscape_page():
    reader = PdfReader(io.BytesIO(render_certificate_pdf(content(), None)))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    # A4 landscape: 297 x 210 mm in points.
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)


def test_default_template_prints_the_certificate_text(settings):
    settings.SITE_URL = "https://learn.example.com"

    text = pdf_text(render_certificate_pdf(content(grade="Distinction"), None))

    assert "Ada Lovelace" in text
    assert "Analytical Engines" in text
    assert "Charles Babbage" in text
    assert "Distinction" in text
    assert "14 March 2026" in text
    assert "abcdefghijklmnop" in text
    assert "https://learn.example.com/certificates/verify/abcdefghijklmnop/" in text.replace(
        "\n", ""
    )


@pytest.mark.parametrize(
    ("name", "title"),
    [
        pytest.param(ARABIC_NAME, ARABIC_TITLE, id="_case arabic"),
        pytest.param(HEBREW_NAME, HEBREW_TITLE, id="_case hebrew"),
    ],
)
def test_right_to_left_names_and_titles_survive_in_the_pdf_text(name, title):
    text = pdf_text(render_certificate_pdf(content(name, title), None))

    # The extracted text is in logical order: each word is found as typed, letters joined.
    for word in [*name.split(), *title.split()]:
        assert word in text


def test_right_to_left_text_gets_the_right_direction():
    assert text_direction(ARABIC_NAME) == "rtl"
    assert text_direction(HEBREW_NAME) == "rtl"
    assert text_direction("Ada") == "ltr"
    assert text_direction("123 " + HEBREW_NAME) == "rtl"  # digits are weak
    assert text_direction("") == "ltr"


@pytest.mark.parametrize(
    "text",
    [pytest.param(ARABIC_NAME, id="_case arabic"), pytest.param(HEBREW_NAME, id="_case hebrew")],
)
def test_right_to_left_text_is_set_in_a_font_that_covers_it(text):
    """DejaVu Serif has no Arabic: the text falls back to DejaVu Sans (fonts-dejavu-core), not
    to empty boxes."""
    template = CertificateTemplateFactory(
        html="<p style=\"font-family: 'DejaVu Serif'\">{{ learner_name }}</p>", css=""
    )
    reader = PdfReader(io.BytesIO(render_certificate_pdf(content(text), template)))

    fonts = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for font in reader.pages[0]["/Resources"]["/Font"].values()
    }
    assert "DejaVu-Sans" in fonts


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_page_one_renders_to_a_png(tmp_path):
    """Smoke check with poppler: the PDF is well-formed and draws something on page 1."""
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(render_certificate_pdf(content(ARABIC_NAME, HEBREW_TITLE), None))

    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf,
            tmp_path / "page",
        ],
        check=True,
        timeout=60,
    )

    image = Image.open(tmp_path / "page.png").convert("L")
    assert image.size == (468, 331)  # A4 landscape at 40 dpi
    darkest, lightest = image.getextrema()
    assert darkest < 80  # the frame and the text are drawn
    assert lightest > 200  # on a light page


def test_qr_code_is_an_svg_of_the_verification_url(settings):
    settings.SITE_URL = "https://learn.example.com"

    uri = qr_code_data_uri(verification_url("abcdefghijklmnop"))

    assert uri.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert "<svg" in svg
    assert "<path" in svg


def test_verification_url_is_absolute_and_public(settings):
    settings.SITE_URL = "https://learn.example.com"

    assert verification_url("abc") == "https://learn.example.com/certificates/verify/abc/"


def test_a_custom_template_sets_page_size_and_orientation():
    template = CertificateTemplateFactory(
        page_size=CertificateTemplate.PageSize.LETTER,
        orientation=CertificateTemplate.Orientation.PORTRAIT,
        css="@page { size: A5 landscape; }",  # the template's settings win over its CSS
    )

    reader = PdfReader(io.BytesIO(render_certificate_pdf(content(), template)))

    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert "Acme Academy" in reader.pages[0].extract_text()


def test_a_custom_template_escapes_the_learners_name():
    template = CertificateTemplateFactory(html="<p>{{ learner_name }}</p>")

    text = pdf_text(render_certificate_pdf(content("<b>Bobby</b> & Co"), template))

    assert "<b>Bobby</b> & Co" in text


def test_a_template_cannot_load_local_files(tmp_path):
    secret = tmp_path / "secret.png"
    Image.new("RGB", (10, 10), "red").save(secret)
    template = CertificateTemplateFactory(html=f'<img src="file://{secret}"><p>x</p>')

    reader = PdfReader(io.BytesIO(render_certificate_pdf(content(), template)))

    assert not reader.pages[0]["/Resources"].get("/XObject")


def test_a_template_may_embed_a_data_uri_image():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buffer, format="PNG")
    data_uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    template = CertificateTemplateFactory(html=f'<img src="{data_uri}"><p>x</p>')

    reader = PdfReader(io.BytesIO(render_certificate_pdf(content(), template)))

    assert reader.pages[0]["/Resources"].get("/XObject")


def test_the_signature_image_is_embedded(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 10), "blue").save(buffer, format="PNG")
    template = CertificateTemplateFactory(
        html='{% if signature_image %}<img src="{{ signature_image }}">{% endif %}<p>x</p>'
    )
    template.signature_image.save("signature.png", io.BytesIO(buffer.getvalue()))

    reader = PdfReader(io.BytesIO(render_certificate_pdf(content(), template)))

    assert reader.pages[0]["/Resources"].get("/XObject")


@pytest.mark.parametrize("path", ["Dockerfile", ".ci/run"])
def test_image_and_ci_install_the_libraries_and_fonts_certificates_need(path, settings):
    text = (settings.BASE_DIR / path).read_text()

    for package in ("libpango-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert package in text


def test_ci_installs_pdftoppm_for_the_page_smoke_check(settings):
    assert "poppler-utils" in (settings.BASE_DIR / ".ci/run").read_text()


def test_weasyprint_subsets_fonts_with_harfbuzz():
    """Without libharfbuzz-subset0 WeasyPrint falls back to fontTools, ten times slower."""
    from weasyprint.pdf.fonts import harfbuzz_subset

    assert harfbuzz_subset is not None
