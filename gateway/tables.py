"""Every SQL table, gathered for migrations: importing the modules registers them."""

from __future__ import annotations

from sqlmodel import SQLModel

import adapters.coupons.sql
import adapters.delivery.sql
import adapters.documents.sql
import adapters.goods.sql
import adapters.inventory.sql
import adapters.members.sql
import adapters.orders.sql
import adapters.payments.sql
import adapters.shop_remotes.sql  # noqa: F401
import adapters.shops.sql  # noqa: F401
import adapters.webhooks.sql  # noqa: F401
import adapters.wechat_accounts.sql  # noqa: F401

metadata = SQLModel.metadata
