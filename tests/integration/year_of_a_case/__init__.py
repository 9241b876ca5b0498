"""A year of one sick-leave case, end to end through the REST APIs of the four services.

- ``scenario``: the story, week by week, and how each act moves the expectations
  (``bodies``: its request bodies);
- ``driver``: plays it over HTTP only (``api.Endpoints``: base URLs or ASGI transports) and
  compares the services with the expectations after every step;
- ``expectations``: the timeline, deadline events and messages worked out from S by hand;
- ``receivers``: a real SMTP server and a real webhook receiver on 127.0.0.1;
- ``checks``: the end-of-year checks (exactly once, signatures, audit trail, dossier);
- ``embedded``: the four services in-process, each restartable, for the embedded default.

Another host (e.g. four processes on PostgreSQL and Kafka) gives the driver
``Endpoints.over_http(...)``, a ``DeadlineLog`` and, if it wants, a ``ClockControl``.
"""
