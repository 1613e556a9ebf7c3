"""The composition root: command line, run directories, reports. Nothing imports it."""
