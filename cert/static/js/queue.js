/* The queue, by keyboard and with fewer clicks. The page works without this file: the filters
   are a GET form, the bulk bar a POST form, the rows links.
   - j / k: next / previous row (focus ring); o / Enter: open it; x: select it; /: search;
     a: assign to me (the selected rows, or else the current one) through the bulk form;
   - select all on the page, the count of selected rows, the bulk fields of the chosen action;
   - the column chooser (remembered in this browser, per user);
   - one filter dropdown open at a time (Escape closes it);
   - "N new incidents — show": asks the server every data-seconds seconds, keeps the selection. */
(function () {
  "use strict";

  var table = document.querySelector("table.vigie-queue");
  if (!table) { return; }
  var bulk = document.getElementById("queue-bulk");
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
  var boxes = rows.map(function (row) { return row.querySelector("input[name=incident]"); });
  var selectAll = document.getElementById("queue-select-all");
  var counter = document.querySelector("[data-selected-count]");
  var current = -1;

  // ---- selection
  function selected() { return boxes.filter(function (box) { return box.checked; }); }

  function refresh() {
    var chosen = selected().length;
    rows.forEach(function (row, i) { row.classList.toggle("vigie-row-selected", boxes[i].checked); });
    if (counter) { counter.textContent = String(chosen); }
    if (selectAll) {
      selectAll.checked = chosen > 0 && chosen === boxes.length;
      selectAll.indeterminate = chosen > 0 && chosen < boxes.length;
    }
  }

  boxes.forEach(function (box, i) {
    box.addEventListener("change", refresh);
    box.addEventListener("focus", function () { setCurrent(i, false); });
  });
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = selectAll.checked; });
      refresh();
    });
  }

  // ---- the current row
  function setCurrent(index, focus) {
    if (index < 0 || index >= rows.length) { return; }
    if (current >= 0 && rows[current]) {
      rows[current].classList.remove("vigie-row-current");
      rows[current].removeAttribute("aria-current");
    }
    current = index;
    rows[current].classList.add("vigie-row-current");
    rows[current].setAttribute("aria-current", "true");
    if (focus) {
      rows[current].focus();
      rows[current].scrollIntoView({ block: "nearest" });
    }
  }

  rows.forEach(function (row, i) {
    row.addEventListener("click", function () { setCurrent(i, false); });
  });

  function assignToMe() {
    if (!bulk) { return; }
    if (selected().length === 0) {
      if (current < 0) { return; }
      boxes[current].checked = true;
      refresh();
    }
    var action = bulk.querySelector("[name=action]");
    if (!action) { return; }
    action.value = "assign_me";
    action.dispatchEvent(new Event("change"));
    if (typeof bulk.requestSubmit === "function") { bulk.requestSubmit(); } else { bulk.submit(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var help = document.getElementById("vigie-shortcuts");
    if (help && help.open) { return; }
    if (window.vigieTyping(event.target)) {
      if (event.key === "Escape" && event.target.id === "q") { event.target.blur(); }
      return;
    }
    var key = event.key;
    if (key === "j" || key === "k") {
      event.preventDefault();
      if (current < 0) { setCurrent(key === "j" ? 0 : rows.length - 1, true); } else {
        setCurrent(Math.max(0, Math.min(rows.length - 1, current + (key === "j" ? 1 : -1))), true);
      }
    } else if (key === "o" || (key === "Enter" && event.target === rows[current])) {
      if (current < 0) { return; }
      event.preventDefault();
      window.location.assign(rows[current].dataset.href);
    } else if (key === "x") {
      if (current < 0) { return; }
      event.preventDefault();
      boxes[current].checked = !boxes[current].checked;
      refresh();
    } else if (key === "/") {
      var search = document.getElementById("q");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (key === "a") {
      event.preventDefault();
      assignToMe();
    }
  });

  // ---- the bulk bar shows the fields of the chosen action
  var fieldsOf = {
    assign_me: [],
    assign: ["assignee"],
    unassign: [],
    status: ["status", "reason", "resolution", "duplicate_of", "assignee"],  // assignee: the owner
    priority: ["priority", "reason"]
  };
  var known = ["assignee", "status", "priority", "reason", "resolution", "duplicate_of"];  // others always show
  var action = bulk && bulk.querySelector("select[name=action]");
  function showFields() {
    var wanted = fieldsOf[action.value];
    bulk.querySelectorAll("[data-bulk-field]").forEach(function (field) {
      var name = field.dataset.bulkField;
      field.hidden = wanted !== undefined && known.indexOf(name) !== -1 && wanted.indexOf(name) === -1;
    });
  }
  if (action) {
    action.addEventListener("change", showFields);
    showFields();
  }

  // ---- the column chooser (this browser, per user)
  var chooser = document.querySelector("[data-column-chooser]");
  var storeKey = table.dataset.columnsKey;
  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function applyColumns(hidden) {
    chooser.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.checked = hidden.indexOf(box.value) === -1;
      table.classList.toggle("hide-" + box.value, !box.checked);
    });
  }
  if (chooser) {
    var defaults = Array.prototype.filter.call(
      chooser.querySelectorAll("input[type=checkbox]"), function (box) { return !box.checked; }
    ).map(function (box) { return box.value; });
    var saved = storage() && storage().getItem(storeKey);
    if (saved) {
      try { applyColumns(JSON.parse(saved)); } catch (e) { applyColumns(defaults); }
    }
    chooser.addEventListener("change", function () {
      var hidden = Array.prototype.filter.call(
        chooser.querySelectorAll("input[type=checkbox]"), function (box) { return !box.checked; }
      ).map(function (box) { return box.value; });
      applyColumns(hidden);
      if (storage()) { storage().setItem(storeKey, JSON.stringify(hidden)); }
    });
    var reset = chooser.querySelector("[data-columns-reset]");
    if (reset) {
      reset.addEventListener("click", function () {
        applyColumns(defaults);
        if (storage()) { storage().removeItem(storeKey); }
      });
    }
  }

  // ---- dropdowns: one open at a time; a click elsewhere or Escape closes them
  var dropdowns = Array.prototype.slice.call(document.querySelectorAll("details[data-dropdown]"));
  dropdowns.forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open) { return; }
      dropdowns.forEach(function (other) { if (other !== details) { other.open = false; } });
    });
  });
  document.addEventListener("click", function (event) {
    dropdowns.forEach(function (details) {
      if (details.open && !details.contains(event.target)) { details.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    dropdowns.forEach(function (details) {
      if (details.open) {
        details.open = false;
        details.querySelector("summary").focus();
      }
    });
  });

  // ---- "N new incidents": the same filter, received since the page was shown
  var notice = document.getElementById("queue-new");
  var KEEP = "vigie.queue.keep";
  if (notice) {
    var message = notice.querySelector("[data-new-message]");
    var ask = function () {
      if (document.hidden) { return; }
      fetch(notice.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || answer.count === 0) { return; }
          message.textContent = answer.message;
          notice.hidden = false;
        })
        .catch(function () { /* offline for a moment: ask again at the next tick */ });
    };
    window.setInterval(ask, Math.max(5, Number(notice.dataset.seconds) || 30) * 1000);
    notice.querySelector("[data-new-show]").addEventListener("click", function () {
      var keep = selected().map(function (box) { return box.value; });
      try { window.sessionStorage.setItem(KEEP, JSON.stringify(keep)); } catch (e) { /* private mode */ }
    });
  }
  try {
    var kept = JSON.parse(window.sessionStorage.getItem(KEEP) || "[]");
    window.sessionStorage.removeItem(KEEP);
    boxes.forEach(function (box) { if (kept.indexOf(box.value) !== -1) { box.checked = true; } });
  } catch (e) { /* nothing kept */ }
  refresh();
})();
