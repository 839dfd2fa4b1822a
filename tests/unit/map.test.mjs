// The sign-in request's world map in Node: projection arithmetic and the shipped path data.
// tests/e2e/map.test.mjs checks what Chromium draws from them.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { HEIGHT, WIDTH, project } from '../../extension/map.js';
import { LAND } from '../../extension/map/world.js';
import { ROOT } from '../support/root.mjs';

/** Degrees to the protocol's integer micro-degrees. */
const e6 = (degrees) => Math.round(degrees * 1e6);

describe('project()', () => {
  const near = (actual, expected, what) =>
    assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`);

  test('places London just west of the middle, in the northern half', () => {
    const { x, y } = project(51514200, -93000);
    near(x, ((180 - 0.093) / 360) * WIDTH, 'x');
    near(y, ((90 - 51.5142) / 180) * HEIGHT, 'y');
    assert.ok(x < WIDTH / 2 && WIDTH / 2 - x < 0.2, 'a tenth of a degree west of Greenwich');
  });

  test('places Sydney in the lower right quadrant', () => {
    const { x, y } = project(e6(-33.8688), e6(151.2093));
    assert.ok(x > WIDTH / 2 && x < WIDTH && y > HEIGHT / 2 && y < HEIGHT, `${x}, ${y}`);
    near(x, ((180 + 151.2093) / 360) * WIDTH, 'x');
  });

  test('maps the equator, the prime meridian, the antimeridian and the poles to the edges', () => {
    assert.deepEqual(project(0, 0), { x: WIDTH / 2, y: HEIGHT / 2 });
    assert.deepEqual(project(0, -180_000_000), { x: 0, y: HEIGHT / 2 });
    assert.deepEqual(project(0, 180_000_000), { x: WIDTH, y: HEIGHT / 2 });
    assert.deepEqual(project(90_000_000, 0), { x: WIDTH / 2, y: 0 });
    assert.deepEqual(project(-90_000_000, 0), { x: WIDTH / 2, y: HEIGHT });
  });

  test('clamps out-of-range input to the edge and treats non-numbers as 0', () => {
    assert.deepEqual(project(91_000_000, 181_000_000), { x: WIDTH, y: 0 });
    assert.deepEqual(project(-1e12, -1e12), { x: 0, y: HEIGHT });
    assert.deepEqual(project(Infinity, -Infinity), { x: WIDTH / 2, y: HEIGHT / 2 });
    assert.deepEqual(project(NaN, undefined), { x: WIDTH / 2, y: HEIGHT / 2 });
  });
});

describe('the land path data', () => {
  test('is a 2:1 equirectangular grid', () => {
    assert.equal(WIDTH, 2 * HEIGHT);
  });

  test('is only moves, relative lines and closes, with integers that stay on the map', () => {
    const tokens = LAND.match(/[A-Za-z]|-?\d+|[ ]/g);
    assert.equal(tokens.join(''), LAND, 'nothing but commands, integers and single spaces');
    const numbers = tokens.filter((t) => t !== ' ');
    let i = 0;
    let rings = 0;
    const next = () => {
      const n = numbers[i++];
      assert.match(n ?? '', /^-?\d+$/, `a number at token ${i}`);
      return Number(n);
    };
    while (i < numbers.length) {
      assert.equal(numbers[i++], 'M', `a ring starts with M at token ${i}`);
      let [x, y] = [next(), next()];
      assert.equal(numbers[i++], 'l', `relative lines follow the move at token ${i}`);
      let points = 1;
      while (numbers[i] !== 'z') {
        x += next();
        y += next();
        points++;
        assert.ok(x >= 0 && x <= WIDTH && y >= 0 && y <= HEIGHT, `(${x}, ${y}) is off the map`);
      }
      i++;
      assert.ok(points >= 3, `ring ${rings} has ${points} points`);
      rings++;
    }
    assert.ok(rings > 50, `${rings} rings: every continent and the larger islands`);
  });

  test('stays within its 30 KB budget', async () => {
    const { size } = await stat(path.join(ROOT, 'extension/map/world.js'));
    assert.ok(size <= 30 * 1024, `extension/map/world.js is ${size} bytes`);
  });

  test('ships with its licence notices', async () => {
    await stat(path.join(ROOT, 'extension/map/LICENSE.md'));
  });
});
