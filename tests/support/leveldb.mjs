// What a LevelDB file holds, readable by a byte search: the data blocks of a table file
// (`*.ldb`, `*.sst`), which LevelDB stores Snappy-compressed by default, decompressed. Chromium's
// IndexedDB orders its keys with its own comparator (`idb_cmp1`), so a LevelDB library cannot open
// it; the table format itself does not depend on the comparator, so this reads the blocks
// directly (https://github.com/google/leveldb/blob/main/doc/table_format.md). A write-ahead log
// (`*.log`) is not compressed and is searched as it is; a record crossing one of its 32 KiB blocks
// is split by a 7-byte header, which a raw search misses.
import { readFile } from 'node:fs/promises';
import snappy from 'snappyjs';

const FOOTER = 48;
const MAGIC = 0xdb4775248b80fb57n;
const SNAPPY = 1;

function varint(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
    shift += 7;
  }
}

/** The block at `handle` ({offset, size}), decompressed; its 5-byte trailer names the compression. */
function block(bytes, { offset, size }) {
  const data = bytes.subarray(offset, offset + size);
  return bytes[offset + size] === SNAPPY ? Buffer.from(snappy.uncompress(data)) : data;
}

/** The values of a block's entries (prefix-compressed keys are skipped). */
function values(data) {
  const restarts = data.readUInt32LE(data.length - 4);
  const end = data.length - 4 - 4 * restarts;
  const out = [];
  for (let at = 0; at < end; ) {
    let unshared, length;
    [, at] = varint(data, at); // the bytes shared with the previous key
    [unshared, at] = varint(data, at);
    [length, at] = varint(data, at);
    at += unshared;
    out.push(data.subarray(at, at + length));
    at += length;
  }
  return out;
}

function handle(bytes, at) {
  let offset, size;
  [offset, at] = varint(bytes, at);
  [size, at] = varint(bytes, at);
  return [{ offset, size }, at];
}

/**
 * The decompressed data blocks of the LevelDB table file `file`, or nothing when it is not one.
 * @param {string} file
 * @returns {Promise<Buffer[]>}
 */
export async function levelDbTexts(file) {
  if (!/\.(ldb|sst)$/.test(file)) return [];
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  if (bytes.length < FOOTER || bytes.readBigUInt64LE(bytes.length - 8) !== MAGIC) return [];
  const footer = bytes.length - FOOTER;
  const [, at] = handle(bytes, footer); // the metaindex block
  const [index] = handle(bytes, at);
  return values(block(bytes, index)).map((h) => block(bytes, handle(h, 0)[0]));
}
