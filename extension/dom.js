// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Element lookup for the extension's pages (options and popup). Each page's HTML is its own, so
// a lookup by id can name the kind of element the HTML has under that id: the typed lookups
// below are getElementById with that kind stated for the type check, and do nothing more.

/**
 * The element with `id`.
 * @param {string} id
 */
export const $ = (id) => document.getElementById(id);

/** The `<input>` with `id`. @param {string} id */
export const $input = (id) => /** @type {HTMLInputElement} */ ($(id));

/** The `<button>` with `id`. @param {string} id */
export const $button = (id) => /** @type {HTMLButtonElement} */ ($(id));

/** The `<select>` with `id`. @param {string} id */
export const $select = (id) => /** @type {HTMLSelectElement} */ ($(id));

/** The `<form>` with `id`. @param {string} id */
export const $form = (id) => /** @type {HTMLFormElement} */ ($(id));

/** The `<dialog>` with `id`. @param {string} id */
export const $dialog = (id) => /** @type {HTMLDialogElement} */ ($(id));

/**
 * A copy of the first element of the `<template>` with `id` (a list item), to fill in.
 * @param {string} id
 */
export const fromTemplate = (id) =>
  /** @type {HTMLElement} */ (/** @type {HTMLTemplateElement} */ ($(id)).content.firstElementChild.cloneNode(true));

/**
 * The first element under `root` that `selector` finds (querySelector), as an HTML element.
 * Where its kind matters, a JSDoc `@type` on the variable that takes it, or a cast, names the
 * kind: `HTMLInputElement`, say, or `SVGSVGElement` for a part of an inline SVG.
 * @template {Element} [E=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {E}
 */
export const find = (root, selector) => root.querySelector(selector);

/**
 * An element that may have the focus: a control, which has `disabled`, or any other HTML
 * element of the page, which has not.
 * @typedef {HTMLElement & {disabled?: boolean}} Focusable
 */
