"""The desk: what the person chose and is doing, headless, between the core and the Textual skin.

`Choices` (choices.py) holds every choice once: the profile object and its parsed parameters,
the envelope, the seed, the walk's speed. A `Driver` (driver.py) is what the keys drive: a
`WalkDriver` (walk.py) paces a delivery walk over a `mxtui.network.Network`, a `ReplayDriver`
(replay.py) plays a recording; both fold their events into a `WalkState` (walk_state.py) and
hand every event to one callback. `SessionLog` (log.py) keeps what happened for a recording;
`explain()` (explain.py) computes what the side panel shows. Timers come in as a
``schedule(delay, callback)`` callable, so the drivers are tested as plain async code.

Nothing here imports textual (the layering test checks it); the app only routes keys and
shows events.
"""
