// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Times as the popup says them. Pure functions of their arguments (no clock read here), so that
// they are tested in Node.

/** How long ago `thenMs` was at `nowMs`: "just now", "12 s ago", "2 min ago", "3 h ago". */
export function ago(thenMs, nowMs) {
  const seconds = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/**
 * A moment as a date and time in the person's language: "Dec 7, 2026, 4:45 AM", with the
 * seconds when `seconds` ("Dec 7, 2026, 4:45:12 AM").
 * @param {number} ms
 * @param {boolean} [seconds]
 */
export function dateTime(ms, seconds = false) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: seconds ? 'medium' : 'short' });
}

/** Whole seconds from `nowMs` until `expiresAt` (Unix seconds, as requests carry it), never below 0. */
export function secondsLeft(expiresAt, nowMs) {
  return Math.max(0, Math.ceil(expiresAt - nowMs / 1000));
}

/** A duration as a clock: 105 → "1:45", 5 → "0:05", 3725 → "1:02:05". */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, '0');
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(s % 60)}` : `${minutes}:${pad(s % 60)}`;
}

/** "expires in 1:45", or "expired" once the time is up. */
export function expiresIn(expiresAt, nowMs) {
  const left = secondsLeft(expiresAt, nowMs);
  return left > 0 ? `expires in ${clock(left)}` : 'expired';
}
