// The artifact table: sort by a header click, filter by the selects, fold an artifact's figures out.
// One <tbody> per artifact (its row and its hidden figures), so sorting and filtering move both.
(() => {
  const table = document.getElementById('artifact-table');
  const bodies = () => Array.from(table.tBodies);
  const sortValue = (body, key) => {
    const cell = body.querySelector(`tr.main > td[data-key="${CSS.escape(key)}"]`);
    return cell && cell.dataset.sort !== undefined ? cell.dataset.sort : null;
  };

  table.querySelectorAll('thead th[data-key]').forEach((th) => {
    th.addEventListener('keydown', (event) => {  // headers are focusable: Enter or Space sorts too
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); th.click(); }
    });
    th.addEventListener('click', () => {
      const numeric = th.dataset.numeric === 'true';
      const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      table.querySelectorAll('thead th').forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      const keyed = bodies().map((b) => [sortValue(b, th.dataset.key), b]);
      keyed.sort(([x], [y]) => {
        if (x === null || y === null) return (x === null) - (y === null);  // missing figures last
        return dir * (numeric ? Number(x) - Number(y) : x.localeCompare(y));
      });
      keyed.forEach(([, b]) => table.appendChild(b));
    });
  });

  const selects = Array.from(document.querySelectorAll('select[data-facet]'));
  const count = document.getElementById('shown-count');
  const applyFilters = () => {
    let shown = 0;
    bodies().forEach((b) => {
      const keep = selects.every((s) => !s.value || b.dataset[s.dataset.facet] === s.value);
      b.hidden = !keep;
      shown += keep ? 1 : 0;
    });
    count.textContent = `${shown} of ${bodies().length}`;
  };
  selects.forEach((s) => s.addEventListener('change', applyFilters));

  table.addEventListener('click', (event) => {
    const button = event.target.closest('button.fold');
    if (!button) return;
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    document.getElementById(button.getAttribute('aria-controls')).hidden = !open;
  });
})();
