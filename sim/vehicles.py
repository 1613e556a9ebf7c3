"""Default vehicle classes and mixes of Ho Chi Minh City traffic, with their sources.

Sources (see ``docs/sources.md`` for the full list):

- PCU: Cao & Sano (2012), "Estimating Capacity and Motorcycle Equivalent Units on Urban
  Roads in Hanoi", J. Transp. Eng. 138(6): car = 3.4 motorcycle units (MCU), bus = 10.5 MCU.
  So a motorcycle is 1/3.4 = 0.29 PCU (we use 0.3) and a bus 10.5/3.4 = 3.1 PCU (we use 3.0).
  The truck PCU (2.0) is an assumption within DESIGN.md's 2-3 range: no Vietnamese source was
  found (the TCVN 4054 table could not be read).
- Lengths: Eclipse SUMO "Vehicle Type Parameter Defaults"
  (sumo.dlr.de/docs/Vehicle_Type_Parameter_Defaults.html) for vClass motorcycle,
  passenger, bus and truck.
- Accelerations and decelerations: assumptions (parameters) for the mean rates of a stop in
  urban traffic: 1.5 / 2.0 m/s² for motorcycles and cars, 0.8 / 1.2 m/s² for buses and
  trucks. They shape the modal trajectory (stops, idling, emissions). SUMO's defaults (6.0 /
  10, 2.6 / 4.5, 1.2 / 4.0, 1.3 / 4.0) are car-following limits, not typical rates, and would
  overstate the power a stop costs.
- Maximum speeds: assumptions for urban driving (parameters); links' free speeds bind first
  in every built-in scenario.
- Mix by count: motorcycles ~90 % at signalized intersections (Hanoi average over 4
  intersections, Chu Cong Minh 2003; 80-95 % over 12 approaches, Hien Nguyen & Montgomery
  2007) and in the registered HCMC fleet (7.8 M motorcycles vs 0.865 M cars in 2023, HCMC
  Urban Transport Management Centre). The split of the remaining ~2 % between buses and
  trucks is an assumption.
"""

from __future__ import annotations

from trafficsim.sim.config import Mix, VehicleClass
from trafficsim.sim.units import kmh_to_mps

MOTORCYCLE = VehicleClass(
    name="motorcycle",
    pcu=0.3,
    length_m=2.2,
    max_speed_mps=kmh_to_mps(60.0),
    accel_mps2=1.5,
    decel_mps2=2.0,
    emission_class="motorcycle",
)
CAR = VehicleClass(
    name="car",
    pcu=1.0,
    length_m=5.0,
    max_speed_mps=kmh_to_mps(80.0),
    accel_mps2=1.5,
    decel_mps2=2.0,
    emission_class="car",
)
BUS = VehicleClass(
    name="bus",
    pcu=3.0,
    length_m=12.0,
    max_speed_mps=kmh_to_mps(60.0),
    accel_mps2=0.8,
    decel_mps2=1.2,
    emission_class="bus",
)
TRUCK = VehicleClass(
    name="truck",
    pcu=2.0,
    length_m=7.1,
    max_speed_mps=kmh_to_mps(60.0),
    accel_mps2=0.8,
    decel_mps2=1.2,
    emission_class="truck",
)

DEFAULT_CLASSES: tuple[VehicleClass, ...] = (MOTORCYCLE, CAR, BUS, TRUCK)

HCMC_MIX = Mix(
    name="hcmc",
    shares=(("motorcycle", 0.89), ("car", 0.09), ("bus", 0.01), ("truck", 0.01)),
)
"""HCMC mix by count (motorcycles 89 %, cars 9 %; sources in the module docstring)."""

CARS_MIX = Mix(name="cars", shares=(("car", 1.0),))
"""Cars only, for comparison with car-following simulators."""

DEFAULT_MIXES: tuple[Mix, ...] = (HCMC_MIX, CARS_MIX)

JAM_SPACING_M_PER_PCU = 7.5
"""Road length one PCU occupies per lane in a standing queue: SUMO's passenger car length
(5.0 m) plus its minimum gap (2.5 m), same source as above."""
