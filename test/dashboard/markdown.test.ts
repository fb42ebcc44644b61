import { describe, expect, it } from 'vitest';
import { renderMarkdown, tableCells } from '../../src/dashboard/markdown.ts';
import { checkBasicAuth, dashboardAuthFromEnv } from '../../src/dashboard/server.ts';

const onlyReportFiles = {
  resolve: (target: string) => (['accuracy.png', 'routing.md'].includes(target) ? `/r/${target}` : null),
};

describe('the report Markdown renderer', () => {
  it('splits table rows on unescaped pipes only, as the report writer escapes them', () => {
    expect(tableCells('| a \\| b | c \\\\ | 12.5 |')).toEqual(['a | b', 'c \\', '12.5']);
    expect(tableCells('| x |  |')).toEqual(['x', '']);
  });

  it('renders a results table with its alignment, and escapes every cell', () => {
    const out = renderMarkdown(
      '# Sweep <b>s</b>\n\n| Policy | ChartQA |\n| :--- | ---: |\n| direct:<i>x</i> | 61.2 (1 err) |\n',
      onlyReportFiles,
    );
    expect(out).toContain('<h2>Sweep &lt;b&gt;s&lt;/b&gt;</h2>');
    expect(out).toContain('<th>Policy</th><th class="num">ChartQA</th>');
    expect(out).toContain('<tr><td>direct:&lt;i&gt;x&lt;/i&gt;</td><td class="num">61.2 (1 err)</td></tr>');
    expect(out).not.toMatch(/<(b|i)>/);
  });

  it('links and embeds only what the resolver allows', () => {
    const out = renderMarkdown(
      'Charts: [accuracy](accuracy.png) · [evil](javascript:alert(1)) · ![h](routing.md) ![x](https://e.com/x.png)\n\n- `code` and **bold**',
      onlyReportFiles,
    );
    expect(out).toContain('<a href="/r/accuracy.png">accuracy</a>');
    expect(out).not.toContain('javascript:');
    expect(out).toContain('<img src="/r/routing.md" alt="h" loading="lazy">');
    expect(out).not.toContain('https://e.com');
    expect(out).toContain('<ul><li><code>code</code> and <strong>bold</strong></li></ul>');
  });
});

describe('table cell links', () => {
  it('link body cells the option names, escaping the URL and the text, never the header', () => {
    const md = '| Policy | A |\n| :--- | ---: |\n| p \\| <b> | 50.0 |\n| q | 25.0 |\n';
    const out = renderMarkdown(md, {
      resolve: () => null,
      cellLink: (head, row, i) => (row[0] === 'p | <b>' && head[i] === 'A' ? '/cells/"p"/a' : null),
    });
    expect(out).toContain('<td class="num"><a href="/cells/&quot;p&quot;/a">50.0</a></td>');
    expect(out).toContain('<td>p | &lt;b&gt;</td>');
    expect(out).toContain('<td class="num">25.0</td>');
    expect(out).not.toContain('<th class="num"><a');
  });
});

describe('dashboard basic auth', () => {
  const auth = { user: 'ops', password: 'p:ss wörd' };
  const header = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('accepts exactly the configured user and password', () => {
    expect(checkBasicAuth(header('ops', 'p:ss wörd'), auth)).toBe(true);
    expect(checkBasicAuth(header('ops', 'p:ss word'), auth)).toBe(false);
    expect(checkBasicAuth(header('op', 'p:ss wörd'), auth)).toBe(false);
    expect(checkBasicAuth(undefined, auth)).toBe(false);
    expect(checkBasicAuth('Bearer abc', auth)).toBe(false);
  });

  it('reads both variables or neither', () => {
    expect(dashboardAuthFromEnv({})).toBeNull();
    expect(dashboardAuthFromEnv({ MAESTRO_DASHBOARD_USER: 'a', MAESTRO_DASHBOARD_PASSWORD: 'b' })).toEqual({
      user: 'a',
      password: 'b',
    });
    expect(() => dashboardAuthFromEnv({ MAESTRO_DASHBOARD_USER: 'a' })).toThrow(/MAESTRO_DASHBOARD_PASSWORD/);
  });
});
