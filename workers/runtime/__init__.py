"""How work moves: the process's runtime, broker, queues, actors, batching, scheduler
and supervision."""
