/**
 * One instance per distinct string: `JSON.parse` gives every string value of every record a
 * copy of its own (V8 shares only the shortest), so a sweep's records held in memory carry
 * the same sweep id, policy, item ids, model and skill names thousands of times over. An
 * interner hands back the first instance of each value it has seen.
 *
 * It holds at most `limit` values, none longer than MAX_LENGTH: past the limit, or for a
 * longer value, it returns its argument (still right, only not shared), so a field that turns
 * out to be unique per record costs a bounded table, not one entry per record.
 */
const MAX_LENGTH = 200;

/** Returns the shared instance of a value; `size` is how many values it keeps. */
export type Intern = ((value: string) => string) & { readonly size: number };

export function interner(limit = 100_000): Intern {
  const seen = new Map<string, string>();
  const intern = (value: string) => {
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (value.length <= MAX_LENGTH && seen.size < limit) seen.set(value, value);
    return value;
  };
  return Object.defineProperty(intern, 'size', { get: () => seen.size }) as Intern;
}

/** Leaves every string as it is (records slimmed one at a time). */
export const noIntern: Intern = interner(0);
