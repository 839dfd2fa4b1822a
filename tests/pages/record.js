// Test pages: counts the events each input receives (as page code would see them), in
// `window.seen[id or name]`, and remembers submissions in `window.submitted`.
window.seen = {};
for (const type of ['keydown', 'input', 'keyup', 'change']) {
  document.addEventListener(
    type,
    (event) => {
      const key = event.target.id || event.target.name;
      if (!key) return;
      const counts = (window.seen[key] ??= { keydown: 0, input: 0, keyup: 0, change: 0 });
      counts[type] += 1;
    },
    true,
  );
}
