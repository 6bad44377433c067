"""The Lipsync Studio page as a test sees it: what a visitor does and what they read."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

JUDGED_WITHIN_MS = 60_000
"""The media workers yield the cores to the event loop (nice +10), so under a whole suite's load
a first judgement can take longer than on a quiet machine."""
TERMINAL = ("succeeded", "failed", "canceled", "timed_out", "rejected")

# Records every status/progress the run panel shows, with the time, as the browser renders it.
WATCH_JS = """
() => {
  window.__runLog = [];
  const target = document.querySelector('#job-status');
  const record = () => {
    const job = target.querySelector('.ls-job');
    if (!job) return;
    const entry = {status: job.dataset.status, progress: job.dataset.progress ?? null,
                   job: job.dataset.job ?? null, t: performance.now()};
    const last = window.__runLog[window.__runLog.length - 1];
    const same = last && last.status === entry.status && last.progress === entry.progress;
    if (!same) window.__runLog.push(entry);
  };
  new MutationObserver(record).observe(target, {subtree: true, childList: true, attributes: true});
  record();
}
"""


class Studio:
    """Drives one browser tab of the app."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url

    def open(self) -> Studio:
        self.page.goto(self.url)
        self._loaded()
        return self

    def reload(self) -> None:
        self.page.reload()
        self._loaded()

    def _loaded(self) -> None:
        """The balance is shown and the estimate for the known visitor has replaced the page's
        first text: the page is ready for the visitor's files."""
        self.page.wait_for_selector("#balance .ls-balance")
        self.page.wait_for_function(
            "() => { const e = document.querySelector('#estimate');"
            " return e !== null && !e.innerText.trim().startsWith('Add a face image and an audio clip.'); }"
        )

    # ---- what the visitor reads ---------------------------------------------------------

    def balance(self) -> dict[str, int]:
        """The header's balance figures, in credits."""
        node = self.page.locator("#balance .ls-balance")
        return {
            name: int(node.get_attribute(f"data-{name}") or "0") for name in ("balance", "held", "available")
        }

    def wait_balance(self, **expected: int) -> None:
        """Wait until the header shows these figures (e.g. available=746)."""
        checks = " && ".join(f"n.dataset.{name} === '{value}'" for name, value in expected.items())
        self.page.wait_for_function(
            f"() => {{ const n = document.querySelector('#balance .ls-balance'); return n && {checks}; }}"
        )

    def status(self) -> str:
        return self.page.locator("#job-status .ls-job").get_attribute("data-status") or ""

    def job_id(self) -> str:
        return self.page.locator("#job-status .ls-job").get_attribute("data-job") or ""

    def message(self) -> str:
        return self.page.locator("#job-status .ls-msg").inner_text()

    def estimate(self) -> str:
        return self.page.locator("#estimate").inner_text()

    def wait_status(self, *statuses: str, timeout_s: float = 60.0) -> str:
        """Wait until the run panel shows one of `statuses`; returns the one shown."""
        self.page.wait_for_function(
            "(wanted) => wanted.includes(document.querySelector('#job-status .ls-job')?.dataset.status)",
            arg=list(statuses),
            timeout=timeout_s * 1000,
        )
        return self.status()

    def watch_run(self) -> None:
        """Start recording what the run panel shows (status and progress, in order)."""
        self.page.evaluate(WATCH_JS)

    def run_log(self) -> list[dict[str, object]]:
        return list(self.page.evaluate("() => window.__runLog"))

    def api_key(self) -> str:
        """The key the Credits tab shows this visitor."""
        self.tab("Credits")
        box = self.page.locator("#api-key textarea, #api-key input").first
        expect(box).not_to_have_value("")
        key = box.input_value()
        self.tab("Create")
        return key

    # ---- what the visitor does ------------------------------------------------------------

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name).click()

    def give(self, face: Path | None = None, voice: Path | None = None) -> None:
        if face is not None:
            self.page.locator("#face input[type=file]").set_input_files(face)
        if voice is not None:
            self.page.locator("#voice input[type=file]").set_input_files(voice)

    def wait_ready(self) -> None:
        """Generate enabled: the picture and the clip were judged (the first judgement of an app
        starts its media workers, which takes seconds on a busy machine)."""
        expect(self.page.locator("#generate")).to_be_enabled(timeout=JUDGED_WITHIN_MS)

    def generate(self, *, previous: str | None = None) -> str:
        """Press Generate; returns the id of the first job other than `previous` the panel shows.

        Pass `previous` when a job is already shown: the panel is redrawn at every change of the
        job it follows, so reading it at the click can catch it between two drawings.
        """
        if previous is None:
            previous = self.page.locator("#job-status .ls-job").get_attribute("data-job") or ""
        self.page.locator("#generate").click()
        return self.wait_new_job(previous)

    def wait_new_job(self, previous: str) -> str:
        """The id of the first job other than `previous` the run panel shows (read when it shows)."""
        shown = self.page.wait_for_function(
            "(previous) => { const job = document.querySelector('#job-status .ls-job');"
            " return job && job.dataset.job && job.dataset.job !== previous ? job.dataset.job : null; }",
            arg=previous,
        )
        return str(shown.json_value())

    def cancel(self) -> None:
        self.page.locator("#cancel").click()
