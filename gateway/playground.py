"""The GraphiQL playground page: every asset served by jimu, nothing from a CDN."""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.responses import HTMLResponse

VENDOR_DIR = Path(__file__).parent / "vendor" / "playground"
STATIC_DIR = Path(__file__).parent / "static"

# The browser enforces what the page promises: scripts and data from this origin only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/playground/vendor/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script id="jimu-config" type="application/json">{config}</script>
<script src="/playground/vendor/react.production.min.js"></script>
<script src="/playground/vendor/react-dom.production.min.js"></script>
<script src="/playground/vendor/graphiql.min.js"></script>
<script src="/playground/playground.js"></script>
</body>
</html>
"""

_BROWSE = """# Browse the shop's goods: one request, exactly the fields the scene shows.
query Browse($first: Int = 5, $after: String) {
  shop { name onlinePaymentCap { amount } }
  products(first: $first, after: $after, sortKey: PRICE) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      handle title brand
      category { name parent { name } }
      priceRange { min { amount } max { amount } }
      skus { code title price { amount } compareAtPrice { amount } purchaseLimit }
    }
  }
}
"""
_SEARCH = """# Search is case-insensitive over title, brand and tags, Chinese included.
query Search {
  products(first: 10, filter: { query: "纸尿裤", maxPrice: 20000 }) {
    nodes { title skus { code price { amount } } }
  }
  categories { handle name parent { handle } }
}
"""
_LOGIN = """# Outside production any code of the form dev:<anything> signs in a stable shopper.
# Put the token in the headers as "Authorization": "Bearer <token>" to act as that shopper.
mutation SignIn {
  shopperLogin(code: "dev:alice") {
    token
    shopper { id }
    userErrors { code field message }
  }
}
"""
_WATCHES = """# The watch shop: pieces above the online payment cap are sold on a deposit.
query Watches {
  shop { name onlinePaymentCap { amount } }
  products(first: 10) {
    nodes {
      title
      skus {
        code title price { amount } premiumDeliveryEligible
        depositPolicy { deposit { amount } creditedValue { amount } balanceDueHours balanceMethods }
      }
    }
  }
}
"""


def playground_page(demo_keys: dict[str, str] | None) -> HTMLResponse:
    """The page; in demo mode with the demo keys and example operations preloaded."""
    if demo_keys:
        panda = {"X-Jimu-Key": demo_keys.get("panda-care", "")}
        watches = {"X-Jimu-Key": demo_keys.get("aurelian", "")}
        tabs = [
            {"query": _BROWSE, "headers": json.dumps(panda, indent=2)},
            {"query": _SEARCH, "headers": json.dumps(panda, indent=2)},
            {"query": _LOGIN, "headers": json.dumps(panda, indent=2)},
            {"query": _WATCHES, "headers": json.dumps(watches, indent=2)},
        ]
        headers = panda
    else:
        tabs = [{"query": _BROWSE}]
        headers = {"X-Jimu-Key": "pk_your_publishable_key"}
    config = {"endpoint": "/graphql", "headers": headers, "tabs": tabs}
    # "<" escaped so no value can close the script element early.
    embedded = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    page = _PAGE.format(title=html.escape("jimu playground"), config=embedded)
    return HTMLResponse(page, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})
