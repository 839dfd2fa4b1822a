// SPDX-License-Identifier: MIT OR Apache-2.0
// Turns Natural Earth's 1:110m land outlines into the popup's offline world map:
// extension/map/world.js, one SVG path on an equirectangular grid of WIDTH x HEIGHT.
//
// The output is committed, so neither the build nor the tests run this script. To regenerate
// it (after changing the grid or the filters below, or moving to a newer world-atlas):
//
//   npm ci                           # world-atlas and topojson-client, pinned in package.json
//   node scripts/make-world-map.mjs  # rewrites extension/map/world.js
//   node --test tests/unit/map.test.mjs tests/e2e/map.test.mjs   # size budget and placement checks
//
// The data comes from the npm package world-atlas (land-110m.json, TopoJSON), which carries
// Natural Earth's public-domain land boundaries under the ISC license; extension/map/LICENSE.md
// holds both notices and must stay beside the generated file.
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { feature } from 'topojson-client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'extension/map/world.js');

// Half a degree per unit: coordinates stay integers of at most three digits, and in a popup at
// most 800 px wide a unit is about a pixel, so the rounding does not show.
const WIDTH = 720;
const HEIGHT = 360;
// Rings smaller than this many square grid units are dropped: in the popup they would be a
// pixel or two and cost bytes for nothing.
const MIN_AREA = 1.5;

const require = createRequire(import.meta.url);
const atlasFile = require.resolve('world-atlas/land-110m.json');
const atlasVersion = JSON.parse(
  await readFile(require.resolve('world-atlas/package.json'), 'utf8'),
).version;
const topology = JSON.parse(await readFile(atlasFile, 'utf8'));
const land = feature(topology, topology.objects.land);

/**
 * The pieces a ring is drawn as on a flat map, in degrees, each within -180..180.
 *
 * The atlas is spherical, so a ring may cross the antimeridian (Chukotka, Fiji) with one edge
 * jumping from 180 to -180, which a flat drawing would show as a stripe across the world; and
 * Antarctica's ring goes round the south pole without ever reaching it. So the ring is first
 * made continuous in longitude, then a ring that winds round a pole is closed along that pole's
 * edge of the map, and what lies beyond ±180 is cut off and drawn from the other side.
 */
function flatten(coordinates) {
  const ring = coordinates.map(([lon, lat]) => [lon, lat]);
  for (let i = 1; i < ring.length; i++) {
    while (ring[i][0] - ring[i - 1][0] > 180) ring[i][0] -= 360;
    while (ring[i][0] - ring[i - 1][0] < -180) ring[i][0] += 360;
  }
  const first = ring[0];
  const last = ring.at(-1);
  if (Math.abs(last[0] - first[0]) > 180) {
    // A ring round a pole: the pole on its side of the equator (only Antarctica does this).
    const mean = ring.reduce((sum, p) => sum + p[1], 0) / ring.length;
    const pole = mean < 0 ? -90 : 90;
    ring.push([last[0], pole], [first[0], pole], [first[0], first[1]]);
  }
  const lons = ring.map((p) => p[0]);
  const [west, east] = [Math.min(...lons), Math.max(...lons)];
  const pieces = [];
  for (const shift of [-360, 0, 360]) {
    if (east + shift <= -180 || west + shift >= 180) continue;
    let piece = ring.map(([lon, lat]) => [lon + shift, lat]);
    piece = clip(piece, (lon) => lon >= -180, -180);
    piece = clip(piece, (lon) => lon <= 180, 180);
    if (piece.length >= 3) pieces.push(piece);
  }
  return pieces;
}

/**
 * Sutherland-Hodgman against the half-plane `inside(lon)` bounded by the meridian `edge`. The
 * half-plane is convex, so any ring comes out right; where a ring leaves and re-enters, the
 * pieces are joined by a run along the map's edge, which encloses nothing.
 */
function clip(ring, inside, edge) {
  const out = [];
  for (let i = 0; i < ring.length; i++) {
    const a = ring[(i + ring.length - 1) % ring.length];
    const b = ring[i];
    const crossing = () => [edge, a[1] + ((edge - a[0]) / (b[0] - a[0])) * (b[1] - a[1])];
    if (inside(b[0])) {
      if (!inside(a[0])) out.push(crossing());
      out.push(b);
    } else if (inside(a[0])) {
      out.push(crossing());
    }
  }
  return out;
}

/** Longitude and latitude in degrees to integer grid units (y grows southwards, as in SVG). */
function toGrid([lon, lat]) {
  return [Math.round(((lon + 180) / 360) * WIDTH), Math.round(((90 - lat) / 180) * HEIGHT)];
}

/** Shoelace area, in square grid units. */
function area(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  }
  return Math.abs(sum) / 2;
}

/**
 * Rounds a ring to the grid and drops the points rounding made redundant: repeats, and middle
 * points of straight runs (those would only lengthen the path without changing the outline).
 */
function simplify(coordinates) {
  const ring = [];
  for (const point of coordinates.map(toGrid)) {
    const last = ring[ring.length - 1];
    if (last && last[0] === point[0] && last[1] === point[1]) continue;
    ring.push(point);
  }
  // GeoJSON rings repeat their first point at the end; "z" closes the path instead.
  const same = (p, q) => p[0] === q[0] && p[1] === q[1];
  while (ring.length > 1 && same(ring[0], ring.at(-1))) ring.pop();
  let changed = true;
  while (changed && ring.length > 2) {
    changed = false;
    for (let i = 0; i < ring.length && ring.length > 2; i++) {
      const a = ring[(i + ring.length - 1) % ring.length];
      const b = ring[i];
      const c = ring[(i + 1) % ring.length];
      // Zero cross product: b lies on the line through a and c (a spike back along it too).
      if ((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) === 0) {
        ring.splice(i, 1);
        changed = true;
        i--;
      }
    }
  }
  return ring;
}

/** Numbers joined the way SVG path data allows with the fewest characters. */
function join(numbers) {
  let out = '';
  for (const n of numbers) out += out === '' || n < 0 ? String(n) : ` ${n}`;
  return out;
}

const polygons = land.features.flatMap((f) =>
  f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates : [f.geometry.coordinates],
);
let kept = 0;
let dropped = 0;
let d = '';
for (const polygon of polygons) {
  const [outer, ...holes] = polygon.map((ring) => flatten(ring).map(simplify));
  if (!outer.some((piece) => piece.length >= 3 && area(piece) >= MIN_AREA)) {
    dropped++;
    continue;
  }
  for (const ring of [...outer, ...holes.flat()]) {
    if (ring.length < 3 || area(ring) < MIN_AREA) continue;
    kept++;
    // One absolute move per ring, then relative lines: deltas are one or two digits where
    // absolute coordinates would be three.
    const [first, ...rest] = ring;
    const deltas = [];
    let prev = first;
    for (const p of rest) {
      deltas.push(p[0] - prev[0], p[1] - prev[1]);
      prev = p;
    }
    d += `M${join(first)}l${join(deltas)}z`;
  }
}

/**
 * The path as string literals of at most `width` characters, joined with +: short lines keep
 * diffs of a regenerated map readable. Lines break only before a command, a space or a minus
 * sign, never inside a number.
 */
function literals(text, width = 92) {
  const lines = [];
  while (text.length > width) {
    let cut = width;
    while (cut > 0 && /\d/.test(text[cut])) cut--;
    lines.push(text.slice(0, cut));
    text = text.slice(cut);
  }
  lines.push(text);
  return lines.map((line) => `'${line}'`).join(' +\n  ');
}

const source = `// SPDX-License-Identifier: ISC
// SPDX-FileCopyrightText: 2013-2019 Michael Bostock (world-atlas)
// @ts-check
// Land outlines: Natural Earth, public domain.
// Generated by scripts/make-world-map.mjs from world-atlas ${atlasVersion} land-110m.json (Natural
// Earth 1:110m land). Do not edit: change the script and run it again. See LICENSE.md beside it.

/** Width of the map's viewBox: 360 degrees of longitude, from -180 at x = 0. */
export const WIDTH = ${WIDTH};
/** Height of the map's viewBox: 180 degrees of latitude, from 90 north at y = 0. */
export const HEIGHT = ${HEIGHT};
/** Land outlines as SVG path data in viewBox units; fill them evenodd (lakes are holes). */
export const LAND =
  ${literals(d)};
`;
await writeFile(OUT, source);
console.log(
  `${path.relative(ROOT, OUT)}: ${kept} rings (${dropped} small islands dropped), ` +
    `path ${d.length} bytes, module ${Buffer.byteLength(source)} bytes`,
);
