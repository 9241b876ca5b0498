"""Print the README's configuration rows for every service's own settings (run after adding one).

uv run python scripts/settings_table.py
"""

from __future__ import annotations

from pydantic_settings import BaseSettings

from naervaer.service import discover_services


def rows(settings_cls: type[BaseSettings]) -> list[str]:
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    lines = []
    for name, field in settings_cls.model_fields.items():
        value = field.get_default(call_default_factory=True)
        default = "unset" if value is None else f"`{value}`"
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{prefix}{name.upper()}` | {default} | {meaning} |")
    return lines


def main() -> None:
    for spec in discover_services().values():
        print(f"\n**{spec.name}**\n")
        print("| variable | default | meaning |\n|---|---|---|")
        print("\n".join(rows(spec.settings_cls)))


if __name__ == "__main__":
    main()
