"""The one factory of the app, used by the CLI and the tests: the network, the choices and the
driver made from options (a domain, nameservers, a scenario, a recording, the settings' parts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App

from mxtui.desk.choices import Choices
from mxtui.desk.driver import Cancel, Schedule
from mxtui.desk.envelope import EnvelopeChoice
from mxtui.desk.replay import ReplayDriver
from mxtui.desk.walk import WalkDriver
from mxtui.lab.scenarios import Scenario
from mxtui.model import Envelope, Timeouts
from mxtui.network import Network, RealNetwork
from mxtui.record import Recording, RecordingReader
from mxtui.ui.app import Driver, MXTuiApp


def timers(app: App[int]) -> Schedule:
    """The drivers' `schedule`, on Textual's timers."""

    def schedule(delay: float, callback: Callable[[], None]) -> Cancel:
        return app.set_timer(delay, callback).stop

    return schedule


def make_app(
    *,
    domain: str | None = None,
    nameservers: Iterable[tuple[str, int]] = (),
    lab: Network | None = None,
    port: int = 25,
    dns_timeout: float = 5.0,
    timeouts: Timeouts | None = None,
    envelope: Envelope | None = None,
    chosen: EnvelopeChoice | None = None,
    profile: str | None = None,
    scenario: Scenario | None = None,
    replay: RecordingReader | Recording | None = None,
    replay_speed: float = 1.0,
    replay_paused: bool = True,
) -> MXTuiApp:
    """The one factory used by the CLI and the tests: the network (a scenario's lab, the demo
    lab when no domain and no nameserver is given, else the real one), the choices (from the
    scenario, or the settings' `chosen` envelope parts and `profile`) and the driver (a walk,
    or a replay of `replay`, which opens paused unless `replay_paused` is False)."""
    if replay is not None:
        source = replay
        return MXTuiApp(
            choices=Choices.make("", lab=True, profile=profile or "postfix"),
            network=None,
            driver=lambda app: ReplayDriver(
                source, app.show_event, speed=replay_speed, paused=replay_paused
            ),
        )
    if scenario is not None and lab is None:
        lab = scenario.lab()
    if lab is None and not domain and not nameservers:
        from mxtui.lab.runtime import Lab

        lab = Lab()  # no domain and no nameserver: the lab demo
    network: Network = lab if lab is not None else RealNetwork(tuple(nameservers), port)
    domain = domain or network.domain
    if scenario is not None:
        choices = Choices.make(
            scenario.domain, lab=True, profile=profile or scenario.profile,
            envelope=envelope or scenario.envelope, scenario=scenario.name,
            params=scenario.params,  # the knobs the scenario shows (a DANE-validating Postfix…)
        )  # fmt: skip
    else:
        choices = Choices.make(
            domain, lab=network.simulated, profile=profile or "postfix", chosen=chosen,
            envelope=envelope,
        )  # fmt: skip

    def walk_driver(app: MXTuiApp) -> Driver:
        return WalkDriver(network, app.choices, app.show_event, timers(app), timeouts=timeouts)

    return MXTuiApp(
        choices=choices, network=network, driver=walk_driver, domain=domain,
        dns_timeout=dns_timeout, timeouts=timeouts, scenario=scenario,
    )  # fmt: skip
