// The sign-in request's world map as Chromium draws it: the SVG that createMap() builds, on an
// extension page. Its projection arithmetic and path data are checked in Node by
// tests/unit/map.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HEIGHT, WIDTH, project } from '../../extension/map.js';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';

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
