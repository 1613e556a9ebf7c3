"""The centre: congestion prediction and signal optimisation from MQTT messages only.

Empty for now (see README, "Roadmap"). The layering contracts in pyproject.toml already
forbid it to import ``sim``: a model that reads simulation internals would not work on a
real city.
"""
