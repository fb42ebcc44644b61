import { describe, expect, it } from 'vitest';
import { ItemRecord } from '../../src/core/items.ts';
import { itemPage } from '../../src/dashboard/item-views.ts';
import { rec } from '../scoring/helpers.ts';

const EVIL = '<img src=x onerror="window.__pwned=1">';

describe("the item page shows the judge's part in the verdict", () => {
  const judged = rec({
    policy: 'maestro',
    benchmark: 'charxiv',
    itemId: 'charxiv-0001',
    correct: true,
    judge: {
      judge: 'sim-judge',
      model: 'judge-sim',
      inputHash: 'a'.repeat(64),
      purpose: 'charxiv-grade',
      instructions: 'project',
      output: `{"extracted_answer": "${EVIL}", "score": 1}`,
      verdict: '1',
      cached: true,
    },
  });

  it('renders the judge, the verdict read, the cache flag and the raw reply (escaped)', () => {
    const html = itemPage({ sweepId: 's', record: judged, item: null, itemError: null, siblings: [] }).text;
    expect(html).toContain('<table class="facts" id="judge">');
    expect(html).toContain('sim-judge <small class="muted">model judge-sim</small>');
    expect(html).toContain('<code id="judge-verdict">1</code>');
    expect(html).toContain('yes (no call made for this verdict)');
    expect(html).toContain('a'.repeat(64));
    expect(html).toMatch(/<pre id="judge-output">\{&quot;extracted_answer&quot;: &quot;&lt;img src=x/);
    expect(html).not.toContain('<img src=x');
  });

  it('shows nothing of a judge for a record without one, and older records still parse', () => {
    const plain = rec({ policy: 'maestro', benchmark: 'chartqa', itemId: 'c-1' });
    const html = itemPage({ sweepId: 's', record: plain, item: null, itemError: null, siblings: [] }).text;
    expect(html).not.toContain('id="judge"');
    expect(ItemRecord.parse(plain).judge).toBeUndefined();
    expect(ItemRecord.parse(judged).judge?.verdict).toBe('1');
  });
});
