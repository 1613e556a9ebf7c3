"""Delay as SUMO and RESCO count it: time loss plus departure delay, every vehicle included.

Eclipse SUMO's trip information (``--tripinfo-output``, attributes ``timeLoss`` and
``departDelay``; sumo.dlr.de/docs/Simulation/Output/TripInfo.html), with unfinished
vehicles written too (``--tripinfo-output.write-unfinished``), is how the RESCO benchmark
networks' fixed-time delays are measured (Ault & Sharon, NeurIPS 2021; the SUMO 1.28
figures in ``../shared/data/resco/README.md`` take delay = ``timeLoss + departDelay``):

- time loss: the time it spent on the network minus the time it would have needed at the
  free speed of its route, each link's speed capped by its class's maximum speed; plus
- departure delay: its actual insertion minus its scheduled departure (the wait to enter);

and they count every scheduled vehicle: one still on the network at the end counts its
time loss up to the end, one never inserted counts its wait from its scheduled departure
to the end. Today's ``mean_delay_s`` is the mean over completed vehicles only, so the two
differ exactly when the network is still loaded at the end, and a saturated run reads
much better in ``mean_delay_s`` than in ``sumo_delay.mean_delay_s``.

In this model a vehicle drives each link at its free speed (less what its class's drivers
dawdle, ``sim.dawdling``) and waits only at stop lines, so its time loss so far is the sum
of its stop-line waits and its dawdling up to now (for a completed vehicle this equals trip
time minus the route's free-flow time exactly). SUMO's time loss
also holds the acceleration and deceleration around each stop, which a vertical queue does
not model: expect SUMO's figure to be a few seconds higher per stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from trafficsim.sim.world import World


def _mean(x: np.ndarray) -> float | None:
    return round(float(x.mean()), 4) if len(x) else None


def sumo_delay(
    world: World, rec: np.ndarray, T: float, on_link: np.ndarray, dawdled_s: np.ndarray
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``sumo_delay`` block of ``summary.json`` and its per-vehicle columns
    (``time_loss_s``, ``departure_delay_s``, ``sumo_delay_s``; NaN for vehicles not yet
    scheduled at ``T``). ``on_link``: which records stand on a link (not at an entry);
    ``dawdled_s``: each record's time lost to dawdling up to ``T`` (``sim.dawdling``)."""
    n = len(world.veh_t_gen)
    t_gen = np.asarray(world.veh_t_gen, dtype=float)
    t_vin = np.array(world.veh_t_in, dtype=float)
    t_out = np.array(world.veh_t_out, dtype=float)
    scheduled = t_gen < T
    inserted = t_vin <= T
    completed = t_out <= T

    vid = rec["vid"]
    # Waits at stop lines up to T (driving is at free speed, so this is the time loss).
    wait = np.minimum(rec["t_dep_s"], T) - rec["t_stop_s"]
    wait = np.where(on_link & (wait > 0.0), wait, 0.0)
    # And the time dawdling drivers lose on the links (``sim.dawdling``; 0 unless a class
    # says its drivers dawdle, as SUMO's do).
    wait = wait + dawdled_s
    time_loss = np.bincount(vid, weights=wait, minlength=n) if len(rec) else np.zeros(n)
    depart_delay = np.minimum(t_vin, T) - t_gen
    delay = time_loss + depart_delay
    trip = np.minimum(t_out, T) - t_vin

    block = {
        "vehicles_scheduled": int(scheduled.sum()),
        "vehicles_inserted": int(inserted.sum()),
        "vehicles_completed": int(completed.sum()),
        "vehicles_on_network": int((inserted & ~completed).sum()),
        "vehicles_waiting_to_insert": int((scheduled & ~inserted).sum()),
        "mean_delay_s": _mean(delay[scheduled]),
        "mean_time_loss_s": _mean(time_loss[scheduled]),
        "mean_departure_delay_s": _mean(depart_delay[scheduled]),
        "mean_trip_time_s": _mean(trip[completed]),
        "mean_trip_time_with_unfinished_s": _mean(trip[inserted]),
    }
    with np.errstate(invalid="ignore"):
        columns = {
            "time_loss_s": np.where(scheduled, time_loss, np.nan),
            "departure_delay_s": np.where(scheduled, depart_delay, np.nan),
            "sumo_delay_s": np.where(scheduled, delay, np.nan),
        }
    return block, columns
