"""Each channel's wiring: the intake its connectors commit through, the runners of
its connectors, its sender."""
