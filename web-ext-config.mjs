// web-ext 8+ refuses a config file ending in .js, so the package scripts run it with
// `--no-config-discovery --config=web-ext-config.mjs`; the settings live in web-ext-config.js.
export { default } from './web-ext-config.js';
