"""Paying for orders: opening payments, hearing from providers, and what money changes for an order.

The ledger moves the money; the cashier does what follows from it in the other
adapters. The first money for an order sells its stock and redeems its
coupons; a cancelled order (forfeited, refunded) gives back its stock, coupons
and slot. Each follow-up is idempotent, and the sweep finishes any that a dead
process left undone (``uncommitted``; unreleased orders are the checkout's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.orders.checkout import Checkout, follow_up
from adapters.orders.port import Order
from adapters.payments.port import (
    Ledger,
    Method,
    Notice,
    Payment,
    PaymentProvider,
    Session,
    Settled,
)

log = logging.getLogger("jimu.cashier")

# A payment sheet left this long without word from the provider is asked about.
RECONCILE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class CashierSweep:
    committed: list[str]
    forfeited: list[str]
    reconciled: list[int]


class Cashier:
    def __init__(self, ledger: Ledger, providers: Mapping[Method, PaymentProvider], method: Method,
                 checkout: Checkout, listeners: Sequence[Callable[[Settled], None]] = ()) -> None:
        self.ledger = ledger
        self.providers = providers
        self.method = method
        self.checkout = checkout
        self._listeners = tuple(listeners)  # told of every settlement (the metrics)
        self._commit_after = 0  # where the sweep's next page of commits starts, as the checkout's give-backs

    async def pay(self, order: Order, key: str, cap: int, payer: str | None, now: datetime) -> Session:
        """The next payment due on the order (at most ``cap``), and its sheet; the same key, the same payment."""
        await self.providers[self.method].ready(order.shop_id)  # before a payment is opened for nothing
        payment = await self.ledger.open(order.shop_id, order.number, key, self.method, cap, now)
        provider = self.providers[payment.method]
        return await provider.session(payment, f"jimu order {order.number}", payer)

    async def notify(self, notice: Notice, now: datetime) -> Settled:
        settled = await self.ledger.settle(notice.payment_id, notice.succeeded, notice.amount, notice.reference, now)
        if settled.first_money:  # the money stands whatever follows: a provider is told it was heard
            await follow_up(self._commit(settled.payment.shop_id, settled.payment.order_number),
                            f"committing {settled.payment.order_number}")
        self._tell(settled)
        return settled

    async def collect(self, order: Order, amount: int, reference: str, now: datetime) -> Payment:
        payment = await self.ledger.collect_balance(order.shop_id, order.number, amount, reference, now)
        self._tell(Settled(payment, changed=True))
        return payment

    def _tell(self, settled: Settled) -> None:
        for listener in self._listeners:
            try:
                listener(settled)
            except Exception:  # the money has moved: a listener's bug must not say otherwise
                log.exception("a settlement listener failed")

    async def cancel_by_shopper(self, order: Order, now: datetime) -> bool:
        """Unpaid: cancelled. Deposit paid: cancelled and the deposit forfeited. Paid in full: not here."""
        if order.paid == 0:
            return await self.checkout.cancel(order, now)
        if not await self.ledger.forfeit(order.shop_id, order.number, now):
            return False
        await follow_up(self.checkout.release_holds(order), f"giving back {order.number}")
        return True

    async def merchant_cancel(self, order: Order, reason: str, now: datetime) -> bool:
        if not await self.ledger.merchant_cancel(order.shop_id, order.number, reason, now):
            return False
        await follow_up(self.checkout.release_holds(order), f"giving back {order.number}")
        return True

    async def sweep(self, now: datetime, limit: int = 100) -> CashierSweep:
        """Ask providers about silent payments; commit what paid orders hold loosely; forfeit overdue deposits."""
        committed = []
        page = await self.ledger.uncommitted(limit, self._commit_after)
        self._commit_after = page[-1][0] if len(page) == limit else 0
        for _, shop_id, number in page:
            if await follow_up(self._commit(shop_id, number), f"committing {number}"):
                committed.append(number)
        forfeited = []
        for shop_id, number in await self.ledger.balance_overdue(now, limit):
            if await self.ledger.forfeit(shop_id, number, now):
                [order] = await self.checkout.orders.orders_by_number(shop_id, [number])
                if order is not None:
                    await follow_up(self.checkout.release_holds(order), f"giving back {number}")
                forfeited.append(number)
        reconciled = []
        for method, provider in self.providers.items():
            for payment in await self.ledger.pending(method, now - RECONCILE_AFTER, limit):
                try:
                    notice = await provider.query(payment)
                except Exception:  # one provider's failure must not stop the rest of the sweep
                    log.warning("could not ask %s about payment %s", method.value, payment.id, exc_info=True)
                    continue
                if notice is not None and (await self.notify(notice, now)).changed:
                    reconciled.append(payment.id)
        return CashierSweep(committed, forfeited, reconciled)

    async def _commit(self, shop_id: int, number: str) -> None:
        reservation = await self.checkout.inventory.reservation_by_ref(shop_id, number)
        if reservation is not None:
            await self.checkout.inventory.commit(shop_id, reservation.id)
        await self.checkout.coupons.redeem(shop_id, number)
        await self.ledger.mark_committed(shop_id, number)
