// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// A small world map for a sign-in request: land outlines with a pin where the request comes
// from. The outlines ship with the extension (map/world.js), so showing a request never asks a
// tile server, or anyone, where the person is signing in from.
import { HEIGHT, LAND, WIDTH } from './map/world.js';

export { HEIGHT, WIDTH };

const SVG_NS = 'http://www.w3.org/2000/svg';
const MICRO = 1_000_000;

/** `value` limited to [min, max]; anything that is not a finite number counts as 0. */
function clamp(value, min, max) {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : 0;
}

/**
 * Projects a point onto the map (equirectangular: degrees map linearly to viewBox units).
 *
 * @param {number} latE6 latitude in micro-degrees, -90 000 000 (south) to 90 000 000 (north)
 * @param {number} lonE6 longitude in micro-degrees, -180 000 000 (west) to 180 000 000 (east)
 * @returns {{x: number, y: number}} viewBox units: x from 0 (180° W) to WIDTH (180° E), y from
 *   0 (90° N) to HEIGHT (90° S). Out-of-range input is clamped to the map's edge and anything
 *   that is not a finite number counts as 0.
 */
export function project(latE6, lonE6) {
  const lat = clamp(latE6, -90 * MICRO, 90 * MICRO) / MICRO;
  const lon = clamp(lonE6, -180 * MICRO, 180 * MICRO) / MICRO;
  return { x: ((lon + 180) / 360) * WIDTH, y: ((90 - lat) / 180) * HEIGHT };
}

/** The label a screen reader reads for the map: the place's names as far as they are known. */
function label(city, country) {
  const names = [city, country].filter((name) => typeof name === 'string' && name.trim() !== '');
  if (names.length === 0) return 'Map showing the approximate location';
  return `Map showing ${names.map((name) => name.trim()).join(', ')}`;
}

/** An SVG element with attributes; colours go through `style` so that var() resolves. */
function svg(name, attributes = {}, style = {}) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  Object.assign(element.style, style);
  return element;
}

/**
 * Builds the map of the whole world with a pin at the place. It fills its container's width and
 * keeps the 2:1 ratio; its colours are the custom properties of map.css (--map-sea, --map-land,
 * --map-pin), which a page overrides to theme it.
 *
 * @param {{city?: string, country?: string, latE6: number, lonE6: number}} place as in a push
 *   login request; city and country may be missing or empty
 * @returns {SVGSVGElement}
 */
export function createMap(place) {
  const { city = '', country = '', latE6, lonE6 } = place ?? {};
  const { x, y } = project(latE6, lonE6);

  const map = svg('svg', {
    class: 'map',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: '100%',
    role: 'img',
    'aria-label': label(city, country),
  });
  map.append(
    svg('rect', { class: 'map-sea', width: WIDTH, height: HEIGHT }, { fill: 'var(--map-sea)' }),
    // evenodd: lakes such as the Caspian Sea are holes in the land rings.
    svg('path', { class: 'map-land', d: LAND, 'fill-rule': 'evenodd' }, { fill: 'var(--map-land)' }),
  );

  // A ring around the dot finds the eye on a map this small; the sea-coloured edge keeps the dot
  // apart from the land beneath it.
  const pin = svg('g', { class: 'map-pin' });
  pin.append(
    svg('circle', { class: 'map-pin-ring', cx: x, cy: y, r: 20, 'stroke-width': 5 }, {
      fill: 'none',
      stroke: 'var(--map-pin)',
      strokeOpacity: '0.55',
    }),
    svg('circle', { class: 'map-pin-dot', cx: x, cy: y, r: 9, 'stroke-width': 3 }, {
      fill: 'var(--map-pin)',
      stroke: 'var(--map-sea)',
    }),
  );
  map.append(pin);
  return map;
}
