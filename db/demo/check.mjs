// Loads db/demo/metro.sql into a fresh in-memory PGlite and verifies it against
// src/demo/metro-snapshot.json: prints row counts, runs every example SQL
// (each must succeed and return at least one row) and checks the 沈塘桥 lookup.
// Usage: node db/demo/check.mjs   (exit code 0 = OK, 1 = failure)
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';

const root = new URL('../../', import.meta.url);
const sql = await readFile(new URL('db/demo/metro.sql', root), 'utf8');
const snapshot = JSON.parse(await readFile(new URL('src/demo/metro-snapshot.json', root), 'utf8'));

const failures = [];
const db = new PGlite();
try {
  const t0 = Date.now();
  await db.exec(sql);
  console.log(`loaded metro.sql in ${Date.now() - t0} ms`);

  console.log('\nrow counts:');
  for (const t of snapshot.tables) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${t.schema}.${t.name}`);
    console.log(`  ${t.name.padEnd(16)} ${String(rows[0].n).padStart(6)}   (snapshot row_estimate ${t.row_estimate})`);
    if (rows[0].n === 0) failures.push(`table ${t.name} is empty`);
  }

  console.log('\nexamples:');
  for (const [i, ex] of snapshot.examples.entries()) {
    try {
      const { rows } = await db.query(ex.sql);
      const ok = rows.length > 0;
      console.log(`  [${ok ? 'ok' : 'FAIL'}] #${i + 1} ${ex.question} -> ${rows.length} row(s); first: ${JSON.stringify(rows[0] ?? null)}`);
      if (!ok) failures.push(`example #${i + 1} (${ex.question}) returned zero rows`);
    } catch (err) {
      console.log(`  [FAIL] #${i + 1} ${ex.question} -> error: ${err.message}`);
      failures.push(`example #${i + 1} (${ex.question}) failed: ${err.message}`);
    }
  }

  const { rows } = await db.query(`SELECT count(*)::int AS n FROM stations WHERE name LIKE '%沈塘桥%'`);
  console.log(`\nstations LIKE '%沈塘桥%': ${rows[0].n}`);
  if (rows[0].n !== 1) failures.push(`expected exactly 1 station matching 沈塘桥, got ${rows[0].n}`);
} catch (err) {
  failures.push(`load/check error: ${err.message}`);
} finally {
  await db.close();
}

if (failures.length) {
  console.error('\nFAILED:\n' + failures.map((f) => '  - ' + f).join('\n'));
  process.exit(1);
}
console.log('\nall checks passed');
