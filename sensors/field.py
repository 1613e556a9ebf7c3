"""All field devices of a run, polled when their periods end."""

from __future__ import annotations

import heapq

import numpy as np

from trafficsim.sensors.deployment import DeviceSpec, build_deployment
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sensors.devices import Camera, FaultState, LoopDetector, ProbeFleet
from trafficsim.sensors.readings import DeviceInfo, DeviceKind, Reading, StatusChange
from trafficsim.sim import World, lon_lat
from trafficsim.sim.streams import Stream, seed_sequence

Device = LoopDetector | Camera | ProbeFleet


class Field:
    """The devices of a world; :meth:`poll` returns what they report at a given time.

    Devices sample at multiples of their period from the start of the run. Create the field
    before the world runs: devices see nothing that happened before they were installed.
    ``spec`` says which devices (default: the scenario's ``[sensors]`` table).
    """

    def __init__(self, world: World, spec: DeploymentSpec | None = None) -> None:
        self.world = world
        self.deployment = build_deployment(world, spec or DeploymentSpec.of(world.scenario))
        specs = self.deployment.devices
        root = seed_sequence(world.seed, Stream.SENSORS)
        children = root.spawn(len(specs))
        self.devices: dict[str, Device] = {}
        self.info: dict[str, DeviceInfo] = {}
        self._due: list[tuple[float, int, str]] = []
        for k, (device_spec, ss) in enumerate(zip(specs, children, strict=True)):
            fault_ss, noise_ss, own_ss = ss.spawn(3)
            faults = FaultState(
                device_spec.faults, np.random.default_rng(fault_ss), np.random.default_rng(noise_ss)
            )
            info = self._device_info(device_spec)
            self.info[device_spec.device_id] = info
            dev: Device
            if device_spec.kind is DeviceKind.LOOP:
                dev = LoopDetector(world, device_spec, faults, info)
            elif device_spec.kind is DeviceKind.CAMERA:
                dev = Camera(world, device_spec, faults, info)
            else:
                dev = ProbeFleet(world, device_spec, faults, info, np.random.default_rng(own_ss))
            self.devices[device_spec.device_id] = dev
            heapq.heappush(
                self._due, (world.now_s + device_spec.period_s, k, device_spec.device_id)
            )

    def _device_info(self, spec: DeviceSpec) -> DeviceInfo:
        w = self.world
        sc = w.scenario
        up, down = self.deployment.neighbours.get(spec.device_id, ((), ()))
        if spec.lane_group is None:
            return DeviceInfo(
                spec.device_id, spec.kind, spec.period_s, None, None, None, None, None, None
            )
        li = next(i for i in w.lane_group_info if i.id == spec.lane_group)
        link = next(ln for ln in sc.links if ln.id == li.link)
        nodes = {n.id: n for n in sc.nodes}
        a, b = nodes[link.from_node], nodes[link.to_node]
        frac = 1.0 - spec.position_m / link.length_m  # position along the link
        lon, lat = lon_lat(
            sc.origin_lat,
            sc.origin_lon,
            a.x_m + frac * (b.x_m - a.x_m),
            a.y_m + frac * (b.y_m - a.y_m),
        )
        return DeviceInfo(
            spec.device_id,
            spec.kind,
            spec.period_s,
            li.node,
            li.link,
            li.id,
            spec.position_m,
            round(lon, 7),
            round(lat, 7),
            up,
            down,
        )

    def next_due_s(self) -> float:
        """When the next reading is due (simulated seconds)."""
        return self._due[0][0] if self._due else float("inf")

    def poll(self, t_s: float) -> list[Reading | StatusChange]:
        """Readings and status changes of every device due at or before ``t_s``, in time
        order. The world must have been stepped to ``t_s``."""
        out: list[Reading | StatusChange] = []
        while self._due and self._due[0][0] <= t_s + 1e-9:
            due, k, did = heapq.heappop(self._due)
            out.extend(self.devices[did].sample(due))
            heapq.heappush(self._due, (due + self.devices[did].spec.period_s, k, did))
        return out
