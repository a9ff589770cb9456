// Snapper report: plain JavaScript, no libraries, no network. Target-provided strings (frame, module and thread
// names) only ever reach the page through textContent or canvas fillText, never as markup.
(function () {
  'use strict';
  var dataEl = document.getElementById('profile-data');
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var names = data.names, methods = data.methods, stacks = data.stacks;
  var threadCount = data.threads.label.length, nodeCount = stacks.parent.length;
  // Filled by unpack(): snapshot times, and every sample as parallel typed arrays, grouped by thread, in time order.
  var snapTime, sampleCount = 0, sThread, sSnap, sStack, sState, sCpu, sLayer, sWall;
  var layerCount = data.layers.length, IDLE_LAYER = data.idleLayer;
  // The same palette as the .ly-N classes of the style sheet.
  var LAYER_COLOUR = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d37295'];
  var STATE_CPU = data.states.cpu, STATE_IDLE = data.states.idle, STATE_COLOUR = data.states.colour;
  // Method categories as the report writer numbers them (own, framework, transition, native), then the tree's own.
  var CSS = ['own', 'framework', 'transition', 'native', 'root', 'thread'];
  var LABEL = ['own code', 'framework', 'transition', 'native', 'all threads', 'thread'];
  var ROOT = 4, THREAD = 5;

  var view = { onCpu: false, idle: !!data.includeIdle, cpu: false, threads: [], layers: [], from: -1, to: -1, byLayer: false, split: false };
  // Threads of one group (same role, or names that differ only in numbers) share one node unless split per thread.
  var groupOf = [], groupIndex = new Map();
  data.threads.group.forEach(function (label) {
    if (!groupIndex.has(label)) groupIndex.set(label, groupIndex.size);
    groupOf.push(groupIndex.get(label));
  });
  function threadLabel(t) { return names[view.split ? data.threads.label[t] : data.threads.group[t]]; }
  for (var t = 0; t < threadCount; t++) view.threads.push(true);
  for (t = 0; t < layerCount; t++) view.layers.push(true);

  // ---- formatting: invariant, whatever the browser's locale ----
  function group(n) { return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function percent(n, of) { return of > 0 ? (n * 100 / of).toFixed(1) + '%' : '0.0%'; }
  function weight(n) {
    if (!view.cpu) return group(n);
    var ms = n / 1e3; // CPU weights are microseconds
    return ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : ms.toFixed(1) + ' ms';
  }
  function unit() { return view.cpu ? 'CPU' : 'samples'; }
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // ---- aggregation: the view's rows into a tree (root, threads, frames) and per-method totals ----
  var paths = new Array(stacks.parent.length);
  function pathOf(node) {
    var path = paths[node];
    if (path) return path;
    path = [];
    for (var n = node; n > 0; n = stacks.parent[n]) path.push(stacks.method[n]);
    path.reverse();
    paths[node] = path;
    return path;
  }

  // The stack nodes of a path, outermost first: the page's line table needs the node (its line), not just the method.
  var nodePaths = new Array(stacks.parent.length);
  function nodesOf(node) {
    var path = nodePaths[node];
    if (path) return path;
    path = [];
    for (var n = node; n > 0; n = stacks.parent[n]) path.push(n);
    path.reverse();
    nodePaths[node] = path;
    return path;
  }

  function newNode(name, module, cat, parent, method) {
    return { name: name, module: module, cat: cat, parent: parent, depth: parent ? parent.depth + 1 : 0,
      total: 0, self: 0, map: new Map(), kids: null, method: method === undefined ? -1 : method };
  }
  function childOf(node, method) {
    var kid = node.map.get(method);
    if (!kid) {
      var module = methods.module[method];
      kid = newNode(names[methods.name[method]], module < 0 ? '' : names[module], methods.cat[method], node, method);
      node.map.set(method, kid);
    }
    return kid;
  }
  function byTotal(a, b) { return b.total - a.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0); }
  function seal(root) {
    var pending = [root];
    while (pending.length > 0) {
      var node = pending.pop();
      node.kids = Array.from(node.map.values()).sort(byTotal);
      node.map = null;
      for (var k = 0; k < node.kids.length; k++) pending.push(node.kids[k]);
    }
  }

  // ---- the packed samples (see HtmlProfileData): base64, gzip, then unsigned LEB128 varints ----
  function base64Bytes(text) {
    var binary = atob(text), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  function unpack(bytes) {
    var at = 0;
    function next() {
      var value = 0, scale = 1, b;
      do { b = bytes[at++]; value += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80);
      return value;
    }
    var snaps = next();
    snapTime = new Float64Array(snaps);
    for (var i = 0, t = 0; i < snaps; i++) { t += next(); snapTime[i] = t; }
    var threads = next(), start = at, total = 0;
    for (var k = 0; k < threads; k++) { var n = next(); total += n; for (var j = 0; j < 6 * n; j++) next(); }
    at = start;
    sampleCount = total;
    sThread = new Uint32Array(total); sSnap = new Uint32Array(total); sStack = new Uint32Array(total);
    sState = new Uint8Array(total); sCpu = new Float64Array(total); sLayer = new Uint16Array(total); sWall = new Uint8Array(total);
    var s = 0;
    for (k = 0; k < threads; k++) {
      var count = next(), snap = 0;
      for (j = 0; j < count; j++, s++) {
        snap += next();
        sThread[s] = k; sSnap[s] = snap; sStack[s] = next(); sState[s] = next(); sCpu[s] = next(); sLayer[s] = next(); sWall[s] = next();
      }
    }
  }
  function load() {
    var bytes = base64Bytes(data.packed);
    if (typeof DecompressionStream === 'undefined') return Promise.reject(new Error('this browser cannot decompress the report data (DecompressionStream)'));
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer().then(function (buffer) { unpack(new Uint8Array(buffer)); });
  }

  function inView(i) { return view.layers[sLayer[i]] && inViewAnyLayer(i); }
  // Everything but the layer filter: the layers table counts what each layer would show.
  function inViewAnyLayer(i) {
    var state = sState[i];
    if (!view.threads[sThread[i]] || (view.onCpu && state !== STATE_CPU) || (!view.idle && (state === STATE_IDLE || sLayer[i] === IDLE_LAYER))) return false;
    if (view.from >= 0) { var t = snapTime[sSnap[i]]; if (t < view.from || t > view.to) return false; }
    return true;
  }

  function aggregate() {
    // Weight per (thread, stack node) first: one pass over the samples, then work per distinct stack only.
    var leaf = new Array(threadCount);
    for (var i = 0; i < sampleCount; i++) {
      if (!inView(i)) continue;
      var w = view.cpu ? sCpu[i] : sWall[i];
      if (w <= 0) continue;
      var t = sThread[i];
      (leaf[t] || (leaf[t] = new Float64Array(nodeCount)))[sStack[i]] += w;
    }
    var root = newNode('all threads', '', ROOT, null);
    var methodCount = methods.name.length;
    var self = new Float64Array(methodCount), total = new Float64Array(methodCount), stamp = new Int32Array(methodCount);
    var threadsShown = 0, stampId = 0;
    for (t = 0; t < threadCount; t++) {
      var weights = leaf[t];
      if (!weights) continue;
      var key = view.split ? t : groupOf[t];
      var threadNode = root.map.get(-1 - key);
      if (!threadNode) {
        threadNode = newNode(threadLabel(t), '', THREAD, root);
        root.map.set(-1 - key, threadNode);
      }
      threadsShown++;
      for (var n = 0; n < nodeCount; n++) {
        w = weights[n];
        if (w <= 0) continue;
        root.total += w;
        threadNode.total += w;
        var path = pathOf(n), node = threadNode;
        for (var d = 0; d < path.length; d++) {
          node = childOf(node, path[d]);
          node.total += w;
        }
        node.self += w;
        if (path.length === 0) continue;
        stampId++;
        self[path[path.length - 1]] += w;
        for (d = 0; d < path.length; d++) {
          if (stamp[path[d]] === stampId) continue; // recursion counts once per sample
          stamp[path[d]] = stampId;
          total[path[d]] += w;
        }
      }
    }
    seal(root);
    return { root: root, self: self, total: total, threads: threadsShown, leaf: leaf };
  }

  // ---- flame graph ----
  var canvas = document.getElementById('flame-canvas');
  var box = document.getElementById('flame-box');
  var tip = document.getElementById('flame-tip');
  var pathEl = document.getElementById('flame-path');
  var ctx = canvas && canvas.getContext ? canvas.getContext('2d') : null;
  var ROW = 18;
  var BASE = { own: [20, 78, 60], framework: [44, 68, 66], transition: [262, 48, 70], native: [0, 0, 66], root: [220, 6, 80], thread: [205, 50, 68] };
  var result = null, zoom = null, layoutRows = [], hover = null, pending = false, icicle = false, query = '';
  var emptyNote = el('div', 'empty-note', 'No samples in this view.');

  function colourOf(node) {
    if (node.colour) return node.colour;
    var base = BASE[CSS[node.cat]] || BASE.native, h = 0, s = node.name;
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0;
    var shift = (Math.abs(h) % 11) - 5;
    node.colour = 'hsl(' + (base[0] + shift * 2) + ',' + base[1] + '%,' + (base[2] + shift) + '%)';
    return node.colour;
  }

  function chainTo(node) {
    var chain = [];
    for (var a = node; a; a = a.parent) chain.unshift(a);
    return chain;
  }

  // Rows by depth: the zoomed node's ancestors span the full width, its subtree is scaled to fill it.
  function layout(width) {
    layoutRows = [];
    function put(node, x, w) {
      while (layoutRows.length <= node.depth) layoutRows.push([]);
      layoutRows[node.depth].push({ node: node, x: x, w: w });
    }
    var chain = chainTo(zoom);
    for (var c = 0; c < chain.length - 1; c++) put(chain[c], 0, width);
    var scale = width / Math.max(1, zoom.total);
    var stack = [[zoom, 0]];
    while (stack.length > 0) {
      var item = stack.pop(), node = item[0], x = item[1];
      put(node, x, node.total * scale);
      for (var k = 0; k < node.kids.length; k++) {
        var w = node.kids[k].total * scale;
        if (w >= 0.5) stack.push([node.kids[k], x]); // narrower than half a pixel: invisible, and its subtree too
        x += w;
      }
    }
  }

  // A search is decided per method, once per query, not per node: the tree can have hundreds of thousands of
  // nodes and every keystroke redraws it.
  var methodLower = null, matchCache = { text: null, methods: null };
  function methodMatches(text) {
    if (matchCache.text === text) return matchCache.methods;
    if (!methodLower) methodLower = methods.name.map(function (n) { return names[n].toLowerCase(); });
    var hits = new Uint8Array(methodLower.length);
    for (var m = 0; m < hits.length; m++) hits[m] = methodLower[m].indexOf(text) >= 0 ? 1 : 0;
    matchCache = { text: text, methods: hits };
    return hits;
  }
  function matches(node, text) {
    if (text === '') return false;
    if (node.method >= 0) return methodMatches(text)[node.method] === 1;
    if (node.lower === undefined) node.lower = node.name.toLowerCase();
    return node.cat === THREAD && node.lower.indexOf(text) >= 0;
  }

  // The share of the view in samples with a matching frame anywhere on their stack (each sample counted once),
  // from the weights per stack node: a node's path matches if its method or its parent's path does.
  function matchedWeight(text) {
    var hits = methodMatches(text), onPath = new Uint8Array(nodeCount), sum = 0;
    for (var n = 1; n < nodeCount; n++) onPath[n] = hits[stacks.method[n]] | onPath[stacks.parent[n]];
    result.leaf.forEach(function (weights, t) {
      if (!weights) return;
      var threadHit = threadLabel(t).toLowerCase().indexOf(text) >= 0;
      for (var k = 0; k < nodeCount; k++) if (weights[k] > 0 && (threadHit || onPath[k])) sum += weights[k];
    });
    return sum;
  }

  function rowY(d) { return icicle ? d * ROW : (layoutRows.length - 1 - d) * ROW; }

  function draw() {
    pending = false;
    if (!ctx || !result) return;
    if (result.root.total <= 0) {
      canvas.height = 0;
      canvas.style.height = '0px';
      if (!emptyNote.parentNode) box.appendChild(emptyNote);
      clear(pathEl);
      return;
    }
    if (emptyNote.parentNode) box.removeChild(emptyNote);
    var width = box.clientWidth, dpr = window.devicePixelRatio || 1;
    layout(width);
    var height = layoutRows.length * ROW;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = height + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    var charWidth = ctx.measureText('M').width || 7;
    for (var d = 0; d < layoutRows.length; d++) {
      for (var r = 0; r < layoutRows[d].length; r++) {
        var rect = layoutRows[d][r], y = rowY(d);
        var hit = query !== '' && matches(rect.node, query);
        ctx.globalAlpha = query !== '' && !hit ? 0.25 : d < zoom.depth ? 0.55 : 1;
        ctx.fillStyle = colourOf(rect.node);
        ctx.fillRect(rect.x, y, Math.max(0.5, rect.w - 1), ROW - 1);
        if (hit) {
          ctx.strokeStyle = '#bf3989';
          ctx.lineWidth = 2;
          ctx.strokeRect(rect.x + 1, y + 1, Math.max(0.5, rect.w - 3), ROW - 3);
        }
        if (rect.node === hover) {
          ctx.strokeStyle = '#1f2328';
          ctx.lineWidth = 1.5;
          ctx.strokeRect(rect.x + 0.75, y + 0.75, Math.max(0.5, rect.w - 2.5), ROW - 2.5);
        }
        var room = Math.floor((rect.w - 6) / charWidth);
        if (room >= 3) {
          var label = rect.node.name;
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
    clear(pathEl);
    chainTo(zoom).forEach(function (node, index) {
      if (index > 0) pathEl.appendChild(el('span', 'sep', '\u203a'));
      var button = el('button', '', node.name);
      button.type = 'button';
      button.title = percent(node.total, result.root.total) + ' of the view';
      button.addEventListener('click', function () { zoomTo(node); });
      pathEl.appendChild(button);
    });
  }

  function zoomTo(node) {
    if (!result) return; // still loading
    zoom = node;
    hideTip();
    schedule();
  }

  function nodeAt(event) {
    var bounds = canvas.getBoundingClientRect();
    var x = event.clientX - bounds.left, r = Math.floor((event.clientY - bounds.top) / ROW);
    var d = icicle ? r : layoutRows.length - 1 - r;
    if (d < 0 || d >= layoutRows.length) return null;
    var row = layoutRows[d];
    for (var r = 0; r < row.length; r++)
      if (x >= row[r].x && x < row[r].x + row[r].w) return row[r].node;
    return null;
  }

  function showTip(node, event) {
    clear(tip);
    var all = result.root.total;
    tip.appendChild(el('div', 'tip-name', node.name));
    tip.appendChild(el('div', 'tip-mod', LABEL[node.cat] + (node.module ? ' \u00b7 ' + node.module : '')));
    tip.appendChild(el('div', 'tip-num', 'total: ' + weight(node.total) + ' ' + (view.cpu ? '' : 'samples ') + '(' + percent(node.total, all) + ')'));
    tip.appendChild(el('div', 'tip-num', 'self: ' + weight(node.self) + ' ' + (view.cpu ? '' : 'samples ') + '(' + percent(node.self, all) + ')'));
    if (zoom !== result.root && node.depth >= zoom.depth)
      tip.appendChild(el('div', 'tip-num', percent(node.total, zoom.total) + ' of the zoomed frame'));
    tip.hidden = false;
    var bounds = box.getBoundingClientRect();
    var left = event.clientX - bounds.left + 14, top = event.clientY - bounds.top + 14;
    if (left + tip.offsetWidth > box.clientWidth) left = Math.max(0, event.clientX - bounds.left - tip.offsetWidth - 14);
    if (top + tip.offsetHeight > box.clientHeight) top = Math.max(0, event.clientY - bounds.top - tip.offsetHeight - 14);
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  function hideTip() { tip.hidden = true; }

  if (ctx) {
    canvas.addEventListener('mousemove', function (event) {
      var node = nodeAt(event);
      if (node !== hover) { hover = node; schedule(); }
      if (node) showTip(node, event); else hideTip();
    });
    canvas.addEventListener('mouseleave', function () { hover = null; hideTip(); schedule(); });
    canvas.addEventListener('click', function (event) {
      var node = nodeAt(event);
      if (node) zoomTo(node);
    });
    document.getElementById('flame-reset').addEventListener('click', function () { if (result) zoomTo(result.root); });
    document.getElementById('flame-icicle').addEventListener('change', function (event) { icicle = event.target.checked; schedule(); });
    document.getElementById('flame-search').addEventListener('input', function (event) {
      query = event.target.value.trim().toLowerCase();
      showMatchShare();
      schedule();
    });
    document.addEventListener('keydown', function (event) { if (event.key === 'Escape' && result) zoomTo(result.root); });
    window.addEventListener('resize', schedule);
  }

  function showMatchShare() {
    var note = document.getElementById('flame-match');
    if (query === '' || !result) { note.textContent = ''; return; }
    note.textContent = 'matching frames: ' + percent(matchedWeight(query), result.root.total) + ' of the view';
  }

  // ---- top functions: sortable, filterable; a click shows callers and callees ----
  var TOP = 100;
  var fnSort = 'self', fnFilter = '', selected = -1;

  function functionTable(rows, columns, all, onClick) {
    var table = el('table', 'functions');
    var head = el('tr');
    columns.forEach(function (c) {
      var th = el('th', (c.num ? 'num' : '') + (c.sort ? ' sortable' : '') + (c.sort === fnSort ? ' sorted' : ''), c.title);
      if (c.sort) th.addEventListener('click', function () { fnSort = c.sort; renderFunctions(); });
      head.appendChild(th);
    });
    table.appendChild(el('thead')).appendChild(head);
    var body = el('tbody');
    rows.forEach(function (row, i) {
      var tr = el('tr');
      columns.forEach(function (c) { tr.appendChild(c.cell(row, i, all)); });
      if (onClick) tr.addEventListener('click', function () { onClick(row); });
      if (row.method === selected && onClick) tr.className = 'selected';
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }
  function nameCell(m, fallback) {
    if (m < 0) return el('td', 'name', fallback);
    var td = el('td', 'name ' + CSS[methods.cat[m]], names[methods.name[m]]);
    if (methods.module[m] >= 0) td.appendChild(el('span', 'mod', ' ' + names[methods.module[m]]));
    return td;
  }
  function numberCell(text) { return el('td', 'num', text); }
  function barCell(value, all, css) {
    var td = el('td', 'num pct');
    var bar = el('span', 'bar ' + css);
    bar.style.width = Math.min(100, value * 100 / Math.max(all, 1e-9)).toFixed(2) + '%';
    td.appendChild(bar);
    td.appendChild(document.createTextNode(percent(value, all)));
    return td;
  }

  function renderFunctions() {
    var boxEl = document.getElementById('functions-box');
    clear(boxEl);
    var order = [];
    for (var m = 0; m < methods.name.length; m++) {
      if (result.total[m] <= 0) continue;
      if (fnFilter !== '' && names[methods.name[m]].toLowerCase().indexOf(fnFilter) < 0) continue;
      order.push(m);
    }
    if (order.length === 0) {
      boxEl.appendChild(el('p', 'note', fnFilter === '' ? 'No frames in this view.' : 'No function matches the filter.'));
      renderButterfly();
      return;
    }
    var primary = fnSort === 'total' ? result.total : result.self, secondary = fnSort === 'total' ? result.self : result.total;
    order.sort(function (a, b) {
      return primary[b] - primary[a] || secondary[b] - secondary[a] || (names[methods.name[a]] < names[methods.name[b]] ? -1 : 1);
    });
    var rows = order.slice(0, TOP).map(function (m) { return { method: m, self: result.self[m], total: result.total[m] }; });
    var all = result.root.total;
    boxEl.appendChild(el('h3', '', 'Top ' + rows.length + ' of ' + order.length + ' functions by ' + fnSort + (view.cpu ? ' CPU time' : ' samples')));
    boxEl.appendChild(functionTable(rows, [
      { title: '#', num: true, cell: function (r, i) { return numberCell(String(i + 1)); } },
      { title: 'Self', num: true, sort: 'self', cell: function (r) { return numberCell(weight(r.self)); } },
      { title: 'Self %', num: true, cell: function (r, i, total) { return barCell(r.self, total, CSS[methods.cat[r.method]]); } },
      { title: 'Total', num: true, sort: 'total', cell: function (r) { return numberCell(weight(r.total)); } },
      { title: 'Total %', num: true, cell: function (r, i, total) { return numberCell(percent(r.total, total)); } },
      { title: 'Function', cell: function (r) { return nameCell(r.method); } },
    ], all, function (row) { selected = selected === row.method ? -1 : row.method; renderFunctions(); }));
    renderButterfly();
  }

  // Callers and callees of the selected function: for each stack through it (its outermost occurrence, so recursion
  // counts once), the frame just below and just above it.
  function renderButterfly() {
    var panel = document.getElementById('butterfly');
    clear(panel);
    panel.hidden = selected < 0 || !result || result.total[selected] <= 0;
    if (panel.hidden) return;
    var callers = new Map(), callees = new Map(), lines = new Map();
    result.leaf.forEach(function (weights) {
      if (!weights) return;
      for (var n = 0; n < nodeCount; n++) {
        var w = weights[n];
        if (w <= 0) continue;
        var path = pathOf(n), i = path.indexOf(selected);
        if (i < 0) continue;
        var caller = i > 0 ? path[i - 1] : -1, callee = i < path.length - 1 ? path[i + 1] : -2;
        callers.set(caller, (callers.get(caller) || 0) + w);
        callees.set(callee, (callees.get(callee) || 0) + w);
        var line = stacks.line[nodesOf(n)[i]];
        if (line >= 0) {
          var entry = lines.get(line) || { self: 0, total: 0 };
          entry.total += w;
          if (i === path.length - 1) entry.self += w;
          lines.set(line, entry);
        }
      }
    });
    var all = result.total[selected];
    panel.appendChild(el('h3', '', names[methods.name[selected]]));
    panel.appendChild(el('p', 'note', weight(all) + (view.cpu ? '' : ' samples') + ' (' + percent(all, result.root.total) +
      ' of the view) pass through it. Click another function to move there.'));
    var grid = el('div', 'fn-grid');
    [['Callers', callers, '(thread start)'], ['Callees', callees, '(itself: self time)']].forEach(function (side) {
      var rows = Array.from(side[1].entries()).map(function (e) { return { method: e[0], w: e[1] }; })
        .sort(function (a, b) { return b.w - a.w; }).slice(0, TOP);
      var part = el('div', 'side');
      part.appendChild(el('h3', '', side[0]));
      part.appendChild(functionTable(rows, [
        { title: view.cpu ? 'CPU' : 'Samples', num: true, cell: function (r) { return numberCell(weight(r.w)); } },
        { title: '%', num: true, cell: function (r) { return barCell(r.w, all, r.method >= 0 ? CSS[methods.cat[r.method]] : 'native'); } },
        { title: 'Function', cell: function (r) { return nameCell(r.method, side[2]); } },
      ], all, function (row) { if (row.method >= 0) { selected = row.method; renderFunctions(); } }));
      grid.appendChild(part);
    });
    panel.appendChild(grid);
    if (lines.size > 0) {
      var rows = Array.from(lines.entries()).map(function (e) { return { line: e[0], self: e[1].self, total: e[1].total }; })
        .sort(function (a, b) { return b.total - a.total || b.self - a.self; }).slice(0, 20);
      var part = el('div', 'lines');
      part.appendChild(el('h3', '', 'Hottest lines'));
      part.appendChild(functionTable(rows, [
        { title: 'Self', num: true, cell: function (r) { return numberCell(weight(r.self)); } },
        { title: 'Total', num: true, cell: function (r) { return numberCell(weight(r.total)); } },
        { title: '%', num: true, cell: function (r) { return barCell(r.total, all, CSS[methods.cat[selected]]); } },
        { title: 'Line', cell: function (r) { return el('td', 'name', names[r.line]); } },
      ], all, null));
      panel.appendChild(part);
    }
  }
  document.getElementById('functions-filter').addEventListener('input', function (event) {
    fnFilter = event.target.value.trim().toLowerCase();
    if (result) renderFunctions();
  });

  // ---- call tree ----
  var treeBox = document.getElementById('tree-box');
  var TREE_MIN = 0.001, HOT = 0.1, HOT_DEPTH = 40, MAX_KIDS = 200;

  function treeRow(node, open, hotPath) {
    var all = result.root.total;
    var line = el('div', treeQuery !== '' && matches(node, treeQuery) ? 'row match' : 'row');
    var expandable = node.kids.length > 0;
    var toggle = el('span', 'tog', expandable ? (open ? '\u25be' : '\u25b8') : '');
    line.appendChild(toggle);
    line.appendChild(el('span', 'tot', percent(node.total, all))).title = weight(node.total) + ' ' + unit();
    line.appendChild(el('span', 'slf', percent(node.self, all))).title = weight(node.self) + ' ' + unit() + ' self';
    line.appendChild(el('span', 'nm ' + CSS[node.cat], node.name));
    if (node.module) line.appendChild(el('span', 'mod', node.module));
    var wrapper = el('div');
    wrapper.appendChild(line);
    var kids = null;
    function setOpen(value) {
      if (!expandable) return;
      if (value && !kids) {
        kids = el('div', 'kids');
        renderKids(node, kids, hotPath && open);
        wrapper.appendChild(kids);
      } else if (!value && kids) {
        wrapper.removeChild(kids);
        kids = null;
      }
      toggle.textContent = kids ? '\u25be' : '\u25b8';
    }
    if (expandable) line.addEventListener('click', function () { setOpen(!kids); });
    if (open) setOpen(true);
    return wrapper;
  }

  function renderKids(node, container, hotPath) {
    var all = result.root.total, shown = 0, hiddenWeight = 0, hidden = 0;
    for (var k = 0; k < node.kids.length; k++) {
      var kid = node.kids[k];
      // While searching, a path to a match is shown however small.
      var onPath = treeQuery !== '' && kid.hasMatch;
      if (!onPath && (kid.total < all * TREE_MIN || shown >= MAX_KIDS)) { hidden++; hiddenWeight += kid.total; continue; }
      shown++;
      var open = treeQuery !== '' ? onPath && kid.kids.some(function (c) { return c.hasMatch; })
        : kid.depth < 2 || (hotPath && kid.total >= all * HOT && kid.depth < HOT_DEPTH);
      container.appendChild(treeRow(kid, open, hotPath));
    }
    if (hidden > 0)
      container.appendChild(el('div', 'hidden', hidden + ' more callee' + (hidden === 1 ? '' : 's') + ' under ' + (TREE_MIN * 100) +
        '% each (' + percent(hiddenWeight, all) + ' together)'));
  }

  var hotPath = true, treeQuery = '';

  // Marks every node with a match in its subtree (post-order, without recursion: stacks can be very deep).
  function markMatches(root) {
    var order = [], pending = [root], count = 0;
    while (pending.length > 0) {
      var node = pending.pop();
      order.push(node);
      for (var k = 0; k < node.kids.length; k++) pending.push(node.kids[k]);
    }
    for (var i = order.length - 1; i >= 0; i--) {
      var n = order[i], self = treeQuery !== '' && n !== root && matches(n, treeQuery);
      if (self) count++;
      n.hasMatch = self || n.kids.some(function (c) { return c.hasMatch; });
    }
    return count;
  }

  function renderTree() {
    clear(treeBox);
    var found = markMatches(result.root);
    document.getElementById('tree-match').textContent = treeQuery === '' ? '' : found + ' matching node' + (found === 1 ? '' : 's');
    treeBox.appendChild(treeRow(result.root, true, hotPath));
  }
  // Re-rendering with or without the hot path open is simpler than walking the DOM, and as fast.
  var renderTreeWithHotPath = function (open) {
    hotPath = open;
    if (result) renderTree();
  };
  document.getElementById('tree-search').addEventListener('input', function (event) {
    treeQuery = event.target.value.trim().toLowerCase();
    if (result) renderTree();
  });
  document.getElementById('tree-hot').addEventListener('click', function () { renderTreeWithHotPath(true); });
  document.getElementById('tree-collapse').addEventListener('click', function () { renderTreeWithHotPath(false); });

  // ---- timeline: each thread's state over the capture; drag to pick a time range ----
  var strips = Array.prototype.slice.call(document.querySelectorAll('canvas.timeline'));
  var drag = null;
  function timeSpan() { return snapTime.length ? [snapTime[0], Math.max(snapTime[snapTime.length - 1], snapTime[0] + 1)] : [0, 1]; }
  function seconds(us) { return (us / 1e6).toFixed(us < 10e6 ? 2 : 1) + ' s'; }
  function drawTimelines() {
    var span = timeSpan();
    var byThread = {};
    // By state or by layer: each pixel takes the colour of the kind most of its samples have.
    var kinds = view.byLayer ? Math.max(1, layerCount) : STATE_COLOUR.length, colours = view.byLayer ? LAYER_COLOUR : STATE_COLOUR;
    strips.forEach(function (canvas) {
      var width = canvas.clientWidth, dpr = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(width * dpr));
      canvas.height = Math.round(16 * dpr);
      byThread[canvas.getAttribute('data-thread')] = { canvas: canvas, width: width, counts: new Uint32Array(Math.max(1, width) * kinds) };
    });
    // Each sample covers the time until the next snapshot: a sparse capture draws solid bars, not stripes.
    for (var i = 0; i < sampleCount; i++) {
      var strip = byThread[sThread[i]];
      if (!strip || strip.width < 1 || !sWall[i]) continue; // CPU used between snapshots is no sight of the thread
      if (view.byLayer && !view.layers[sLayer[i]]) continue;
      var kind = view.byLayer ? sLayer[i] : sState[i];
      var snap = sSnap[i], scale = strip.width / (span[1] - span[0]);
      var x0 = Math.min(strip.width - 1, Math.floor((snapTime[snap] - span[0]) * scale));
      var x1 = snap + 1 < snapTime.length ? Math.min(strip.width, Math.floor((snapTime[snap + 1] - span[0]) * scale)) : x0 + 1;
      for (var x = x0; x < Math.max(x0 + 1, x1); x++) strip.counts[x * kinds + kind]++;
    }
    Object.keys(byThread).forEach(function (key) {
      var strip = byThread[key], ctx2 = strip.canvas.getContext('2d'), dpr = strip.canvas.width / Math.max(1, strip.width);
      ctx2.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx2.clearRect(0, 0, strip.width, 16);
      for (var x = 0; x < strip.width; x++) {
        var best = -1, most = 0;
        for (var st = 0; st < kinds; st++) if (strip.counts[x * kinds + st] > most) { most = strip.counts[x * kinds + st]; best = st; }
        if (best < 0) continue;
        ctx2.fillStyle = colours[best % colours.length];
        ctx2.fillRect(x, 2, 1, 12);
      }
      var range = drag ? [Math.min(drag.a, drag.b), Math.max(drag.a, drag.b)] : view.from >= 0 ? [view.from, view.to] : null;
      if (range) {
        var x0 = (range[0] - span[0]) / (span[1] - span[0]) * strip.width, x1 = (range[1] - span[0]) / (span[1] - span[0]) * strip.width;
        ctx2.fillStyle = 'rgba(9,105,218,0.18)';
        ctx2.fillRect(x0, 0, Math.max(1, x1 - x0), 16);
        ctx2.fillStyle = '#0969da';
        ctx2.fillRect(x0, 0, 1, 16);
        ctx2.fillRect(Math.max(x0, x1 - 1), 0, 1, 16);
      }
    });
    document.getElementById('timeline-axis').textContent = seconds(0) + ' \u2013 ' + seconds(span[1] - span[0]);
    drawLayerTimes(span);
  }

  // ---- layers: counts in the view, and each layer's share of the view's samples over time ----
  var layerStrips = Array.prototype.slice.call(document.querySelectorAll('canvas.layer-time'));
  function renderLayers() {
    var counts = new Float64Array(layerCount), all = 0;
    for (var i = 0; i < sampleCount; i++) {
      if (!inViewAnyLayer(i)) continue;
      var w = view.cpu ? sCpu[i] : sWall[i];
      counts[sLayer[i]] += w;
      if (view.layers[sLayer[i]]) all += w;
    }
    for (var l = 0; l < layerCount; l++) {
      var n = document.querySelector('[data-layer-samples="' + l + '"]'), p = document.querySelector('[data-layer-pct="' + l + '"]');
      if (n) n.textContent = weight(counts[l]);
      if (p) p.textContent = view.layers[l] ? percent(counts[l], all) : '\u2013';
    }
  }
  function drawLayerTimes(span) {
    if (!layerStrips.length) return;
    var width = Math.max(1, layerStrips[0].clientWidth), buckets = new Float64Array(width * (layerCount + 1));
    for (var i = 0; i < sampleCount; i++) {
      if (!inViewAnyLayer(i)) continue;
      var x = Math.min(width - 1, Math.floor((snapTime[sSnap[i]] - span[0]) / (span[1] - span[0]) * width));
      var w = view.cpu ? sCpu[i] : sWall[i];
      buckets[x * (layerCount + 1) + sLayer[i]] += w;
      buckets[x * (layerCount + 1) + layerCount] += w;
    }
    layerStrips.forEach(function (canvas) {
      var l = parseInt(canvas.getAttribute('data-layer'), 10), dpr = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(width * dpr));
      canvas.height = Math.round(16 * dpr);
      var c = canvas.getContext('2d');
      c.setTransform(dpr, 0, 0, dpr, 0, 0);
      c.clearRect(0, 0, width, 16);
      c.fillStyle = LAYER_COLOUR[l % LAYER_COLOUR.length];
      for (var x = 0; x < width; x++) {
        var sum = buckets[x * (layerCount + 1) + layerCount];
        if (sum <= 0) continue;
        var h = Math.round(16 * buckets[x * (layerCount + 1) + l] / sum);
        if (h > 0) c.fillRect(x, 16 - h, 1, h);
      }
    });
  }
  // The time at the pointer, rounded out to the edge of its pixel (down at the start of a drag, up at its end), so a
  // drag from a strip's first pixel takes the capture's first sample.
  function timeAt(canvas, event, roundUp) {
    var bounds = canvas.getBoundingClientRect(), span = timeSpan(), width = Math.max(1, bounds.width);
    var x = Math.min(width, Math.max(0, event.clientX - bounds.left));
    x = roundUp ? Math.ceil(x) : Math.floor(x);
    return span[0] + x / width * (span[1] - span[0]);
  }
  function setRange(from, to) {
    view.from = from;
    view.to = to;
    var group = document.getElementById('range-group');
    group.hidden = from < 0;
    if (from >= 0) {
      var start = timeSpan()[0];
      document.getElementById('range-text').textContent = seconds(from - start) + ' \u2013 ' + seconds(to - start);
    }
    refresh();
  }
  strips.forEach(function (canvas) {
    canvas.addEventListener('mousedown', function (event) {
      drag = { canvas: canvas, a: timeAt(canvas, event, false), b: timeAt(canvas, event, true) };
      event.preventDefault();
    });
  });
  window.addEventListener('mousemove', function (event) {
    if (!drag) return;
    var t = timeAt(drag.canvas, event, true);
    drag.b = t >= drag.a ? t : timeAt(drag.canvas, event, false);
    drawTimelines();
  });
  window.addEventListener('mouseup', function () {
    if (!drag) return;
    var a = Math.min(drag.a, drag.b), b = Math.max(drag.a, drag.b), span = timeSpan();
    drag = null;
    // A click rather than a drag (under half a percent of the capture) clears the range.
    if (b - a < (span[1] - span[0]) * 0.005) setRange(-1, -1); else setRange(a, b);
  });
  document.getElementById('range-clear').addEventListener('click', function () { setRange(-1, -1); });

  // ---- the view ----
  var status = document.getElementById('view-status');
  function refresh() {
    result = aggregate();
    zoom = result.root;
    hover = null;
    var shown = view.threads.filter(function (on) { return on; }).length;
    status.textContent = 'Showing ' + weight(result.root.total) + (view.cpu ? ' of CPU time' : ' samples') + ' from ' +
      result.threads + ' thread' + (result.threads === 1 ? '' : 's') + ' (' + shown + ' of ' + threadCount + ' selected)';
    schedule();
    showMatchShare();
    drawTimelines();
    renderLayers();
    renderFunctions();
    renderTree();
  }

  var form = document.getElementById('view');
  form.addEventListener('change', function () {
    view.onCpu = form.querySelector('input[name=states]:checked').value === 'cpu';
    view.cpu = form.querySelector('input[name=weight]:checked').value === 'cpu';
    view.idle = document.getElementById('idle').checked;
    view.byLayer = form.querySelector('input[name=colour]:checked').value === 'layer';
    refresh();
  });
  var layerPicks = [];
  Array.prototype.forEach.call(document.querySelectorAll('input.layer-pick'), function (box) {
    var index = parseInt(box.getAttribute('data-layer'), 10);
    layerPicks[index] = box;
    box.addEventListener('change', function () { pickLayer(index, box.checked); refresh(); });
  });
  function pickLayer(index, on) {
    view.layers[index] = on;
    layerPicks[index].checked = on;
    layerPicks[index].closest('tr').classList.toggle('off', !on);
  }
  document.getElementById('layers-all').addEventListener('click', function () { layerPicks.forEach(function (_, i) { pickLayer(i, true); }); refresh(); });
  var picks = [];
  Array.prototype.forEach.call(document.querySelectorAll('input.thread-pick'), function (box) {
    var index = parseInt(box.getAttribute('data-thread'), 10);
    picks[index] = box;
    box.addEventListener('change', function () { pick(index, box.checked); refresh(); });
  });
  function pick(index, on) {
    view.threads[index] = on;
    picks[index].checked = on;
    picks[index].closest('tr').classList.toggle('off', !on);
  }
  document.getElementById('flame-split').addEventListener('change', function (event) { view.split = event.target.checked; refresh(); });
  document.getElementById('threads-all').addEventListener('click', function () { picks.forEach(function (_, i) { pick(i, true); }); refresh(); });
  document.getElementById('threads-none').addEventListener('click', function () { picks.forEach(function (_, i) { pick(i, false); }); refresh(); });
  window.addEventListener('resize', drawTimelines);
  status.textContent = 'Loading the profile\u2026';
  load().then(function () {
    refresh();
    // For tests and the report benchmark: when the page became usable, in ms since navigation started. The flame
    // graph draws at the next animation frame (refresh asks for it first, so it runs before this).
    window.requestAnimationFrame(function () {
      document.documentElement.setAttribute('data-ready', String(Math.round(performance.now())));
    });
  }, function (error) { status.textContent = 'Cannot show the profile: ' + error.message; });
})();
