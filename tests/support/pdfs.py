"""Real PDF files written by hand, small enough to read: pages of text, and hostile ones."""

from __future__ import annotations

import zlib


def pdf_file(contents: list[bytes], title: str = "", compress: bool = False) -> bytes:
    """A PDF with one page per content stream (A4, Helvetica), and `title` in its Info."""
    count = len(contents)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    font = 3 + 2 * count
    info = font + 1
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    for index, content in enumerate(contents):
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * index} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        stream = zlib.compress(content) if compress else content
        flate = " /Filter /FlateDecode" if compress else ""
        objects += [
            page.encode(),
            f"<< /Length {len(stream)}{flate} >>\nstream\n".encode() + stream + b"\nendstream",
        ]
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_page(text: str) -> bytes:
    """A content stream writing `text` (ASCII) near the top of the page."""
    return f"BT /F1 24 Tf 72 760 Td ({text}) Tj ET".encode("ascii")


def slow_page(shapes: int) -> bytes:
    """A content stream of `shapes` overlapping transparent-free curves: slow to draw, tiny
    once compressed (a document made to hold the renderer busy)."""
    return b"0 0 0 rg " + b"10 10 m 580 830 575 5 5 835 c 20 20 l h f* " * shapes
