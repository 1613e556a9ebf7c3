"""Other simulators' and map files in and out: SUMO networks and demand, OpenStreetMap
through SUMO's netconvert, and any scenario back to SUMO.

Reading a network is the world's business, so this lives in ``sim``; it imports no MQTT or
ML. The readers come from the ``import`` extra (sumolib, eclipse-sumo, osmium) and are
imported when used, so the rest of the package works without them.
"""
