"""The dossier's first page: the case at a glance, drawn with the PDF library's own primitives.

Sick-note periods are bars along a time axis (height and colour by grade), each legal milestone
a dashed line labelled S+N with a marker saying whether it was met, late, missed or pending, and
a red line where "today" (the dossier's as-of date) is.
"""

from __future__ import annotations

from datetime import date, timedelta

from fpdf import FPDF

from document_service.domain.timeline import CaseGlance, Milestone, Period

LEFT, RIGHT = 18.0, 279.0  # A4 landscape, mm
BASELINE = 104.0  # the time axis
BAR_MAX = 26.0  # height of a 100 % bar
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "met": (46, 139, 87),
    "reached": (46, 139, 87),
    "late": (230, 145, 30),
    "missed": (200, 40, 40),
    "pending": (120, 120, 120),
    "waived": (150, 110, 190),
    "not_required": (190, 190, 190),
}
STATUS_WORDS = {"not_required": "not required"}
BAR_COLOURS = {
    "ordinary": (31, 78, 140),
    "graded": (95, 150, 205),
    "pending": (150, 170, 190),
    "self_certification": (235, 160, 70),
}


def latin1(text: str) -> str:
    """The core PDF fonts speak Latin-1 (æ, ø, å included); anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


class Axis:
    """Days to millimetres along the time axis."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.scale = (RIGHT - LEFT) / max(1, (end - start).days)

    def x(self, day: date) -> float:
        clamped = min(max(day, self.start), self.end)
        return LEFT + (clamped - self.start).days * self.scale


def draw_glance(pdf: FPDF, glance: CaseGlance, *, tenant: str) -> None:
    facts = glance.facts
    pdf.set_font("Helvetica", "B", 18)
    pdf.set_xy(LEFT, 12)
    pdf.cell(0, 9, latin1("Nærvær - case at a glance"))
    pdf.set_font("Helvetica", "", 10)
    pdf.set_xy(LEFT, 22)
    pdf.cell(0, 5, latin1(f"Case {facts.case_id}  ·  tenant {tenant}  ·  as of {glance.as_of}"))
    _facts_line(pdf, glance)
    if facts.first_day is None:
        pdf.set_xy(LEFT, 60)
        pdf.cell(0, 6, "No case.opened event in the record: nothing to draw.")
        return
    axis = _axis(glance, facts.first_day)
    _draw_periods(pdf, axis, glance.periods)
    _draw_axis(pdf, axis)
    _draw_milestones(pdf, axis, glance.milestones)
    _draw_today(pdf, axis, glance.as_of)
    _milestone_table(pdf, glance.milestones)
    _legend(pdf)


def _facts_line(pdf: FPDF, glance: CaseGlance) -> None:
    facts = glance.facts
    pairs = (
        ("Employee (arbeidstaker)", facts.employee_id),
        ("Nearest manager (nærmeste leder)", facts.manager_id),
        ("Unit", facts.org_unit),
        ("First absence day (S)", str(facts.first_day or "-")),
        ("Status", glance.status + (f" on {facts.closed_on}" if facts.closed_on else "")),
    )
    width = (RIGHT - LEFT) / len(pairs)
    for index, (label, value) in enumerate(pairs):
        x = LEFT + index * width
        pdf.set_font("Helvetica", "", 8)
        pdf.set_text_color(100, 100, 100)
        pdf.set_xy(x, 30)
        pdf.cell(width, 4, latin1(label))
        pdf.set_font("Helvetica", "B", 11)
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(x, 34.5)
        pdf.cell(width, 6, latin1(value or "-"))


def _axis(glance: CaseGlance, first_day: date) -> Axis:
    ends = [p.end for p in glance.periods] + [m.due for m in glance.milestones]
    end = max([*ends, glance.as_of, first_day + timedelta(days=371)])
    return Axis(first_day - timedelta(days=5), end + timedelta(days=7))


def _draw_periods(pdf: FPDF, axis: Axis, periods: list[Period]) -> None:
    pdf.set_font("Helvetica", "B", 7)
    for period in periods:
        x0, x1 = axis.x(period.start), axis.x(period.end + timedelta(days=1))
        height = BAR_MAX * period.grade / 100
        pdf.set_fill_color(*BAR_COLOURS.get(period.kind, BAR_COLOURS["ordinary"]))
        pdf.rect(x0, BASELINE - height, max(x1 - x0, 0.6), height, style="F")
        if x1 - x0 >= 7:
            pdf.set_text_color(255, 255, 255)
            pdf.set_xy(x0, BASELINE - height + 0.5)
            pdf.cell(x1 - x0, 4, f"{period.grade} %", align="C")
    pdf.set_text_color(0, 0, 0)


def _draw_axis(pdf: FPDF, axis: Axis) -> None:
    pdf.set_draw_color(60, 60, 60)
    pdf.set_line_width(0.4)
    pdf.line(LEFT, BASELINE, RIGHT, BASELINE)
    pdf.set_line_width(0.2)
    pdf.set_font("Helvetica", "", 7)
    month = date(axis.start.year, axis.start.month, 1)
    while month <= axis.end:
        if month >= axis.start:
            x = axis.x(month)
            pdf.line(x, BASELINE, x, BASELINE + 1.5)
            pdf.set_xy(x - 6, BASELINE + 1.6)
            pdf.cell(12, 3.5, month.strftime("%b %y"), align="C")
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _draw_milestones(pdf: FPDF, axis: Axis, milestones: list[Milestone]) -> None:
    for index, milestone in enumerate(milestones):
        x = axis.x(milestone.due)
        colour = STATUS_COLOURS[milestone.status]
        top = 58.0 if index % 2 == 0 else 65.0  # staggered: close milestones stay legible
        pdf.set_draw_color(*colour)
        pdf.set_dash_pattern(dash=1, gap=1)
        pdf.line(x, top + 4, x, BASELINE)
        pdf.set_dash_pattern()
        pdf.set_font("Helvetica", "B", 7)
        pdf.set_text_color(*colour)
        pdf.set_xy(x - 8, top)
        pdf.cell(16, 3.5, milestone.label, align="C")
        pdf.set_text_color(0, 0, 0)
        _marker(pdf, x, BASELINE + 9 + (index % 2) * 6, milestone)
        if milestone.done_on is not None and milestone.status in ("met", "late"):
            done = axis.x(milestone.done_on)
            pdf.set_fill_color(*colour)
            pdf.polygon(
                [
                    (done, BASELINE - 0.2),
                    (done - 1.4, BASELINE - 2.6),
                    (done + 1.4, BASELINE - 2.6),
                ],
                style="F",
            )


def _marker(pdf: FPDF, x: float, y: float, milestone: Milestone) -> None:
    pdf.set_fill_color(*STATUS_COLOURS[milestone.status])
    pdf.circle(x, y, 1.8, style="F")
    pdf.set_font("Helvetica", "", 6.5)
    pdf.set_xy(x + 2.2, y - 1.8)
    pdf.cell(22, 3.6, STATUS_WORDS.get(milestone.status, milestone.status))


def _draw_today(pdf: FPDF, axis: Axis, as_of: date) -> None:
    x = axis.x(as_of)
    pdf.set_draw_color(210, 30, 30)
    pdf.set_line_width(0.5)
    pdf.line(x, 76, x, BASELINE + 3)
    pdf.set_line_width(0.2)
    pdf.set_font("Helvetica", "B", 7)
    pdf.set_text_color(210, 30, 30)
    pdf.set_xy(x + 0.8, 75)
    pdf.cell(30, 3.5, f"as of {as_of.isoformat()}")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(160, 160, 160)


def _milestone_table(pdf: FPDF, milestones: list[Milestone]) -> None:
    widths = (18.0, 92.0, 28.0, 30.0, 28.0)
    header = ("When", "Milestone", "Due", "Status", "Done on")
    pdf.set_xy(LEFT, 128)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_fill_color(235, 235, 235)
    for width, title in zip(widths, header, strict=True):
        pdf.cell(width, 6, title, border="B", fill=True)
    for milestone in milestones:
        pdf.set_xy(LEFT, pdf.get_y() + 6)
        pdf.set_font("Helvetica", "", 9)
        cells = (
            milestone.label,
            latin1(milestone.title),
            milestone.due.isoformat(),
            STATUS_WORDS.get(milestone.status, milestone.status),
            milestone.done_on.isoformat() if milestone.done_on else "-",
        )
        for index, (width, text) in enumerate(zip(widths, cells, strict=True)):
            if index == 3:
                pdf.set_text_color(*STATUS_COLOURS[milestone.status])
            pdf.cell(width, 6, text, border="B")
            pdf.set_text_color(0, 0, 0)


def _legend(pdf: FPDF) -> None:
    y = 190.0
    pdf.set_font("Helvetica", "", 8)
    x = LEFT
    for label, colour in (
        ("sick note 100 %", BAR_COLOURS["ordinary"]),
        ("graded sick note", BAR_COLOURS["graded"]),
        ("self-certification", BAR_COLOURS["self_certification"]),
    ):
        pdf.set_fill_color(*colour)
        pdf.rect(x, y, 5, 3.5, style="F")
        pdf.set_xy(x + 6, y - 0.3)
        pdf.cell(34, 4, label)
        x += 42
    pdf.set_xy(x, y - 0.3)
    pdf.cell(0, 4, "Bar height = sick-leave grade. Triangle = when a milestone was met.")
