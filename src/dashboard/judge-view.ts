import type { JudgeTrace } from '../core/judge.ts';
import { type Html, html } from './html.ts';

/**
 * The judge model's part in an item's verdict (CharXiv's grading, MathVista's extraction):
 * who judged, what was read from its reply, the reply itself (untrusted: escaped, in a <pre>),
 * and the input hash that keys the cache. Nothing when no judge took part.
 */
export function judgeHtml(judge: JudgeTrace | undefined): Html | '' {
  if (!judge) return '';
  return html`<h2>Judge</h2>
<table class="facts" id="judge"><tbody>
<tr><th>judge</th><td>${judge.judge} <small class="muted">model ${judge.model}</small></td></tr>
<tr><th>task</th><td>${judge.purpose} <small class="muted">(${judge.instructions === 'upstream' ? "the benchmark's own instruction texts" : "the project's prompt"})</small></td></tr>
<tr><th>verdict read</th><td><code id="judge-verdict">${judge.verdict === '' ? '∅' : judge.verdict}</code></td></tr>
<tr><th>from the cache</th><td>${judge.cached ? 'yes (no call made for this verdict)' : 'no (the judge was called)'}</td></tr>
<tr><th>input sha256</th><td><code>${judge.inputHash}</code></td></tr>
</tbody></table>
<pre id="judge-output">${judge.output}</pre>`;
}
