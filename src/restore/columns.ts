import type { Connection } from '../db/connect.js';
import type { CatalogTable } from '../archive/layout.js';
import { HEX_TYPES } from '../backup/catalog.js';
import { selectOne, selectRows } from '../db/query.js';

/**
 * When the catalog was lost to damage, a table's data columns are read back
 * from the table just created from its (intact) schema entry: the same rule
 * the dump used (generated columns excluded, BIT and spatial as hex).
 */
export async function columnsFromServer(conn: Connection, index: number, name: string): Promise<CatalogTable> {
  const cols = await selectRows<Record<string, unknown>>(conn, 
    'SELECT COLUMN_NAME AS c, DATA_TYPE AS dt, IS_GENERATED AS gen, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [name],
  );
  const pk = await selectRows<Record<string, unknown>>(conn, "SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX", [name]);
  const eng = (await selectOne<Record<string, unknown>>(conn, 'SELECT ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [name]))!;
  return {
    index,
    name,
    engine: eng?.e ? String(eng.e) : null,
    columns: cols
      .filter((r) => !(r.gen === 'ALWAYS' || /VIRTUAL|STORED|PERSISTENT/i.test(String(r.extra ?? ''))))
      .map((r) => ({ name: String(r.c), dataType: String(r.dt).toLowerCase(), encoding: HEX_TYPES.has(String(r.dt).toLowerCase()) ? 'hex' : 'text' })),
    primaryKey: pk.map((r) => String(r.c)),
    rowsEstimate: 0,
    create: '',
  };
}
