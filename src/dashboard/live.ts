/**
 * Live updates without reloads: server-sent event streams of progress snapshots, and the
 * small script (served from /assets/live.js, no inline code) that patches the page with them.
 */
import type { Response } from 'express';
import { describeError } from '../core/errors.ts';
import type { SweepProgress } from '../producer/progress.ts';

export interface CellSnapshot {
  key: string;
  done: number;
  total: number;
  correct: number;
  errors: number;
}

export interface SweepSnapshot {
  id: string;
  done: number;
  total: number;
  errors: number;
  failed: number;
  finished: boolean;
  report: boolean;
  reportError?: string;
  cells: CellSnapshot[];
}

/** Per cell (`policy|benchmark`), per policy (`policy|*`) and per benchmark (`*|benchmark`). */
export function snapshotCells(p: SweepProgress): CellSnapshot[] {
  const sums = new Map<string, CellSnapshot>();
  const add = (key: string, c: Omit<CellSnapshot, 'key'>) => {
    const s = sums.get(key) ?? { key, done: 0, total: 0, correct: 0, errors: 0 };
    s.done += c.done;
    s.total += c.total;
    s.correct += c.correct;
    s.errors += c.errors;
    sums.set(key, s);
  };
  for (const c of p.cells) {
    add(`${c.policy}|${c.benchmark}`, c);
    add(`${c.policy}|*`, c);
    add(`*|${c.benchmark}`, c);
  }
  return [...sums.values()];
}

/** Accuracy so far over the items done, failed ones counted as wrong as in the report ("—" before any). */
export function cellAccuracy(c: { done: number; correct: number }): string {
  return c.done > 0 ? `${((100 * c.correct) / c.done).toFixed(1)}%` : '—';
}

/**
 * Streams `snapshot()` as `progress` events every `intervalMs` while the client listens;
 * unchanged snapshots are sent as comments only (keep-alive).
 */
export function streamEvents(res: Response, intervalMs: number, snapshot: () => Promise<unknown>): void {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.write(`retry: ${Math.max(1000, intervalMs)}\n\n`);
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  let open = true;
  const tick = async () => {
    try {
      const data = JSON.stringify(await snapshot());
      if (!open) return;
      if (data !== last) res.write(`event: progress\ndata: ${data}\n\n`);
      else res.write(': unchanged\n\n');
      last = data;
    } catch (err) {
      if (open) res.write(`event: failure\ndata: ${JSON.stringify({ error: describeError(err) })}\n\n`);
    }
    if (open) timer = setTimeout(tick, intervalMs);
  };
  res.on('close', () => {
    open = false;
    clearTimeout(timer);
  });
  void tick();
}

/**
 * The page script. Pages opt in with `<main data-events="URL">`; elements carry
 * `data-cell`, `data-sweep` and `data-results` attributes. Only textContent is written,
 * except the results fragment, which is server-rendered (escaped) HTML from the same origin.
 */
export const LIVE_SCRIPT = `'use strict';
(function () {
  var main = document.querySelector('main[data-events]');
  if (!main || !window.EventSource) return;
  var status = document.getElementById('live-status');
  var say = function (t) { if (status) status.textContent = t; };
  var acc = function (c) { return c.done > 0 ? (100 * c.correct / c.done).toFixed(1) + '%' : '\\u2014'; };
  var setCell = function (el, c) {
    var count = el.querySelector('.count'); var small = el.querySelector('.acc');
    if (count) count.textContent = c.done + '/' + c.total;
    if (small) small.textContent = acc(c) + (c.errors ? ' \\u00b7 ' + c.errors + ' err' : '');
    el.classList.toggle('complete', c.done >= c.total);
  };
  var setBar = function (el, s) {
    var fill = el.querySelector('.bar > span'); var text = el.querySelector('.bar-text');
    if (fill) fill.style.width = (s.total ? Math.min(100, 100 * s.done / s.total) : 0).toFixed(1) + '%';
    if (text) text.textContent = s.done + '/' + s.total + (s.errors ? ' \\u00b7 ' + s.errors + ' errors' : '') + (s.failed ? ' \\u00b7 ' + s.failed + ' failed' : '');
  };
  var loadResults = function (s) {
    var box = document.querySelector('[data-results]');
    if (!box || !s.report || box.getAttribute('data-report') === '1') return;
    box.setAttribute('data-report', '1');
    fetch(box.getAttribute('data-results'), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(String(r.status))); })
      .then(function (t) { box.innerHTML = t; })
      .catch(function () { box.setAttribute('data-report', '0'); });
  };
  var apply = function (s) {
    document.querySelectorAll('[data-sweep="' + CSS.escape(s.id) + '"]').forEach(function (el) { setBar(el, s); });
    document.querySelectorAll('[data-report-of="' + CSS.escape(s.id) + '"]').forEach(function (el) {
      var link = el.querySelector('a'); var none = el.querySelector('span');
      if (link) link.hidden = !s.report;
      if (none) none.hidden = !!s.report;
    });
    (s.cells || []).forEach(function (c) {
      var el = document.querySelector('[data-cell="' + CSS.escape(c.key) + '"]');
      if (el) setCell(el, c);
    });
    loadResults(s);
  };
  var source = new EventSource(main.getAttribute('data-events'));
  source.addEventListener('progress', function (ev) {
    var data = JSON.parse(ev.data);
    (Array.isArray(data) ? data : [data]).forEach(apply);
    say('live \\u00b7 updated ' + new Date().toLocaleTimeString());
  });
  source.addEventListener('failure', function (ev) { say('live \\u00b7 ' + JSON.parse(ev.data).error); });
  source.onerror = function () { say('live \\u00b7 reconnecting\\u2026'); };
})();
`;
