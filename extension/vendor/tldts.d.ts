// SPDX-License-Identifier: MIT OR Apache-2.0
// The part of tldts (npm, pinned in package.json) that the extension uses. Its module is staged
// next to this file as tldts.js from node_modules/ (scripts/stage-extension.mjs, VENDORED);
// these declarations stand for it in the type check.

/** Options of tldts that the extension passes. */
export interface Options {
  /** Whether the Public Suffix List's private section counts (github.io, blogspot.com). */
  allowPrivateDomains?: boolean;
}

/** The registrable domain (public suffix plus one label) of a host or URL, or null. */
export function getDomain(url: string, options?: Options): string | null;
