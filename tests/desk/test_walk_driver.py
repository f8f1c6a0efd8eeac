"""The walk driver without a terminal: run, pause, one step at a time, reshuffle, next retry,
every retry, a profile switch, the second hop, and each notice naming its own recipient."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from desk_support import Desk, ended, until

from mxtui.desk.driver import Notice, StatusChanged
from mxtui.desk.explain import explain, shown_walk_step
from mxtui.model import RecipientStatus, Stage, StepDone, WalkEnded, WalkStarted


@pytest.fixture
async def greylist() -> AsyncIterator[Desk]:
    async with Desk("greylist-primary", "qmail") as desk:
        yield desk


async def test_greylisting_primary_under_qmail_waits_then_the_next_retry_delivers(greylist):
    driver = greylist.driver
    driver.run()
    await until(lambda: ended(driver), "the first attempt")
    state = driver.state
    assert state is not None and state.result is not None
    assert state.result.outcome == "deferred"
    primary = state.order[0].address
    assert state.marks[primary].kind == "deferred"
    assert driver.status().mode == "ended" and "f next retry" in driver.status().hint
    driver.next_retry()  # the lab: simulated time jumps, the greylist has cleared
    await until(lambda: ended(driver) and driver.state.attempt == 1, "the retry")
    assert driver.state.result.outcome == "delivered"
    assert driver.state.marks[primary].kind == "accepted"
    [recipient] = driver.state.recipients.values()
    assert recipient.state is RecipientStatus.DELIVERED


async def test_n_takes_one_step_at_a_time_and_g_runs_the_rest(greylist):
    driver = greylist.driver
    driver.step()  # no walk yet: one starts, paused after its first step
    await until(lambda: len(greylist.of(StepDone)) == 1, "the first step")
    await asyncio.sleep(0.05)
    assert len(greylist.of(StepDone)) == 1 and driver.active and not driver.running
    assert driver.status().mode == "paused"
    for count in (2, 3):
        driver.step()
        await until(lambda c=count: len(greylist.of(StepDone)) == c, f"step {count}")
    await asyncio.sleep(0.05)
    assert len(greylist.of(StepDone)) == 3
    driver.toggle()
    await until(lambda: ended(driver), "the rest of the attempt")
    assert greylist.of(WalkEnded)


async def test_pause_holds_the_walk_between_steps(greylist):
    driver = greylist.driver
    driver.delay = 0.05
    driver.run()
    await until(lambda: len(greylist.of(StepDone)) >= 1, "a step")
    driver.toggle()  # pause
    await asyncio.sleep(0.1)
    held = len(greylist.of(StepDone))
    await asyncio.sleep(0.2)
    assert len(greylist.of(StepDone)) == held and driver.status().mode == "paused"
    driver.toggle()
    await until(lambda: ended(driver), "the end")


async def test_to_the_end_runs_every_retry_in_simulated_time() -> None:
    async with Desk("all-down", "postfix") as desk:
        desk.driver.run()
        await until(lambda: ended(desk.driver), "the first attempt")
        desk.driver.to_end()
        await until(lambda: ended(desk.driver) and desk.driver.state.result.next_retry_any_s
                    is None, "give-up", limit=60)  # fmt: skip
        result = desk.driver.state.result
        assert result.outcome == "bounced" and result.ndrs
        assert len(desk.of(WalkStarted)) > 3  # several retries, no real time spent
        assert any(isinstance(e, Notice) and "b shows the NDR" in e.text for e in desk.events)


async def test_a_profile_switch_walks_again_with_the_same_seed(greylist):
    driver = greylist.driver
    driver.run()
    await until(lambda: ended(driver), "the qmail walk")
    seed = driver.seed
    assert driver.state.result.outcome == "deferred"
    driver.use(greylist.choices.with_profile("postfix"))  # Postfix goes round the greylist
    await until(lambda: ended(driver) and driver.state.profile == "postfix", "the postfix walk")
    assert driver.seed == seed
    assert driver.state.result.outcome == "delivered"


async def test_reshuffle_starts_over_with_a_new_seed(greylist):
    driver = greylist.driver
    driver.run()
    await until(lambda: ended(driver), "the walk")
    seed = driver.seed
    driver.restart()
    await until(lambda: ended(driver) and driver.seed != seed, "the reshuffled walk")
    assert any(isinstance(e, Notice) and e.text.startswith("New shuffle") for e in greylist.events)


async def test_the_backup_mx_hands_on_and_its_second_hop_is_in_the_state() -> None:
    async with Desk("backup-mx") as desk:
        desk.driver.run()
        await until(lambda: ended(desk.driver), "the walk")
        state = desk.driver.state
        assert state.result.outcome == "delivered"
        assert state.hop is not None and state.hop.hop == 2
        assert "forwards as" in state.hop_words()
        assert state.hop_marks  # the relay's own attempt is marked apart


async def test_every_decision_of_mixed_recipients_names_its_own_recipient() -> None:
    async with Desk("mixed-recipients") as desk:
        desk.driver.run()
        await until(lambda: ended(desk.driver), "the walk")
        rcpts = [e for e in desk.of(StepDone) if e.stage is Stage.RCPT]
        assert len(rcpts) == 3
        for event in rcpts:
            explanation = explain(shown_walk_step(event, desk.choices.envelope), desk.choices)
            assert explanation.notice is not None
            assert event.step is not None
            assert event.step.sent == (f"RCPT TO:<{explanation.notice.recipient}>",)
        # picked from the transcript later: the state knows where each step happened
        for event in rcpts:
            target, context = desk.driver.state.contexts[id(event.step)]
            assert target == event.target and context == event.context


async def test_stop_leaves_no_task_and_closes_the_session(greylist):
    driver = greylist.driver
    driver.delay = 0.2
    driver.run()
    await until(lambda: len(greylist.of(StepDone)) >= 1, "a step")
    driver.stop()
    await asyncio.sleep(0.05)
    assert not driver.active
    assert driver.walk is not None and driver.walk.session is not None
    assert not driver.walk.session.connected
    assert any(isinstance(e, StatusChanged) for e in greylist.events)


async def test_faster_and_slower_stay_within_the_speeds(greylist):
    driver = greylist.driver
    for _ in range(10):
        driver.slower()
    assert driver.delay == 1.5
    for _ in range(10):
        driver.faster()
    assert driver.delay == 0.0
    assert any(isinstance(e, Notice) and "no pause" in e.text for e in greylist.events)
