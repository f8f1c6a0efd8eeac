"""TLS policy on the delivery path: MTA-STS (RFC 8461), TLS-RPT (RFC 8460) and DANE (RFC 7672).

`lookup_tls_policy` finds a domain's policy beside its MX plan; `mxtui.tlspolicy.tlsa` matches a
server's certificate chain against TLSA records; `mxtui.tlspolicy.dnssec` decides whether DNS
answers are secure. No textual here, as everywhere outside `mxtui.ui`.
"""

from mxtui.tlspolicy.lookup import TlsSetup, lookup_tls_policy
from mxtui.tlspolicy.model import HostTls, MtaSts, TlsPolicy, TlsRpt

__all__ = ["HostTls", "MtaSts", "TlsPolicy", "TlsRpt", "TlsSetup", "lookup_tls_policy"]
