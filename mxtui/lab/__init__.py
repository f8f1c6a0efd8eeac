"""The lab: mock DNS and SMTP hosts on loopback, so every delivery situation can be shown offline.

Scenario zones use documentation addresses (192.0.2.0/24, 2001:db8::/32); the lab servers bind
only to loopback, and the lab dialer maps those addresses to loopback ports, so nothing a lab
scenario does ever leaves the machine.
"""
