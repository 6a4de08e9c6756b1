// KexecSim HTML report: keyboard step-through. Everything shown is built with textContent from the JSON data
// (never innerHTML), so no string of the model is parsed as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("kexecsim-data").textContent);
  if (!data) { return; }
  var steps = data.steps, snapshots = data.snapshots, last = steps.length - 1;
  var rows = Array.prototype.slice.call(document.querySelectorAll("#diagram .step"));
  var current = -1;
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function modeClass(mode) { return "mode-" + mode.toLowerCase().replace(/_/g, "-"); }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function rowOf(n) {
    // An expanded row's own line for the step first, else the row (collapsed or not) that holds it.
    for (var s = 0; s < rows.length; s++) {
      if (rows[s].classList.contains("sub") && +rows[s].getAttribute("data-first") === n) { return rows[s]; }
    }
    for (var i = 0; i < rows.length; i++) {
      if (+rows[i].getAttribute("data-first") <= n && n <= +rows[i].getAttribute("data-last")) { return rows[i]; }
    }
    return null;
  }

  function cachesTable(snapshot, before) {
    var box = document.getElementById("caches");
    clear(box);
    snapshot.caches.forEach(function (cache, ci) {
      var who = cache.cpus.length === 1 ? "CPU " + cache.cpus[0] : "shared (CPUs " + cache.cpus.join(", ") + ")";
      if (cache.entries.length === 0) {
        box.appendChild(el("p", "empty", "cache " + cache.index + " · " + who + ": empty"));
        return;
      }
      var prev = before ? before.caches[ci].entries.map(function (e) { return JSON.stringify(e); }) : null;
      var table = el("table", "cells cache");
      table.setAttribute("data-cache", String(cache.index));
      table.appendChild(el("caption", null, "cache " + cache.index + " · " + who));
      var head = el("tr");
      ["line", "key", "value", "state"].forEach(function (h) { head.appendChild(el("th", null, h)); });
      table.appendChild(head);
      cache.entries.forEach(function (entry) {
        var tr = el("tr", prev && prev.indexOf(JSON.stringify(entry)) < 0 ? "changed" : null);
        tr.appendChild(el("td", null, entry.line));
        tr.appendChild(el("td", null, entry.key));
        tr.appendChild(el("td", null, entry.value));
        tr.appendChild(el("td", entry.dirty ? "dirty" : null, entry.dirty ? "dirty" : "clean"));
        table.appendChild(tr);
      });
      box.appendChild(table);
    });
  }

  function memoryTable(snapshot, before) {
    var box = document.getElementById("memory");
    clear(box);
    var table = el("table", "cells memory");
    var head = el("tr");
    ["line", "value", "key", "marks"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    snapshot.lines.forEach(function (line, i) {
      var changed = before && JSON.stringify(before.lines[i]) !== JSON.stringify(line);
      var bad = line.marks.indexOf("clobbered") >= 0 || line.marks.indexOf("poisoned") >= 0;
      var tr = el("tr", (changed ? "changed " : "") + (bad ? "bad" : ""));
      tr.appendChild(el("td", null, line.name));
      tr.appendChild(el("td", null, line.value));
      tr.appendChild(el("td", null, line.key));
      tr.appendChild(el("td", null, line.marks.join(", ")));
      table.appendChild(tr);
    });
    box.appendChild(table);
  }

  function showSource(step, isViolation) {
    var files = document.querySelectorAll(".source-file");
    var path = document.getElementById("source-path");
    Array.prototype.forEach.call(document.querySelectorAll(".src-line.current"), function (l) { l.classList.remove("current", "violation"); });
    if (step.file < 0) { path.textContent = "(no source line for this step)"; return; }
    Array.prototype.forEach.call(files, function (f) { f.hidden = f.id !== "source-" + step.file; });
    var pre = document.getElementById("source-" + step.file);
    path.textContent = pre.getAttribute("data-path") + ":" + step.line;
    var line = document.getElementById("src-" + step.file + "-" + step.line);
    if (line) {
      line.classList.add("current");
      if (isViolation) { line.classList.add("violation"); }
      pre.scrollTop = Math.max(0, line.offsetTop - pre.clientHeight / 2);
    }
  }

  function select(n, scroll) {
    n = Math.max(0, Math.min(last, n));
    if (n === current) { return; }
    current = n;
    var step = steps[n], snapshot = snapshots[n], before = n > 0 ? snapshots[n - 1] : null;
    var isViolation = data.violationStep > 0 && n === data.violationStep;
    rows.forEach(function (r) { r.classList.remove("current"); r.removeAttribute("aria-current"); });
    var row = rowOf(n);
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "step");
      if (scroll) {
        var pane = document.getElementById("diagram-scroll");
        var box = row.getBBox();
        if (box.y < pane.scrollTop + 40 || box.y + box.height > pane.scrollTop + pane.clientHeight - 20) {
          pane.scrollTop = Math.max(0, box.y - pane.clientHeight / 3);
        }
      }
    }
    var panel = document.getElementById("step-panel");
    panel.classList.toggle("violation", isViolation);
    panel.setAttribute("data-step", String(n));
    document.getElementById("step-title").textContent = n === 0 ? "initial state" : "step " + n + " of " + last + (isViolation ? " · violation" : "");
    document.getElementById("step-description").textContent = step.description;
    document.getElementById("step-where").textContent = step.where ? step.action + "  (" + step.where + ")" : "";
    var values = document.getElementById("step-values");
    clear(values);
    step.values.forEach(function (v) { values.appendChild(el("li", null, v)); });
    var messages = document.getElementById("step-messages");
    clear(messages);
    step.messages.forEach(function (m) { messages.appendChild(el("li", null, m)); });
    var modes = document.getElementById("cpu-modes");
    clear(modes);
    snapshot.modes.forEach(function (mode, cpu) {
      modes.appendChild(el("span", "mode-chip " + modeClass(mode), "CPU " + cpu + " " + mode));
    });
    Array.prototype.forEach.call(document.querySelectorAll("#narrative > li"), function (li) {
      li.classList.toggle("current", +li.getAttribute("data-step") === n);
    });
    cachesTable(snapshot, before);
    memoryTable(snapshot, before);
    showSource(step, isViolation);
    // Only once the reader moves: a fragment set while the page loads would scroll the page to it at load.
    if (scroll !== "initial" && history.replaceState) { history.replaceState(null, "", "#step-" + n); }
  }

  // Collapsed rows (runs of uneventful steps) expand in place: the steps inside get a line each under the row, and
  // everything below moves down by as many rows (bands across the row stretch). Every text is set with textContent.
  var svgRoot = document.getElementById("diagram");
  var expanded = {};
  var base = null;

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function collapsedRows() { return Array.prototype.slice.call(document.querySelectorAll("#diagram .step.collapsed")); }
  function rowSize(r) {
    var g = expanded[r];
    return g ? g.childNodes.length * data.layout.rowHeight : 0;
  }
  function relayout() {
    if (!base) {
      var box = svgRoot.getAttribute("viewBox").split(" ");
      base = { height: +svgRoot.getAttribute("height"), width: box[2], guide: null, bands: [] };
      base.guide = Array.prototype.map.call(svgRoot.querySelectorAll(".lanes .guide"), function (l) { return +l.getAttribute("y2"); });
      base.bands = Array.prototype.map.call(svgRoot.querySelectorAll(".band-run > rect"), function (b) { return +b.getAttribute("height"); });
    }
    var count = svgRoot.querySelectorAll(".rows > .step").length;
    var offsets = [], total = 0;
    for (var r = 0; r < count; r++) { offsets.push(total); total += rowSize(r); }
    Array.prototype.forEach.call(svgRoot.querySelectorAll("[data-row]"), function (e) {
      var o = offsets[+e.getAttribute("data-row")];
      if (o) { e.setAttribute("transform", "translate(0 " + o + ")"); } else { e.removeAttribute("transform"); }
    });
    Array.prototype.forEach.call(svgRoot.querySelectorAll(".band-run"), function (g, i) {
      var from = +g.getAttribute("data-from"), to = +g.getAttribute("data-to"), grow = 0;
      for (var r = from; r <= to; r++) { grow += rowSize(r); }
      if (offsets[from]) { g.setAttribute("transform", "translate(0 " + offsets[from] + ")"); } else { g.removeAttribute("transform"); }
      g.querySelector("rect").setAttribute("height", String(base.bands[i] + grow));
    });
    Array.prototype.forEach.call(svgRoot.querySelectorAll(".lanes .guide"), function (l, i) { l.setAttribute("y2", String(base.guide[i] + total)); });
    svgRoot.setAttribute("height", String(base.height + total));
    svgRoot.setAttribute("viewBox", "0 0 " + base.width + " " + (base.height + total));
    rows = Array.prototype.slice.call(document.querySelectorAll("#diagram .step"));
  }
  function toggle(row) {
    var r = +row.getAttribute("data-row");
    if (expanded[r]) {
      expanded[r].parentNode.removeChild(expanded[r]);
      delete expanded[r];
    } else {
      var first = +row.getAttribute("data-first"), lastStep = +row.getAttribute("data-last");
      var top = +row.querySelector(".row-bg").getAttribute("y"), h = data.layout.rowHeight;
      var width = row.querySelector(".row-bg").getAttribute("width");
      var group = svgEl("g", { "class": "sub-rows", "data-row": r, "data-first": first, "data-last": lastStep });
      for (var n = first; n <= lastStep; n++) {
        var step = steps[n], y = top + (n - first + 1) * h;
        var sub = svgEl("g", { "class": "step sub", id: "step-" + n, "data-first": n, "data-last": n });
        sub.appendChild(svgEl("rect", { "class": "row-bg", x: 0, y: y, width: width, height: h }));
        sub.appendChild(svgEl("text", { x: data.layout.numberX, y: y + 19, "class": "step-number", "text-anchor": "end" }, String(n)));
        var words = svgEl("text", { x: data.layout.textX, y: y + h / 2 + 4, "class": "what", "text-anchor": "start", "data-step": n },
          "CPU " + step.cpu + ": " + step.action);
        words.appendChild(svgEl("tspan", { "class": "where" }, step.where ? "  " + step.where : ""));
        if (step.values.length > 0) { words.appendChild(svgEl("tspan", { "class": "values" }, "  " + step.values.join(" · "))); }
        sub.appendChild(words);
        group.appendChild(sub);
      }
      row.parentNode.insertBefore(group, row.nextSibling);
      expanded[r] = group;
    }
    row.classList.toggle("expanded", !!expanded[r]);
    row.setAttribute("aria-expanded", expanded[r] ? "true" : "false");
    row.setAttribute("aria-label", "steps " + row.getAttribute("data-first") + " to " + row.getAttribute("data-last") + (expanded[r] ? ", expanded: collapse" : ", collapsed: expand"));
    relayout();
    var keep = current;
    current = -1;
    select(keep, false);
  }
  collapsedRows().forEach(function (row) {
    row.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.stopPropagation(); toggle(row); }
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var key = e.key;
    if (key === "e") {
      // e: expand (or collapse again) the collapsed row that holds the current step.
      var holder = collapsedRows().filter(function (r) { return +r.getAttribute("data-first") <= current && current <= +r.getAttribute("data-last"); })[0];
      if (holder) { toggle(holder); }
      e.preventDefault();
      return;
    }
    if (key === "j" || key === "ArrowDown" || key === "ArrowRight") { select(current + 1, true); }
    else if (key === "k" || key === "ArrowUp" || key === "ArrowLeft") { select(current - 1, true); }
    else if (key === "Home") { select(0, true); }
    else if (key === "End") { select(last, true); }
    else { return; }
    e.preventDefault();
  });
  // A click anywhere on a row (its words, arrows and bands lie over it, and keep their tooltips) selects its step.
  var svg = document.getElementById("diagram");
  if (svg) {
    svg.addEventListener("click", function (e) {
      for (var i = 0; i < rows.length; i++) {
        var box = rows[i].querySelector(".row-bg").getBoundingClientRect();
        if (e.clientY >= box.top && e.clientY < box.bottom) {
          if (rows[i].classList.contains("collapsed")) { toggle(rows[i]); }
          select(+rows[i].getAttribute("data-first"), false);
          return;
        }
      }
    });
  }
  // A sentence of the narrative selects its step.
  var narrative = document.getElementById("narrative");
  if (narrative) {
    narrative.addEventListener("click", function (e) {
      var li = e.target.closest ? e.target.closest("#narrative > li") : null;
      if (li) { select(+li.getAttribute("data-step"), true); }
    });
  }
  document.getElementById("prev").addEventListener("click", function () { select(current - 1, true); });
  document.getElementById("next").addEventListener("click", function () { select(current + 1, true); });

  var hash = /^#step-(\d+)$/.exec(location.hash);
  select(hash ? +hash[1] : (data.violationStep > 0 ? data.violationStep : 0), "initial");
})();
