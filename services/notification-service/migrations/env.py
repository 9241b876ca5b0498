from naervaer.migrations import run_env
from notification_service.bootstrap import SERVICE

run_env(SERVICE)
