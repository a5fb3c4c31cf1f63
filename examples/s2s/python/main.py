"""AffTrack server-to-server example (Python 3, standard library only): reports a server-side
click, then a conversion (postback) attributed to it, signed with the seed's HMAC-SHA256 recipe.
The seed's version is a FastAPI app using httpx; this one is a plain script on urllib, so it runs
with nothing installed (put `send` behind your own FastAPI route to get the seed's server).

    AFFTOK_API_KEY=ak_... AFFTOK_ADVERTISER_ID=adv_... AFFTOK_OFFER_ID=off_... \
    AFFTOK_TRACKING_CODE=... AFFTOK_BASE_URL=http://127.0.0.1:8788 python3 main.py

Prints one JSON line: {"click_id": ..., "conversion_id": ..., "transaction_id": ...}.
"""

import email.utils
import hashlib
import hmac
import json
import os
import random
import secrets
import sys
import time
import urllib.error
import urllib.request


def require_env(name):
    value = os.environ.get(name)
    if not value:
        print(f"missing environment variable {name}", file=sys.stderr)
        sys.exit(2)
    return value


API_KEY = require_env("AFFTOK_API_KEY")
ADVERTISER_ID = require_env("AFFTOK_ADVERTISER_ID")
BASE_URL = os.environ.get("AFFTOK_BASE_URL", "https://api.afftok.com").rstrip("/")
OFFER_ID = require_env("AFFTOK_OFFER_ID")
TRACKING_CODE = os.environ.get("AFFTOK_TRACKING_CODE", "")


def generate_signature(api_key, advertiser_id, timestamp, nonce):
    """hex(HMAC-SHA256(api_key, "{api_key}|{advertiser_id}|{timestamp}|{nonce}"))"""
    data_to_sign = f"{api_key}|{advertiser_id}|{timestamp}|{nonce}"
    return hmac.new(api_key.encode(), data_to_sign.encode(), hashlib.sha256).hexdigest()


def backoff(attempt):
    return random.random() * min(8.0, 0.25 * 2**attempt)


def retry_after_seconds(value):
    """Seconds a Retry-After asks for: delta-seconds or an HTTP date (RFC 9110); None if neither."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if at is None:
        return None
    return max(0.0, at.timestamp() - time.time())


def send(path, fields, keyed):
    """POSTs a signed body with a fresh timestamp and nonce per attempt. Retries 429/503 (nothing
    was written) and, when keyed by a transaction_id, network errors too."""
    attempt = 0
    uncertain = False  # an earlier attempt may have been recorded (its answer was lost)
    while True:
        timestamp = int(time.time() * 1000)
        nonce = secrets.token_hex(16)
        body = {"api_key": API_KEY, "advertiser_id": ADVERTISER_ID, **fields, "timestamp": timestamp,
                "nonce": nonce, "signature": generate_signature(API_KEY, ADVERTISER_ID, timestamp, nonce)}
        request = urllib.request.Request(BASE_URL + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as res:
                return json.loads(res.read())["data"]
        except urllib.error.HTTPError as err:
            try:
                payload = json.loads(err.read())
            except ValueError:
                payload = {}
            retry_after = retry_after_seconds(err.headers.get("Retry-After"))
            if err.code in (429, 503) and attempt < 3 and (retry_after or 0) <= 60:
                time.sleep(max(retry_after or 0, backoff(attempt)))
                attempt += 1
                continue
            # A retry after a lost answer told "duplicate": that attempt was recorded. After a
            # 429/503 (which write nothing) a 409 is a real duplicate, raised below.
            if keyed and uncertain and err.code == 409 and payload.get("code") == "DUPLICATE_TRANSACTION":
                return {"already_recorded": True}
            raise RuntimeError(f"{path}: {err.code} {payload.get('code')}: {payload.get('error')}") from None
        except urllib.error.URLError:
            if not keyed or attempt >= 3:
                raise
            uncertain = True
            time.sleep(backoff(attempt))
            attempt += 1


def main():
    click_id = None
    if TRACKING_CODE:
        click = send("/api/sdk/click", {
            "offer_id": OFFER_ID, "tracking_code": TRACKING_CODE,
            "sub_id_1": "source", "sub_id_2": "medium", "sub_id_3": "campaign",
            "ip": "203.0.113.11",
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15",
        }, keyed=False)
        click_id = click["click_id"]

    transaction_id = os.environ.get("AFFTOK_TRANSACTION_ID") or f"txn_{secrets.token_hex(8)}"
    conversion = send("/api/postback", {
        "offer_id": OFFER_ID, "transaction_id": transaction_id, "click_id": click_id,
        "amount": 29.99, "currency": "USD", "status": "approved",
        "custom_params": {"product_id": "prod_456"},
    }, keyed=True)
    print(json.dumps({"click_id": click_id, "conversion_id": conversion.get("conversion_id"),
                      "transaction_id": transaction_id}))


if __name__ == "__main__":
    main()
