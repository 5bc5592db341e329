"""The runtime: broker, actors, scheduler, the command line and the all-in-one serve."""
