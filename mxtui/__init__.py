"""mxtui: explore SMTP delivery — MX records, a step-by-step SMTP transcript, and what a sending
MTA does next."""

__version__ = "0.1.0"
