// Settings for `web-ext lint` and `web-ext build` (run them as `npm run lint:ext` and
// `npm run build:ext`): the extension is manifest.json plus extension/; everything else in the
// repository is left out of the package.
export default {
  sourceDir: '.',
  artifactsDir: 'dist',
  ignoreFiles: [
    '.ci',
    '.cargo',
    'BENCHMARKS.md',
    'CHANGELOG.md',
    'Cargo.lock',
    'Cargo.toml',
    'README.md',
    'clippy.toml',
    'crate',
    'dist',
    'docs',
    'extension/icons/icon.svg',
    'extension/pkg/*.d.ts',
    'node_modules',
    'package-lock.json',
    'package.json',
    'rust-toolchain.toml',
    'rustfmt.toml',
    'scripts',
    'server',
    'target',
    'tests',
    'web-ext-config.js',
    'web-ext-config.mjs',
  ],
  build: { overwriteDest: true },
};
