"""The read-only page a share link opens: the video, the model, the date and the manifest's
link. Nothing else of the owner's (no inputs, credits or other jobs), and no script at all."""

from __future__ import annotations

from html import escape

from demo_app.shares._desk import SharedVideo

NOT_SHARED = "This video is no longer shared."

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; padding: 16px; background: #fafafa; color: #1f2937; }
main { max-width: 860px; margin: 0 auto; }
h1 { font-size: 1.4em; margin: 0 0 4px; }
p { margin: 4px 0 12px; }
video { width: 100%; max-height: 75vh; background: #000; border-radius: 8px; }
a { color: #2563eb; }
"""


def shared_page(shared: SharedVideo, token: str) -> str:
    """The share's page; its links are relative to `/share/{token}` (the page's own address)."""
    when = shared.finished_at.strftime("%Y-%m-%d %H:%M UTC")
    base = escape(token, quote=True)
    return _document(
        "Lipsync Studio: a shared video",
        f"""<h1>A lip-synced video</h1>
<p>Made with <strong id="model">{escape(shared.model_title)}</strong>
on <time id="date" datetime="{escape(shared.finished_at.isoformat(), quote=True)}">{escape(when)}</time>
in Lipsync Studio.</p>
<video id="video" controls playsinline preload="metadata" src="{base}/video.mp4"></video>
<p><a id="manifest" href="{base}/manifest.json" download="manifest.json">Manifest (JSON)</a>:
the model version, options, seed and input hashes that made this video.</p>""",
    )


def not_shared_page() -> str:
    """The answer for a revoked, unknown or malformed link (all alike)."""
    return _document("Lipsync Studio", f"<h1>{NOT_SHARED}</h1>")


def _document(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><main>{body}</main></body></html>
"""
