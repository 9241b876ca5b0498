"""dossier.pdf: the readable part of a dossier (the ZIP's JSON files are the evidence)."""

from __future__ import annotations

from fpdf import FPDF

from document_service.adapters.pdf_glance import LEFT, draw_glance, latin1
from document_service.domain.dossier import DossierView

STATUS_MARK = {"signed": "signed", "refused": "REFUSED", "missing": "missing"}


def render_dossier_pdf(view: DossierView) -> bytes:
    """Page 1: the case at a glance. Then documents and signatures, the seal, the history."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(latin1(f"Nærvær dossier {view.glance.facts.case_id}"))
    pdf.set_creator("Nærvær document service")
    pdf.set_creation_date(view.generated_at)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    draw_glance(pdf, view.glance, tenant=view.tenant)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_draw_color(160, 160, 160)
    _documents(pdf, view)
    _seal(pdf, view)
    _history(pdf, view)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.set_x(LEFT)
    pdf.cell(0, 9, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)


def _row(
    pdf: FPDF, widths: tuple[float, ...], cells: tuple[str, ...], *, bold: bool = False
) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    pdf.set_x(LEFT)
    for width, text in zip(widths, cells, strict=True):
        pdf.cell(width, 6, latin1(text), border="B")
    pdf.ln(6)


def _documents(pdf: FPDF, view: DossierView) -> None:
    _heading(pdf, "Documents and signatures")
    if not view.documents:
        pdf.cell(0, 6, "No documents yet.", new_x="LMARGIN", new_y="NEXT")
        return
    widths = (110.0, 14.0, 50.0, 26.0, 26.0, 36.0)
    _row(
        pdf,
        widths,
        ("Document", "Ver.", "SHA-256 (start)", "Employee", "Manager", "Stored"),
        bold=True,
    )
    for summary in view.documents:
        _row(
            pdf,
            widths,
            (
                summary.title,
                str(summary.version),
                summary.document_hash[:20] + "...",
                STATUS_MARK.get(summary.statuses.get("employee", ""), "-"),
                STATUS_MARK.get(summary.statuses.get("manager", ""), "-"),
                summary.stored_at.strftime("%Y-%m-%d %H:%M"),
            ),
        )


def _seal(pdf: FPDF, view: DossierView) -> None:
    pdf.ln(4)
    _heading(pdf, "How this record is sealed")
    lines = (
        f"{view.entries} audit entries of this case (events, document versions, signatures, "
        "attachments, accesses), each hash-chained to its predecessor and signed with Ed25519 "
        "by the document service.",
        f"Signing key id(s): {', '.join(view.key_ids)}",
        f"Generated {view.generated_at.isoformat(timespec='seconds')}. Check this dossier offline "
        "with: naervaer verify <dossier.zip> --public-key <key file or keys URL>",
    )
    for line in lines:
        pdf.set_x(LEFT)
        pdf.multi_cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")


def _history(pdf: FPDF, view: DossierView) -> None:
    pdf.ln(4)
    _heading(pdf, "Case history (events)")
    widths = (30.0, 120.0)
    _row(pdf, widths, ("Recorded", "Event"), bold=True)
    for when, event_type in view.events:
        _row(pdf, widths, (when, event_type))
