// Settings for `web-ext lint` (run it as `npm run lint:ext`, which builds the packages first,
// scripts/package-extension.mjs): it checks dist/firefox/, the Firefox package's files as
// addons.mozilla.org receives them. The packages themselves are built by that script, not by
// `web-ext build`, so that they are reproducible byte for byte.
export default {
  sourceDir: 'dist/firefox',
};
