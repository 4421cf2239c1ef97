"""Running designs: chunks of runs, the engine that streams them, and the backends that execute them."""
