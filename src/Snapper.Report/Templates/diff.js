// Snapper differential flame graph: plain JavaScript, no libraries, no network. Names from the target reach the page
// only through textContent and canvas fillText.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('diff-data').textContent);
  var names = data.names, n = data.nodes, count = n.parent.length;
  var canvas = document.getElementById('flame-canvas'), box = document.getElementById('flame-box');
  var tip = document.getElementById('flame-tip'), pathEl = document.getElementById('flame-path');
  if (!canvas.getContext || count === 0 || n.compare[0] === 0) { box.textContent = 'No samples in the compared profile.'; return; }
  var ctx = canvas.getContext('2d'), ROW = 18;
  var kids = [], depth = new Int32Array(count);
  for (var i = 0; i < count; i++) kids.push([]);
  for (i = 1; i < count; i++) { kids[n.parent[i]].push(i); depth[i] = depth[n.parent[i]] + 1; }
  function share(i, side) { return side === 'base' ? n.base[i] / Math.max(1, data.baseSamples) : n.compare[i] / Math.max(1, data.compareSamples); }
  function delta(i) { return share(i, 'compare') - share(i, 'base'); }
  function pct(x) { return (x * 100).toFixed(1) + '%'; }
  function points(x) { return (x >= 0 ? '+' : '') + (x * 100).toFixed(1) + ' points'; }
  function colour(i) {
    // Saturation follows the size of the change, up to 10 points.
    var d = delta(i), strength = Math.min(1, Math.abs(d) / 0.1);
    var light = 92 - strength * 37;
    return d >= 0 ? 'hsl(0,75%,' + light + '%)' : 'hsl(215,75%,' + light + '%)';
  }
  var zoom = 0, rows = [], pending = false;
  function layout(width) {
    rows = [];
    function put(node, x, w) { while (rows.length <= depth[node]) rows.push([]); rows[depth[node]].push({ node: node, x: x, w: w }); }
    for (var a = n.parent[zoom]; a >= 0; a = n.parent[a]) put(a, 0, width);
    var scale = width / Math.max(1, n.compare[zoom]), stack = [[zoom, 0]];
    while (stack.length > 0) {
      var item = stack.pop(), node = item[0], x = item[1];
      put(node, x, n.compare[node] * scale);
      kids[node].forEach(function (k) { var w = n.compare[k] * scale; if (w >= 0.5) stack.push([k, x]); x += w; });
    }
  }
  function draw() {
    pending = false;
    var width = box.clientWidth, dpr = window.devicePixelRatio || 1;
    layout(width);
    var height = rows.length * ROW;
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr); canvas.style.height = height + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    var cw = ctx.measureText('M').width || 7;
    rows.forEach(function (row, d) {
      row.forEach(function (r) {
        var y = (rows.length - 1 - d) * ROW;
        ctx.fillStyle = colour(r.node);
        ctx.fillRect(r.x, y, Math.max(0.5, r.w - 1), ROW - 1);
        var room = Math.floor((r.w - 6) / cw);
        if (room >= 3) {
          var label = names[n.name[r.node]];
          if (label.length > room) label = label.slice(0, room - 1) + '\u2026';
          ctx.fillStyle = '#1f2328';
          ctx.fillText(label, r.x + 3, y + ROW / 2);
        }
      });
    });
    while (pathEl.firstChild) pathEl.removeChild(pathEl.firstChild);
    var chain = [];
    for (var a = zoom; a >= 0; a = n.parent[a]) chain.unshift(a);
    chain.forEach(function (node) {
      var b = document.createElement('button');
      b.type = 'button'; b.textContent = names[n.name[node]];
      b.addEventListener('click', function () { zoom = node; schedule(); });
      pathEl.appendChild(b);
    });
  }
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(draw); } }
  function nodeAt(e) {
    var b = canvas.getBoundingClientRect(), d = rows.length - 1 - Math.floor((e.clientY - b.top) / ROW), x = e.clientX - b.left;
    if (d < 0 || d >= rows.length) return -1;
    for (var k = 0; k < rows[d].length; k++) if (x >= rows[d][k].x && x < rows[d][k].x + rows[d][k].w) return rows[d][k].node;
    return -1;
  }
  function line(text, className) { var div = document.createElement('div'); div.className = className; div.textContent = text; tip.appendChild(div); }
  canvas.addEventListener('mousemove', function (e) {
    var node = nodeAt(e);
    if (node < 0) { tip.hidden = true; return; }
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    line(names[n.name[node]], 'tip-name');
    line('before: ' + pct(share(node, 'base')) + ' of samples', 'tip-num');
    line('after: ' + pct(share(node, 'compare')) + ' of samples', 'tip-num');
    line('change: ' + points(delta(node)), 'tip-num');
    tip.hidden = false;
    var b = box.getBoundingClientRect();
    tip.style.left = Math.min(e.clientX - b.left + 14, Math.max(0, box.clientWidth - tip.offsetWidth)) + 'px';
    tip.style.top = (e.clientY - b.top + 14) + 'px';
  });
  canvas.addEventListener('mouseleave', function () { tip.hidden = true; });
  canvas.addEventListener('click', function (e) { var node = nodeAt(e); if (node >= 0) { zoom = node; schedule(); } });
  document.getElementById('flame-reset').addEventListener('click', function () { zoom = 0; schedule(); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { zoom = 0; schedule(); } });
  window.addEventListener('resize', schedule);
  draw();
  document.documentElement.setAttribute('data-ready', String(Math.round(performance.now())));
})();
