import pytest

from webhooks import signing

SECRET = "whsec_test_0123456789"
BODY = b'{"id":"e-1","type":"order.paid"}'


def test_a_signature_verifies_with_the_same_secret_and_body():
    header = signing.signature_header(secret=SECRET, timestamp=1_700_000_000, body=BODY)

    assert signing.signature_verify(secret=SECRET, header=header, body=BODY, now=1_700_000_100)


@pytest.mark.parametrize(
    ("_case", "body", "now"),
    [
        ("tampered body", BODY + b" ", 1_700_000_100),
        ("replayed late", BODY, 1_700_000_000 + 301),
    ],
)
def test_a_signature_does_not_verify(_case, body, now):
    header = signing.signature_header(secret=SECRET, timestamp=1_700_000_000, body=BODY)

    assert not signing.signature_verify(secret=SECRET, header=header, body=body, now=now)


def test_a_malformed_header_does_not_verify():
    assert not signing.signature_verify(secret=SECRET, header="v1=abc", body=BODY)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()

    assert signing.signature_compute(secret=SECRET, timestamp=1_700_000_000, body=BODY) == expected
