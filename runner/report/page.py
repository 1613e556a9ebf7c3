"""``report.html``: the report's Markdown as one self-contained page, its figures embedded,
a table of contents beside it, to be mailed or archived as one file."""

from __future__ import annotations

import base64
import html as html_lib
import re
from pathlib import Path


def html_page(md: str, out: Path) -> str:
    """``md`` as one self-contained HTML page (figures embedded), to be mailed as a file."""
    import markdown as md_lib

    conv = md_lib.Markdown(extensions=["tables", "toc"])
    body = conv.convert(md)

    def embed(m: re.Match[str]) -> str:
        data = base64.b64encode((out / m.group(1)).read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}" data-file="{m.group(1)}"'

    body = re.sub(r'src="([A-Za-z0-9_.-]+\.png)"', embed, body)
    title = html_lib.escape(md.splitlines()[0].lstrip("# ").replace("`", ""))
    toc = getattr(conv, "toc", "")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<nav>{toc}</nav><main>{body}</main></body></html>\n"
    )


_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "line-height:1.45;margin:0;display:flex}"
    "nav{position:sticky;top:0;align-self:flex-start;width:16em;padding:1em;font-size:.85em;"
    "max-height:100vh;overflow:auto;background:#f6f7f9;border-right:1px solid #ddd}"
    "nav ul{padding-left:1em}main{max-width:62em;padding:1em 2em}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.92em}"
    "td,th{border:1px solid #ccc;padding:3px 8px}th{background:#eef1f5}"
    "tr:nth-child(even) td{background:#fafbfc}td:not(:first-child){text-align:right}"
    "img{max-width:100%;border:1px solid #eee}code{background:#f2f2f2;padding:0 .2em}"
    "@media (max-width:50em){body{display:block}nav{position:static;width:auto}}"
    "@media print{nav{display:none}}"
)
