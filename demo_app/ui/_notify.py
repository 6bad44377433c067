"""Knowing when a job ends while looking at another tab: the tab's title, and a browser
notification the visitor opts in to.

Both run in the browser from what the run panel already shows (its `data-status` and
`data-job`): no server event, no timer. The title changes only while the tab is hidden, and
is put back when the visitor returns; a notification is shown only if they ticked the box,
the browser granted permission, and the tab is hidden.
"""

from __future__ import annotations

import json

import gradio as gr

NOTIFY_STORAGE = "lipsync-studio-notify"
"""localStorage key remembering the visitor's opt-in across reloads."""

NOTIFY_HTML = (
    '<label class="ls-notify"><input type="checkbox" data-notify> '
    "Notify me when a job ends (while this tab is in the background)</label>"
    '<p class="ls-notify-note" data-note aria-live="polite"></p>'
)

NOTIFY_CSS = """
.ls-notify { display: flex; gap: 8px; align-items: center; font-size: 0.9em; cursor: pointer; }
.ls-notify-note { margin: 4px 0 0; font-size: 0.85em; opacity: 0.85; }
.ls-notify-note:empty { display: none; }
"""

ENDED_WORDS = {
    "succeeded": "✓ Done",
    "failed": "✗ Failed",
    "timed_out": "✗ Timed out",
    "canceled": "■ Canceled",
    "rejected": "✗ Refused",
}
"""What the tab title and the notification say first, per terminal status."""

NOTIFY_JS = """
const ENDED = __ENDED__;
const STORE = '__STORE__';
const box = element.querySelector('[data-notify]');
const note = element.querySelector('[data-note]');
const supported = 'Notification' in window;
const say = (text) => { note.textContent = text; };
const allowed = () => supported && Notification.permission === 'granted';

if (!supported) {
  box.disabled = true;
  say('This browser cannot show notifications; the tab title still changes when a job ends.');
} else {
  box.checked = localStorage.getItem(STORE) === 'on' && allowed();
}
box.addEventListener('change', async () => {
  if (!box.checked) { localStorage.removeItem(STORE); say(''); return; }
  const answer = await Notification.requestPermission();
  if (answer === 'granted') {
    localStorage.setItem(STORE, 'on');
    say('You will get a notification when a job ends while this tab is in the background.');
  } else {
    box.checked = false;
    localStorage.removeItem(STORE);
    say('Your browser blocks notifications from this page: '
      + 'allow them in its site settings, then tick the box again.');
  }
});

let pageTitle = null;
const restore = () => {
  if (pageTitle !== null) { document.title = pageTitle; pageTitle = null; }
};
document.addEventListener('visibilitychange', () => { if (!document.hidden) restore(); });

const ended = (panel, job, status) => {
  if (!document.hidden) return;
  const word = ENDED[status] || 'Ended';
  if (pageTitle === null) pageTitle = document.title;
  document.title = word + ' — ' + pageTitle;
  if (box.checked && allowed()) {
    const body = panel.querySelector('.ls-msg')?.textContent || '';
    new Notification(word + ' — ' + pageTitle, {body: body, tag: 'lipsync-' + job});
  }
};

const running = new Set();
const follow = () => {
  const panel = document.querySelector('#job-status');
  if (!panel) { requestAnimationFrame(follow); return; }
  const look = () => {
    const node = panel.querySelector('.ls-job');
    const job = node?.dataset.job;
    if (!job) return;
    if (!(node.dataset.status in ENDED)) { running.add(job); return; }
    if (running.delete(job)) ended(panel, job, node.dataset.status);
  };
  new MutationObserver(look).observe(panel, {subtree: true, childList: true, attributes: true});
  look();
};
follow();
"""
"""Watches the run panel: a job seen running that then shows a terminal status has ended."""


def notify_toggle() -> gr.HTML:
    """The opt-in box; its script also changes the tab title when a job ends in the background."""
    words = json.dumps(ENDED_WORDS, ensure_ascii=False)
    script = NOTIFY_JS.replace("__ENDED__", words).replace("__STORE__", NOTIFY_STORAGE)
    return gr.HTML(NOTIFY_HTML, css_template=NOTIFY_CSS, js_on_load=script, elem_id="notify")

