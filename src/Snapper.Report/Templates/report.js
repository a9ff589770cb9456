// Snapper flame graph: plain JavaScript, no libraries, no network. Target-provided strings (frame, module and thread
// names) only ever reach the page through textContent or canvas fillText, never as markup.
(function () {
  'use strict';
  var dataEl = document.getElementById('flame-data');
  var canvas = document.getElementById('flame-canvas');
  if (!dataEl || !canvas || !canvas.getContext) return;
  var data = JSON.parse(dataEl.textContent);
  var names = data.names, nodes = data.nodes, count = nodes.parent.length;
  if (count === 0) return;
  var box = document.getElementById('flame-box');
  if (nodes.total[0] === 0) {
    box.textContent = 'No samples to draw.';
    box.className = 'empty';
    return;
  }
  var tip = document.getElementById('flame-tip');
  var pathEl = document.getElementById('flame-path');
  var ctx = canvas.getContext('2d');
  var ROW = 18;
  var CATEGORY = ['root', 'thread', 'own code', 'framework', 'transition', 'native'];
  // Base hue, saturation, lightness per category; each name gets a small stable shift so neighbours stay apart.
  var BASE = [[220, 6, 80], [205, 50, 68], [20, 78, 60], [44, 68, 66], [262, 48, 70], [0, 0, 66]];

  // Nodes come in pre-order, parents first and children largest first, so one pass rebuilds the tree.
  var children = new Array(count), depth = new Int32Array(count), colour = new Array(count);
  for (var i = 0; i < count; i++) children[i] = [];
  for (i = 1; i < count; i++) {
    children[nodes.parent[i]].push(i);
    depth[i] = depth[nodes.parent[i]] + 1;
  }

  var zoom = 0, rows = [], hover = -1, pending = false;

  function nodeName(i) { return names[nodes.name[i]]; }
  function moduleName(i) { return nodes.module[i] < 0 ? '' : names[nodes.module[i]]; }

  function colourOf(i) {
    if (colour[i]) return colour[i];
    var base = BASE[nodes.cat[i]] || BASE[5], h = 0, s = nodeName(i);
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0;
    var shift = (Math.abs(h) % 11) - 5;
    colour[i] = 'hsl(' + (base[0] + shift * 2) + ',' + base[1] + '%,' + (base[2] + shift) + '%)';
    return colour[i];
  }

  // Invariant formatting, whatever the browser's locale: 1,234,567 and 12.34%.
  function group(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function percent(n, of) { return of > 0 ? (n * 100 / of).toFixed(2) + '%' : '0.00%'; }

  function chainTo(node) {
    var chain = [];
    for (var a = node; a >= 0; a = nodes.parent[a]) chain.unshift(a);
    return chain;
  }

  // Rows by depth: the zoomed node's ancestors span the full width, its subtree is scaled to fill it.
  function layout(width) {
    rows = [];
    function put(node, x, w) {
      var d = depth[node];
      while (rows.length <= d) rows.push([]);
      rows[d].push({ node: node, x: x, w: w });
    }
    var chain = chainTo(zoom);
    for (var c = 0; c < chain.length - 1; c++) put(chain[c], 0, width);
    var scale = width / Math.max(1, nodes.total[zoom]);
    var stack = [[zoom, 0]];
    while (stack.length > 0) {
      var item = stack.pop(), node = item[0], x = item[1];
      put(node, x, nodes.total[node] * scale);
      var kids = children[node];
      for (var k = 0; k < kids.length; k++) {
        var w = nodes.total[kids[k]] * scale;
        if (w >= 0.5) stack.push([kids[k], x]); // narrower than half a pixel: invisible, and its subtree too
        x += w;
      }
    }
  }

  function draw() {
    pending = false;
    var width = box.clientWidth, dpr = window.devicePixelRatio || 1;
    layout(width);
    var height = rows.length * ROW;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = height + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    var charWidth = ctx.measureText('M').width || 7;
    var ancestorDepth = depth[zoom];
    for (var d = 0; d < rows.length; d++) {
      for (var r = 0; r < rows[d].length; r++) {
        var rect = rows[d][r], y = d * ROW;
        ctx.globalAlpha = d < ancestorDepth ? 0.55 : 1;
        ctx.fillStyle = colourOf(rect.node);
        ctx.fillRect(rect.x, y, Math.max(0.5, rect.w - 1), ROW - 1);
        if (rect.node === hover) {
          ctx.strokeStyle = '#1f2328';
          ctx.lineWidth = 1.5;
          ctx.strokeRect(rect.x + 0.75, y + 0.75, Math.max(0.5, rect.w - 2.5), ROW - 2.5);
        }
        var room = Math.floor((rect.w - 6) / charWidth);
        if (room >= 3) {
          var label = nodeName(rect.node);
          if (label.length > room) label = label.slice(0, room - 1) + '\u2026';
          ctx.fillStyle = '#1f2328';
          ctx.fillText(label, rect.x + 3, y + ROW / 2);
        }
      }
    }
    ctx.globalAlpha = 1;
    renderPath();
  }

  function schedule() {
    if (!pending) { pending = true; window.requestAnimationFrame(draw); }
  }

  function renderPath() {
    while (pathEl.firstChild) pathEl.removeChild(pathEl.firstChild);
    var chain = chainTo(zoom);
    chain.forEach(function (node, index) {
      if (index > 0) {
        var sep = document.createElement('span');
        sep.className = 'sep';
        sep.textContent = '\u203a';
        pathEl.appendChild(sep);
      }
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = nodeName(node);
      button.title = percent(nodes.total[node], nodes.total[0]) + ' of samples';
      button.addEventListener('click', function () { zoomTo(node); });
      pathEl.appendChild(button);
    });
  }

  function zoomTo(node) {
    zoom = node;
    hideTip();
    schedule();
  }

  function nodeAt(event) {
    var bounds = canvas.getBoundingClientRect();
    var x = event.clientX - bounds.left, d = Math.floor((event.clientY - bounds.top) / ROW);
    if (d < 0 || d >= rows.length) return -1;
    var row = rows[d];
    for (var r = 0; r < row.length; r++)
      if (x >= row[r].x && x < row[r].x + row[r].w) return row[r].node;
    return -1;
  }

  function line(parent, className, text) {
    var div = document.createElement('div');
    div.className = className;
    div.textContent = text;
    parent.appendChild(div);
  }

  function showTip(node, event) {
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    var all = nodes.total[0];
    line(tip, 'tip-name', nodeName(node));
    var module = moduleName(node);
    line(tip, 'tip-mod', CATEGORY[nodes.cat[node]] + (module ? ' \u00b7 ' + module : ''));
    line(tip, 'tip-num', 'total: ' + group(nodes.total[node]) + ' samples (' + percent(nodes.total[node], all) + ')');
    line(tip, 'tip-num', 'self: ' + group(nodes.self[node]) + ' samples (' + percent(nodes.self[node], all) + ')');
    if (zoom !== 0 && depth[node] >= depth[zoom])
      line(tip, 'tip-num', percent(nodes.total[node], nodes.total[zoom]) + ' of the zoomed frame');
    tip.hidden = false;
    var bounds = box.getBoundingClientRect();
    var left = event.clientX - bounds.left + 14, top = event.clientY - bounds.top + 14;
    if (left + tip.offsetWidth > box.clientWidth) left = Math.max(0, event.clientX - bounds.left - tip.offsetWidth - 14);
    if (top + tip.offsetHeight > box.clientHeight) top = Math.max(0, event.clientY - bounds.top - tip.offsetHeight - 14);
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  function hideTip() { tip.hidden = true; }

  canvas.addEventListener('mousemove', function (event) {
    var node = nodeAt(event);
    if (node !== hover) { hover = node; schedule(); }
    if (node >= 0) showTip(node, event); else hideTip();
  });
  canvas.addEventListener('mouseleave', function () { hover = -1; hideTip(); schedule(); });
  canvas.addEventListener('click', function (event) {
    var node = nodeAt(event);
    if (node >= 0) zoomTo(node);
  });
  document.getElementById('flame-reset').addEventListener('click', function () { zoomTo(0); });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') zoomTo(0); });
  window.addEventListener('resize', schedule);
  draw();
})();
