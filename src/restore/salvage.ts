/**
 * The catalog is the payload's first entry and holds every CREATE TABLE; it
 * ends where table 1's schema.sql begins, so one damaged chunk there can take
 * both copies of that table's definition. This reads the complete table
 * objects from the intact start of a damaged catalog (JSON.stringify output:
 * no whitespace, and a quote inside a string is always escaped).
 */
import type { CatalogTable } from '../archive/layout.js';

/** Index just past the object or array that starts at `from`, or -1 when it is cut off. */
function valueEnd(text: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let k = from; k < text.length; k++) {
    const c = text[k];
    if (inString) {
      if (c === '\\') k++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return -1;
}

const isTable = (t: Partial<CatalogTable>) =>
  Number.isInteger(t.index) && typeof t.name === 'string' && typeof t.create === 'string' && Array.isArray(t.columns) && Array.isArray(t.primaryKey);

/** The tables whose whole description lies in `prefix`, the catalog's bytes before the damage. */
export function salvageCatalogTables(prefix: Buffer): CatalogTable[] {
  const text = prefix.toString('utf8');
  const start = text.indexOf('"tables":[');
  const out: CatalogTable[] = [];
  for (let at = start < 0 ? -1 : start + 10; at >= 0 && text[at] === '{'; ) {
    const end = valueEnd(text, at);
    if (end < 0) break;
    try {
      const t = JSON.parse(text.slice(at, end)) as CatalogTable;
      if (!isTable(t)) break;
      out.push(t);
    } catch {
      break;
    }
    at = text[end] === ',' ? end + 1 : -1;
  }
  return out;
}
