/**
 * The item browser's pages: a cell's items (filterable), one item's full trace, and two
 * policies compared item by item. Every model text is untrusted: it goes through `html`
 * (escaped) and is shown in <pre> blocks, never as markup.
 */
import type { Item, ItemRecord, Step } from '../core/items.ts';
import { callsTable, imageUrl } from './call-views.ts';
import { Html, html, seg } from './html.ts';
import { judgeHtml } from './judge-view.ts';
import type { ComparedItem, ItemFilter } from './records.ts';
import { failedOutright, turnsOf } from './records.ts';

export { imageUrl };

export const itemUrl = (sweepId: string, rolloutId: string) =>
  `/sweeps/${seg(sweepId)}/items/${seg(rolloutId)}`;
export const cellUrl = (sweepId: string, policy: string, benchmark: string) =>
  `/sweeps/${seg(sweepId)}/cells/${seg(policy)}/${seg(benchmark)}`;

const ms = (x: number | undefined) => (x === undefined ? '—' : `${Math.round(x)} ms`);

/** Correct, wrong or error, as a coloured word. */
export function verdict(r: Pick<ItemRecord, 'status' | 'correct'> | undefined): Html {
  if (!r) return html`<span class="muted">not run</span>`;
  if (r.status === 'error') return html`<span class="bad verdict" data-verdict="error">error</span>`;
  return r.correct
    ? html`<span class="ok verdict" data-verdict="correct">correct</span>`
    : html`<span class="bad verdict" data-verdict="wrong">wrong</span>`;
}

function expertsOf(r: ItemRecord): string {
  const pairs = r.steps.filter((s) => s.expert).map((s) => `${s.expert} @ ${s.skill ?? '?'}`);
  return [...new Set(pairs)].join(', ');
}

export interface CellPageInput {
  sweepId: string;
  policy: string;
  benchmark: string;
  all: ItemRecord[];
  shown: ItemRecord[];
  filter: ItemFilter;
  choices: { experts: string[]; skills: string[]; turns: number[] };
  gold: (itemId: string) => string[] | undefined;
}

function select(name: string, values: Array<string | number>, current: unknown, label: string): Html {
  return html`<label>${label} <select name="${name}"><option value="">any</option>${values.map(
    (v) =>
      html`<option value="${v}"${String(v) === String(current ?? '') ? new Html(' selected') : ''}>${v}</option>`,
  )}</select></label>`;
}

function filterForm(input: CellPageInput): Html {
  const f = input.filter;
  const check = (name: 'wrong' | 'errors', label: string) =>
    html`<label><input type="checkbox" name="${name}" value="1"${f[name] ? new Html(' checked') : ''}> ${label}</label>`;
  return html`<form class="filters" method="get">${check('wrong', 'wrong only')} ${check('errors', 'errors only')}
${select('expert', input.choices.experts, f.expert, 'expert')} ${select('skill', input.choices.skills, f.skill, 'skill')}
${select('turns', input.choices.turns, f.turns, 'turns')}
<label>text <input type="search" name="q" value="${f.q ?? ''}" placeholder="in turns, observations, answer"></label>
<button type="submit">Filter</button> <a href="${cellUrl(input.sweepId, input.policy, input.benchmark)}">clear</a></form>`;
}

/** "accuracy 50.0 %" (failures counted as wrong), then the accuracy over the items that ran when any failed. */
export function cellAccuracyText(correct: number, total: number, failed: number): string {
  if (total === 0) return 'accuracy —';
  const p = (n: number, d: number) => (d > 0 ? `${((100 * n) / d).toFixed(1)} %` : '—');
  const main = `accuracy ${p(correct, total)}`;
  return failed > 0
    ? `${main} (failed items wrong; ${p(correct, total - failed)} over the items that ran)`
    : main;
}

export function cellPage(input: CellPageInput): Html {
  const { sweepId, policy, benchmark, all, shown } = input;
  const correct = all.filter((r) => r.status !== 'error' && r.correct).length;
  const failed = all.filter((r) => r.status === 'error').length;
  const outright = all.filter(failedOutright).length;
  const rows = shown.map(
    (r) =>
      html`<tr data-item="${r.itemId}"><td><a href="${itemUrl(sweepId, r.rolloutId)}">${r.itemId}</a>${r.seed || r.sample ? html` <small class="muted">seed ${r.seed} · sample ${r.sample}</small>` : ''}</td><td>${verdict(r)}${r.error ? html`<br><small class="cause">${r.error}</small>` : ''}</td><td><code>${r.extracted ?? '∅'}</code></td><td>${(input.gold(r.itemId) ?? []).join(' | ')}</td><td class="num">${turnsOf(r)}</td><td>${expertsOf(r)}</td><td class="num">${ms(r.latencyMs)}</td></tr>`,
  );
  return html`<p><a href="/sweeps/${seg(sweepId)}">← sweep ${sweepId}</a> · <a href="/sweeps/${seg(sweepId)}/compare?a=${seg(policy)}&amp;benchmark=${seg(benchmark)}">compare with another policy</a></p>
<h1>${policy} on ${benchmark}</h1>
<p>${all.length} items · ${correct} correct · ${failed} errors${outright ? ` (${outright} failed outright)` : ''} · ${cellAccuracyText(correct, all.length, failed)} · showing ${shown.length}</p>
${filterForm(input)}
<div class="scroll"><table id="items"><thead><tr><th>item</th><th>verdict</th><th>extracted</th><th>gold</th><th class="num">turns</th><th>experts @ skills</th><th class="num">latency</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${shown.length === 0 ? html`<p class="muted">No item matches.</p>` : ''}`;
}

function actionHtml(s: Step): Html {
  const a = s.action;
  if (a.type === 'search')
    return html`<span class="tag">search</span> <strong>${a.model}</strong> @ <strong>${a.skill}</strong>: <span class="action-input">${a.input}</span>${s.expert && s.expert !== a.model ? html` <small class="muted">(resolved to ${s.expert} @ ${s.skill ?? '?'})</small>` : ''}`;
  if (a.type === 'answer') return html`<span class="tag">answer</span> <code>${a.answer}</code>`;
  return html`<span class="tag bad">invalid</span> ${a.reason}`;
}

function stepHtml(s: Step, itemImages: ReadonlySet<string>): Html {
  const calls = s.calls.length ? callsTable(s.calls, itemImages) : '';
  return html`<section class="step${s.resampled ? ' resampled' : ''}" data-turn="${s.turn}">
<h3>Turn ${s.turn}${s.resampled ? html` <span class="tag warn">resampled: thrown away and sampled again</span>` : ''} <small class="muted">policy ${ms(s.policyLatencyMs)} · ${s.policyPromptTokens} / ${s.policyCompletionTokens} tokens</small></h3>
<div class="label">Policy output</div><pre class="policy-text">${s.policyText}</pre>
<div class="label">Parsed action</div><p class="action">${actionHtml(s)}</p>
${s.formatError ? html`<p class="bad format-error">Told the policy: ${s.formatError}</p>` : ''}
${s.calls.length ? html`<div class="label">Calls (${s.calls.length}${s.expertLatencyMs !== undefined ? `, skill ${ms(s.expertLatencyMs)}` : ''})</div>${calls}` : ''}
${s.observation !== undefined ? html`<div class="label">Observation the policy saw</div><pre class="observation">${s.observation}</pre>` : ''}
</section>`;
}

function itemHtml(item: Item | null, itemError: string | null): Html {
  if (!item)
    return html`<p class="muted">The item is not readable from the data directory (${itemError ?? 'unknown'}).</p>`;
  const images = item.images.map(
    (ref, i) =>
      html`<a href="${imageUrl(ref)}"><img class="thumb" src="${imageUrl(ref)}" alt="image ${i + 1} of the item"${ref.width ? html` title="${ref.width}×${ref.height ?? '?'}"` : ''}></a>`,
  );
  return html`<pre class="question">${item.question}</pre>
${item.options?.length ? html`<ol class="options">${item.options.map((o) => html`<li><strong>${o.label}</strong> ${o.text}</li>`)}</ol>` : ''}
${images.length ? html`<div class="thumbs">${images}</div>` : ''}`;
}

export interface ItemPageInput {
  sweepId: string;
  record: ItemRecord;
  item: Item | null;
  itemError: string | null;
  /** The same item under the sweep's other policies. */
  siblings: ItemRecord[];
  /** The items before and after this one in its cell. */
  previous?: ItemRecord | undefined;
  next?: ItemRecord | undefined;
}

export function itemPage(input: ItemPageInput): Html {
  const { sweepId, record: r, item, itemError, siblings } = input;
  const gold = item?.answers ?? [];
  const step = (rel: string, label: string, x: ItemRecord | undefined) =>
    x ? html` · <a rel="${rel}" href="${itemUrl(sweepId, x.rolloutId)}">${label}</a>` : '';
  return html`<p><a href="/sweeps/${seg(sweepId)}">← sweep ${sweepId}</a> · <a href="${cellUrl(sweepId, r.policy, r.benchmark)}">${r.policy} on ${r.benchmark}</a>${step('prev', '← previous item', input.previous)}${step('next', 'next item →', input.next)}</p>
<h1>${r.itemId} <small class="muted">${r.policy} · seed ${r.seed} · sample ${r.sample}</small></h1>
<table class="facts" id="verdict"><tbody>
<tr><th>verdict</th><td>${verdict(r)} <small class="muted">score ${r.score}</small></td></tr>
<tr><th>extracted answer</th><td><code id="extracted">${r.extracted ?? '∅ (nothing extracted)'}</code></td></tr>
<tr><th>gold answers</th><td id="gold">${gold.map((g, i) => html`${i ? ' | ' : ''}<code>${g}</code>`)}</td></tr>
<tr><th>metric's verdict</th><td id="reason">${r.scoreReason}</td></tr>
${r.error ? html`<tr><th>error</th><td class="bad">${r.error}</td></tr>` : ''}
<tr><th>status</th><td>${r.status} · ${turnsOf(r)} turns · ${r.expertCalls} expert calls · ${r.promptTokens} / ${r.completionTokens} tokens · ${ms(r.latencyMs)} (policy ${ms(r.policyLatencyMs)}, experts ${ms(r.expertLatencyMs)})</td></tr>
</tbody></table>
${judgeHtml(r.judge)}
${siblings.length ? html`<p>Other policies on this item: ${siblings.map((s, i) => html`${i ? ' · ' : ''}<a href="${itemUrl(sweepId, s.rolloutId)}">${s.policy}</a> ${verdict(s)}`)}</p>` : ''}
<h2>Item</h2>
${itemHtml(item, itemError)}
<h2>Trace</h2>
${r.steps.length ? r.steps.map((s) => stepHtml(s, new Set(item?.images.map((i) => i.sha256)))) : html`<p class="muted">No policy turns (a baseline calls its expert directly).</p>`}
${r.candidates?.length ? html`<h2>Fan-out candidates</h2><table id="candidates"><thead><tr><th>expert</th><th>skill</th><th>extracted</th><th>verdict</th></tr></thead><tbody>${r.candidates.map((c) => html`<tr><td>${c.expert}</td><td>${c.skill}</td><td><code>${c.extracted ?? '∅'}</code></td><td>${c.error ? html`<span class="bad">error: ${c.error}</span>` : verdict({ status: 'answered', correct: c.correct })}</td></tr>`)}</tbody></table>` : ''}
<h2>Final output</h2><pre id="raw-output">${r.rawOutput}</pre>`;
}

export interface ComparePageInput {
  sweepId: string;
  policies: string[];
  benchmarks: string[];
  a: string;
  b: string;
  benchmark: string;
  rows: ComparedItem[];
}

export function comparePage(input: ComparePageInput): Html {
  const { sweepId, a, b, rows } = input;
  const choose = (name: string, values: string[], current: string, any: boolean) =>
    html`<select name="${name}">${any ? html`<option value="">all benchmarks</option>` : ''}${values.map((v) => html`<option value="${v}"${v === current ? new Html(' selected') : ''}>${v}</option>`)}</select>`;
  const side = (r: ItemRecord | undefined) =>
    r
      ? html`${verdict(r)} <code>${r.extracted ?? '∅'}</code> <a href="${itemUrl(sweepId, r.rolloutId)}">trace</a>`
      : verdict(r);
  const onlyA = rows.filter((r) => r.discordant && r.a?.correct).length;
  const onlyB = rows.filter((r) => r.discordant && r.b?.correct).length;
  return html`<p><a href="/sweeps/${seg(sweepId)}">← sweep ${sweepId}</a></p>
<h1>Compare two policies item by item</h1>
<form class="filters" method="get">${choose('a', input.policies, a, false)} vs ${choose('b', input.policies, b, false)} on ${choose('benchmark', input.benchmarks, input.benchmark, true)} <button type="submit">Compare</button></form>
<p id="compare-summary">${rows.length} items · ${onlyA} only ${a} right · ${onlyB} only ${b} right · discordant items first</p>
<div class="scroll"><table id="compare"><thead><tr><th>benchmark</th><th>item</th><th>${a}</th><th>${b}</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr class="${r.discordant ? 'discordant' : ''}"><td>${r.benchmark}</td><td>${r.itemId}${r.seed || r.sample ? html` <small class="muted">s${r.seed}/${r.sample}</small>` : ''}</td><td>${side(r.a)}</td><td>${side(r.b)}</td></tr>`,
  )}</tbody></table></div>`;
}
