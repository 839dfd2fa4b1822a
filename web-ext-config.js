// Settings for `web-ext lint` and `web-ext build` (run them as `npm run lint:ext` and
// `npm run build:ext`, which stage the extension first): they check and pack dist/extension/,
// the folder scripts/stage-extension.mjs fills with the extension's files and nothing else.
export default {
  sourceDir: 'dist/extension',
  artifactsDir: 'dist',
  build: { overwriteDest: true },
};
