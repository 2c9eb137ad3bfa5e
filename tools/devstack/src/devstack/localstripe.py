"""localstripe with its state in a file of our choosing: ``python -m devstack.localstripe --port N --state FILE``.

localstripe keeps its whole store in ``/tmp/localstripe.pickle``, one file for every instance on the
machine: two at once (the tests' and `make run`'s, say) overwrite each other's state, and one that
starts while another is writing reads half a file and dies. Each of ours gets its own file, written
atomically. And a PaymentIntent reports ``amount_received`` as Stripe's do (localstripe leaves it out), since
commerce checks it before calling a purchase paid, and a Refund takes Stripe's ``reason`` (localstripe refuses
it). Everything else is localstripe as it ships.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys

from localstripe import resources, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", required=True, help="the file localstripe's store is kept in")
    args = parser.parse_args()
    path = os.path.abspath(args.state)

    def load(store) -> None:
        try:
            with open(path, "rb") as file:
                saved = pickle.load(file)  # noqa: S301 - the state file this process wrote itself (save below)
        except FileNotFoundError:
            return
        store.clear()
        store.update(saved)

    def dump(store) -> None:
        with open(path + ".tmp", "wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(path + ".tmp", path)

    def amount_received(intent) -> int:
        return resources.try_convert_to_int(intent.amount) if intent.status == "succeeded" else 0

    plain_refund = resources.Refund.__init__

    def refund_with_reason(self, reason=None, **kwargs):
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise resources.UserError(400, "Invalid reason")
        plain_refund(self, **kwargs)
        self.reason = reason

    resources.PaymentIntent.amount_received = property(amount_received)
    resources.Refund.__init__ = refund_with_reason
    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    sys.argv = ["localstripe", "--port", str(args.port)]
    server.start()


if __name__ == "__main__":
    main()
