from deadline_service.bootstrap import SERVICE
from naervaer.migrations import run_env

run_env(SERVICE)
