"""The delivery walk: an MX plan, a dialer, one session per address, and a decision per step.

This is where the three parts meet the way a sending MTA combines them: the plan gives the try
list (the profile's ordering rule, equal preferences shuffled with a seed the user sees and can
set), each address gets an SMTP `Session`, every step's reply goes to `decide` under the chosen
profile, and the walk does what the decision says: carry on, move to the next address or MX,
requeue, bounce, or retry with HELO. Per-recipient state is kept, because a 4xx or 5xx at RCPT
concerns one recipient.

Everything that happens is an event (`mxtui.model.WalkEvent`), so the app can animate it; a
gate (`mxtui.gate.StepGate`, held by the walk) lets it pause and single-step. Time is a
`SimClock` shared with the lab hosts, so "the next retry in 400 s" can happen now and a
greylist clears as it would have.

Relays: given `relays`, a message a relay accepts goes on as a second hop (`hops.py`). The
sender's outcome stays what it was: once the relay said 250 at the dot, the message is the
relay's responsibility.

Safety: the end-of-data dot goes to a host outside the lab only with ``confirm_send=True``
(the session enforces it; the walk marks such recipients `held`).

Modules: `clock` (SimClock), `order` (the try list, moving along it, the decision context,
the DNS outcome), `attempt` (one address's conversation and the `Move` it ends with), `hops`
(a relay's onward delivery), `walk` (the `Walk` itself).
"""

from mxtui.delivery.attempt import Move
from mxtui.delivery.clock import ARRIVAL, SimClock
from mxtui.delivery.order import dns_outcome, try_order
from mxtui.delivery.walk import EventSink, QuitAfter, Walk, walk

__all__ = [
    "ARRIVAL",
    "EventSink",
    "Move",
    "QuitAfter",
    "SimClock",
    "Walk",
    "dns_outcome",
    "try_order",
    "walk",
]
