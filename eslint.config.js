// ESLint over the extension's JavaScript (`npm run lint:js`, run by scripts/test.sh): the
// recommended rules, with the globals of the browser and of the extension APIs.
import js from '@eslint/js';
import globals from 'globals';
// The content scripts are classic scripts, not modules: the worker registers them (access.js).
import { PAGE_SCRIPTS as CONTENT_SCRIPTS } from './extension/access.js';

/** What ESLint checks: every module of the extension, not the generated WebAssembly glue. */
const FILES = ['extension/**/*.js'];


export default [
  { ignores: ['extension/pkg/'] },
  {
    ...js.configs.recommended,
    files: FILES,
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.webextensions },
    },
    rules: {
      ...js.configs.recommended.rules,
      // `const { secret, ...rest } = token` is how a field is left out of a copy.
      'no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // The browser's HTTP cache keeps a request's URL on disk, and a reply's body unless the
      // server forbids it: a privacyIDEA poll's URL holds a signature that confirms a PIN guess
      // offline. No call to a server may leave anything in it.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='fetch']:not(:has(Property[key.name='cache'][value.value='no-store']))",
          message: "Every fetch takes `cache: 'no-store'`: the HTTP cache keeps URLs and replies on disk.",
        },
      ],
    },
  },
  { files: CONTENT_SCRIPTS, languageOptions: { sourceType: 'script' } },
];
