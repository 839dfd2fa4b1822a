// The copied-profile test (tests/e2e/copied-profile.test.mjs) searches LevelDB files for secrets;
// a table file's blocks are Snappy-compressed, where a secret whose parts came before in the block
// is no longer a byte string of the file. The scan must find it there too.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { levelDbTexts } from '../support/leveldb.mjs';

test('a secret in a compressed LevelDB table is found', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pushotp-leveldb-'));
  try {
    const db = new ClassicLevel(dir, { valueEncoding: 'utf8' });
    // Its two halves first, then the whole: Snappy writes the whole as two back-references.
    const halves = ['K7QW2ZP4XR9M3V8T', 'J5N6HD1FY0LCBGSE'];
    const secret = halves.join('');
    await db.put('a', `{"first":"${halves[0]}","second":"${halves[1]}"}`);
    await db.put('b', `{"seed":"${secret}"}`);
    await db.compactRange('a', 'z');
    await db.close();
    const tables = (await readdir(dir)).filter((f) => f.endsWith('.ldb')).map((f) => path.join(dir, f));
    assert.ok(tables.length > 0, 'no table file written');
    const raw = Buffer.concat(await Promise.all(tables.map((f) => readFile(f))));
    assert.ok(!raw.includes(secret), 'the table is not compressed: this test shows nothing');
    const read = Buffer.concat((await Promise.all(tables.map(levelDbTexts))).flat());
    assert.ok(read.includes(secret), 'the scan misses a secret in a compressed block');
    assert.ok(read.includes(halves[0]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('files that are not LevelDB tables give nothing', async () => {
  assert.deepEqual(await levelDbTexts(path.join(import.meta.dirname, 'leveldb-scan.test.mjs')), []);
});
