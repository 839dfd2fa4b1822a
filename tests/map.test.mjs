// The sign-in request's world map: projection arithmetic and the shipped path data in Node, then
// the SVG that createMap() builds, drawn by real Chromium on an extension page.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HEIGHT, WIDTH, project } from '../extension/map.js';
import { LAND } from '../extension/map/world.js';
import { ROOT, launchWithExtension, openExtensionPage } from './support/browser.mjs';

/** Degrees to the protocol's integer micro-degrees. */
const e6 = (degrees) => Math.round(degrees * 1e6);

// Places whose ground truth at half a degree per unit is unambiguous: well inland, or well out
// at sea. [name, lat, lon, on land?]
const PLACES = [
  ['London', 51.5142, -0.093, true],
  ['Madrid', 40.4168, -3.7038, true],
  ['Chicago', 41.8781, -87.6298, true],
  ['Manaus', -3.119, -60.0217, true],
  ['Alice Springs', -23.698, 133.8807, true],
  ['Ulaanbaatar', 47.8864, 106.9057, true],
  ['Anadyr region, east of the antimeridian', 66, -174, true],
  ['South Pole', -89.9, 0, true],
  ['mid-Atlantic', 30, -40, false],
  ['central Pacific', 0, -150, false],
  ['Indian Ocean', -30, 80, false],
  ['Caspian Sea, a hole in the land', 42, 50.5, false],
];

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

describe('createMap() in Chromium', () => {
  let browser;
  let page;
  before(async () => {
    browser = await launchWithExtension();
    page = await openExtensionPage(browser, 'popup.html');
    // The popup's own page, with the map's stylesheet added as the popup will link it.
    await page.evaluate(async () => {
      const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: 'map.css' });
      const loaded = new Promise((resolve, reject) => {
        link.onload = resolve;
        link.onerror = () => reject(new Error('map.css did not load'));
      });
      document.head.append(link);
      await loaded;
    });
  });
  after(async () => browser?.close());

  /** Builds a map for `place` in a box `width` px wide and reports what Chromium drew. */
  function draw(place, width = WIDTH) {
    return page.evaluate(
      async ({ place, width }) => {
        const { createMap } = await import('./map.js');
        const box = document.createElement('div');
        box.style.width = `${width}px`;
        document.body.replaceChildren(box);
        const map = createMap(place);
        box.append(map);
        const land = map.querySelector('.map-land');
        const dot = map.querySelector('.map-pin-dot');
        const ring = map.querySelector('.map-pin-ring');
        const bbox = land.getBBox();
        const rect = map.getBoundingClientRect();
        const dotRect = dot.getBoundingClientRect();
        return {
          isSvg: map instanceof SVGSVGElement,
          namespace: map.namespaceURI,
          role: map.getAttribute('role'),
          label: map.getAttribute('aria-label'),
          viewBox: map.getAttribute('viewBox'),
          size: { width: rect.width, height: rect.height },
          pin: { cx: Number(dot.getAttribute('cx')), cy: Number(dot.getAttribute('cy')) },
          ringAt: { cx: Number(ring.getAttribute('cx')), cy: Number(ring.getAttribute('cy')) },
          // Where the pin's centre is on screen, in px from the map's top left corner.
          pinOnScreen: {
            x: dotRect.x + dotRect.width / 2 - rect.x,
            y: dotRect.y + dotRect.height / 2 - rect.y,
          },
          landBox: { x: bbox.x, y: bbox.y, width: bbox.width, height: bbox.height },
          colours: {
            sea: getComputedStyle(map.querySelector('.map-sea')).fill,
            land: getComputedStyle(land).fill,
            pin: getComputedStyle(dot).fill,
          },
        };
      },
      { place, width },
    );
  }

  test('is an SVG image labelled with the place, with the pin at its coordinates', async () => {
    const london = { city: 'London', country: 'GB', latE6: 51514200, lonE6: -93000 };
    const drawn = await draw(london);
    assert.equal(drawn.isSvg, true);
    assert.equal(drawn.namespace, 'http://www.w3.org/2000/svg');
    assert.equal(drawn.role, 'img');
    assert.equal(drawn.label, 'Map showing London, GB');
    assert.equal(drawn.viewBox, `0 0 ${WIDTH} ${HEIGHT}`);
    const { x, y } = project(london.latE6, london.lonE6);
    assert.ok(Math.abs(drawn.pin.cx - x) < 1e-3 && Math.abs(drawn.pin.cy - y) < 1e-3, JSON.stringify(drawn.pin));
    assert.deepEqual(drawn.ringAt, drawn.pin);
    // At 720 px wide a viewBox unit is a pixel.
    assert.ok(Math.abs(drawn.pinOnScreen.x - x) < 1 && Math.abs(drawn.pinOnScreen.y - y) < 1, JSON.stringify(drawn.pinOnScreen));
  });

  test('fills the width it is given and keeps the 2:1 ratio', async () => {
    const drawn = await draw({ city: 'Sydney', country: 'AU', latE6: -33868800, lonE6: 151209300 }, 300);
    assert.equal(drawn.size.width, 300);
    assert.ok(Math.abs(drawn.size.height - 150) < 1, `height ${drawn.size.height}`);
    const { x, y } = project(-33868800, 151209300);
    assert.ok(Math.abs(drawn.pinOnScreen.x - (x * 300) / WIDTH) < 1, JSON.stringify(drawn.pinOnScreen));
    assert.ok(Math.abs(drawn.pinOnScreen.y - (y * 300) / WIDTH) < 1, JSON.stringify(drawn.pinOnScreen));
    assert.ok(drawn.pinOnScreen.x > 150 && drawn.pinOnScreen.y > 75, 'lower right quadrant');
  });

  test('draws land across the whole world', async () => {
    const { landBox } = await draw({ city: '', country: '', latE6: 0, lonE6: 0 });
    // From the antimeridian to the antimeridian, from the Arctic islands down to the South Pole.
    assert.ok(landBox.x < 2 && landBox.x + landBox.width > WIDTH - 2, JSON.stringify(landBox));
    assert.ok(landBox.y < 30 && landBox.y + landBox.height === HEIGHT, JSON.stringify(landBox));
  });

  test('has land where there is land and sea where there is sea', async () => {
    const answers = await page.evaluate(async (points) => {
      const { createMap } = await import('./map.js');
      const map = createMap({ city: '', country: '', latE6: 0, lonE6: 0 });
      // Chromium answers isPointInFill only for elements in the document.
      document.body.replaceChildren(map);
      const land = map.querySelector('.map-land');
      return points.map(([x, y]) => land.isPointInFill(new DOMPoint(x, y)));
    }, PLACES.map(([, lat, lon]) => Object.values(project(e6(lat), e6(lon)))));
    PLACES.forEach(([name, , , onLand], i) => assert.equal(answers[i], onLand, `${name}: on land`));
  });

  test('labels a place without a city by what is known of it', async () => {
    assert.equal((await draw({ city: '', country: '', latE6: 0, lonE6: 0 })).label, 'Map showing the approximate location');
    assert.equal((await draw({ city: '  ', country: 'NZ', latE6: 0, lonE6: 0 })).label, 'Map showing NZ');
    assert.equal((await draw({ city: 'Porto', country: '', latE6: 0, lonE6: 0 })).label, 'Map showing Porto');
  });

  test('takes its colours from map.css, in light and dark', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    const place = { city: 'London', country: 'GB', latE6: 51514200, lonE6: -93000 };
    assert.deepEqual((await draw(place)).colours, {
      sea: 'rgb(220, 232, 245)',
      land: 'rgb(174, 187, 208)',
      pin: 'rgb(209, 49, 31)',
    });
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual((await draw(place)).colours, {
      sea: 'rgb(28, 36, 51)',
      land: 'rgb(70, 82, 106)',
      pin: 'rgb(255, 107, 87)',
    });
    await page.emulateMedia({ colorScheme: null });
  });

  test('leaves no console errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
