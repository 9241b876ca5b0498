"""Listing the installed services imports none of their applications.

Every process lists every service (``discover_services``: who publishes which topic, where its
log is). A spec is light; the application — routes, projections, the document service's PDF
stack — is imported by ``wired_by`` only where the service runs. Checked in a fresh
interpreter, whose ``sys.modules`` shows what the listing imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

LIST_THEN_REPORT = """
import json, sys
from naervaer.service import discover_services
specs = discover_services()
print(json.dumps({"keys": list(specs), "modules": sorted(sys.modules)}))
"""


def _imported_by_listing() -> tuple[list[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", LIST_THEN_REPORT], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    return found["keys"], found["modules"]


def test_listing_the_services_imports_no_service_application() -> None:
    keys, modules = _imported_by_listing()
    assert keys == ["case", "deadline", "notification", "document"]
    for key in keys:
        package = f"{key}_service"
        loaded = [m for m in modules if m.startswith(f"{package}.")]
        assert f"{package}.bootstrap" in loaded
        heavy = [m for m in loaded if m.split(".")[1] in {"wiring", "api", "app"}]
        assert not heavy, f"listing imported {heavy}"
