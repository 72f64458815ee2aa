/**
 * salvageCatalogTables: from the intact start of a damaged catalog, every
 * table described whole, and none described in part, cut at every byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { salvageCatalogTables } from '../../src/restore/salvage.js';
import type { Catalog, CatalogTable } from '../../src/archive/layout.js';

const table = (index: number, name: string, create: string): CatalogTable => ({ index, name, engine: 'InnoDB', columns: [{ name: 'id', dataType: 'int', encoding: 'text' }], primaryKey: ['id'], rowsEstimate: 1, create });

test('every whole table is salvaged from a catalog cut at any byte, and no partial one', () => {
  // Names and statements with the characters a naive scanner trips on: quotes, braces, brackets, backslashes.
  const tables = [table(1, 'a', 'CREATE TABLE `a` (\n  `id` int NOT NULL COMMENT \'{"x":[1,2]}\'\n)'), table(2, 'b"}],{', 'CREATE TABLE `b"}],{` (`id` int) COMMENT \'\\\\\''), table(3, 'ü表', 'CREATE TABLE `ü表` (`id` int)')];
  const catalog: Catalog = { database: 'd"b', charset: 'utf8mb4', collation: 'utf8mb4_general_ci', serverVersion: '10.11', createdAt: 'now', tables, objects: [{ kind: 'view', name: 'v' }] };
  const bytes = Buffer.from(JSON.stringify(catalog), 'utf8');
  const ends = tables.map((t) => bytes.indexOf(Buffer.from(JSON.stringify(t))) + Buffer.byteLength(JSON.stringify(t)));
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got = salvageCatalogTables(bytes.subarray(0, cut));
    assert.deepEqual(got, tables.filter((_, i) => ends[i]! <= cut), `cut at ${cut}`);
  }
});
