"""MX resolution with dnspython into an `MXPlan` (no UI, no printing)."""

from mxtui.dns.names import Domain, DomainError, normalise_domain
from mxtui.dns.resolve import resolve_mx

__all__ = ["Domain", "DomainError", "normalise_domain", "resolve_mx"]
