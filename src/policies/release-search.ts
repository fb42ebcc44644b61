/**
 * A `<search>` block's content as the release's agent loop reads it: `MODEL@@SKILL: input`,
 * split at the first `:`, then at the first `@@`, each part stripped; a malformed call is
 * the observation the loop gives back. Names are resolved afterwards (the engine's
 * NameResolver), where an unknown one becomes its own observation.
 */
export type ReleaseSearch =
  | { kind: 'call'; call: { model: string; skill: string; input: string } }
  | { kind: 'error'; observation: string };

export function parseReleaseSearch(content: string): ReleaseSearch {
  if (!content.includes('@@') || !content.includes(':')) {
    return { kind: 'error', observation: 'Format Error: Invalid skill call format' };
  }
  const colon = content.indexOf(':');
  const head = content.slice(0, colon).trim();
  const input = content.slice(colon + 1).trim();
  const at = head.indexOf('@@');
  if (at < 0) return { kind: 'error', observation: 'Format Error: Missing @@ separator' };
  return { kind: 'call', call: { model: head.slice(0, at).trim(), skill: head.slice(at + 2).trim(), input } };
}
