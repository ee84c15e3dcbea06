"""System-wide IPC limits and how much of each is used, from what every kind counts against."""

from __future__ import annotations

from ipctop.exporter.metric import Metric

_RESOURCE = ("resource",)
LIMIT_OBJECTS = Metric("ipctop_limit_objects", "A system-wide limit on a number of objects: shm_segments "
                       "(kernel.shmmni), msg_queues (kernel.msgmni), sem_sets (SEMMNI), semaphores (SEMMNS).",
                       _RESOURCE)
USED_OBJECTS = Metric("ipctop_limit_used_objects", "How much of each ipctop_limit_objects is in use.", _RESOURCE)
LIMIT_BYTES = Metric("ipctop_limit_bytes", "A system-wide limit on bytes: shm_memory (kernel.shmall pages, in "
                     "bytes).", _RESOURCE)
USED_BYTES = Metric("ipctop_limit_used_bytes", "How much of each ipctop_limit_bytes is in use (whole pages per "
                    "segment, as the kernel counts).", _RESOURCE)
METRICS = (LIMIT_OBJECTS, USED_OBJECTS, LIMIT_BYTES, USED_BYTES)
PAIRS = {"objects": (LIMIT_OBJECTS, USED_OBJECTS), "bytes": (LIMIT_BYTES, USED_BYTES)}
