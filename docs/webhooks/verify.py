import base64
import hashlib
import hmac


def verify_jimu_webhook(secret: str, raw_body: bytes, header: str) -> bool:
    """True if `header` (X-Jimu-Hmac-SHA256) signs `raw_body`, the bytes exactly as received."""
    expected = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, (header or "").encode())
