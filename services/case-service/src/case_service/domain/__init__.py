"""The sick-leave case (sykefraværstilfelle): pure domain logic, no I/O, no clock, no uuid4()."""
